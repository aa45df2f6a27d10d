
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The downlink's variables ($kpn_downlink_status, $kpn_token_cache, the
 * $kpn_downlink_* of the input) and its record for the metrics.  A
 * variable of the input that a template of the downlink request asks for
 * and cannot give notes it in ctx->missing; ngx_http_kpn_downlink.c
 * refuses the request from there.
 */


#include "ngx_http_kpn_downlink.h"
#include "ngx_http_kpn_vars.h"
#include "ngx_http_kpn_text.h"


static ngx_int_t ngx_http_kpn_downlink_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kpn_downlink_outcome_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);
static ngx_http_kpn_downlink_ctx_t *ngx_http_kpn_downlink_valid_ctx(
    ngx_http_request_t *r, ngx_http_variable_value_t *v);
static ngx_int_t ngx_http_kpn_downlink_input_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kpn_downlink_device_id_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


#define ngx_http_kpn_downlink_input(name, field)                             \
    { ngx_string(name), NULL, ngx_http_kpn_downlink_input_variable,          \
      offsetof(ngx_http_kpn_downlink_ctx_t, cmd.field),                     \
      NGX_HTTP_VAR_NOCACHEABLE, 0 }

static ngx_http_variable_t  ngx_http_kpn_downlink_vars[] = {

    ngx_http_kpn_downlink_input("kpn_downlink_dev_eui", dev_eui),
    ngx_http_kpn_downlink_input("kpn_downlink_dev_eui_lower", dev_eui_lower),
    ngx_http_kpn_downlink_input("kpn_downlink_port", port_text),
    ngx_http_kpn_downlink_input("kpn_downlink_payload", payload),
    ngx_http_kpn_downlink_input("kpn_downlink_payload_base64",
                                payload_base64),
    ngx_http_kpn_downlink_input("kpn_downlink_reference", reference_json),
    ngx_http_kpn_downlink_input("kpn_downlink_reference_arg", reference_arg),

    { ngx_string("kpn_downlink_device_id"), NULL,
      ngx_http_kpn_downlink_device_id_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_downlink_status"), NULL,
      ngx_http_kpn_downlink_outcome_variable,
      offsetof(ngx_http_kpn_downlink_ctx_t, status),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_token_cache"), NULL,
      ngx_http_kpn_downlink_cache_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* $kpn_token_cache, by NGX_HTTP_KPN_CACHE_* */

static ngx_str_t  ngx_http_kpn_downlink_cache_names[] = {
    ngx_null_string,
    ngx_string("hit"),
    ngx_string("miss"),
    ngx_string("stale"),
    ngx_string("wait")
};


static ngx_int_t
ngx_http_kpn_downlink_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                    *name;
    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_kpn_downlink_module);

    if (ctx == NULL || ctx->access.cache == NGX_HTTP_KPN_CACHE_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = &ngx_http_kpn_downlink_cache_names[ctx->access.cache];

    v->data = name->data;
    v->len = name->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* what the request did, for the metrics */

ngx_int_t
ngx_http_kpn_downlink_record(ngx_http_request_t *r,
    ngx_http_kpn_downlink_record_t *rec)
{
    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_downlink_module);

    if (ctx == NULL) {
        return NGX_DECLINED;
    }

    if (ctx->status != NGX_HTTP_KPN_NONE) {
        rec->status = ctx->status;

    } else if (ctx->state == NGX_HTTP_KPN_DL_READING) {
        rec->status = NGX_HTTP_KPN_NOT_READ;

    } else {
        rec->status = NGX_HTTP_KPN_INTERNAL_ERROR;
    }

    rec->kpn_status = ctx->kpn_status;
    rec->sent = ctx->sent;
    rec->cache = ctx->access.cache;
    rec->fetches = ctx->access.fetches;
    rec->expires = ctx->access.expires;

    return NGX_OK;
}


static ngx_int_t
ngx_http_kpn_downlink_outcome_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_kpn_variable_outcome(v,
               ngx_http_get_module_ctx(r->main, ngx_http_kpn_downlink_module),
               data);
}


/* the ctx of a request whose input is valid, else NULL (not found) */

static ngx_http_kpn_downlink_ctx_t *
ngx_http_kpn_downlink_valid_ctx(ngx_http_request_t *r,
    ngx_http_variable_value_t *v)
{
    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_kpn_downlink_module);

    if (ctx == NULL || !ctx->valid) {
        v->not_found = 1;
        return NULL;
    }

    return ctx;
}


/*
 * $kpn_downlink_dev_eui and the others of the input: known once the input
 * is valid.  An absent externalReference is not found; asked for by a
 * template of the downlink request, it refuses the request instead.
 */

