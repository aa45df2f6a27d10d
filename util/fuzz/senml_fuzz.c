
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * libFuzzer harness for ngx_http_kpn_senml_parse() and _envelope().
 * Besides crashes, leaks and undefined behaviour it checks:
 *   - the envelope is built with the start of the input as device type
 *     (escaping, bytes of any kind), and is strict JSON when that is
 *     valid UTF-8;
 *   - an error has a known status and code and a valid UTF-8 message;
 *   - with a limit of 4 records, 413 comes for an array of more values and
 *     for nothing else;
 *   - an envelope is strict JSON, and every number in it reads back as
 *     the value that was accepted (integers as integers, reals exactly),
 *     written as the reference writer (senml_reference.h) writes it;
 *   - the resolved records, parsed as a pack again, are valid and name
 *     the same device; one more round changes nothing (the first round
 *     may: a real such as 1e15 is read back as an integer).
 * Build and run: util/fuzz/fuzz.sh BUILD_DIR.
 */


#include "ngx_http_kpn_senml.h"
#include "ngx_http_kpn_envelope.h"
#include "senml_reference.h"


/* the harness's own dumps: 17 digits, so every double reads back the same */
#define NGX_HTTP_KPN_FUZZ_JSON_FLAGS                                         \
    (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17))


static void ngx_http_kpn_fuzz_error(ngx_http_kpn_error_t *err);
static void ngx_http_kpn_fuzz_ok(ngx_pool_t *pool,
    ngx_http_kpn_senml_t *pack, const uint8_t *data, size_t size);
static void ngx_http_kpn_fuzz_same(ngx_str_t *a, ngx_str_t *b);
static ngx_int_t ngx_http_kpn_fuzz_dump(ngx_pool_t *pool, json_t *json,
    ngx_str_t *out);
static void ngx_http_kpn_fuzz_records(ngx_pool_t *pool, ngx_str_t *env,
    ngx_str_t *records);
static void ngx_http_kpn_fuzz_limit(ngx_pool_t *pool, ngx_str_t *body,
    ngx_http_kpn_senml_t *pack);
static void ngx_http_kpn_fuzz_numbers(json_t *records,
    ngx_http_kpn_senml_t *pack);
