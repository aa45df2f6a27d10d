
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * libFuzzer harness: the differential target of the SenML reader.  Every
 * input goes through ngx_http_kpn_senml_parse() (the module's one-pass
 * reader) and through the oracle (util/fuzz/senml_oracle.c: jansson and
 * the walk of its tree, as the module had them before), with no record
 * limit and with a limit of 4; it aborts unless both give:
 *   - the same answer: accepted, or refused with the same status and code;
 *   - for an accepted pack, the same records (names, units, strings, the
 *     numbers bit for bit, the flags), the same device, KPN fields and
 *     texts, and byte-identical envelopes.
 * Build and run: FUZZ_TARGETS=diff util/fuzz/fuzz.sh BUILD_DIR (make fuzz runs
 * it with the others).
 */


#include "ngx_http_kpn_senml.h"
#include "ngx_http_kpn_envelope.h"
#include "ngx_http_kpn_device.h"
#include "senml_oracle.h"

#include <stdio.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ngx_http_kpn_diff(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max);
static void ngx_http_kpn_diff_str(const char *what, ngx_str_t *a,
    ngx_str_t *b);
static void ngx_http_kpn_diff_num(const char *what,
    ngx_http_kpn_senml_number_t *a, ngx_http_kpn_senml_number_t *b);
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

    ngx_http_kpn_diff(pool, &body, 0);
    ngx_http_kpn_diff(pool, &body, 4);

    ngx_destroy_pool(pool);
    free(copy);

    return 0;
}


