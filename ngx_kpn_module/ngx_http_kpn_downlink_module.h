
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * ngx_http_kpn_downlink_module: Withthegrid -> KPN Things downlinks.  Its
 * conf and request ctx.  Directives and conf:
 * ngx_http_kpn_downlink_module.c; the request path: ngx_http_kpn_downlink.c
 * (ngx_http_kpn_downlink.h) and ngx_http_kpn_downlink_token.c.
 */


#ifndef _NGX_HTTP_KPN_DOWNLINK_MODULE_H_INCLUDED_
#define _NGX_HTTP_KPN_DOWNLINK_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_kpn_common.h"
#include "ngx_http_kpn_json.h"
#include "ngx_http_kpn_shm.h"
#include "ngx_http_kpn_subrequest.h"
#include "ngx_http_kpn_token.h"
#include "ngx_http_kpn_downlink_token.h"
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


/* the input a template asked for and did not get (ctx->missing) */
#define NGX_HTTP_KPN_MISSING_NONE       0
#define NGX_HTTP_KPN_MISSING_REFERENCE  1      /* externalReference */
#define NGX_HTTP_KPN_MISSING_DEVICE_ID  2      /* deviceId */
#define NGX_HTTP_KPN_BAD_DEVICE_ID      3      /* kpn_downlink_device_id
                                                  gave no UUID */


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
    ngx_uint_t                 status;      /* $kpn_downlink_status:
                                               NGX_HTTP_KPN_* */

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
    ngx_uint_t                 missing;     /* NGX_HTTP_KPN_MISSING_* */

    ngx_http_kpn_access_t      access;      /* the access token */

    ngx_http_kpn_subrequest_t  sub;

    ngx_event_t                timer;

    /* for the metrics */
    ngx_uint_t                 kpn_status;  /* of the last downlink sent */

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


/*
 * configuration time, ngx_http_kpn_downlink_module.c: the file and line
 * of the directive being parsed
 */
ngx_int_t ngx_http_kpn_downlink_pos(ngx_conf_t *cf,
    ngx_http_kpn_downlink_pos_t *pos);

/* configuration time: ngx_http_kpn_downlink_routes.c */
ngx_int_t ngx_http_kpn_downlink_check_route(ngx_conf_t *cf,
    ngx_http_core_loc_conf_t *server, ngx_str_t *uri, ngx_uint_t endpoint,
    ngx_http_kpn_downlink_pos_t *pos);
char *ngx_http_kpn_downlink_endpoint(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/* configuration time: ngx_http_kpn_downlink_templates.c */
char *ngx_http_kpn_downlink_request_uri(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_http_kpn_downlink_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_array_t *ngx_http_kpn_downlink_default_headers(ngx_conf_t *cf);
ngx_int_t ngx_http_kpn_downlink_compile(ngx_conf_t *cf,
    ngx_str_t *value, ngx_http_complex_value_t *cv);


#endif /* _NGX_HTTP_KPN_DOWNLINK_MODULE_H_INCLUDED_ */
