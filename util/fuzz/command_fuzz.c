
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * libFuzzer harness for the downlink command (ngx_http_kpn_command.c):
 * the caller's JSON is untrusted input.  Besides crashes, leaks and
 * undefined behaviour it checks:
 *   - NGX_OK: devEUI 16 upper-case hex digits, port 1..223, payload
 *     non-empty even-length hex of at most 242 bytes (the devEUI in lower
 *     case beside it), deviceId absent or a
 *     lower-case UUID, and no field but the five known ones (jansson reads
 *     the input a second time to tell);
 *   - the texts of the variables: the port in decimal, the payload in
 *     base64 decodes to the bytes of the hex, the reference escaped for
 *     JSON is printable ASCII and reads back as the reference, the one
 *     escaped for a query string is URI-safe; a JSON template with every
 *     variable inside its string (the default body and a hostile one) is
 *     JSON that reads back to the same values;
 *   - the default query string holds only URI-safe bytes;
 *   - NGX_DECLINED: status 400 with a printable message;
 *   - the escaping of a templated query string (fed the raw input): only
 *     request-line-safe bytes, and escaping twice changes nothing.
 * Build and run: util/fuzz/fuzz.sh BUILD_DIR (FUZZ_TARGET=command for this one).
 */


#include "ngx_http_kpn_command.h"
#include "ngx_http_kpn_text.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


static const char  *known[] = {
    "devEUI", "port", "payload", "externalReference", "deviceId", NULL
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


static int
uri_safe(ngx_str_t *s)
{
    size_t  i;
    u_char  c;

    for (i = 0; i < s->len; i++) {
        c = s->data[i];

        if (c <= ' ' || c >= 0x7f || c == '#' || c == '"' || c == '<'
            || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{'
            || c == '|' || c == '}' || c == '[' || c == ']')
        {
            return 0;
        }
    }

    return 1;
}


static int
base64_value(u_char c)
{
    const char  *basis, *p;

    basis = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    p = c ? strchr(basis, c) : NULL;

    return p ? (int) (p - basis) : -1;
}


/* the payload in base64 is the bytes of its hex */

static void
check_base64(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd)
{
    int      v[4];
    size_t   i, j, n, len;
    u_char  *bytes, *out;

    len = cmd->payload.len / 2;

    if (cmd->payload_base64.len != (len + 2) / 3 * 4) {
        abort();
    }

    bytes = ngx_pnalloc(pool, len);
    out = ngx_pnalloc(pool, len + 3);
    if (bytes == NULL || out == NULL
        || ngx_http_kpn_hex_decode(bytes, cmd->payload.data, cmd->payload.len)
           != NGX_OK)
    {
        abort();
    }

    n = 0;

    for (i = 0; i < cmd->payload_base64.len; i += 4) {
        for (j = 0; j < 4; j++) {
            v[j] = base64_value(cmd->payload_base64.data[i + j]);
        }

        if (v[0] < 0 || v[1] < 0) {
            abort();
        }

        out[n++] = (u_char) (v[0] << 2 | v[1] >> 4);

        if (v[2] >= 0) {
            out[n++] = (u_char) ((v[1] & 0xf) << 4 | v[2] >> 2);
        }

        if (v[3] >= 0) {
            out[n++] = (u_char) ((v[2] & 0x3) << 6 | v[3]);
        }
    }

    if (n != len || ngx_memcmp(out, bytes, len) != 0) {
        abort();
    }
}


/* "<s>" read by jansson is a string of exactly want */

static void
check_json_string(ngx_pool_t *pool, ngx_str_t *s, ngx_str_t *want)
{
    u_char  *p;
    json_t  *json;

    p = ngx_pnalloc(pool, s->len + 2);
    if (p == NULL) {
        abort();
    }

    p[0] = '"';

    if (s->len) {
        ngx_memcpy(p + 1, s->data, s->len);
    }

    p[s->len + 1] = '"';

    json = json_loadb((char *) p, s->len + 2, JSON_DECODE_ANY, NULL);

    if (json == NULL || !json_is_string(json)
        || json_string_length(json) != want->len
        || (want->len
            && ngx_memcmp(json_string_value(json), want->data, want->len)
               != 0))
    {
        abort();
    }

    json_decref(json);
}


static int
string_is(json_t *obj, const char *key, ngx_str_t *want)
{
    json_t  *v;

    v = json_object_get(obj, key);

    return json_is_string(v) && json_string_length(v) == want->len
           && (want->len == 0
               || ngx_memcmp(json_string_value(v), want->data, want->len)
                  == 0);
}


/* templates with the variables inside their strings read back */

static void
check_templates(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd)
{
    u_char     *p, *last;
    size_t      len;
    json_t     *json, *rec;
    ngx_str_t   bn;
    u_char      bn_buf[sizeof("urn:dev:DEVEUI:0123456789ABCDEF:")];

    /* the default body, NGX_HTTP_KPN_DEFAULT_BODY */

    len = 128 + cmd->dev_eui.len + cmd->payload.len;
    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        abort();
    }

    last = ngx_sprintf(p, "[{\"bn\":\"urn:dev:DEVEUI:%V:\","
                       "\"n\":\"payloadHex\",\"vs\":\"%V\"}]",
                       &cmd->dev_eui, &cmd->payload);

    json = json_loadb((char *) p, last - p, JSON_REJECT_DUPLICATES, NULL);
    if (json == NULL || !json_is_array(json) || json_array_size(json) != 1) {
        abort();
    }

    rec = json_array_get(json, 0);

    bn.data = bn_buf;
    bn.len = ngx_sprintf(bn_buf, "urn:dev:DEVEUI:%V:", &cmd->dev_eui)
             - bn_buf;

    if (!string_is(rec, "bn", &bn) || !string_is(rec, "vs", &cmd->payload)) {
        abort();
    }

    json_decref(json);

    /* every variable in one object */

    len = 128 + 2 * cmd->dev_eui.len + cmd->port_text.len + cmd->payload.len
          + cmd->payload_base64.len + cmd->reference_json.len
          + cmd->reference_arg.len + cmd->device_id.len;
    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        abort();
    }

    last = ngx_sprintf(p, "{\"eui\":\"%V\",\"low\":\"%V\",\"port\":%V,"
                       "\"hex\":\"%V\",\"b64\":\"%V\",\"ref\":\"%V\","
                       "\"arg\":\"%V\",\"id\":\"%V\"}",
                       &cmd->dev_eui, &cmd->dev_eui_lower, &cmd->port_text,
                       &cmd->payload,
                       &cmd->payload_base64, &cmd->reference_json,
                       &cmd->reference_arg, &cmd->device_id);

    json = json_loadb((char *) p, last - p, JSON_REJECT_DUPLICATES, NULL);

    if (json == NULL || json_object_size(json) != 8
        || !string_is(json, "eui", &cmd->dev_eui)
        || !string_is(json, "low", &cmd->dev_eui_lower)
        || json_integer_value(json_object_get(json, "port")) != cmd->port
        || !string_is(json, "hex", &cmd->payload)
        || !string_is(json, "b64", &cmd->payload_base64)
        || !string_is(json, "ref", &cmd->reference)
        || !string_is(json, "arg", &cmd->reference_arg)
        || !string_is(json, "id", &cmd->device_id))
    {
        abort();
    }

    json_decref(json);
}


