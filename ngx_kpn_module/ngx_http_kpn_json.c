
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Text and JSON input, without HTTP: the error object (status, code, a
 * message safe for a JSON string and a log line), quoting input in a
 * message, hex digits, the strict JSON loader (jansson, with its own
 * allocator: the downlink's command and KPN's token answer; the uplink's
 * pack has a reader of its own).  The fuzz harnesses link this file as it
 * is.
 */


#include "ngx_http_kpn_json.h"


#define NGX_HTTP_KPN_ERROR_MESSAGE_MAX  512


static void ngx_http_kpn_json_cleanup(void *data);


ngx_int_t
ngx_http_kpn_utf8_decode(u_char *p, size_t n, uint32_t *cp)
{
    size_t    len, i;
    uint32_t  c, min;

    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4; c = p[0] & 0x07; min = 0x10000;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3; c = p[0] & 0x0f; min = 0x800;

    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2; c = p[0] & 0x1f; min = 0x80;

    } else {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (i == n) {
            return -1;
        }

        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;

    return len;
}


/*
 * The characters beyond ASCII that a log line or a JSON string must not
 * carry as they are: C1 controls (U+0085 is a line break to some
 * readers), U+2028 and U+2029 (line and paragraph separators), the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069: they reorder what a terminal or log viewer shows, so
 * that a line reads other than it is), the zero-width characters and the
 * byte order mark (U+200B..U+200D, U+2060..U+2064, U+FEFF) and the
 * interlinear annotation marks (U+FFF9..U+FFFB).
 */

static ngx_inline ngx_uint_t
ngx_http_kpn_invisible(uint32_t c)
{
    return c <= 0x9f
           || c == 0x061c
           || (c >= 0x200b && c <= 0x200f)
           || (c >= 0x2028 && c <= 0x202e)
           || (c >= 0x2060 && c <= 0x2064)
           || (c >= 0x2066 && c <= 0x2069)
           || c == 0xfeff
           || (c >= 0xfff9 && c <= 0xfffb);
}


size_t
ngx_http_kpn_printable(u_char *p, size_t len)
{
    u_char     *s, *last;
    uint32_t    c;
    ngx_int_t   n;

    last = p + len;

    for (s = p; s < last; /* void */) {

        if (*s < 0x80) {
            if (*s < 0x20 || *s == 0x7f) {
                *s = '?';
            }

            s++;
            continue;
        }

        n = ngx_http_kpn_utf8_decode(s, last - s, &c);

        if (n > 0 && ngx_http_kpn_invisible(c)) {
            /* a C1 control, a line break or a format character */
            n = 0;
        }

        if (n == -1) {
            /* a character cut at the end (truncation): dropped */
            return s - p;
        }

        if (n == 0) {
            /* not UTF-8 (Latin-1 and the like), a surrogate, a C1 control */
            *s++ = '?';
            continue;
        }

        s += n;
    }

    return len;
}


void
ngx_http_kpn_echo(ngx_str_t *in, size_t max, ngx_str_t *out, ngx_uint_t *cut)
{
    size_t  len;

    len = in->len;
    *cut = 0;

    if (len > max) {
        len = max;

        /* back to the start of a character: at most 3 continuation bytes */

        while (len > max - 3 && len > 0 && (in->data[len] & 0xc0) == 0x80) {
            len--;
        }

        *cut = 1;
    }

    out->data = in->data;
    out->len = len;
}


/*
 * The outcome table of ngx_http_kpn_outcome.h, here with the error object
 * (the fuzz harnesses link this file as it is).
 */

#define ngx_http_kpn_uat_UD(name)  NGX_HTTP_KPN_U_##name
#define ngx_http_kpn_uat_U_(name)  NGX_HTTP_KPN_U_##name
#define ngx_http_kpn_uat__D(name)  NGX_HTTP_KPN_U_OTHER
#define ngx_http_kpn_uat___(name)  NGX_HTTP_KPN_U_OTHER
#define ngx_http_kpn_dat_UD(name)  NGX_HTTP_KPN_D_##name
#define ngx_http_kpn_dat_U_(name)  NGX_HTTP_KPN_D_OTHER
#define ngx_http_kpn_dat__D(name)  NGX_HTTP_KPN_D_##name
#define ngx_http_kpn_dat___(name)  NGX_HTTP_KPN_D_OTHER

#define ngx_http_kpn_outcome_entry(name, code, status, alt, class, halves)   \
    { ngx_string(code), status, alt, NGX_HTTP_KPN_LOG_##class,               \
      ngx_http_kpn_uat_##halves(name), ngx_http_kpn_dat_##halves(name) },

ngx_http_kpn_outcome_t  ngx_http_kpn_outcomes[] = {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_entry)
};


#define ngx_http_kpn_ulabel_UD(code)  code,
#define ngx_http_kpn_ulabel_U_(code)  code,
#define ngx_http_kpn_ulabel__D(code)
#define ngx_http_kpn_ulabel___(code)
#define ngx_http_kpn_dlabel_UD(code)  code,
#define ngx_http_kpn_dlabel_U_(code)
#define ngx_http_kpn_dlabel__D(code)  code,
#define ngx_http_kpn_dlabel___(code)

#define ngx_http_kpn_outcome_ulabel(name, code, status, alt, class, halves)  \
    ngx_http_kpn_ulabel_##halves(code)
#define ngx_http_kpn_outcome_dlabel(name, code, status, alt, class, halves)  \
    ngx_http_kpn_dlabel_##halves(code)

char  *ngx_http_kpn_uplink_results[] = {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_ulabel)
    NULL
};

