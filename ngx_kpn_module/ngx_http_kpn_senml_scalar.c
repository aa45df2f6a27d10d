
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The scalars of the SenML reader (ngx_http_kpn_senml_reader.c): strings
 * (UTF-8 checked, escapes and surrogate pairs decoded, no NUL), numbers
 * (the grammar of RFC 8259, integers as jansson's json_int_t, reals as
 * strtod() reads them, bit for bit) and true, false, null.
 */


#include "ngx_http_kpn_senml_reader.h"
#include "ngx_http_kpn_text.h"

#include <errno.h>
#include <math.h>


/* up to this many significant digits a real is read without strtod() */
#define NGX_HTTP_KPN_READER_FAST_DIGITS  15

/* an integer of up to this many digits fits in int64_t unchecked */
#define NGX_HTTP_KPN_READER_INT_DIGITS   18

/* a real of a longer text is copied to the pool for strtod() */
#define NGX_HTTP_KPN_READER_NUMBER_BUF   64


static ngx_int_t ngx_http_kpn_reader_escaped(ngx_http_kpn_reader_t *rd,
    u_char *start, u_char *p, ngx_str_t *out);
static u_char *ngx_http_kpn_reader_unicode(ngx_http_kpn_reader_t *rd,
    u_char *p, u_char **dp);
static ngx_int_t ngx_http_kpn_reader_hex4(u_char *p, uint32_t *c);
static ngx_int_t ngx_http_kpn_reader_integer(u_char *p, u_char *last,
    ngx_uint_t neg, uint64_t *out);
static ngx_inline ngx_int_t ngx_http_kpn_reader_scale(uint64_t m, int64_t e,
    ngx_uint_t neg, double *out);
static ngx_inline u_char *ngx_http_kpn_reader_exponent(u_char *p,
    u_char *last, int64_t *e);
static ngx_int_t ngx_http_kpn_reader_real(ngx_http_kpn_reader_t *rd,
    u_char *start, u_char *last, double *out);


