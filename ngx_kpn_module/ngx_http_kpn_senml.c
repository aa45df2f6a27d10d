
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * SenML (RFC 8428) packs: the records read from the body's bytes
 * (ngx_http_kpn_senml_reader.c), checked and resolved (base fields,
 * section 4.6) into a pool array of C records, one record at a time as
 * the reader gives it.  The device and KPN's measurements are a second
 * pass over the resolved records (ngx_http_kpn_device.c); the envelope is
 * written by ngx_http_kpn_envelope.c.
 *
 * Which error a bad pack gets is jansson's order, as before the reader:
 * 413 for too many records first, then any JSON error (a record that
 * breaks the SenML rules is remembered and the rest of the body still
 * read), then the first record that breaks them, then the device.
 */


#include "ngx_http_kpn_senml.h"
#include "ngx_http_kpn_device.h"
#include "ngx_http_kpn_text.h"

#include <math.h>


/* 2^53: larger integral numbers are not exact in a double */
#define NGX_HTTP_KPN_SENML_MAX_EXACT  9007199254740992LL

/* the SenML version of RFC 8428 */
#define NGX_HTTP_KPN_SENML_VERSION    10

/* the first guess of records for a body: a KPN record is 25-40 bytes */
#define NGX_HTTP_KPN_SENML_BYTES_PER_RECORD  32

/* records room made at first at most: then twice as much when needed */
#define NGX_HTTP_KPN_SENML_GUESS_MAX  256

/* the names' space: twice the body, at most this much at a time */
#define NGX_HTTP_KPN_SENML_NAMES_MAX  16384


typedef struct {
    char                      *name;
    ngx_uint_t                 type;
    char                      *what;     /* the type, for a message */
    ngx_uint_t                 json;     /* the JSON types it takes: bit
                                            NGX_HTTP_KPN_READER_* */
} ngx_http_kpn_senml_field_t;


#define NGX_HTTP_KPN_SENML_JSON_STRING                                       \
    ((ngx_uint_t) 1 << NGX_HTTP_KPN_READER_STRING)
#define NGX_HTTP_KPN_SENML_JSON_NUMBER                                       \
    (((ngx_uint_t) 1 << NGX_HTTP_KPN_READER_INTEGER)                         \
     | ((ngx_uint_t) 1 << NGX_HTTP_KPN_READER_REAL))
#define NGX_HTTP_KPN_SENML_JSON_BOOLEAN                                      \
    (((ngx_uint_t) 1 << NGX_HTTP_KPN_READER_TRUE)                            \
     | ((ngx_uint_t) 1 << NGX_HTTP_KPN_READER_FALSE))
#define NGX_HTTP_KPN_SENML_JSON_DATA  NGX_HTTP_KPN_SENML_JSON_STRING


#define ngx_http_kpn_senml_number_null(num)                                  \
    do {                                                                     \
        (num)->integer = 0;                                                  \
        (num)->real = 0.0;                                                   \
        (num)->is_integer = 0;                                               \
    } while (0)


/* the base fields: bn, bt, bu, bv, bs */
#define NGX_HTTP_KPN_SENML_NBASES     5


/* the pass over the records: running base values, the names' space */
typedef struct {
    ngx_pool_t                    *pool;
    ngx_http_kpn_error_t          *err;

    /*
     * the base fields last seen, bn to bs (NULL: none yet), pointing to
     * copies: the reader fills the same values for every record
     */
    ngx_http_kpn_reader_value_t   *base[NGX_HTTP_KPN_SENML_NBASES];
    ngx_http_kpn_reader_value_t    copies[NGX_HTTP_KPN_SENML_NBASES];

    ngx_uint_t                     bn_gen;       /* "bn" fields so far */
    ngx_uint_t                     bn_valid;     /* bn_gen of a base name
                                                    whose characters are
                                                    checked */

    ngx_uint_t                     nalloc;       /* records' room */
    ngx_uint_t                     guess;        /* its first size */

    /*
     * the time of a record without "t" since the last "bt" (NULL: none
     * yet); a pointer into records: valid until the array grows
     */
    ngx_http_kpn_senml_number_t   *bt_time;

    u_char                        *names;        /* free names' space */
    u_char                        *names_last;
    size_t                         names_chunk;
} ngx_http_kpn_senml_pass_t;


static ngx_int_t ngx_http_kpn_senml_read(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_senml_pass_t *ps, ngx_uint_t max_records,
    ngx_http_kpn_senml_t *pack);
