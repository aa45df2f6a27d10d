
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
 * Things-Message-Token: lowercase hex SHA-256(body || secret), any of secrets
 * (ngx_str_t, may be NULL) or the values of secret_cvs
 * (ngx_http_complex_value_t, may be NULL; an empty value: no secret), compared
 * in constant time. NGX_OK: authentic.  NGX_DECLINED: err filled (401
 * NGX_HTTP_KPN_MISSING_TOKEN or NGX_HTTP_KPN_BAD_TOKEN).  NGX_ERROR: internal
 * failure.
 */
ngx_int_t ngx_http_kpn_auth_message_token(ngx_http_request_t *r,
    ngx_array_t *secrets, ngx_array_t *secret_cvs, ngx_str_t *body,
    ngx_http_kpn_error_t *err);

/* kpn_uplink_auth: the destination's own authentication, as KPN offers it */
#define NGX_HTTP_KPN_DEST_AUTH_OFF      0
#define NGX_HTTP_KPN_DEST_AUTH_BASIC    1     /* Authorization: Basic */
#define NGX_HTTP_KPN_DEST_AUTH_BEARER   2     /* Authorization: Bearer */
#define NGX_HTTP_KPN_DEST_AUTH_API_KEY  3     /* a header, X-API-Key */
#define NGX_HTTP_KPN_DEST_AUTH_HEADER   4     /* a static "additional header" */

#define NGX_HTTP_KPN_DIGEST_LEN         32    /* SHA-256 */

/* SHA-256 of in into out (NGX_HTTP_KPN_DIGEST_LEN bytes): NGX_OK, NGX_ERROR */
ngx_int_t ngx_http_kpn_auth_digest(ngx_str_t *in, u_char *out);

/*
 * The destination's credential of kind (NGX_HTTP_KPN_DEST_AUTH_*), from
 * Authorization or the header named by lower-case header, against digests
 * (SHA-256 of each accepted value, NGX_HTTP_KPN_DIGEST_LEN bytes each; may be
 * NULL) and the digests of the non-empty values of values
 * (ngx_http_complex_value_t; may be NULL): the credential's digest is compared
 * with every one in constant time, so neither its length nor which one matched
 * shows in the time taken.  NGX_OK; NGX_DECLINED with err filled (401
 * NGX_HTTP_KPN_BAD_DESTINATION_AUTH, with a challenge for Basic and Bearer and
 * a hint for the log); NGX_ERROR.
 */
ngx_int_t ngx_http_kpn_auth_destination(ngx_http_request_t *r,
    ngx_uint_t kind, ngx_str_t *header, ngx_array_t *digests,
    ngx_array_t *values, ngx_http_kpn_error_t *err);

/*
 * "Authorization: Bearer <key>" against keys (ngx_str_t, each the SHA-256
 * digest of a key: kpn_downlink_keys), constant time.  NGX_OK, or
 * NGX_DECLINED with err filled (401 NGX_HTTP_KPN_MISSING_KEY or
 * NGX_HTTP_KPN_BAD_KEY).
 */
ngx_int_t ngx_http_kpn_auth_bearer(ngx_http_request_t *r, ngx_array_t *keys,
    ngx_http_kpn_error_t *err);


#endif /* _NGX_HTTP_KPN_AUTH_H_INCLUDED_ */
