
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Configuration-time helpers shared by both modules.
 */


#include "ngx_http_kpn_conf.h"


static ngx_uint_t ngx_http_kpn_conf_split(ngx_conf_t *cf, u_char *buf,
    size_t size, ngx_array_t **lines);


char *
ngx_http_kpn_conf_read_lines(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *name, ngx_array_t **lines)
{
    off_t             size = 0;
    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         file;
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

    found = ngx_http_kpn_conf_split(cf, buf, (size_t) size, lines);
    if (found == (ngx_uint_t) NGX_ERROR) {
        goto failed;
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


/*
 * The entries of buf, copied to *lines (created when NULL): lines without
 * surrounding white space and CR, blank and '#' lines left out.  Returns
 * how many, or NGX_ERROR.
 */

static ngx_uint_t
ngx_http_kpn_conf_split(ngx_conf_t *cf, u_char *buf, size_t size,
    ngx_array_t **lines)
{
    u_char      *p, *last, *start, *end, *next;
    ngx_str_t   *line;
    ngx_uint_t   found;

    if (*lines == NULL) {
        *lines = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (*lines == NULL) {
            return (ngx_uint_t) NGX_ERROR;
        }
    }

    found = 0;
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
            return (ngx_uint_t) NGX_ERROR;
        }

        line->len = end - start;
        line->data = ngx_pnalloc(cf->pool, line->len);
        if (line->data == NULL) {
            return (ngx_uint_t) NGX_ERROR;
        }

        ngx_memcpy(line->data, start, line->len);
        found++;
    }

    return found;
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


ngx_shm_zone_t *
ngx_http_kpn_conf_shm(ngx_conf_t *cf, ngx_str_t *name, size_t size,
    void *tag, ngx_shm_zone_init_pt init)
{
    ngx_str_t            *value;
    ngx_shm_zone_t       *shm_zone;
    ngx_http_kpn_zone_t  *zone;

    shm_zone = ngx_shared_memory_add(cf, name, size, tag);
    if (shm_zone == NULL) {
        return NULL;
    }

    if (size == 0) {
        /* a reference: the zone is declared (and checked) elsewhere */
        return shm_zone;
    }

    if (shm_zone->data) {
        value = cf->args->elts;     /* value[0]: the directive */

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": zone \"%V\" is already declared",
                           &value[0], name);
        return NULL;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_kpn_zone_t));
    if (zone == NULL) {
        return NULL;
    }

    shm_zone->init = init;
    shm_zone->data = zone;

    return shm_zone;
}


ngx_int_t
ngx_http_kpn_conf_shm_init(ngx_shm_zone_t *shm_zone, void *data,
    ngx_uint_t version, size_t size, size_t sh_size, char *what)
{
    ngx_http_kpn_zone_t  *ozone = data;

    size_t                     len;
    ngx_http_kpn_zone_t       *zone;
    ngx_http_kpn_zone_head_t  *head;

    zone = shm_zone->data;

    if (ozone) {
        /*
         * reload with the same name and size: the zone is reused, and old
         * workers are still serving from it, so the layout is only
         * checked here, never rewritten.  nginx reuses a zone only for
         * the same tag (the same module image): a module loaded from
         * another file gets a fresh zone.  Should the layout differ all
         * the same, the reload is refused, as limit_req refuses another
         * key: the running configuration, with its data, stays.
         */

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        head = zone->sh;

        if (head->version == version && head->size == size) {
            return NGX_OK;
        }

        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "%s \"%V\" holds the layout of another version of "
                      "the module (%ui, %uz): name another zone or restart "
                      "nginx", what, &shm_zone->shm.name, head->version,
                      head->size);
        return NGX_ERROR;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    len = sizeof(" in  \"\"") + ngx_strlen(what) + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in %s \"%V\"%Z", what,
                &shm_zone->shm.name);

    head = ngx_slab_calloc(zone->shpool, sh_size);
    if (head == NULL) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "%s \"%V\" is too small (%uz bytes needed)",
                      what, &shm_zone->shm.name, sh_size);
        return NGX_ERROR;
    }

    head->version = version;
    head->size = size;

    zone->sh = head;
    zone->shpool->data = head;

    return NGX_DONE;
}
