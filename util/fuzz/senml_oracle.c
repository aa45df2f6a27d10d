
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * THE ORACLE of util/fuzz/senml_fuzz.c: the SenML parse of the module as
 * it was before its own reader (ngx_http_kpn_senml.c and
 * ngx_http_kpn_device.c of 0.x, jansson's json_loadb() and a walk of its
 * tree), kept as it was so that the reader is held against it: the same
 * answer for every body, the same records and envelope.  Only the names
 * changed (ngx_http_kpn_oracle_parse(), the device functions static), the
 * loader (jansson's own allocator, a json_decref() cleanup) and the error
 * object, raised with its code as text by ngx_http_kpn_error() here, on
 * top of the module's ngx_http_kpn_raise().
 *
 * SenML (RFC 8428) packs as KPN Things sends them: strict JSON parse,
 * resolution of base fields (section 4.6), validation, device
 * identification and the Withthegrid envelope.
 *
 * jansson parses; each record's keys are walked once into an array of
 * field pointers, the pack resolves into a pool array of C records and
 * the envelope is written by ngx_http_kpn_envelope.c.
 */


#include "senml_oracle.h"
#include "oracle_json.h"
#include "ngx_http_kpn_envelope.h"
#include "ngx_http_kpn_text.h"
#include "ngx_http_kpn_senml_reader.h"

#include <math.h>


/* as the module's error object: the message's most bytes */
#define NGX_HTTP_KPN_ORACLE_MESSAGE_MAX  512

static ngx_int_t ngx_http_kpn_error(ngx_pool_t *pool,
    ngx_http_kpn_error_t *err, ngx_uint_t status, char *code,
    const char *fmt, ...);


/* the device part of a resolved name, pointing into the name */
typedef struct {
    ngx_str_t                  type;
    ngx_str_t                  id;
    size_t                     prefix;    /* "urn:dev:TYPE:ID:" length */
} ngx_http_kpn_device_t;

static ngx_int_t ngx_http_kpn_device_urn(ngx_pool_t *pool, ngx_str_t *name,
    ngx_uint_t i, ngx_uint_t has_bn, ngx_http_kpn_device_t *dev,
    ngx_http_kpn_error_t *err);
static void ngx_http_kpn_device_normalise(ngx_http_kpn_device_t *dev);
static ngx_int_t ngx_http_kpn_device_identify(ngx_pool_t *pool,
    ngx_http_kpn_device_t *dev, ngx_http_kpn_senml_t *pack);
static void ngx_http_kpn_device_measurement(ngx_http_kpn_senml_t *pack,
    ngx_str_t *measurement, ngx_http_kpn_senml_record_t *res,
    ngx_http_kpn_senml_number_t **payload_time);
static ngx_int_t ngx_http_kpn_device_texts(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack);


/* 2^53: larger integral numbers are not exact in a double */
#define NGX_HTTP_KPN_SENML_MAX_EXACT  9007199254740992LL

/*
 * bodies up to this size are parsed before their records are counted:
 * jansson takes about a hundred microseconds at most on such a body
 */
#define NGX_HTTP_KPN_SENML_PARSE_FIRST  4096

/* the SenML version of RFC 8428 */
#define NGX_HTTP_KPN_SENML_VERSION    10


/* the fields of a record, in the order of ngx_http_kpn_senml_fields[] */
#define NGX_HTTP_KPN_SENML_BN         0
#define NGX_HTTP_KPN_SENML_BT         1
#define NGX_HTTP_KPN_SENML_BU         2
#define NGX_HTTP_KPN_SENML_BV         3
#define NGX_HTTP_KPN_SENML_BS         4
#define NGX_HTTP_KPN_SENML_BVER       5
#define NGX_HTTP_KPN_SENML_N          6
#define NGX_HTTP_KPN_SENML_U          7
#define NGX_HTTP_KPN_SENML_V          8
#define NGX_HTTP_KPN_SENML_VS         9
#define NGX_HTTP_KPN_SENML_VB         10
#define NGX_HTTP_KPN_SENML_VD         11
#define NGX_HTTP_KPN_SENML_S          12
#define NGX_HTTP_KPN_SENML_T          13
#define NGX_HTTP_KPN_SENML_UT         14
#define NGX_HTTP_KPN_SENML_NFIELDS    15


typedef struct {
    char                      *name;
    ngx_uint_t                 type;
} ngx_http_kpn_senml_field_t;


#define ngx_http_kpn_senml_number_null(num)                                  \
    do {                                                                     \
        (num)->integer = 0;                                                  \
        (num)->real = 0.0;                                                   \
        (num)->is_integer = 0;                                               \
    } while (0)


/* the running base values, borrowed from the parsed document */
typedef struct {
    json_t                    *bn;
    json_t                    *bt;
    json_t                    *bu;
    json_t                    *bv;
    json_t                    *bs;

    /* a base name whose characters are checked already */
    json_t                    *bn_valid;

    /*
     * a base name that holds the whole device part (dev_prefix bytes) of
     * its records' names, the pack's device: the names of its records
     * start with dev_text, that part checked and normalised
     */
    json_t                    *dev_bn;
    u_char                    *dev_text;
    size_t                     dev_prefix;
} ngx_http_kpn_senml_base_t;


static ngx_int_t ngx_http_kpn_senml_check(ngx_pool_t *pool, json_t *rec,
    ngx_uint_t i, json_t **fields, ngx_uint_t *present,
    ngx_http_kpn_error_t *err);
static ngx_uint_t ngx_http_kpn_senml_field(const char *key);
static ngx_int_t ngx_http_kpn_senml_resolve(ngx_pool_t *pool,
    json_t **fields, ngx_uint_t i, ngx_http_kpn_senml_base_t *base,
    ngx_http_kpn_senml_record_t *res, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_senml_add(json_t *base, json_t *value,
    ngx_http_kpn_senml_number_t *out);
static ngx_int_t ngx_http_kpn_senml_name(ngx_pool_t *pool,
    ngx_http_kpn_senml_base_t *base, json_t *n, ngx_uint_t i, ngx_str_t *name,
    ngx_http_kpn_error_t *err);
static ngx_uint_t ngx_http_kpn_senml_name_chars(u_char *p, u_char *last);
static ngx_uint_t ngx_http_kpn_senml_type_ok(ngx_uint_t type, json_t *value);
static ngx_uint_t ngx_http_kpn_senml_is_base64(const char *p, size_t len);
static void ngx_http_kpn_senml_json_string(json_t *json, ngx_str_t *s);


static ngx_http_kpn_senml_field_t  ngx_http_kpn_senml_fields[] = {
    { "bn",   NGX_HTTP_KPN_SENML_STRING },
    { "bt",   NGX_HTTP_KPN_SENML_NUMBER },
    { "bu",   NGX_HTTP_KPN_SENML_STRING },
    { "bv",   NGX_HTTP_KPN_SENML_NUMBER },
    { "bs",   NGX_HTTP_KPN_SENML_NUMBER },
    { "bver", NGX_HTTP_KPN_SENML_NUMBER },
    { "n",    NGX_HTTP_KPN_SENML_STRING },
    { "u",    NGX_HTTP_KPN_SENML_STRING },
    { "v",    NGX_HTTP_KPN_SENML_NUMBER },
    { "vs",   NGX_HTTP_KPN_SENML_STRING },
    { "vb",   NGX_HTTP_KPN_SENML_BOOLEAN },
    { "vd",   NGX_HTTP_KPN_SENML_DATA },
    { "s",    NGX_HTTP_KPN_SENML_NUMBER },
    { "t",    NGX_HTTP_KPN_SENML_NUMBER },
    { "ut",   NGX_HTTP_KPN_SENML_NUMBER },
    { NULL, 0 }
};


/*
 * The pack, record by record: the checks, the resolution and the device
 * of each record in one pass, then the pack's device and texts.  Longer
 * than most: the pass is kept in one place on purpose, so that the order
 * of the checks (and so which error a bad pack gets) reads top down.
 */

ngx_int_t
ngx_http_kpn_oracle_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_records, ngx_http_kpn_senml_t *pack,
    ngx_http_kpn_error_t *err)
{
    json_t                        *root, *rec,
                                  *fields[NGX_HTTP_KPN_SENML_NFIELDS];
    size_t                         n;
    ngx_int_t                      rc;
    ngx_str_t                      measurement;
    ngx_uint_t                     i, first, found, device_failed,
                                   present, scan;
    ngx_http_kpn_senml_base_t      base;
    ngx_http_kpn_device_t          dev, dev0;
    ngx_http_kpn_senml_record_t   *res;
    ngx_http_kpn_senml_number_t   *first_time, *payload_time;

    ngx_memzero(pack, sizeof(ngx_http_kpn_senml_t));

    /*
     * the envelope grows with the records, not with the body (a 1 MB body
     * of tiny records would make an envelope eight times its size, and
     * jansson spends far more than that on the parse): count first.  A
     * small body costs jansson little: it is parsed first and jansson
     * counts its records; the scan is needed only when jansson refuses
     * the text (413 then outranks the 400, as for a large body).  For
     * JSON, the scan's count is the array's size: the answers are the same.
     */

    scan = (max_records && body->len > NGX_HTTP_KPN_SENML_PARSE_FIRST);

    if (scan && ngx_http_kpn_reader_count(body, max_records) > max_records) {
        goto too_many;
    }

    rc = ngx_http_kpn_json_load_as(pool, body, JSON_ARRAY,
                                   NGX_HTTP_KPN_INVALID_SENML,
                                   "the pack must be an array of records",
                                   &root, err);

    if (max_records && !scan) {
        if (rc == NGX_DECLINED) {
            if (ngx_http_kpn_reader_count(body, max_records) > max_records) {
                goto too_many;
            }

        } else if (rc == NGX_OK && json_is_array(root)
                   && json_array_size(root) > max_records)
        {
            goto too_many;
        }
    }

    if (rc != NGX_OK) {
        return rc;
    }

    n = json_array_size(root);

    if (n == 0) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml", "the pack is empty");
    }

    pack->records = ngx_palloc(pool, n * sizeof(ngx_http_kpn_senml_record_t));
    if (pack->records == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&base, sizeof(ngx_http_kpn_senml_base_t));
    ngx_memzero(&dev0, sizeof(ngx_http_kpn_device_t));
    ngx_memzero(fields, sizeof(fields));
    present = 0;

    first = 0;
    found = 0;
    first_time = NULL;
    payload_time = NULL;
    device_failed = 0;

    for (i = 0; i < n; i++) {
        rec = json_array_get(root, i);

        rc = ngx_http_kpn_senml_check(pool, rec, i, fields, &present, err);
        if (rc != NGX_OK) {
            return rc;
        }

        res = &pack->records[pack->nrecords];

        rc = ngx_http_kpn_senml_resolve(pool, fields, i, &base, res, err);

        if (rc == NGX_DONE) {
            /* a record of base fields only */
            continue;
        }

        if (rc != NGX_OK) {
            return rc;
        }

        pack->nrecords++;

        if (device_failed) {
            /* the SenML checks go on: an invalid pack is the worse error */
            continue;
        }

        if (base.bn && base.bn == base.dev_bn) {

            /*
             * the device part is in the base name, checked, the pack's
             * device, and normalised in the name already
             */

            measurement.data = res->name.data + base.dev_prefix;
            measurement.len = res->name.len - base.dev_prefix;

            ngx_http_kpn_device_measurement(pack, &measurement, res,
                                            &payload_time);
            continue;
        }

        rc = ngx_http_kpn_device_urn(pool, &res->name, i, base.bn != NULL,
                                       &dev, err);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED) {
            device_failed = 1;
            continue;
        }

        if (!found) {
            found = 1;
            first = i;
            dev0 = dev;
            first_time = res->has_time ? &res->time : NULL;

        } else if (dev.type.len != dev0.type.len
                   || dev.id.len != dev0.id.len
                   || ngx_strncmp(dev.type.data, dev0.type.data,
                                  dev.type.len) != 0
                   || ngx_strncasecmp(dev.id.data, dev0.id.data,
                                      dev.id.len) != 0)
        {
            if (ngx_http_kpn_error(pool, err, NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                   "unknown_device",
                                   "records of several devices "
                                   "(record %ui and record %ui)", first, i)
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }

            device_failed = 1;
            continue;
        }

        /* the name carries the device part as the envelope does */
        ngx_http_kpn_device_normalise(&dev);

        if (base.bn && dev.prefix <= json_string_length(base.bn)) {

            /* the next records of this base name: the same device part */

            base.dev_bn = base.bn;
            base.dev_text = res->name.data;
            base.dev_prefix = dev.prefix;
        }

        measurement.data = res->name.data + dev.prefix;
        measurement.len = res->name.len - dev.prefix;

        ngx_http_kpn_device_measurement(pack, &measurement, res, &payload_time);
    }

    if (pack->nrecords == 0) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "the pack has no record with a value");
    }

    if (device_failed) {
        return NGX_DECLINED;
    }

    pack->time = payload_time ? payload_time : first_time;

    if (ngx_http_kpn_device_identify(pool, &dev0, pack) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_kpn_device_texts(pool, pack) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;

too_many:

    return ngx_http_kpn_error(pool, err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                              "too_many_records",
                              "the pack has more than %ui records",
                              max_records);
}


