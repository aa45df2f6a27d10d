
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The pack's JSON (RFC 8259) read in one pass from the body's bytes,
 * without a tree: a record's SenML fields go straight into a small array
 * of values, every other value is checked and skipped.  It takes and
 * refuses what jansson's json_loadb() with JSON_REJECT_DUPLICATES takes
 * and refuses (an array or object at the top, UTF-8, every escape and
 * surrogate pairs, no NUL, the number grammar, integers of json_int_t,
 * reals as strtod() reads them, jansson's depth limit, no duplicate key,
 * nothing but whitespace after the document); util/fuzz/senml_fuzz.c
 * holds it against jansson.
 *
 * Memory: strings without escapes point into the body; strings with
 * escapes are decoded into one scratch allocation of the body's size
 * (decoding never makes a string longer); keys of objects other than the
 * SenML fields are kept on a stack for the duplicate check.
 */


#include "ngx_http_kpn_senml_reader.h"

#include <errno.h>
#include <math.h>


/* objects of more keys are checked for duplicates by sorting */
#define NGX_HTTP_KPN_READER_PAIRWISE  16

/* up to this many significant digits a real is read without strtod() */
#define NGX_HTTP_KPN_READER_FAST_DIGITS  15

/* the most bytes of input an error message quotes */
#define NGX_HTTP_KPN_READER_NEAR         16

/* a real of a longer text is copied to the pool for strtod() */
#define NGX_HTTP_KPN_READER_NUMBER_BUF   64


#define ngx_http_kpn_reader_fail(rd, p, text)                                \
    ((rd)->pos = (p), (rd)->error = (text), NGX_DECLINED)


static ngx_int_t ngx_http_kpn_reader_value(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth, ngx_http_kpn_reader_value_t *v);
static ngx_int_t ngx_http_kpn_reader_object(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth);
static ngx_int_t ngx_http_kpn_reader_array(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth);
static ngx_int_t ngx_http_kpn_reader_key(ngx_http_kpn_reader_t *rd,
    ngx_str_t *key);
static ngx_int_t ngx_http_kpn_reader_push(ngx_http_kpn_reader_t *rd,
    ngx_str_t *key);
static ngx_int_t ngx_http_kpn_reader_unique(ngx_http_kpn_reader_t *rd,
    ngx_uint_t base);
static int ngx_libc_cdecl ngx_http_kpn_reader_cmp(const void *one,
    const void *two);
static ngx_int_t ngx_http_kpn_reader_string(ngx_http_kpn_reader_t *rd,
    ngx_str_t *out);
static ngx_int_t ngx_http_kpn_reader_escaped(ngx_http_kpn_reader_t *rd,
    u_char *start, u_char *p, ngx_str_t *out);
static ngx_int_t ngx_http_kpn_reader_hex4(u_char *p, uint32_t *c);
static ngx_int_t ngx_http_kpn_reader_number(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v);
static ngx_int_t ngx_http_kpn_reader_real(ngx_http_kpn_reader_t *rd,
    u_char *start, u_char *last, double *out);
static ngx_int_t ngx_http_kpn_reader_literal(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v);
static ngx_uint_t ngx_http_kpn_reader_field(u_char *key, size_t len);


/* bytes of a string that need no look: printable ASCII but '"' and '\' */
static u_char  ngx_http_kpn_reader_plain[256] = {
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


static ngx_inline void
ngx_http_kpn_reader_ws(ngx_http_kpn_reader_t *rd)
{
    u_char  *p;

    for (p = rd->pos; p < rd->last; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            break;
        }
    }

    rd->pos = p;
}


void
ngx_http_kpn_reader_init(ngx_http_kpn_reader_t *rd, ngx_pool_t *pool,
    ngx_str_t *body)
{
    ngx_memzero(rd, sizeof(ngx_http_kpn_reader_t));

    rd->pool = pool;
    rd->start = body->data;
    rd->pos = body->data;
    rd->last = body->data + body->len;
}