static void
check_command(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd)
{
    size_t      i;
    u_char      c, buf[NGX_INT_T_LEN];
    ngx_str_t   args;

    if (cmd->dev_eui.len != 16 || cmd->port < 1
        || cmd->port > NGX_HTTP_KPN_MAX_PORT
        || cmd->payload.len == 0 || cmd->payload.len % 2
        || cmd->payload.len / 2 > NGX_HTTP_KPN_MAX_PAYLOAD
        || !ngx_http_kpn_is_hex(cmd->payload.data, cmd->payload.len)
        || cmd->reference.len > NGX_HTTP_KPN_EXTREF_MAX)
    {
        abort();
    }

    for (i = 0; i < 16; i++) {
        if (!ngx_http_kpn_is_hex(&cmd->dev_eui.data[i], 1)
            || (cmd->dev_eui.data[i] >= 'a' && cmd->dev_eui.data[i] <= 'f'))
        {
            abort();
        }
    }

    for (i = 0; i < 16; i++) {
        if (cmd->dev_eui_lower.len != 16
            || cmd->dev_eui_lower.data[i] != ngx_tolower(cmd->dev_eui.data[i]))
        {
            abort();
        }
    }

    if (cmd->device_id.len != 0 && cmd->device_id.len != 36) {
        abort();
    }

    for (i = 0; i < cmd->device_id.len; i++) {
        c = cmd->device_id.data[i];

        if ((i == 8 || i == 13 || i == 18 || i == 23)
            ? c != '-'
            : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
        {
            abort();
        }
    }

    if ((size_t) (ngx_sprintf(buf, "%i", cmd->port) - buf)
        != cmd->port_text.len
        || ngx_memcmp(buf, cmd->port_text.data, cmd->port_text.len) != 0)
    {
        abort();
    }

    check_base64(pool, cmd);

    if ((cmd->reference.len == 0) != (cmd->reference_json.len == 0)
        || (cmd->reference.len == 0) != (cmd->reference_arg.len == 0))
    {
        abort();
    }

    for (i = 0; i < cmd->reference_json.len; i++) {
        if (cmd->reference_json.data[i] < 0x20
            || cmd->reference_json.data[i] >= 0x7f)
        {
            abort();
        }
    }

    check_json_string(pool, &cmd->reference_json, &cmd->reference);

    for (i = 0; i < cmd->reference_arg.len; i++) {
        c = cmd->reference_arg.data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '-' || c == '.' || c == '_' || c == '~' || c == '%'))
        {
            abort();
        }
    }

    check_templates(pool, cmd);

    if (ngx_http_kpn_command_args(pool, cmd, &args) != NGX_OK
        || !uri_safe(&args))
    {
        abort();
    }
}


static void
check_query(ngx_pool_t *pool, const uint8_t *data, size_t size)
{
    ngx_str_t  in, once, twice;

    in.data = (u_char *) data;
    in.len = size;

    if (ngx_http_kpn_command_query(pool, &in, &once) != NGX_OK
        || !uri_safe(&once)
        || ngx_http_kpn_command_query(pool, &once, &twice) != NGX_OK
        || twice.len != once.len
        || ngx_memcmp(twice.data, once.data, once.len) != 0)
    {
        abort();
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

        check_command(pool, &cmd);
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

    check_query(pool, data, size);

    ngx_destroy_pool(pool);

    return 0;
}
