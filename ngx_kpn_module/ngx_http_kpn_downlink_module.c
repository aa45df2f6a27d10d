
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * ngx_http_kpn_downlink_module: the directives of the downlink half, their
 * conf (create, merge with every default, the checks of nginx -t) and the
 * module tables.  The request path is in ngx_http_kpn_downlink.c.
 */


#include "ngx_http_kpn_downlink.h"
#include "ngx_http_kpn_conf.h"
#include "ngx_http_kpn_auth.h"
#include "ngx_http_kpn_command.h"
#include "ngx_http_kpn_subrequest.h"

#include <openssl/evp.h>


/* a kpn_downlink location and its server, for the checks of the routes */
typedef struct {
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;
    ngx_http_core_loc_conf_t          *server;  /* the server's own conf */
} ngx_http_kpn_downlink_route_t;


typedef struct {
    ngx_array_t                        routes;  /* of ..._route_t */
} ngx_http_kpn_downlink_main_conf_t;


static ngx_int_t ngx_http_kpn_downlink_init(ngx_conf_t *cf);

static void *ngx_http_kpn_downlink_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_kpn_downlink_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_kpn_downlink_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_kpn_downlink_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_downlink(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_downlink_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_downlink_secret_file(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_kpn_downlink_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_downlink_nonempty(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_kpn_downlink_max_payload(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_kpn_downlink_complete(ngx_conf_t *cf,
    ngx_http_kpn_downlink_loc_conf_t *conf);
static ngx_int_t ngx_http_kpn_downlink_prepare(ngx_conf_t *cf,
    ngx_http_kpn_downlink_loc_conf_t *conf);


static ngx_conf_post_t  ngx_http_kpn_downlink_max_payload_post = {
    ngx_http_kpn_downlink_max_payload
};

static ngx_conf_post_t  ngx_http_kpn_downlink_nonempty_post = {
    ngx_http_kpn_downlink_nonempty
};


static ngx_command_t  ngx_http_kpn_downlink_commands[] = {

    { ngx_string("kpn_token_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_downlink_zone,
      0,
      0,
      NULL },

    { ngx_string("kpn_downlink"),
      NGX_HTTP_LOC_CONF|NGX_CONF_ANY,
      ngx_http_kpn_downlink,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_endpoint"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_downlink_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_downlink_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_downlink_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_client_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, client_id),
      &ngx_http_kpn_downlink_nonempty_post },

    { ngx_string("kpn_client_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, client_secret),
      &ngx_http_kpn_downlink_nonempty_post },

    { ngx_string("kpn_client_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_downlink_secret_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, audience),
      &ngx_http_kpn_downlink_nonempty_post },

    { ngx_string("kpn_token_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, token_refresh),
      NULL },

    { ngx_string("kpn_token_backoff"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, token_backoff),
      NULL },

    { ngx_string("kpn_token_lock_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, lock_timeout),
      NULL },

    { ngx_string("kpn_token_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_downlink_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, token_uri),
      NULL },

    { ngx_string("kpn_downlink_uri"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_downlink_request_uri,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_downlink_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, body),
      NULL },

    { ngx_string("kpn_downlink_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_kpn_downlink_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_downlink_device_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, device_id),
      NULL },

    { ngx_string("kpn_downlink_max_payload"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_downlink_loc_conf_t, max_payload),
      &ngx_http_kpn_downlink_max_payload_post },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_kpn_downlink_module_ctx = {
    ngx_http_kpn_downlink_add_variables,   /* preconfiguration */
    ngx_http_kpn_downlink_init,            /* postconfiguration */

    ngx_http_kpn_downlink_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_kpn_downlink_create_loc_conf, /* create location configuration */
    ngx_http_kpn_downlink_merge_loc_conf   /* merge location configuration */
};


ngx_module_t  ngx_http_kpn_downlink_module = {
    NGX_MODULE_V1,
    &ngx_http_kpn_downlink_module_ctx,     /* module context */
    ngx_http_kpn_downlink_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * Every kpn_token_uri and kpn_downlink_uri of a kpn_downlink location
 * must land, in that location's server, in a location marked for it
 * (kpn_endpoint token / api: exact and internal), found as nginx finds
 * the location of a request; and at run time a subrequest that lands
 * anywhere else is refused by the rewrite phase handler.
 */

static ngx_int_t
ngx_http_kpn_downlink_init(ngx_conf_t *cf)
{
    ngx_uint_t                          i;
    ngx_http_handler_pt                *h;
    ngx_http_core_main_conf_t          *cmcf;
    ngx_http_kpn_downlink_route_t      *route;
    ngx_http_kpn_downlink_main_conf_t  *dmcf;

    dmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_kpn_downlink_module);

    route = dmcf->routes.elts;

    for (i = 0; i < dmcf->routes.nelts; i++) {
        if (ngx_http_kpn_downlink_check_route(cf, route[i].server,
                                  &route[i].dlcf->token_uri,
                                  NGX_HTTP_KPN_ENDPOINT_TOKEN,
                                  &route[i].dlcf->token_uri_pos)
            != NGX_OK
            || ngx_http_kpn_downlink_check_route(cf, route[i].server,
                                  &route[i].dlcf->downlink_uri,
                                  NGX_HTTP_KPN_ENDPOINT_API,
                                  &route[i].dlcf->downlink_uri_pos)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_REWRITE_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_kpn_downlink_endpoint_handler;

    if (ngx_http_kpn_subrequest_init(cf, ngx_http_kpn_downlink_sub)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_kpn_downlink_filter_init(cf);
}


static void *
ngx_http_kpn_downlink_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_kpn_downlink_main_conf_t  *dmcf;

    dmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_kpn_downlink_main_conf_t));
    if (dmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&dmcf->routes, cf->pool, 4,
                       sizeof(ngx_http_kpn_downlink_route_t))
        != NGX_OK)
    {
        return NULL;
    }

    return dmcf;
}


static void *
ngx_http_kpn_downlink_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_kpn_downlink_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_kpn_downlink_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->zone = NULL;
     *     conf->client_id = { 0, NULL };
     *     conf->client_secret = { 0, NULL };
     *     conf->audience = { 0, NULL };
     *     conf->token_uri = { 0, NULL };
     *     conf->token_args = { 0, NULL };
     *     conf->downlink_uri = { 0, NULL };
     *     conf->downlink_args = NULL;
     *     conf->body = NULL;
     *     conf->headers = NULL;
     *     conf->device_id = NULL;
     *     conf->token_body = { 0, NULL };
     *     conf->key = { 0 };
     *     conf->endpoint = 0;
     *     conf->pos = { { 0, NULL }, 0 };
     *     conf->endpoint_pos = { { 0, NULL }, 0 };
     *     conf->token_uri_pos = { { 0, NULL }, 0 };
     *     conf->downlink_uri_pos = { { 0, NULL }, 0 };
     */

    conf->keys = NGX_CONF_UNSET_PTR;
    conf->token_refresh = NGX_CONF_UNSET;
    conf->token_backoff = NGX_CONF_UNSET;
    conf->lock_timeout = NGX_CONF_UNSET_MSEC;
    conf->max_payload = NGX_CONF_UNSET_UINT;

    return conf;
}


/* the directives a kpn_downlink location requires, each said by nginx -t */

static ngx_int_t
ngx_http_kpn_downlink_complete(ngx_conf_t *cf,
    ngx_http_kpn_downlink_loc_conf_t *conf)
{
    if (conf->zone->data == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_downlink\": unknown kpn_token_zone \"%V\" "
                      "in %V:%ui",
                      &conf->zone->shm.name,
                      &conf->pos.file, conf->pos.line);
        return NGX_ERROR;
    }

    if (conf->keys == NGX_CONF_UNSET_PTR) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_downlink\" requires \"kpn_downlink_keys\" "
                      "(or \"kpn_downlink_keys off\" when the location "
                      "is protected otherwise) in %V:%ui",
                      &conf->pos.file, conf->pos.line);
        return NGX_ERROR;
    }

    if (conf->client_id.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_downlink\" requires \"kpn_client_id\" in %V:%ui",
                      &conf->pos.file, conf->pos.line);
        return NGX_ERROR;
    }

    if (conf->client_secret.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_downlink\" requires \"kpn_client_secret\" "
                      "or \"kpn_client_secret_file\" in %V:%ui",
                      &conf->pos.file, conf->pos.line);
        return NGX_ERROR;
    }

    if (conf->token_uri.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_downlink\" requires \"kpn_token_uri\" in %V:%ui",
                      &conf->pos.file, conf->pos.line);
        return NGX_ERROR;
    }

    if (conf->downlink_uri.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_downlink\" requires \"kpn_downlink_uri\" "
                      "in %V:%ui",
                      &conf->pos.file, conf->pos.line);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Every default, then the checks of a kpn_downlink location
 * (ngx_http_kpn_downlink_complete()), each with the message nginx -t
 * prints.
 */

static char *
ngx_http_kpn_downlink_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_kpn_downlink_loc_conf_t *prev = parent;
    ngx_http_kpn_downlink_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t           *clcf;
    ngx_http_core_srv_conf_t           *cscf;
    ngx_http_kpn_downlink_route_t      *route;
    ngx_http_kpn_downlink_main_conf_t  *dmcf;

    static ngx_str_t  default_body = ngx_string(NGX_HTTP_KPN_DEFAULT_BODY);

    /* kpn_endpoint marks this location alone: never inherited */

    if (conf->endpoint) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->internal != 1) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"kpn_endpoint\" requires \"internal\" in its "
                          "location \"%V\" in %V:%ui", &clcf->name,
                          &conf->endpoint_pos.file, conf->endpoint_pos.line);
            return NGX_CONF_ERROR;
        }

        if (conf->zone) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"kpn_endpoint\" and \"kpn_downlink\" cannot "
                          "share a location in %V:%ui",
                          &conf->endpoint_pos.file, conf->endpoint_pos.line);
            return NGX_CONF_ERROR;
        }
    }

    /* keys: NULL is "off"; unset stays unset, required below */
    ngx_conf_merge_ptr_value(conf->keys, prev->keys, NGX_CONF_UNSET_PTR);
    ngx_conf_merge_str_value(conf->client_id, prev->client_id, "");
    ngx_conf_merge_str_value(conf->client_secret, prev->client_secret, "");
    ngx_conf_merge_str_value(conf->audience, prev->audience,
                             NGX_HTTP_KPN_DEFAULT_AUDIENCE);
    ngx_conf_merge_sec_value(conf->token_refresh, prev->token_refresh, 600);
    ngx_conf_merge_sec_value(conf->token_backoff, prev->token_backoff, 5);
    ngx_conf_merge_msec_value(conf->lock_timeout, prev->lock_timeout, 30000);
    ngx_conf_merge_uint_value(conf->max_payload, prev->max_payload,
                              NGX_HTTP_KPN_MAX_PAYLOAD);

    if (conf->token_uri.data == NULL) {
        conf->token_uri = prev->token_uri;
        conf->token_args = prev->token_args;
        conf->token_uri_pos = prev->token_uri_pos;
    }

    if (conf->downlink_uri.data == NULL) {
        conf->downlink_uri = prev->downlink_uri;
        conf->downlink_args = prev->downlink_args;
        conf->downlink_uri_pos = prev->downlink_uri_pos;
    }

    /* the request of the Beta API unless configured (docs/kpn-api.md) */

    if (conf->body == NULL) {
        conf->body = prev->body;
    }

    if (conf->body == NULL) {
        conf->body = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (conf->body == NULL
            || ngx_http_kpn_downlink_compile(cf, &default_body, conf->body)
               != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->headers == NULL) {
        conf->headers = prev->headers;
    }

    if (conf->headers == NULL) {
        conf->headers = ngx_http_kpn_downlink_default_headers(cf);
        if (conf->headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->device_id == NULL) {
        conf->device_id = prev->device_id;
    }

    if (conf->zone == NULL) {
        return NGX_CONF_OK;
    }

    /* a location with kpn_downlink: everything must be there */

    if (ngx_http_kpn_downlink_complete(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_kpn_downlink_prepare(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /* where the URIs lead is checked once the locations are known */

    dmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_kpn_downlink_module);
    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);

    route = ngx_array_push(&dmcf->routes);
    if (route == NULL) {
        return NGX_CONF_ERROR;
    }

    route->dlcf = conf;
    route->server = cscf->ctx->loc_conf[ngx_http_core_module.ctx_index];

    return NGX_CONF_OK;
}


/*
 * The client-credentials body (docs/protocol.md, section 2) and the cache key:
 * SHA-256 over token URI, client id, audience and secret, so another KPN
 * account or a changed credential never meets a cached token.
 */

static ngx_int_t
ngx_http_kpn_downlink_prepare(ngx_conf_t *cf,
    ngx_http_kpn_downlink_loc_conf_t *conf)
{
    u_char        *p;
    size_t         len;
    ngx_uint_t     i;
    unsigned int   md_len;
    ngx_str_t     *parts[4];
    EVP_MD_CTX    *md;

    parts[0] = &conf->audience;
    parts[1] = &conf->client_id;
    parts[2] = &conf->client_secret;
    parts[3] = &conf->token_uri;

    len = sizeof("{\"grant_type\":\"client_credentials\",\"audience\":\"\","
                 "\"client_id\":\"\",\"client_secret\":\"\"}") - 1;

    for (i = 0; i < 3; i++) {
        len += parts[i]->len + ngx_escape_json(NULL, parts[i]->data,
                                               parts[i]->len);
    }

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    conf->token_body.data = p;

    p = ngx_cpymem(p, "{\"grant_type\":\"client_credentials\",\"audience\":\"",
                   sizeof("{\"grant_type\":\"client_credentials\","
                          "\"audience\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, conf->audience.data,
                                   conf->audience.len);
    p = ngx_cpymem(p, "\",\"client_id\":\"", sizeof("\",\"client_id\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, conf->client_id.data,
                                   conf->client_id.len);
    p = ngx_cpymem(p, "\",\"client_secret\":\"",
                   sizeof("\",\"client_secret\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, conf->client_secret.data,
                                   conf->client_secret.len);
    p = ngx_cpymem(p, "\"}", 2);

    conf->token_body.len = p - conf->token_body.data;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        goto failed;
    }

    for (i = 0; i < 4; i++) {
        if (EVP_DigestUpdate(md, parts[i]->data, parts[i]->len) != 1
            || EVP_DigestUpdate(md, "", 1) != 1)
        {
            goto failed;
        }
    }

    if (EVP_DigestUpdate(md, conf->token_args.data, conf->token_args.len)
        != 1)
    {
        goto failed;
    }

    if (EVP_DigestFinal_ex(md, conf->key, &md_len) != 1) {
        goto failed;
    }

    EVP_MD_CTX_free(md);

    return NGX_OK;

failed:

    EVP_MD_CTX_free(md);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"kpn_downlink\": SHA-256 failed");

    return NGX_ERROR;
}


static char *
ngx_http_kpn_downlink_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t     size;
    ngx_str_t  *value, name;

    value = cf->args->elts;

    if (ngx_http_kpn_conf_zone(cf, cmd, &value[1], &name, &size) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_kpn_conf_shm(cf, &name, size, &ngx_http_kpn_downlink_module,
                              ngx_http_kpn_shm_init_zone)
        == NULL)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_downlink(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_downlink_loc_conf_t *dlcf = conf;

    ngx_str_t                 *value, name;
    ngx_http_core_loc_conf_t  *clcf;

    if (dlcf->zone) {
        return "is duplicate";
    }

    /* the argument count checked here, to say what is missing */

    if (cf->args->nelts != 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"kpn_downlink\" %s: it takes the "
                           "kpn_token_zone of the access tokens, "
                           "\"kpn_downlink zone=NAME;\"",
                           cf->args->nelts == 1 ? "needs a zone"
                                                : "takes one parameter");
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_http_kpn_conf_zone(cf, cmd, &value[1], &name, NULL) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    dlcf->zone = ngx_http_kpn_conf_shm(cf, &name, 0,
                                       &ngx_http_kpn_downlink_module, NULL);
    if (dlcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_kpn_downlink_pos(cf, &dlcf->pos) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_kpn_downlink_handler;

    return NGX_CONF_OK;
}


/* the file and line of the directive being parsed, for later checks */

ngx_int_t
ngx_http_kpn_downlink_pos(ngx_conf_t *cf, ngx_http_kpn_downlink_pos_t *pos)
{
    pos->file.len = cf->conf_file->file.name.len;
    pos->file.data = ngx_pstrdup(cf->pool, &cf->conf_file->file.name);
    pos->line = cf->conf_file->line;

    return pos->file.data ? NGX_OK : NGX_ERROR;
}


static char *
ngx_http_kpn_downlink_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_downlink_loc_conf_t *dlcf = conf;

    char        *rv;
    u_char      *md;
    ngx_str_t   *value, *key;
    ngx_uint_t   i, before;

    value = cf->args->elts;

    /* "off" is NULL (as mirror's), files add up; the two do not mix */

    if (ngx_strcmp(value[1].data, "off") == 0) {
        if (dlcf->keys != NGX_CONF_UNSET_PTR) {
            return "is duplicate";
        }

        dlcf->keys = NULL;
        return NGX_CONF_OK;
    }

    if (dlcf->keys == NULL) {
        return "is duplicate";
    }

    if (dlcf->keys == NGX_CONF_UNSET_PTR) {
        dlcf->keys = NULL;
    }

    before = dlcf->keys ? dlcf->keys->nelts : 0;

    rv = ngx_http_kpn_conf_read_lines(cf, &cmd->name, &value[1], 0,
                                      &dlcf->keys);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    /*
     * only the keys' SHA-256 digests are kept: a caller's key is compared
     * as its digest, so the time taken tells neither a key's length nor
     * which key matched
     */

    key = dlcf->keys->elts;

    for (i = before; i < dlcf->keys->nelts; i++) {
        md = ngx_pnalloc(cf->pool, NGX_HTTP_KPN_DIGEST_LEN);
        if (md == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_kpn_auth_digest(&key[i], md) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        ngx_explicit_memzero(key[i].data, key[i].len);

        key[i].data = md;
        key[i].len = NGX_HTTP_KPN_DIGEST_LEN;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_downlink_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_kpn_downlink_loc_conf_t *dlcf = conf;

    char         *rv;
    ngx_str_t    *value, *line;
    ngx_array_t  *lines;

    if (dlcf->client_secret.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lines = NULL;

    rv = ngx_http_kpn_conf_read_lines(cf, &cmd->name, &value[1],
                                      NGX_HTTP_KPN_CONF_ONE, &lines);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    line = lines->elts;
    dlcf->client_secret = line[0];

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_downlink_uri(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_downlink_loc_conf_t *dlcf = conf;

    char  *p = conf;

    u_char     *q;
    ngx_str_t  *field, *args, *value;

    field = (ngx_str_t *) (p + cmd->offset);
    args = field + 1;   /* token_args follows token_uri */

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not a local URI "
                           "(it must start with \"/\")",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_kpn_downlink_pos(cf, &dlcf->token_uri_pos) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    *field = value[1];
    ngx_str_null(args);

    q = ngx_strlchr(value[1].data, value[1].data + value[1].len, '?');

    if (q) {
        field->len = q - value[1].data;
        args->data = q + 1;
        args->len = value[1].data + value[1].len - args->data;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_downlink_nonempty(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *s = data;

    if (s->len == 0) {
        return "must not be empty";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_downlink_max_payload(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np < 1 || *np > NGX_HTTP_KPN_MAX_PAYLOAD) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"kpn_downlink_max_payload\" must be between "
                           "1 and %d", NGX_HTTP_KPN_MAX_PAYLOAD);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
