
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The command_diff harness's oracle: the downlink command's parse before
 * the module's own reader, on jansson (json_loadb() with
 * JSON_REJECT_DUPLICATES and the walk of its tree), kept as it was:
 * ngx_http_kpn_command_parse() must give the same answer and the same
 * command for every input (util/fuzz/command_diff_fuzz.c).
 */


#include "command_oracle.h"
#include "oracle_json.h"
#include "ngx_http_kpn_text.h"



static ngx_int_t ngx_http_kpn_oracle_command_fields(ngx_pool_t *pool,
    json_t *json, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_oracle_command_texts(ngx_pool_t *pool,
    ngx_http_kpn_command_t *cmd);
static size_t ngx_http_kpn_oracle_command_json(u_char *dst, u_char *src,
    size_t len);
static u_char *ngx_http_kpn_oracle_command_u(u_char *dst, uint32_t u);
static ngx_int_t ngx_http_kpn_oracle_command_payload(ngx_pool_t *pool,
    json_t *json, ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_oracle_command_optional(ngx_pool_t *pool,
    json_t *json, ngx_http_kpn_command_t *cmd, ngx_http_kpn_error_t *err);


/* the fields of the input, in the order of the messages */
static char  *ngx_http_kpn_oracle_command_known[] = {
    "devEUI", "port", "payload", "externalReference", "deviceId", NULL
};


ngx_int_t
ngx_http_kpn_command_oracle(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err)
{
    int64_t     port;
    json_t     *json, *v;
    ngx_int_t   rc;

    if (body->len == 0) {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                  0, "the body is empty");
    }

    rc = ngx_http_kpn_json_load_as(pool, body, JSON_OBJECT,
                                   NGX_HTTP_KPN_INVALID_JSON,
                                   "the body must be a JSON object",
                                   &json, err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_kpn_oracle_command_fields(pool, json, err);
    if (rc != NGX_OK) {
        return rc;
    }

    /* devEUI: 16 hex digits */

    v = json_object_get(json, "devEUI");

    if (v == NULL || !json_is_string(v)
        || json_string_length(v) != 16
        || !ngx_http_kpn_is_hex((u_char *) json_string_value(v), 16))
    {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_DEV_EUI,
                                  0,
                                  "\"devEUI\" must be a string of "
                                  "16 hex digits");
    }

    cmd->dev_eui.len = 16;
    cmd->dev_eui.data = ngx_pnalloc(pool, 16);
    if (cmd->dev_eui.data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_kpn_upper(cmd->dev_eui.data, (u_char *) json_string_value(v),
                       16);

    /* port: an integer (1.0 counts) from 1 to 223 */

    v = json_object_get(json, "port");

    if (v == NULL
        || ngx_http_kpn_json_integer(v, 1, NGX_HTTP_KPN_MAX_PORT, &port)
           != NGX_OK)
    {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PORT,
                                  0,
                                  "\"port\" must be an integer from 1 to %d",
                                  NGX_HTTP_KPN_MAX_PORT);
    }

    cmd->port = (ngx_int_t) port;

    rc = ngx_http_kpn_oracle_command_payload(pool, json, max_payload, cmd,
                                             err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_kpn_oracle_command_optional(pool, json, cmd, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_kpn_oracle_command_texts(pool, cmd);
}


/* payload: even-length hex, 1 .. max_payload bytes */

static ngx_int_t
ngx_http_kpn_oracle_command_payload(ngx_pool_t *pool, json_t *json,
    ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err)
{
    json_t  *v;

    v = json_object_get(json, "payload");

    if (v == NULL || !json_is_string(v)) {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PAYLOAD,
                                  0,
                                  "\"payload\" must be a hex string");
    }

    cmd->payload.data = (u_char *) json_string_value(v);
    cmd->payload.len = json_string_length(v);

    if (cmd->payload.len == 0 || cmd->payload.len % 2
        || !ngx_http_kpn_is_hex(cmd->payload.data, cmd->payload.len))
    {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PAYLOAD,
                                  0,
                                  "\"payload\" must be a non-empty hex "
                                  "string of even length");
    }

    if (cmd->payload.len / 2 > max_payload) {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PAYLOAD,
                                  0,
                                  "\"payload\" is %uz bytes, at most %ui "
                                  "are allowed",
                                  cmd->payload.len / 2, max_payload);
    }

    return NGX_OK;
}


