
/*
 * Copyright (C) ngx_kpn_module developers
 */


#ifndef _NGX_HTTP_KPN_AUTH_H_INCLUDED_
#define _NGX_HTTP_KPN_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_kpn_json.h"


/*
 * Things-Message-Token: lowercase hex SHA-256(body || secret), any of
 * secrets (ngx_str_t, may be NULL) or the values of secret_cvs
 * (ngx_http_complex_value_t, may be NULL; an empty value: no secret),
 * compared in constant time.
 * NGX_OK: authentic.  NGX_DECLINED: err filled (401 missing_token or
 * bad_token).  NGX_ERROR: internal failure.
 */
ngx_int_t ngx_http_kpn_auth_message_token(ngx_http_request_t *r,
    ngx_array_t *secrets, ngx_array_t *secret_cvs, ngx_str_t *body,
    ngx_http_kpn_error_t *err);

/*
 * "Authorization: Bearer <key>" against keys (ngx_str_t), constant time.
 * NGX_OK, or NGX_DECLINED with err filled (401 missing_key or bad_key).
 */
ngx_int_t ngx_http_kpn_auth_bearer(ngx_http_request_t *r, ngx_array_t *keys,
    ngx_http_kpn_error_t *err);


#endif /* _NGX_HTTP_KPN_AUTH_H_INCLUDED_ */