/*
 * Walks the keys of a record once into fields[] (NULL when absent) and
 * checks field types, must-understand keys and the value count, in this
 * order; the types in the order of ngx_http_kpn_senml_fields[].  Over 120
 * lines: the checks follow RFC 8428 section 4 one after the other, each
 * with its own error message, and splitting them would pass fields[] and
 * the record index through every piece.
 */

static ngx_int_t
ngx_http_kpn_senml_check(ngx_pool_t *pool, json_t *rec, ngx_uint_t i,
    json_t **fields, ngx_uint_t *present, ngx_http_kpn_error_t *err)
{
    char                        *what;
    void                        *iter;
    size_t                       len, mu_len;
    int64_t                      version;
    json_t                      *value;
    ngx_str_t                    echo, name;
    const char                  *key, *mu;
    ngx_uint_t                   k, bad, cut;
    ngx_http_kpn_senml_field_t  *f;

    if (!json_is_object(rec)) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: not an object", i);
    }

    /*
     * fields[] is NULL but for the fields of the previous record (bit k of
     * *present): a memset of the whole array for each record is slower
     */

    for (k = 0; *present; k++, *present >>= 1) {
        if (*present & 1) {
            fields[k] = NULL;
        }
    }

    mu = NULL;
    mu_len = 0;

    /* the first field, in the order of the table, of the wrong type */
    bad = NGX_HTTP_KPN_SENML_NFIELDS;

    for (iter = json_object_iter(rec);
         iter;
         iter = json_object_iter_next(rec, iter))
    {
        key = json_object_iter_key(iter);

        k = ngx_http_kpn_senml_field(key);

        if (k < NGX_HTTP_KPN_SENML_NFIELDS) {
            value = json_object_iter_value(iter);
            fields[k] = value;
            *present |= (ngx_uint_t) 1 << k;

            f = &ngx_http_kpn_senml_fields[k];

            if (k < bad && !ngx_http_kpn_senml_type_ok(f->type, value)) {
                bad = k;
            }

            continue;
        }

        /* RFC 8428, 4.2: unknown keys ending in "_" must be understood */

        if (mu == NULL) {
            len = ngx_strlen(key);

            if (len && key[len - 1] == '_') {
                mu = key;
                mu_len = len;
            }
        }
    }

    if (bad < NGX_HTTP_KPN_SENML_NFIELDS) {
        f = &ngx_http_kpn_senml_fields[bad];

        switch (f->type) {

        case NGX_HTTP_KPN_SENML_STRING:
            what = "a string";
            break;

        case NGX_HTTP_KPN_SENML_NUMBER:
            what = "a number";
            break;

        case NGX_HTTP_KPN_SENML_BOOLEAN:
            what = "true or false";
            break;

        default: /* NGX_HTTP_KPN_SENML_DATA */
            what = "a base64 string";
            break;
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: \"%s\" must be %s",
                                  i, f->name, what);
    }

    value = fields[NGX_HTTP_KPN_SENML_BVER];

    if (value) {
        if (ngx_http_kpn_json_integer(value, 1,
                                      NGX_HTTP_KPN_SENML_MAX_EXACT - 1,
                                      &version)
            != NGX_OK)
        {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"bver\" must be a "
                                      "positive integer", i);
        }

        /*
         * RFC 8428, 4.4: a pack of a later version must not be used.
         * RFC 9100 makes the version a feature bitmap over the base
         * version 10: the only feature defined, secondary units (code 4),
         * needs nothing here, as units are passed on as they are.
         */

        if ((version & ~((int64_t) 1 << 4)) > NGX_HTTP_KPN_SENML_VERSION)
        {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: unsupported SenML "
                                      "version %L (\"bver\")",
                                      i, version);
        }
    }

    if (mu) {
        name.data = (u_char *) mu;
        name.len = mu_len;
        ngx_http_kpn_echo(&name, NGX_HTTP_KPN_SENML_ECHO_MAX, &echo, &cut);

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: unsupported must-understand "
                                  "field \"%V\"", i, &echo);
    }

    if ((fields[NGX_HTTP_KPN_SENML_V] != NULL)
        + (fields[NGX_HTTP_KPN_SENML_VS] != NULL)
        + (fields[NGX_HTTP_KPN_SENML_VB] != NULL)
        + (fields[NGX_HTTP_KPN_SENML_VD] != NULL)
        > 1)
    {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: more than one value field", i);
    }

    return NGX_OK;
}


