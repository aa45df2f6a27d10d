
/*
 * Copyright (C) ngx_kpn_module developers
 */


#include "ngx_http_kpn_token.h"


static ngx_int_t ngx_http_kpn_token_error(ngx_pool_t *pool,
    ngx_http_kpn_error_t *err, const char *message);


ngx_int_t
ngx_http_kpn_token_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_http_kpn_token_t *tok, ngx_http_kpn_error_t *err)
{
    u_char     *p, *last;
    double      d;
    json_t     *json, *v;
    ngx_int_t   rc;
    ngx_str_t   token;

    rc = ngx_http_kpn_json_load(pool, body, &json, err);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_kpn_token_error(pool, err,
                                        "the token answer is not JSON");
    }

    v = json_is_object(json) ? json_object_get(json, "access_token") : NULL;

    if (v == NULL || !json_is_string(v) || json_string_length(v) == 0) {
        return ngx_http_kpn_token_error(pool, err,
                                        "the token answer has no "
                                        "access_token");
    }

    token.data = (u_char *) json_string_value(v);
    token.len = json_string_length(v);

    if (token.len > NGX_HTTP_KPN_TOKEN_LEN_MAX) {
        return ngx_http_kpn_token_error(pool, err,
                                        "the access token is longer than "
                                        "4096 bytes");
    }

    /* the token goes into a header line: visible ASCII only */

    last = token.data + token.len;

    for (p = token.data; p < last; p++) {
        if (*p <= ' ' || *p >= 0x7f) {
            return ngx_http_kpn_token_error(pool, err,
                                            "the access token holds invalid "
                                            "characters");
        }
    }

    tok->expires_in = 0;

    v = json_object_get(json, "expires_in");

    if (v && json_is_integer(v)) {
        if (json_integer_value(v) > NGX_HTTP_KPN_TOKEN_MAX_LIFE) {
            tok->expires_in = NGX_HTTP_KPN_TOKEN_MAX_LIFE;

        } else if (json_integer_value(v) >= 1) {
            tok->expires_in = (time_t) json_integer_value(v);
        }

    } else if (v && json_is_real(v)) {
        d = json_real_value(v);

        /* compared before the cast: a huge double is no time_t */

        if (d > NGX_HTTP_KPN_TOKEN_MAX_LIFE) {
            tok->expires_in = NGX_HTTP_KPN_TOKEN_MAX_LIFE;

        } else if (d >= 1) {
            tok->expires_in = (time_t) d;
        }
    }

    if (tok->expires_in == 0) {
        tok->expires_in = NGX_HTTP_KPN_TOKEN_DEFAULT_LIFE;
    }

    tok->token.data = ngx_pnalloc(pool, token.len);
    if (tok->token.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(tok->token.data, token.data, token.len);
    tok->token.len = token.len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_kpn_token_error(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    const char *message)
{
    return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                              0, "%s", message);
}