static ngx_int_t ngx_http_kpn_senml_record(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t present, ngx_str_t *mu,
    ngx_uint_t i, ngx_http_kpn_senml_t *pack);
static ngx_int_t ngx_http_kpn_senml_check(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t present, ngx_str_t *mu,
    ngx_uint_t i);
static ngx_int_t ngx_http_kpn_senml_version(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *value, ngx_uint_t i);
static ngx_int_t ngx_http_kpn_senml_resolve(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t present, ngx_uint_t i,
    ngx_http_kpn_senml_record_t *res);
static ngx_inline ngx_int_t ngx_http_kpn_senml_add(
    ngx_http_kpn_reader_value_t *base,
    ngx_http_kpn_reader_value_t *value, ngx_http_kpn_senml_number_t *out);
static ngx_inline ngx_int_t ngx_http_kpn_senml_time(
    ngx_http_kpn_senml_pass_t *ps, ngx_http_kpn_reader_value_t *t,
    ngx_http_kpn_senml_record_t *res);
static ngx_int_t ngx_http_kpn_senml_name(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *n, ngx_uint_t i,
    ngx_http_kpn_senml_record_t *res);


static ngx_http_kpn_senml_field_t  ngx_http_kpn_senml_fields[] = {
    { "bn",    NGX_HTTP_KPN_SENML_STRING, "a string",
      NGX_HTTP_KPN_SENML_JSON_STRING },
    { "bt",    NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { "bu",    NGX_HTTP_KPN_SENML_STRING, "a string",
      NGX_HTTP_KPN_SENML_JSON_STRING },
    { "bv",    NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { "bs",    NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { "bver",  NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { "n",     NGX_HTTP_KPN_SENML_STRING, "a string",
      NGX_HTTP_KPN_SENML_JSON_STRING },
    { "u",     NGX_HTTP_KPN_SENML_STRING, "a string",
      NGX_HTTP_KPN_SENML_JSON_STRING },
    { "v",     NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { "vs",    NGX_HTTP_KPN_SENML_STRING, "a string",
      NGX_HTTP_KPN_SENML_JSON_STRING },
    { "vb",    NGX_HTTP_KPN_SENML_BOOLEAN, "true or false",
      NGX_HTTP_KPN_SENML_JSON_BOOLEAN },
    { "vd",    NGX_HTTP_KPN_SENML_DATA, "a base64 string",
      NGX_HTTP_KPN_SENML_JSON_DATA },
    { "s",     NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { "t",     NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { "ut",    NGX_HTTP_KPN_SENML_NUMBER, "a number",
      NGX_HTTP_KPN_SENML_JSON_NUMBER },
    { NULL, 0, NULL, 0 }
};


#define ngx_http_kpn_senml_has(present, k)  ((present) & ((ngx_uint_t) 1 << (k)))


/* zeroed field by field: a memset of the struct is a slow "rep stos" */
#define ngx_http_kpn_senml_record_init(res, i)                               \
    do {                                                                     \
        ngx_str_null(&(res)->unit);                                          \
        ngx_str_null(&(res)->string);                                        \
        ngx_http_kpn_senml_number_null(&(res)->time);                        \
        ngx_http_kpn_senml_number_null(&(res)->value);                       \
        ngx_http_kpn_senml_number_null(&(res)->sum);                         \
        ngx_http_kpn_senml_number_null(&(res)->update_time);                 \
        (res)->value_type = 0;                                               \
        (res)->boolean = 0;                                                  \
        (res)->has_unit = 0;                                                 \
        (res)->has_time = 0;                                                 \
        (res)->has_sum = 0;                                                  \
        (res)->has_update_time = 0;                                          \
        (res)->index = (i);                                                  \
    } while (0)


/*
 * The pack: the records read and resolved (the first pass), then the
 * device of the resolved records (the second).
 */

ngx_int_t
ngx_http_kpn_senml_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_records, ngx_http_kpn_senml_t *pack,
    ngx_http_kpn_error_t *err)
{
    ngx_int_t                   rc;
    ngx_http_kpn_reader_t       rd;
    ngx_http_kpn_senml_pass_t   ps;

    ngx_memzero(pack, sizeof(ngx_http_kpn_senml_t));

    ngx_http_kpn_reader_init(&rd, pool, body);

    ps.pool = pool;
    ps.err = err;
    ngx_memzero(ps.base, sizeof(ps.base));
    ps.bn_gen = 0;
    ps.bn_valid = 0;
    ps.nalloc = 0;
    ps.guess = ngx_min(body->len / NGX_HTTP_KPN_SENML_BYTES_PER_RECORD + 1,
                       NGX_HTTP_KPN_SENML_GUESS_MAX);
    ps.bt_time = NULL;
    ps.names = NULL;
    ps.names_last = NULL;
    ps.names_chunk = ngx_min(2 * body->len + 64,
                             NGX_HTTP_KPN_SENML_NAMES_MAX);

    rc = ngx_http_kpn_senml_read(&rd, &ps, max_records, pack);

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_ABORT:

        /*
         * not JSON: 413 still outranks the 400 when the array has too
         * many values, counted by a scan of the bytes (its count is the
         * array's size for JSON; the reader stops at the first one over)
         */

        if (max_records
            && ngx_http_kpn_reader_count(body, max_records) > max_records)
        {
            goto too_many;
        }

        return ngx_http_kpn_reader_error(&rd, err);

    case NGX_AGAIN:
        goto too_many;

    default:
        return rc;
    }

    return ngx_http_kpn_device_pack(pool, pack, err);

too_many:

    return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_TOO_MANY_RECORDS,
                              0,
                              "the pack has more than %ui records",
                              max_records);
}


/*
 * The first pass: NGX_OK with the resolved records; NGX_DECLINED with
 * err; NGX_ABORT: not JSON (rd tells where); NGX_AGAIN: more than
 * max_records values; NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_kpn_senml_read(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_senml_pass_t *ps, ngx_uint_t max_records,
    ngx_http_kpn_senml_t *pack)
{
    ngx_int_t                     rc;
    ngx_str_t                     mu;
    ngx_uint_t                    i, present, failed;
    ngx_http_kpn_reader_value_t   vals[NGX_HTTP_KPN_SENML_NFIELDS];

    rc = ngx_http_kpn_reader_open(rd);

    if (rc == NGX_DONE) {

        /* an object: not a pack, if it is JSON */

        rc = ngx_http_kpn_reader_skip(rd, 1);

        if (rc == NGX_OK) {
            rc = ngx_http_kpn_reader_end(rd);
        }

        if (rc != NGX_OK) {
            return (rc == NGX_ERROR) ? NGX_ERROR : NGX_ABORT;
        }

        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "the pack must be an array of records");
    }

    if (rc != NGX_OK) {
        return NGX_ABORT;
    }

    failed = 0;

    for (i = 0; /* void */ ; i++) {

        rc = ngx_http_kpn_reader_next(rd);

        if (rc == NGX_DONE) {
            break;
        }

        if (rc != NGX_OK) {
            return NGX_ABORT;
        }

        if (max_records && rd->count > max_records) {
            return NGX_AGAIN;
        }

        if (failed) {
            /* the rest must still be JSON, and not too many records */
            rc = ngx_http_kpn_reader_skip(rd, 2);

        } else {
            rc = ngx_http_kpn_reader_record(rd, vals, &present, &mu);

            if (rc == NGX_OK) {
                rc = ngx_http_kpn_senml_record(ps, vals, present, &mu, i,
                                               pack);

            } else if (rc == NGX_DONE) {
                rc = ngx_http_kpn_raise(ps->pool, ps->err,
                                        NGX_HTTP_KPN_INVALID_SENML,
                                        0,
                                        "record %ui: not an object", i);

            } else if (rc == NGX_DECLINED) {
                return NGX_ABORT;
            }

            if (rc == NGX_DECLINED) {
                failed = 1;
                continue;
            }
        }

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc != NGX_OK) {
            return NGX_ABORT;
        }
    }

    if (ngx_http_kpn_reader_end(rd) != NGX_OK) {
        return NGX_ABORT;
    }

    if (failed) {
        return NGX_DECLINED;
    }

    if (rd->count == 0) {
        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0, "the pack is empty");
    }

    if (pack->nrecords == 0) {
        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "the pack has no record with a value");
    }

    return NGX_OK;
}


