
/*
 * Copyright (C) ngx_kpn_module developers
 */


#ifndef _NGX_HTTP_KPN_UPLINK_H_INCLUDED_
#define _NGX_HTTP_KPN_UPLINK_H_INCLUDED_


#include "ngx_http_kpn_uplink_module.h"


/* the precontent phase handler of "kpn_uplink on" */
ngx_int_t ngx_http_kpn_uplink_handler(ngx_http_request_t *r);

/*
 * the header and body filters that answer nginx's own 413 of a
 * kpn_uplink location with the JSON error (postconfiguration)
 */
ngx_int_t ngx_http_kpn_uplink_filter_init(ngx_conf_t *cf);

/* adds the uplink $kpn_* variables (preconfiguration) */
ngx_int_t ngx_http_kpn_add_variables(ngx_conf_t *cf);

/* the request's uplink ctx, found again after an internal redirect */
ngx_http_kpn_ctx_t *ngx_http_kpn_get_ctx(ngx_http_request_t *r);


#endif /* _NGX_HTTP_KPN_UPLINK_H_INCLUDED_ */
