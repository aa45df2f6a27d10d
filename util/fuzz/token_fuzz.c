
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * libFuzzer harness for ngx_http_kpn_token_parse(): the identity
 * platform's answer is untrusted input.  Besides crashes, leaks and
 * undefined behaviour it checks:
 *   - NGX_OK: a token of 1..4096 visible ASCII bytes, a lifetime of
 *     1..86400 s, and the token is the input's access_token;
 *   - NGX_DECLINED: 502 token_unavailable with a printable message.
 * Build and run: util/fuzz/fuzz.sh BUILD_DIR (FUZZ_TARGET=token for this one).
 */


#include "ngx_http_kpn_token.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t                *json, *v;
    size_t                 i;
    ngx_int_t              rc;
    ngx_str_t              body;
    ngx_pool_t            *pool;
    ngx_http_kpn_error_t   err;
    ngx_http_kpn_token_t   tok;

    pool = ngx_create_pool(4096, NULL);
    if (pool == NULL) {
        abort();
    }

    body.data = (u_char *) data;
    body.len = size;

    ngx_memzero(&err, sizeof(ngx_http_kpn_error_t));
    ngx_memzero(&tok, sizeof(ngx_http_kpn_token_t));

    rc = ngx_http_kpn_token_parse(pool, &body, &tok, &err);

    switch (rc) {

    case NGX_OK:
        if (tok.token.len == 0 || tok.token.len > NGX_HTTP_KPN_TOKEN_LEN_MAX
            || tok.expires_in < 1
            || tok.expires_in > NGX_HTTP_KPN_TOKEN_MAX_LIFE)
        {
            abort();
        }

        for (i = 0; i < tok.token.len; i++) {
            if (tok.token.data[i] <= ' ' || tok.token.data[i] >= 0x7f) {
                abort();
            }
        }

        /* the same token as jansson reads it */

        json = json_loadb((char *) data, size, JSON_REJECT_DUPLICATES, NULL);
        if (json == NULL) {
            abort();
        }

        v = json_object_get(json, "access_token");

        if (!json_is_string(v)
            || json_string_length(v) != tok.token.len
            || ngx_memcmp(json_string_value(v), tok.token.data,
                          tok.token.len) != 0)
        {
            abort();
        }

        json_decref(json);
        break;

    case NGX_DECLINED:
        if (err.status != 502
            || err.code.len != sizeof("token_unavailable") - 1
            || ngx_memcmp(err.code.data, "token_unavailable", err.code.len)
               != 0
            || err.message.len == 0)
        {
            abort();
        }

        for (i = 0; i < err.message.len; i++) {
            if (err.message.data[i] < 0x20 || err.message.data[i] == 0x7f) {
                abort();
            }
        }

        break;

    default:
        abort();
    }

    ngx_destroy_pool(pool);

    return 0;
}
