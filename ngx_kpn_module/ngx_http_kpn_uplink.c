
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The uplink: a precontent phase handler (it runs before mirror and
 * try_files, and for the main request only) that reads the body, checks
 * the message token over the raw bytes, validates the SenML pack,
 * identifies the device and its type, and replaces the body with the
 * Withthegrid envelope.  proxy_pass then sends the new body.
 */


#include "ngx_http_kpn_uplink_module.h"
#include "ngx_http_kpn_json.h"
#include "ngx_http_kpn_response.h"
#include "ngx_http_kpn_auth.h"
#include "ngx_http_kpn_body.h"
#include "ngx_http_kpn_senml.h"
#include "ngx_http_kpn_envelope.h"
#include "ngx_http_kpn_device.h"
#include "ngx_http_kpn_uplink.h"
#include "ngx_http_kpn_vars.h"
#include "ngx_http_kpn_text.h"


static void ngx_http_kpn_uplink_body_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_kpn_uplink_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_http_kpn_uplink_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_kpn_uplink_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_kpn_uplink_process(ngx_http_request_t *r,
    ngx_http_kpn_ctx_t *ctx, ngx_http_kpn_loc_conf_t *lcf,
    ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_uplink_device_type(ngx_http_request_t *r,
    ngx_http_kpn_ctx_t *ctx, ngx_http_kpn_loc_conf_t *lcf,
    ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_uplink_message_id(ngx_http_request_t *r,
    ngx_http_kpn_ctx_t *ctx);
static ngx_uint_t ngx_http_kpn_uplink_is_json(ngx_table_elt_t *h);
static ngx_int_t ngx_http_kpn_uplink_strip(ngx_http_request_t *r,
    ngx_http_kpn_loc_conf_t *lcf);
static void ngx_http_kpn_uplink_reject(ngx_http_request_t *r,
    ngx_http_kpn_ctx_t *ctx, ngx_http_kpn_error_t *err);
static ngx_http_kpn_ctx_t *ngx_http_kpn_create_ctx(ngx_http_request_t *r);
static void ngx_http_kpn_ctx_cleanup(void *data);


static ngx_str_t  ngx_http_kpn_application_json =
    ngx_string("application/json");
static ngx_str_t  ngx_http_kpn_message_token =
    ngx_string("things-message-token");
static ngx_str_t  ngx_http_kpn_plug_uuid = ngx_string("things-plug-uuid");
static ngx_str_t  ngx_http_kpn_authorization = ngx_string("authorization");
static ngx_str_t  ngx_http_kpn_api_key = ngx_string("x-api-key");


ngx_int_t
ngx_http_kpn_uplink_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_kpn_ctx_t       *ctx;
    ngx_http_kpn_error_t      err;
    ngx_http_kpn_loc_conf_t  *lcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_module);

    if (!lcf->uplink) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_kpn_get_ctx(r);

    if (ctx) {

        /*
         * the body handler's run of the phases, or an internal redirect
         * (error_page, named location) after the uplink was done:
         * never validate or rewrite twice
         */

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn uplink: again, state:%ui", ctx->state);

        if (ctx->state != NGX_HTTP_KPN_UPLINK_DONE) {

            /*
             * the phases run again while the body is being read only
             * after the read failed and error_page redirected the
             * request here: the body handler will never run, so answer
             * with the read's error instead of waiting for it, or with
             * 400 when "error_page ... =" has dropped that status
             */

            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "kpn uplink: the body read failed: %ui",
                           r->err_status);

            ctx->state = NGX_HTTP_KPN_UPLINK_DONE;
            ctx->phase_rc = (r->err_status >= NGX_HTTP_SPECIAL_RESPONSE)
                            ? (ngx_int_t) r->err_status
                            : NGX_HTTP_BAD_REQUEST;
        }

        return ctx->phase_rc;
    }

    ctx = ngx_http_kpn_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r->method != NGX_HTTP_POST) {
        ngx_http_kpn_not_allowed(r, &err, "POST");
        goto reject;
    }

    /* the destination's own authentication: before a byte of the body */

    if (lcf->auth != NGX_HTTP_KPN_DEST_AUTH_OFF) {
        rc = ngx_http_kpn_auth_destination(r, lcf->auth, &lcf->auth_header,
                                           lcf->auth_digests,
                                           lcf->auth_values, &err);
        if (rc == NGX_DECLINED) {
            goto reject;
        }

        if (rc != NGX_OK) {
            ctx->state = NGX_HTTP_KPN_UPLINK_DONE;
            ctx->status = NGX_HTTP_KPN_INTERNAL_ERROR;
            ctx->phase_rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn uplink: destination auth ok");
    }

    if (!ngx_http_kpn_uplink_is_json(r->headers_in.content_type)) {
        ngx_http_kpn_raise(r->pool, &err, NGX_HTTP_KPN_UNSUPPORTED_MEDIA_TYPE,
                           0,
                           "the content type must be application/json");
        goto reject;
    }

    ctx->state = NGX_HTTP_KPN_UPLINK_READING;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn uplink: reading body");

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_kpn_uplink_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->state = NGX_HTTP_KPN_UPLINK_DONE;
        ctx->phase_rc = rc;
        return rc;
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;

reject:

    ngx_http_kpn_uplink_reject(r, ctx, &err);
    return NGX_DONE;
}


