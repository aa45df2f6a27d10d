
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
#include "ngx_http_kpn_text.h"



/* objects of more keys are checked for duplicates by sorting */
#define NGX_HTTP_KPN_READER_PAIRWISE  16

/* the most bytes of input an error message quotes */
#define NGX_HTTP_KPN_READER_NEAR         16



static ngx_int_t ngx_http_kpn_reader_value(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth, ngx_http_kpn_reader_value_t *v);
static ngx_int_t ngx_http_kpn_reader_object(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth);
static ngx_int_t ngx_http_kpn_reader_array(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth);
static ngx_inline ngx_int_t ngx_http_kpn_reader_field_value(
    ngx_http_kpn_reader_t *rd, ngx_http_kpn_reader_value_t *v);
static ngx_int_t ngx_http_kpn_reader_push(ngx_http_kpn_reader_t *rd,
    ngx_str_t *key);
static ngx_int_t ngx_http_kpn_reader_unique(ngx_http_kpn_reader_t *rd,
    ngx_uint_t base);
static int ngx_libc_cdecl ngx_http_kpn_reader_cmp(const void *one,
    const void *two);
static ngx_uint_t ngx_http_kpn_reader_field(u_char *key, size_t len);


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
        return ngx_http_kpn_raise(rd->pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                  0,
                                  "line %ui column %ui: %s at the end",
                                  line, (ngx_uint_t) (rd->pos - line_start) + 1,
                                  rd->error);
    }

    /* the input there, made printable by ngx_http_kpn_raise() */

    near.data = rd->pos;
    near.len = rd->last - rd->pos;
    ngx_http_kpn_echo(&near, NGX_HTTP_KPN_READER_NEAR, &echo, &cut);

    return ngx_http_kpn_raise(rd->pool, err, NGX_HTTP_KPN_INVALID_JSON,
                              0,
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

            rc = ngx_http_kpn_reader_field_value(rd, &vals[k]);

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

        rc = ngx_http_kpn_reader_member_end(rd);

        if (rc == NGX_OK) {
            break;
        }

        if (rc != NGX_AGAIN) {
            return rc;
        }
    }

    if (rd->nkeys - base < 2) {
        rd->nkeys = base;
        return NGX_OK;
    }

    return ngx_http_kpn_reader_unique(rd, base);
}


/* a value of a SenML field: strings and numbers without a detour */

static ngx_inline ngx_int_t
ngx_http_kpn_reader_field_value(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v)
{
    ngx_int_t  rc;

    if (rd->pos < rd->last) {

        if (*rd->pos == '"') {
            v->type = NGX_HTTP_KPN_READER_STRING;

            if (ngx_http_kpn_reader_plain_string(rd, &v->str)) {
                return NGX_OK;
            }

            return ngx_http_kpn_reader_string(rd, &v->str);
        }

        if ((*rd->pos >= '0' && *rd->pos <= '9') || *rd->pos == '-') {
            rc = ngx_http_kpn_reader_number(rd, v);

            /* jansson's NUL after a number: see ngx_http_kpn_reader_value() */

            if (rc == NGX_OK && rd->pos < rd->last && *rd->pos == '\0') {
                rd->pos++;
            }

            return rc;
        }
    }

    return ngx_http_kpn_reader_value(rd, 3, v);
}


ngx_int_t
ngx_http_kpn_reader_skip(ngx_http_kpn_reader_t *rd, ngx_uint_t depth)
{
    ngx_http_kpn_reader_value_t  v;

    return ngx_http_kpn_reader_value(rd, depth, &v);
}


ngx_int_t
ngx_http_kpn_reader_read(ngx_http_kpn_reader_t *rd, ngx_uint_t depth,
    ngx_http_kpn_reader_value_t *v)
{
    return ngx_http_kpn_reader_value(rd, depth, v);
}


ngx_int_t
ngx_http_kpn_reader_keep(ngx_http_kpn_reader_t *rd, ngx_str_t *key)
{
    return ngx_http_kpn_reader_push(rd, key);
}


ngx_int_t
ngx_http_kpn_reader_distinct(ngx_http_kpn_reader_t *rd, ngx_uint_t base)
{
    return ngx_http_kpn_reader_unique(rd, base);
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

        if (ngx_http_kpn_reader_plain_string(rd, &v->str)) {
            return NGX_OK;
        }

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

        rc = ngx_http_kpn_reader_member_end(rd);

        if (rc == NGX_OK) {
            return ngx_http_kpn_reader_unique(rd, base);
        }

        if (rc != NGX_AGAIN) {
            return rc;
        }
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


/*
 * The number of values in a JSON array (the records of a pack), counting
 * no further than max + 1: a byte scan of the commas at depth 1 that skips
 * strings.  Not an array: 0.  An invalid text gets some count.
 */

ngx_uint_t
ngx_http_kpn_reader_count(ngx_str_t *body, ngx_uint_t max)
{
    u_char      *p, *last;
    ngx_uint_t   n, depth;

    /* the bytes that matter, outside strings and in them */

    static u_char  outside[256] = {
        ['"'] = 1, [','] = 2, ['{'] = 3, ['['] = 3, ['}'] = 4, [']'] = 4
    };

    static u_char  inside[256] = {
        ['"'] = 1, ['\\'] = 2
    };

    last = body->data + body->len;

    for (p = body->data; p < last; p++) {
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            break;
        }
    }

    if (p == last || *p != '[') {
        return 0;
    }

    n = 1;
    depth = 0;

    for ( ;; ) {

        while (p < last && outside[*p] == 0) {
            p++;
        }

        if (p == last) {
            return n;
        }

        switch (outside[*p++]) {

        case 1:

            /* a string: to its closing quote, escaped bytes skipped */

            for ( ;; ) {

                while (p < last && inside[*p] == 0) {
                    p++;
                }

                if (p == last) {
                    return n;
                }

                if (*p++ == '"') {
                    break;
                }

                if (p++ == last) {
                    /* a trailing backslash */
                    return n;
                }
            }

            break;

        case 2:
            if (depth == 1 && ++n > max) {
                return n;
            }

            break;

        case 3:
            depth++;
            break;

        default: /* 4 */
            if (depth) {
                depth--;
            }

            break;
        }
    }
}