static void
ngx_http_kpn_diff(ngx_pool_t *pool, ngx_str_t *body, ngx_uint_t max)
{
    ngx_int_t                     rc, orc;
    ngx_str_t                     type, hash, env, oenv;
    ngx_uint_t                    i;
    ngx_http_kpn_error_t          err, oerr;
    ngx_http_kpn_senml_t          pack, opack;
    ngx_http_kpn_senml_record_t  *a, *b;

    ngx_memzero(&err, sizeof(ngx_http_kpn_error_t));
    ngx_memzero(&oerr, sizeof(ngx_http_kpn_error_t));

    rc = ngx_http_kpn_senml_parse(pool, body, max, &pack, &err);
    orc = ngx_http_kpn_oracle_parse(pool, body, max, &opack, &oerr);

    if (rc != orc) {
        fprintf(stderr, "reader %d (%.*s: %.*s), oracle %d (%.*s: %.*s)\n",
                (int) rc, (int) err.code.len, err.code.data,
                (int) err.message.len, err.message.data,
                (int) orc, (int) oerr.code.len, oerr.code.data,
                (int) oerr.message.len, oerr.message.data);
        ngx_http_kpn_diff_fail("the answer");
    }

    if (rc == NGX_DECLINED) {
        if (err.status != oerr.status) {
            fprintf(stderr, "reader %d %.*s: %.*s, oracle %d %.*s: %.*s\n",
                    (int) err.status, (int) err.code.len, err.code.data,
                    (int) err.message.len, err.message.data,
                    (int) oerr.status, (int) oerr.code.len, oerr.code.data,
                    (int) oerr.message.len, oerr.message.data);
            ngx_http_kpn_diff_fail("the status");
        }

        ngx_http_kpn_diff_str("the error code", &err.code, &oerr.code);
        return;
    }

    if (rc != NGX_OK) {
        abort();
    }

    if (pack.nrecords != opack.nrecords) {
        ngx_http_kpn_diff_fail("the number of records");
    }

    for (i = 0; i < pack.nrecords; i++) {
        a = &pack.records[i];
        b = &opack.records[i];

        ngx_http_kpn_diff_str("a name", &a->name, &b->name);

        if (a->has_unit != b->has_unit || a->value_type != b->value_type
            || a->boolean != b->boolean || a->has_time != b->has_time
            || a->has_sum != b->has_sum
            || a->has_update_time != b->has_update_time)
        {
            ngx_http_kpn_diff_fail("a record's flags");
        }

        if (a->has_unit) {
            ngx_http_kpn_diff_str("a unit", &a->unit, &b->unit);
        }

        if (a->value_type == NGX_HTTP_KPN_SENML_STRING
            || a->value_type == NGX_HTTP_KPN_SENML_DATA)
        {
            ngx_http_kpn_diff_str("a string", &a->string, &b->string);
        }

        ngx_http_kpn_diff_num("a time", &a->time, &b->time);
        ngx_http_kpn_diff_num("a value", &a->value, &b->value);
        ngx_http_kpn_diff_num("a sum", &a->sum, &b->sum);
        ngx_http_kpn_diff_num("an update time", &a->update_time,
                              &b->update_time);
    }

    ngx_str_set(&type, "dragino-lds01");
    ngx_str_set(&hash, "wasd2");
    ngx_str_set(&pack.message_id, "0123abcd");
    opack.message_id = pack.message_id;

    if (ngx_http_kpn_senml_envelope(pool, &pack, &type, &hash, &env)
        != NGX_OK
        || ngx_http_kpn_senml_envelope(pool, &opack, &type, &hash, &oenv)
           != NGX_OK)
    {
        abort();
    }

    ngx_http_kpn_diff_str("the envelope", &env, &oenv);

    /*
     * the texts of the variables, after the envelopes (the module writes
     * its envelope before any is printed): on demand, the oracle's at once
     */

    if (ngx_http_kpn_device_texts(pool, &pack) != NGX_OK) {
        abort();
    }

    ngx_http_kpn_diff_str("the urn", &pack.urn, &opack.urn);
    ngx_http_kpn_diff_str("the id type", &pack.id_type, &opack.id_type);
    ngx_http_kpn_diff_str("the device id", &pack.device_id,
                          &opack.device_id);
    ngx_http_kpn_diff_str("$kpn_time", &pack.time_text, &opack.time_text);
    ngx_http_kpn_diff_str("$kpn_port", &pack.port_text, &opack.port_text);
    ngx_http_kpn_diff_str("$kpn_payload_hex", &pack.payload_hex_text,
                          &opack.payload_hex_text);
    ngx_http_kpn_diff_str("$kpn_fcnt_up", &pack.fcnt_up_text,
                          &opack.fcnt_up_text);
    ngx_http_kpn_diff_str("$kpn_rssi", &pack.rssi_text, &opack.rssi_text);
    ngx_http_kpn_diff_str("$kpn_snr", &pack.snr_text, &opack.snr_text);
}


static void
ngx_http_kpn_diff_str(const char *what, ngx_str_t *a, ngx_str_t *b)
{
    if (a->len != b->len
        || (a->len && ngx_memcmp(a->data, b->data, a->len) != 0))
    {
        fprintf(stderr, "reader \"%.*s\", oracle \"%.*s\"\n",
                (int) ngx_min(a->len, 200), a->data,
                (int) ngx_min(b->len, 200), b->data);
        ngx_http_kpn_diff_fail(what);
    }
}


static void
ngx_http_kpn_diff_num(const char *what, ngx_http_kpn_senml_number_t *a,
    ngx_http_kpn_senml_number_t *b)
{
    if (a->is_integer != b->is_integer || a->integer != b->integer
        || ngx_memcmp(&a->real, &b->real, sizeof(double)) != 0)
    {
        fprintf(stderr, "reader %d %lld %.17g, oracle %d %lld %.17g\n",
                (int) a->is_integer, (long long) a->integer, a->real,
                (int) b->is_integer, (long long) b->integer, b->real);
        ngx_http_kpn_diff_fail(what);
    }
}


static void
ngx_http_kpn_diff_fail(const char *what)
{
    fprintf(stderr, "senml_diff: %s differs from the oracle's\n", what);
    abort();
}
