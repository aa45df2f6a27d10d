
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * SenML (RFC 8428) packs as KPN Things sends them: strict JSON parse,
 * resolution of base fields (section 4.6), validation, device
 * identification and the Withthegrid envelope.
 */


#include "ngx_http_kpn_senml.h"

#include <math.h>


#define NGX_HTTP_KPN_SENML_STRING     1
#define NGX_HTTP_KPN_SENML_NUMBER     2
#define NGX_HTTP_KPN_SENML_BOOLEAN    3
#define NGX_HTTP_KPN_SENML_DATA       4

#ifndef NGX_HTTP_KPN_UNPROCESSABLE_ENTITY
#define NGX_HTTP_KPN_UNPROCESSABLE_ENTITY  422
#endif

/* 2^53: larger integral numbers are not exact in a double */
#define NGX_HTTP_KPN_SENML_MAX_EXACT  9007199254740992.0

/* at most this many bytes of input are echoed in an error message */
#define NGX_HTTP_KPN_SENML_ECHO_MAX   32


typedef struct {
    char                      *name;
    ngx_uint_t                 type;
} ngx_http_kpn_senml_field_t;


/* the running base values, borrowed from the parsed document */
typedef struct {
    json_t                    *bn;
    json_t                    *bt;
    json_t                    *bu;
    json_t                    *bv;
    json_t                    *bs;
} ngx_http_kpn_senml_base_t;


/* the device part of a resolved name, pointing into the name */
typedef struct {
    ngx_str_t                  type;
    ngx_str_t                  id;
    size_t                     prefix;    /* "urn:dev:TYPE:ID:" length */
} ngx_http_kpn_senml_device_t;