ngx_int_t
ngx_http_kpn_reader_open(ngx_http_kpn_reader_t *rd)
{
    ngx_http_kpn_reader_ws(rd);

    if (rd->pos < rd->last) {

        if (*rd->pos == '[') {
            rd->pos++;
            return NGX_OK;
        }

        if (*rd->pos == '{') {
            return NGX_DONE;
        }
    }

    return ngx_http_kpn_reader_fail(rd, rd->pos, "'[' or '{' expected");
}


ngx_int_t
ngx_http_kpn_reader_next(ngx_http_kpn_reader_t *rd)
{
    ngx_http_kpn_reader_ws(rd);

    if (rd->pos == rd->last) {
        return ngx_http_kpn_reader_fail(rd, rd->pos,
                                        "premature end of input");
    }

    if (*rd->pos == ']') {
        rd->pos++;
        return NGX_DONE;
    }

    if (rd->count == 0) {
        rd->count = 1;
        return NGX_OK;
    }

    if (*rd->pos != ',') {
        return ngx_http_kpn_reader_fail(rd, rd->pos, "',' or ']' expected");
    }

    rd->pos++;
    rd->count++;

    ngx_http_kpn_reader_ws(rd);

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_reader_end(ngx_http_kpn_reader_t *rd)
{
    ngx_http_kpn_reader_ws(rd);

    if (rd->pos != rd->last) {
        return ngx_http_kpn_reader_fail(rd, rd->pos, "end of input expected");
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_reader_error(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_error_t *err)
{
    u_char      *p, *line_start;
    ngx_str_t    near, echo;
    ngx_uint_t   line, cut;

    line = 1;
    line_start = rd->start;

    for (p = rd->start; p < rd->pos; p++) {
        if (*p == '\n') {
            line++;
            line_start = p + 1;
        }
    }

    if (rd->pos == rd->last) {
        return ngx_http_kpn_error(rd->pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_json",
                                  "line %ui column %ui: %s at the end",
                                  line, (ngx_uint_t) (rd->pos - line_start) + 1,
                                  rd->error);
    }

    /* the input there, made printable by ngx_http_kpn_error() */

    near.data = rd->pos;
    near.len = rd->last - rd->pos;
    ngx_http_kpn_echo(&near, NGX_HTTP_KPN_READER_NEAR, &echo, &cut);

    return ngx_http_kpn_error(rd->pool, err, NGX_HTTP_BAD_REQUEST,
                              "invalid_json",
                              "line %ui column %ui: %s near '%V%s'",
                              line, (ngx_uint_t) (rd->pos - line_start) + 1,
                              rd->error, &echo, cut ? "..." : "");
}


ngx_int_t
ngx_http_kpn_reader_record(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t *present, ngx_str_t *mu)
{
    ngx_int_t   rc;
    ngx_str_t   key;
    ngx_uint_t  k, base;

    *present = 0;
    mu->len = 0;

    if (rd->pos == rd->last || *rd->pos != '{') {
        rc = ngx_http_kpn_reader_skip(rd, 2);
        return (rc == NGX_OK) ? NGX_DONE : rc;
    }

    rd->pos++;
    base = rd->nkeys;

    ngx_http_kpn_reader_ws(rd);

    if (rd->pos < rd->last && *rd->pos == '}') {
        rd->pos++;
        return NGX_OK;
    }

    for ( ;; ) {

        rc = ngx_http_kpn_reader_key(rd, &key);
        if (rc != NGX_OK) {
            return rc;
        }

        k = ngx_http_kpn_reader_field(key.data, key.len);

        if (k < NGX_HTTP_KPN_SENML_NFIELDS) {

            if (*present & ((ngx_uint_t) 1 << k)) {
                return ngx_http_kpn_reader_fail(rd, rd->pos,
                                                "duplicate object key");
            }

            *present |= (ngx_uint_t) 1 << k;

            rc = ngx_http_kpn_reader_value(rd, 3, &vals[k]);

        } else {

            if (ngx_http_kpn_reader_push(rd, &key) != NGX_OK) {
                return NGX_ERROR;
            }

            /* RFC 8428, 4.2: the first key ending in "_" */

            if (mu->len == 0 && key.len && key.data[key.len - 1] == '_') {
                *mu = key;
            }

            rc = ngx_http_kpn_reader_skip(rd, 3);
        }

        if (rc != NGX_OK) {
            return rc;
        }

        ngx_http_kpn_reader_ws(rd);

        if (rd->pos < rd->last && *rd->pos == ',') {
            rd->pos++;
            ngx_http_kpn_reader_ws(rd);
            continue;
        }

        if (rd->pos < rd->last && *rd->pos == '}') {
            rd->pos++;
            break;
        }

        return ngx_http_kpn_reader_fail(rd, rd->pos, "',' or '}' expected");
    }

    return ngx_http_kpn_reader_unique(rd, base);
}


/* a key and its ':', whitespace skipped after it */

static ngx_int_t
ngx_http_kpn_reader_key(ngx_http_kpn_reader_t *rd, ngx_str_t *key)
{
    ngx_int_t  rc;

    if (rd->pos == rd->last || *rd->pos != '"') {
        return ngx_http_kpn_reader_fail(rd, rd->pos,
                                        "string or '}' expected");
    }

    rc = ngx_http_kpn_reader_string(rd, key);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_http_kpn_reader_ws(rd);

    if (rd->pos == rd->last || *rd->pos != ':') {
        return ngx_http_kpn_reader_fail(rd, rd->pos, "':' expected");
    }

    rd->pos++;

    ngx_http_kpn_reader_ws(rd);

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_reader_skip(ngx_http_kpn_reader_t *rd, ngx_uint_t depth)
{
    ngx_http_kpn_reader_value_t  v;

    return ngx_http_kpn_reader_value(rd, depth, &v);
}


/* a value at depth, whitespace skipped before it */

static ngx_int_t
ngx_http_kpn_reader_value(ngx_http_kpn_reader_t *rd, ngx_uint_t depth,
    ngx_http_kpn_reader_value_t *v)
{
    ngx_int_t  rc;

    if (depth > NGX_HTTP_KPN_READER_MAX_DEPTH) {
        return ngx_http_kpn_reader_fail(rd, rd->pos,
                                        "maximum parsing depth reached");
    }

    if (rd->pos == rd->last) {
        return ngx_http_kpn_reader_fail(rd, rd->pos,
                                        "premature end of input");
    }

    switch (*rd->pos) {

    case '"':
        v->type = NGX_HTTP_KPN_READER_STRING;
        return ngx_http_kpn_reader_string(rd, &v->str);

    case '{':
        v->type = NGX_HTTP_KPN_READER_OBJECT;
        return ngx_http_kpn_reader_object(rd, depth);

    case '[':
        v->type = NGX_HTTP_KPN_READER_ARRAY;
        return ngx_http_kpn_reader_array(rd, depth);

    case 't':
    case 'f':
    case 'n':
        rc = ngx_http_kpn_reader_literal(rd, v);
        break;

    default:
        rc = ngx_http_kpn_reader_number(rd, v);
        break;
    }

    /*
     * jansson reads the byte after a number or a literal and puts it
     * back; a NUL put back is taken for the end of its buffer, and the
     * byte after it read instead: one NUL there is skipped
     */

    if (rc == NGX_OK && rd->pos < rd->last && *rd->pos == '\0') {
        rd->pos++;
    }

    return rc;
}


/* an object other than a record: every key kept for the duplicate check */

static ngx_int_t
ngx_http_kpn_reader_object(ngx_http_kpn_reader_t *rd, ngx_uint_t depth)
{
    ngx_int_t   rc;
    ngx_str_t   key;
    ngx_uint_t  base;

    rd->pos++;
    base = rd->nkeys;

    ngx_http_kpn_reader_ws(rd);

    if (rd->pos < rd->last && *rd->pos == '}') {
        rd->pos++;
        return NGX_OK;
    }

    for ( ;; ) {

        rc = ngx_http_kpn_reader_key(rd, &key);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ngx_http_kpn_reader_push(rd, &key) != NGX_OK) {
            return NGX_ERROR;
        }

        rc = ngx_http_kpn_reader_skip(rd, depth + 1);
        if (rc != NGX_OK) {
            return rc;
        }

        ngx_http_kpn_reader_ws(rd);

        if (rd->pos < rd->last && *rd->pos == ',') {
            rd->pos++;
            ngx_http_kpn_reader_ws(rd);
            continue;
        }

        if (rd->pos < rd->last && *rd->pos == '}') {
            rd->pos++;
            return ngx_http_kpn_reader_unique(rd, base);
        }

        return ngx_http_kpn_reader_fail(rd, rd->pos, "',' or '}' expected");
    }
}


static ngx_int_t
ngx_http_kpn_reader_array(ngx_http_kpn_reader_t *rd, ngx_uint_t depth)
{
    ngx_int_t  rc;

    rd->pos++;

    ngx_http_kpn_reader_ws(rd);

    if (rd->pos < rd->last && *rd->pos == ']') {
        rd->pos++;
        return NGX_OK;
    }

    for ( ;; ) {

        rc = ngx_http_kpn_reader_skip(rd, depth + 1);
        if (rc != NGX_OK) {
            return rc;
        }

        ngx_http_kpn_reader_ws(rd);

        if (rd->pos < rd->last && *rd->pos == ',') {
            rd->pos++;
            ngx_http_kpn_reader_ws(rd);
            continue;
        }

        if (rd->pos < rd->last && *rd->pos == ']') {
            rd->pos++;
            return NGX_OK;
        }

        return ngx_http_kpn_reader_fail(rd, rd->pos, "',' or ']' expected");
    }
}


static ngx_int_t
ngx_http_kpn_reader_push(ngx_http_kpn_reader_t *rd, ngx_str_t *key)
{
    ngx_str_t   *keys;
    ngx_uint_t   n;

    if (rd->nkeys == rd->nalloc) {
        n = rd->nalloc ? 2 * rd->nalloc : 16;

        keys = ngx_palloc(rd->pool, n * sizeof(ngx_str_t));
        if (keys == NULL) {
            return NGX_ERROR;
        }

        if (rd->nkeys) {
            ngx_memcpy(keys, rd->keys, rd->nkeys * sizeof(ngx_str_t));
        }

        rd->keys = keys;
        rd->nalloc = n;
    }

    rd->keys[rd->nkeys++] = *key;

    return NGX_OK;
}


/* the keys above base (one object's) are unique; they are dropped */

static ngx_int_t
ngx_http_kpn_reader_unique(ngx_http_kpn_reader_t *rd, ngx_uint_t base)
{
    ngx_str_t   *keys;
    ngx_uint_t   i, j, n;

    n = rd->nkeys - base;
    rd->nkeys = base;

    if (n < 2) {
        return NGX_OK;
    }

    keys = rd->keys + base;

    if (n > NGX_HTTP_KPN_READER_PAIRWISE) {
        ngx_qsort(keys, n, sizeof(ngx_str_t), ngx_http_kpn_reader_cmp);

        for (i = 1; i < n; i++) {
            if (ngx_http_kpn_reader_cmp(&keys[i - 1], &keys[i]) == 0) {
                goto duplicate;
            }
        }

        return NGX_OK;
    }

    for (i = 1; i < n; i++) {
        for (j = 0; j < i; j++) {
            if (keys[i].len == keys[j].len
                && ngx_memcmp(keys[i].data, keys[j].data, keys[i].len) == 0)
            {
                goto duplicate;
            }
        }
    }

    return NGX_OK;

duplicate:

    /* the position is the object's end: the message says which error */

    return ngx_http_kpn_reader_fail(rd, rd->pos - 1, "duplicate object key");
}


static int ngx_libc_cdecl
ngx_http_kpn_reader_cmp(const void *one, const void *two)
{
    const ngx_str_t  *a = one, *b = two;

    if (a->len != b->len) {
        return (a->len < b->len) ? -1 : 1;
    }

    return a->len ? ngx_memcmp(a->data, b->data, a->len) : 0;
}


/* a string at '"': raw bytes in place, decoded when it has escapes */

static ngx_int_t
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
    uint32_t    c, lo;
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
            if (last - p < 6 || ngx_http_kpn_reader_hex4(p + 2, &c) != NGX_OK)
            {
                return ngx_http_kpn_reader_fail(rd, p, "invalid escape");
            }

            p += 6;

            if (c >= 0xdc00 && c <= 0xdfff) {
                return ngx_http_kpn_reader_fail(rd, p - 6,
                                                "invalid Unicode escape");
            }

            if (c >= 0xd800 && c <= 0xdbff) {

                /* a high surrogate: a low one must follow */

                if (last - p < 6 || p[0] != '\\' || p[1] != 'u'
                    || ngx_http_kpn_reader_hex4(p + 2, &lo) != NGX_OK
                    || lo < 0xdc00 || lo > 0xdfff)
                {
                    return ngx_http_kpn_reader_fail(rd, p - 6,
                                                    "invalid Unicode escape");
                }

                p += 6;
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            }

            if (c == 0) {
                return ngx_http_kpn_reader_fail(rd, p - 6,
                                                "\\u0000 is not allowed");
            }

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
 */

static ngx_int_t
ngx_http_kpn_reader_number(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v)
{
    u_char    *p, *start, *digits, *last;
    uint64_t   u, limit;

    start = rd->pos;
    last = rd->last;
    p = start;

    if (*p == '-') {
        p++;
    }

    digits = p;

    if (p == last || *p < '0' || *p > '9') {
        return ngx_http_kpn_reader_fail(rd, start, "invalid token");
    }

    if (*p++ == '0') {
        if (p < last && *p >= '0' && *p <= '9') {
            return ngx_http_kpn_reader_fail(rd, start, "invalid token");
        }

    } else {
        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p == last || (*p != '.' && *p != 'e' && *p != 'E')) {

        /* an integer: -2^63 .. 2^63-1 */

        limit = (uint64_t) INT64_MAX + (digits != start);
        u = 0;

        for ( /* void */ ; digits < p; digits++) {
            if (u > (limit - (*digits - '0')) / 10) {
                return ngx_http_kpn_reader_fail(rd, start,
                                                "too big integer");
            }

            u = u * 10 + (*digits - '0');
        }

        v->type = NGX_HTTP_KPN_READER_INTEGER;
        v->integer = (digits == start || start[0] != '-')
                     ? (int64_t) u : (int64_t) (0 - u);
        rd->pos = p;

        return NGX_OK;
    }

    if (*p == '.') {
        p++;

        if (p == last || *p < '0' || *p > '9') {
            return ngx_http_kpn_reader_fail(rd, start, "invalid token");
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p < last && (*p == 'e' || *p == 'E')) {
        p++;

        if (p < last && (*p == '+' || *p == '-')) {
            p++;
        }

        if (p == last || *p < '0' || *p > '9') {
            return ngx_http_kpn_reader_fail(rd, start, "invalid token");
        }

        while (p < last && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    v->type = NGX_HTTP_KPN_READER_REAL;
    rd->pos = p;

    return ngx_http_kpn_reader_real(rd, start, p, &v->real);
}


/*
 * A real of the grammar's text from start to last.  Up to 15 significant
 * digits and a power of ten up to 22 either way, both are exact doubles
 * and one multiplication or division rounds as strtod() does (Clinger's
 * fast path); else strtod() reads a copy.
 */

static ngx_int_t
ngx_http_kpn_reader_real(ngx_http_kpn_reader_t *rd, u_char *start,
    u_char *last, double *out)
{
    char        buf[NGX_HTTP_KPN_READER_NUMBER_BUF], *text, *end;
    u_char     *p;
    double      d;
    int64_t     e, x;
    uint64_t    m;
    ngx_uint_t  nd, frac, neg, neg_e;

    p = start;
    neg = (*p == '-');
    p += neg;

    m = 0;
    nd = 0;
    e = 0;
    frac = 0;

    for ( /* void */ ; p < last; p++) {

        if (*p == '.') {
            frac = 1;
            continue;
        }

        if (*p == 'e' || *p == 'E') {
            break;
        }

        if (m == 0 && *p == '0') {
            e -= frac;
            continue;
        }

        if (++nd > NGX_HTTP_KPN_READER_FAST_DIGITS) {
            goto slow;
        }

        m = m * 10 + (*p - '0');
        e -= frac;
    }

    if (p < last) {

        /* the exponent: its sign, then at most 4 digits on the fast path */

        p++;
        neg_e = (*p == '-');

        if (*p == '+' || *p == '-') {
            p++;
        }

        if (last - p > 4) {
            goto slow;
        }

        for (x = 0; p < last; p++) {
            x = x * 10 + (*p - '0');
        }

        e += neg_e ? -x : x;
    }

    if (m == 0) {
        *out = neg ? -0.0 : 0.0;
        return NGX_OK;
    }

    if (e >= 0 && e <= 22) {
        d = (double) m * ngx_http_kpn_reader_pow10[e];

    } else if (e < 0 && e >= -22) {
        d = (double) m / ngx_http_kpn_reader_pow10[-e];

    } else {
        goto slow;
    }

    *out = neg ? -d : d;

    return NGX_OK;

slow:

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


static ngx_int_t
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


/* the index of a SenML key, or NGX_HTTP_KPN_SENML_NFIELDS */

static ngx_uint_t
ngx_http_kpn_reader_field(u_char *key, size_t len)
{
    switch (len) {

    case 1:
        switch (key[0]) {
        case 'n': return NGX_HTTP_KPN_SENML_N;
        case 'u': return NGX_HTTP_KPN_SENML_U;
        case 'v': return NGX_HTTP_KPN_SENML_V;
        case 's': return NGX_HTTP_KPN_SENML_S;
        case 't': return NGX_HTTP_KPN_SENML_T;
        }

        break;

    case 2:
        if (key[0] == 'b') {
            switch (key[1]) {
            case 'n': return NGX_HTTP_KPN_SENML_BN;
            case 't': return NGX_HTTP_KPN_SENML_BT;
            case 'u': return NGX_HTTP_KPN_SENML_BU;
            case 'v': return NGX_HTTP_KPN_SENML_BV;
            case 's': return NGX_HTTP_KPN_SENML_BS;
            }

        } else if (key[0] == 'v') {
            switch (key[1]) {
            case 's': return NGX_HTTP_KPN_SENML_VS;
            case 'b': return NGX_HTTP_KPN_SENML_VB;
            case 'd': return NGX_HTTP_KPN_SENML_VD;
            }

        } else if (key[0] == 'u' && key[1] == 't') {
            return NGX_HTTP_KPN_SENML_UT;
        }

        break;

    case 4:
        if (ngx_strncmp(key, "bver", 4) == 0) {
            return NGX_HTTP_KPN_SENML_BVER;
        }

        break;
    }

    return NGX_HTTP_KPN_SENML_NFIELDS;
}
