
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * ngx_http_kpn_module, the uplink half: KPN Things -> Withthegrid.  Its
 * conf and request ctx.  Directives and conf:
 * ngx_http_kpn_uplink_module.c; the request path: ngx_http_kpn_uplink.c.
 * What the three modules share is in ngx_http_kpn_common.h.
 */


#ifndef _NGX_HTTP_KPN_UPLINK_MODULE_H_INCLUDED_
#define _NGX_HTTP_KPN_UPLINK_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>

#include "ngx_http_kpn_common.h"
#include "ngx_http_kpn_senml.h"




#define NGX_HTTP_KPN_FORMAT_ENVELOPE   0
#define NGX_HTTP_KPN_FORMAT_SENML      1

/* kpn_uplink_max_records: KPN packs have a few dozen records at most */
#define NGX_HTTP_KPN_MAX_RECORDS       256


typedef struct {
    ngx_str_t                  name;        /* device-type header value */
    ngx_str_t                  hash_id;     /* Withthegrid device type */
} ngx_http_kpn_device_type_t;


typedef struct {
    ngx_flag_t                 uplink;
    ngx_array_t               *secrets;     /* of ngx_str_t */
    ngx_array_t               *secret;      /* kpn_uplink_secret, of
                                               ngx_http_complex_value_t */
    ngx_array_t               *device_types;
                                 /* of ngx_http_kpn_device_type_t */
    ngx_str_t                  device_type_header;   /* lower case */
    ngx_uint_t                 format;
    ngx_uint_t                 max_records;
    ngx_uint_t                 reject_log_level;
                                 /* of both halves: kpn_reject_log_level */

    ngx_uint_t                 auth;        /* NGX_HTTP_KPN_DEST_AUTH_* */
    ngx_array_t               *auth_digests;
                                 /* SHA-256 of each line of the
                                    kpn_uplink_auth_file files */
    ngx_uint_t                 auth_no_colon;
                                 /* lines without ':' in them (basic) */
    ngx_array_t               *auth_values; /* kpn_uplink_auth_value, of
                                               ngx_http_complex_value_t */
    ngx_str_t                  auth_header; /* lower case */
    ngx_array_t               *pass_headers;
                                 /* kpn_uplink_pass_header, lower case */
    ngx_str_t                  wtg_token;   /* kpn_wtg_token_file:
                                               $kpn_wtg_token */
    ngx_str_t                  uplink_file;     /* where kpn_uplink is, */
    ngx_uint_t                 uplink_line;     /* for the merge's errors */
} ngx_http_kpn_loc_conf_t;


/* uplink processing states, kept in the request ctx */
#define NGX_HTTP_KPN_UPLINK_NONE       0
#define NGX_HTTP_KPN_UPLINK_READING    1
#define NGX_HTTP_KPN_UPLINK_DONE       2


typedef struct {
    ngx_uint_t                 state;
    ngx_int_t                  phase_rc;    /* what the phase handler returns
                                               once the work is done */
    ngx_uint_t                 status;      /* $kpn_uplink_status:
                                               NGX_HTTP_KPN_* */

    ngx_str_t                  device_id;
    ngx_str_t                  device_urn;
    ngx_str_t                  id_type;
    ngx_str_t                  device_type;
    ngx_str_t                  device_type_hash_id;
    ngx_str_t                  port;
    ngx_str_t                  payload_hex;
    ngx_str_t                  fcnt_up;
    ngx_str_t                  rssi;
    ngx_str_t                  snr;
    ngx_str_t                  time;

    /*
     * KPN's numbers in the pack (NULL: absent), printed into the texts
     * above (time, port, fcnt_up, rssi, snr) when a variable reads them
     */
    ngx_http_kpn_senml_number_t  *time_num;
    ngx_http_kpn_senml_number_t  *port_num;
    ngx_http_kpn_senml_number_t  *fcnt_up_num;
    ngx_http_kpn_senml_number_t  *rssi_num;
    ngx_http_kpn_senml_number_t  *snr_num;

    ngx_str_t                  message_id;  /* the message token, lower
                                               case: the same for KPN's
                                               retries of a message */
    ngx_str_t                  body;        /* the body sent on */

    size_t                     received;    /* body bytes, once read */
    size_t                     forwarded;   /* bytes of the body sent on */
} ngx_http_kpn_ctx_t;


extern ngx_module_t  ngx_http_kpn_module;


#endif /* _NGX_HTTP_KPN_UPLINK_MODULE_H_INCLUDED_ */
