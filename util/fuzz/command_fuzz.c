
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * libFuzzer harness for the downlink command (ngx_http_kpn_command.c):
 * the caller's JSON is untrusted input.  Besides crashes, leaks and
 * undefined behaviour it checks:
 *   - NGX_OK: devEUI 16 upper-case hex digits, port 1..223, payload
 *     non-empty even-length hex of at most 242 bytes, no field but the
 *     four known ones (jansson reads the input a second time to tell);
 *     the SenML body
 *     built from it is JSON that jansson reads back to the same values;
 *     the query string holds only URI-safe bytes;
 *   - NGX_DECLINED: status 400 with a printable message.
 * Build and run: util/fuzz.sh BUILD_DIR (FUZZ_TARGET=command for this one).
 */


#include "ngx_http_kpn_command.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  *known[] = {
    "devEUI", "port", "payload", "externalReference", NULL
};


/* the input is an object with a field the command does not know */

static int
has_unknown_field(const uint8_t *data, size_t size)
{
    int          unknown;
    void        *iter;
    json_t      *json;
    const char  *key, **k;

    json = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES,
                      NULL);
    if (json == NULL) {
        return 0;
    }

    unknown = 0;

    if (json_is_object(json)) {
        for (iter = json_object_iter(json);
             iter;
             iter = json_object_iter_next(json, iter))
        {
            key = json_object_iter_key(iter);

            for (k = known; *k; k++) {
                if (strcmp(key, *k) == 0) {
                    break;
                }
            }

            if (*k == NULL) {
                unknown = 1;
            }
        }
    }

    json_decref(json);

    return unknown;
}


static void
check_built(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd)
{
    size_t      i;
    json_t     *json, *rec, *v;
    ngx_str_t   body, args, fixed;
    u_char      bn[sizeof("urn:dev:DEVEUI:0123456789ABCDEF:")];

    if (ngx_http_kpn_command_body(pool, cmd, &body) != NGX_OK) {
        abort();
    }

    json = json_loadb((char *) body.data, body.len, JSON_REJECT_DUPLICATES,
                      NULL);
    if (json == NULL || !json_is_array(json) || json_array_size(json) != 1) {
        abort();
    }

    rec = json_array_get(json, 0);

    *ngx_sprintf(bn, "urn:dev:DEVEUI:%V:", &cmd->dev_eui) = '\0';

    v = json_object_get(rec, "bn");
    if (!json_is_string(v) || strcmp(json_string_value(v), (char *) bn)) {
        abort();
    }

    v = json_object_get(rec, "vs");
    if (!json_is_string(v) || json_string_length(v) != cmd->payload.len
        || ngx_memcmp(json_string_value(v), cmd->payload.data,
                      cmd->payload.len) != 0)
    {
        abort();
    }

    json_decref(json);

    ngx_str_set(&fixed, "fixed=1");

    if (ngx_http_kpn_command_args(pool, cmd, &fixed, &args) != NGX_OK) {
        abort();
    }

    for (i = 0; i < args.len; i++) {
        if (args.data[i] <= ' ' || args.data[i] >= 0x7f
            || args.data[i] == '#' || args.data[i] == '"')
        {
            abort();
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                  i;
    ngx_int_t               rc;
    ngx_str_t               body;
    ngx_pool_t             *pool;
    ngx_http_kpn_error_t    err;
    ngx_http_kpn_command_t  cmd;

    pool = ngx_create_pool(4096, NULL);
    if (pool == NULL) {
        abort();
    }

    body.data = (u_char *) data;
    body.len = size;

    ngx_memzero(&err, sizeof(ngx_http_kpn_error_t));
    ngx_memzero(&cmd, sizeof(ngx_http_kpn_command_t));

    rc = ngx_http_kpn_command_parse(pool, &body, NGX_HTTP_KPN_MAX_PAYLOAD,
                                    &cmd, &err);

    switch (rc) {

    case NGX_OK:
        if (has_unknown_field(data, size)) {
            abort();
        }

        if (cmd.dev_eui.len != 16 || cmd.port < 1
            || cmd.port > NGX_HTTP_KPN_MAX_PORT
            || cmd.payload.len == 0 || cmd.payload.len % 2
            || cmd.payload.len / 2 > NGX_HTTP_KPN_MAX_PAYLOAD
            || !ngx_http_kpn_is_hex(cmd.payload.data, cmd.payload.len)
            || cmd.reference.len > NGX_HTTP_KPN_EXTREF_MAX)
        {
            abort();
        }

        for (i = 0; i < 16; i++) {
            if (!ngx_http_kpn_is_hex(&cmd.dev_eui.data[i], 1)
                || (cmd.dev_eui.data[i] >= 'a' && cmd.dev_eui.data[i] <= 'f'))
            {
                abort();
            }
        }

        check_built(pool, &cmd);
        break;

    case NGX_DECLINED:
        if (err.status != 400 || err.message.len == 0) {
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
