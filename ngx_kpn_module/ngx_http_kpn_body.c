
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The request body: collect it however nginx stored it, and replace it
 * so that the proxy module sends the new one.
 */


#include "ngx_http_kpn_body.h"


static ngx_chain_t *ngx_http_kpn_body_chain(ngx_pool_t *pool,
    ngx_str_t *data);


/* the tag of the bufs of a replaced body */
static ngx_uint_t  ngx_http_kpn_body_tag;


ngx_int_t
ngx_http_kpn_body_collect(ngx_http_request_t *r, ngx_str_t *body)
{
    off_t         len;
    u_char       *p;
    ssize_t       n;
#if (NGX_DEBUG)
    ngx_uint_t    nbufs, in_file;
#endif
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

#if (NGX_DEBUG)
    nbufs = 0;
    in_file = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        nbufs++;
        in_file |= cl->buf->in_file;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn body: %O bytes in %ui buffers, in file:%ui",
                   len, nbufs, in_file);
#endif

    if (len == 0) {
        return NGX_OK;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL && ngx_buf_in_memory(cl->buf)) {

        /* the common case: one memory buffer, used in place */

        body->data = cl->buf->pos;
        body->len = (size_t) len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    /* each buf is taken as ngx_buf_size() has counted it above */

    for ( /* void */ ; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_size(b) == 0) {
            continue;
        }

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (b->in_file) {
            n = ngx_read_file(b->file, p, (size_t) (b->file_last - b->file_pos),
                              b->file_pos);

            if (n == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (n != b->file_last - b->file_pos) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "kpn body: short read from \"%V\": "
                              "%z of %O bytes",
                              &b->file->name, n, b->file_last - b->file_pos);
                return NGX_ERROR;
            }

            p += n;
        }
    }

    body->len = p - body->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_body_replace(ngx_http_request_t *r, ngx_str_t *data,
    ngx_str_t *content_type)
{
    u_char                    *p;
    ngx_str_t                  value;
    ngx_chain_t               *cl;
    ngx_http_request_body_t   *rb;

    static ngx_str_t  content_length = ngx_string("Content-Length");
    static ngx_str_t  content_type_name = ngx_string("Content-Type");

    rb = r->request_body;

    if (rb == NULL) {
        rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
        if (rb == NULL) {
            return NGX_ERROR;
        }

        r->request_body = rb;
    }

    if (data->len) {
        cl = ngx_http_kpn_body_chain(r->pool, data);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        rb->bufs = cl;
        rb->buf = cl->buf;

    } else {
        rb->bufs = NULL;
        rb->buf = NULL;
    }

    /* the temp file, if any, is closed and removed by its pool cleanup */
    rb->temp_file = NULL;
    rb->rest = 0;

    r->headers_in.content_length_n = data->len;
    r->headers_in.chunked = 0;

    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    value.data = p;
    value.len = ngx_sprintf(p, "%uz", data->len) - p;

    if (ngx_http_kpn_body_set_header(r, &r->headers_in.content_length,
                                     &content_length, &value)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (content_type
        && ngx_http_kpn_body_set_header(r, &r->headers_in.content_type,
                                        &content_type_name, content_type)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn body: replaced, %uz bytes", data->len);

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_body_set_header(ngx_http_request_t *r, ngx_table_elt_t **hp,
    ngx_str_t *name, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = hp ? *hp : NULL;

    if (h) {
        h->value = *value;
        return NGX_OK;
    }

    h = ngx_list_push(&r->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->key = *name;
    h->value = *value;

    h->lowcase_key = ngx_pnalloc(r->pool, name->len);
    if (h->lowcase_key == NULL) {
        return NGX_ERROR;
    }

    h->hash = ngx_hash_strlow(h->lowcase_key, name->data, name->len);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    if (hp) {
        *hp = h;
    }

    return NGX_OK;
}


static ngx_chain_t *
ngx_http_kpn_body_chain(ngx_pool_t *pool, ngx_str_t *data)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    /*
     * the data itself, not a copy: it lives as long as the request.
     * start and end must be valid: an upstream retry rewinds to start
     */

    b = ngx_calloc_buf(pool);
    if (b == NULL) {
        return NULL;
    }

    b->start = data->data;
    b->pos = data->data;
    b->last = data->data + data->len;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;
    b->tag = (ngx_buf_tag_t) &ngx_http_kpn_body_tag;

    cl = ngx_alloc_chain_link(pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    return cl;
}
