
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


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_kpn_json.h"
#include "ngx_http_kpn_shm.h"
#include "ngx_http_kpn_subrequest.h"
#include "ngx_http_kpn_token.h"
#include "ngx_http_kpn_command.h"


#define NGX_HTTP_KPN_DEFAULT_AUDIENCE  "4dc82561-f65f-523g-dek9-6c79ec314f02"

/* the request of KPN's Beta API (docs/kpn-api.md): the defaults */
#define NGX_HTTP_KPN_DEFAULT_BODY                                            \
    "[{\"bn\":\"urn:dev:DEVEUI:$kpn_downlink_dev_eui:\","                    \
    "\"n\":\"payloadHex\",\"vs\":\"$kpn_downlink_payload\"}]"
#define NGX_HTTP_KPN_DEFAULT_ACCEPT                                          \
    "application/vnd.kpnthings.actuator.v1.response+json"
#define NGX_HTTP_KPN_DEFAULT_CONTENT_TYPE  "application/json"


/* kpn_endpoint: what an internal location is for (none: 0) */
#define NGX_HTTP_KPN_ENDPOINT_TOKEN    1       /* kpn_endpoint token */
#define NGX_HTTP_KPN_ENDPOINT_API      2       /* kpn_endpoint api */


/* where a directive was given, for the checks after the parse */
typedef struct {
    ngx_str_t                  file;
    ngx_uint_t                 line;
} ngx_http_kpn_downlink_pos_t;


/* a header of the downlink request: kpn_downlink_header, or a default */
typedef struct {
    ngx_str_t                  name;
    ngx_http_complex_value_t   value;       /* empty at run time: not sent */
    unsigned                   configured:1;    /* by kpn_downlink_header */
} ngx_http_kpn_downlink_header_t;


typedef struct {
    ngx_shm_zone_t            *zone;        /* kpn_downlink zone=NAME */
    ngx_array_t               *keys;        /* of ngx_str_t; NULL: off */
    ngx_str_t                  client_id;
    ngx_str_t                  client_secret;
    ngx_str_t                  audience;
    time_t                     token_refresh;
    time_t                     token_backoff;
    ngx_msec_t                 lock_timeout;
    ngx_str_t                  token_uri;
    ngx_str_t                  token_args;
    ngx_str_t                  downlink_uri;    /* the path */
    ngx_http_complex_value_t  *downlink_args;   /* after "?"; NULL: the
                                                   default arguments */
    ngx_http_complex_value_t  *body;            /* kpn_downlink_body */
    ngx_array_t               *headers;         /* the headers sent, of
                                         ngx_http_kpn_downlink_header_t */
    ngx_http_complex_value_t  *device_id;       /* kpn_downlink_device_id */
    ngx_uint_t                 max_payload;

    ngx_uint_t                 endpoint;    /* kpn_endpoint, this location
                                               only: NGX_HTTP_KPN_ENDPOINT_* */

    ngx_http_kpn_downlink_pos_t  pos;           /* kpn_downlink */
    ngx_http_kpn_downlink_pos_t  endpoint_pos;  /* kpn_endpoint */
    ngx_http_kpn_downlink_pos_t  token_uri_pos;
    ngx_http_kpn_downlink_pos_t  downlink_uri_pos;

    ngx_str_t                  token_body;  /* client-credentials JSON */
    u_char                     key[NGX_HTTP_KPN_SHM_KEY_LEN];
} ngx_http_kpn_downlink_loc_conf_t;


extern ngx_module_t  ngx_http_kpn_downlink_module;


/* the request path: ngx_http_kpn_downlink.c, ngx_http_kpn_downlink_token.c */

/* how the token fetch of a request ended (ctx->fetch) */
#define NGX_HTTP_KPN_FETCH_NONE        0       /* no fetch */
#define NGX_HTTP_KPN_FETCH_OK          1
#define NGX_HTTP_KPN_FETCH_HTTP_ERROR  2       /* an answer other than 200 */
#define NGX_HTTP_KPN_FETCH_TIMEOUT     3
#define NGX_HTTP_KPN_FETCH_BAD_ANSWER  4       /* 200, but no usable token */
#define NGX_HTTP_KPN_FETCH_ERROR       5       /* no answer */
#define NGX_HTTP_KPN_FETCH_N           5