/* one record of the pack (i): checked, resolved and kept */

static ngx_int_t
ngx_http_kpn_senml_record(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t present, ngx_str_t *mu,
    ngx_uint_t i, ngx_http_kpn_senml_t *pack)
{
    size_t                        size, names;
    ngx_int_t                     rc;
    ngx_uint_t                    n, k;
    ngx_http_kpn_senml_record_t  *records;

    rc = ngx_http_kpn_senml_check(ps, vals, present, mu, i);
    if (rc != NGX_OK) {
        return rc;
    }

    if (pack->nrecords == ps->nalloc) {

        /* a guess from the body's size first, then twice as many */

        n = ps->nalloc ? 2 * ps->nalloc : ps->guess;

        /* the first time, the names' first space in the same allocation */

        size = n * sizeof(ngx_http_kpn_senml_record_t);
        names = ps->nalloc ? 0 : ps->names_chunk;

        records = ngx_palloc(ps->pool, size + names);
        if (records == NULL) {
            return NGX_ERROR;
        }

        if (names) {
            ps->names = (u_char *) records + size;
            ps->names_last = ps->names + names;
        }

        if (pack->nrecords) {
            ngx_memcpy(records, pack->records,
                       pack->nrecords * sizeof(ngx_http_kpn_senml_record_t));
        }

        pack->records = records;
        ps->nalloc = n;
        ps->bt_time = NULL;
    }

    /* the running base values (RFC 8428, 4.6), copied */

    if (present & (((ngx_uint_t) 1 << NGX_HTTP_KPN_SENML_NBASES) - 1)) {

        for (k = NGX_HTTP_KPN_SENML_BN; k < NGX_HTTP_KPN_SENML_NBASES; k++) {
            if (ngx_http_kpn_senml_has(present, k)) {
                ps->copies[k] = vals[k];
                ps->base[k] = &ps->copies[k];
            }
        }

        if (ngx_http_kpn_senml_has(present, NGX_HTTP_KPN_SENML_BT)) {
            ps->bt_time = NULL;
        }

        if (ngx_http_kpn_senml_has(present, NGX_HTTP_KPN_SENML_BN)) {
            ps->bn_gen++;
        }
    }

    rc = ngx_http_kpn_senml_resolve(ps, vals, present, i,
                                    &pack->records[pack->nrecords]);

    if (rc == NGX_DONE) {
        /* a record of base fields only */
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    pack->nrecords++;

    return NGX_OK;
}


/*
 * The record's fields (vals, bit k of present for each): types, the
 * version, must-understand keys and the value count, in this order; the
 * types in the order of ngx_http_kpn_senml_fields[].
 */

static ngx_int_t
ngx_http_kpn_senml_check(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t present, ngx_str_t *mu,
    ngx_uint_t i)
{
    ngx_str_t                    echo;
    ngx_uint_t                   k, bits, cut;
    ngx_http_kpn_senml_field_t  *f;

    for (bits = present; bits; bits &= bits - 1) {
        k = __builtin_ctzl(bits);
        f = &ngx_http_kpn_senml_fields[k];

        if (((f->json >> vals[k].type) & 1)
            && (k != NGX_HTTP_KPN_SENML_VD
                || ngx_http_kpn_is_base64(vals[k].str.data, vals[k].str.len)))
        {
            continue;
        }

        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: \"%s\" must be %s",
                                  i, f->name, f->what);
    }

    if (ngx_http_kpn_senml_has(present, NGX_HTTP_KPN_SENML_BVER)
        && ngx_http_kpn_senml_version(ps, &vals[NGX_HTTP_KPN_SENML_BVER], i)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (mu->len) {
        ngx_http_kpn_echo(mu, NGX_HTTP_KPN_SENML_ECHO_MAX, &echo, &cut);

        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: unsupported must-understand "
                                  "field \"%V\"", i, &echo);
    }

    bits = present & (((ngx_uint_t) 1 << NGX_HTTP_KPN_SENML_V)
                      | ((ngx_uint_t) 1 << NGX_HTTP_KPN_SENML_VS)
                      | ((ngx_uint_t) 1 << NGX_HTTP_KPN_SENML_VB)
                      | ((ngx_uint_t) 1 << NGX_HTTP_KPN_SENML_VD));

    if (bits & (bits - 1)) {
        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: more than one value field", i);
    }

    return NGX_OK;
}


