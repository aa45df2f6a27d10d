
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Authentication: the KPN Things message token of uplinks and the
 * bearer keys of downlink callers.  Every comparison is constant time.
 */


#include "ngx_http_kpn_auth.h"
#include "ngx_http_kpn_response.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>


#define NGX_HTTP_KPN_SHA256_LEN      32
#define NGX_HTTP_KPN_SHA256_HEX_LEN  64


static ngx_int_t ngx_http_kpn_auth_check_secret(EVP_MD_CTX *body_ctx,
    EVP_MD_CTX *ctx, ngx_str_t *secret, u_char *token);


static ngx_str_t  ngx_http_kpn_token_header =
    ngx_string("things-message-token");


ngx_int_t
ngx_http_kpn_auth_message_token(ngx_http_request_t *r, ngx_array_t *secrets,
    ngx_http_complex_value_t *secret_cv, ngx_str_t *body,
    ngx_http_kpn_error_t *err)
{
    u_char            token[NGX_HTTP_KPN_SHA256_LEN];
    ngx_int_t         rc;
    ngx_str_t         secret, *list;
    ngx_uint_t        i, match;
    EVP_MD_CTX       *body_ctx, *ctx;
    ngx_table_elt_t  *h;

    h = ngx_http_kpn_find_header(r, &ngx_http_kpn_token_header);

    if (h == NULL) {
        return ngx_http_kpn_error(r->pool, err, NGX_HTTP_UNAUTHORIZED,
                                  "missing_token",
                                  "the Things-Message-Token header is missing");
    }

    if (h->value.len != NGX_HTTP_KPN_SHA256_HEX_LEN
        || ngx_http_kpn_hex_decode(token, h->value.data, h->value.len)
           != NGX_OK)
    {
        return ngx_http_kpn_error(r->pool, err, NGX_HTTP_UNAUTHORIZED,
                                  "missing_token",
                                  "the Things-Message-Token header is not "
                                  "64 hexadecimal digits");
    }

    body_ctx = EVP_MD_CTX_new();
    ctx = EVP_MD_CTX_new();

    if (body_ctx == NULL || ctx == NULL
        || EVP_DigestInit_ex(body_ctx, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(body_ctx, body->data, body->len) != 1)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn uplink: SHA-256 initialisation failed");
        rc = NGX_ERROR;
        goto done;
    }

    match = 0;

    if (secrets) {
        list = secrets->elts;

        /* no early exit: the time taken does not tell which secret */

        for (i = 0; i < secrets->nelts; i++) {
            rc = ngx_http_kpn_auth_check_secret(body_ctx, ctx, &list[i],
                                                token);
            if (rc == NGX_ERROR) {
                goto done;
            }

            match |= (rc == NGX_OK);
        }
    }

    if (secret_cv) {
        if (ngx_http_complex_value(r, secret_cv, &secret) != NGX_OK) {
            rc = NGX_ERROR;
            goto done;
        }

        if (secret.len) {
            rc = ngx_http_kpn_auth_check_secret(body_ctx, ctx, &secret, token);
            if (rc == NGX_ERROR) {
                goto done;
            }

            match |= (rc == NGX_OK);

        } else {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "kpn uplink: kpn_uplink_secret is empty");
        }
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn uplink: message token match:%ui", match);

    if (match) {
        rc = NGX_OK;

    } else {
        rc = ngx_http_kpn_error(r->pool, err, NGX_HTTP_UNAUTHORIZED,
                                "bad_token",
                                "the Things-Message-Token does not match "
                                "the message and any configured secret");
    }

done:

    EVP_MD_CTX_free(body_ctx);
    EVP_MD_CTX_free(ctx);

    return rc;
}


static ngx_int_t
ngx_http_kpn_auth_check_secret(EVP_MD_CTX *body_ctx, EVP_MD_CTX *ctx,
    ngx_str_t *secret, u_char *token)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  len;

    if (EVP_MD_CTX_copy_ex(ctx, body_ctx) != 1
        || EVP_DigestUpdate(ctx, secret->data, secret->len) != 1
        || EVP_DigestFinal_ex(ctx, md, &len) != 1
        || len != NGX_HTTP_KPN_SHA256_LEN)
    {
        return NGX_ERROR;
    }

    if (CRYPTO_memcmp(md, token, NGX_HTTP_KPN_SHA256_LEN) == 0) {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_kpn_auth_bearer(ngx_http_request_t *r, ngx_array_t *keys,
    ngx_http_kpn_error_t *err)
{
    ngx_str_t         cred, *key;
    ngx_uint_t        k, match;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL
        || h->value.len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return ngx_http_kpn_error(r->pool, err, NGX_HTTP_UNAUTHORIZED,
                                  "missing_key",
                                  "an \"Authorization: Bearer <key>\" header "
                                  "is required");
    }

    cred.data = h->value.data + sizeof("Bearer ") - 1;
    cred.len = h->value.len - (sizeof("Bearer ") - 1);

    while (cred.len && cred.data[0] == ' ') {
        cred.data++;
        cred.len--;
    }

    while (cred.len && cred.data[cred.len - 1] == ' ') {
        cred.len--;
    }

    if (cred.len == 0) {
        return ngx_http_kpn_error(r->pool, err, NGX_HTTP_UNAUTHORIZED,
                                  "missing_key", "the bearer key is empty");
    }

    match = 0;
    key = keys->elts;

    /* every key is compared, so the time taken does not tell which */

    for (k = 0; k < keys->nelts; k++) {
        if (key[k].len == cred.len
            && CRYPTO_memcmp(key[k].data, cred.data, cred.len) == 0)
        {
            match = 1;
        }
    }

    if (!match) {
        return ngx_http_kpn_error(r->pool, err, NGX_HTTP_UNAUTHORIZED,
                                  "bad_key", "the bearer key is not valid");
    }

    return NGX_OK;
}
