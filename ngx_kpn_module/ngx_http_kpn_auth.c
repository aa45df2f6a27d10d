
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Authentication: the KPN Things message token of uplinks and the
 * bearer keys of downlink callers.  Every comparison is constant time.
 */


#include "ngx_http_kpn_auth.h"
#include "ngx_http_kpn_response.h"
#include "ngx_http_kpn_text.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>


#define NGX_HTTP_KPN_SHA256_LEN      32
#define NGX_HTTP_KPN_SHA256_HEX_LEN  64


static ngx_int_t ngx_http_kpn_auth_init(void);
static void ngx_http_kpn_auth_cleanup(void *data);
static ngx_int_t ngx_http_kpn_auth_digest_request(ngx_str_t *in,
    u_char *out);
static ngx_int_t ngx_http_kpn_auth_check_secret(EVP_MD_CTX *ctx,
    ngx_str_t *secret, u_char *token);
static ngx_int_t ngx_http_kpn_auth_secrets(ngx_http_request_t *r,
    ngx_array_t *secrets, ngx_array_t *secret_cvs, ngx_str_t **out,
    ngx_uint_t *nout);
static void ngx_http_kpn_auth_challenge(ngx_uint_t kind,
    ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_auth_match(ngx_http_request_t *r, u_char *md,
    ngx_array_t *digests, ngx_array_t *values, ngx_uint_t *match);


static ngx_str_t  ngx_http_kpn_token_header =
    ngx_string("things-message-token");


/*
 * The digest and two contexts, made once per process (the first uplink of
 * a worker) and reused by every message until the cycle's pool goes: the
 * body is hashed once into the first context, which is copied into the
 * second for every secret but the last, which finishes the first context
 * itself (one secret: no copy).
 */

static const EVP_MD  *ngx_http_kpn_auth_sha256;
static EVP_MD_CTX    *ngx_http_kpn_auth_body_ctx;
static EVP_MD_CTX    *ngx_http_kpn_auth_ctx;


/* the secrets to try: the files', then the non-empty values */

static ngx_int_t
ngx_http_kpn_auth_secrets(ngx_http_request_t *r, ngx_array_t *secrets,
    ngx_array_t *secret_cvs, ngx_str_t **out, ngx_uint_t *nout)
{
    ngx_str_t                 *list, *all;
    ngx_uint_t                 i, n;
    ngx_http_complex_value_t  *cv;

    list = secrets ? secrets->elts : NULL;
    n = secrets ? secrets->nelts : 0;

    if (secret_cvs && secret_cvs->nelts) {
        all = ngx_palloc(r->pool, (n + secret_cvs->nelts) * sizeof(ngx_str_t));
        if (all == NULL) {
            return NGX_ERROR;
        }

        if (n) {
            ngx_memcpy(all, list, n * sizeof(ngx_str_t));
        }

        cv = secret_cvs->elts;

        for (i = 0; i < secret_cvs->nelts; i++) {
            if (ngx_http_complex_value(r, &cv[i], &all[n]) != NGX_OK) {
                return NGX_ERROR;
            }

            if (all[n].len == 0) {
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "kpn uplink: kpn_uplink_secret is empty "
                               "(#%ui)", i + 1);
                continue;
            }

            n++;
        }

        list = all;
    }

    *out = list;
    *nout = n;

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_auth_message_token(ngx_http_request_t *r, ngx_array_t *secrets,
    ngx_array_t *secret_cvs, ngx_str_t *body, ngx_http_kpn_error_t *err)
{
    u_char            token[NGX_HTTP_KPN_SHA256_LEN];
    ngx_int_t         rc;
    ngx_str_t        *list, *last;
    ngx_uint_t        i, n, match;
    EVP_MD_CTX       *ctx;
    ngx_table_elt_t  *h;

    h = ngx_http_kpn_find_header(r, &ngx_http_kpn_token_header);

    if (h == NULL) {
        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_MISSING_TOKEN,
                                  0,
                                  "the Things-Message-Token header is missing");
    }

    if (h->value.len != NGX_HTTP_KPN_SHA256_HEX_LEN
        || ngx_http_kpn_hex_decode(token, h->value.data, h->value.len)
           != NGX_OK)
    {
        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_MISSING_TOKEN,
                                  0,
                                  "the Things-Message-Token header is not "
                                  "64 hexadecimal digits");
    }

    /* the secrets to try: the files', then the non-empty values */

    if (ngx_http_kpn_auth_secrets(r, secrets, secret_cvs, &list, &n)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    last = n ? &list[--n] : NULL;

    match = 0;

    if (last) {

        if (ngx_http_kpn_auth_init() != NGX_OK
            || EVP_DigestInit_ex(ngx_http_kpn_auth_body_ctx,
                                 ngx_http_kpn_auth_sha256, NULL)
               != 1
            || EVP_DigestUpdate(ngx_http_kpn_auth_body_ctx, body->data,
                                body->len)
               != 1)
        {
            goto failed;
        }

        /* no early exit: the time taken does not tell which secret */

        for (i = 0; i < n; i++) {
            ctx = ngx_http_kpn_auth_ctx;

            if (EVP_MD_CTX_copy_ex(ctx, ngx_http_kpn_auth_body_ctx) != 1) {
                goto failed;
            }

            rc = ngx_http_kpn_auth_check_secret(ctx, &list[i], token);
            if (rc == NGX_ERROR) {
                goto failed;
            }

            match |= (rc == NGX_OK);
        }

        rc = ngx_http_kpn_auth_check_secret(ngx_http_kpn_auth_body_ctx, last,
                                            token);
        if (rc == NGX_ERROR) {
            goto failed;
        }

        match |= (rc == NGX_OK);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn uplink: message token match:%ui", match);

    if (match) {
        return NGX_OK;
    }

    rc = ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_BAD_TOKEN, 0,
                            "the Things-Message-Token does not match "
                            "the message and any configured secret");

    err->hint = "check the destination's shared secret in KPN's portal "
                "against kpn_uplink_secret_file and kpn_uplink_secret";

    return rc;

failed:

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "kpn uplink: SHA-256 failed");

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_kpn_auth_init(void)
{
    EVP_MD              *md;
    ngx_pool_cleanup_t  *cln;

    if (ngx_http_kpn_auth_ctx) {
        return NGX_OK;
    }

    /* freed with the cycle: at exit, or after a reload once it is unused */

    cln = ngx_pool_cleanup_add(ngx_cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_kpn_auth_cleanup;
    cln->data = NULL;

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    /* fetched once: EVP_sha256() is looked up again on every init */
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
    md = (EVP_MD *) EVP_sha256();
#endif

    ngx_http_kpn_auth_sha256 = md;
    ngx_http_kpn_auth_body_ctx = EVP_MD_CTX_new();
    ngx_http_kpn_auth_ctx = EVP_MD_CTX_new();

    if (md == NULL || ngx_http_kpn_auth_body_ctx == NULL
        || ngx_http_kpn_auth_ctx == NULL)
    {
        ngx_http_kpn_auth_cleanup(NULL);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_kpn_auth_cleanup(void *data)
{
    EVP_MD_CTX_free(ngx_http_kpn_auth_body_ctx);
    EVP_MD_CTX_free(ngx_http_kpn_auth_ctx);

#if (OPENSSL_VERSION_NUMBER >= 0x30000000L)
    EVP_MD_free((EVP_MD *) ngx_http_kpn_auth_sha256);
#endif

    ngx_http_kpn_auth_body_ctx = NULL;
    ngx_http_kpn_auth_ctx = NULL;
    ngx_http_kpn_auth_sha256 = NULL;
}


/* finishes ctx (the body's digest state) with secret, compares with token */

static ngx_int_t
ngx_http_kpn_auth_check_secret(EVP_MD_CTX *ctx, ngx_str_t *secret,
    u_char *token)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  len;

    if (EVP_DigestUpdate(ctx, secret->data, secret->len) != 1
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


/* configuration time: EVP_Digest() fetches SHA-256 and a context each call */

ngx_int_t
ngx_http_kpn_auth_digest(ngx_str_t *in, u_char *out)
{
    unsigned int  len;

    if (EVP_Digest(in->data, in->len, out, &len, EVP_sha256(), NULL) != 1
        || len != NGX_HTTP_KPN_DIGEST_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * a request's credential: the digest fetched once and the context reused,
 * as for the message token (EVP_Digest() costs about 6,000 instructions
 * more a call under OpenSSL 3: the implicit fetch and a context allocated)
 */

static ngx_int_t
ngx_http_kpn_auth_digest_request(ngx_str_t *in, u_char *out)
{
    unsigned int  len;

    if (ngx_http_kpn_auth_init() != NGX_OK
        || EVP_DigestInit_ex(ngx_http_kpn_auth_ctx, ngx_http_kpn_auth_sha256,
                             NULL) != 1
        || EVP_DigestUpdate(ngx_http_kpn_auth_ctx, in->data, in->len) != 1
        || EVP_DigestFinal_ex(ngx_http_kpn_auth_ctx, out, &len) != 1
        || len != NGX_HTTP_KPN_DIGEST_LEN)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* what a refused destination credential answers and logs */

static void
ngx_http_kpn_auth_challenge(ngx_uint_t kind, ngx_http_kpn_error_t *err)
{
    switch (kind) {

    case NGX_HTTP_KPN_DEST_AUTH_BASIC:
        err->challenge = "Basic realm=\"KPN Things destination\"";
        break;

    case NGX_HTTP_KPN_DEST_AUTH_BEARER:
        err->challenge = "Bearer realm=\"KPN Things destination\"";
        break;

    default:
        break;
    }

    err->hint = "check the destination's authentication in KPN's portal "
                "against kpn_uplink_auth and kpn_uplink_auth_file or "
                "kpn_uplink_auth_value";
}


/*
 * The digest md of a presented credential against every digest and every
 * value: all compared, so that the time taken does not tell which.
 */

static ngx_int_t
ngx_http_kpn_auth_match(ngx_http_request_t *r, u_char *md,
    ngx_array_t *digests, ngx_array_t *values, ngx_uint_t *match)
{
    u_char                     vmd[NGX_HTTP_KPN_DIGEST_LEN], *d;
    ngx_str_t                  v;
    ngx_uint_t                 i;
    ngx_http_complex_value_t  *cv;

    *match = 0;

    if (digests) {
        d = digests->elts;

        for (i = 0; i < digests->nelts; i++) {
            *match |= (CRYPTO_memcmp(md, d + i * NGX_HTTP_KPN_DIGEST_LEN,
                                     NGX_HTTP_KPN_DIGEST_LEN)
                       == 0);
        }
    }

    if (values) {
        cv = values->elts;

        for (i = 0; i < values->nelts; i++) {
            if (ngx_http_complex_value(r, &cv[i], &v) != NGX_OK) {
                return NGX_ERROR;
            }

            if (v.len == 0) {
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "kpn uplink: kpn_uplink_auth_value is empty "
                               "(#%ui)", i + 1);
                continue;
            }

            if (ngx_http_kpn_auth_digest_request(&v, vmd) != NGX_OK) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "kpn uplink: SHA-256 failed");
                return NGX_ERROR;
            }

            *match |= (CRYPTO_memcmp(md, vmd, NGX_HTTP_KPN_DIGEST_LEN) == 0);
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_auth_destination(ngx_http_request_t *r, ngx_uint_t kind,
    ngx_str_t *header, ngx_array_t *digests, ngx_array_t *values,
    ngx_http_kpn_error_t *err)
{
    u_char            md[NGX_HTTP_KPN_DIGEST_LEN];
    ngx_int_t         rc;
    ngx_str_t         scheme, cred, decoded;
    ngx_uint_t        match;
    ngx_table_elt_t  *h;

    ngx_str_null(&decoded);

    if (kind == NGX_HTTP_KPN_DEST_AUTH_BASIC
        || kind == NGX_HTTP_KPN_DEST_AUTH_BEARER)
    {
        if (kind == NGX_HTTP_KPN_DEST_AUTH_BASIC) {
            ngx_str_set(&scheme, "Basic ");

        } else {
            ngx_str_set(&scheme, "Bearer ");
        }

        h = r->headers_in.authorization;

        if (h == NULL || h->value.len < scheme.len
            || ngx_strncasecmp(h->value.data, scheme.data, scheme.len) != 0)
        {
            rc = ngx_http_kpn_raise(r->pool, err,
                                    NGX_HTTP_KPN_BAD_DESTINATION_AUTH,
                                    0,
                                    "an \"Authorization: %*s\" header is "
                                    "required", scheme.len - 1, scheme.data);
            goto declined;
        }

        cred.data = h->value.data + scheme.len;
        cred.len = h->value.len - scheme.len;

        while (cred.len && cred.data[0] == ' ') {
            cred.data++;
            cred.len--;
        }

        while (cred.len && cred.data[cred.len - 1] == ' ') {
            cred.len--;
        }

        if (kind == NGX_HTTP_KPN_DEST_AUTH_BASIC) {

            /* "user:password" in base64: compared as the decoded text */

            decoded.data = ngx_pnalloc(r->pool,
                                       ngx_base64_decoded_length(cred.len));
            if (decoded.data == NULL) {
                return NGX_ERROR;
            }

            if (ngx_decode_base64(&decoded, &cred) != NGX_OK) {
                decoded.len = 0;
            }

            cred = decoded;
        }

    } else {
        h = ngx_http_kpn_find_header(r, header);

        if (h == NULL) {
            rc = ngx_http_kpn_raise(r->pool, err,
                                    NGX_HTTP_KPN_BAD_DESTINATION_AUTH,
                                    0,
                                    "the \"%V\" header is required", header);
            goto declined;
        }

        cred = h->value;
    }

    rc = ngx_http_kpn_auth_digest_request(&cred, md);

    if (decoded.len) {
        ngx_explicit_memzero(decoded.data, decoded.len);
    }

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn uplink: SHA-256 failed");
        return NGX_ERROR;
    }

    if (ngx_http_kpn_auth_match(r, md, digests, values, &match) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn uplink: destination auth match:%ui", match);

    if (match) {
        return NGX_OK;
    }

    rc = ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_BAD_DESTINATION_AUTH,
                            0,
                            "the destination's credentials are not valid");

declined:

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_http_kpn_auth_challenge(kind, err);

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_kpn_auth_bearer(ngx_http_request_t *r, ngx_array_t *keys,
    ngx_http_kpn_error_t *err)
{
    u_char            md[NGX_HTTP_KPN_DIGEST_LEN];
    ngx_str_t         cred, *key;
    ngx_uint_t        k, match;
    ngx_table_elt_t  *h;

    h = r->headers_in.authorization;

    if (h == NULL
        || h->value.len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(h->value.data, (u_char *) "Bearer ",
                           sizeof("Bearer ") - 1) != 0)
    {
        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_MISSING_KEY,
                                  0,
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
        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_MISSING_KEY,
                                  0, "the bearer key is empty");
    }

    if (ngx_http_kpn_auth_digest_request(&cred, md) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: SHA-256 failed");
        return NGX_ERROR;
    }

    match = 0;
    key = keys->elts;

    /*
     * the keys are kept as SHA-256 digests (kpn_downlink_keys): every one
     * is compared in full, so the time taken tells neither which key
     * matched nor a key's length
     */

    for (k = 0; k < keys->nelts; k++) {
        match |= (CRYPTO_memcmp(key[k].data, md, NGX_HTTP_KPN_DIGEST_LEN)
                  == 0);
    }

    if (!match) {
        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_BAD_KEY,
                                  0, "the bearer key is not valid");
    }

    return NGX_OK;
}
