
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * JSON input and the error object, without HTTP (ngx_http.h only for the
 * status constants of the error object): the fuzz harnesses link it as it
 * is.  The text helpers (UTF-8, hex, quoting) are ngx_http_kpn_text.h.
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

/*
 * Strict JSON (duplicate keys rejected), released with the pool (a
 * json_decref() cleanup): not to be kept past the pool. NGX_DECLINED: err
 * filled, 400 NGX_HTTP_KPN_INVALID_JSON "line L column C: <text>" (the text
 * kept printable).  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_kpn_json_load(ngx_pool_t *pool, ngx_str_t *body,
    json_t **root, ngx_http_kpn_error_t *err);

/* registers json_decref(json) as a pool cleanup; NGX_ERROR on no memory */
ngx_int_t ngx_http_kpn_json_cleanup_add(ngx_pool_t *pool, json_t *json);


#endif /* _NGX_HTTP_KPN_JSON_H_INCLUDED_ */