/* a value of a field's type (NGX_HTTP_KPN_SENML_*) */

static ngx_uint_t
ngx_http_kpn_senml_type_ok(ngx_uint_t type, json_t *value)
{
    switch (type) {

    case NGX_HTTP_KPN_SENML_STRING:
        return json_is_string(value);

    case NGX_HTTP_KPN_SENML_NUMBER:
        return json_is_number(value);

    case NGX_HTTP_KPN_SENML_BOOLEAN:
        return json_is_boolean(value);

    default: /* NGX_HTTP_KPN_SENML_DATA */
        return json_is_string(value)
               && ngx_http_kpn_senml_is_base64(json_string_value(value),
                                               json_string_length(value));
    }
}


/* the index of a SenML key in ngx_http_kpn_senml_fields[], or NFIELDS */

static ngx_uint_t
ngx_http_kpn_senml_field(const char *key)
{
    switch (key[0]) {

    case 'b':
        if (key[1] == '\0') {
            break;
        }

        if (key[2] == '\0') {
            switch (key[1]) {
            case 'n':
                return NGX_HTTP_KPN_SENML_BN;
            case 't':
                return NGX_HTTP_KPN_SENML_BT;
            case 'u':
                return NGX_HTTP_KPN_SENML_BU;
            case 'v':
                return NGX_HTTP_KPN_SENML_BV;
            case 's':
                return NGX_HTTP_KPN_SENML_BS;
            }

            break;
        }

        if (key[1] == 'v' && key[2] == 'e' && key[3] == 'r'
            && key[4] == '\0')
        {
            return NGX_HTTP_KPN_SENML_BVER;
        }

        break;

    case 'n':
        if (key[1] == '\0') {
            return NGX_HTTP_KPN_SENML_N;
        }

        break;

    case 'u':
        if (key[1] == '\0') {
            return NGX_HTTP_KPN_SENML_U;
        }

        if (key[1] == 't' && key[2] == '\0') {
            return NGX_HTTP_KPN_SENML_UT;
        }

        break;

    case 'v':
        if (key[1] == '\0') {
            return NGX_HTTP_KPN_SENML_V;
        }

        if (key[2] == '\0') {
            switch (key[1]) {
            case 's':
                return NGX_HTTP_KPN_SENML_VS;
            case 'b':
                return NGX_HTTP_KPN_SENML_VB;
            case 'd':
                return NGX_HTTP_KPN_SENML_VD;
            }
        }

        break;

    case 's':
        if (key[1] == '\0') {
            return NGX_HTTP_KPN_SENML_S;
        }

        break;

    case 't':
        if (key[1] == '\0') {
            return NGX_HTTP_KPN_SENML_T;
        }

        break;
    }

    return NGX_HTTP_KPN_SENML_NFIELDS;
}


