
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
 * The second pass over the resolved records of pack: the device part of every
 * name (normalised in place), one device for the pack, KPN's measurements,
 * then urn, id_type, device_id, time and the texts. NGX_DECLINED: err filled
 * (422 NGX_HTTP_KPN_UNKNOWN_DEVICE).  NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_kpn_device_pack(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack, ngx_http_kpn_error_t *err);

/*
 * A number as the envelope prints it, into text (pool memory); num NULL:
 * an empty text.  The uplink's variables print KPN's numbers with it
 * when they are read; NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_kpn_device_text(ngx_pool_t *pool,
    ngx_http_kpn_senml_number_t *num, ngx_str_t *text);

/* all the *_text fields of pack at once (the harnesses) */
ngx_int_t ngx_http_kpn_device_texts(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack);


#endif /* _NGX_HTTP_KPN_DEVICE_H_INCLUDED_ */
