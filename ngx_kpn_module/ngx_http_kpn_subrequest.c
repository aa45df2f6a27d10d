
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * In-memory POST subrequests of the downlink module (the token and the
 * downlink requests): a fresh header list and body, a post-subrequest
 * handler that records the outcome, and a body filter that caps the
 * answers.
 */


#include "ngx_http_kpn_subrequest.h"
#include "ngx_http_kpn_body.h"


static ngx_int_t ngx_http_kpn_subrequest_headers(ngx_http_request_t *sr,
    ngx_keyval_t *headers, ngx_uint_t nheaders, ngx_str_t *token);
static ngx_int_t ngx_http_kpn_subrequest_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_kpn_subrequest_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_body_filter_pt  ngx_http_kpn_subrequest_next_body_filter;
static ngx_http_kpn_subrequest_get_pt  ngx_http_kpn_subrequest_get;


static ngx_str_t  ngx_http_kpn_subrequest_method = ngx_string("POST");

static ngx_str_t  ngx_http_kpn_subrequest_h_auth = ngx_string("Authorization");


ngx_int_t
ngx_http_kpn_subrequest_post(ngx_http_request_t *r,
    ngx_http_kpn_subrequest_t *sub, ngx_str_t *uri, ngx_str_t *args,
    ngx_str_t *body, ngx_keyval_t *headers, ngx_uint_t nheaders,
    ngx_str_t *token, ngx_uint_t background)
{
    ngx_uint_t                  flags;
    ngx_http_request_t         *sr;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_post_subrequest_t *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_kpn_subrequest_done;
    ps->data = sub;

    ngx_memzero(&sub->sr, sizeof(ngx_http_kpn_subrequest_t)
                          - offsetof(ngx_http_kpn_subrequest_t, sr));

    flags = NGX_HTTP_SUBREQUEST_IN_MEMORY|NGX_HTTP_SUBREQUEST_WAITED;

    if (background) {
        flags |= NGX_HTTP_SUBREQUEST_BACKGROUND;
    }

    if (ngx_http_subrequest(r, uri, args->len ? args : NULL, &sr, ps, flags)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sub->sr = sr;

    sr->method = NGX_HTTP_POST;
    sr->method_name = ngx_http_kpn_subrequest_method;
    sr->header_only = 0;

    /* a fresh variables cache: nothing evaluated for the caller leaks */

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);

    sr->variables = ngx_pcalloc(sr->pool, cmcf->variables.nelts
                                          * sizeof(ngx_http_variable_value_t));
    if (sr->variables == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_kpn_subrequest_headers(sr, headers, nheaders, token)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the body, with its Content-Length */

    sr->request_body = NULL;

    if (ngx_http_kpn_body_replace(sr, body, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn subrequest \"%V?%V\", %uz bytes",
                   uri, args, body->len);

    return NGX_OK;
}


/*
 * The headers: a new list with exactly ours; the struct copy made by
 * ngx_http_subrequest() shares the caller's list parts and points to the
 * caller's Authorization, Cookie, ... elements.
 */

static ngx_int_t
ngx_http_kpn_subrequest_headers(ngx_http_request_t *sr, ngx_keyval_t *headers,
    ngx_uint_t nheaders, ngx_str_t *token)
{
    u_char            *p;
    ngx_str_t          value;
    ngx_uint_t         i;
    ngx_table_elt_t  **hp;

    ngx_memzero(&sr->headers_in, sizeof(ngx_http_headers_in_t));

    sr->headers_in.content_length_n = -1;
    sr->headers_in.keep_alive_n = -1;

    if (ngx_list_init(&sr->headers_in.headers, sr->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

#if (nginx_version < 1023000)
    if (ngx_array_init(&sr->headers_in.cookies, sr->pool, 1,
                       sizeof(ngx_table_elt_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_array_init(&sr->headers_in.x_forwarded_for, sr->pool, 1,
                       sizeof(ngx_table_elt_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }
#endif

    if (token) {
        value.len = sizeof("Bearer ") - 1 + token->len;
        value.data = ngx_pnalloc(sr->pool, value.len);
        if (value.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(value.data, "Bearer ", sizeof("Bearer ") - 1);
        ngx_memcpy(p, token->data, token->len);

        if (ngx_http_kpn_body_set_header(sr, &sr->headers_in.authorization,
                                         &ngx_http_kpn_subrequest_h_auth,
                                         &value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < nheaders; i++) {
        hp = (headers[i].key.len == sizeof("Content-Type") - 1
              && ngx_strncasecmp(headers[i].key.data, (u_char *) "Content-Type",
                                 sizeof("Content-Type") - 1)
                 == 0)
             ? &sr->headers_in.content_type : NULL;

        if (ngx_http_kpn_body_set_header(sr, hp, &headers[i].key,
                                         &headers[i].value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_kpn_subrequest_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_kpn_subrequest_t  *sub = data;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "kpn subrequest done s:%ui rc:%i c:%ui",
                   sr->headers_out.status, rc, sr->main->count);

    if (sub->sr != sr) {
        return rc;
    }

    sub->done = 1;

    if (rc == NGX_ERROR) {

        if (!sr->connection->error) {

            /*
             * an internal failure of the subrequest: record it and let
             * the parent answer instead of terminating the whole request
             */

            sub->error = 1;
            rc = NGX_OK;
        }

        /*
         * else the client connection failed (or an output filter did,
         * which nginx cannot tell apart): c->error is shared with the
         * client request and is never cleared here; nginx terminates the
         * request as it would without us, and the lease goes with the
         * request pool
         */

    } else if (rc >= NGX_HTTP_SPECIAL_RESPONSE && sub->rc == 0) {
        sub->rc = rc;
    }

    /*
     * the answer is complete here, and this runs even when nginx is about
     * to terminate the request (a client that reset its HTTP/2 stream):
     * the caller's handler sees it once, before any special response
     */

    if (sub->answer && !sub->answered) {
        sub->answered = 1;
        sub->answer(sr, sub, sub->answer_data);
    }

    /*
     * nginx wakes the parent of an ordinary subrequest, not that of a
     * background one: post it here, once (it runs when this finalization,
     * which marks sr done, is over; a terminated request drops it)
     */

    if (sr->background && !sub->posted) {
        sub->posted = 1;

        if (ngx_http_post_request(sr->parent, NULL) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return rc;
}


void
ngx_http_kpn_subrequest_answer(ngx_http_request_t *sr, ngx_str_t *body)
{
    ngx_str_null(body);

    if (sr->out && sr->out->buf) {
        body->data = sr->out->buf->pos;
        body->len = sr->out->buf->last - sr->out->buf->pos;
    }
}


/*
 * Caps the answer of our in-memory subrequests at the size the postpone
 * filter would accept (subrequest_output_buffer_size of the subrequest's
 * location, or its Content-Length), before that filter sees it.  The
 * postpone filter answers a bigger response with NGX_ERROR, and
 * ngx_http_output_filter() then sets c->error on the client connection,
 * which terminates the client request.  Here an oversized answer is
 * swallowed instead and recorded, so the parent answers 502.
 */

static ngx_int_t
ngx_http_kpn_subrequest_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                       size, limit;
    ngx_chain_t                *cl;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_kpn_subrequest_t  *sub;

    if (r == r->main || !r->subrequest_in_memory) {
        return ngx_http_kpn_subrequest_next_body_filter(r, in);
    }

    sub = ngx_http_kpn_subrequest_get(r->main);

    if (sub == NULL || sub->sr != r) {
        return ngx_http_kpn_subrequest_next_body_filter(r, in);
    }

    if (!sub->error) {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

        limit = (off_t) clcf->subrequest_output_buffer_size;

        if (r->headers_out.content_length_n != -1
            && r->headers_out.content_length_n <= limit)
        {
            limit = r->headers_out.content_length_n;
        }

        size = 0;

        for (cl = in; cl; cl = cl->next) {
            if (!ngx_buf_special(cl->buf)) {
                size += ngx_buf_size(cl->buf);
            }
        }

        if (r->headers_out.content_length_n <= limit
            && sub->bytes + size <= limit)
        {
            sub->bytes += size;
            return ngx_http_kpn_subrequest_next_body_filter(r, in);
        }

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn subrequest answer too big: %O+%O > %O",
                       sub->bytes, size, limit);

        sub->error = 1;
    }

    /* swallowed: the upstream is read to its end and the buffers reused */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_subrequest_init(ngx_conf_t *cf,
    ngx_http_kpn_subrequest_get_pt get)
{
    /*
     * NULL: a static build that places the calling module before the
     * filter modules, whose chain then starts afresh without us; oversized
     * subrequest answers then terminate the request (nginx's default)
     */

    if (ngx_http_top_body_filter == NULL) {
        return NGX_OK;
    }

    ngx_http_kpn_subrequest_get = get;

    ngx_http_kpn_subrequest_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_kpn_subrequest_body_filter;

    return NGX_OK;
}
