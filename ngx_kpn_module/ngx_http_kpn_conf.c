
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Configuration-time helpers shared by both modules.
 */


#include "ngx_http_kpn_conf.h"


char *
ngx_http_kpn_conf_read_lines(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *name, ngx_array_t **lines)
{
    off_t             size = 0;
    u_char           *buf, *p, *last, *start, *end, *next;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         file, *line;
    ngx_uint_t        found;
    ngx_file_info_t   fi;

    file = *name;

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot open \"%s\"", directive, file.data);
        return NGX_CONF_ERROR;
    }

    buf = NULL;
    found = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot stat \"%s\"", directive, file.data);
        goto failed;
    }

    size = ngx_file_size(&fi);

    if (size > 1024 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%s\" is larger than 1m",
                           directive, file.data);
        goto failed;
    }

    buf = ngx_pnalloc(cf->pool, (size_t) size + 1);
    if (buf == NULL) {
        goto failed;
    }

    n = ngx_read_fd(fd, buf, (size_t) size);
    if (n == -1 || n != size) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\": cannot read \"%s\"", directive, file.data);
        goto failed;
    }

    if (*lines == NULL) {
        *lines = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (*lines == NULL) {
            goto failed;
        }
    }

    last = buf + size;

    for (p = buf; p < last; p = next) {

        end = ngx_strlchr(p, last, '\n');
        if (end == NULL) {
            end = last;
        }

        next = end + 1;
        start = p;

        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }

        while (end > start
               && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        {
            end--;
        }

        if (start == end || *start == '#') {
            continue;
        }

        line = ngx_array_push(*lines);
        if (line == NULL) {
            goto failed;
        }

        line->len = end - start;
        line->data = ngx_pnalloc(cf->pool, line->len);
        if (line->data == NULL) {
            goto failed;
        }

        ngx_memcpy(line->data, start, line->len);
        found++;
    }

    if (found == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%s\" holds no entry", directive,
                           file.data);
        goto failed;
    }

    /* the secrets must not linger in the configuration pool's scratch */
    ngx_explicit_memzero(buf, (size_t) size);

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", file.data);
    }

    return NGX_CONF_OK;

failed:

    if (buf) {
        ngx_explicit_memzero(buf, (size_t) size);
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%s\" failed", file.data);
    }

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_kpn_conf_zone(ngx_conf_t *cf, ngx_command_t *cmd, ngx_str_t *arg,
    ngx_str_t *name, ssize_t *size)
{
    u_char     *p;
    ngx_str_t   s;

    if (arg->len <= sizeof("zone=") - 1
        || ngx_strncmp(arg->data, "zone=", sizeof("zone=") - 1) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid parameter \"%V\"",
                           &cmd->name, arg);
        return NGX_ERROR;
    }

    name->data = arg->data + sizeof("zone=") - 1;
    name->len = arg->data + arg->len - name->data;

    if (size == NULL) {
        return NGX_OK;
    }

    p = ngx_strlchr(name->data, name->data + name->len, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid zone size \"%V\"",
                           &cmd->name, arg);
        return NGX_ERROR;
    }

    name->len = p - name->data;

    s.data = p + 1;
    s.len = arg->data + arg->len - s.data;

    *size = ngx_parse_size(&s);

    if (*size == NGX_ERROR || name->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid zone \"%V\"", &cmd->name, arg);
        return NGX_ERROR;
    }

    if (*size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": zone \"%V\" is too small",
                           &cmd->name, arg);
        return NGX_ERROR;
    }

    return NGX_OK;
}
