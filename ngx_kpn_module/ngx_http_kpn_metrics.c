
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The counters of kpn_metrics_zone and their exposition.  Every series
 * has a bounded set of label values: result codes and status classes
 * from the tables below, device types and client ids from the
 * configuration only.
 */


#include "ngx_http_kpn_metrics.h"
#include "ngx_http_kpn_module.h"
#include "ngx_http_kpn_conf.h"


#define NGX_HTTP_KPN_M_VERSION         0x6b706d01


typedef struct {
    char                      *name;        /* Prometheus */
    char                      *json;        /* the key in the JSON form */
    char                      *type;
    char                      *help;
    char                      *label;       /* NULL: one value */
    char                     **values;      /* of the label */
    size_t                     offset;      /* of the first atomic */
    ngx_uint_t                 n;
} ngx_http_kpn_metrics_family_t;


static u_char *ngx_http_kpn_metrics_family(u_char *p, u_char *last,
    ngx_http_kpn_metrics_sh_t *sh, ngx_http_kpn_metrics_family_t *f,
    ngx_uint_t format);
static u_char *ngx_http_kpn_metrics_labels(u_char *p, u_char *last,
    ngx_http_kpn_metrics_sh_t *sh, ngx_uint_t family, char *name,
    char *label, ngx_uint_t format);
static u_char *ngx_http_kpn_metrics_text_label(u_char *p, u_char *last,
    u_char *s, size_t len);


/* the order of NGX_HTTP_KPN_M_UPLINK_OK, _NOT_READ; "other" last */
static char  *ngx_http_kpn_metrics_uplink_results[] = {
    "ok", "not_read", "method_not_allowed", "unsupported_media_type",
    "empty_body", "missing_token", "bad_token", "invalid_json",
    "invalid_senml", "too_many_records", "unknown_device",
    "unknown_device_type", "internal_error", "bad_destination_auth",
    "other", NULL
};

static char  *ngx_http_kpn_metrics_downlink_results[] = {
    "ok", "not_read", "kpn_rejected", "method_not_allowed", "missing_key",
    "bad_key", "invalid_json", "invalid_dev_eui", "invalid_port",
    "invalid_payload", "invalid_device_id", "missing_field",
    "token_unavailable", "kpn_auth_failed", "kpn_unavailable",
    "upstream_timeout", "upstream_error", "client_closed", "internal_error",
    "other", NULL
};

static char  *ngx_http_kpn_metrics_classes[] = {
    "none", "1xx", "2xx", "3xx", "4xx", "5xx", NULL
};

/* NGX_HTTP_KPN_FETCH_OK .. NGX_HTTP_KPN_FETCH_ERROR */
static char  *ngx_http_kpn_metrics_fetches[] = {
    "ok", "http_error", "timeout", "bad_answer", "error", NULL
};

static char  *ngx_http_kpn_metrics_cache[] = {
    "hit", "miss", "stale", "wait", NULL
};


#define ngx_http_kpn_metrics_at(field)                                       \
    offsetof(ngx_http_kpn_metrics_sh_t, field)


