
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The access token of a downlink request (ngx_http_kpn_downlink_token.c):
 * the token, its lease and the stale fallback in one struct, and verdicts
 * that the downlink's state machine turns into its states and answers.
 * The token part never answers the request nor sets the machine's state.
 */


#ifndef _NGX_HTTP_KPN_DOWNLINK_TOKEN_H_INCLUDED_
#define _NGX_HTTP_KPN_DOWNLINK_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_kpn_common.h"
#include "ngx_http_kpn_json.h"
#include "ngx_http_kpn_shm.h"
#include "ngx_http_kpn_subrequest.h"
#include "ngx_http_kpn_token.h"


/* the verdicts of the token part */
#define NGX_HTTP_KPN_ACCESS_READY      0       /* access->token is set */
#define NGX_HTTP_KPN_ACCESS_FETCHING   1       /* the token subrequest is
                                                  posted */
#define NGX_HTTP_KPN_ACCESS_WAIT       2       /* ask again in
                                                  access->wait_delay ms */
#define NGX_HTTP_KPN_ACCESS_REFUSED    3       /* answer the refusal */
#define NGX_HTTP_KPN_ACCESS_FAILED     4       /* 500 */


/* the access token of a request: cached, fetched, or the stale one */
typedef struct {
    ngx_str_t                  token;       /* the one to send */
    ngx_uint_t                 generation;
    ngx_str_t                  stale;       /* due but valid, while leader */
    ngx_uint_t                 stale_generation;
    u_char                    *buf;         /* NGX_HTTP_KPN_TOKEN_MAX */
    ngx_http_kpn_shm_lease_t   lease;

    ngx_msec_t                 wait_start;
    ngx_msec_t                 wait_delay;

    ngx_http_kpn_token_t       answer;      /* the parsed token answer */
    ngx_http_kpn_error_t       answer_err;
    ngx_int_t                  answer_rc;   /* NGX_AGAIN: not parsed */

    ngx_uint_t                 cache;       /* $kpn_token_cache:
                                               NGX_HTTP_KPN_CACHE_* */

    /* for the metrics */
    ngx_uint_t                 fetch;       /* NGX_HTTP_KPN_FETCH_*: the
                                               last fetch */
    u_char                     fetches[NGX_HTTP_KPN_FETCH_N];  /* how many
                                               ended so, by fetch - 1 (a
                                               302/401 fetches anew) */
    time_t                     expires;     /* of the token fetched */
} ngx_http_kpn_access_t;


/* a refusal for the state machine to answer */
typedef struct {
    ngx_http_kpn_error_t       err;
    ngx_uint_t                 level;
    time_t                     retry_after;
} ngx_http_kpn_refusal_t;


/*
 * A cached token (READY), the token subrequest posted into sub
 * (FETCHING), a fetch elsewhere to wait for (WAIT), or a refusal
 * (REFUSED, ref filled) or a failure of ours (FAILED).
 */
ngx_uint_t ngx_http_kpn_access_decide(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_subrequest_t *sub,
    ngx_http_kpn_refusal_t *ref);

/*
 * The token subrequest sub is over (misrouted: it reached a location
 * without "kpn_endpoint token"): READY (also the stale fallback),
 * REFUSED or FAILED.
 */
ngx_uint_t ngx_http_kpn_access_done(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_subrequest_t *sub,
    ngx_uint_t misrouted, ngx_http_kpn_refusal_t *ref);


#endif /* _NGX_HTTP_KPN_DOWNLINK_TOKEN_H_INCLUDED_ */