/*
 * Applies the running base values (RFC 8428, 4.6) and fills res.
 * NGX_DONE for a record of base fields only, which is dropped.  One
 * function for the whole of 4.6: each field's resolution is a few lines,
 * in the RFC's order (name, unit, value, sum, time, update time).
 */

static ngx_int_t
ngx_http_kpn_senml_resolve(ngx_pool_t *pool, json_t **fields, ngx_uint_t i,
    ngx_http_kpn_senml_base_t *base, ngx_http_kpn_senml_record_t *res,
    ngx_http_kpn_error_t *err)
{
    json_t      *value, *n, *u, *t, *s, *ut;
    ngx_int_t    rc;
    ngx_uint_t   type;

    if (fields[NGX_HTTP_KPN_SENML_BN]) {
        base->bn = fields[NGX_HTTP_KPN_SENML_BN];
    }

    if (fields[NGX_HTTP_KPN_SENML_BT]) {
        base->bt = fields[NGX_HTTP_KPN_SENML_BT];
    }

    if (fields[NGX_HTTP_KPN_SENML_BU]) {
        base->bu = fields[NGX_HTTP_KPN_SENML_BU];
    }

    if (fields[NGX_HTTP_KPN_SENML_BV]) {
        base->bv = fields[NGX_HTTP_KPN_SENML_BV];
    }

    if (fields[NGX_HTTP_KPN_SENML_BS]) {
        base->bs = fields[NGX_HTTP_KPN_SENML_BS];
    }

    n = fields[NGX_HTTP_KPN_SENML_N];
    u = fields[NGX_HTTP_KPN_SENML_U];
    t = fields[NGX_HTTP_KPN_SENML_T];
    s = fields[NGX_HTTP_KPN_SENML_S];
    ut = fields[NGX_HTTP_KPN_SENML_UT];

    /* at most one of them, checked already */

    if (fields[NGX_HTTP_KPN_SENML_V]) {
        type = NGX_HTTP_KPN_SENML_NUMBER;
        value = fields[NGX_HTTP_KPN_SENML_V];

    } else if (fields[NGX_HTTP_KPN_SENML_VS]) {
        type = NGX_HTTP_KPN_SENML_STRING;
        value = fields[NGX_HTTP_KPN_SENML_VS];

    } else if (fields[NGX_HTTP_KPN_SENML_VB]) {
        type = NGX_HTTP_KPN_SENML_BOOLEAN;
        value = fields[NGX_HTTP_KPN_SENML_VB];

    } else if (fields[NGX_HTTP_KPN_SENML_VD]) {
        type = NGX_HTTP_KPN_SENML_DATA;
        value = fields[NGX_HTTP_KPN_SENML_VD];

    } else {
        type = 0;
        value = NULL;
    }

    if (value == NULL && s == NULL) {

        if (n == NULL && u == NULL && t == NULL && ut == NULL) {
            return NGX_DONE;
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: no value field "
                                  "(\"v\", \"vs\", \"vb\" or \"vd\")", i);
    }

    /* zeroed field by field: a memset of the struct is a slow "rep stos" */

    ngx_str_null(&res->unit);
    ngx_str_null(&res->string);
    ngx_http_kpn_senml_number_null(&res->time);
    ngx_http_kpn_senml_number_null(&res->value);
    ngx_http_kpn_senml_number_null(&res->sum);
    ngx_http_kpn_senml_number_null(&res->update_time);
    res->value_type = 0;
    res->boolean = 0;
    res->has_unit = 0;
    res->has_time = 0;
    res->has_sum = 0;
    res->has_update_time = 0;

    rc = ngx_http_kpn_senml_name(pool, base, n, i, &res->name, err);
    if (rc != NGX_OK) {
        return rc;
    }

    if (u == NULL) {
        u = base->bu;
    }

    if (u) {
        res->has_unit = 1;
        ngx_http_kpn_senml_json_string(u, &res->unit);
    }

    if (t || base->bt) {
        if (ngx_http_kpn_senml_add(base->bt, t, &res->time) != NGX_OK) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"t\" is out of range", i);
        }

        res->has_time = 1;
    }

    res->value_type = type;

    switch (type) {

    case NGX_HTTP_KPN_SENML_NUMBER:
        if (ngx_http_kpn_senml_add(base->bv, value, &res->value) != NGX_OK) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"v\" is out of range", i);
        }

        break;

    case NGX_HTTP_KPN_SENML_STRING:
    case NGX_HTTP_KPN_SENML_DATA:
        ngx_http_kpn_senml_json_string(value, &res->string);
        break;

    case NGX_HTTP_KPN_SENML_BOOLEAN:
        res->boolean = json_is_true(value);
        break;
    }

    if (s) {
        if (ngx_http_kpn_senml_add(base->bs, s, &res->sum) != NGX_OK) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"s\" is out of range", i);
        }

        res->has_sum = 1;
    }

    if (ut) {
        /* a number of the document alone is finite */
        (void) ngx_http_kpn_senml_add(NULL, ut, &res->update_time);
        res->has_update_time = 1;
    }

    return NGX_OK;
}