static ngx_int_t ngx_http_kpn_senml_load(ngx_pool_t *pool, ngx_str_t *body,
    json_t **root, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_senml_check(ngx_pool_t *pool, json_t *rec,
    ngx_uint_t i, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_senml_resolve(ngx_pool_t *pool, json_t *rec,
    ngx_uint_t i, ngx_http_kpn_senml_base_t *base, json_t *records,
    json_t **out, ngx_str_t *name, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_senml_add(json_t *base, json_t *value,
    json_t **out);
static ngx_int_t ngx_http_kpn_senml_name(ngx_pool_t *pool, json_t *bn,
    json_t *n, ngx_uint_t i, ngx_str_t *name, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_senml_device(ngx_pool_t *pool,
    ngx_str_t *name, ngx_uint_t i, ngx_uint_t has_bn,
    ngx_http_kpn_senml_device_t *dev, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_senml_identify(ngx_pool_t *pool,
    ngx_http_kpn_senml_device_t *dev, ngx_http_kpn_senml_t *pack);
static void ngx_http_kpn_senml_kpn_field(ngx_http_kpn_senml_t *pack,
    ngx_str_t *measurement, json_t *resolved, json_t **payload_time);
static ngx_int_t ngx_http_kpn_senml_texts(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack);
static ngx_int_t ngx_http_kpn_senml_text(ngx_pool_t *pool, json_t *value,
    ngx_str_t *text);
static ngx_uint_t ngx_http_kpn_senml_is_base64(const char *p, size_t len);
static ngx_int_t ngx_http_kpn_senml_echo(ngx_pool_t *pool, const char *p,
    size_t len, ngx_str_t *out);
static ngx_uint_t ngx_http_kpn_senml_is(ngx_str_t *measurement,
    char *name);
static json_t *ngx_http_kpn_senml_string(ngx_str_t *s);


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


/* the value fields, in the order they are looked for */
static char  *ngx_http_kpn_senml_values[] = { "v", "vs", "vb", "vd", NULL };


ngx_int_t
ngx_http_kpn_senml_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_http_kpn_senml_t *pack, ngx_http_kpn_error_t *err)
{
    json_t                       *root, *rec, *resolved, *first_time,
                                 *payload_time;
    size_t                        n;
    ngx_int_t                     rc;
    ngx_str_t                     name, measurement;
    ngx_uint_t                    i, first, found, device_failed;
    ngx_http_kpn_senml_base_t     base;
    ngx_http_kpn_senml_device_t   dev, dev0;

    ngx_memzero(pack, sizeof(ngx_http_kpn_senml_t));

    rc = ngx_http_kpn_senml_load(pool, body, &root, err);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!json_is_array(root)) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "the pack must be an array of records")
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    n = json_array_size(root);

    if (n == 0) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml", "the pack is empty")
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    pack->records = json_array();
    if (pack->records == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_kpn_json_cleanup_add(pool, pack->records) != NGX_OK) {
        pack->records = NULL;
        return NGX_ERROR;
    }

    ngx_memzero(&base, sizeof(ngx_http_kpn_senml_base_t));
    ngx_memzero(&dev0, sizeof(ngx_http_kpn_senml_device_t));

    first = 0;
    found = 0;
    first_time = NULL;
    payload_time = NULL;
    device_failed = 0;

    for (i = 0; i < n; i++) {
        rec = json_array_get(root, i);

        rc = ngx_http_kpn_senml_check(pool, rec, i, err);
        if (rc != NGX_OK) {
            return rc;
        }

        rc = ngx_http_kpn_senml_resolve(pool, rec, i, &base, pack->records,
                                        &resolved, &name, err);
        if (rc != NGX_OK) {
            return rc;
        }

        if (resolved == NULL) {
            /* a record of base fields only */
            continue;
        }

        if (device_failed) {
            /* the SenML checks go on: an invalid pack is the worse error */
            continue;
        }

        rc = ngx_http_kpn_senml_device(pool, &name, i, base.bn != NULL, &dev,
                                       err);
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
            first_time = json_object_get(resolved, "t");

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
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            device_failed = 1;
            continue;
        }

        measurement.data = name.data + dev.prefix;
        measurement.len = name.len - dev.prefix;

        ngx_http_kpn_senml_kpn_field(pack, &measurement, resolved,
                                     &payload_time);
    }

    if (json_array_size(pack->records) == 0) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "the pack has no record with a value")
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    if (device_failed) {
        return NGX_DECLINED;
    }

    pack->time = payload_time ? payload_time : first_time;

    if (ngx_http_kpn_senml_identify(pool, &dev0, pack) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_kpn_senml_texts(pool, pack) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_kpn_senml_load(ngx_pool_t *pool, ngx_str_t *body, json_t **root,
    ngx_http_kpn_error_t *err)
{
    char          *data;
    u_char        *p;
    json_t        *json;
    json_error_t   jerr;

    data = body->len ? (char *) body->data : "";

    json = json_loadb(data, body->len, JSON_REJECT_DUPLICATES, &jerr);

    if (json == NULL) {

        /* jansson may quote raw input bytes; keep the message printable */
        jerr.text[JSON_ERROR_TEXT_LENGTH - 1] = '\0';

        for (p = (u_char *) jerr.text; *p; p++) {
            if (*p < 0x20 || *p >= 0x7f) {
                *p = '?';
            }
        }

        if (jerr.line < 1) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_json", "%s", jerr.text)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_json", "line %d column %d: %s",
                                  jerr.line, jerr.column, jerr.text)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    if (ngx_http_kpn_json_cleanup_add(pool, json) != NGX_OK) {
        return NGX_ERROR;
    }

    *root = json;

    return NGX_OK;
}


/* field types, must-understand keys, value count */

static ngx_int_t
ngx_http_kpn_senml_check(ngx_pool_t *pool, json_t *rec, ngx_uint_t i,
    ngx_http_kpn_error_t *err)
{
    char                        *what;
    size_t                       len;
    json_t                      *value;
    ngx_str_t                    echo;
    const char                  *key;
    ngx_uint_t                   k, values;
    ngx_http_kpn_senml_field_t  *f;

    if (!json_is_object(rec)) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: not an object", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    for (f = ngx_http_kpn_senml_fields; f->name; f++) {

        value = json_object_get(rec, f->name);
        if (value == NULL) {
            continue;
        }

        what = NULL;

        switch (f->type) {

        case NGX_HTTP_KPN_SENML_STRING:
            if (!json_is_string(value)) {
                what = "a string";
            }
            break;

        case NGX_HTTP_KPN_SENML_NUMBER:
            if (!json_is_number(value)) {
                what = "a number";
            }
            break;

        case NGX_HTTP_KPN_SENML_BOOLEAN:
            if (!json_is_boolean(value)) {
                what = "true or false";
            }
            break;

        default: /* NGX_HTTP_KPN_SENML_DATA */
            if (!json_is_string(value)
                || !ngx_http_kpn_senml_is_base64(json_string_value(value),
                                                 json_string_length(value)))
            {
                what = "a base64 string";
            }
            break;
        }

        if (what) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"%s\" must be %s",
                                      i, f->name, what)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }
    }

    value = json_object_get(rec, "bver");

    if (value
        && (json_number_value(value) < 1
            || json_number_value(value) >= NGX_HTTP_KPN_SENML_MAX_EXACT
            || json_number_value(value)
               != (double) (int64_t) json_number_value(value)))
    {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: \"bver\" must be a positive "
                                  "integer", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    /* RFC 8428, 4.2: unknown keys ending in "_" must be understood */

    json_object_foreach(rec, key, value) {
        len = ngx_strlen(key);

        if (len == 0 || key[len - 1] != '_') {
            continue;
        }

        if (ngx_http_kpn_senml_echo(pool, key, len, &echo) != NGX_OK) {
            return NGX_ERROR;
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: unsupported must-understand "
                                  "field \"%V\"", i, &echo)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    values = 0;

    for (k = 0; ngx_http_kpn_senml_values[k]; k++) {
        if (json_object_get(rec, ngx_http_kpn_senml_values[k])) {
            values++;
        }
    }

    if (values > 1) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: more than one value field", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Applies the running base values (RFC 8428, 4.6) and appends the
 * resolved record to records.  *out is NULL for a record of base fields
 * only, which is dropped.
 */

static ngx_int_t
ngx_http_kpn_senml_resolve(ngx_pool_t *pool, json_t *rec, ngx_uint_t i,
    ngx_http_kpn_senml_base_t *base, json_t *records, json_t **out,
    ngx_str_t *name, ngx_http_kpn_error_t *err)
{
    char        *vkey;
    json_t      *value, *n, *u, *t, *s, *ut, *res, *num;
    ngx_int_t    rc;
    ngx_uint_t   k;

    *out = NULL;

    value = json_object_get(rec, "bn");
    if (value) {
        base->bn = value;
    }

    value = json_object_get(rec, "bt");
    if (value) {
        base->bt = value;
    }

    value = json_object_get(rec, "bu");
    if (value) {
        base->bu = value;
    }

    value = json_object_get(rec, "bv");
    if (value) {
        base->bv = value;
    }

    value = json_object_get(rec, "bs");
    if (value) {
        base->bs = value;
    }

    n = json_object_get(rec, "n");
    u = json_object_get(rec, "u");
    t = json_object_get(rec, "t");
    s = json_object_get(rec, "s");
    ut = json_object_get(rec, "ut");

    vkey = NULL;
    value = NULL;

    for (k = 0; ngx_http_kpn_senml_values[k]; k++) {
        value = json_object_get(rec, ngx_http_kpn_senml_values[k]);
        if (value) {
            vkey = ngx_http_kpn_senml_values[k];
            break;
        }
    }

    if (value == NULL && s == NULL) {

        if (n == NULL && u == NULL && t == NULL && ut == NULL) {
            return NGX_OK;
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: no value field "
                                  "(\"v\", \"vs\", \"vb\" or \"vd\")", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    rc = ngx_http_kpn_senml_name(pool, base->bn, n, i, name, err);
    if (rc != NGX_OK) {
        return rc;
    }

    res = json_object();

    /* the pack owns res from here on, on every path */

    if (json_array_append_new(records, res) != 0) {
        return NGX_ERROR;
    }

    if (json_object_set_new(res, "n",
                            json_stringn((char *) name->data, name->len))
        != 0)
    {
        return NGX_ERROR;
    }

    if (u == NULL) {
        u = base->bu;
    }

    if (u && json_object_set(res, "u", u) != 0) {
        return NGX_ERROR;
    }

    if (t || base->bt) {
        rc = ngx_http_kpn_senml_add(base->bt, t, &num);

        if (rc == NGX_DECLINED) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"t\" is out of range", i)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        if (json_object_set_new(res, "t", num) != 0) {
            return NGX_ERROR;
        }
    }

    if (vkey && vkey[1] == '\0') {
        rc = ngx_http_kpn_senml_add(base->bv, value, &num);

        if (rc == NGX_DECLINED) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"v\" is out of range", i)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        if (json_object_set_new(res, "v", num) != 0) {
            return NGX_ERROR;
        }

    } else if (vkey && json_object_set(res, vkey, value) != 0) {
        return NGX_ERROR;
    }

    if (s) {
        rc = ngx_http_kpn_senml_add(base->bs, s, &num);

        if (rc == NGX_DECLINED) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_senml",
                                      "record %ui: \"s\" is out of range", i)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        if (json_object_set_new(res, "s", num) != 0) {
            return NGX_ERROR;
        }
    }

    if (ut) {
        if (ngx_http_kpn_senml_add(NULL, ut, &num) != NGX_OK
            || json_object_set_new(res, "ut", num) != 0)
        {
            return NGX_ERROR;
        }
    }

    *out = res;

    return NGX_OK;
}


/*
 * *out = base + value (either may be NULL) as a new JSON number:
 * an integer when integral and exact, else a real.  NGX_DECLINED when
 * the sum overflows.
 */

static ngx_int_t
ngx_http_kpn_senml_add(json_t *base, json_t *value, json_t **out)
{
    double      d;
    json_int_t  a, b, sum;

    *out = NULL;

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
            *out = json_integer(sum);
            return *out ? NGX_OK : NGX_ERROR;
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
        *out = json_integer((json_int_t) d);

    } else {
        *out = json_real(d);
    }

    return *out ? NGX_OK : NGX_ERROR;
}


