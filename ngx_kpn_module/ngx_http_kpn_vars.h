
/*
 * Copyright (C) ngx_kpn_module developers
 */


#ifndef _NGX_HTTP_KPN_VARS_H_INCLUDED_
#define _NGX_HTTP_KPN_VARS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * A variable whose value is the ngx_str_t at offset in ctx: not found
 * when there is no ctx or the string is empty.
 */
ngx_int_t ngx_http_kpn_variable_field(ngx_http_variable_value_t *v,
    void *ctx, uintptr_t offset);

/*
 * A variable whose value is the code of the outcome (NGX_HTTP_KPN_*) at
 * offset in ctx: not found when there is no ctx or no outcome yet.
 */
ngx_int_t ngx_http_kpn_variable_outcome(ngx_http_variable_value_t *v,
    void *ctx, uintptr_t offset);

/* adds a null-terminated table of variables (preconfiguration) */
ngx_int_t ngx_http_kpn_register_variables(ngx_conf_t *cf,
    ngx_http_variable_t *vars);


#endif /* _NGX_HTTP_KPN_VARS_H_INCLUDED_ */