/*
 * *out = base + value (either may be NULL): an integer when integral
 * and exact, else a real.  NGX_DECLINED when the sum overflows.
 */

static ngx_int_t
ngx_http_kpn_senml_add(json_t *base, json_t *value,
    ngx_http_kpn_senml_number_t *out)
{
    double      d;
    json_int_t  a, b, sum;

    a = 0;
    b = 0;

    if ((base == NULL || json_is_integer(base))
        && (value == NULL || json_is_integer(value)))
    {
        if (base) {
            a = json_integer_value(base);
        }

        if (value) {
            b = json_integer_value(value);
        }

        if (!__builtin_add_overflow(a, b, &sum)) {
            out->integer = sum;
            out->real = 0.0;
            out->is_integer = 1;
            return NGX_OK;
        }
    }

    d = (base ? json_number_value(base) : 0.0)
        + (value ? json_number_value(value) : 0.0);

    if (!isfinite(d)) {
        return NGX_DECLINED;
    }

    if (d > -NGX_HTTP_KPN_SENML_MAX_EXACT && d < NGX_HTTP_KPN_SENML_MAX_EXACT
        && d == (double) (int64_t) d)
    {
        out->integer = (int64_t) d;
        out->real = 0.0;
        out->is_integer = 1;

    } else {
        out->integer = 0;
        out->real = d;
        out->is_integer = 0;
    }

    return NGX_OK;
}


