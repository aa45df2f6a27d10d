
/*
 * Copyright (C) ngx_kpn_module developers
 */


#ifndef _NGX_HTTP_KPN_UTIL_H_INCLUDED_
#define _NGX_HTTP_KPN_UTIL_H_INCLUDED_


#include "ngx_http_kpn_module.h"


/* an error answer: status, stable code and a human message */
typedef struct {
    ngx_uint_t                 status;
    ngx_str_t                  code;
    ngx_str_t                  message;
} ngx_http_kpn_error_t;


/*
 * Fills err; fmt is ngx_vslprintf()-style.  The message lives in pool.
 * Returns NGX_DECLINED, the code of a refused input, so that checks can
 * "return ngx_http_kpn_error(...)"; NGX_ERROR when out of memory.
 */
ngx_int_t ngx_http_kpn_error(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t status, char *code, const char *fmt, ...);

/*
 * Sends {"error":"<code>","message":"<message>"} as application/json
 * with err->status; discards an unread request body first.  Extra
 * response headers: "Allow: POST" for 405, "Retry-After: <retry_after>"
 * when retry_after > 0.  Returns an rc for ngx_http_finalize_request().
 */
ngx_int_t ngx_http_kpn_send_error(ngx_http_request_t *r,
    ngx_http_kpn_error_t *err, time_t retry_after);

/* sends a complete response with the given body and content type */
ngx_int_t ngx_http_kpn_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *content_type, ngx_str_t *body);

/* input header by lower-case name, NULL when absent */
ngx_table_elt_t *ngx_http_kpn_find_header(ngx_http_request_t *r,
    ngx_str_t *lowcase_name);

/*
 * Reads a file of one entry per line at configuration time: blank lines
 * and lines starting with '#' are skipped, surrounding white space and
 * CR are trimmed.  Appends ngx_str_t entries to *lines (created when
 * NULL).  Fails (EMERG, naming the directive) when the file cannot be
 * read or holds no entry.  Contents are never logged.
 */
char *ngx_http_kpn_conf_read_lines(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *file, ngx_array_t **lines);

/*
 * Makes text safe for a JSON string and a log line, in place: control
 * characters, bytes that are not UTF-8, surrogates and C1 controls become
 * '?'; a character cut at the end is dropped.  Returns the new length.
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

/*
 * Strict JSON (duplicate keys rejected), released with the pool.
 * NGX_DECLINED: err filled, 400 invalid_json "line L column C: <text>"
 * (the text kept printable).  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_kpn_json_load(ngx_pool_t *pool, ngx_str_t *body,
    json_t **root, ngx_http_kpn_error_t *err);

/* registers json_decref(json) as a pool cleanup; NGX_ERROR on no memory */
ngx_int_t ngx_http_kpn_json_cleanup_add(ngx_pool_t *pool, json_t *json);



#endif /* _NGX_HTTP_KPN_UTIL_H_INCLUDED_ */
