
/*
 * Copyright (C) ngx_kpn_module developers
 */


#include "ngx_http_kpn_util.h"


#define NGX_HTTP_KPN_ERROR_MESSAGE_MAX  512


static void ngx_http_kpn_json_cleanup(void *data);


/*
 * The length of the UTF-8 character at p (of n > 0 bytes, p[0] >= 0x80):
 * 2..4; 0 when it is not one (a stray continuation byte, an overlong
 * form, a surrogate, past U+10FFFF, a C1 control); -1 when it is cut
 * short by the end of the text.
 */

static ngx_int_t
ngx_http_kpn_utf8_len(u_char *p, size_t n)
{
    size_t    len, i;
    uint32_t  c, min;

    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4; c = p[0] & 0x07; min = 0x10000;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3; c = p[0] & 0x0f; min = 0x800;

    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2; c = p[0] & 0x1f; min = 0x80;

    } else {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (i == n) {
            return -1;
        }

        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)
        || (c >= 0x80 && c <= 0x9f))
    {
        return 0;
    }

    return len;
}


size_t
ngx_http_kpn_printable(u_char *p, size_t len)
{
    u_char     *s, *last;
    ngx_int_t   n;

    last = p + len;

    for (s = p; s < last; /* void */) {

        if (*s < 0x80) {
            if (*s < 0x20 || *s == 0x7f) {
                *s = '?';
            }

            s++;
            continue;
        }

        n = ngx_http_kpn_utf8_len(s, last - s);

        if (n == -1) {
            /* a character cut at the end (truncation): dropped */
            return s - p;
        }

        if (n == 0) {
            /* not UTF-8 (Latin-1 and the like), a surrogate, a C1 control */
            *s++ = '?';
            continue;
        }

        s += n;
    }

    return len;
}


void
ngx_http_kpn_echo(ngx_str_t *in, size_t max, ngx_str_t *out, ngx_uint_t *cut)
{
    size_t  len;

    len = in->len;
    *cut = 0;

    if (len > max) {
        len = max;

        /* back to the start of a character: at most 3 continuation bytes */

        while (len > max - 3 && len > 0 && (in->data[len] & 0xc0) == 0x80) {
            len--;
        }

        *cut = 1;
    }

    out->data = in->data;
    out->len = len;
}


static ngx_str_t  ngx_http_kpn_json_type = ngx_string("application/json");


ngx_int_t
ngx_http_kpn_error(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t status, char *code, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    err->status = status;
    err->code.data = (u_char *) code;
    err->code.len = ngx_strlen(code);

    p = ngx_pnalloc(pool, NGX_HTTP_KPN_ERROR_MESSAGE_MAX);
    if (p == NULL) {
        ngx_str_null(&err->message);
        return NGX_ERROR;
    }

    va_start(args, fmt);
    last = ngx_vslprintf(p, p + NGX_HTTP_KPN_ERROR_MESSAGE_MAX, fmt, args);
    va_end(args);

    /* the message goes into a JSON body and a log line: printable UTF-8 */

    err->message.data = p;
    err->message.len = ngx_http_kpn_printable(p, last - p);

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_kpn_send_error(ngx_http_request_t *r, ngx_http_kpn_error_t *err,
    time_t retry_after)
{
    size_t            len;
    u_char           *p;
    uintptr_t         code_esc, msg_esc;
    ngx_str_t         body;
    ngx_table_elt_t  *h;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn error response: %ui %V", err->status, &err->code);

    code_esc = ngx_escape_json(NULL, err->code.data, err->code.len);
    msg_esc = ngx_escape_json(NULL, err->message.data, err->message.len);

    len = sizeof("{\"error\":\"\",\"message\":\"\"}\n") - 1
          + err->code.len + code_esc + err->message.len + msg_esc;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    body.data = p;
    p = ngx_cpymem(p, "{\"error\":\"", sizeof("{\"error\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, err->code.data, err->code.len);
    p = ngx_cpymem(p, "\",\"message\":\"", sizeof("\",\"message\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, err->message.data, err->message.len);
    p = ngx_cpymem(p, "\"}\n", sizeof("\"}\n") - 1);
    body.len = p - body.data;

    if (err->status == NGX_HTTP_NOT_ALLOWED) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "Allow");
        ngx_str_set(&h->value, "POST");
    }

    if (retry_after > 0) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
#if (nginx_version >= 1023000)
        h->next = NULL;
#endif
        ngx_str_set(&h->key, "Retry-After");
        h->value.data = p;
        h->value.len = ngx_sprintf(p, "%T", retry_after) - p;
    }

    return ngx_http_kpn_send_body(r, err->status, &ngx_http_kpn_json_type,
                                  &body);
}


ngx_int_t
ngx_http_kpn_send_body(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *content_type, ngx_str_t *body)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    r->headers_out.status = status;
    r->headers_out.content_type = *content_type;
    r->headers_out.content_type_len = content_type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = body->len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    if (body->len == 0 || r->method == NGX_HTTP_HEAD) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body->data;
    b->last = body->data + body->len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_table_elt_t *
ngx_http_kpn_find_header(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

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

        if (h[i].key.len == name->len
            && ngx_strncasecmp(h[i].key.data, name->data, name->len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}


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


static ngx_int_t
ngx_http_kpn_hex_value(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = (u_char) (c | 0x20);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_http_kpn_hex_decode(u_char *dst, u_char *src, size_t len)
{
    size_t     i;
    ngx_int_t  hi, lo;

    if (len % 2) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i += 2) {
        hi = ngx_http_kpn_hex_value(src[i]);
        lo = ngx_http_kpn_hex_value(src[i + 1]);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) (hi << 4 | lo);
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_kpn_is_hex(u_char *p, size_t len)
{
    while (len--) {
        if (ngx_http_kpn_hex_value(*p++) == NGX_ERROR) {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_kpn_json_load(ngx_pool_t *pool, ngx_str_t *body, json_t **root,
    ngx_http_kpn_error_t *err)
{
    char          *data;
    u_char        *p;
    json_t        *json;
    json_error_t   jerr;

    data = body->len ? (char *) body->data : "";

    json = json_loadb(data, body->len, JSON_REJECT_DUPLICATES, &jerr);

    if (json == NULL) {

        /* jansson may quote raw input bytes; keep the message printable */
        jerr.text[JSON_ERROR_TEXT_LENGTH - 1] = '\0';

        for (p = (u_char *) jerr.text; *p; p++) {
            if (*p < 0x20 || *p >= 0x7f) {
                *p = '?';
            }
        }

        if (jerr.line < 1) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_json", "%s", jerr.text);
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_json", "line %d column %d: %s",
                                  jerr.line, jerr.column, jerr.text);
    }

    if (ngx_http_kpn_json_cleanup_add(pool, json) != NGX_OK) {
        return NGX_ERROR;
    }

    *root = json;

    return NGX_OK;
}


static void
ngx_http_kpn_json_cleanup(void *data)
{
    json_t  *json = data;

    json_decref(json);
}


ngx_int_t
ngx_http_kpn_json_cleanup_add(ngx_pool_t *pool, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_kpn_json_cleanup;
    cln->data = json;

    return NGX_OK;
}