/*
 * "bver": a positive integer, written as one or as an integral real;
 * RFC 8428, 4.4: a pack of a later version must not be used.  RFC 9100
 * makes the version a feature bitmap over the base version 10: the only
 * feature defined, secondary units (code 4), needs nothing here, as units
 * are passed on as they are.
 */

static ngx_int_t
ngx_http_kpn_senml_version(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *value, ngx_uint_t i)
{
    double   d;
    int64_t  version;

    if (value->type == NGX_HTTP_KPN_READER_INTEGER) {
        version = value->integer;

        if (version < 1 || version > NGX_HTTP_KPN_SENML_MAX_EXACT - 1) {
            goto invalid;
        }

    } else {

        /* the range first: the cast of a real out of range is undefined */

        d = value->real;

        if (!(d >= 1.0 && d <= (double) (NGX_HTTP_KPN_SENML_MAX_EXACT - 1))
            || d != (double) (int64_t) d)
        {
            goto invalid;
        }

        version = (int64_t) d;
    }

    if ((version & ~((int64_t) 1 << 4)) > NGX_HTTP_KPN_SENML_VERSION) {
        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: unsupported SenML "
                                  "version %L (\"bver\")", i, version);
    }

    return NGX_OK;

invalid:

    return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                              0,
                              "record %ui: \"bver\" must be a positive "
                              "integer", i);
}


