
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The answer of KPN's identity platform to a client-credentials request,
 * parsed: untrusted JSON in, an access token and its lifetime out.  No
 * HTTP here: the downlink classifies the subrequest, this reads its body
 * (and has a fuzz target of its own, util/fuzz/token_fuzz.c).
 */


#ifndef _NGX_HTTP_KPN_TOKEN_H_INCLUDED_
#define _NGX_HTTP_KPN_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_kpn_json.h"


#define NGX_HTTP_KPN_TOKEN_LEN_MAX        4096    /* bytes of access_token */
#define NGX_HTTP_KPN_TOKEN_DEFAULT_LIFE   3600    /* s, without "expires_in" */
#define NGX_HTTP_KPN_TOKEN_MAX_LIFE       86400   /* s, "expires_in" clamped */


typedef struct {
    ngx_str_t                  token;       /* copy in the pool */
    time_t                     expires_in;  /* 1 ..
                                               NGX_HTTP_KPN_TOKEN_MAX_LIFE */
} ngx_http_kpn_token_t;


/*
 * Parses a token answer body (need not be NUL-terminated). NGX_OK: tok filled:
 * a non-empty access_token of visible ASCII of at most
 * NGX_HTTP_KPN_TOKEN_LEN_MAX bytes; expires_in from the answer when it is a
 * number >= 1 (clamped), else the default.  NGX_DECLINED: err filled (502
 * NGX_HTTP_KPN_TOKEN_UNAVAILABLE, a message that quotes nothing of the
 * answer). NGX_ERROR: out of memory.  jansson memory goes with the pool.
 */
ngx_int_t ngx_http_kpn_token_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_http_kpn_token_t *tok, ngx_http_kpn_error_t *err);


#endif /* _NGX_HTTP_KPN_TOKEN_H_INCLUDED_ */