/* the states of a downlink request */
#define NGX_HTTP_KPN_DL_DECIDE         0
#define NGX_HTTP_KPN_DL_TOKEN          1
#define NGX_HTTP_KPN_DL_WAIT           2
#define NGX_HTTP_KPN_DL_DOWNLINK       3
#define NGX_HTTP_KPN_DL_SEND           4
#define NGX_HTTP_KPN_DL_READING        5
#define NGX_HTTP_KPN_DL_DONE           6



typedef struct {
    ngx_uint_t                 state;
    ngx_str_t                  status;      /* $kpn_downlink_status */
    ngx_str_t                  cache;       /* $kpn_token_cache */

    ngx_http_kpn_command_t     cmd;         /* the validated input */
    ngx_str_t                  device_id;   /* $kpn_downlink_device_id */
    ngx_str_t                  bad_device_id;   /* kpn_downlink_device_id
                                                   gave no UUID */

    /* the downlink request, from the templates */
    ngx_str_t                  body;
    ngx_str_t                  args;
    ngx_keyval_t              *headers;
    ngx_uint_t                 nheaders;

    /* an input variable that a template asked for and did not get */
    ngx_http_kpn_error_t       var_err;
    ngx_int_t                  var_rc;      /* NGX_OK, NGX_DECLINED, or
                                               NGX_ERROR: no memory */
    ngx_uint_t                 var_level;

    ngx_str_t                  token;
    ngx_uint_t                 generation;
    ngx_str_t                  stale;       /* due but valid, while leader */
    ngx_uint_t                 stale_generation;
    u_char                    *token_buf;   /* NGX_HTTP_KPN_TOKEN_MAX */
    ngx_http_kpn_shm_lease_t   lease;

    ngx_http_kpn_subrequest_t  sub;

    ngx_event_t                timer;
    ngx_msec_t                 wait_start;
    ngx_msec_t                 wait_delay;

    ngx_http_kpn_token_t       tok;         /* the parsed token answer */
    ngx_http_kpn_error_t       tok_err;
    ngx_int_t                  tok_rc;      /* NGX_AGAIN: not parsed */

    /* for the metrics */
    ngx_uint_t                 kpn_status;  /* of the last downlink sent */
    ngx_uint_t                 fetch;       /* NGX_HTTP_KPN_FETCH_*: the
                                               last fetch */
    u_char                     fetches[NGX_HTTP_KPN_FETCH_N];  /* how many
                                               ended so, by fetch - 1 (a
                                               302/401 fetches anew) */
    time_t                     expires;     /* of the token fetched */

    ngx_uint_t                 endpoint;    /* the kpn_endpoint that the
                                               running subrequest must reach */

    unsigned                   retried:1;
    unsigned                   misrouted:1; /* it reached another location */
    unsigned                   reached:1;   /* it reached its endpoint */
    unsigned                   sent:1;      /* a downlink went to KPN */
    unsigned                   valid:1;     /* cmd holds the input */
    unsigned                   evaluating:1;    /* the templates */
    unsigned                   device_id_done:1;
} ngx_http_kpn_downlink_ctx_t;


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

/* the state of the running subrequest of main request r, or NULL */
ngx_http_kpn_subrequest_t *ngx_http_kpn_downlink_sub(ngx_http_request_t *r);

/* answers err (logged at level), the request done: an rc to finalize */
ngx_int_t ngx_http_kpn_downlink_fail(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t level, time_t retry_after);


/* ngx_http_kpn_downlink_token.c: the access token of a downlink */

/*
 * DECIDE: a cached token (-> SEND, NGX_AGAIN), the token subrequest
 * posted (-> TOKEN, NGX_DONE), a wait on the timer (-> WAIT, NGX_DONE),
 * or an answer (an rc for ngx_http_finalize_request()).
 */
ngx_int_t ngx_http_kpn_downlink_decide(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx);

/* TOKEN done: a token (-> SEND, NGX_AGAIN), or an answer */
ngx_int_t ngx_http_kpn_downlink_token_done(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx);


#endif /* _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_ */
