
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Answers of the module's own handlers, and request header look-up.
 */


#ifndef _NGX_HTTP_KPN_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_KPN_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_kpn_json.h"


/*
 * Sends {"error":"<code>","message":"<message>"} as application/json
 * with err->status; discards an unread request body first.  Extra
 * response headers: "Allow: <err->allow>" for 405 (POST when NULL),
 * "Retry-After: <retry_after>" when retry_after > 0.  Returns an rc for
 * ngx_http_finalize_request().
 */
ngx_int_t ngx_http_kpn_send_error(ngx_http_request_t *r,
    ngx_http_kpn_error_t *err, time_t retry_after);

/*
 * The one refusal of both halves: logs it once at level, as
 * "<who>: [<status> ]<code>: <message><detail>" (the status with
 * NGX_HTTP_KPN_REFUSE_STATUS in flags; detail may be NULL), then answers
 * err as ngx_http_kpn_send_error() does.  Returns its rc.
 */
#define NGX_HTTP_KPN_REFUSE_STATUS  1

ngx_int_t ngx_http_kpn_refuse(ngx_http_request_t *r,
    ngx_http_kpn_error_t *err, ngx_uint_t level, time_t retry_after,
    char *who, ngx_uint_t flags, ngx_str_t *detail);

/*
 * Fills err for a method the location does not take: 405
 * NGX_HTTP_KPN_METHOD_NOT_ALLOWED "method X is not allowed, use <allow>",
 * answered with "Allow: <allow>" (a static string).  Returns as
 * ngx_http_kpn_raise().
 */
ngx_int_t ngx_http_kpn_not_allowed(ngx_http_request_t *r,
    ngx_http_kpn_error_t *err, char *allow);

/*
 * nginx's own 413 of a module location (r->err_status 413, no answer of
 * the module's) as the JSON error NGX_HTTP_KPN_BODY_TOO_LARGE: for the
 * header filter (the JSON header) and the body filter (nginx's page
 * dropped, the JSON in place of its last buffer) of a half.  NGX_ERROR:
 * no memory.
 */
ngx_int_t ngx_http_kpn_too_large_header(ngx_http_request_t *r);
ngx_int_t ngx_http_kpn_too_large_body(ngx_http_request_t *r,
    ngx_chain_t **in);

/* sends a complete response with the given body and content type */
ngx_int_t ngx_http_kpn_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *content_type, ngx_str_t *body);

/*
 * whether the client has closed the connection (or reset the HTTP/2
 * stream), without finalizing anything
 */
ngx_uint_t ngx_http_kpn_client_gone(ngx_http_request_t *r);

/* input header by lower-case name, NULL when absent */
ngx_table_elt_t *ngx_http_kpn_find_header(ngx_http_request_t *r,
    ngx_str_t *lowcase_name);


#endif /* _NGX_HTTP_KPN_RESPONSE_H_INCLUDED_ */