/* bytes of a string that need no look: printable ASCII but '"' and '\' */
u_char  ngx_http_kpn_reader_plain[256] = {
    [0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
};


static double  ngx_http_kpn_reader_pow10[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
    1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};


/* a string at '"': raw bytes in place, decoded when it has escapes */

ngx_int_t
ngx_http_kpn_reader_string(ngx_http_kpn_reader_t *rd, ngx_str_t *out)
{
    u_char     *p, *start, *last;
    uint32_t    c;
    ngx_int_t   n;

    start = rd->pos + 1;
    last = rd->last;

    for (p = start; /* void */ ; /* void */) {

        while (p < last && ngx_http_kpn_reader_plain[*p]) {
            p++;
        }

        if (p == last) {
            return ngx_http_kpn_reader_fail(rd, p, "premature end of input");
        }

        if (*p == '"') {
            out->data = start;
            out->len = p - start;
            rd->pos = p + 1;
            return NGX_OK;
        }

        if (*p == '\\') {
            return ngx_http_kpn_reader_escaped(rd, start, p, out);
        }

        if (*p < 0x20) {
            return ngx_http_kpn_reader_fail(rd, p, "control character");
        }

        n = ngx_http_kpn_utf8_decode(p, last - p, &c);
        if (n <= 0) {
            return ngx_http_kpn_reader_fail(rd, p, "unable to decode byte");
        }

        p += n;
    }
}


/*
 * The rest of a string from its first escape at p, decoded into the
 * scratch space (taken at the first escape of the body).
 */

static ngx_int_t
ngx_http_kpn_reader_escaped(ngx_http_kpn_reader_t *rd, u_char *start,
    u_char *p, ngx_str_t *out)
{
    u_char     *d, *last;
    uint32_t    c;
    ngx_int_t   n;

    last = rd->last;

    if (rd->scratch == NULL) {
        rd->scratch = ngx_pnalloc(rd->pool, last - rd->start);
        if (rd->scratch == NULL) {
            return NGX_ERROR;
        }

        rd->scratch_last = rd->scratch + (last - rd->start);
    }

    d = ngx_cpymem(rd->scratch, start, p - start);

    for ( ;; ) {

        if (p == last) {
            return ngx_http_kpn_reader_fail(rd, p, "premature end of input");
        }

        if (ngx_http_kpn_reader_plain[*p]) {
            *d++ = *p++;
            continue;
        }

        if (*p == '"') {
            break;
        }

        if (*p < 0x20) {
            return ngx_http_kpn_reader_fail(rd, p, "control character");
        }

        if (*p >= 0x80) {
            n = ngx_http_kpn_utf8_decode(p, last - p, &c);
            if (n <= 0) {
                return ngx_http_kpn_reader_fail(rd, p,
                                                "unable to decode byte");
            }

            d = ngx_cpymem(d, p, n);
            p += n;
            continue;
        }

        /* a backslash */

        if (last - p < 2) {
            return ngx_http_kpn_reader_fail(rd, p, "premature end of input");
        }

        switch (p[1]) {
        case '"':  *d++ = '"';  break;
        case '\\': *d++ = '\\'; break;
        case '/':  *d++ = '/';  break;
        case 'b':  *d++ = '\b'; break;
        case 'f':  *d++ = '\f'; break;
        case 'n':  *d++ = '\n'; break;
        case 'r':  *d++ = '\r'; break;
        case 't':  *d++ = '\t'; break;

        case 'u':
            p = ngx_http_kpn_reader_unicode(rd, p, &d);
            if (p == NULL) {
                return NGX_DECLINED;
            }

            continue;

        default:
            return ngx_http_kpn_reader_fail(rd, p, "invalid escape");
        }

        p += 2;
    }

    out->data = rd->scratch;
    out->len = d - rd->scratch;

    rd->scratch = d;
    rd->pos = p + 1;

    return NGX_OK;
}


/*
 * The \u escape at p (with the low surrogate after a high one) written
 * as UTF-8 at *d: the byte after it, NULL when it is not valid.
 */

static u_char *
ngx_http_kpn_reader_unicode(ngx_http_kpn_reader_t *rd, u_char *p, u_char **dp)
{
    u_char    *d, *last;
    uint32_t   c, lo;

    last = rd->last;

    if (last - p < 6 || ngx_http_kpn_reader_hex4(p + 2, &c) != NGX_OK) {
        (void) ngx_http_kpn_reader_fail(rd, p, "invalid escape");
        return NULL;
    }

    if (c >= 0xdc00 && c <= 0xdfff) {
        (void) ngx_http_kpn_reader_fail(rd, p, "invalid Unicode escape");
        return NULL;
    }

    if (c >= 0xd800 && c <= 0xdbff) {

        /* a high surrogate: a low one must follow */

        if (last - p < 12 || p[6] != '\\' || p[7] != 'u'
            || ngx_http_kpn_reader_hex4(p + 8, &lo) != NGX_OK
            || lo < 0xdc00 || lo > 0xdfff)
        {
            (void) ngx_http_kpn_reader_fail(rd, p, "invalid Unicode escape");
            return NULL;
        }

        p += 6;
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
    }

    if (c == 0) {
        (void) ngx_http_kpn_reader_fail(rd, p, "\\u0000 is not allowed");
        return NULL;
    }

    d = *dp;

    if (c < 0x80) {
        *d++ = (u_char) c;

    } else if (c < 0x800) {
        *d++ = (u_char) (0xc0 | (c >> 6));
        *d++ = (u_char) (0x80 | (c & 0x3f));

    } else if (c < 0x10000) {
        *d++ = (u_char) (0xe0 | (c >> 12));
        *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
        *d++ = (u_char) (0x80 | (c & 0x3f));

    } else {
        *d++ = (u_char) (0xf0 | (c >> 18));
        *d++ = (u_char) (0x80 | ((c >> 12) & 0x3f));
        *d++ = (u_char) (0x80 | ((c >> 6) & 0x3f));
        *d++ = (u_char) (0x80 | (c & 0x3f));
    }

    *dp = d;

    return p + 6;
}


static ngx_int_t
ngx_http_kpn_reader_hex4(u_char *p, uint32_t *c)
{
    u_char      ch;
    uint32_t    v;
    ngx_uint_t  i;

    v = 0;

    for (i = 0; i < 4; i++) {
        ch = p[i];

        if (ch >= '0' && ch <= '9') {
            v = (v << 4) | (ch - '0');

        } else {
            ch |= 0x20;

            if (ch < 'a' || ch > 'f') {
                return NGX_ERROR;
            }

            v = (v << 4) | (ch - 'a' + 10);
        }
    }

    *c = v;

    return NGX_OK;
}


/*
 * A number by jansson's rules: an integer (json_int_t, as strtoll() reads
 * it; out of range is an error) when it has no fraction and no exponent,
 * else a real as strtod() reads it (an overflow to infinity is an error).
 * One pass: the grammar, the integer, and the significant digits and
 * power of ten of a real.  A real of up to 15 significant digits and a
 * power of ten up to 22 either way is the quotient or product of two
 * exact doubles, which one division or multiplication rounds as strtod()
 * does (Clinger's fast path); any other is read by strtod().
 */

ngx_int_t
ngx_http_kpn_reader_number(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v)
{
    u_char      *p, *start, *digits, *last;
    int64_t      e;
    uint64_t     m;
    ngx_uint_t   nd, neg;

    start = rd->pos;
    last = rd->last;
    p = start;

    neg = (*p == '-');
    p += neg;
    digits = p;

    if (p == last || *p < '0' || *p > '9') {
        return ngx_http_kpn_reader_fail(rd, start, "invalid token");
    }

    m = 0;

    if (*p == '0') {
        p++;

        if (p < last && *p >= '0' && *p <= '9') {
            return ngx_http_kpn_reader_fail(rd, start, "invalid token");
        }

    } else {
        do {
            m = m * 10 + (*p++ - '0');
        } while (p < last && *p >= '0' && *p <= '9'
                 && (size_t) (p - digits) < NGX_HTTP_KPN_READER_INT_DIGITS);

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    nd = p - digits;

    if (p == last || (*p != '.' && *p != 'e' && *p != 'E')) {

        /* an integer: -2^63 .. 2^63-1; up to 18 digits it fits */

        if (nd > NGX_HTTP_KPN_READER_INT_DIGITS
            && ngx_http_kpn_reader_integer(digits, p, neg, &m) != NGX_OK)
        {
            return ngx_http_kpn_reader_fail(rd, start, "too big integer");
        }

        v->type = NGX_HTTP_KPN_READER_INTEGER;
        v->integer = neg ? (int64_t) (0 - m) : (int64_t) m;
        rd->pos = p;

        return NGX_OK;
    }

    v->type = NGX_HTTP_KPN_READER_REAL;

    /* the integer part's digits are significant unless it is "0" */

    if (m == 0) {
        nd = 0;
    }

    e = 0;

    if (*p == '.') {
        p++;

        if (p == last || *p < '0' || *p > '9') {
            return ngx_http_kpn_reader_fail(rd, start, "invalid token");
        }

        do {
            if (m || *p != '0') {
                nd++;
                m = m * 10 + (*p - '0');
            }

            e--;
            p++;
        } while (p < last && *p >= '0' && *p <= '9'
                 && nd <= NGX_HTTP_KPN_READER_FAST_DIGITS);

        while (p < last && *p >= '0' && *p <= '9') {
            nd++;
            p++;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        p = ngx_http_kpn_reader_exponent(p + 1, last, &e);
        if (p == NULL) {
            return ngx_http_kpn_reader_fail(rd, start, "invalid token");
        }
    }

    rd->pos = p;

    if (nd > NGX_HTTP_KPN_READER_FAST_DIGITS
        || ngx_http_kpn_reader_scale(m, e, neg, &v->real) != NGX_OK)
    {
        return ngx_http_kpn_reader_real(rd, start, p, &v->real);
    }

    return NGX_OK;
}


/* m * 10^e, exact operands rounded once: NGX_DECLINED out of the range */

static ngx_inline ngx_int_t
ngx_http_kpn_reader_scale(uint64_t m, int64_t e, ngx_uint_t neg, double *out)
{
    double  d;

    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return NGX_OK;
    }

    if (e >= 0 && e <= 22) {
        d = (double) m * ngx_http_kpn_reader_pow10[e];

    } else if (e < 0 && e >= -22) {
        d = (double) m / ngx_http_kpn_reader_pow10[-e];

    } else {
        return NGX_DECLINED;
    }

    *out = neg ? -d : d;

    return NGX_OK;
}


/* the digits of a long integer as strtoll() takes them: NGX_ERROR if over */

static ngx_int_t
ngx_http_kpn_reader_integer(u_char *p, u_char *last, ngx_uint_t neg,
    uint64_t *out)
{
    uint64_t  m, limit;

    limit = (uint64_t) INT64_MAX + neg;

    for (m = 0; p < last; p++) {
        if (m > (limit - (*p - '0')) / 10) {
            return NGX_ERROR;
        }

        m = m * 10 + (*p - '0');
    }

    *out = m;

    return NGX_OK;
}


/*
 * The exponent's sign and digits after the 'e' or 'E' at p - 1, added to
 * *e (beyond five digits it stays out of the fast path's range): the
 * byte after it, NULL when it has no digit.
 */

static ngx_inline u_char *
ngx_http_kpn_reader_exponent(u_char *p, u_char *last, int64_t *e)
{
    int64_t     x;
    ngx_uint_t  neg;

    neg = (p < last && *p == '-');

    if (p < last && (*p == '+' || *p == '-')) {
        p++;
    }

    if (p == last || *p < '0' || *p > '9') {
        return NULL;
    }

    x = 0;

    do {
        if (x < 100000) {
            x = x * 10 + (*p - '0');
        }

        p++;
    } while (p < last && *p >= '0' && *p <= '9');

    *e += neg ? -x : x;

    return p;
}


/* a real that strtod() reads: a copy of its text, NUL-terminated */

static ngx_int_t
ngx_http_kpn_reader_real(ngx_http_kpn_reader_t *rd, u_char *start,
    u_char *last, double *out)
{
    char    buf[NGX_HTTP_KPN_READER_NUMBER_BUF], *text, *end;
    double  d;

    if (last - start < NGX_HTTP_KPN_READER_NUMBER_BUF) {
        text = buf;

    } else {
        text = ngx_pnalloc(rd->pool, last - start + 1);
        if (text == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_memcpy(text, start, last - start);
    text[last - start] = '\0';

    errno = 0;
    d = strtod(text, &end);

    if (isinf(d) && errno == ERANGE) {
        return ngx_http_kpn_reader_fail(rd, start, "real number overflow");
    }

    *out = d;

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_reader_literal(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v)
{
    size_t   n;
    u_char  *p;

    p = rd->pos;
    n = rd->last - p;

    if (n >= 4 && ngx_strncmp(p, "true", 4) == 0) {
        v->type = NGX_HTTP_KPN_READER_TRUE;
        rd->pos += 4;
        return NGX_OK;
    }

    if (n >= 5 && ngx_strncmp(p, "false", 5) == 0) {
        v->type = NGX_HTTP_KPN_READER_FALSE;
        rd->pos += 5;
        return NGX_OK;
    }

    if (n >= 4 && ngx_strncmp(p, "null", 4) == 0) {
        v->type = NGX_HTTP_KPN_READER_NULL;
        rd->pos += 4;
        return NGX_OK;
    }

    return ngx_http_kpn_reader_fail(rd, p, "invalid token");
}