char  *ngx_http_kpn_downlink_results[] = {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_dlabel)
    NULL
};


ngx_uint_t
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


static ngx_int_t ngx_http_kpn_verror(ngx_pool_t *pool,
    ngx_http_kpn_error_t *err, ngx_uint_t outcome, ngx_uint_t status,
    const char *fmt, va_list args);


ngx_int_t
ngx_http_kpn_raise(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t outcome, ngx_uint_t status, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    err->code = ngx_http_kpn_outcomes[outcome].code;

    va_start(args, fmt);
    rc = ngx_http_kpn_verror(pool, err, outcome,
                             status ? status
                                    : ngx_http_kpn_outcomes[outcome].status,
                             fmt, args);
    va_end(args);

    return rc;
}


ngx_int_t
ngx_http_kpn_error(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t status, char *code, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    err->code.data = (u_char *) code;
    err->code.len = ngx_strlen(code);

    va_start(args, fmt);
    rc = ngx_http_kpn_verror(pool, err,
                             ngx_http_kpn_outcome_find(err->code.data,
                                                       err->code.len),
                             status, fmt, args);
    va_end(args);

    return rc;
}


static ngx_int_t
ngx_http_kpn_verror(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t outcome, ngx_uint_t status, const char *fmt, va_list args)
{
    u_char  *p, *last;

    err->status = status;
    err->outcome = outcome;
    err->allow = NULL;
    err->challenge = NULL;
    err->hint = NULL;

    p = ngx_pnalloc(pool, NGX_HTTP_KPN_ERROR_MESSAGE_MAX);
    if (p == NULL) {
        ngx_str_null(&err->message);
        return NGX_ERROR;
    }

    last = ngx_vslprintf(p, p + NGX_HTTP_KPN_ERROR_MESSAGE_MAX, fmt, args);

    /* the message goes into a JSON body and a log line: printable UTF-8 */

    err->message.data = p;
    err->message.len = ngx_http_kpn_printable(p, last - p);

    return NGX_DECLINED;
}



static ngx_int_t
ngx_http_kpn_hex_value(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = (u_char) (c | 0x20);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_http_kpn_hex_decode(u_char *dst, u_char *src, size_t len)
{
    size_t     i;
    ngx_int_t  hi, lo;

    if (len % 2) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i += 2) {
        hi = ngx_http_kpn_hex_value(src[i]);
        lo = ngx_http_kpn_hex_value(src[i + 1]);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) (hi << 4 | lo);
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_kpn_is_hex(u_char *p, size_t len)
{
    while (len--) {
        if (ngx_http_kpn_hex_value(*p++) == NGX_ERROR) {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_kpn_json_load(ngx_pool_t *pool, ngx_str_t *body, json_t **root,
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
            return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                      0, "%s", jerr.text);
        }

        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                  0, "line %d column %d: %s",
                                  jerr.line, jerr.column, jerr.text);
    }

    if (ngx_http_kpn_json_cleanup_add(pool, json) != NGX_OK) {
        return NGX_ERROR;
    }

    *root = json;

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_json_load_as(ngx_pool_t *pool, ngx_str_t *body, json_type type,
    ngx_uint_t outcome, char *message, json_t **root, ngx_http_kpn_error_t *err)
{
    ngx_int_t  rc;

    rc = ngx_http_kpn_json_load(pool, body, root, err);
    if (rc != NGX_OK) {
        return rc;
    }

    if (json_typeof(*root) != type) {
        return ngx_http_kpn_raise(pool, err, outcome, NGX_HTTP_BAD_REQUEST,
                                  "%s", message);
    }

    return NGX_OK;
}


static void
ngx_http_kpn_json_cleanup(void *data)
{
    json_t  *json = data;

    json_decref(json);
}


ngx_int_t
ngx_http_kpn_json_cleanup_add(ngx_pool_t *pool, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_kpn_json_cleanup;
    cln->data = json;

    return NGX_OK;
}


ngx_uint_t
ngx_http_kpn_is_uuid(u_char *p, size_t len)
{
    size_t  k;

    if (len != 36) {
        return 0;
    }

    for (k = 0; k < len; k++) {
        if (k == 8 || k == 13 || k == 18 || k == 23) {
            if (p[k] != '-') {
                return 0;
            }

        } else if (!ngx_http_kpn_is_hex(&p[k], 1)) {
            return 0;
        }
    }

    return 1;
}


/*
 * RFC 8428 says base64url without padding; KPN sends standard base64
 * with padding.  Both alphabets are accepted, padding is optional.
 */

ngx_uint_t
ngx_http_kpn_is_base64(u_char *p, size_t len)
{
    u_char  c;
    size_t  k, pad;

    pad = 0;

    for (k = 0; k < len; k++) {
        c = p[k];

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


void
ngx_http_kpn_upper(u_char *dst, u_char *src, size_t len)
{
    while (len--) {
        *dst++ = ngx_toupper(*src);
        src++;
    }
}


ngx_int_t
ngx_http_kpn_json_integer(json_t *v, int64_t min, int64_t max, int64_t *out)
{
    double      d;
    json_int_t  i;

    if (json_is_integer(v)) {
        i = json_integer_value(v);

        if (i < min || i > max) {
            return NGX_DECLINED;
        }

        *out = i;
        return NGX_OK;
    }

    if (!json_is_real(v)) {
        return NGX_DECLINED;
    }

    /* the range first: the cast of a real out of range is undefined */

    d = json_real_value(v);

    if (!(d >= (double) min && d <= (double) max)
        || d != (double) (int64_t) d)
    {
        return NGX_DECLINED;
    }

    *out = (int64_t) d;

    return NGX_OK;
}
