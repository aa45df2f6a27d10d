
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The Withthegrid envelope of a resolved SenML pack.
 */


#ifndef _NGX_HTTP_KPN_ENVELOPE_H_INCLUDED_
#define _NGX_HTTP_KPN_ENVELOPE_H_INCLUDED_


#include "ngx_http_kpn_senml.h"


/* a number as text: "-9223372036854775808", "-2.2250738585072014e-308" */
#define NGX_HTTP_KPN_SENML_NUMBER_LEN  32


/*
 * Builds the envelope into pool memory:
 * {"deviceTypeHashId":..,"deviceIdentifier":..,"kpn":{..},"records":[..]}
 * device_type and hash_id are configured names (kpn_device_type), written
 * JSON-escaped as they are.  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_kpn_senml_envelope(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack, ngx_str_t *device_type, ngx_str_t *hash_id,
    ngx_str_t *out);

/*
 * A number as the envelope prints it, at p (room for
 * NGX_HTTP_KPN_SENML_NUMBER_LEN bytes); returns the end.
 */
u_char *ngx_http_kpn_envelope_number(u_char *p,
    ngx_http_kpn_senml_number_t *num);


#endif /* _NGX_HTTP_KPN_ENVELOPE_H_INCLUDED_ */
