
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The templates of the downlink request at configuration time:
 * kpn_downlink_uri's arguments, kpn_downlink_header, the default headers
 * of KPN's Beta API, and the complex values they compile to.
 */


#include "ngx_http_kpn_downlink_module.h"
#include "ngx_http_kpn_conf.h"


/*
 * kpn_downlink_uri /path[?arguments]: the path is a constant; the
 * arguments, when given (even none: "/path?"), are a template that
 * replaces the default ones (port=N[&externalReference=...]), as a
 * rewrite's arguments replace the request's.
 */

char *
ngx_http_kpn_downlink_request_uri(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_kpn_downlink_loc_conf_t *dlcf = conf;

    u_char                            *q;
    ngx_str_t                         *value, path, args;

    if (dlcf->downlink_uri.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is not a local URI "
                           "(it must start with \"/\")",
                           &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    path = value[1];

    q = ngx_strlchr(value[1].data, value[1].data + value[1].len, '?');

    if (q) {
        path.len = q - value[1].data;
    }

    if (ngx_strlchr(path.data, path.data + path.len, '$')) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": variables are allowed in the arguments "
                           "only, not in the path \"%V\"",
                           &cmd->name, &path);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_kpn_downlink_pos(cf, &dlcf->downlink_uri_pos) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    dlcf->downlink_uri = path;

    if (q == NULL) {
        return NGX_CONF_OK;
    }

    args.data = q + 1;
    args.len = value[1].data + value[1].len - args.data;

    dlcf->downlink_args = ngx_palloc(cf->pool,
                                     sizeof(ngx_http_complex_value_t));
    if (dlcf->downlink_args == NULL
        || ngx_http_kpn_downlink_compile(cf, &args, dlcf->downlink_args)
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * kpn_downlink_header NAME VALUE: the list of a level starts from the
 * default headers; a name of the list gets the new value (an empty one
 * removes it), another name is added.  A level without the directive
 * inherits the whole list, as proxy_set_header's.
 */

char *
ngx_http_kpn_downlink_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_downlink_loc_conf_t *dlcf = conf;

    u_char                            *p;
    ngx_str_t                         *value, *name;
    ngx_uint_t                         i;
    ngx_http_kpn_downlink_header_t    *h;

    static char  *reserved[] = {
        "Authorization", "Content-Length", "Transfer-Encoding", "Host",
        "Connection", NULL
    };

    value = cf->args->elts;
    name = &value[1];

    if (name->len == 0) {
        return "has an empty header name";
    }

    for (p = name->data; p < name->data + name->len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
            || (*p >= '0' && *p <= '9')
            || (*p != '\0' && ngx_strchr("!#$%&'*+-.^_`|~", *p)))
        {
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid header name \"%V\"",
                           &cmd->name, name);
        return NGX_CONF_ERROR;
    }

    for (i = 0; reserved[i]; i++) {
        if (name->len == ngx_strlen(reserved[i])
            && ngx_strncasecmp(name->data, (u_char *) reserved[i], name->len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" cannot be set here: %s",
                               &cmd->name, name,
                               i == 0 ? "the module sends the access token"
                               : i < 3 ? "the module sends the body"
                               : "nginx's proxy sets it (proxy_set_header "
                                 "in the kpn_downlink_uri location)");
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_strlchr(value[2].data, value[2].data + value[2].len, CR)
        || ngx_strlchr(value[2].data, value[2].data + value[2].len, LF))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": the value of \"%V\" has a line break",
                           &cmd->name, name);
        return NGX_CONF_ERROR;
    }

    if (dlcf->headers == NULL) {
        dlcf->headers = ngx_http_kpn_downlink_default_headers(cf);
        if (dlcf->headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    h = dlcf->headers->elts;

    for (i = 0; i < dlcf->headers->nelts; i++) {
        if (h[i].name.len == name->len
            && ngx_strncasecmp(h[i].name.data, name->data, name->len) == 0)
        {
            break;
        }
    }

    if (i < dlcf->headers->nelts) {
        if (h[i].configured) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": \"%V\" is given twice",
                               &cmd->name, name);
            return NGX_CONF_ERROR;
        }

        h = &h[i];

    } else {
        h = ngx_array_push(dlcf->headers);
        if (h == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    h->name = *name;
    h->configured = 1;

    if (ngx_http_kpn_downlink_compile(cf, &value[2], &h->value) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* a complex value of the configuration (a template, arguments, a header) */

ngx_int_t
ngx_http_kpn_downlink_compile(ngx_conf_t *cf, ngx_str_t *value,
    ngx_http_complex_value_t *cv)
{
    ngx_http_compile_complex_value_t  ccv;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = value;
    ccv.complex_value = cv;

    return ngx_http_compile_complex_value(&ccv);
}


/* Accept and Content-Type of the Beta API, constants */

ngx_array_t *
ngx_http_kpn_downlink_default_headers(ngx_conf_t *cf)
{
    ngx_array_t                     *a;
    ngx_http_kpn_downlink_header_t  *h;

    a = ngx_array_create(cf->pool, 4, sizeof(ngx_http_kpn_downlink_header_t));
    if (a == NULL) {
        return NULL;
    }

    h = ngx_array_push_n(a, 2);
    if (h == NULL) {
        return NULL;
    }

    ngx_memzero(h, 2 * sizeof(ngx_http_kpn_downlink_header_t));

    ngx_str_set(&h[0].name, "Accept");
    ngx_str_set(&h[0].value.value, NGX_HTTP_KPN_DEFAULT_ACCEPT);

    ngx_str_set(&h[1].name, "Content-Type");
    ngx_str_set(&h[1].value.value, NGX_HTTP_KPN_DEFAULT_CONTENT_TYPE);

    return a;
}