/*
 * name = bn + n, checked against RFC 8428, 4.5.1.  The characters of a
 * base name are checked once for all its records; the records of a base
 * name that holds the device part copy it normalised (base->dev_text).
 */

static ngx_int_t
ngx_http_kpn_senml_name(ngx_pool_t *pool, ngx_http_kpn_senml_base_t *base,
    json_t *n, ngx_uint_t i, ngx_str_t *name, ngx_http_kpn_error_t *err)
{
    u_char   c, *p, *src;
    size_t   bn_len, n_len;
    json_t  *bn;

    bn = base->bn;

    bn_len = bn ? json_string_length(bn) : 0;
    n_len = n ? json_string_length(n) : 0;

    name->len = bn_len + n_len;

    if (name->len == 0) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: the name (\"bn\" + \"n\") "
                                  "is empty", i);
    }

    name->data = ngx_pnalloc(pool, name->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    p = name->data;

    if (bn_len) {
        src = (bn == base->dev_bn) ? base->dev_text
                                   : (u_char *) json_string_value(bn);
        p = ngx_cpymem(p, src, bn_len);
    }

    if (n_len) {
        ngx_memcpy(p, json_string_value(n), n_len);
    }

    c = name->data[0];

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')))
    {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: the name (\"bn\" + \"n\") "
                                  "must start with a letter or digit", i);
    }

    if (bn_len && bn != base->bn_valid) {
        if (!ngx_http_kpn_senml_name_chars(name->data, name->data + bn_len)) {
            goto invalid;
        }

        base->bn_valid = bn;
    }

    if (ngx_http_kpn_senml_name_chars(name->data + bn_len,
                                      name->data + name->len))
    {
        return NGX_OK;
    }

invalid:

    return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                              "invalid_senml",
                              "record %ui: the name (\"bn\" + \"n\") "
                              "may hold only a-z A-Z 0-9 - : . / _", i);
}


/* only a-z A-Z 0-9 - : . / _ */

static ngx_uint_t
ngx_http_kpn_senml_name_chars(u_char *p, u_char *last)
{
    /* bit c % 32 of word c / 32 */
    static uint32_t  allowed[] = {
        0x00000000,  /* control characters */
        0x07ffe000,  /* - . / 0-9 : */
        0x87fffffe,  /* A-Z _ */
        0x07fffffe,  /* a-z */
        0, 0, 0, 0
    };

    while (p < last) {
        if (!(allowed[*p >> 5] & (1U << (*p & 0x1f)))) {
            return 0;
        }

        p++;
    }

    return 1;
}


/*
 * RFC 8428 says base64url without padding; KPN sends standard base64
 * with padding.  Both alphabets are accepted, padding is optional.
 */

static ngx_uint_t
ngx_http_kpn_senml_is_base64(const char *p, size_t len)
{
    u_char  c;
    size_t  k, pad;

    pad = 0;

    for (k = 0; k < len; k++) {
        c = (u_char) p[k];

        if (c == '=') {
            pad++;
            continue;
        }

        if (pad) {
            return 0;
        }

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '+' || c == '/' || c == '-' || c == '_')
        {
            continue;
        }

        return 0;
    }

    if (pad > 2) {
        return 0;
    }

    if (pad) {
        return (len % 4 == 0);
    }

    return (len % 4 != 1);
}


/* a JSON string of the parsed document (valid UTF-8, no NUL) */

static void
ngx_http_kpn_senml_json_string(json_t *json, ngx_str_t *s)
{
    s->data = (u_char *) json_string_value(json);
    s->len = json_string_length(json);
}


