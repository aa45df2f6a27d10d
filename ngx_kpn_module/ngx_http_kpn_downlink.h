
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * ngx_http_kpn_downlink_module: Withthegrid -> KPN Things downlinks.  A
 * content handler that authenticates the caller, validates the command,
 * takes an access token from the shared cache (or fetches one through a
 * subrequest, once for the whole node) and POSTs the SenML downlink
 * through a second subrequest.  Directives and conf:
 * ngx_http_kpn_downlink_module.c; the request path: ngx_http_kpn_downlink.c.
 */


#ifndef _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_
#define _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_


#include "ngx_http_kpn_module.h"
#include "ngx_http_kpn_shm.h"
#include "ngx_http_kpn_subrequest.h"


#define NGX_HTTP_KPN_DEFAULT_AUDIENCE  "4dc82561-f65f-523g-dek9-6c79ec314f02"
#define NGX_HTTP_KPN_MAX_PAYLOAD       242
#define NGX_HTTP_KPN_MAX_PORT          223


typedef struct {
    ngx_shm_zone_t            *zone;        /* kpn_downlink zone=NAME */
    ngx_array_t               *keys;        /* of ngx_str_t */
    ngx_flag_t                 keys_off;
    ngx_str_t                  client_id;
    ngx_str_t                  client_secret;
    ngx_str_t                  audience;
    time_t                     token_refresh;
    time_t                     token_backoff;
    ngx_msec_t                 lock_timeout;
    ngx_str_t                  token_uri;
    ngx_str_t                  token_args;
    ngx_str_t                  downlink_uri;
    ngx_str_t                  downlink_args;
    ngx_uint_t                 max_payload;

    ngx_str_t                  token_body;  /* client-credentials JSON */
    u_char                     key[NGX_HTTP_KPN_SHM_KEY_LEN];
} ngx_http_kpn_downlink_loc_conf_t;


/* ngx_http_kpn_downlink.c: the request path */

/* the content handler of a kpn_downlink location */
ngx_int_t ngx_http_kpn_downlink_handler(ngx_http_request_t *r);

/* registers $kpn_downlink_status and $kpn_token_cache (preconfiguration) */
ngx_int_t ngx_http_kpn_downlink_add_variables(ngx_conf_t *cf);

/* the state of the running subrequest of main request r, or NULL */
ngx_http_kpn_subrequest_t *ngx_http_kpn_downlink_sub(ngx_http_request_t *r);


#endif /* _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_ */
