
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The Withthegrid envelope, written by hand into one pool buffer from a
 * resolved pack: a length pass, then the write pass.  Compact JSON;
 * strings escaped by ngx_escape_json(); numbers in the shortest of 15, 16
 * or 17 significant digits that reads back as the same value.
 */


#include "ngx_http_kpn_envelope.h"


/* the text of the last real written: the times of a pack repeat */
typedef struct {
    double                     real;
    u_char                    *data;     /* NULL: nothing yet */
    size_t                     len;
} ngx_http_kpn_senml_cache_t;


static size_t ngx_http_kpn_senml_envelope_len(ngx_http_kpn_senml_t *pack,
    ngx_str_t *device_type, ngx_str_t *hash_id);
static u_char *ngx_http_kpn_senml_write_head(u_char *p,
    ngx_http_kpn_senml_t *pack, ngx_str_t *device_type, ngx_str_t *hash_id,
    ngx_http_kpn_senml_cache_t *cache);
static u_char *ngx_http_kpn_senml_write_record(u_char *p,
    ngx_http_kpn_senml_record_t *r, ngx_http_kpn_senml_cache_t *cache);
static size_t ngx_http_kpn_senml_escape_len(ngx_str_t *s);
static u_char *ngx_http_kpn_senml_write_string(u_char *p, ngx_str_t *s);
static u_char *ngx_http_kpn_senml_write_number(u_char *p,
    ngx_http_kpn_senml_number_t *num, ngx_http_kpn_senml_cache_t *cache);
static u_char *ngx_http_kpn_senml_write_integer(u_char *p, int64_t n);
static u_char *ngx_http_kpn_senml_write_short(u_char *p, double real);