/* externalReference and deviceId: both optional, null is absent */

static ngx_int_t
ngx_http_kpn_oracle_command_optional(ngx_pool_t *pool, json_t *json,
    ngx_http_kpn_command_t *cmd, ngx_http_kpn_error_t *err)
{
    json_t     *v;
    ngx_int_t   rc;
    ngx_str_t   s;

    /* externalReference: an optional string */

    ngx_str_null(&cmd->reference);

    v = json_object_get(json, "externalReference");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)
            || json_string_length(v) > NGX_HTTP_KPN_EXTREF_MAX)
        {
            return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                      0,
                                      "\"externalReference\" must be a "
                                      "string of at most %d characters",
                                      NGX_HTTP_KPN_EXTREF_MAX);
        }

        cmd->reference.data = (u_char *) json_string_value(v);
        cmd->reference.len = json_string_length(v);
    }

    /* deviceId: an optional KPN device UUID */

    ngx_str_null(&cmd->device_id);

    v = json_object_get(json, "deviceId");

    if (v && !json_is_null(v)) {
        rc = NGX_DECLINED;

        if (json_is_string(v)) {
            s.data = (u_char *) json_string_value(v);
            s.len = json_string_length(v);

            rc = ngx_http_kpn_command_uuid(pool, &s, &cmd->device_id);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }
        }

        if (rc != NGX_OK) {
            return ngx_http_kpn_raise(pool, err,
                                      NGX_HTTP_KPN_INVALID_DEVICE_ID,
                                      0,
                                      "\"deviceId\" must be a UUID "
                                      "(8-4-4-4-12 hex digits)");
        }
    }

    return NGX_OK;
}


/* every field must be known: a typo is refused, not ignored */

static ngx_int_t
ngx_http_kpn_oracle_command_fields(ngx_pool_t *pool, json_t *json,
    ngx_http_kpn_error_t *err)
{
    char        **known;
    void         *iter;
    const char   *key;
    ngx_str_t     name, echo;
    ngx_uint_t    cut;

    for (iter = json_object_iter(json);
         iter;
         iter = json_object_iter_next(json, iter))
    {
        key = json_object_iter_key(iter);

        for (known = ngx_http_kpn_oracle_command_known; *known; known++) {
            if (ngx_strcmp(key, *known) == 0) {
                break;
            }
        }

        if (*known) {
            continue;
        }

        name.data = (u_char *) key;
        name.len = ngx_strlen(key);

        ngx_http_kpn_echo(&name, NGX_HTTP_KPN_ECHO_MAX, &echo, &cut);

        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                  0,
                                  "unknown field \"%V%s\" (the fields are "
                                  "devEUI, port, payload, externalReference "
                                  "and deviceId)",
                                  &echo, cut ? "..." : "");
    }

    return NGX_OK;
}


/* the values of the variables, computed once for every template */

