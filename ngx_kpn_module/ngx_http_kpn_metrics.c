
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The counters of kpn_metrics_zone and their exposition.  Every series
 * has a bounded set of label values: result codes and status classes
 * from the tables below, device types and client ids from the
 * configuration only.
 */


#include "ngx_http_kpn_metrics.h"
#include "ngx_http_kpn_common.h"
#include "ngx_http_kpn_conf.h"


#define NGX_HTTP_KPN_M_VERSION         0x6b706d02


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
static ngx_int_t ngx_http_kpn_metrics_init_labels(ngx_shm_zone_t *shm_zone,
    ngx_http_kpn_metrics_ctx_t *ctx);
static size_t ngx_http_kpn_metrics_pages(size_t size);
static u_char *ngx_http_kpn_metrics_labels(u_char *p, u_char *last,
    ngx_http_kpn_metrics_labels_t *labels, ngx_uint_t family, char *name,
    char *label, ngx_uint_t format);
static u_char *ngx_http_kpn_metrics_text_label(u_char *p, u_char *last,
    u_char *s, size_t len);


static char  *ngx_http_kpn_metrics_classes[] = {
    "none", "1xx", "2xx", "3xx", "4xx", "5xx", NULL
};

/*
 * NGX_HTTP_KPN_FETCH_OK .. NGX_HTTP_KPN_FETCH_ERROR; a fetch that went well
 * is the outcome table's OK
 */
static char  *ngx_http_kpn_metrics_fetches[] = {
    ngx_http_kpn_code_OK, "http_error", "timeout", "bad_answer", "error", NULL
};

static char  *ngx_http_kpn_metrics_cache[] = {
    "hit", "miss", "stale", "wait", NULL
};


#define ngx_http_kpn_metrics_at(field)                                       \
    offsetof(ngx_http_kpn_metrics_sh_t, field)


static ngx_http_kpn_metrics_family_t  ngx_http_kpn_metrics_families[] = {

    { "kpn_uplinks_total", "uplinks", "counter",
      "Uplinks by result: ok, or the error code answered.",
      "result", ngx_http_kpn_uplink_results,
      ngx_http_kpn_metrics_at(uplinks), NGX_HTTP_KPN_U_N },

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
      "result", ngx_http_kpn_downlink_results,
      ngx_http_kpn_metrics_at(downlinks), NGX_HTTP_KPN_D_N },

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


#define ngx_http_kpn_metrics_table_size(n)                                  \
    (offsetof(ngx_http_kpn_metrics_labels_t, label)                         \
     + (n) * sizeof(ngx_http_kpn_metrics_label_t))


ngx_int_t
ngx_http_kpn_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_int_t  rc;

    /* a reload keeps the counters; a new zone starts at zero */

    rc = ngx_http_kpn_conf_shm_init(shm_zone, data, NGX_HTTP_KPN_M_VERSION,
                                    sizeof(ngx_http_kpn_metrics_sh_t),
                                    sizeof(ngx_http_kpn_metrics_sh_t),
                                    "kpn_metrics_zone");

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK && data == NULL) {
        /* the zone existed already (Windows): so did its labels */
        return NGX_OK;
    }

    return ngx_http_kpn_metrics_init_labels(shm_zone, shm_zone->data);
}


/*
 * The label table of this configuration, made by the master when the zone
 * is created and at each reload: every device type and client id
 * configured (and _unconfigured), no other.  A series the previous
 * configuration had as well goes on with its value; one it no longer has
 * is gone, as after a restart.  The new table is published with one
 * pointer, then the old one is freed: a worker reads the pointer once per
 * look-up, and a look-up that raced the swap reads memory of the zone
 * that nothing reuses before the next reload.  Workers of the old
 * configuration count into the new table from then on, under the names it
 * has (also when the reload fails after this zone: until the next one).
 */

