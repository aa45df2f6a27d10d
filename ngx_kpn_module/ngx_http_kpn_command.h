
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * A downlink command: the caller's JSON parsed and validated into a
 * struct, with the texts of the $kpn_downlink_* variables (no HTTP: the
 * fuzz harness can call it); the default query string and the escaping of
 * a query string built from a template.
 */


#ifndef _NGX_HTTP_KPN_COMMAND_H_INCLUDED_
#define _NGX_HTTP_KPN_COMMAND_H_INCLUDED_


#include "ngx_http_kpn_json.h"


#define NGX_HTTP_KPN_MAX_PAYLOAD       242     /* bytes */
#define NGX_HTTP_KPN_MAX_PORT          223
#define NGX_HTTP_KPN_EXTREF_MAX        256     /* bytes */
#define NGX_HTTP_KPN_UUID_LEN          36      /* 8-4-4-4-12 */


/* every string in the body or in pool memory */
typedef struct {
    ngx_str_t                  dev_eui;     /* 16 hex digits, upper case */
    ngx_int_t                  port;        /* 1 .. NGX_HTTP_KPN_MAX_PORT */
    ngx_str_t                  payload;     /* hex as given, even length */
    ngx_str_t                  reference;   /* externalReference, UTF-8;
                                               empty when absent, null or
                                               "" */
    ngx_str_t                  device_id;   /* deviceId, a UUID in lower
                                               case; empty when absent or
                                               null */

    /* the texts of the variables, each safe inside a JSON string */
    ngx_str_t                  dev_eui_lower;   /* lower case */
    ngx_str_t                  port_text;       /* decimal */
    ngx_str_t                  payload_base64;  /* RFC 4648, padded */
    ngx_str_t                  reference_json;  /* JSON-escaped, ASCII */
    ngx_str_t                  reference_arg;   /* URI-component escaped */
} ngx_http_kpn_command_t;


/*
 * Parses and validates the caller's JSON object {"devEUI", "port", "payload"[,
 * "externalReference"][, "deviceId"]} of body (any other field is refused);
 * payloads of more than max_payload bytes are refused. NGX_OK: cmd filled,
 * texts included.  NGX_DECLINED: err filled (400 NGX_HTTP_KPN_INVALID_JSON,
 * NGX_HTTP_KPN_INVALID_DEV_EUI, NGX_HTTP_KPN_INVALID_PORT,
 * NGX_HTTP_KPN_INVALID_PAYLOAD, NGX_HTTP_KPN_INVALID_DEVICE_ID).  NGX_ERROR:
 * out of memory.
 */
ngx_int_t ngx_http_kpn_command_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err);

/*
 * A UUID (8-4-4-4-12 hex digits, either case) into out, in lower case
 * (pool memory): NGX_OK, NGX_DECLINED when in is not one, NGX_ERROR.
 */
ngx_int_t ngx_http_kpn_command_uuid(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);

/*
 * The default query string of the Beta API: port=N and, when given,
 * &externalReference=<URI-escaped>, of a command that
 * ngx_http_kpn_command_parse() accepted (its texts).
 */
ngx_int_t ngx_http_kpn_command_args(ngx_pool_t *pool,
    ngx_http_kpn_command_t *cmd, ngx_str_t *args);

/*
 * A query string made from a template, safe for the request line: every
 * byte that RFC 3986 does not allow in a query becomes %XX (controls,
 * space, '"', '#', '<', '>', '\', '^', '`', '{', '|', '}', '[', ']',
 * non-ASCII); '%' and the delimiters stay, so escapes and "&", "=" of the
 * template keep their meaning.  out may be in itself when nothing needs
 * escaping.
 */
ngx_int_t ngx_http_kpn_command_query(ngx_pool_t *pool, ngx_str_t *in,
    ngx_str_t *out);


#endif /* _NGX_HTTP_KPN_COMMAND_H_INCLUDED_ */
