
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * A downlink command: the caller's JSON parsed and validated into a
 * struct (no HTTP: the fuzz harness can call it), then the outgoing
 * SenML body and query string built from it.
 */


#ifndef _NGX_HTTP_KPN_COMMAND_H_INCLUDED_
#define _NGX_HTTP_KPN_COMMAND_H_INCLUDED_


#include "ngx_http_kpn_json.h"


#define NGX_HTTP_KPN_MAX_PAYLOAD       242     /* bytes */
#define NGX_HTTP_KPN_MAX_PORT          223
#define NGX_HTTP_KPN_EXTREF_MAX        256     /* bytes */


/* every string in pool or jansson memory released with the pool */
typedef struct {
    ngx_str_t                  dev_eui;     /* 16 hex digits, upper case */
    ngx_int_t                  port;        /* 1 .. NGX_HTTP_KPN_MAX_PORT */
    ngx_str_t                  payload;     /* hex as given, even length */
    ngx_str_t                  reference;   /* externalReference; empty
                                               when absent or null */
} ngx_http_kpn_command_t;


/*
 * Parses and validates the caller's JSON object {"devEUI", "port",
 * "payload"[, "externalReference"]} of body (any other field is refused);
 * payloads of more than max_payload bytes are refused.  NGX_OK: cmd filled.  NGX_DECLINED: err
 * filled (400 invalid_json, invalid_dev_eui, invalid_port,
 * invalid_payload).  NGX_ERROR: out of memory.
 */
ngx_int_t ngx_http_kpn_command_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err);

/* the SenML body KPN takes: [{"bn":"urn:dev:DEVEUI:<EUI>:",...}] */
ngx_int_t ngx_http_kpn_command_body(ngx_pool_t *pool,
    ngx_http_kpn_command_t *cmd, ngx_str_t *body);

/*
 * The query string: the fixed arguments of kpn_downlink_uri (may be
 * empty), then port=N and, when given, externalReference (URI-escaped).
 */
ngx_int_t ngx_http_kpn_command_args(ngx_pool_t *pool,
    ngx_http_kpn_command_t *cmd, ngx_str_t *fixed, ngx_str_t *args);


#endif /* _NGX_HTTP_KPN_COMMAND_H_INCLUDED_ */
