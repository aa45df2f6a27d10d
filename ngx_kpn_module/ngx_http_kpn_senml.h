
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * SenML (RFC 8428) packs as KPN Things sends them: strict parse,
 * resolution, validation, device identification and the Withthegrid
 * envelope.
 */


#ifndef _NGX_HTTP_KPN_SENML_H_INCLUDED_
#define _NGX_HTTP_KPN_SENML_H_INCLUDED_


#include "ngx_http_kpn_module.h"
#include "ngx_http_kpn_util.h"


typedef struct {
    ngx_str_t      urn;           /* "urn:dev:DEVEUI:0059AC00001B3461:" */
    ngx_str_t      id_type;       /* "DEVEUI", "IMEI", "DVNUUID" */
    ngx_str_t      device_id;     /* normalised: DevEUI upper case */

    json_t        *records;       /* the resolved pack; freed with the pool */

    /* KPN fields found in the pack, NULL when absent; borrowed from records */
    json_t        *time;          /* time of the "payload" record, else of
                                     the first record */
    json_t        *port;          /* "port" v, an integer */
    json_t        *payload_hex;   /* "payload" vs */
    json_t        *fcnt_up;       /* "FCntUp" v */
    json_t        *rssi;          /* "LrrRSSI" v */
    json_t        *snr;           /* "LrrSNR" v */

    /*
     * the same as text, for variables; empty (data NULL) when absent.
     * Numbers print as in the envelope ("1765739955.219", "-107", "3");
     * payload_hex_text points into records: valid as long as the pool.
     */
    ngx_str_t      time_text;
    ngx_str_t      port_text;
    ngx_str_t      payload_hex_text;
    ngx_str_t      fcnt_up_text;
    ngx_str_t      rssi_text;
    ngx_str_t      snr_text;
} ngx_http_kpn_senml_t;


/*
 * Parses, resolves and validates the pack in body (which need not be
 * NUL-terminated) and identifies its device.
 * NGX_OK: pack filled.  NGX_DECLINED: err filled (400 invalid_json,
 * 400 invalid_senml, 422 unknown_device), pack unusable.  NGX_ERROR:
 * out of memory.
 * All jansson memory is released by a cleanup of pool.
 */
ngx_int_t ngx_http_kpn_senml_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_http_kpn_senml_t *pack, ngx_http_kpn_error_t *err);

/*
 * Builds the Withthegrid envelope (design.md) into pool memory:
 * {"deviceTypeHashId":..,"deviceIdentifier":..,"kpn":{..},"records":[..]}
 */
ngx_int_t ngx_http_kpn_senml_envelope(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack, ngx_str_t *device_type, ngx_str_t *hash_id,
    ngx_str_t *out);


#endif /* _NGX_HTTP_KPN_SENML_H_INCLUDED_ */
