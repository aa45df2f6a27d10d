
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * A downlink command: parse and validate, then build what KPN receives.
 */


#include "ngx_http_kpn_command.h"


static ngx_int_t ngx_http_kpn_command_fields(ngx_pool_t *pool, json_t *json,
    ngx_http_kpn_error_t *err);


/* the fields of the input, in the order of the messages */
static char  *ngx_http_kpn_command_known[] = {
    "devEUI", "port", "payload", "externalReference", NULL
};


ngx_int_t
ngx_http_kpn_command_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err)
{
    int64_t     port;
    json_t     *json, *v;
    ngx_int_t   rc;

    if (body->len == 0) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_json", "the body is empty");
    }

    rc = ngx_http_kpn_json_load(pool, body, &json, err);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!json_is_object(json)) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_json",
                                  "the body must be a JSON object");
    }

    rc = ngx_http_kpn_command_fields(pool, json, err);
    if (rc != NGX_OK) {
        return rc;
    }

    /* devEUI: 16 hex digits */

    v = json_object_get(json, "devEUI");

    if (v == NULL || !json_is_string(v)
        || json_string_length(v) != 16
        || !ngx_http_kpn_is_hex((u_char *) json_string_value(v), 16))
    {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_dev_eui",
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
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_port",
                                  "\"port\" must be an integer from 1 to %d",
                                  NGX_HTTP_KPN_MAX_PORT);
    }

    cmd->port = (ngx_int_t) port;

    /* payload: even-length hex, 1 .. max_payload bytes */

    v = json_object_get(json, "payload");

    if (v == NULL || !json_is_string(v)) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_payload",
                                  "\"payload\" must be a hex string");
    }

    cmd->payload.data = (u_char *) json_string_value(v);
    cmd->payload.len = json_string_length(v);

    if (cmd->payload.len == 0 || cmd->payload.len % 2
        || !ngx_http_kpn_is_hex(cmd->payload.data, cmd->payload.len))
    {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_payload",
                                  "\"payload\" must be a non-empty hex "
                                  "string of even length");
    }

    if (cmd->payload.len / 2 > max_payload) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_payload",
                                  "\"payload\" is %uz bytes, at most %ui "
                                  "are allowed",
                                  cmd->payload.len / 2, max_payload);
    }

    /* externalReference: an optional string */

    ngx_str_null(&cmd->reference);

    v = json_object_get(json, "externalReference");

    if (v && !json_is_null(v)) {
        if (!json_is_string(v)
            || json_string_length(v) > NGX_HTTP_KPN_EXTREF_MAX)
        {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_json",
                                      "\"externalReference\" must be a "
                                      "string of at most %d characters",
                                      NGX_HTTP_KPN_EXTREF_MAX);
        }

        cmd->reference.data = (u_char *) json_string_value(v);
        cmd->reference.len = json_string_length(v);
    }

    return NGX_OK;
}


/* every field must be known: a typo is refused, not ignored */

static ngx_int_t
ngx_http_kpn_command_fields(ngx_pool_t *pool, json_t *json,
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

        for (known = ngx_http_kpn_command_known; *known; known++) {
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

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_json",
                                  "unknown field \"%V%s\" (the fields are "
                                  "devEUI, port, payload and "
                                  "externalReference)",
                                  &echo, cut ? "..." : "");
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_command_body(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd,
    ngx_str_t *body)
{
    size_t  len;

    /* the EUI and the payload are plain hex: nothing to escape */

    len = sizeof("[{\"bn\":\"urn:dev:DEVEUI::\",\"n\":\"payloadHex\","
                 "\"vs\":\"\"}]") - 1
          + cmd->dev_eui.len + cmd->payload.len;

    body->data = ngx_pnalloc(pool, len);
    if (body->data == NULL) {
        return NGX_ERROR;
    }

    body->len = ngx_sprintf(body->data,
                            "[{\"bn\":\"urn:dev:DEVEUI:%V:\","
                            "\"n\":\"payloadHex\",\"vs\":\"%V\"}]",
                            &cmd->dev_eui, &cmd->payload)
                - body->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_command_args(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd,
    ngx_str_t *fixed, ngx_str_t *args)
{
    u_char     *p;
    size_t      len;
    uintptr_t   n;
    ngx_str_t  *ref;

    ref = &cmd->reference;

    n = ref->len ? ngx_escape_uri(NULL, ref->data, ref->len,
                                  NGX_ESCAPE_URI_COMPONENT)
                 : 0;

    len = fixed->len + sizeof("&port=") - 1 + NGX_INT_T_LEN
          + sizeof("&externalReference=") - 1 + ref->len + 2 * n;

    args->data = ngx_pnalloc(pool, len);
    if (args->data == NULL) {
        return NGX_ERROR;
    }

    p = args->data;

    if (fixed->len) {
        p = ngx_sprintf(p, "%V&", fixed);
    }

    p = ngx_sprintf(p, "port=%i", cmd->port);

    if (ref->len) {
        p = ngx_cpymem(p, "&externalReference=",
                       sizeof("&externalReference=") - 1);
        p = (u_char *) ngx_escape_uri(p, ref->data, ref->len,
                                      NGX_ESCAPE_URI_COMPONENT);
    }

    args->len = p - args->data;

    return NGX_OK;
}