static void ngx_http_kpn_fuzz_number(json_t *rec, const char *key,
    ngx_uint_t present, ngx_http_kpn_senml_number_t *num);


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_int_t              rc;
    ngx_str_t              body;
    ngx_pool_t            *pool;
    ngx_http_kpn_error_t   err;
    ngx_http_kpn_senml_t   pack;

    pool = ngx_create_pool(4096, NULL);
    if (pool == NULL) {
        abort();
    }

    body.data = (u_char *) data;
    body.len = size;

    ngx_memzero(&err, sizeof(ngx_http_kpn_error_t));

    rc = ngx_http_kpn_senml_parse(pool, &body, 0, &pack, &err);

    /* the record limit: 413 only for an array of more values than that */

    ngx_http_kpn_fuzz_limit(pool, &body, rc == NGX_OK ? &pack : NULL);

    switch (rc) {

    case NGX_OK:
        ngx_http_kpn_fuzz_ok(pool, &pack, data, size);
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
ngx_http_kpn_fuzz_same(ngx_str_t *a, ngx_str_t *b)
{
    if (a->len != b->len
        || (a->len && ngx_memcmp(a->data, b->data, a->len) != 0))
    {
        abort();
    }
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
ngx_http_kpn_fuzz_ok(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack,
    const uint8_t *data, size_t size)
{
    json_t                *env, *str;
    ngx_int_t              rc;
    ngx_str_t              out, type, hash, records1, records2,
                           records3;
    ngx_http_kpn_error_t   err;
    ngx_http_kpn_senml_t   again, third;

    if (pack->records == NULL || pack->nrecords == 0
        || pack->device_id.len == 0
        || pack->urn.len == 0 || pack->urn.data[pack->urn.len - 1] != ':')
    {
        abort();
    }

    /* the start of the input as device type: escaping, invalid UTF-8 */

    type.data = (u_char *) data;
    type.len = ngx_min(size, 12);
    ngx_str_set(&hash, "wasd2");

    rc = ngx_http_kpn_senml_envelope(pool, pack, &type, &hash, &out);
    if (rc != NGX_OK) {
        abort();
    }

    /* with a device type that is valid UTF-8 the envelope is valid JSON */

    str = json_stringn((char *) type.data, type.len);

    if (str) {
        env = json_loadb((char *) out.data, out.len, JSON_REJECT_DUPLICATES,
                         NULL);
        if (env == NULL) {
            abort();
        }

        json_decref(env);
        json_decref(str);
    }

    ngx_str_set(&type, "dragino-lds01");

    if (ngx_http_kpn_senml_envelope(pool, pack, &type, &hash, &out)
        != NGX_OK)
    {
        abort();
    }

    /* strict JSON, printed back the same by jansson */

    env = json_loadb((char *) out.data, out.len, JSON_REJECT_DUPLICATES,
                     NULL);
    if (env == NULL) {
        abort();
    }

    if (ngx_http_kpn_json_cleanup_add(pool, env) != NGX_OK) {
        abort();
    }

    if (!json_is_object(json_object_get(env, "kpn"))
        || !json_is_array(json_object_get(env, "records"))
        || json_array_size(json_object_get(env, "records")) != pack->nrecords)
    {
        abort();
    }

    ngx_http_kpn_fuzz_numbers(json_object_get(env, "records"), pack);

    /* resolution reaches a fixed point */

    ngx_http_kpn_fuzz_records(pool, &out, &records1);

    if (ngx_http_kpn_senml_parse(pool, &records1, 0, &again, &err) != NGX_OK
        || again.nrecords != pack->nrecords)
    {
        abort();
    }

    ngx_http_kpn_fuzz_same(&again.device_id, &pack->device_id);

    if (ngx_http_kpn_senml_envelope(pool, &again, &type, &hash, &out)
        != NGX_OK)
    {
        abort();
    }

    ngx_http_kpn_fuzz_records(pool, &out, &records2);

    if (ngx_http_kpn_senml_parse(pool, &records2, 0, &third, &err) != NGX_OK
        || ngx_http_kpn_senml_envelope(pool, &third, &type, &hash, &out)
           != NGX_OK)
    {
        abort();
    }

    ngx_http_kpn_fuzz_records(pool, &out, &records3);

    ngx_http_kpn_fuzz_same(&records2, &records3);
}


#define NGX_HTTP_KPN_FUZZ_LIMIT  4

static void
ngx_http_kpn_fuzz_limit(ngx_pool_t *pool, ngx_str_t *body,
    ngx_http_kpn_senml_t *pack)
{
    json_t                *json;
    ngx_int_t              rc;
    ngx_http_kpn_error_t   err;
    ngx_http_kpn_senml_t   limited;

    rc = ngx_http_kpn_senml_parse(pool, body, NGX_HTTP_KPN_FUZZ_LIMIT,
                                  &limited, &err);

    if (rc == NGX_DECLINED && err.status == 413) {

        /*
         * refused for its size: valid JSON must be an array of more values
         * (records, base-only ones included, which resolution drops)
         */

        json = json_loadb((char *) body->data, body->len, 0, NULL);

        if (json && (!json_is_array(json)
                     || json_array_size(json) <= NGX_HTTP_KPN_FUZZ_LIMIT))
        {
            abort();
        }

        json_decref(json);
        return;
    }

    /* not refused for its size: the same outcome as without a limit */

    if ((rc == NGX_OK) != (pack != NULL)) {
        abort();
    }

    if (pack == NULL) {
        return;
    }

    json = json_loadb((char *) body->data, body->len, 0, NULL);

    if (json_array_size(json) > NGX_HTTP_KPN_FUZZ_LIMIT) {
        abort();
    }

    json_decref(json);
}


/* every number of the envelope's records is the resolved value, exactly */

static void
ngx_http_kpn_fuzz_numbers(json_t *records, ngx_http_kpn_senml_t *pack)
{
    json_t                       *rec;
    ngx_uint_t                    i;
    ngx_http_kpn_senml_record_t  *r;

    for (i = 0; i < pack->nrecords; i++) {
        r = &pack->records[i];
        rec = json_array_get(records, i);

        ngx_http_kpn_fuzz_number(rec, "t", r->has_time, &r->time);
        ngx_http_kpn_fuzz_number(rec, "v",
                                 r->value_type == NGX_HTTP_KPN_SENML_NUMBER,
                                 &r->value);
        ngx_http_kpn_fuzz_number(rec, "s", r->has_sum, &r->sum);
        ngx_http_kpn_fuzz_number(rec, "ut", r->has_update_time,
                                 &r->update_time);
    }
}


static void
ngx_http_kpn_fuzz_number(json_t *rec, const char *key, ngx_uint_t present,
    ngx_http_kpn_senml_number_t *num)
{
    u_char   text[NGX_HTTP_KPN_SENML_NUMBER_LEN], *end,
             ref[NGX_HTTP_KPN_SENML_NUMBER_LEN], *ref_end;
    json_t  *v;

    v = json_object_get(rec, key);

    if (!present) {
        if (v != NULL) {
            abort();
        }

        return;
    }

    if (v == NULL) {
        abort();
    }

    /* the text, byte for byte as the writer before the short-real path */

    end = ngx_http_kpn_envelope_number(text, num);
    ref_end = ngx_http_kpn_reference_number(ref, num);

    if (end - text != ref_end - ref || ngx_memcmp(text, ref, end - text) != 0)
    {
        abort();
    }

    if (num->is_integer) {
        if (!json_is_integer(v) || json_integer_value(v) != num->integer) {
            abort();
        }

        return;
    }

    if (!json_is_real(v) || json_real_value(v) != num->real) {
        abort();
    }
}


/* the "records" array of an envelope, as text */

static void
ngx_http_kpn_fuzz_records(ngx_pool_t *pool, ngx_str_t *env,
    ngx_str_t *records)
{
    json_t  *json;

    json = json_loadb((char *) env->data, env->len, JSON_REJECT_DUPLICATES,
                      NULL);
    if (json == NULL) {
        abort();
    }

    if (ngx_http_kpn_json_cleanup_add(pool, json) != NGX_OK) {
        abort();
    }

    if (ngx_http_kpn_fuzz_dump(pool, json_object_get(json, "records"),
                               records)
        != NGX_OK)
    {
        abort();
    }
}


/* json_dumpb() into pool memory, numbers exact */

static ngx_int_t
ngx_http_kpn_fuzz_dump(ngx_pool_t *pool, json_t *json, ngx_str_t *out)
{
    size_t  len;

    len = json_dumpb(json, NULL, 0, NGX_HTTP_KPN_FUZZ_JSON_FLAGS);
    if (len == 0) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = json_dumpb(json, (char *) out->data, len,
                          NGX_HTTP_KPN_FUZZ_JSON_FLAGS);

    return out->len == len ? NGX_OK : NGX_ERROR;
}
