
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Answers of the module's own handlers: the JSON error body and a whole
 * response from memory; request header look-up.
 */


#include "ngx_http_kpn_response.h"


static ngx_int_t ngx_http_kpn_header_out(ngx_http_request_t *r, char *key,
    ngx_str_t *value);
static ngx_int_t ngx_http_kpn_error_body(ngx_pool_t *pool,
    ngx_http_kpn_error_t *err, ngx_str_t *body);
static ngx_int_t ngx_http_kpn_too_large_error(ngx_http_request_t *r,
    ngx_str_t *body);


static ngx_str_t  ngx_http_kpn_json_type = ngx_string("application/json");


ngx_int_t
ngx_http_kpn_refuse(ngx_http_request_t *r, ngx_http_kpn_error_t *err,
    ngx_uint_t level, time_t retry_after, char *who, ngx_uint_t flags,
    ngx_str_t *detail)
{
    ngx_str_t  none = ngx_null_string;

    if (detail == NULL) {
        detail = &none;
    }

    if (flags & NGX_HTTP_KPN_REFUSE_STATUS) {
        ngx_log_error(level, r->connection->log, 0, "%s: %ui %V: %V%V",
                      who, err->status, &err->code, &err->message, detail);

    } else {
        ngx_log_error(level, r->connection->log, 0, "%s: %V: %V%V",
                      who, &err->code, &err->message, detail);
    }

    return ngx_http_kpn_send_error(r, err, retry_after);
}


ngx_int_t
ngx_http_kpn_send_error(ngx_http_request_t *r, ngx_http_kpn_error_t *err,
    time_t retry_after)
{
    ngx_str_t  body, value;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn error response: %ui %V", err->status, &err->code);

    if (ngx_http_kpn_error_body(r->pool, err, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (err->status == NGX_HTTP_NOT_ALLOWED) {
        ngx_str_set(&value, "POST");

        if (err->allow) {
            value.data = (u_char *) err->allow;
            value.len = ngx_strlen(err->allow);
        }

        if (ngx_http_kpn_header_out(r, "Allow", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (err->challenge) {
        value.data = (u_char *) err->challenge;
        value.len = ngx_strlen(err->challenge);

        if (ngx_http_kpn_header_out(r, "WWW-Authenticate", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (retry_after > 0) {
        value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        value.len = ngx_sprintf(value.data, "%T", retry_after) - value.data;

        if (ngx_http_kpn_header_out(r, "Retry-After", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_kpn_send_body(r, err->status, &ngx_http_kpn_json_type,
                                  &body);
}


/* {"error":"<code>","message":"<message>"}\n, in pool */

static ngx_int_t
ngx_http_kpn_error_body(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_str_t *body)
{
    size_t      len;
    u_char     *p;
    uintptr_t   code_esc, msg_esc;

    code_esc = ngx_escape_json(NULL, err->code.data, err->code.len);
    msg_esc = ngx_escape_json(NULL, err->message.data, err->message.len);

    len = sizeof("{\"error\":\"\",\"message\":\"\"}\n") - 1
          + err->code.len + code_esc + err->message.len + msg_esc;

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    p = ngx_cpymem(p, "{\"error\":\"", sizeof("{\"error\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, err->code.data, err->code.len);
    p = ngx_cpymem(p, "\",\"message\":\"", sizeof("\",\"message\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, err->message.data, err->message.len);
    p = ngx_cpymem(p, "\"}\n", sizeof("\"}\n") - 1);
    body->len = p - body->data;

    return NGX_OK;
}


/*
 * nginx's own 413 (a body over client_max_body_size: announced by
 * Content-Length, found by the find-config phase before any module
 * handler runs, or found while a chunked body is read) as the module's
 * JSON error.  The two filters below are called by the header and body
 * filters of the halves for the responses of their own locations that
 * nginx made (r->err_status 413, ngx_http_special_response_handler()):
 * the header becomes the JSON one, the body nginx's HTML page would have
 * is dropped and the JSON takes its last buffer's place.  The same text
 * in both: it depends on the location only.
 */

static ngx_int_t
ngx_http_kpn_too_large_error(ngx_http_request_t *r, ngx_str_t *body)
{
    ngx_http_kpn_error_t       err;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (ngx_http_kpn_raise(r->pool, &err, NGX_HTTP_KPN_BODY_TOO_LARGE,
                           0,
                           "the body is larger than client_max_body_size "
                           "(%O bytes)", clcf->client_max_body_size)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    return ngx_http_kpn_error_body(r->pool, &err, body);
}


ngx_int_t
ngx_http_kpn_too_large_header(ngx_http_request_t *r)
{
    ngx_str_t  body;

    if (ngx_http_kpn_too_large_error(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn: nginx's 413 answered as body_too_large");

    r->headers_out.content_type = ngx_http_kpn_json_type;
    r->headers_out.content_type_len = ngx_http_kpn_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;
    r->headers_out.content_length_n = body.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_too_large_body(ngx_http_request_t *r, ngx_chain_t **in)
{
    ngx_buf_t    *b;
    ngx_str_t     body;
    ngx_uint_t    last;
    ngx_chain_t  *cl;

    last = 0;

    for (cl = *in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        if (cl->buf->last_buf) {
            last = 1;
        }
    }

    if (!last) {
        *in = NULL;
        return NGX_OK;
    }

    if (ngx_http_kpn_too_large_error(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    cl->buf = b;
    cl->next = NULL;
    *in = cl;

    return NGX_OK;
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


ngx_int_t
ngx_http_kpn_not_allowed(ngx_http_request_t *r, ngx_http_kpn_error_t *err,
    char *allow)
{
    ngx_int_t  rc;

    rc = ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_METHOD_NOT_ALLOWED,
                            0,
                            "method %V is not allowed, use %s",
                            &r->method_name, allow);
    err->allow = allow;

    return rc;
}


/* a response header; value must live as long as the request */

static ngx_int_t
ngx_http_kpn_header_out(ngx_http_request_t *r, char *key, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value = *value;

    return NGX_OK;
}


/*
 * Whether the client has closed the connection (or reset the HTTP/2
 * stream), without finalizing anything: what ngx_http_test_reading()
 * finds out, asked before a downlink is sent.  A client that went away
 * during the token fetch gets no downlink: it cannot learn the outcome
 * and would send the command again.
 */

ngx_uint_t
ngx_http_kpn_client_gone(ngx_http_request_t *r)
{
    int                n;
    char               buf[1];
    ngx_err_t          err;
    ngx_connection_t  *c;

    c = r->connection;

    if (c->error || c->read->eof) {
        return 1;
    }

#if (NGX_HTTP_V2)
    if (r->stream) {
        return 0;
    }
#endif

#if (NGX_HTTP_V3)
    if (c->quic) {
        return c->read->error;
    }
#endif

#if (NGX_HAVE_EPOLLRDHUP)
    if ((ngx_event_flags & NGX_USE_EPOLL_EVENT) && ngx_use_epoll_rdhup) {
        if (!c->read->pending_eof) {
            return 0;
        }

        return 1;
    }
#endif

    n = recv(c->fd, buf, 1, MSG_PEEK);

    if (n == 0) {
        return 1;
    }

    if (n == -1) {
        err = ngx_socket_errno;
        return err != NGX_EAGAIN && err != NGX_EINTR;
    }

    return 0;
}
