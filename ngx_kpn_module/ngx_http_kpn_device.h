
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The device and KPN part of a SenML pack (see ngx_http_kpn_device.c).
 */


#ifndef _NGX_HTTP_KPN_DEVICE_H_INCLUDED_
#define _NGX_HTTP_KPN_DEVICE_H_INCLUDED_


#include "ngx_http_kpn_senml.h"


/* the device part of a resolved name, pointing into the name */
typedef struct {
    ngx_str_t                  type;
    ngx_str_t                  id;
    size_t                     prefix;    /* "urn:dev:TYPE:ID:" length */
} ngx_http_kpn_device_t;


/*
 * The device part of a resolved name (record i; has_bn: the pack has a
 * base name): "urn:dev:DEVEUI:<16 hex>:", "urn:dev:IMEI:<15 digits>:" or
 * "urn:dev:DVNUUID:<uuid>:".  NGX_DECLINED: err filled (422
 * unknown_device).
 */
ngx_int_t ngx_http_kpn_device_urn(ngx_pool_t *pool, ngx_str_t *name,
    ngx_uint_t i, ngx_uint_t has_bn, ngx_http_kpn_device_t *dev,
    ngx_http_kpn_error_t *err);

/* the device id in place: DEVEUI upper case, DVNUUID lower case */
void ngx_http_kpn_device_normalise(ngx_http_kpn_device_t *dev);

/* urn, id_type and the normalised device_id of the pack, in pool */
ngx_int_t ngx_http_kpn_device_identify(ngx_pool_t *pool,
    ngx_http_kpn_device_t *dev, ngx_http_kpn_senml_t *pack);

/*
 * Notes res in pack when its measurement (the name after the device
 * part) is one of KPN's, the first of each; *payload_time: the time of
 * the "payload" record.
 */
void ngx_http_kpn_device_measurement(ngx_http_kpn_senml_t *pack,
    ngx_str_t *measurement, ngx_http_kpn_senml_record_t *res,
    ngx_http_kpn_senml_number_t **payload_time);

/* the *_text fields of pack, as the envelope prints the numbers */
ngx_int_t ngx_http_kpn_device_texts(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack);


#endif /* _NGX_HTTP_KPN_DEVICE_H_INCLUDED_ */
