
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The request path of ngx_http_kpn_downlink_module (ngx_http_kpn_downlink.c):
 * a content handler that authenticates the caller, validates the command,
 * takes an access token from the shared cache (or fetches one through a
 * subrequest, once for the whole node) and POSTs the SenML downlink
 * through a second subrequest.  The conf and ctx types:
 * ngx_http_kpn_downlink_module.h.
 */


#ifndef _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_
#define _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_kpn_downlink_module.h"


/* ngx_http_kpn_downlink.c */

/* the content handler of a kpn_downlink location */
ngx_int_t ngx_http_kpn_downlink_handler(ngx_http_request_t *r);

/*
 * registers $kpn_downlink_status, $kpn_token_cache and the variables of
 * the input, $kpn_downlink_* (preconfiguration)
 */
ngx_int_t ngx_http_kpn_downlink_add_variables(ngx_conf_t *cf);

/*
 * the rewrite phase handler that refuses a token or downlink subrequest
 * in a location without the kpn_endpoint it needs, before it goes anywhere
 */
ngx_int_t ngx_http_kpn_downlink_endpoint_handler(ngx_http_request_t *r);

/*
 * the header and body filters that answer nginx's own 413 of a
 * kpn_downlink location with the JSON error (postconfiguration)
 */
ngx_int_t ngx_http_kpn_downlink_filter_init(ngx_conf_t *cf);

/*
 * ngx_http_kpn_downlink_vars.c: the input that the templates of the
 * downlink request asked for and did not get (ctx->missing): NGX_DECLINED
 * with err and its log level; NGX_OK: none
 */
ngx_int_t ngx_http_kpn_downlink_missing(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t *level);

/* the state of the running subrequest of main request r, or NULL */
ngx_http_kpn_subrequest_t *ngx_http_kpn_downlink_sub(ngx_http_request_t *r);

#endif /* _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_ */