ngx_int_t
ngx_http_kpn_senml_envelope(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack,
    ngx_str_t *device_type, ngx_str_t *hash_id, ngx_str_t *out)
{
    u_char                      *p;
    size_t                       len;
    ngx_uint_t                   i;
    ngx_http_kpn_senml_cache_t   cache;

    if (pack->records == NULL) {
        return NGX_ERROR;
    }

    len = ngx_http_kpn_senml_envelope_len(pack, device_type, hash_id);

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    /* the time of the pack is printed already, and repeats in records */

    if (pack->time && !pack->time->is_integer) {
        cache.real = pack->time->real;
        cache.data = pack->time_text.data;
        cache.len = pack->time_text.len;

    } else {
        cache.data = NULL;
    }

    p = ngx_http_kpn_senml_write_head(out->data, pack, device_type, hash_id,
                                      &cache);

    for (i = 0; i < pack->nrecords; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_http_kpn_senml_write_record(p, &pack->records[i], &cache);
    }

    *p++ = ']';
    *p++ = '}';

    out->len = p - out->data;

    if (out->len > len) {
        /* the bound is wrong: memory is overwritten already */
        ngx_log_error(NGX_LOG_ALERT, pool->log, 0,
                      "kpn senml: envelope of %uz bytes, %uz expected",
                      out->len, len);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The length pass: an upper bound, every number
 * NGX_HTTP_KPN_SENML_NUMBER_LEN bytes; it follows the write passes below
 * field by field.
 */

static size_t
ngx_http_kpn_senml_envelope_len(ngx_http_kpn_senml_t *pack,
    ngx_str_t *device_type, ngx_str_t *hash_id)
{
    size_t                        len;
    ngx_uint_t                    i;
    ngx_http_kpn_senml_record_t  *r;

    len = sizeof("{\"deviceTypeHashId\":\"\",\"deviceIdentifier\":\"\","
                 "\"kpn\":{\"urn\":\"\",\"idType\":\"\",\"deviceType\":\"\","
                 "\"time\":,\"port\":,\"payloadHex\":\"\",\"fCntUp\":,"
                 "\"rssi\":,\"snr\":},\"records\":[]}")
          + 5 * NGX_HTTP_KPN_SENML_NUMBER_LEN
          + ngx_http_kpn_senml_escape_len(hash_id)
          + pack->device_id.len + pack->urn.len + pack->id_type.len
          + ngx_http_kpn_senml_escape_len(device_type)
          + sizeof(",\"messageId\":\"\"") + pack->message_id.len;

    if (pack->payload_hex) {
        len += ngx_http_kpn_senml_escape_len(pack->payload_hex);
    }

    for (i = 0; i < pack->nrecords; i++) {
        r = &pack->records[i];

        len += sizeof("{\"n\":\"\",\"u\":\"\",\"t\":,\"vs\":\"\",\"s\":,"
                      "\"ut\":},")
               + 4 * NGX_HTTP_KPN_SENML_NUMBER_LEN + r->name.len;

        if (r->has_unit) {
            len += ngx_http_kpn_senml_escape_len(&r->unit);
        }

        if (r->value_type == NGX_HTTP_KPN_SENML_STRING
            || r->value_type == NGX_HTTP_KPN_SENML_DATA)
        {
            len += ngx_http_kpn_senml_escape_len(&r->string);
        }
    }

    return len;
}


/* the write pass of the head: the device, KPN's part, up to "records":[ */

static u_char *
ngx_http_kpn_senml_write_head(u_char *p, ngx_http_kpn_senml_t *pack,
    ngx_str_t *device_type, ngx_str_t *hash_id,
    ngx_http_kpn_senml_cache_t *cache)
{
    /* device_id, urn and id_type hold name characters: nothing to escape */

    p = ngx_cpymem(p, "{\"deviceTypeHashId\":",
                   sizeof("{\"deviceTypeHashId\":") - 1);
    p = ngx_http_kpn_senml_write_string(p, hash_id);

    p = ngx_cpymem(p, ",\"deviceIdentifier\":\"",
                   sizeof(",\"deviceIdentifier\":\"") - 1);
    p = ngx_cpymem(p, pack->device_id.data, pack->device_id.len);

    p = ngx_cpymem(p, "\",\"kpn\":{\"urn\":\"",
                   sizeof("\",\"kpn\":{\"urn\":\"") - 1);
    p = ngx_cpymem(p, pack->urn.data, pack->urn.len);

    p = ngx_cpymem(p, "\",\"idType\":\"", sizeof("\",\"idType\":\"") - 1);
    p = ngx_cpymem(p, pack->id_type.data, pack->id_type.len);

    p = ngx_cpymem(p, "\",\"deviceType\":",
                   sizeof("\",\"deviceType\":") - 1);
    p = ngx_http_kpn_senml_write_string(p, device_type);

    if (pack->time) {
        p = ngx_cpymem(p, ",\"time\":", sizeof(",\"time\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, pack->time, cache);
    }

    if (pack->port) {
        p = ngx_cpymem(p, ",\"port\":", sizeof(",\"port\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, pack->port, cache);
    }

    if (pack->payload_hex) {
        p = ngx_cpymem(p, ",\"payloadHex\":", sizeof(",\"payloadHex\":") - 1);
        p = ngx_http_kpn_senml_write_string(p, pack->payload_hex);
    }

    if (pack->fcnt_up) {
        p = ngx_cpymem(p, ",\"fCntUp\":", sizeof(",\"fCntUp\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, pack->fcnt_up, cache);
    }

    if (pack->rssi) {
        p = ngx_cpymem(p, ",\"rssi\":", sizeof(",\"rssi\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, pack->rssi, cache);
    }

    if (pack->snr) {
        p = ngx_cpymem(p, ",\"snr\":", sizeof(",\"snr\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, pack->snr, cache);
    }

    /* the message id is hex digits: nothing to escape */

    if (pack->message_id.len) {
        p = ngx_cpymem(p, ",\"messageId\":\"", sizeof(",\"messageId\":\"") - 1);
        p = ngx_cpymem(p, pack->message_id.data, pack->message_id.len);
        *p++ = '"';
    }

    p = ngx_cpymem(p, "},\"records\":[", sizeof("},\"records\":[") - 1);

    return p;
}


/* the write pass of one record */

static u_char *
ngx_http_kpn_senml_write_record(u_char *p, ngx_http_kpn_senml_record_t *r,
    ngx_http_kpn_senml_cache_t *cache)
{
    p = ngx_cpymem(p, "{\"n\":\"", sizeof("{\"n\":\"") - 1);
    p = ngx_cpymem(p, r->name.data, r->name.len);
    *p++ = '"';

    if (r->has_unit) {
        p = ngx_cpymem(p, ",\"u\":", sizeof(",\"u\":") - 1);
        p = ngx_http_kpn_senml_write_string(p, &r->unit);
    }

    if (r->has_time) {
        p = ngx_cpymem(p, ",\"t\":", sizeof(",\"t\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, &r->time, cache);
    }

    switch (r->value_type) {

    case NGX_HTTP_KPN_SENML_NUMBER:
        p = ngx_cpymem(p, ",\"v\":", sizeof(",\"v\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, &r->value, cache);
        break;

    case NGX_HTTP_KPN_SENML_STRING:
        p = ngx_cpymem(p, ",\"vs\":", sizeof(",\"vs\":") - 1);
        p = ngx_http_kpn_senml_write_string(p, &r->string);
        break;

    case NGX_HTTP_KPN_SENML_BOOLEAN:
        if (r->boolean) {
            p = ngx_cpymem(p, ",\"vb\":true", sizeof(",\"vb\":true") - 1);

        } else {
            p = ngx_cpymem(p, ",\"vb\":false",
                           sizeof(",\"vb\":false") - 1);
        }

        break;

    case NGX_HTTP_KPN_SENML_DATA:
        p = ngx_cpymem(p, ",\"vd\":", sizeof(",\"vd\":") - 1);
        p = ngx_http_kpn_senml_write_string(p, &r->string);
        break;
    }

    if (r->has_sum) {
        p = ngx_cpymem(p, ",\"s\":", sizeof(",\"s\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, &r->sum, cache);
    }

    if (r->has_update_time) {
        p = ngx_cpymem(p, ",\"ut\":", sizeof(",\"ut\":") - 1);
        p = ngx_http_kpn_senml_write_number(p, &r->update_time, cache);
    }

    *p++ = '}';

    return p;
}


u_char *
ngx_http_kpn_envelope_number(u_char *p, ngx_http_kpn_senml_number_t *num)
{
    return ngx_http_kpn_senml_write_number(p, num, NULL);
}


/*
 * The length of s escaped; ngx_escape_json() escapes exactly as
 * json_dumpb() does: '"', '\\' and the control characters, as \b \f \n
 * \r \t or \u00XX, the rest as is
 */

static size_t
ngx_http_kpn_senml_escape_len(ngx_str_t *s)
{
    return s->len + ngx_escape_json(NULL, s->data, s->len);
}


/* "s", escaped; room for 2 + ngx_http_kpn_senml_escape_len() bytes */

static u_char *
ngx_http_kpn_senml_write_string(u_char *p, ngx_str_t *s)
{
    *p++ = '"';
    p = (u_char *) ngx_escape_json(p, s->data, s->len);
    *p++ = '"';

    return p;
}


/*
 * A number in the shortest form that reads back as the same value: an
 * integer with "%lld"; a real with "%.15g" (json_dumpb() with
 * JSON_REAL_PRECISION(15) prints the same), or "%.16g" or "%.17g" when
 * 15 digits would read back as another double (DBL_MAX with 15 digits is
 * past DBL_MAX: infinity or an overflow error for the reader), ".0"
 * appended when it looks like an integer, the exponent without "+" and
 * leading zeros.
 * Room for NGX_HTTP_KPN_SENML_NUMBER_LEN bytes.  cache, if not NULL,
 * holds the last real written, which is reused when it repeats.
 */

static u_char *
ngx_http_kpn_senml_write_number(u_char *p, ngx_http_kpn_senml_number_t *num,
    ngx_http_kpn_senml_cache_t *cache)
{
    int      n, prec;
    char     buf[NGX_HTTP_KPN_SENML_NUMBER_LEN];
    u_char  *s, *e, *last, *start;

    if (num->is_integer) {
        return ngx_http_kpn_senml_write_integer(p, num->integer);
    }

    /* a real is never 0 (nor -0) nor NaN: integral reals are integers */

    if (cache && cache->data && cache->real == num->real) {
        return ngx_cpymem(p, cache->data, cache->len);
    }

    start = p;

    p = ngx_http_kpn_senml_write_short(start, num->real);

    if (p) {
        goto done;
    }

    p = start;

    for (prec = 15; ; prec++) {
        n = snprintf(buf, sizeof(buf), "%.*g", prec, num->real);

        if (n <= 0 || n >= (int) sizeof(buf) - 2) {
            /* not for a finite double */
            return ngx_cpymem(p, "0.0", sizeof("0.0") - 1);
        }

        /* 17 significant digits always read back exactly */

        if (prec == 17 || strtod(buf, NULL) == num->real) {
            break;
        }
    }

    s = (u_char *) buf;
    last = s + n;

    e = ngx_strlchr(s, last, 'e');

    if (e == NULL) {
        p = ngx_cpymem(p, s, n);

        if (ngx_strlchr(s, last, '.') == NULL) {
            *p++ = '.';
            *p++ = '0';
        }

    } else {
        p = ngx_cpymem(p, s, e + 1 - s);

        s = e + 1;

        if (*s == '-') {
            *p++ = '-';
            s++;

        } else if (*s == '+') {
            s++;
        }

        while (s < last - 1 && *s == '0') {
            s++;
        }

        p = ngx_cpymem(p, s, last - s);
    }

done:

    if (cache) {
        cache->real = num->real;
        cache->data = start;
        cache->len = p - start;
    }

    return p;
}


/* "%lld" */

static u_char *
ngx_http_kpn_senml_write_integer(u_char *p, int64_t n)
{
    u_char    buf[NGX_INT64_LEN], *d, *last;
    uint64_t  u;

    if (n < 0) {
        *p++ = '-';
        u = 0 - (uint64_t) n;

    } else {
        u = (uint64_t) n;
    }

    last = buf + sizeof(buf);
    d = last;

    do {
        *--d = (u_char) ('0' + u % 10);
        u /= 10;
    } while (u);

    return ngx_cpymem(p, d, last - d);
}


/*
 * The common real without snprintf() and strtod(): when a decimal of at
 * most 15 significant digits reads back as real, "%.15g" prints exactly
 * that decimal (real is within half a unit in the last place of it, far
 * less than half a step of 15 digits), and it is what the loop below
 * keeps.  The decimal is m / 10^k with the smallest k, found by scaling:
 * m and 10^k (k <= 18) are exact doubles, so m / 10^k is the double
 * nearest to the decimal, which is what strtod() reads; an inexact
 * product only makes a miss, never a wrong text.  Written as "%.15g"
 * writes it without an exponent (from 1e-4 to below 1e15), trailing zeros
 * dropped.  NULL: not such a number (more digits, or written with an
 * exponent): the caller's loop decides.
 */

static u_char *
ngx_http_kpn_senml_write_short(u_char *p, double real)
{
    u_char      buf[NGX_INT64_LEN], *d, *last;
    double      a, scale, x;
    int64_t     m;
    ngx_int_t   k, n, exp, i;

    a = (real < 0) ? -real : real;

    if (!(a >= 1e-4 && a < 1e15)) {
        return NULL;
    }

    scale = 1.0;

    for (k = 1; /* void */ ; k++) {

        if (k > 18) {
            return NULL;
        }

        scale *= 10.0;
        x = a * scale;

        if (x >= 1e15) {
            /* 16 or more significant digits */
            return NULL;
        }

        m = (int64_t) (x + 0.5);

        if ((double) m / scale == a) {
            break;
        }
    }

    last = buf + sizeof(buf);
    d = last;

    do {
        *--d = (u_char) ('0' + m % 10);
        m /= 10;
    } while (m);

    n = last - d;
    exp = n - 1 - k;

    if (exp < -4) {
        return NULL;
    }

    /* the fraction's trailing zeros (not at the smallest k, but safe) */

    while (k && last[-1] == '0') {
        last--;
        n--;
        k--;
    }

    if (real < 0) {
        *p++ = '-';
    }

    if (exp >= 0) {
        p = ngx_cpymem(p, d, exp + 1);
        *p++ = '.';

        if (k == 0) {
            *p++ = '0';

        } else {
            p = ngx_cpymem(p, d + exp + 1, k);
        }

        return p;
    }

    *p++ = '0';
    *p++ = '.';

    for (i = exp + 1; i < 0; i++) {
        *p++ = '0';
    }

    return ngx_cpymem(p, d, n);
}
