
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Text and JSON input, without HTTP (ngx_http.h only for the status
 * constants of the error object): the fuzz harnesses link it as it is.
 */


#ifndef _NGX_HTTP_KPN_JSON_H_INCLUDED_
#define _NGX_HTTP_KPN_JSON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_kpn_outcome.h"


/* an error answer: status, stable code and a human message */
typedef struct {
    ngx_uint_t                 status;
    ngx_uint_t                 outcome;     /* NGX_HTTP_KPN_*, the code's */
    ngx_str_t                  code;        /* its text, from the table */
    ngx_str_t                  message;
    char                      *allow;       /* the Allow header of a 405;
                                               NULL: POST */
    char                      *challenge;   /* the WWW-Authenticate header
                                               of a 401, or NULL */
    char                      *hint;        /* a refused credential: what
                                               the log line says to check,
                                               or NULL */
} ngx_http_kpn_error_t;


/*
 * Fills err with an outcome of the table (ngx_http_kpn_outcome.h) and its
 * status, or status when not 0 (the table's other status); fmt is
 * ngx_vslprintf()-style.  The message lives in pool.  Returns
 * NGX_DECLINED, the code of a refused input, so that checks can
 * "return ngx_http_kpn_raise(...)"; NGX_ERROR when out of memory.
 */
ngx_int_t ngx_http_kpn_raise(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t outcome, ngx_uint_t status, const char *fmt, ...);

/* the same with the code as text (the fuzz harnesses' reference parser) */
ngx_int_t ngx_http_kpn_error(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t status, char *code, const char *fmt, ...);

/*
 * The UTF-8 character at p (n > 0 bytes, p[0] >= 0x80) into *c: its length
 * 2..4; 0 when it is not one (a stray continuation byte, an overlong form,
 * a surrogate, past U+10FFFF); -1 when it is cut short by the end.
 */
ngx_int_t ngx_http_kpn_utf8_decode(u_char *p, size_t n, uint32_t *c);

/*
 * Makes text safe for a JSON string and a log line, in place: control
 * characters, bytes that are not UTF-8, surrogates, C1 controls, U+2028,
 * U+2029, bidirectional controls, zero-width characters and the byte
 * order mark become '?' (one a byte); a character cut at the end is
 * dropped.  Returns the new length.
 * ngx_http_kpn_error() applies it to every message.
 */
size_t ngx_http_kpn_printable(u_char *p, size_t len);

/*
 * Input to quote in a message: at most max bytes of in, cut at the start
 * of a character; *cut tells whether anything was left out.
 */
void ngx_http_kpn_echo(ngx_str_t *in, size_t max, ngx_str_t *out,
    ngx_uint_t *cut);

/* the most bytes of input a message quotes */
#define NGX_HTTP_KPN_ECHO_MAX  64

/* hex helpers: all return NGX_ERROR on a non-hex digit */
ngx_int_t ngx_http_kpn_hex_decode(u_char *dst, u_char *src, size_t len);
ngx_uint_t ngx_http_kpn_is_hex(u_char *p, size_t len);

/* 8-4-4-4-12 hex digits with dashes, either case */
ngx_uint_t ngx_http_kpn_is_uuid(u_char *p, size_t len);

/*
 * base64 (SenML's "vd"): RFC 8428 says base64url without padding, KPN
 * sends standard base64 with padding; both alphabets, padding optional
 */
ngx_uint_t ngx_http_kpn_is_base64(u_char *p, size_t len);

/* copies len bytes, ASCII letters upper case (dst may be src) */
void ngx_http_kpn_upper(u_char *dst, u_char *src, size_t len);

/*
 * Strict JSON (duplicate keys rejected), released with the pool (a
 * json_decref() cleanup): not to be kept past the pool. NGX_DECLINED: err
 * filled, 400 NGX_HTTP_KPN_INVALID_JSON "line L column C: <text>" (the text
 * kept printable).  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_kpn_json_load(ngx_pool_t *pool, ngx_str_t *body,
    json_t **root, ngx_http_kpn_error_t *err);

/*
 * A JSON number that is an integer from min to max, written as one or as
 * an integral real (1.0): NGX_OK with *out, else NGX_DECLINED.  min and
 * max within +-2^53, where every integer is exact in a double.
 */
ngx_int_t ngx_http_kpn_json_integer(json_t *v, int64_t min, int64_t max,
    int64_t *out);

/*
 * The same, and the document must be of type (JSON_ARRAY, JSON_OBJECT):
 * else NGX_DECLINED with err 400 code "message".
 */
ngx_int_t ngx_http_kpn_json_load_as(ngx_pool_t *pool, ngx_str_t *body,
    json_type type, ngx_uint_t outcome, char *message, json_t **root,
    ngx_http_kpn_error_t *err);

/* registers json_decref(json) as a pool cleanup; NGX_ERROR on no memory */
ngx_int_t ngx_http_kpn_json_cleanup_add(ngx_pool_t *pool, json_t *json);


#endif /* _NGX_HTTP_KPN_JSON_H_INCLUDED_ */