static void
ngx_http_kpn_uplink_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_http_kpn_ctx_t       *ctx;
    ngx_http_kpn_error_t      err;
    ngx_http_kpn_loc_conf_t  *lcf;

    ctx = ngx_http_kpn_get_ctx(r);
    lcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_module);

    rc = ngx_http_kpn_uplink_process(r, ctx, lcf, &err);

    ctx->state = NGX_HTTP_KPN_UPLINK_DONE;

    switch (rc) {

    case NGX_OK:

        if (ngx_http_kpn_uplink_strip(r, lcf) != NGX_OK) {
            ctx->status = NGX_HTTP_KPN_INTERNAL_ERROR;
            ctx->phase_rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->status = NGX_HTTP_KPN_OK;
        ctx->phase_rc = NGX_DECLINED;

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn uplink: accepted, device:%V", &ctx->device_id);

        r->write_event_handler = ngx_http_core_run_phases;
        ngx_http_core_run_phases(r);
        return;

    case NGX_DECLINED:
        ngx_http_kpn_uplink_reject(r, ctx, &err);
        return;

    default:

        /* out of memory or a temp file that cannot be read: a JSON 500 */

        if (ngx_http_kpn_raise(r->pool, &err,
                               NGX_HTTP_KPN_INTERNAL_ERROR,
                               0,
                               "the uplink could not be processed")
            == NGX_ERROR)
        {
            ctx->status = NGX_HTTP_KPN_INTERNAL_ERROR;
            ctx->phase_rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_http_kpn_uplink_reject(r, ctx, &err);
        return;
    }
}


static ngx_int_t
ngx_http_kpn_uplink_process(ngx_http_request_t *r, ngx_http_kpn_ctx_t *ctx,
    ngx_http_kpn_loc_conf_t *lcf, ngx_http_kpn_error_t *err)
{
    ngx_int_t             rc;
    ngx_str_t             body, out;
    ngx_http_kpn_senml_t  pack;

    if (ngx_http_kpn_body_collect(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->received = body.len;

    if (body.len == 0) {
        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_EMPTY_BODY,
                                  0, "the request body is empty");
    }

    /* the token covers the raw bytes: checked before any parsing */

    rc = ngx_http_kpn_auth_message_token(r, lcf->secrets, lcf->secret,
                                         &body, err);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn uplink: message token ok");

    if (ngx_http_kpn_uplink_message_id(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&pack, sizeof(ngx_http_kpn_senml_t));

    rc = ngx_http_kpn_senml_parse(r->pool, &body, lcf->max_records, &pack,
                                  err);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->device_id = pack.device_id;
    ctx->device_urn = pack.urn;
    ctx->id_type = pack.id_type;
    ctx->time_num = pack.time;
    ctx->port_num = pack.port;
    ctx->payload_hex = pack.payload_hex_text;
    ctx->fcnt_up_num = pack.fcnt_up;
    ctx->rssi_num = pack.rssi;
    ctx->snr_num = pack.snr;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn uplink: senml ok, %V device:%V",
                   &ctx->id_type, &ctx->device_id);

    rc = ngx_http_kpn_uplink_device_type(r, ctx, lcf, err);
    if (rc != NGX_OK) {
        return rc;
    }

    if (lcf->format == NGX_HTTP_KPN_FORMAT_SENML) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn uplink: forwarding the original body");
        ctx->body = body;
        ctx->forwarded = body.len;
        return NGX_OK;
    }

    pack.message_id = ctx->message_id;

    if (ngx_http_kpn_senml_envelope(r->pool, &pack, &ctx->device_type,
                                    &ctx->device_type_hash_id, &out)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->body = out;
    ctx->forwarded = out.len;

    return ngx_http_kpn_body_replace(r, &out, &ngx_http_kpn_application_json);
}


/*
 * $kpn_message_id: the Things-Message-Token (checked: 64 hex digits) in
 * lower case.  It is a digest of the body and the secret, so KPN's
 * retries of a message carry the same one and two messages never do.
 */

static ngx_int_t
ngx_http_kpn_uplink_message_id(ngx_http_request_t *r, ngx_http_kpn_ctx_t *ctx)
{
    ngx_table_elt_t  *h;

    h = ngx_http_kpn_find_header(r, &ngx_http_kpn_message_token);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ctx->message_id.data = ngx_pnalloc(r->pool, h->value.len);
    if (ctx->message_id.data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(ctx->message_id.data, h->value.data, h->value.len);
    ctx->message_id.len = h->value.len;

    return NGX_OK;
}


static ngx_int_t
ngx_http_kpn_uplink_device_type(ngx_http_request_t *r,
    ngx_http_kpn_ctx_t *ctx, ngx_http_kpn_loc_conf_t *lcf,
    ngx_http_kpn_error_t *err)
{
    ngx_str_t                    echo;
    ngx_uint_t                   i, cut;
    ngx_table_elt_t             *h;
    ngx_http_kpn_device_type_t  *dt;

    if (lcf->device_types == NULL) {

        /* "kpn_uplink_format senml" without device types: nothing to do */
        return NGX_OK;
    }

    h = ngx_http_kpn_find_header(r, &lcf->device_type_header);

    if (h == NULL || h->value.len == 0) {
        return ngx_http_kpn_raise(r->pool, err,
                                  NGX_HTTP_KPN_UNKNOWN_DEVICE_TYPE,
                                  0,
                                  "the \"%V\" header is missing",
                                  &lcf->device_type_header);
    }

    ctx->device_type = h->value;

    dt = lcf->device_types->elts;

    for (i = 0; i < lcf->device_types->nelts; i++) {
        if (dt[i].name.len == h->value.len
            && ngx_strncmp(dt[i].name.data, h->value.data, h->value.len) == 0)
        {
            ctx->device_type_hash_id = dt[i].hash_id;
            return NGX_OK;
        }
    }

    ngx_http_kpn_echo(&h->value, NGX_HTTP_KPN_ECHO_MAX, &echo, &cut);

    return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_UNKNOWN_DEVICE_TYPE,
                              0,
                              "device type \"%V%s\" is not configured",
                              &echo, cut ? "..." : "");
}


/*
 * The headers KPN addressed to the gateway do not go on: the
 * Things-Message-Token, Authorization and the API-key header
 * (kpn_uplink_auth_header, and X-API-Key whatever that says), unless
 * kpn_uplink_pass_header names them.
 * proxy_pass copies r->headers_in.headers, which has no way to delete an
 * entry: the list is made again without them.  The other headers_in
 * pointers (Host, Content-Type, ...) keep pointing at the old entries,
 * whose values are the same.
 */

static ngx_int_t
ngx_http_kpn_uplink_strip(ngx_http_request_t *r,
    ngx_http_kpn_loc_conf_t *lcf)
{
    ngx_str_t         *drop[4], *pass;
    ngx_uint_t         i, j, k, n, removed;
    ngx_list_t         headers;
    ngx_table_elt_t   *h, *nh;
    ngx_list_part_t   *part;

    drop[0] = &ngx_http_kpn_message_token;
    drop[1] = &ngx_http_kpn_authorization;
    drop[2] = &lcf->auth_header;

    /*
     * X-API-Key, KPN's X-API-key option, also when kpn_uplink_auth_header
     * names another header (KPN's static additional header, say, with the
     * X-API-key option on as well)
     */

    drop[3] = (lcf->auth_header.len == ngx_http_kpn_api_key.len
               && ngx_strncmp(lcf->auth_header.data, ngx_http_kpn_api_key.data,
                              ngx_http_kpn_api_key.len)
                  == 0)
              ? NULL : &ngx_http_kpn_api_key;

    /* what kpn_uplink_pass_header keeps is not dropped */

    pass = lcf->pass_headers ? lcf->pass_headers->elts : NULL;
    n = lcf->pass_headers ? lcf->pass_headers->nelts : 0;

    for (k = 0; k < 4; k++) {
        for (j = 0; j < n; j++) {
            if (drop[k] && pass[j].len == drop[k]->len
                && ngx_strncmp(pass[j].data, drop[k]->data, pass[j].len) == 0)
            {
                drop[k] = NULL;
            }
        }
    }

    if (ngx_list_init(&headers, r->pool, 20, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    removed = 0;
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

        for (k = 0; k < 4; k++) {
            if (drop[k] && h[i].key.len == drop[k]->len
                && ngx_strncmp(h[i].lowcase_key, drop[k]->data,
                               drop[k]->len)
                   == 0)
            {
                break;
            }
        }

        if (k < 4) {
            removed++;
            continue;
        }

        nh = ngx_list_push(&headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn uplink: %ui credential header(s) removed", removed);

    if (removed == 0) {
        return NGX_OK;
    }

    r->headers_in.headers = headers;

    /* a list of one part: last pointed at the local copy's part */

    if (headers.last == &headers.part) {
        r->headers_in.headers.last = &r->headers_in.headers.part;
    }

    if (drop[1]) {
        r->headers_in.authorization = NULL;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_kpn_uplink_is_json(ngx_table_elt_t *h)
{
    u_char  *p, *last;

    static ngx_str_t  types[] = {
        ngx_string("application/json"),
        ngx_string("application/senml+json")
    };

    ngx_uint_t  i;

    if (h == NULL) {
        return 0;
    }

    p = h->value.data;
    last = p + h->value.len;

    while (p < last && *p == ' ') {
        p++;
    }

    for (i = 0; i < sizeof(types) / sizeof(ngx_str_t); i++) {
        if ((size_t) (last - p) >= types[i].len
            && ngx_strncasecmp(p, types[i].data, types[i].len) == 0
            && (p + types[i].len == last
                || p[types[i].len] == ';' || p[types[i].len] == ' '))
        {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_kpn_uplink_reject(ngx_http_request_t *r, ngx_http_kpn_ctx_t *ctx,
    ngx_http_kpn_error_t *err)
{
    u_char           *p;
    size_t            len;
    ngx_str_t         plug, detail;
    ngx_uint_t        level, cut;
    ngx_table_elt_t  *h;

    ctx->state = NGX_HTTP_KPN_UPLINK_DONE;
    ctx->status = err->outcome;
    ctx->phase_rc = NGX_DONE;

    level = ngx_http_kpn_reject_log_level(r);

    /* a failure of ours (500) is an error whatever the level */

    if (ngx_http_kpn_outcomes[err->outcome].log_class
        == NGX_HTTP_KPN_LOG_ERROR)
    {
        level = NGX_LOG_ERR;
    }

    detail.len = 0;

    if (err->hint) {

        /*
         * a credential refused: the destination (its Things-Plug-UUID
         * header, quoted as printable text) and what to check, never the
         * credential
         */

        h = ngx_http_kpn_find_header(r, &ngx_http_kpn_plug_uuid);

        if (h && h->value.len) {
            ngx_http_kpn_echo(&h->value, NGX_HTTP_KPN_ECHO_MAX, &plug, &cut);

            p = ngx_pnalloc(r->pool, plug.len);
            if (p != NULL) {
                ngx_memcpy(p, plug.data, plug.len);
                plug.len = ngx_http_kpn_printable(p, plug.len);
                plug.data = p;

            } else {
                ngx_str_set(&plug, "?");
            }

        } else {
            ngx_str_set(&plug, "(no Things-Plug-UUID header)");
            cut = 0;
        }

        len = sizeof(", destination: ...: ") - 1 + plug.len
              + ngx_strlen(err->hint);

        detail.data = ngx_pnalloc(r->pool, len);
        if (detail.data != NULL) {
            detail.len = ngx_sprintf(detail.data, ", destination: %V%s: %s",
                                     &plug, cut ? "..." : "", err->hint)
                         - detail.data;
        }

    } else if (ctx->device_id.len) {
        len = sizeof(", device: ") - 1 + ctx->device_id.len;

        detail.data = ngx_pnalloc(r->pool, len);
        if (detail.data != NULL) {
            detail.len = ngx_sprintf(detail.data, ", device: %V",
                                     &ctx->device_id)
                         - detail.data;
        }
    }

    ngx_http_finalize_request(r, ngx_http_kpn_refuse(r, err, level, 0,
                                                     "kpn uplink rejected",
                                                     NGX_HTTP_KPN_REFUSE_STATUS,
                                                     &detail));
}


static ngx_http_kpn_ctx_t *
ngx_http_kpn_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_kpn_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_kpn_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    /*
     * the cleanup marks the ctx so that ngx_http_kpn_get_ctx() finds it
     * again after an internal redirect has zeroed the module ctx
     */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_kpn_ctx_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_kpn_module);

    return ctx;
}


ngx_http_kpn_ctx_t *
ngx_http_kpn_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;
    ngx_http_kpn_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_module);

    if (ctx || !r->internal) {
        return ctx;
    }

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_kpn_ctx_cleanup) {
            ctx = cln->data;
            ngx_http_set_ctx(r, ctx, ngx_http_kpn_module);
            return ctx;
        }
    }

    return NULL;
}


static void
ngx_http_kpn_ctx_cleanup(void *data)
{
    /* nothing to free: the handler only marks the ctx */
}


static ngx_http_output_header_filter_pt
    ngx_http_kpn_uplink_next_header_filter;
static ngx_http_output_body_filter_pt
    ngx_http_kpn_uplink_next_body_filter;


/*
 * nginx's own 413 for a body over client_max_body_size in a kpn_uplink
 * location becomes the module's JSON error (ngx_http_kpn_too_large_*()):
 * when Content-Length announces it, nginx answers in the find-config
 * phase, before the kpn_uplink handler runs.
 */

static ngx_uint_t
ngx_http_kpn_uplink_too_large(ngx_http_request_t *r)
{
    ngx_http_kpn_ctx_t       *ctx;
    ngx_http_kpn_loc_conf_t  *lcf;

    if (r->err_status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE || r != r->main) {
        return 0;
    }

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_module);

    if (!lcf->uplink) {
        return 0;
    }

    /* no ctx: the find-config phase; no status: the body read failed */

    ctx = ngx_http_kpn_get_ctx(r);

    return ctx == NULL || ctx->status == NGX_HTTP_KPN_NONE;
}


static ngx_int_t
ngx_http_kpn_uplink_header_filter(ngx_http_request_t *r)
{
    if (r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        && ngx_http_kpn_uplink_too_large(r)
        && ngx_http_kpn_too_large_header(r) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_kpn_uplink_next_header_filter(r);
}


static ngx_int_t
ngx_http_kpn_uplink_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    if (in
        && r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        && ngx_http_kpn_uplink_too_large(r)
        && ngx_http_kpn_too_large_body(r, &in) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_kpn_uplink_next_body_filter(r, in);
}


ngx_int_t
ngx_http_kpn_uplink_filter_init(ngx_conf_t *cf)
{
    ngx_http_kpn_uplink_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_kpn_uplink_header_filter;

    ngx_http_kpn_uplink_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_kpn_uplink_body_filter;

    return NGX_OK;
}