/* ngx_http_kpn_device.c as it was */

typedef struct {
    ngx_str_t                  type;
    ngx_uint_t               (*valid)(u_char *p, size_t len);
    char                      *rule;
} ngx_http_kpn_device_kind_t;


static ngx_uint_t ngx_http_kpn_device_is_eui(u_char *p, size_t len);
static ngx_uint_t ngx_http_kpn_device_is_imei(u_char *p, size_t len);

/* a measurement (ngx_str_t *) is the literal name */
#define ngx_http_kpn_device_is(m, name)                                      \
    ((m)->len == sizeof(name) - 1                                            \
     && ngx_memcmp((m)->data, name, sizeof(name) - 1) == 0)


static ngx_int_t ngx_http_kpn_device_text(ngx_pool_t *pool,
    ngx_http_kpn_senml_number_t *num, ngx_str_t *text);


/* the device URN types KPN sends, and what their ids must be */
static ngx_http_kpn_device_kind_t  ngx_http_kpn_device_kinds[] = {
    { ngx_string("DEVEUI"), ngx_http_kpn_device_is_eui,
      "a DEVEUI must be 16 hex digits" },
    { ngx_string("IMEI"), ngx_http_kpn_device_is_imei,
      "an IMEI must be 15 digits" },
    { ngx_string("DVNUUID"), ngx_http_kpn_is_uuid,
      "a DVNUUID must be a UUID" },
    { ngx_null_string, NULL, NULL }
};


/*
 * The device part of a resolved name: "urn:dev:DEVEUI:<16 hex>:",
 * "urn:dev:IMEI:<15 digits>:" or "urn:dev:DVNUUID:<uuid>:".
 * NGX_DECLINED: err filled (422 unknown_device).
 */

static ngx_int_t
ngx_http_kpn_device_urn(ngx_pool_t *pool, ngx_str_t *name, ngx_uint_t i,
    ngx_uint_t has_bn, ngx_http_kpn_device_t *dev,
    ngx_http_kpn_error_t *err)
{
    u_char                      *p, *last, *colon;
    ngx_str_t                    echo;
    ngx_uint_t                   cut;
    ngx_http_kpn_device_kind_t  *kind;

    p = name->data;
    last = name->data + name->len;

    if (name->len < sizeof("urn:dev:") - 1
        || ngx_strncmp(p, "urn:dev:", sizeof("urn:dev:") - 1) != 0)
    {
        if (!has_bn) {
            return ngx_http_kpn_error(pool, err,
                                      NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                      "unknown_device",
                                      "record %ui: no base name (\"bn\") "
                                      "with a device URN", i);
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                  "unknown_device",
                                  "record %ui: the name does not start with "
                                  "\"urn:dev:\"", i);
    }

    p += sizeof("urn:dev:") - 1;

    colon = ngx_strlchr(p, last, ':');

    dev->type.data = p;
    dev->type.len = (colon ? colon : last) - p;

    if (colon == NULL) {
        goto unknown;
    }

    dev->id.data = colon + 1;

    colon = ngx_strlchr(colon + 1, last, ':');
    if (colon == NULL) {
        colon = last;
    }

    dev->id.len = colon - dev->id.data;
    dev->prefix = (colon == last) ? 0 : (size_t) (colon + 1 - name->data);

    for (kind = ngx_http_kpn_device_kinds; kind->type.len; kind++) {

        if (dev->type.len != kind->type.len
            || ngx_strncmp(dev->type.data, kind->type.data, kind->type.len)
               != 0)
        {
            continue;
        }

        if (dev->prefix == 0 || !kind->valid(dev->id.data, dev->id.len)) {
            return ngx_http_kpn_error(pool, err,
                                      NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                      "unknown_device",
                                      "record %ui: %s followed by \":\"",
                                      i, kind->rule);
        }

        return NGX_OK;
    }

unknown:

    /* the name is checked already: only a-z A-Z 0-9 - : . / _ */

    ngx_http_kpn_echo(&dev->type, NGX_HTTP_KPN_SENML_ECHO_MAX, &echo, &cut);

    return ngx_http_kpn_error(pool, err, NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                              "unknown_device",
                              "record %ui: unknown device URN type \"%V\" "
                              "(DEVEUI, IMEI or DVNUUID expected)", i, &echo);
}


/* urn, id_type and the normalised device_id of the pack */

