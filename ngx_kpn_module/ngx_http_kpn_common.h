
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * What the three modules of ngx_http_kpn_module.so share: the version and
 * the level at which both halves log what they refuse.  No half's types.
 */


#ifndef _NGX_HTTP_KPN_COMMON_H_INCLUDED_
#define _NGX_HTTP_KPN_COMMON_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_KPN_MODULE_VERSION    "0.1.0"


/* how the token fetch of a downlink ended */
#define NGX_HTTP_KPN_FETCH_NONE        0       /* no fetch */
#define NGX_HTTP_KPN_FETCH_OK          1
#define NGX_HTTP_KPN_FETCH_HTTP_ERROR  2       /* an answer other than 200 */
#define NGX_HTTP_KPN_FETCH_TIMEOUT     3
#define NGX_HTTP_KPN_FETCH_BAD_ANSWER  4       /* 200, but no usable token */
#define NGX_HTTP_KPN_FETCH_ERROR       5       /* no answer */
#define NGX_HTTP_KPN_FETCH_N           5

/* where a downlink's token came from: $kpn_token_cache */
#define NGX_HTTP_KPN_CACHE_NONE        0
#define NGX_HTTP_KPN_CACHE_HIT         1
#define NGX_HTTP_KPN_CACHE_MISS        2
#define NGX_HTTP_KPN_CACHE_STALE       3
#define NGX_HTTP_KPN_CACHE_WAIT        4
#define NGX_HTTP_KPN_CACHE_N           4


/*
 * What a request did, for the metrics: each half fills its record when
 * asked at the log phase (the metrics never read a half's ctx).
 */
typedef struct {
    ngx_uint_t                 status;      /* an outcome, NGX_HTTP_KPN_*;
                                               NONE: the body never came
                                               whole */
    size_t                     received;    /* body bytes, once read */
    size_t                     forwarded;   /* bytes of the body sent on */
    ngx_str_t                  device_type; /* the header's, or empty */
    unsigned                   device_type_known:1;  /* configured */
} ngx_http_kpn_uplink_record_t;

typedef struct {
    ngx_uint_t                 status;      /* an outcome, NGX_HTTP_KPN_* */
    ngx_uint_t                 kpn_status;  /* of the last downlink sent */
    ngx_uint_t                 cache;       /* NGX_HTTP_KPN_CACHE_* */
    u_char                    *fetches;     /* NGX_HTTP_KPN_FETCH_N counts,
                                               by NGX_HTTP_KPN_FETCH_* - 1 */
    time_t                     expires;     /* of the token fetched, or 0 */
    unsigned                   sent:1;      /* a downlink went to KPN */
} ngx_http_kpn_downlink_record_t;

/* fill rec: NGX_DECLINED when r has no uplink (no downlink) of its own */
ngx_int_t ngx_http_kpn_uplink_record(ngx_http_request_t *r,
    ngx_http_kpn_uplink_record_t *rec);
ngx_int_t ngx_http_kpn_downlink_record(ngx_http_request_t *r,
    ngx_http_kpn_downlink_record_t *rec);


/*
 * kpn_reject_log_level of r's location: the level at which both halves
 * log the input they refuse (ngx_http_kpn_uplink_module.c holds the
 * directive)
 */
ngx_uint_t ngx_http_kpn_reject_log_level(ngx_http_request_t *r);


#endif /* _NGX_HTTP_KPN_COMMON_H_INCLUDED_ */
