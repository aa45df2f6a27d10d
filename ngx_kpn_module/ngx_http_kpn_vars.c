
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Variable helpers of both halves: a table of variables registered in
 * one go, and a variable that reads an ngx_str_t field of a ctx.
 */


#include "ngx_http_kpn_vars.h"
#include "ngx_http_kpn_outcome.h"


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


ngx_int_t
ngx_http_kpn_variable_outcome(ngx_http_variable_value_t *v, void *ctx,
    uintptr_t offset)
{
    ngx_uint_t  outcome;

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    outcome = *(ngx_uint_t *) ((char *) ctx + offset);

    if (outcome == NGX_HTTP_KPN_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ngx_http_kpn_outcomes[outcome].code.data;
    v->len = ngx_http_kpn_outcomes[outcome].code.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