static ngx_http_kpn_metrics_family_t  ngx_http_kpn_metrics_families[] = {

    { "kpn_uplinks_total", "uplinks", "counter",
      "Uplinks by result: ok, or the error code answered.",
      "result", ngx_http_kpn_metrics_uplink_results,
      ngx_http_kpn_metrics_at(uplinks), NGX_HTTP_KPN_M_UPLINK_N },

    { "kpn_uplink_upstream_responses_total", "uplink_upstream_responses",
      "counter",
      "Accepted uplinks by the status class of the upstream's answer "
      "(none: no answer).",
      "class", ngx_http_kpn_metrics_classes,
      ngx_http_kpn_metrics_at(uplink_upstream), NGX_HTTP_KPN_M_CLASS_N },

    { "kpn_uplink_received_bytes_total", "uplink_received_bytes", "counter",
      "Bytes of uplink bodies read.", NULL, NULL,
      ngx_http_kpn_metrics_at(uplink_received), 1 },

    { "kpn_uplink_forwarded_bytes_total", "uplink_forwarded_bytes", "counter",
      "Bytes of accepted uplinks' bodies (envelopes) sent upstream.",
      NULL, NULL,
      ngx_http_kpn_metrics_at(uplink_forwarded), 1 },

    { "kpn_downlinks_total", "downlinks", "counter",
      "Downlinks by result: ok, kpn_rejected (KPN answered an error), or "
      "the error code answered.",
      "result", ngx_http_kpn_metrics_downlink_results,
      ngx_http_kpn_metrics_at(downlinks), NGX_HTTP_KPN_M_DOWNLINK_N },

    { "kpn_downlink_kpn_responses_total", "downlink_kpn_responses", "counter",
      "Downlinks by the status class of KPN's last answer (none: no "
      "answer).",
      "class", ngx_http_kpn_metrics_classes,
      ngx_http_kpn_metrics_at(downlink_kpn), NGX_HTTP_KPN_M_CLASS_N },

    { "kpn_token_fetches_total", "token_fetches", "counter",
      "Access token fetches by result.",
      "result", ngx_http_kpn_metrics_fetches,
      ngx_http_kpn_metrics_at(token_fetches), NGX_HTTP_KPN_M_FETCH_N },

    { "kpn_token_cache_lookups_total", "token_cache_lookups", "counter",
      "Downlinks by what the token cache gave them.",
      "outcome", ngx_http_kpn_metrics_cache,
      ngx_http_kpn_metrics_at(token_cache), NGX_HTTP_KPN_M_CACHE_N },

    { NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 }
};


ngx_int_t
ngx_http_kpn_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_int_t  rc;

    /* a reload keeps the counters; a new zone starts at zero */

    rc = ngx_http_kpn_conf_shm_init(shm_zone, data, NGX_HTTP_KPN_M_VERSION,
                                    sizeof(ngx_http_kpn_metrics_sh_t),
                                    sizeof(ngx_http_kpn_metrics_sh_t),
                                    "kpn_metrics_zone");

    return (rc == NGX_DONE) ? NGX_OK : rc;
}


static ngx_uint_t
ngx_http_kpn_metrics_lookup(char **values, ngx_uint_t n, ngx_str_t *code)
{
    size_t      len;
    ngx_uint_t  i;

    for (i = 0; i < n - 1; i++) {
        len = ngx_strlen(values[i]);

        if (code->len == len && ngx_strncmp(code->data, values[i], len) == 0)
        {
            return i;
        }
    }

    return n - 1;   /* "other" */
}


ngx_uint_t
ngx_http_kpn_metrics_uplink_result(ngx_str_t *code)
{
    return ngx_http_kpn_metrics_lookup(ngx_http_kpn_metrics_uplink_results,
                                       NGX_HTTP_KPN_M_UPLINK_N, code);
}


ngx_uint_t
ngx_http_kpn_metrics_downlink_result(ngx_str_t *code)
{
    return ngx_http_kpn_metrics_lookup(ngx_http_kpn_metrics_downlink_results,
                                       NGX_HTTP_KPN_M_DOWNLINK_N, code);
}


ngx_uint_t
ngx_http_kpn_metrics_class(ngx_uint_t status)
{
    if (status < 100 || status > 599) {
        return NGX_HTTP_KPN_M_CLASS_NONE;
    }

    return status / 100;
}