static ngx_int_t
ngx_http_kpn_oracle_command_texts(ngx_pool_t *pool,
    ngx_http_kpn_command_t *cmd)
{
    size_t      n;
    ngx_str_t   bytes;
    ngx_str_t  *ref;

    cmd->dev_eui_lower.len = cmd->dev_eui.len;
    cmd->dev_eui_lower.data = ngx_pnalloc(pool, cmd->dev_eui.len);
    if (cmd->dev_eui_lower.data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(cmd->dev_eui_lower.data, cmd->dev_eui.data, cmd->dev_eui.len);

    cmd->port_text.data = ngx_pnalloc(pool, NGX_INT_T_LEN);
    if (cmd->port_text.data == NULL) {
        return NGX_ERROR;
    }

    cmd->port_text.len = ngx_sprintf(cmd->port_text.data, "%i", cmd->port)
                         - cmd->port_text.data;

    /* the payload in base64: the bytes the hex stands for */

    bytes.len = cmd->payload.len / 2;
    bytes.data = ngx_pnalloc(pool, bytes.len);
    if (bytes.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_kpn_hex_decode(bytes.data, cmd->payload.data,
                                cmd->payload.len)
        != NGX_OK)
    {
        return NGX_ERROR;   /* validated above */
    }

    cmd->payload_base64.data = ngx_pnalloc(pool,
                                          ngx_base64_encoded_length(bytes.len));
    if (cmd->payload_base64.data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64(&cmd->payload_base64, &bytes);

    /* externalReference, for a JSON string and for a query string */

    ref = &cmd->reference;

    ngx_str_null(&cmd->reference_json);
    ngx_str_null(&cmd->reference_arg);

    if (ref->len == 0) {
        return NGX_OK;
    }

    cmd->reference_json.len = ngx_http_kpn_oracle_command_json(NULL, ref->data,
                                                        ref->len);
    cmd->reference_json.data = ngx_pnalloc(pool, cmd->reference_json.len);
    if (cmd->reference_json.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_kpn_oracle_command_json(cmd->reference_json.data,
                                            ref->data,
                                     ref->len);

    n = ngx_escape_uri(NULL, ref->data, ref->len, NGX_ESCAPE_URI_COMPONENT);

    cmd->reference_arg.len = ref->len + 2 * n;
    cmd->reference_arg.data = ngx_pnalloc(pool, cmd->reference_arg.len);
    if (cmd->reference_arg.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_escape_uri(cmd->reference_arg.data, ref->data, ref->len,
                          NGX_ESCAPE_URI_COMPONENT);

    return NGX_OK;
}


/*
 * Text for the inside of a JSON string, in ASCII alone, so that it is the
 * same in any charset and may go into a header too: '"' and '\' escaped,
 * \b \f \n \r \t, other control characters and DEL as \u00 and two hex
 * digits, every character beyond ASCII as \u and four (a surrogate pair
 * beyond U+FFFF; U+2028 and U+2029 included).  The input is UTF-8 from
 * jansson; a byte that is not part of a character (never, from jansson)
 * becomes \ufffd.  With dst NULL, only the length.
 */

static size_t
ngx_http_kpn_oracle_command_json(u_char *dst, u_char *src, size_t len)
{
    u_char    *p, *last, c, esc;
    size_t     n;
    uint32_t   u;
    ngx_int_t  k;

    n = 0;
    p = src;
    last = src + len;

    while (p < last) {
        c = *p;

        if (c >= 0x20 && c < 0x7f) {
            p++;

            if (c == '"' || c == '\\') {
                n += 2;

                if (dst) {
                    *dst++ = '\\';
                    *dst++ = c;
                }

            } else {
                n++;

                if (dst) {
                    *dst++ = c;
                }
            }

            continue;
        }

        if (c < 0x80) {
            p++;

            switch (c) {
            case '\b': esc = 'b'; break;
            case '\f': esc = 'f'; break;
            case '\n': esc = 'n'; break;
            case '\r': esc = 'r'; break;
            case '\t': esc = 't'; break;
            default:   esc = 0;
            }

            if (esc) {
                n += 2;

                if (dst) {
                    *dst++ = '\\';
                    *dst++ = esc;
                }

                continue;
            }

            u = c;

        } else {
            k = ngx_http_kpn_utf8_decode(p, last - p, &u);

            if (k > 0) {
                p += k;

            } else {
                p++;
                u = 0xfffd;
            }
        }

        if (u < 0x10000) {
            n += 6;

            if (dst) {
                dst = ngx_http_kpn_oracle_command_u(dst, u);
            }

            continue;
        }

        n += 12;

        if (dst) {
            u -= 0x10000;
            dst = ngx_http_kpn_oracle_command_u(dst, 0xd800 + (u >> 10));
            dst = ngx_http_kpn_oracle_command_u(dst, 0xdc00 + (u & 0x3ff));
        }
    }

    return n;
}


static u_char *
ngx_http_kpn_oracle_command_u(u_char *dst, uint32_t u)
{
    static u_char  hex[] = "0123456789abcdef";

    *dst++ = '\\';
    *dst++ = 'u';
    *dst++ = hex[(u >> 12) & 0xf];
    *dst++ = hex[(u >> 8) & 0xf];
    *dst++ = hex[(u >> 4) & 0xf];
    *dst++ = hex[u & 0xf];

    return dst;
}