static ngx_int_t
ngx_http_kpn_downlink_input_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                    *s;
    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_kpn_downlink_valid_ctx(r, v);
    if (ctx == NULL) {
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    if (s->len == 0 && ctx->evaluating
        && ctx->missing == NGX_HTTP_KPN_MISSING_NONE)
    {
        ctx->missing = NGX_HTTP_KPN_MISSING_REFERENCE;
    }

    return ngx_http_kpn_variable_field(v, ctx, data);
}


/*
 * $kpn_downlink_device_id: deviceId of the input, else the UUID that
 * kpn_downlink_device_id gives (a map on $kpn_downlink_dev_eui), worked
 * out once.  Absent, or not a UUID, asked for by a template: the request
 * is refused.
 */

static ngx_int_t
ngx_http_kpn_downlink_device_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t                          rc;
    ngx_str_t                          value;
    ngx_http_kpn_downlink_ctx_t       *ctx;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    ctx = ngx_http_kpn_downlink_valid_ctx(r, v);
    if (ctx == NULL) {
        return NGX_OK;
    }

    dlcf = ngx_http_get_module_loc_conf(r->main, ngx_http_kpn_downlink_module);

    if (!ctx->device_id_done) {

        /* set first: a kpn_downlink_device_id that names us ends here */
        ctx->device_id_done = 1;

        if (ctx->cmd.device_id.len) {
            ctx->device_id = ctx->cmd.device_id;

        } else if (dlcf->device_id) {
            if (ngx_http_complex_value(r->main, dlcf->device_id, &value)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            if (value.len) {
                rc = ngx_http_kpn_command_uuid(r->pool, &value,
                                               &ctx->device_id);
                if (rc == NGX_ERROR) {
                    return NGX_ERROR;
                }

                if (rc != NGX_OK) {
                    ctx->bad_device_id = value;
                }
            }
        }
    }

    if (ctx->device_id.len == 0 && ctx->evaluating
        && ctx->missing == NGX_HTTP_KPN_MISSING_NONE)
    {
        ctx->missing = ctx->bad_device_id.len ? NGX_HTTP_KPN_BAD_DEVICE_ID
                                              : NGX_HTTP_KPN_MISSING_DEVICE_ID;
    }

    return ngx_http_kpn_variable_field(v, ctx,
               offsetof(ngx_http_kpn_downlink_ctx_t, device_id));
}


ngx_int_t
ngx_http_kpn_downlink_add_variables(ngx_conf_t *cf)
{
    return ngx_http_kpn_register_variables(cf, ngx_http_kpn_downlink_vars);
}


/*
 * The input that the templates of the downlink request asked for and did
 * not get (the first one, noted by its variable in ctx->missing; elsewhere,
 * in a log or the internal location, such a variable is not found, as
 * others): NGX_DECLINED with err and its log level; NGX_OK: none.
 */

ngx_int_t
ngx_http_kpn_downlink_missing(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t *level)
{
    ngx_str_t                          echo;
    ngx_uint_t                         cut;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    switch (ctx->missing) {

    case NGX_HTTP_KPN_MISSING_NONE:
        return NGX_OK;

    case NGX_HTTP_KPN_MISSING_REFERENCE:
        *level = ngx_http_kpn_reject_log_level(r);
        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_MISSING_FIELD,
                                  0,
                                  "\"externalReference\" is required: "
                                  "the downlink request of this location "
                                  "uses it");

    case NGX_HTTP_KPN_BAD_DEVICE_ID:
        ngx_http_kpn_echo(&ctx->bad_device_id, NGX_HTTP_KPN_ECHO_MAX, &echo,
                          &cut);

        *level = NGX_LOG_ERR;
        return ngx_http_kpn_raise(r->pool, err,
                                  NGX_HTTP_KPN_INVALID_DEVICE_ID,
                                  NGX_HTTP_INTERNAL_SERVER_ERROR,
                                  "kpn_downlink_device_id gives \"%V\", "
                                  "not a UUID", &echo);

    default: /* NGX_HTTP_KPN_MISSING_DEVICE_ID */
        dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

        *level = ngx_http_kpn_reject_log_level(r);

        if (dlcf->device_id) {
            ngx_http_kpn_echo(&ctx->cmd.dev_eui, NGX_HTTP_KPN_ECHO_MAX, &echo,
                              &cut);

            return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_MISSING_FIELD,
                                      0,
                                      "\"deviceId\" is required: the "
                                      "downlink request of this location "
                                      "uses it and kpn_downlink_device_id "
                                      "has none for devEUI %V", &echo);
        }

        return ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_MISSING_FIELD,
                                  0,
                                  "\"deviceId\" is required: the downlink "
                                  "request of this location uses it");
    }
}