static ngx_int_t
ngx_http_kpn_metrics_init_labels(ngx_shm_zone_t *shm_zone,
    ngx_http_kpn_metrics_ctx_t *ctx)
{
    ngx_uint_t                      i, j;
    ngx_http_kpn_metrics_sh_t      *sh;
    ngx_http_kpn_metrics_name_t    *names;
    ngx_http_kpn_metrics_label_t   *l, *o;
    ngx_http_kpn_metrics_labels_t  *labels, *old;

    sh = ctx->sh;
    old = sh->labels;
    names = ctx->names.elts;

    labels = ngx_slab_calloc(ctx->shpool,
                 ngx_http_kpn_metrics_table_size(ctx->names.nelts));
    if (labels == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "kpn_metrics_zone \"%V\" is too small for %ui device "
                      "types and client ids", &shm_zone->shm.name,
                      ctx->names.nelts);
        return NGX_ERROR;
    }

    for (i = 0; i < ctx->names.nelts; i++) {
        l = &labels->label[i];
        l->family = names[i].family;
        l->len = names[i].name.len;
        ngx_memcpy(l->name, names[i].name.data, l->len);

        if (old == NULL) {
            continue;
        }

        for (j = 0; j < old->n; j++) {
            o = &old->label[j];

            if (o->family == l->family && o->len == l->len
                && ngx_memcmp(o->name, l->name, l->len) == 0)
            {
                l->value = o->value;
                break;
            }
        }
    }

    labels->n = ctx->names.nelts;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, shm_zone->shm.log, 0,
                   "kpn metrics zone \"%V\": %ui labels, %ui before",
                   &shm_zone->shm.name, labels->n, old ? old->n : 0);

    ngx_memory_barrier();

    sh->labels = labels;

    ngx_memory_barrier();

    if (old) {
        ngx_slab_free(ctx->shpool, old);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_metrics_add_name(ngx_http_kpn_metrics_ctx_t *ctx,
    ngx_uint_t family, ngx_str_t *name)
{
    ngx_uint_t                    i;
    ngx_http_kpn_metrics_name_t  *n;

    /* a name longer than a label holds is not labelled (docs/metrics.md) */

    if (name->len == 0 || name->len > NGX_HTTP_KPN_M_LABEL_LEN) {
        return NGX_OK;
    }

    n = ctx->names.elts;

    for (i = 0; i < ctx->names.nelts; i++) {
        if (n[i].family == family && n[i].name.len == name->len
            && ngx_memcmp(n[i].name.data, name->data, name->len) == 0)
        {
            return NGX_OK;
        }
    }

    n = ngx_array_push(&ctx->names);
    if (n == NULL) {
        return NGX_ERROR;
    }

    n->family = family;
    n->name = *name;

    return NGX_OK;
}


/*
 * Whether a zone of size bytes holds the counters and the labels of this
 * configuration, twice (at a reload the new table is made before the old
 * one is freed): pages as ngx_slab_init() lays them out, a page for
 * each small allocation (the counters, the log text), whole pages for a
 * larger one.  At nginx -t, so that a reload or a start never finds out.
 */

ngx_int_t
ngx_http_kpn_metrics_check_size(ngx_http_kpn_metrics_ctx_t *ctx, size_t size,
    ngx_log_t *log)
{
    size_t  have, need, table, min;

    have = ngx_http_kpn_metrics_pages(size);

    table = ngx_http_kpn_metrics_table_size(ctx->names.nelts);
    table = (table > ngx_pagesize / 2)
            ? (table + ngx_pagesize - 1) / ngx_pagesize : 1;

    need = 2 + 2 * table;

    if (have >= need) {
        return NGX_OK;
    }

    for (min = size; ngx_http_kpn_metrics_pages(min) < need; /* void */) {
        min += 16 * 1024;
    }

    ngx_log_error(NGX_LOG_EMERG, log, 0,
                  "\"kpn_metrics_zone\": zone of %uzk is too small for %ui "
                  "device types and client ids, make it at least %uzk in "
                  "%V:%ui", size / 1024, ctx->names.nelts, min / 1024,
                  &ctx->file, ctx->line);

    return NGX_ERROR;
}


/* the pages a zone of size bytes gives ngx_slab_alloc(), at most */

static size_t
ngx_http_kpn_metrics_pages(size_t size)
{
    size_t  overhead;

    overhead = sizeof(ngx_slab_pool_t)
               + 16 * (sizeof(ngx_slab_page_t) + sizeof(ngx_slab_stat_t));

    if (size < overhead + 2 * ngx_pagesize) {
        return 0;
    }

    /* one page lost to the alignment of the first */

    return (size - overhead) / (ngx_pagesize + sizeof(ngx_slab_page_t)) - 1;
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
    ngx_uint_t family, ngx_str_t *name)
{
    ngx_uint_t                      i;
    ngx_http_kpn_metrics_sh_t      *sh;
    ngx_http_kpn_metrics_label_t   *l;
    ngx_http_kpn_metrics_labels_t  *labels;

    sh = ctx->sh;

    /* the table of the configuration, read once: no lock */

    labels = sh->labels;
    ngx_memory_barrier();

    if (labels == NULL) {
        return NULL;
    }

    for (i = 0; i < labels->n; i++) {
        l = &labels->label[i];

        if (l->family == family && l->len == name->len
            && ngx_memcmp(l->name, name->data, name->len) == 0)
        {
            return &l->value;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_kpn_metrics_write(ngx_pool_t *pool, ngx_http_kpn_metrics_sh_t *sh,
    ngx_uint_t format, ngx_str_t *out)
{
    u_char                         *p, *last;
    size_t                          len;
    ngx_http_kpn_metrics_family_t  *f;
    ngx_http_kpn_metrics_labels_t  *labels;

    /* the label table of this moment, read once */

    labels = sh->labels;
    ngx_memory_barrier();

    /* a bound: every line of a family, every label escaped for JSON */

    len = 4096 + (labels ? labels->n : 0)
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

    p = ngx_http_kpn_metrics_labels(p, last, labels,
                                    NGX_HTTP_KPN_M_DEVICE_TYPE,
                                    "kpn_uplink_device_types_total",
                                    "device_type", format);

    if (format == NGX_HTTP_KPN_M_TEXT) {
        p = ngx_slprintf(p, last,
                         "# HELP kpn_token_expiry_timestamp_seconds When the "
                         "access token last fetched for a client id "
                         "expires.\n"
                         "# TYPE kpn_token_expiry_timestamp_seconds gauge\n");
    }

    p = ngx_http_kpn_metrics_labels(p, last, labels,
                                    NGX_HTTP_KPN_M_TOKEN_EXPIRY,
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
    ngx_http_kpn_metrics_labels_t *labels, ngx_uint_t family, char *name,
    char *label, ngx_uint_t format)
{
    ngx_uint_t                     i, n, first;
    ngx_http_kpn_metrics_label_t  *l;

    n = labels ? labels->n : 0;

    if (format == NGX_HTTP_KPN_M_JSON) {
        p = ngx_slprintf(p, last, ",\"%s\":{",
                         family == NGX_HTTP_KPN_M_DEVICE_TYPE
                         ? "uplink_device_types" : "token_expiry");
    }

    first = 1;

    for (i = 0; i < n; i++) {
        l = &labels->label[i];

        if (l->family != family) {
            continue;
        }

        /* a client id whose token was not fetched yet has no expiry */

        if (family == NGX_HTTP_KPN_M_TOKEN_EXPIRY && l->value == 0) {
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


static ngx_int_t ngx_http_kpn_metrics_accept_params(u_char **pp,
    u_char *last, ngx_int_t *q);
static ngx_int_t ngx_http_kpn_metrics_qvalue(u_char *p, size_t len);


#define ngx_http_kpn_metrics_ows(p, last)                                    \
    while (p < last && (*p == ' ' || *p == '\t')) { p++; }

#define ngx_http_kpn_metrics_is(s, len, lit)                                 \
    (len == sizeof(lit) - 1                                                  \
     && ngx_strncasecmp(s, (u_char *) lit, sizeof(lit) - 1) == 0)


/*
 * The parameters of a media range, from *pp to the comma or the end: q
 * (1000 when absent); NGX_DECLINED when the element is not one (*pp at
 * the point where that was found).
 */

static ngx_int_t
ngx_http_kpn_metrics_accept_params(u_char **pp, u_char *last, ngx_int_t *q)
{
    u_char      *p, *name, *v;
    size_t       name_len;
    ngx_uint_t   bad;

    p = *pp;
    *q = 1000;
    bad = 0;

    for ( ;; ) {
        ngx_http_kpn_metrics_ows(p, last);

        if (p == last || *p == ',') {
            break;
        }

        if (*p != ';') {
            *pp = p;
            return NGX_DECLINED;
        }

        p++;
        ngx_http_kpn_metrics_ows(p, last);

        name = p;

        while (p < last && *p != '=' && *p != ';' && *p != ','
               && *p != ' ' && *p != '\t')
        {
            p++;
        }

        name_len = p - name;

        if (p == last || *p != '=') {
            continue;   /* a parameter without a value: ignored */
        }

        v = ++p;

        if (p < last && *p == '"') {

            /* a quoted-string: skipped, a comma in it included */

            for (p++; p < last && *p != '"'; p++) {
                if (*p == '\\' && p + 1 < last) {
                    p++;
                }
            }

            if (p == last) {
                *pp = p;
                return NGX_DECLINED;
            }

            p++;

        } else {
            while (p < last && *p != ';' && *p != ','
                   && *p != ' ' && *p != '\t')
            {
                p++;
            }
        }

        if (ngx_http_kpn_metrics_is(name, name_len, "q")) {
            *q = ngx_http_kpn_metrics_qvalue(v, p - v);

            if (*q == NGX_ERROR) {
                bad = 1;
            }
        }
    }

    *pp = p;

    return bad ? NGX_DECLINED : NGX_OK;
}


/* one Accept header: #( media-range *( OWS ";" OWS parameter ) ) */

void
ngx_http_kpn_metrics_accept_parse(ngx_str_t *value,
    ngx_http_kpn_metrics_accept_t *a)
{
    u_char      *p, *last, *range;
    size_t       range_len;
    ngx_int_t    q;
    ngx_uint_t   rank, bad;

    p = value->data;
    last = p + value->len;

    while (p < last) {

        while (p < last && (*p == ',' || *p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        range = p;

        while (p < last && *p != ',' && *p != ';' && *p != ' ' && *p != '\t')
        {
            p++;
        }

        range_len = p - range;

        bad = (ngx_http_kpn_metrics_accept_params(&p, last, &q) != NGX_OK);

        if (bad) {
            /* this element is not one: on to the next comma */

            while (p < last && *p != ',') {
                if (*p == '"') {
                    for (p++; p < last && *p != '"'; p++) {
                        if (*p == '\\' && p + 1 < last) {
                            p++;
                        }
                    }

                    if (p == last) {
                        break;
                    }
                }

                p++;
            }

            continue;
        }

        if (ngx_http_kpn_metrics_is(range, range_len, "application/json")) {
            a->json = ngx_max(a->json, q);
            continue;
        }

        if (ngx_http_kpn_metrics_is(range, range_len, "text/plain")) {
            rank = 3;

        } else if (ngx_http_kpn_metrics_is(range, range_len, "text/*")) {
            rank = 2;

        } else if (ngx_http_kpn_metrics_is(range, range_len, "*/*")) {
            rank = 1;

        } else {
            continue;
        }

        if (rank > a->text_rank) {
            a->text_rank = rank;
            a->text = q;

        } else if (rank == a->text_rank) {
            a->text = ngx_max(a->text, q);
        }
    }
}


/* a qvalue, "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ], in thousandths */

static ngx_int_t
ngx_http_kpn_metrics_qvalue(u_char *p, size_t len)
{
    ngx_int_t   q, scale;
    ngx_uint_t  i;

    if (len == 0 || len > 5 || (p[0] != '0' && p[0] != '1')) {
        return NGX_ERROR;
    }

    q = (p[0] - '0') * 1000;

    if (len == 1) {
        return q;
    }

    if (p[1] != '.') {
        return NGX_ERROR;
    }

    scale = 100;

    for (i = 2; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return NGX_ERROR;
        }

        q += (p[i] - '0') * scale;
        scale /= 10;
    }

    return (q > 1000) ? NGX_ERROR : q;
}
