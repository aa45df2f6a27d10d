
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The uplink's variables ($kpn_uplink_status, the device's and KPN's
 * values, $kpn_wtg_token, the outage spool's) and its record for the
 * metrics: read from the main request's ctx (ngx_http_kpn_uplink.c).
 */


#include "ngx_http_kpn_uplink_module.h"
#include "ngx_http_kpn_uplink.h"
#include "ngx_http_kpn_senml.h"
#include "ngx_http_kpn_device.h"
#include "ngx_http_kpn_vars.h"


static ngx_int_t ngx_http_kpn_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kpn_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kpn_wtg_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kpn_spool_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_kpn_number_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* the uplink's $kpn_* variables: the main request's ctx */

/* a variable that reads the ngx_str_t field f of the main request's ctx */
#define ngx_http_kpn_ctx_variable(name, f)                                    \
    { ngx_string(name), NULL, ngx_http_kpn_variable,                         \
      offsetof(ngx_http_kpn_ctx_t, f), NGX_HTTP_VAR_NOCACHEABLE, 0 }


/* a variable of a number of the pack, its text field t printed when read */
#define ngx_http_kpn_ctx_number(name, t)                                      \
    { ngx_string(name), NULL, ngx_http_kpn_number_variable,                  \
      offsetof(ngx_http_kpn_ctx_t, t), NGX_HTTP_VAR_NOCACHEABLE, 0 }


static ngx_http_variable_t  ngx_http_kpn_vars[] = {
    { ngx_string("kpn_uplink_status"), NULL, ngx_http_kpn_status_variable,
      offsetof(ngx_http_kpn_ctx_t, status), NGX_HTTP_VAR_NOCACHEABLE, 0 },
    ngx_http_kpn_ctx_variable("kpn_device_id", device_id),
    ngx_http_kpn_ctx_variable("kpn_device_urn", device_urn),
    ngx_http_kpn_ctx_variable("kpn_id_type", id_type),
    ngx_http_kpn_ctx_variable("kpn_device_type", device_type),
    ngx_http_kpn_ctx_variable("kpn_device_type_hash_id", device_type_hash_id),
    ngx_http_kpn_ctx_number("kpn_port", port),
    ngx_http_kpn_ctx_variable("kpn_payload_hex", payload_hex),
    ngx_http_kpn_ctx_number("kpn_fcnt_up", fcnt_up),
    ngx_http_kpn_ctx_number("kpn_rssi", rssi),
    ngx_http_kpn_ctx_number("kpn_snr", snr),
    ngx_http_kpn_ctx_variable("kpn_message_id", message_id),
    ngx_http_kpn_ctx_variable("kpn_uplink_body", body),
    ngx_http_kpn_ctx_number("kpn_time", time),

    /* kpn_wtg_token_file of the location: for proxy_set_header */
    { ngx_string("kpn_wtg_token"), NULL, ngx_http_kpn_wtg_token_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* the outage spool (docs/spool.md): worked out when read, in the log phase */
    { ngx_string("kpn_spool_outcome"), NULL, ngx_http_kpn_spool_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },
    { ngx_string("kpn_spool_envelope"), NULL, ngx_http_kpn_spool_variable,
      1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_kpn_add_variables(ngx_conf_t *cf)
{
    return ngx_http_kpn_register_variables(cf, ngx_http_kpn_vars);
}


static ngx_int_t
ngx_http_kpn_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    return ngx_http_kpn_variable_field(v, ngx_http_kpn_get_ctx(r->main),
                                       data);
}


/* what the request did, for the metrics */

ngx_int_t
ngx_http_kpn_uplink_record(ngx_http_request_t *r,
    ngx_http_kpn_uplink_record_t *rec)
{
    ngx_http_kpn_ctx_t  *ctx;

    ctx = ngx_http_kpn_get_ctx(r);

    if (ctx == NULL) {
        return NGX_DECLINED;
    }

    rec->status = ctx->status;
    rec->received = ctx->received;
    rec->forwarded = ctx->forwarded;
    rec->device_type = ctx->device_type;
    rec->device_type_known = (ctx->device_type_hash_id.len != 0);

    return NGX_OK;
}


static ngx_int_t
ngx_http_kpn_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    return ngx_http_kpn_variable_outcome(v, ngx_http_kpn_get_ctx(r->main),
                                         data);
}


static ngx_int_t
ngx_http_kpn_wtg_token_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_kpn_ctx_t       *ctx;
    ngx_http_kpn_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_module);

    /*
     * only for an uplink the module has verified and accepted: with the
     * file and "proxy_set_header x-wtg-token $kpn_wtg_token" at http or
     * server level, "location /" (any client's request), a refused
     * uplink and KPN's own endpoints would carry Withthegrid's token
     */

    ctx = ngx_http_kpn_get_ctx(r->main);

    if (lcf->wtg_token.len == 0
        || ctx == NULL
        || ctx->status != NGX_HTTP_KPN_OK)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = lcf->wtg_token.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = lcf->wtg_token.data;

    return NGX_OK;
}