/*
 * Applies the base values (RFC 8428, 4.6) to the record and fills res.
 * NGX_DONE for a record of base fields only, which is dropped.  One
 * function for the whole of 4.6: each field's resolution is a few lines,
 * in the RFC's order (name, unit, value, sum, time, update time).
 */

static ngx_int_t
ngx_http_kpn_senml_resolve(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t present, ngx_uint_t i,
    ngx_http_kpn_senml_record_t *res)
{
    ngx_int_t                      rc;
    ngx_uint_t                     type, k;
    ngx_http_kpn_reader_value_t   *value, *n, *u, *t, *s, *ut, **base;

    base = ps->base;

#define ngx_http_kpn_senml_field_of(k)                                       \
    (ngx_http_kpn_senml_has(present, k) ? &vals[k] : NULL)

    n = ngx_http_kpn_senml_field_of(NGX_HTTP_KPN_SENML_N);
    u = ngx_http_kpn_senml_field_of(NGX_HTTP_KPN_SENML_U);
    t = ngx_http_kpn_senml_field_of(NGX_HTTP_KPN_SENML_T);
    s = ngx_http_kpn_senml_field_of(NGX_HTTP_KPN_SENML_S);
    ut = ngx_http_kpn_senml_field_of(NGX_HTTP_KPN_SENML_UT);

    /* at most one of them, checked already */

    type = 0;
    value = NULL;

    for (k = NGX_HTTP_KPN_SENML_V; k <= NGX_HTTP_KPN_SENML_VD; k++) {
        if (ngx_http_kpn_senml_has(present, k)) {
            type = ngx_http_kpn_senml_fields[k].type;
            value = &vals[k];
            break;
        }
    }

    if (value == NULL && s == NULL) {

        if (n == NULL && u == NULL && t == NULL && ut == NULL) {
            return NGX_DONE;
        }

        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: no value field "
                                  "(\"v\", \"vs\", \"vb\" or \"vd\")", i);
    }

    ngx_http_kpn_senml_record_init(res, i);

    rc = ngx_http_kpn_senml_name(ps, n, i, res);
    if (rc != NGX_OK) {
        return rc;
    }

    if (u == NULL) {
        u = base[NGX_HTTP_KPN_SENML_BU];
    }

    if (u) {
        res->has_unit = 1;
        res->unit = u->str;
    }

    if ((t || base[NGX_HTTP_KPN_SENML_BT])
        && ngx_http_kpn_senml_time(ps, t, res) != NGX_OK)
    {
        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: \"t\" is out of range", i);
    }

    res->value_type = type;

    switch (type) {

    case NGX_HTTP_KPN_SENML_NUMBER:
        if (ngx_http_kpn_senml_add(base[NGX_HTTP_KPN_SENML_BV], value,
                                   &res->value)
            != NGX_OK)
        {
            return ngx_http_kpn_raise(ps->pool, ps->err,
                                      NGX_HTTP_KPN_INVALID_SENML,
                                      0,
                                      "record %ui: \"v\" is out of range", i);
        }

        break;

    case NGX_HTTP_KPN_SENML_STRING:
    case NGX_HTTP_KPN_SENML_DATA:
        res->string = value->str;
        break;

    case NGX_HTTP_KPN_SENML_BOOLEAN:
        res->boolean = (value->type == NGX_HTTP_KPN_READER_TRUE);
        break;
    }

    if (s) {
        if (ngx_http_kpn_senml_add(base[NGX_HTTP_KPN_SENML_BS], s, &res->sum)
            != NGX_OK)
        {
            return ngx_http_kpn_raise(ps->pool, ps->err,
                                      NGX_HTTP_KPN_INVALID_SENML,
                                      0,
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
 * The record's time, bt + t: a record without "t" takes the time of the
 * record before it when no "bt" came between.  NGX_DECLINED: overflow.
 */

static ngx_inline ngx_int_t
ngx_http_kpn_senml_time(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *t, ngx_http_kpn_senml_record_t *res)
{
    res->has_time = 1;

    if (t == NULL && ps->bt_time) {
        res->time = *ps->bt_time;
        return NGX_OK;
    }

    if (ngx_http_kpn_senml_add(ps->base[NGX_HTTP_KPN_SENML_BT], t, &res->time)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (t == NULL) {
        ps->bt_time = &res->time;
    }

    return NGX_OK;
}


/* a number's value as a double, as json_number_value() gives it */
#define ngx_http_kpn_senml_double(v)                                         \
    ((v)->type == NGX_HTTP_KPN_READER_INTEGER ? (double) (v)->integer         \
                                               : (v)->real)


/*
 * *out = base + value (either may be NULL): an integer when integral
 * and exact, else a real.  NGX_DECLINED when the sum overflows.
 */

static ngx_inline ngx_int_t
ngx_http_kpn_senml_add(ngx_http_kpn_reader_value_t *base,
    ngx_http_kpn_reader_value_t *value, ngx_http_kpn_senml_number_t *out)
{
    double   d;
    int64_t  a, b, sum;

    a = 0;
    b = 0;

    if ((base == NULL || base->type == NGX_HTTP_KPN_READER_INTEGER)
        && (value == NULL || value->type == NGX_HTTP_KPN_READER_INTEGER))
    {
        if (base) {
            a = base->integer;
        }

        if (value) {
            b = value->integer;
        }

        if (!__builtin_add_overflow(a, b, &sum)) {
            out->integer = sum;
            out->real = 0.0;
            out->is_integer = 1;
            return NGX_OK;
        }
    }

    d = (base ? ngx_http_kpn_senml_double(base) : 0.0)
        + (value ? ngx_http_kpn_senml_double(value) : 0.0);

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
 * name = bn + n, checked against RFC 8428, 4.5.1, in the names' space of
 * the pass.  The characters of a base name are checked once for all its
 * records.
 */

static ngx_int_t
ngx_http_kpn_senml_name(ngx_http_kpn_senml_pass_t *ps,
    ngx_http_kpn_reader_value_t *n, ngx_uint_t i,
    ngx_http_kpn_senml_record_t *res)
{
    u_char                       c, *p;
    size_t                       bn_len, n_len, size;
    ngx_str_t                   *name;
    ngx_http_kpn_reader_value_t  *bn;

    name = &res->name;

    bn = ps->base[NGX_HTTP_KPN_SENML_BN];
    bn_len = bn ? bn->str.len : 0;
    n_len = n ? n->str.len : 0;

    res->bn_len = bn_len;
    res->bn_gen = ps->bn_gen;

    name->len = bn_len + n_len;

    if (name->len == 0) {
        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: the name (\"bn\" + \"n\") "
                                  "is empty", i);
    }

    if ((size_t) (ps->names_last - ps->names) < name->len) {
        size = ngx_max(name->len, ps->names_chunk);

        ps->names = ngx_pnalloc(ps->pool, size);
        if (ps->names == NULL) {
            return NGX_ERROR;
        }

        ps->names_last = ps->names + size;
    }

    name->data = ps->names;
    ps->names += name->len;

    p = name->data;

    if (bn_len) {
        p = ngx_cpymem(p, bn->str.data, bn_len);
    }

    if (n_len) {
        ngx_memcpy(p, n->str.data, n_len);
    }

    c = name->data[0];

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')))
    {
        return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                                  0,
                                  "record %ui: the name (\"bn\" + \"n\") "
                                  "must start with a letter or digit", i);
    }

    if (bn_len && ps->bn_gen != ps->bn_valid) {
        if (!ngx_http_kpn_is_senml_name(name->data, name->data + bn_len)) {
            goto invalid;
        }

        ps->bn_valid = ps->bn_gen;
    }

    if (ngx_http_kpn_is_senml_name(name->data + bn_len,
                                      name->data + name->len))
    {
        return NGX_OK;
    }

invalid:

    return ngx_http_kpn_raise(ps->pool, ps->err, NGX_HTTP_KPN_INVALID_SENML,
                              0,
                              "record %ui: the name (\"bn\" + \"n\") "
                              "may hold only a-z A-Z 0-9 - : . / _", i);
}
