
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The uplink's $kpn_* variables.  They read the main request's ctx,
 * which ngx_http_kpn_get_ctx() finds again after internal redirects.
 */


#include "ngx_http_kpn_vars.h"
#include "ngx_http_kpn_uplink.h"


static ngx_int_t ngx_http_kpn_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_kpn_vars[] = {

    { ngx_string("kpn_uplink_status"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, status), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_device_id"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, device_id), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_device_urn"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, device_urn), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_id_type"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, id_type), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_device_type"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, device_type), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_device_type_hash_id"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, device_type_hash_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_port"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, port), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_payload_hex"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, payload_hex), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_fcnt_up"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, fcnt_up), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_rssi"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, rssi), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_snr"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, snr), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("kpn_time"), NULL, ngx_http_kpn_variable,
      offsetof(ngx_http_kpn_ctx_t, time), NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_kpn_add_variables(ngx_conf_t *cf)
{
    return ngx_http_kpn_register_variables(cf, ngx_http_kpn_vars);
}


ngx_int_t
ngx_http_kpn_register_variables(ngx_conf_t *cf, ngx_http_variable_t *vars)
{
    ngx_http_variable_t  *var, *v;

    for (v = vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_kpn_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    return ngx_http_kpn_variable_field(v, ngx_http_kpn_get_ctx(r->main),
                                       data);
}


ngx_int_t
ngx_http_kpn_variable_field(ngx_http_variable_value_t *v, void *ctx,
    uintptr_t offset)
{
    ngx_str_t  *s;

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + offset);

    if (s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = s->data;
    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