/*
 * $kpn_spool_outcome: what Withthegrid made of an uplink the module
 * accepted, by the last upstream answer of the request (the last value of
 * $upstream_status: servers of one upstream block, then the locations an
 * error_page went through): "accepted" when it is 2xx, "failed" for any
 * other (an error status, nginx's own 502 and 504, no answer: "-", an
 * error_page that proxied no more, or never proxied at all); not found when
 * the module did not accept the uplink (nothing went to Withthegrid).
 * $kpn_spool_envelope: the envelope as forwarded when the outcome is
 * "failed", not found otherwise.  Meant for the log phase.
 */

static ngx_int_t
ngx_http_kpn_spool_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_uint_t                  n, accepted;
    ngx_http_kpn_ctx_t         *ctx;
    ngx_http_upstream_state_t  *state;

    ctx = ngx_http_kpn_get_ctx(r->main);

    if (ctx == NULL
        || ctx->status != NGX_HTTP_KPN_OK)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    accepted = 0;

    if (r->upstream_states && r->upstream_states->nelts) {
        n = r->upstream_states->nelts;
        state = r->upstream_states->elts;

        /* an entry without a peer is the " : " of an internal redirect */
        accepted = state[n - 1].peer != NULL
                   && state[n - 1].status >= 200 && state[n - 1].status < 300;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn spool: %s, upstream answers:%ui",
                   accepted ? "accepted" : "failed",
                   r->upstream_states ? r->upstream_states->nelts : 0);

    if (data == 0) {
        if (accepted) {
            v->len = sizeof("accepted") - 1;
            v->data = (u_char *) "accepted";

        } else {
            v->len = sizeof("failed") - 1;
            v->data = (u_char *) "failed";
        }

        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;
        return NGX_OK;
    }

    if (accepted) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_kpn_variable_field(v, ctx, offsetof(ngx_http_kpn_ctx_t,
                                                        body));
}


/*
 * $kpn_time, $kpn_port, $kpn_fcnt_up, $kpn_rssi, $kpn_snr: the number
 * printed at the first read (an uplink that no variable reads prints
 * none), then the text field at data as the other variables
 */

static ngx_int_t
ngx_http_kpn_number_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                     *text;
    ngx_http_kpn_ctx_t            *ctx;
    ngx_http_kpn_senml_number_t   *num;

    ctx = ngx_http_kpn_get_ctx(r->main);

    if (ctx) {
        text = (ngx_str_t *) ((char *) ctx + data);

        /* the number field of each text, in the order of ctx */

        if (text == &ctx->time) {
            num = ctx->time_num;

        } else if (text == &ctx->port) {
            num = ctx->port_num;

        } else if (text == &ctx->fcnt_up) {
            num = ctx->fcnt_up_num;

        } else if (text == &ctx->rssi) {
            num = ctx->rssi_num;

        } else {
            num = ctx->snr_num;
        }

        if (text->len == 0 && num
            && ngx_http_kpn_device_text(r->main->pool, num, text) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_kpn_variable_field(v, ctx, data);
}