static ngx_int_t
ngx_http_kpn_device_identify(ngx_pool_t *pool,
    ngx_http_kpn_device_t *dev, ngx_http_kpn_senml_t *pack)
{
    u_char  *p;

    pack->urn.len = dev->prefix;
    pack->urn.data = ngx_pnalloc(pool, pack->urn.len);
    if (pack->urn.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(pack->urn.data, "urn:dev:", sizeof("urn:dev:") - 1);

    pack->id_type.data = p;
    pack->id_type.len = dev->type.len;
    p = ngx_cpymem(p, dev->type.data, dev->type.len);
    *p++ = ':';

    /* DEVEUI upper case, DVNUUID lower case, IMEI digits only */

    pack->device_id.data = p;
    pack->device_id.len = dev->id.len;

    if (dev->type.len == sizeof("DEVEUI") - 1) {
        ngx_http_kpn_upper(p, dev->id.data, dev->id.len);

    } else {
        ngx_strlow(p, dev->id.data, dev->id.len);
    }

    p[dev->id.len] = ':';

    return NGX_OK;
}


/* the device id in place: DEVEUI upper case, DVNUUID lower case */

static void
ngx_http_kpn_device_normalise(ngx_http_kpn_device_t *dev)
{
    if (dev->type.len == sizeof("DEVEUI") - 1) {
        ngx_http_kpn_upper(dev->id.data, dev->id.data, dev->id.len);

    } else if (dev->type.len == sizeof("DVNUUID") - 1) {
        ngx_strlow(dev->id.data, dev->id.data, dev->id.len);
    }

    /* IMEI: digits only */
}


static void
ngx_http_kpn_device_measurement(ngx_http_kpn_senml_t *pack,
    ngx_str_t *measurement, ngx_http_kpn_senml_record_t *res,
    ngx_http_kpn_senml_number_t **payload_time)
{
    ngx_http_kpn_senml_number_t  *v;

    if (ngx_http_kpn_device_is(measurement, "payload")) {

        if (res->value_type == NGX_HTTP_KPN_SENML_STRING
            && pack->payload_hex == NULL)
        {
            pack->payload_hex = &res->string;
            *payload_time = res->has_time ? &res->time : NULL;
        }

        return;
    }

    if (res->value_type != NGX_HTTP_KPN_SENML_NUMBER) {
        return;
    }

    v = &res->value;

    if (ngx_http_kpn_device_is(measurement, "port")) {
        if (pack->port == NULL && v->is_integer) {
            pack->port = v;
        }

    } else if (ngx_http_kpn_device_is(measurement, "FCntUp")) {
        if (pack->fcnt_up == NULL) {
            pack->fcnt_up = v;
        }

    } else if (ngx_http_kpn_device_is(measurement, "LrrRSSI")) {
        if (pack->rssi == NULL) {
            pack->rssi = v;
        }

    } else if (ngx_http_kpn_device_is(measurement, "LrrSNR")) {
        if (pack->snr == NULL) {
            pack->snr = v;
        }
    }
}


static ngx_int_t
ngx_http_kpn_device_texts(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack)
{
    if (pack->payload_hex) {
        pack->payload_hex_text = *pack->payload_hex;

    } else {
        ngx_str_null(&pack->payload_hex_text);
    }

    if (ngx_http_kpn_device_text(pool, pack->time, &pack->time_text)
        != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->port, &pack->port_text)
           != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->fcnt_up, &pack->fcnt_up_text)
           != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->rssi, &pack->rssi_text)
           != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->snr, &pack->snr_text)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a number as the envelope prints it */

static ngx_int_t
ngx_http_kpn_device_text(ngx_pool_t *pool, ngx_http_kpn_senml_number_t *num,
    ngx_str_t *text)
{
    if (num == NULL) {
        ngx_str_null(text);
        return NGX_OK;
    }

    text->data = ngx_pnalloc(pool, NGX_HTTP_KPN_SENML_NUMBER_LEN);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    text->len = ngx_http_kpn_envelope_number(text->data, num) - text->data;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_kpn_device_is_eui(u_char *p, size_t len)
{
    return len == 16 && ngx_http_kpn_is_hex(p, len);
}


static ngx_uint_t
ngx_http_kpn_device_is_imei(u_char *p, size_t len)
{
    if (len != 15) {
        return 0;
    }

    while (len--) {
        if (*p < '0' || *p > '9') {
            return 0;
        }

        p++;
    }

    return 1;
}


/* the outcome of a code, NGX_HTTP_KPN_OTHER when the table has none */

static ngx_uint_t
ngx_http_kpn_outcome_find(u_char *code, size_t len)
{
    ngx_uint_t  i;

    for (i = 1; i < NGX_HTTP_KPN_OUTCOME_N; i++) {
        if (ngx_http_kpn_outcomes[i].code.len == len
            && ngx_strncmp(ngx_http_kpn_outcomes[i].code.data, code, len) == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_KPN_OTHER;
}


/*
 * The error object with its code as text, as the module raised it before
 * its outcome table: the message formatted as ngx_http_kpn_raise() does
 * (at most NGX_HTTP_KPN_ORACLE_MESSAGE_MAX bytes, then made printable by
 * it), the code's outcome, the code kept as given.
 */

static ngx_int_t
ngx_http_kpn_error(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t status, char *code, const char *fmt, ...)
{
    u_char     buf[NGX_HTTP_KPN_ORACLE_MESSAGE_MAX], *last;
    size_t     len;
    va_list    args;
    ngx_int_t  rc;

    va_start(args, fmt);
    last = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    len = ngx_strlen(code);

    rc = ngx_http_kpn_raise(pool, err,
                            ngx_http_kpn_outcome_find((u_char *) code, len),
                            status, "%*s", (size_t) (last - buf), buf);

    err->code.data = (u_char *) code;
    err->code.len = len;

    return rc;
}
