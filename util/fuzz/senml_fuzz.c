
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * libFuzzer harness for ngx_http_kpn_senml_parse() and _envelope().
 * Besides crashes, leaks and undefined behaviour it checks:
 *   - an error has a known status and code and a valid UTF-8 message;
 *   - an envelope is strict JSON whose records equal the resolved pack;
 *   - the resolved records, parsed as a pack again, are valid and name
 *     the same device; one more round changes nothing (the first round
 *     may: a real printed with 15 digits, 1000000000000000.3 as 1e15,
 *     is an integer when read back).
 * Build and run: util/fuzz.sh BUILD_DIR.
 */


#include "ngx_http_kpn_senml.h"


static void ngx_http_kpn_fuzz_error(ngx_http_kpn_error_t *err);
static void ngx_http_kpn_fuzz_ok(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t             rc;
    ngx_str_t             body;
    ngx_pool_t           *pool;
    ngx_http_kpn_error_t  err;
    ngx_http_kpn_senml_t  pack;

    pool = ngx_create_pool(4096, NULL);
    if (pool == NULL) {
        abort();
    }

    body.data = (u_char *) data;
    body.len = size;

    ngx_memzero(&err, sizeof(ngx_http_kpn_error_t));

    rc = ngx_http_kpn_senml_parse(pool, &body, &pack, &err);

    switch (rc) {

    case NGX_OK:
        ngx_http_kpn_fuzz_ok(pool, &pack);
        break;

    case NGX_DECLINED:
        ngx_http_kpn_fuzz_error(&err);
        break;

    default:
        /* NGX_ERROR is for out of memory only */
        abort();
    }

    ngx_destroy_pool(pool);

    return 0;
}


static void
ngx_http_kpn_fuzz_error(ngx_http_kpn_error_t *err)
{
    json_t  *msg;

    if (!((err->status == 400
           && ((err->code.len == 12
                && ngx_strncmp(err->code.data, "invalid_json", 12) == 0)
               || (err->code.len == 13
                   && ngx_strncmp(err->code.data, "invalid_senml", 13) == 0)))
          || (err->status == 422 && err->code.len == 14
              && ngx_strncmp(err->code.data, "unknown_device", 14) == 0)))
    {
        abort();
    }

    if (err->message.len == 0) {
        abort();
    }

    /* the message goes into a JSON answer: it must be valid UTF-8 */
    msg = json_stringn((char *) err->message.data, err->message.len);
    if (msg == NULL) {
        abort();
    }

    json_decref(msg);
}


static void
ngx_http_kpn_fuzz_ok(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack)
{
    json_t                *env, *records;
    ngx_str_t              out, type, hash, dump1, dump2, dump3;
    ngx_http_kpn_error_t   err;
    ngx_http_kpn_senml_t   again, third;

    if (pack->records == NULL || json_array_size(pack->records) == 0
        || pack->device_id.len == 0
        || pack->urn.len == 0 || pack->urn.data[pack->urn.len - 1] != ':')
    {
        abort();
    }

    ngx_str_set(&type, "dragino-lds01");
    ngx_str_set(&hash, "wasd2");

    if (ngx_http_kpn_senml_envelope(pool, pack, &type, &hash, &out)
        != NGX_OK)
    {
        abort();
    }

    env = json_loadb((char *) out.data, out.len, JSON_REJECT_DUPLICATES,
                     NULL);
    if (env == NULL) {
        abort();
    }

    records = json_object_get(env, "records");

    if (!json_is_array(records)
        || json_array_size(records) != json_array_size(pack->records)
        || !json_is_object(json_object_get(env, "kpn")))
    {
        abort();
    }

    json_decref(env);

    /* resolution reaches a fixed point */

    if (ngx_http_kpn_json_dump(pool, pack->records, &dump1) != NGX_OK) {
        abort();
    }

    if (ngx_http_kpn_senml_parse(pool, &dump1, &again, &err) != NGX_OK
        || json_array_size(again.records) != json_array_size(pack->records)
        || again.device_id.len != pack->device_id.len
        || ngx_memcmp(again.device_id.data, pack->device_id.data,
                      pack->device_id.len) != 0)
    {
        abort();
    }

    if (ngx_http_kpn_json_dump(pool, again.records, &dump2) != NGX_OK) {
        abort();
    }

    if (ngx_http_kpn_senml_parse(pool, &dump2, &third, &err) != NGX_OK) {
        abort();
    }

    if (ngx_http_kpn_json_dump(pool, third.records, &dump3) != NGX_OK) {
        abort();
    }

    if (dump2.len != dump3.len
        || ngx_memcmp(dump2.data, dump3.data, dump2.len) != 0)
    {
        abort();
    }
}
