
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Configuration-time helpers shared by both modules.
 */


#include "ngx_http_kpn_conf.h"


static ngx_int_t ngx_http_kpn_conf_split(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *file, u_char *buf, size_t size,
    ngx_uint_t flags, ngx_array_t *lines);
static void ngx_http_kpn_conf_check_secret(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *file, ngx_uint_t n, u_char *start,
    u_char *end);


/* KPN's special characters of a destination secret */
static char  ngx_http_kpn_conf_specials[] = "#?!@$%^&(){}:.,/+*;";


/*
 * The one reader of the module's secret, key and token files.  The format:
 *
 *   - one entry a line, its raw bytes: nothing is unescaped, so '#', '$',
 *     ';', '{', '}', quotes and backslashes are part of the entry;
 *   - a trailing CR (a CRLF file) and surrounding spaces and tabs are
 *     left out (no secret, key or token the module reads holds a blank
 *     at either end);
 *   - a blank line is skipped; a comment is a line whose first non-blank
 *     character is '#' followed by a blank or by nothing ("# text", "#"):
 *     KPN's secrets never hold a blank, so "#Secret..." is a secret;
 *   - any other control character in an entry fails;
 *   - a UTF-8 byte order mark at the start of the file is left out.
 */

char *
ngx_http_kpn_conf_read_lines(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *name, ngx_uint_t flags, ngx_array_t **lines)
{
    off_t             size = 0;
    u_char           *buf;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         file;
    ngx_int_t         rc;
    ngx_uint_t        mode, before;
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

    /*
     * nginx reads the file as root: 0600, or 0640 for a group of
     * administrators, is right; anyone else reading it, or anyone but
     * the owner writing it, is worth one warning
     */

    mode = ngx_file_access(&fi);

    if (mode & (S_IROTH|S_IWOTH|S_IWGRP)) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"%V\": \"%s\" is %s (mode 0%ui%ui%ui): make it "
                           "0600 or 0640, owned by root", directive,
                           file.data,
                           (mode & S_IROTH) ? "readable by others"
                                            : "writable by others than "
                                              "its owner",
                           (mode >> 6) & 7, (mode >> 3) & 7, mode & 7);
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

    before = (*lines)->nelts;

    rc = ngx_http_kpn_conf_split(cf, directive, &file, buf, (size_t) size,
                                 flags, *lines);
    if (rc != NGX_OK) {
        goto failed;
    }

    if ((flags & NGX_HTTP_KPN_CONF_ONE) && (*lines)->nelts - before > 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%s\" must hold exactly one entry, "
                           "it holds %ui", directive, file.data,
                           (*lines)->nelts - before);
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
 * The entries of buf appended to lines, in the format above.  No entry
 * fails: an empty file, and a file of comments and blank lines, each in
 * those words.  A message names a line by its number, never its bytes.
 */

static ngx_int_t
ngx_http_kpn_conf_split(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *file, u_char *buf, size_t size, ngx_uint_t flags,
    ngx_array_t *lines)
{
    u_char      *p, *q, *last, *start, *end, *next;
    ngx_str_t   *line;
    ngx_uint_t   n, found, comments;

    found = 0;
    comments = 0;
    last = buf + size;
    p = buf;

    /*
     * a UTF-8 byte order mark (a file saved by Windows Notepad) is not
     * part of the first entry: no secret, key or token starts with one
     */

    if (size >= 3 && buf[0] == 0xef && buf[1] == 0xbb && buf[2] == 0xbf) {
        p += 3;
    }

    for (n = 1; p < last; p = next, n++) {

        end = ngx_strlchr(p, last, '\n');
        if (end == NULL) {
            end = last;
        }

        next = end + 1;
        start = p;

        if (end > start && end[-1] == '\r') {
            end--;
        }

        while (start < end && (*start == ' ' || *start == '\t')) {
            start++;
        }

        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        if (start == end) {
            continue;
        }

        if (*start == '#'
            && (end - start == 1 || start[1] == ' ' || start[1] == '\t'))
        {
            comments++;
            continue;
        }

        for (q = start; q < end; q++) {
            if (*q < 0x20 || *q == 0x7f) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": line %ui of \"%V\" holds a "
                                   "control character", directive, n, file);
                return NGX_ERROR;
            }
        }

        if (flags & NGX_HTTP_KPN_CONF_KPN_SECRET) {
            ngx_http_kpn_conf_check_secret(cf, directive, file, n, start,
                                           end);
        }

        line = ngx_array_push(lines);
        if (line == NULL) {
            return NGX_ERROR;
        }

        line->len = end - start;
        line->data = ngx_pnalloc(cf->pool, line->len);
        if (line->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(line->data, start, line->len);
        found++;
    }

    if (found) {
        return NGX_OK;
    }

    if (comments) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" holds only comments and blank "
                           "lines (a comment is \"#\" alone or \"# \" and "
                           "text; \"#text\" is an entry)", directive, file);

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": \"%V\" is empty", directive, file);
    }

    return NGX_ERROR;
}


/*
 * KPN's rules for an HTTPS destination's shared secret: at least 32
 * characters, an upper-case and a lower-case letter, a digit and one of
 * its special characters.  KPN refuses other secrets, so a line that
 * breaks them is most likely truncated or mistyped: one warning, naming
 * the line, never its bytes.
 */

static void
ngx_http_kpn_conf_check_secret(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *file, ngx_uint_t n, u_char *start, u_char *end)
{
    u_char      *p, *w, buf[160];
    ngx_uint_t   upper, lower, digit, special;

    upper = lower = digit = special = 0;

    for (p = start; p < end; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            upper = 1;

        } else if (*p >= 'a' && *p <= 'z') {
            lower = 1;

        } else if (*p >= '0' && *p <= '9') {
            digit = 1;

        } else if (ngx_strlchr((u_char *) ngx_http_kpn_conf_specials,
                               (u_char *) ngx_http_kpn_conf_specials
                               + sizeof(ngx_http_kpn_conf_specials) - 1, *p))
        {
            special = 1;
        }
    }

    if (end - start >= 32 && upper && lower && digit && special) {
        return;
    }

    w = buf;

    if (end - start < 32) {
        w = ngx_sprintf(w, ", %uz characters (KPN: at least 32)",
                        (size_t) (end - start));
    }

    if (!upper) {
        w = ngx_sprintf(w, ", no upper-case letter");
    }

    if (!lower) {
        w = ngx_sprintf(w, ", no lower-case letter");
    }

    if (!digit) {
        w = ngx_sprintf(w, ", no digit");
    }

    if (!special) {
        w = ngx_sprintf(w, ", none of %s", ngx_http_kpn_conf_specials);
    }

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "\"%V\": line %ui of \"%V\" breaks KPN's rules for a "
                       "destination secret (%*s): truncated or mistyped?",
                       directive, n, file, (size_t) (w - buf - 2), buf + 2);
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
