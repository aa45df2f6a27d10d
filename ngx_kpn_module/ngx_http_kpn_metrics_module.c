
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * ngx_http_kpn_metrics_module: what the gateway accepted, refused,
 * forwarded and fetched, for Prometheus.  kpn_metrics_zone declares the
 * shared counters, kpn_metrics_count names the zone that kpn_uplink and
 * kpn_downlink locations count into (at the log phase, from what the
 * request's ctx says), kpn_metrics answers with them.
 */


#include "ngx_http_kpn_uplink_module.h"
#include "ngx_http_kpn_downlink_module.h"
#include "ngx_http_kpn_conf.h"
#include "ngx_http_kpn_response.h"
#include "ngx_http_kpn_metrics.h"


#if (NGX_HTTP_KPN_FETCH_N != NGX_HTTP_KPN_M_FETCH_N)
#error the metrics count other token fetch results than the downlink has
#endif

#if (NGX_HTTP_KPN_CACHE_N != NGX_HTTP_KPN_M_CACHE_N)
#error the metrics count other token cache outcomes than the downlink has
#endif


typedef struct {
    ngx_shm_zone_t            *count;       /* kpn_metrics_count; NULL: off */
    ngx_shm_zone_t            *show;        /* kpn_metrics zone=NAME */
    ngx_flag_t                 handler;     /* kpn_metrics here */
} ngx_http_kpn_metrics_loc_conf_t;


static ngx_int_t ngx_http_kpn_metrics_init(ngx_conf_t *cf);
static void *ngx_http_kpn_metrics_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_kpn_metrics_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_kpn_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_metrics_count(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_shm_zone_t *ngx_http_kpn_metrics_zone_ref(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *arg);
static ngx_int_t ngx_http_kpn_metrics_names(ngx_conf_t *cf,
    ngx_http_kpn_metrics_ctx_t *mctx);
static ngx_int_t ngx_http_kpn_metrics_log_handler(ngx_http_request_t *r);
static void ngx_http_kpn_metrics_uplink(ngx_http_request_t *r,
    ngx_http_kpn_metrics_ctx_t *mctx, ngx_http_kpn_uplink_record_t *rec);
static void ngx_http_kpn_metrics_downlink(ngx_http_request_t *r,
    ngx_http_kpn_metrics_ctx_t *mctx, ngx_http_kpn_downlink_record_t *rec);
static void ngx_http_kpn_metrics_too_large(ngx_http_request_t *r,
    ngx_http_kpn_metrics_ctx_t *mctx);
static ngx_int_t ngx_http_kpn_metrics_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_kpn_metrics_accept_format(ngx_http_request_t *r);


static ngx_command_t  ngx_http_kpn_metrics_commands[] = {

    { ngx_string("kpn_metrics_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_metrics_zone,
      0,
      0,
      NULL },

    { ngx_string("kpn_metrics_count"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_metrics_count,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_kpn_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_kpn_metrics_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_kpn_metrics_init,             /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_kpn_metrics_create_loc_conf,  /* create location configuration */
    ngx_http_kpn_metrics_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_kpn_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_kpn_metrics_module_ctx,      /* module context */
    ngx_http_kpn_metrics_commands,         /* module directives */
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


static ngx_str_t  ngx_http_kpn_metrics_text_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");
static ngx_str_t  ngx_http_kpn_metrics_json_type =
    ngx_string("application/json");
static ngx_str_t  ngx_http_kpn_metrics_accept = ngx_string("accept");


static ngx_int_t
ngx_http_kpn_metrics_init(ngx_conf_t *cf)
{
    ngx_uint_t                  i;
    ngx_shm_zone_t             *shm_zone;
    ngx_list_part_t            *part;
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    /* every zone holds the labels its locations have (all merged now) */

    part = &cf->cycle->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        if (shm_zone[i].tag != &ngx_http_kpn_metrics_module
            || shm_zone[i].data == NULL)
        {
            continue;
        }

        if (ngx_http_kpn_metrics_check_size(shm_zone[i].data,
                                            shm_zone[i].shm.size, cf->log)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_kpn_metrics_log_handler;

    return NGX_OK;
}


static void *
ngx_http_kpn_metrics_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_kpn_metrics_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_kpn_metrics_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->show = NULL;
     */

    conf->count = NGX_CONF_UNSET_PTR;
    conf->handler = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_kpn_metrics_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_kpn_metrics_loc_conf_t  *prev = parent;
    ngx_http_kpn_metrics_loc_conf_t  *conf = child;

    ngx_shm_zone_t  *zone;

    ngx_conf_merge_ptr_value(conf->count, prev->count, NULL);
    ngx_conf_merge_value(conf->handler, prev->handler, 0);

    if (conf->count && conf->count->data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"kpn_metrics_count\": unknown kpn_metrics_zone "
                           "\"%V\"", &conf->count->shm.name);
        return NGX_CONF_ERROR;
    }

    if (conf->count
        && ngx_http_kpn_metrics_names(cf, conf->count->data) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (!conf->handler) {
        return NGX_CONF_OK;
    }

    /* kpn_metrics: its own zone=, else the zone the location counts into */

    if (conf->show == NULL) {
        conf->show = conf->count;
    }

    zone = conf->show;

    if (zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"kpn_metrics\" needs a zone: "
                           "\"kpn_metrics zone=NAME\" or "
                           "\"kpn_metrics_count zone=NAME\"");
        return NGX_CONF_ERROR;
    }

    if (zone->data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"kpn_metrics\": unknown kpn_metrics_zone \"%V\"",
                           &zone->shm.name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t                      size;
    ngx_str_t                   *value, name, unconfigured;
    ngx_shm_zone_t              *shm_zone;
    ngx_http_kpn_metrics_ctx_t  *mctx;

    value = cf->args->elts;

    if (ngx_http_kpn_conf_zone(cf, cmd, &value[1], &name, &size) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_http_kpn_conf_shm(cf, &name, size,
                                     &ngx_http_kpn_metrics_module,
                                     ngx_http_kpn_metrics_init_zone);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the zone's data: an ngx_http_kpn_zone_t and the labels configured */

    mctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_kpn_metrics_ctx_t));
    if (mctx == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&mctx->names, cf->pool, 8,
                       sizeof(ngx_http_kpn_metrics_name_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    mctx->file = cf->conf_file->file.name;
    mctx->line = cf->conf_file->line;

    ngx_str_set(&unconfigured, NGX_HTTP_KPN_M_UNCONFIGURED);

    if (ngx_http_kpn_metrics_add_name(mctx, NGX_HTTP_KPN_M_DEVICE_TYPE,
                                      &unconfigured)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    shm_zone->data = mctx;

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_metrics_count(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_metrics_loc_conf_t *mlcf = conf;

    ngx_str_t  *value;

    if (mlcf->count != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        mlcf->count = NULL;
        return NGX_CONF_OK;
    }

    mlcf->count = ngx_http_kpn_metrics_zone_ref(cf, cmd, &value[1]);

    return mlcf->count ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static char *
ngx_http_kpn_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_metrics_loc_conf_t *mlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->handler != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    mlcf->handler = 1;

    if (cf->args->nelts == 2) {
        value = cf->args->elts;

        mlcf->show = ngx_http_kpn_metrics_zone_ref(cf, cmd, &value[1]);
        if (mlcf->show == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_kpn_metrics_handler;

    return NGX_CONF_OK;
}


/*
 * The label values of the location being merged, for the zone it counts
 * into: its device types (kpn_device_type) and its client id
 * (kpn_client_id); the halves' confs are merged already (module order).
 */

static ngx_int_t
ngx_http_kpn_metrics_names(ngx_conf_t *cf, ngx_http_kpn_metrics_ctx_t *mctx)
{
    ngx_uint_t                         i;
    ngx_http_kpn_loc_conf_t           *lcf;
    ngx_http_kpn_device_type_t        *dt;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    lcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_kpn_module);

    if (lcf->uplink == 1 && lcf->device_types) {
        dt = lcf->device_types->elts;

        for (i = 0; i < lcf->device_types->nelts; i++) {
            if (ngx_http_kpn_metrics_add_name(mctx,
                                              NGX_HTTP_KPN_M_DEVICE_TYPE,
                                              &dt[i].name)
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }
    }

    dlcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_kpn_downlink_module);

    if (dlcf->zone && dlcf->client_id.len) {
        return ngx_http_kpn_metrics_add_name(mctx, NGX_HTTP_KPN_M_TOKEN_EXPIRY,
                                             &dlcf->client_id);
    }

    return NGX_OK;
}


/* zone=NAME of a zone declared (maybe later) by kpn_metrics_zone */

static ngx_shm_zone_t *
ngx_http_kpn_metrics_zone_ref(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *arg)
{
    ngx_str_t  name;

    if (ngx_http_kpn_conf_zone(cf, cmd, arg, &name, NULL) != NGX_OK) {
        return NULL;
    }

    return ngx_http_kpn_conf_shm(cf, &name, 0, &ngx_http_kpn_metrics_module,
                                 NULL);
}


/*
 * The log phase: what the request's ctx says, counted once.  No lock:
 * every counter is an atomic add.
 */

static ngx_int_t
ngx_http_kpn_metrics_log_handler(ngx_http_request_t *r)
{
    ngx_int_t                         up, down;
    ngx_http_kpn_uplink_record_t      urec;
    ngx_http_kpn_downlink_record_t    drec;
    ngx_http_kpn_metrics_loc_conf_t  *mlcf;

    /*
     * main requests only: a subrequest logged with "log_subrequest on"
     * (a mirror, the downlink's token and downlink requests) finds the
     * uplink ctx of its main request through the pool it shares with it,
     * and would count that uplink once more
     */

    if (r != r->main) {
        return NGX_OK;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_metrics_module);

    if (mlcf->count == NULL) {
        return NGX_OK;
    }

    up = ngx_http_kpn_uplink_record(r, &urec);

    if (up == NGX_OK) {
        ngx_http_kpn_metrics_uplink(r, mlcf->count->data, &urec);
    }

    down = ngx_http_kpn_downlink_record(r, &drec);

    if (down == NGX_OK) {
        ngx_http_kpn_metrics_downlink(r, mlcf->count->data, &drec);
    }

    if (up != NGX_OK && down != NGX_OK
        && r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE)
    {
        ngx_http_kpn_metrics_too_large(r, mlcf->count->data);
    }

    return NGX_OK;
}


/*
 * A body over client_max_body_size that Content-Length announced: nginx
 * answered 413 in the find-config phase, before the location's handler
 * made a ctx.  Not read, as the same body sent chunked.
 */

static void
ngx_http_kpn_metrics_too_large(ngx_http_request_t *r,
    ngx_http_kpn_metrics_ctx_t *mctx)
{
    ngx_http_kpn_metrics_sh_t         *sh;
    ngx_http_kpn_loc_conf_t           *lcf;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    sh = mctx->sh;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_module);

    if (lcf->uplink) {
        (void) ngx_atomic_fetch_add(
                   &sh->uplinks[NGX_HTTP_KPN_U_NOT_READ], 1);
        return;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    if (dlcf->zone) {
        (void) ngx_atomic_fetch_add(
                   &sh->downlinks[NGX_HTTP_KPN_D_NOT_READ], 1);
    }
}


static void
ngx_http_kpn_metrics_uplink(ngx_http_request_t *r,
    ngx_http_kpn_metrics_ctx_t *mctx, ngx_http_kpn_uplink_record_t *rec)
{
    ngx_str_t                   name;
    ngx_uint_t                  result, class;
    ngx_atomic_t               *v;
    ngx_http_kpn_metrics_sh_t  *sh;
    ngx_http_upstream_state_t  *state;

    sh = mctx->sh;

    if (rec->status == NGX_HTTP_KPN_NONE) {
        result = NGX_HTTP_KPN_U_NOT_READ;

    } else {
        result = ngx_http_kpn_outcomes[rec->status].uplink_slot;
    }

    (void) ngx_atomic_fetch_add(&sh->uplinks[result], 1);
    (void) ngx_atomic_fetch_add(&sh->uplink_received, rec->received);

    /* the device type: only configured names are labels */

    if (rec->device_type_known) {
        name = rec->device_type;

    } else if (rec->device_type.len) {
        ngx_str_set(&name, NGX_HTTP_KPN_M_UNCONFIGURED);

    } else {
        ngx_str_null(&name);
    }

    if (name.len) {
        v = ngx_http_kpn_metrics_label(mctx, NGX_HTTP_KPN_M_DEVICE_TYPE,
                                       &name);
        if (v == NULL) {
            ngx_str_set(&name, NGX_HTTP_KPN_M_UNCONFIGURED);
            v = ngx_http_kpn_metrics_label(mctx, NGX_HTTP_KPN_M_DEVICE_TYPE,
                                           &name);
        }

        if (v) {
            (void) ngx_atomic_fetch_add(v, 1);
        }
    }

    if (result != NGX_HTTP_KPN_U_OK) {
        return;
    }

    (void) ngx_atomic_fetch_add(&sh->uplink_forwarded, rec->forwarded);

    /* what the upstream answered last: no header at all is "none" */

    class = NGX_HTTP_KPN_M_CLASS_NONE;

    if (r->upstream_states && r->upstream_states->nelts) {
        state = r->upstream_states->elts;
        state = &state[r->upstream_states->nelts - 1];

        if (state->header_time != (ngx_msec_t) -1) {
            class = ngx_http_kpn_metrics_class(state->status);
        }
    }

    (void) ngx_atomic_fetch_add(&sh->uplink_upstream[class], 1);
}


static void
ngx_http_kpn_metrics_downlink(ngx_http_request_t *r,
    ngx_http_kpn_metrics_ctx_t *mctx, ngx_http_kpn_downlink_record_t *rec)
{
    ngx_uint_t                         i, result, class;
    ngx_atomic_t                      *v;
    ngx_http_kpn_metrics_sh_t         *sh;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    sh = mctx->sh;

    result = ngx_http_kpn_outcomes[rec->status].downlink_slot;

    (void) ngx_atomic_fetch_add(&sh->downlinks[result], 1);

    if (rec->sent) {
        class = ngx_http_kpn_metrics_class(rec->kpn_status);
        (void) ngx_atomic_fetch_add(&sh->downlink_kpn[class], 1);
    }

    if (rec->cache != NGX_HTTP_KPN_CACHE_NONE) {
        (void) ngx_atomic_fetch_add(&sh->token_cache[rec->cache - 1], 1);
    }

    /* every fetch: a 302/401 from KPN makes a second one */

    for (i = 0; i < NGX_HTTP_KPN_FETCH_N; i++) {
        if (rec->fetches[i]) {
            (void) ngx_atomic_fetch_add(&sh->token_fetches[i],
                                        rec->fetches[i]);
        }
    }

    /* the expiry of the token fetched last */

    if (rec->expires == 0) {
        return;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    v = ngx_http_kpn_metrics_label(mctx, NGX_HTTP_KPN_M_TOKEN_EXPIRY,
                                   &dlcf->client_id);
    if (v) {
        *v = (ngx_atomic_uint_t) rec->expires;
    }
}


static ngx_int_t
ngx_http_kpn_metrics_handler(ngx_http_request_t *r)
{
    ngx_str_t                         out, value, *type;
    ngx_uint_t                        format;
    ngx_http_kpn_error_t              err;
    ngx_http_kpn_metrics_ctx_t       *mctx;
    ngx_http_kpn_metrics_loc_conf_t  *mlcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        if (ngx_http_kpn_not_allowed(r, &err, "GET, HEAD") == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_kpn_send_error(r, &err, 0);
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_metrics_module);
    mctx = mlcf->show->data;

    /* JSON on request: ?format=json, or an Accept that names it */

    format = NGX_HTTP_KPN_M_TEXT;

    if (ngx_http_arg(r, (u_char *) "format", sizeof("format") - 1, &value)
        == NGX_OK
        && value.len == sizeof("json") - 1
        && ngx_strncmp(value.data, "json", value.len) == 0)
    {
        format = NGX_HTTP_KPN_M_JSON;

    } else {
        format = ngx_http_kpn_metrics_accept_format(r);
    }

    if (ngx_http_kpn_metrics_write(r->pool, mctx->sh, format, &out)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    type = (format == NGX_HTTP_KPN_M_JSON) ? &ngx_http_kpn_metrics_json_type
                                           : &ngx_http_kpn_metrics_text_type;

    return ngx_http_kpn_send_body(r, NGX_HTTP_OK, type, &out);
}


/*
 * The format the Accept headers of a scrape ask for (RFC 9110, 12.5.1):
 * JSON when the media range application/json (exactly; any parameters
 * besides q are ignored) has a q above 0 and above the q that the text
 * format gets from the most specific range listed that covers it
 * (text/plain, then the "text/" wildcard, then the wildcard of all);
 * text otherwise, and on a tie (the default).  An element with a q that
 * is not a qvalue counts as not listed.
 */

static ngx_uint_t
ngx_http_kpn_metrics_accept_format(ngx_http_request_t *r)
{
    ngx_uint_t                      i;
    ngx_list_part_t                *part;
    ngx_table_elt_t                *h;
    ngx_http_kpn_metrics_accept_t   a;

    a.json = -1;
    a.text = -1;
    a.text_rank = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == ngx_http_kpn_metrics_accept.len
            && ngx_strncasecmp(h[i].key.data,
                               ngx_http_kpn_metrics_accept.data,
                               ngx_http_kpn_metrics_accept.len)
               == 0)
        {
            ngx_http_kpn_metrics_accept_parse(&h[i].value, &a);
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn metrics accept: json q %i, text q %i (rank %ui)",
                   a.json, a.text, a.text_rank);

    if (a.json > 0 && a.json > a.text) {
        return NGX_HTTP_KPN_M_JSON;
    }

    return NGX_HTTP_KPN_M_TEXT;
}