/* name = bn + n, checked against RFC 8428, 4.5.1 */

static ngx_int_t
ngx_http_kpn_senml_name(ngx_pool_t *pool, json_t *bn, json_t *n,
    ngx_uint_t i, ngx_str_t *name, ngx_http_kpn_error_t *err)
{
    u_char  *p, *last, c;
    size_t   bn_len, n_len;

    bn_len = bn ? json_string_length(bn) : 0;
    n_len = n ? json_string_length(n) : 0;

    name->len = bn_len + n_len;

    if (name->len == 0) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: the name (\"bn\" + \"n\") "
                                  "is empty", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    name->data = ngx_pnalloc(pool, name->len);
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    p = name->data;

    if (bn_len) {
        p = ngx_cpymem(p, json_string_value(bn), bn_len);
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
                                  "must start with a letter or digit", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    last = name->data + name->len;

    for (p = name->data; p < last; p++) {
        c = *p;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '-' || c == ':' || c == '.' || c == '/' || c == '_')
        {
            continue;
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_senml",
                                  "record %ui: the name (\"bn\" + \"n\") "
                                  "may hold only a-z A-Z 0-9 - : . / _", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The device part of a resolved name: "urn:dev:DEVEUI:<16 hex>:",
 * "urn:dev:IMEI:<15 digits>:" or "urn:dev:DVNUUID:<uuid>:".
 * NGX_DECLINED: err filled (422 unknown_device).
 */

static ngx_int_t
ngx_http_kpn_senml_device(ngx_pool_t *pool, ngx_str_t *name, ngx_uint_t i,
    ngx_uint_t has_bn, ngx_http_kpn_senml_device_t *dev,
    ngx_http_kpn_error_t *err)
{
    u_char      *p, *last, *colon;
    ngx_str_t    echo;
    ngx_uint_t   k;

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
                                      "with a device URN", i)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                  "unknown_device",
                                  "record %ui: the name does not start with "
                                  "\"urn:dev:\"", i)
               == NGX_OK ? NGX_DECLINED : NGX_ERROR;
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

    if (dev->type.len == sizeof("DEVEUI") - 1
        && ngx_strncmp(dev->type.data, "DEVEUI", dev->type.len) == 0)
    {
        if (dev->prefix == 0 || dev->id.len != 16
            || !ngx_http_kpn_is_hex(dev->id.data, dev->id.len))
        {
            return ngx_http_kpn_error(pool, err,
                                      NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                      "unknown_device",
                                      "record %ui: a DEVEUI must be 16 hex "
                                      "digits followed by \":\"", i)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        return NGX_OK;
    }

    if (dev->type.len == sizeof("IMEI") - 1
        && ngx_strncmp(dev->type.data, "IMEI", dev->type.len) == 0)
    {
        for (k = 0; k < dev->id.len; k++) {
            if (dev->id.data[k] < '0' || dev->id.data[k] > '9') {
                break;
            }
        }

        if (dev->prefix == 0 || dev->id.len != 15 || k != dev->id.len) {
            return ngx_http_kpn_error(pool, err,
                                      NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                      "unknown_device",
                                      "record %ui: an IMEI must be 15 digits "
                                      "followed by \":\"", i)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        return NGX_OK;
    }

    if (dev->type.len == sizeof("DVNUUID") - 1
        && ngx_strncmp(dev->type.data, "DVNUUID", dev->type.len) == 0)
    {
        for (k = 0; k < dev->id.len; k++) {
            if (k == 8 || k == 13 || k == 18 || k == 23) {
                if (dev->id.data[k] != '-') {
                    break;
                }

            } else if (!ngx_http_kpn_is_hex(&dev->id.data[k], 1)) {
                break;
            }
        }

        if (dev->prefix == 0 || dev->id.len != 36 || k != dev->id.len) {
            return ngx_http_kpn_error(pool, err,
                                      NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                      "unknown_device",
                                      "record %ui: a DVNUUID must be a UUID "
                                      "followed by \":\"", i)
                   == NGX_OK ? NGX_DECLINED : NGX_ERROR;
        }

        return NGX_OK;
    }

unknown:

    /* the name is checked already: only a-z A-Z 0-9 - : . / _ */

    if (ngx_http_kpn_senml_echo(pool, (char *) dev->type.data, dev->type.len,
                                &echo)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_kpn_error(pool, err, NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                              "unknown_device",
                              "record %ui: unknown device URN type \"%V\" "
                              "(DEVEUI, IMEI or DVNUUID expected)", i, &echo)
           == NGX_OK ? NGX_DECLINED : NGX_ERROR;
}


/* urn, id_type and the normalised device_id of the pack */

static ngx_int_t
ngx_http_kpn_senml_identify(ngx_pool_t *pool,
    ngx_http_kpn_senml_device_t *dev, ngx_http_kpn_senml_t *pack)
{
    u_char      *p;
    size_t       k;
    ngx_uint_t   upper;

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

    upper = (dev->type.len == sizeof("DEVEUI") - 1);

    for (k = 0; k < dev->id.len; k++) {
        *p++ = upper ? ngx_toupper(dev->id.data[k])
                     : ngx_tolower(dev->id.data[k]);
    }

    *p = ':';

    return NGX_OK;
}


static void
ngx_http_kpn_senml_kpn_field(ngx_http_kpn_senml_t *pack,
    ngx_str_t *measurement, json_t *resolved, json_t **payload_time)
{
    json_t  *v;

    if (ngx_http_kpn_senml_is(measurement, "payload")) {
        v = json_object_get(resolved, "vs");

        if (v && pack->payload_hex == NULL) {
            pack->payload_hex = v;
            *payload_time = json_object_get(resolved, "t");
        }

        return;
    }

    v = json_object_get(resolved, "v");
    if (v == NULL) {
        return;
    }

    if (ngx_http_kpn_senml_is(measurement, "port")) {
        if (pack->port == NULL && json_is_integer(v)) {
            pack->port = v;
        }

    } else if (ngx_http_kpn_senml_is(measurement, "FCntUp")) {
        if (pack->fcnt_up == NULL) {
            pack->fcnt_up = v;
        }

    } else if (ngx_http_kpn_senml_is(measurement, "LrrRSSI")) {
        if (pack->rssi == NULL) {
            pack->rssi = v;
        }

    } else if (ngx_http_kpn_senml_is(measurement, "LrrSNR")) {
        if (pack->snr == NULL) {
            pack->snr = v;
        }
    }
}


static ngx_uint_t
ngx_http_kpn_senml_is(ngx_str_t *measurement, char *name)
{
    size_t  len;

    len = ngx_strlen(name);

    return measurement->len == len
           && ngx_strncmp(measurement->data, name, len) == 0;
}


static ngx_int_t
ngx_http_kpn_senml_texts(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack)
{
    if (ngx_http_kpn_senml_text(pool, pack->time, &pack->time_text)
        != NGX_OK
        || ngx_http_kpn_senml_text(pool, pack->port, &pack->port_text)
           != NGX_OK
        || ngx_http_kpn_senml_text(pool, pack->payload_hex,
                                   &pack->payload_hex_text)
           != NGX_OK
        || ngx_http_kpn_senml_text(pool, pack->fcnt_up, &pack->fcnt_up_text)
           != NGX_OK
        || ngx_http_kpn_senml_text(pool, pack->rssi, &pack->rssi_text)
           != NGX_OK
        || ngx_http_kpn_senml_text(pool, pack->snr, &pack->snr_text)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a string's value, or a number as the envelope prints it */

static ngx_int_t
ngx_http_kpn_senml_text(ngx_pool_t *pool, json_t *value, ngx_str_t *text)
{
    size_t  len;

    if (value == NULL) {
        ngx_str_null(text);
        return NGX_OK;
    }

    if (json_is_string(value)) {
        text->data = (u_char *) json_string_value(value);
        text->len = json_string_length(value);
        return NGX_OK;
    }

    len = json_dumpb(value, NULL, 0, NGX_HTTP_KPN_JSON_FLAGS|JSON_ENCODE_ANY);
    if (len == 0) {
        return NGX_ERROR;
    }

    text->data = ngx_pnalloc(pool, len);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    text->len = json_dumpb(value, (char *) text->data, len,
                           NGX_HTTP_KPN_JSON_FLAGS|JSON_ENCODE_ANY);

    return (text->len == len) ? NGX_OK : NGX_ERROR;
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


/*
 * Input quoted in a message: at most NGX_HTTP_KPN_SENML_ECHO_MAX bytes,
 * cut at a UTF-8 character boundary, control characters replaced.
 */

static ngx_int_t
ngx_http_kpn_senml_echo(ngx_pool_t *pool, const char *p, size_t len,
    ngx_str_t *out)
{
    size_t   k;
    u_char  *d;

    if (len > NGX_HTTP_KPN_SENML_ECHO_MAX) {
        len = NGX_HTTP_KPN_SENML_ECHO_MAX;

        while (len > 0 && ((u_char) p[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    d = ngx_pnalloc(pool, len + 1);
    if (d == NULL) {
        return NGX_ERROR;
    }

    for (k = 0; k < len; k++) {
        d[k] = ((u_char) p[k] < 0x20 || p[k] == 0x7f) ? '?' : (u_char) p[k];
    }

    out->data = d;
    out->len = len;

    return NGX_OK;
}


static json_t *
ngx_http_kpn_senml_string(ngx_str_t *s)
{
    return json_stringn(s->len ? (char *) s->data : "", s->len);
}


ngx_int_t
ngx_http_kpn_senml_envelope(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack,
    ngx_str_t *device_type, ngx_str_t *hash_id, ngx_str_t *out)
{
    json_t     *env, *kpn;
    ngx_int_t   rc;

    if (pack->records == NULL) {
        return NGX_ERROR;
    }

    env = json_object();
    if (env == NULL) {
        return NGX_ERROR;
    }

    kpn = json_object();
    if (kpn == NULL) {
        json_decref(env);
        return NGX_ERROR;
    }

    /* json_object_set_new() fails on NULL, and then releases nothing */

    if (json_object_set_new(env, "deviceTypeHashId",
                            ngx_http_kpn_senml_string(hash_id)) != 0
        || json_object_set_new(env, "deviceIdentifier",
                               ngx_http_kpn_senml_string(&pack->device_id))
           != 0
        || json_object_set(env, "kpn", kpn) != 0
        || json_object_set_new(kpn, "urn",
                               ngx_http_kpn_senml_string(&pack->urn)) != 0
        || json_object_set_new(kpn, "idType",
                               ngx_http_kpn_senml_string(&pack->id_type))
           != 0
        || json_object_set_new(kpn, "deviceType",
                               ngx_http_kpn_senml_string(device_type)) != 0
        || (pack->time && json_object_set(kpn, "time", pack->time) != 0)
        || (pack->port && json_object_set(kpn, "port", pack->port) != 0)
        || (pack->payload_hex
            && json_object_set(kpn, "payloadHex", pack->payload_hex) != 0)
        || (pack->fcnt_up
            && json_object_set(kpn, "fCntUp", pack->fcnt_up) != 0)
        || (pack->rssi && json_object_set(kpn, "rssi", pack->rssi) != 0)
        || (pack->snr && json_object_set(kpn, "snr", pack->snr) != 0)
        || json_object_set(env, "records", pack->records) != 0)
    {
        json_decref(kpn);
        json_decref(env);
        return NGX_ERROR;
    }

    rc = ngx_http_kpn_json_dump(pool, env, out);

    json_decref(kpn);
    json_decref(env);

    return rc;
}
