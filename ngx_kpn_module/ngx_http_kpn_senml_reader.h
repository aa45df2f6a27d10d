
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The pack's JSON, read straight from the body's bytes (see
 * ngx_http_kpn_senml_reader.c).
 */


#ifndef _NGX_HTTP_KPN_SENML_READER_H_INCLUDED_
#define _NGX_HTTP_KPN_SENML_READER_H_INCLUDED_


#include "ngx_http_kpn_json.h"


/* the fields of a record, in the order of the type checks */
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


/* JSON types of a value, as jansson tells them apart */
#define NGX_HTTP_KPN_READER_STRING    1
#define NGX_HTTP_KPN_READER_INTEGER   2      /* no '.', 'e' or 'E' */
#define NGX_HTTP_KPN_READER_REAL      3
#define NGX_HTTP_KPN_READER_TRUE      4
#define NGX_HTTP_KPN_READER_FALSE     5
#define NGX_HTTP_KPN_READER_NULL      6
#define NGX_HTTP_KPN_READER_OBJECT    7
#define NGX_HTTP_KPN_READER_ARRAY     8

/* jansson's JSON_PARSER_MAX_DEPTH: every value counts, scalars too */
#define NGX_HTTP_KPN_READER_MAX_DEPTH 2048


/* a value of a record's field; a string points into the body or scratch */
typedef struct {
    ngx_uint_t                 type;
    ngx_str_t                  str;
    int64_t                    integer;
    double                     real;
} ngx_http_kpn_reader_value_t;


#define ngx_http_kpn_reader_fail(rd, p, text)                                \
    ((rd)->pos = (p), (rd)->error = (text), NGX_DECLINED)


typedef struct {
    ngx_pool_t                *pool;
    u_char                    *start;
    u_char                    *pos;
    u_char                    *last;

    /* strings with escapes, decoded: one allocation of the body's size */
    u_char                    *scratch;
    u_char                    *scratch_last;

    /* the keys of the objects open, for the duplicate check */
    ngx_str_t                 *keys;
    ngx_uint_t                 nkeys;
    ngx_uint_t                 nalloc;

    ngx_uint_t                 count;     /* values of the pack so far */

    char                      *error;     /* what was wrong, at pos */
} ngx_http_kpn_reader_t;


void ngx_http_kpn_reader_init(ngx_http_kpn_reader_t *rd, ngx_pool_t *pool,
    ngx_str_t *body);

/*
 * The document's first bytes: NGX_OK after "[", NGX_DONE at "{" (not a
 * pack, but JSON to check), NGX_DECLINED: not JSON of an array or object.
 */
ngx_int_t ngx_http_kpn_reader_open(ngx_http_kpn_reader_t *rd);


/*
 * A record: its SenML fields into vals[NGX_HTTP_KPN_SENML_*], bit k of
 * *present for each; *mu: the first other key that ends in "_" (len 0:
 * none).  NGX_OK; NGX_DONE: the value is not an object (checked and
 * skipped); NGX_DECLINED: not JSON; NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_kpn_reader_record(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *vals, ngx_uint_t *present, ngx_str_t *mu);

/* checks a value at depth (the pack's values are at 2) and skips it */
ngx_int_t ngx_http_kpn_reader_skip(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth);

/*
 * For a reader of other JSON documents (the downlink command): a value of
 * any type at depth, checked, its type and scalar into v (strings and
 * numbers as the scalars below read them, NUL quirk included); a key kept
 * for the duplicate check of its object (NGX_OK, NGX_ERROR); the keys kept
 * since base, an object's, are distinct (NGX_OK, NGX_DECLINED), and dropped.
 */
ngx_int_t ngx_http_kpn_reader_read(ngx_http_kpn_reader_t *rd,
    ngx_uint_t depth, ngx_http_kpn_reader_value_t *v);
ngx_int_t ngx_http_kpn_reader_keep(ngx_http_kpn_reader_t *rd,
    ngx_str_t *key);
ngx_int_t ngx_http_kpn_reader_distinct(ngx_http_kpn_reader_t *rd,
    ngx_uint_t base);

/* only whitespace after the document: NGX_OK, else NGX_DECLINED */
ngx_int_t ngx_http_kpn_reader_end(ngx_http_kpn_reader_t *rd);

/*
 * The number of values in a JSON array counted by a scan of the bytes, no
 * further than max + 1 (for JSON, the array's size; 0: not an array).
 */
ngx_uint_t ngx_http_kpn_reader_count(ngx_str_t *body, ngx_uint_t max);