ngx_atomic_t *
ngx_http_kpn_metrics_label(ngx_http_kpn_metrics_ctx_t *ctx,
    ngx_uint_t family, ngx_str_t *name, ngx_log_t *log)
{
    ngx_uint_t                     i, n;
    ngx_http_kpn_metrics_sh_t     *sh;
    ngx_http_kpn_metrics_label_t  *l;

    sh = ctx->sh;

    if (name->len == 0 || name->len > NGX_HTTP_KPN_M_LABEL_LEN) {
        return NULL;
    }

    /* entries are published after they are written: no lock to read */

    n = sh->nlabels;
    ngx_memory_barrier();

    for (i = 0; i < n; i++) {
        l = &sh->labels[i];

        if (l->family == family && l->len == name->len
            && ngx_memcmp(l->name, name->data, name->len) == 0)
        {
            return &l->value;
        }
    }

    ngx_shmtx_lock(&ctx->shpool->mutex);

    /* another worker may have added it meanwhile */

    for (n = sh->nlabels; i < n; i++) {
        l = &sh->labels[i];

        if (l->family == family && l->len == name->len
            && ngx_memcmp(l->name, name->data, name->len) == 0)
        {
            ngx_shmtx_unlock(&ctx->shpool->mutex);
            return &l->value;
        }
    }

    if (n == NGX_HTTP_KPN_M_LABELS_MAX) {
        if (!sh->labels_full) {
            sh->labels_full = 1;
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "kpn metrics: more than %d device types and "
                          "client ids, \"%V\" and later ones not counted",
                          NGX_HTTP_KPN_M_LABELS_MAX, name);
        }

        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NULL;
    }

    l = &sh->labels[n];
    l->family = family;
    l->len = name->len;
    ngx_memcpy(l->name, name->data, name->len);
    l->value = 0;

    ngx_memory_barrier();
    sh->nlabels = n + 1;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return &l->value;
}


ngx_int_t
ngx_http_kpn_metrics_write(ngx_pool_t *pool, ngx_http_kpn_metrics_sh_t *sh,
    ngx_uint_t format, ngx_str_t *out)
{
    u_char                         *p, *last;
    size_t                          len;
    ngx_http_kpn_metrics_family_t  *f;

    /* a bound: every line of a family, every label escaped for JSON */

    len = 4096 + NGX_HTTP_KPN_M_LABELS_MAX
                 * (NGX_HTTP_KPN_M_LABEL_LEN * 6 + 128);

    for (f = ngx_http_kpn_metrics_families; f->name; f++) {
        len += 512 + f->n * 128;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;
    last = p + len;

    if (format == NGX_HTTP_KPN_M_JSON) {
        p = ngx_slprintf(p, last, "{\"build_info\":{\"version\":\"%s\","
                         "\"nginx_version\":\"%s\"}",
                         NGX_HTTP_KPN_MODULE_VERSION, NGINX_VERSION);

    } else {
        p = ngx_slprintf(p, last,
                         "# HELP kpn_build_info The module's and nginx's "
                         "versions.\n"
                         "# TYPE kpn_build_info gauge\n"
                         "kpn_build_info{version=\"%s\",nginx_version=\"%s\"}"
                         " 1\n",
                         NGX_HTTP_KPN_MODULE_VERSION, NGINX_VERSION);
    }

    for (f = ngx_http_kpn_metrics_families; f->name; f++) {
        p = ngx_http_kpn_metrics_family(p, last, sh, f, format);
    }

    if (format == NGX_HTTP_KPN_M_TEXT) {
        p = ngx_slprintf(p, last,
                         "# HELP kpn_uplink_device_types_total Uplinks that "
                         "named a device type, by configured device type "
                         "(" NGX_HTTP_KPN_M_UNCONFIGURED ": any other).\n"
                         "# TYPE kpn_uplink_device_types_total counter\n");
    }

    p = ngx_http_kpn_metrics_labels(p, last, sh, NGX_HTTP_KPN_M_DEVICE_TYPE,
                                    "kpn_uplink_device_types_total",
                                    "device_type", format);

    if (format == NGX_HTTP_KPN_M_TEXT) {
        p = ngx_slprintf(p, last,
                         "# HELP kpn_token_expiry_timestamp_seconds When the "
                         "access token last fetched for a client id "
                         "expires.\n"
                         "# TYPE kpn_token_expiry_timestamp_seconds gauge\n");
    }

    p = ngx_http_kpn_metrics_labels(p, last, sh, NGX_HTTP_KPN_M_TOKEN_EXPIRY,
                                    "kpn_token_expiry_timestamp_seconds",
                                    "client_id", format);

    if (format == NGX_HTTP_KPN_M_JSON) {
        p = ngx_slprintf(p, last, "}\n");
    }

    if (p == last) {
        /* cannot happen with the bound above; never a cut exposition */
        return NGX_ERROR;
    }

    out->len = p - out->data;

    return NGX_OK;
}


static u_char *
ngx_http_kpn_metrics_family(u_char *p, u_char *last,
    ngx_http_kpn_metrics_sh_t *sh, ngx_http_kpn_metrics_family_t *f,
    ngx_uint_t format)
{
    ngx_uint_t     i;
    ngx_atomic_t  *v;

    v = (ngx_atomic_t *) ((u_char *) sh + f->offset);

    if (format == NGX_HTTP_KPN_M_JSON) {
        if (f->label == NULL) {
            return ngx_slprintf(p, last, ",\"%s\":%uA", f->json, v[0]);
        }

        p = ngx_slprintf(p, last, ",\"%s\":{", f->json);

        for (i = 0; i < f->n; i++) {
            p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                             f->values[i], v[i]);
        }

        return ngx_slprintf(p, last, "}");
    }

    p = ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                     f->name, f->help, f->name, f->type);

    if (f->label == NULL) {
        return ngx_slprintf(p, last, "%s %uA\n", f->name, v[0]);
    }

    for (i = 0; i < f->n; i++) {
        p = ngx_slprintf(p, last, "%s{%s=\"%s\"} %uA\n",
                         f->name, f->label, f->values[i], v[i]);
    }

    return p;
}


