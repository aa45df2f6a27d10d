
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The counters of kpn_metrics_zone: one block of atomics in shared
 * memory, counted into without a lock; a table of labelled values
 * (configured device types, client ids) made by the master from the
 * configuration when the zone is created and at every reload; the
 * Prometheus text and JSON writers.
 */


#ifndef _NGX_HTTP_KPN_METRICS_H_INCLUDED_
#define _NGX_HTTP_KPN_METRICS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_kpn_conf.h"
#include "ngx_http_kpn_outcome.h"


/*
 * uplinks and downlinks by result: the slots NGX_HTTP_KPN_U_* and
 * NGX_HTTP_KPN_D_* of the outcome table (ngx_http_kpn_outcome.h)
 */

/* status classes: 1xx .. 5xx, and "none" (no answer) */
#define NGX_HTTP_KPN_M_CLASS_NONE      0
#define NGX_HTTP_KPN_M_CLASS_N         6

/* token fetches by result: NGX_HTTP_KPN_FETCH_* - 1 */
#define NGX_HTTP_KPN_M_FETCH_N         5

/* token cache lookups by outcome: NGX_HTTP_KPN_CACHE_* - 1 */
#define NGX_HTTP_KPN_M_CACHE_N         4

/* the labelled values */
#define NGX_HTTP_KPN_M_DEVICE_TYPE     1       /* counter */
#define NGX_HTTP_KPN_M_TOKEN_EXPIRY    2       /* gauge: a unix time */
#define NGX_HTTP_KPN_M_LABEL_LEN       128     /* longer names: not counted */

/* the device type label of every type not configured */
#define NGX_HTTP_KPN_M_UNCONFIGURED    "_unconfigured"

#define NGX_HTTP_KPN_M_TEXT            0
#define NGX_HTTP_KPN_M_JSON            1


typedef struct {
    ngx_uint_t                 family;
    size_t                     len;
    u_char                     name[NGX_HTTP_KPN_M_LABEL_LEN];
    ngx_atomic_t               value;
} ngx_http_kpn_metrics_label_t;


/* the labels of one configuration: read through sh->labels, one pointer */
typedef struct {
    ngx_uint_t                 n;
    ngx_http_kpn_metrics_label_t  label[1];
} ngx_http_kpn_metrics_labels_t;


/* a label value the configuration has, collected at nginx -t */
typedef struct {
    ngx_uint_t                 family;
    ngx_str_t                  name;
} ngx_http_kpn_metrics_name_t;


typedef struct {
    ngx_http_kpn_zone_head_t   head;

    ngx_atomic_t               uplinks[NGX_HTTP_KPN_U_N];
    ngx_atomic_t               uplink_upstream[NGX_HTTP_KPN_M_CLASS_N];
    ngx_atomic_t               uplink_received;
    ngx_atomic_t               uplink_forwarded;

    ngx_atomic_t               downlinks[NGX_HTTP_KPN_D_N];
    ngx_atomic_t               downlink_kpn[NGX_HTTP_KPN_M_CLASS_N];
    ngx_atomic_t               token_fetches[NGX_HTTP_KPN_M_FETCH_N];
    ngx_atomic_t               token_cache[NGX_HTTP_KPN_M_CACHE_N];

    ngx_http_kpn_metrics_labels_t *volatile  labels;    /* NULL: none */
} ngx_http_kpn_metrics_sh_t;


/*
 * The shm_zone->data of a kpn_metrics_zone: starts as an
 * ngx_http_kpn_zone_t (ngx_http_kpn_conf_shm_init() uses that part);
 * sh is an ngx_http_kpn_metrics_sh_t.
 */
typedef struct {
    void                      *sh;
    ngx_slab_pool_t           *shpool;

    ngx_array_t                names;       /* of ngx_http_kpn_metrics_name_t:
                                               the label values configured */
    ngx_str_t                  file;        /* of the kpn_metrics_zone line */
    ngx_uint_t                 line;
} ngx_http_kpn_metrics_ctx_t;


/* the shm_zone->init of a kpn_metrics_zone */
ngx_int_t ngx_http_kpn_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

/* a status as its class: NGX_HTTP_KPN_M_CLASS_NONE for 0 */
ngx_uint_t ngx_http_kpn_metrics_class(ngx_uint_t status);

/* the value of a labelled series; NULL: not a configured label value */
ngx_atomic_t *ngx_http_kpn_metrics_label(ngx_http_kpn_metrics_ctx_t *ctx,
    ngx_uint_t family, ngx_str_t *name);

/* adds a label value of the configuration to ctx->names, once */
ngx_int_t ngx_http_kpn_metrics_add_name(ngx_http_kpn_metrics_ctx_t *ctx,
    ngx_uint_t family, ngx_str_t *name);

/* whether the zone of ctx holds the counters and the labels configured */
ngx_int_t ngx_http_kpn_metrics_check_size(ngx_http_kpn_metrics_ctx_t *ctx,
    size_t size, ngx_log_t *log);

/* the exposition, in pool: text (Prometheus 0.0.4) or JSON */
ngx_int_t ngx_http_kpn_metrics_write(ngx_pool_t *pool,
    ngx_http_kpn_metrics_sh_t *sh, ngx_uint_t format, ngx_str_t *out);


/* what the Accept headers of a scrape give each format: a q, -1 unlisted */
typedef struct {
    ngx_int_t                  json;        /* application/json */
    ngx_int_t                  text;        /* text/plain or a wildcard */
    ngx_uint_t                 text_rank;   /* how specific the range was */
} ngx_http_kpn_metrics_accept_t;

/* adds what one Accept header of a scrape says to a */
void ngx_http_kpn_metrics_accept_parse(ngx_str_t *value,
    ngx_http_kpn_metrics_accept_t *a);


#endif /* _NGX_HTTP_KPN_METRICS_H_INCLUDED_ */
