
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * libFuzzer harness: the differential target of the downlink command.
 * Every input goes through ngx_http_kpn_command_parse() (the module's own
 * reader) and through the oracle (util/fuzz/command_oracle.c: jansson and
 * the walk of its tree, as the module had them before), with the default
 * payload limit and with a limit of 4 bytes; it aborts unless both give:
 *   - the same answer: accepted, or refused with the same status and code;
 *   - for an accepted command, the same fields (devEUI, port, payload,
 *     externalReference, deviceId), the same texts of the variables and
 *     the same default query string, byte for byte (the request built for
 *     KPN is made of these alone).
 * Build and run: FUZZ_TARGETS=command_diff util/fuzz/fuzz.sh BUILD_DIR
 * (make fuzz runs it with the others).
 */


#include "command_oracle.h"

#include <stdio.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ngx_http_kpn_diff(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max);
static void ngx_http_kpn_diff_str(const char *what, ngx_str_t *a,
    ngx_str_t *b);
static void ngx_http_kpn_diff_fail(const char *what);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *copy;
    ngx_str_t    body;
    ngx_pool_t  *pool;

    pool = ngx_create_pool(4096, NULL);
    if (pool == NULL) {
        abort();
    }

    /* a copy of its own: reads past the body show under ASan */

    copy = malloc(size ? size : 1);
    if (copy == NULL) {
        abort();
    }

    if (size) {
        ngx_memcpy(copy, data, size);
    }

    body.data = copy;
    body.len = size;

    ngx_http_kpn_diff(pool, &body, NGX_HTTP_KPN_MAX_PAYLOAD);
    ngx_http_kpn_diff(pool, &body, 4);

    ngx_destroy_pool(pool);
    free(copy);

    return 0;
}


static void
ngx_http_kpn_diff(ngx_pool_t *pool, ngx_str_t *body, ngx_uint_t max)
{
    ngx_int_t               rc, orc;
    ngx_str_t               args, oargs;
    ngx_http_kpn_error_t    err, oerr;
    ngx_http_kpn_command_t  cmd, ocmd;

    ngx_memzero(&err, sizeof(ngx_http_kpn_error_t));
    ngx_memzero(&oerr, sizeof(ngx_http_kpn_error_t));
    ngx_memzero(&cmd, sizeof(ngx_http_kpn_command_t));
    ngx_memzero(&ocmd, sizeof(ngx_http_kpn_command_t));

    rc = ngx_http_kpn_command_parse(pool, body, max, &cmd, &err);
    orc = ngx_http_kpn_command_oracle(pool, body, max, &ocmd, &oerr);

    if (rc != orc || (rc == NGX_DECLINED && err.status != oerr.status)) {
        fprintf(stderr, "reader %d %d (%.*s: %.*s), "
                "oracle %d %d (%.*s: %.*s)\n",
                (int) rc, (int) err.status,
                (int) err.code.len, err.code.data,
                (int) err.message.len, err.message.data,
                (int) orc, (int) oerr.status,
                (int) oerr.code.len, oerr.code.data,
                (int) oerr.message.len, oerr.message.data);
        ngx_http_kpn_diff_fail("the answer");
    }

    if (rc == NGX_DECLINED) {
        if (err.outcome != oerr.outcome) {
            ngx_http_kpn_diff_fail("the outcome");
        }

        ngx_http_kpn_diff_str("the error code", &err.code, &oerr.code);
        return;
    }

    if (rc != NGX_OK) {
        abort();
    }

    if (cmd.port != ocmd.port) {
        ngx_http_kpn_diff_fail("the port");
    }

    ngx_http_kpn_diff_str("devEUI", &cmd.dev_eui, &ocmd.dev_eui);
    ngx_http_kpn_diff_str("payload", &cmd.payload, &ocmd.payload);
    ngx_http_kpn_diff_str("externalReference", &cmd.reference,
                          &ocmd.reference);
    ngx_http_kpn_diff_str("deviceId", &cmd.device_id, &ocmd.device_id);
    ngx_http_kpn_diff_str("devEUI lower", &cmd.dev_eui_lower,
                          &ocmd.dev_eui_lower);
    ngx_http_kpn_diff_str("port text", &cmd.port_text, &ocmd.port_text);
    ngx_http_kpn_diff_str("payload base64", &cmd.payload_base64,
                          &ocmd.payload_base64);
    ngx_http_kpn_diff_str("reference JSON", &cmd.reference_json,
                          &ocmd.reference_json);
    ngx_http_kpn_diff_str("reference arg", &cmd.reference_arg,
                          &ocmd.reference_arg);

    if (ngx_http_kpn_command_args(pool, &cmd, &args) != NGX_OK
        || ngx_http_kpn_command_args(pool, &ocmd, &oargs) != NGX_OK)
    {
        abort();
    }

    ngx_http_kpn_diff_str("the query string", &args, &oargs);
}


static void
ngx_http_kpn_diff_str(const char *what, ngx_str_t *a, ngx_str_t *b)
{
    if (a->len != b->len
        || (a->len && ngx_memcmp(a->data, b->data, a->len) != 0))
    {
        fprintf(stderr, "reader \"%.*s\", oracle \"%.*s\"\n",
                (int) a->len, a->data, (int) b->len, b->data);
        ngx_http_kpn_diff_fail(what);
    }
}


static void
ngx_http_kpn_diff_fail(const char *what)
{
    fprintf(stderr, "command_diff: %s differs\n", what);
    abort();
}