/*
 * The scalars (ngx_http_kpn_senml_scalar.c), each at its first byte:
 * NGX_OK, NGX_DECLINED (not JSON: rd->pos and rd->error tell), NGX_ERROR.
 * A string points into the body, or into the scratch space when it has
 * escapes.
 */
ngx_int_t ngx_http_kpn_reader_string(ngx_http_kpn_reader_t *rd,
    ngx_str_t *out);
ngx_int_t ngx_http_kpn_reader_number(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v);
ngx_int_t ngx_http_kpn_reader_literal(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_reader_value_t *v);

/* printable ASCII but '"' and '\\': the bytes a string takes as they are */
extern u_char  ngx_http_kpn_reader_plain[256];


/*
 * The usual string, of such bytes only, read in place at rd->pos (its
 * '"'): 1; else 0, and ngx_http_kpn_reader_string() reads it.
 */

static ngx_inline ngx_uint_t
ngx_http_kpn_reader_plain_string(ngx_http_kpn_reader_t *rd, ngx_str_t *out)
{
    u_char  *p, *last;

    p = rd->pos + 1;
    last = rd->last;

    /* four bytes to a bound check */

    while (last - p >= 4) {

        if (!ngx_http_kpn_reader_plain[p[0]]) {
            goto end;
        }

        if (!ngx_http_kpn_reader_plain[p[1]]) {
            p += 1;
            goto end;
        }

        if (!ngx_http_kpn_reader_plain[p[2]]) {
            p += 2;
            goto end;
        }

        if (!ngx_http_kpn_reader_plain[p[3]]) {
            p += 3;
            goto end;
        }

        p += 4;
    }

    while (p < last && ngx_http_kpn_reader_plain[*p]) {
        p++;
    }

end:

    if (p == last || *p != '"') {
        return 0;
    }

    out->data = rd->pos + 1;
    out->len = p - out->data;
    rd->pos = p + 1;

    return 1;
}


/* whitespace skipped */

static ngx_inline void
ngx_http_kpn_reader_ws(ngx_http_kpn_reader_t *rd)
{
    u_char  *p;

    /* compact JSON, the usual: no whitespace */

    if (rd->pos < rd->last && *rd->pos > ' ') {
        return;
    }

    for (p = rd->pos; p < rd->last; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            break;
        }
    }

    rd->pos = p;
}


/*
 * To the next value of the pack: NGX_OK at its start (rd->count counts
 * it), NGX_DONE after the closing "]", NGX_DECLINED: not JSON.
 */

static ngx_inline ngx_int_t
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


/*
 * After an object member's value: NGX_AGAIN past a ',' (at the next key),
 * NGX_OK past the closing '}', NGX_DECLINED: not JSON.
 */

static ngx_inline ngx_int_t
ngx_http_kpn_reader_member_end(ngx_http_kpn_reader_t *rd)
{
    /* compact JSON, the usual: the ',' or '}' right after the value */

    if (rd->pos < rd->last && *rd->pos <= ' ') {
        ngx_http_kpn_reader_ws(rd);
    }

    if (rd->pos < rd->last && *rd->pos == ',') {
        rd->pos++;
        ngx_http_kpn_reader_ws(rd);
        return NGX_AGAIN;
    }

    if (rd->pos < rd->last && *rd->pos == '}') {
        rd->pos++;
        return NGX_OK;
    }

    return ngx_http_kpn_reader_fail(rd, rd->pos, "',' or '}' expected");
}


/* a key and its ':', whitespace skipped after it */

static ngx_inline ngx_int_t
ngx_http_kpn_reader_key(ngx_http_kpn_reader_t *rd, ngx_str_t *key)
{
    ngx_int_t  rc;

    if (rd->pos == rd->last || *rd->pos != '"') {
        return ngx_http_kpn_reader_fail(rd, rd->pos,
                                        "string or '}' expected");
    }

    if (!ngx_http_kpn_reader_plain_string(rd, key)) {
        rc = ngx_http_kpn_reader_string(rd, key);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    /* compact JSON, the usual: the ':' right after the key */

    if (rd->pos == rd->last || *rd->pos != ':') {
        ngx_http_kpn_reader_ws(rd);

        if (rd->pos == rd->last || *rd->pos != ':') {
            return ngx_http_kpn_reader_fail(rd, rd->pos, "':' expected");
        }
    }

    rd->pos++;

    ngx_http_kpn_reader_ws(rd);

    return NGX_OK;
}


/* "line L column C: text" of the error, into err (INVALID_JSON, 400) */
ngx_int_t ngx_http_kpn_reader_error(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_error_t *err);


#endif /* _NGX_HTTP_KPN_SENML_READER_H_INCLUDED_ */