static u_char *
ngx_http_kpn_metrics_labels(u_char *p, u_char *last,
    ngx_http_kpn_metrics_sh_t *sh, ngx_uint_t family, char *name,
    char *label, ngx_uint_t format)
{
    ngx_uint_t                     i, n, first;
    ngx_http_kpn_metrics_label_t  *l;

    n = sh->nlabels;
    ngx_memory_barrier();

    if (format == NGX_HTTP_KPN_M_JSON) {
        p = ngx_slprintf(p, last, ",\"%s\":{",
                         family == NGX_HTTP_KPN_M_DEVICE_TYPE
                         ? "uplink_device_types" : "token_expiry");
    }

    first = 1;

    for (i = 0; i < n; i++) {
        l = &sh->labels[i];

        if (l->family != family) {
            continue;
        }

        if (format == NGX_HTTP_KPN_M_JSON) {
            if ((size_t) (last - p) < 8 + l->len * 6 + NGX_ATOMIC_T_LEN) {
                return last;
            }

            p = ngx_slprintf(p, last, "%s\"", first ? "" : ",");
            p = (u_char *) ngx_escape_json(p, l->name, l->len);
            p = ngx_slprintf(p, last, "\":%uA", l->value);

        } else {
            p = ngx_slprintf(p, last, "%s{%s=\"", name, label);
            p = ngx_http_kpn_metrics_text_label(p, last, l->name, l->len);
            p = ngx_slprintf(p, last, "\"} %uA\n", l->value);
        }

        first = 0;
    }

    if (format == NGX_HTTP_KPN_M_JSON) {
        p = ngx_slprintf(p, last, "}");
    }

    return p;
}


/* a label value of the text format: \ " and new line escaped */

static u_char *
ngx_http_kpn_metrics_text_label(u_char *p, u_char *last, u_char *s,
    size_t len)
{
    while (len-- && last - p > 2) {
        switch (*s) {

        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = *s;
            break;

        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;

        default:
            *p++ = *s;
        }

        s++;
    }

    return p;
}
