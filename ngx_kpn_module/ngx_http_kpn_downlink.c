
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The request path of the downlink half (its directives and conf are in
 * ngx_http_kpn_downlink_module.c).  The content handler reads and
 * validates {"devEUI","port","payload",...}, builds the downlink request
 * from the templates of the location (kpn_downlink_body,
 * kpn_downlink_header, the arguments of kpn_downlink_uri) and the
 * $kpn_downlink_* variables of the input, then runs a small state machine
 * in the parent request:
 *
 *     DECIDE -> (token cached) ----------------------------> DOWNLINK
 *            -> (lease taken)  TOKEN subrequest ----------> DOWNLINK
 *            -> (fetch elsewhere) WAIT on a timer -> DECIDE
 *     DOWNLINK subrequest -> 302/401: drop token, DECIDE once more
 *                         -> anything else: passed through
 *
 * Both subrequests are in-memory POSTs into the internal locations named
 * by kpn_token_uri and kpn_downlink_uri, with a request body and a header
 * list built by ngx_http_kpn_subrequest.c, so nothing of the caller's
 * request reaches them.
 */


#include "ngx_http_kpn_common.h"
#include "ngx_http_kpn_downlink.h"
#include "ngx_http_kpn_json.h"
#include "ngx_http_kpn_response.h"
#include "ngx_http_kpn_auth.h"
#include "ngx_http_kpn_body.h"
#include "ngx_http_kpn_vars.h"


static ngx_uint_t ngx_http_kpn_downlink_too_large(ngx_http_request_t *r);
static ngx_int_t ngx_http_kpn_downlink_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_kpn_downlink_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_kpn_downlink_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_kpn_downlink_validate(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t *level);
static ngx_int_t ngx_http_kpn_downlink_build(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t *level);
static ngx_int_t ngx_http_kpn_downlink_run(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx);
static ngx_int_t ngx_http_kpn_downlink_downlink_done(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx);
static ngx_int_t ngx_http_kpn_downlink_refused(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_uint_t status);
static void ngx_http_kpn_downlink_resume(ngx_http_request_t *r);
static void ngx_http_kpn_downlink_timer_handler(ngx_event_t *ev);
static void ngx_http_kpn_downlink_cleanup(void *data);
static void ngx_http_kpn_downlink_terminated(void *data);

static ngx_int_t ngx_http_kpn_downlink_access(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_uint_t verdict,
    ngx_http_kpn_refusal_t *ref);
static ngx_int_t ngx_http_kpn_downlink_fail(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t level, time_t retry_after);


ngx_int_t
ngx_http_kpn_downlink_handler(ngx_http_request_t *r)
{
    ngx_int_t                          rc;
    ngx_pool_cleanup_t                *cln;
    ngx_http_cleanup_t                *hcln;
    ngx_http_kpn_error_t               err;
    ngx_http_kpn_downlink_ctx_t       *ctx;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    if (r != r->main) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: not available in a subrequest");
        return NGX_HTTP_FORBIDDEN;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_kpn_downlink_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ctx->state = NGX_HTTP_KPN_DL_DECIDE;
     *     ctx->status = NGX_HTTP_KPN_NONE;
     *     ctx->access.cache = NGX_HTTP_KPN_CACHE_NONE;
     *     ctx->sub.sr = NULL;
     *     ctx->access.lease.owned = 0;
     */

    ctx->access.lease.zone = dlcf->zone;
    ctx->access.lease.key = dlcf->key;
    ctx->access.lease.log = r->connection->log;

    ctx->timer.handler = ngx_http_kpn_downlink_timer_handler;
    ctx->timer.data = r;
    ctx->timer.log = r->connection->log;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_kpn_downlink_cleanup;
    cln->data = ctx;

    /* run before the log phase, also when nginx terminates the request */

    hcln = ngx_http_cleanup_add(r, 0);
    if (hcln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    hcln->handler = ngx_http_kpn_downlink_terminated;
    hcln->data = r;

    ngx_http_set_ctx(r, ctx, ngx_http_kpn_downlink_module);

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_kpn_not_allowed(r, &err, "POST") == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_kpn_downlink_fail(r, ctx, &err,
                                          ngx_http_kpn_reject_log_level(r), 0);
    }

    if (dlcf->keys) {
        rc = ngx_http_kpn_auth_bearer(r, dlcf->keys, &err);

        if (rc == NGX_DECLINED) {
            return ngx_http_kpn_downlink_fail(r, ctx, &err,
                                              ngx_http_kpn_reject_log_level(r),
                                              0);
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    ctx->state = NGX_HTTP_KPN_DL_READING;

    r->request_body_in_single_buf = 1;
    r->request_body_in_clean_file = 1;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_kpn_downlink_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_kpn_downlink_body_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_uint_t                    level;
    ngx_http_kpn_error_t          err;
    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_downlink_module);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn downlink body read");

    /* the caller's mistakes; validate() raises it for a config mistake */

    level = ngx_http_kpn_reject_log_level(r);

    rc = ngx_http_kpn_downlink_validate(r, ctx, &err, &level);

    if (rc == NGX_ERROR) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (rc == NGX_DECLINED) {
        rc = ngx_http_kpn_downlink_fail(r, ctx, &err, level, 0);
        ngx_http_finalize_request(r, rc);
        return;
    }

    /* a client that goes away while we wait finalizes the request */

    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_kpn_downlink_resume;

    ctx->state = NGX_HTTP_KPN_DL_DECIDE;
    ctx->access.wait_start = ngx_current_msec;

    rc = ngx_http_kpn_downlink_run(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


/*
 * The input validated, every field of it, then the downlink request built
 * from the templates: NGX_DECLINED with err and its log level for a
 * refused input or a template that asks for what the input does not have.
 */

static ngx_int_t
ngx_http_kpn_downlink_validate(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t *level)
{
    ngx_int_t                          rc;
    ngx_str_t                          body;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    if (ngx_http_kpn_body_collect(r, &body) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_kpn_command_parse(r->pool, &body, dlcf->max_payload,
                                    &ctx->cmd, err);
    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn downlink valid: devEUI %V port %i, %uz bytes",
                   &ctx->cmd.dev_eui, ctx->cmd.port,
                   ctx->cmd.payload.len / 2);

    ctx->valid = 1;

    ctx->evaluating = 1;
    rc = ngx_http_kpn_downlink_build(r, ctx, err, level);
    ctx->evaluating = 0;

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn downlink request: \"%V?%V\", %uz bytes",
                   &dlcf->downlink_uri, &ctx->args, ctx->body.len);

    return NGX_OK;
}


/*
 * The arguments, the body and the headers from their templates.  The
 * first input variable asked for and absent (noted in ctx->missing by the
 * variable) or header value that would split the request refuses it:
 * NGX_DECLINED with err and its log level.  NGX_ERROR: no memory.
 */

static ngx_int_t
ngx_http_kpn_downlink_build(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t *level)
{
    ngx_int_t                          rc;
    ngx_str_t                          args, value;
    ngx_uint_t                         i;
    ngx_keyval_t                      *kv;
    ngx_http_kpn_downlink_header_t    *h;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    rc = NGX_OK;

    if (dlcf->downlink_args == NULL) {
        if (ngx_http_kpn_command_args(r->pool, &ctx->cmd, &ctx->args)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        if (ngx_http_complex_value(r, dlcf->downlink_args, &args) != NGX_OK
            || ngx_http_kpn_command_query(r->pool, &args, &ctx->args)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_http_complex_value(r, dlcf->body, &ctx->body) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->headers = ngx_palloc(r->pool,
                              dlcf->headers->nelts * sizeof(ngx_keyval_t));
    if (ctx->headers == NULL) {
        return NGX_ERROR;
    }

    h = dlcf->headers->elts;
    kv = ctx->headers;

    for (i = 0; i < dlcf->headers->nelts; i++) {
        if (ngx_http_complex_value(r, &h[i].value, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        /* as proxy_set_header: an empty value is not sent */

        if (value.len == 0) {
            continue;
        }

        /*
         * a value whose variables bring a CR, LF or NUL (a decoded $uri)
         * would split the request: a fault of the configuration, refused
         */

        if (rc == NGX_OK
            && ctx->missing == NGX_HTTP_KPN_MISSING_NONE
            && (ngx_strlchr(value.data, value.data + value.len, CR)
                || ngx_strlchr(value.data, value.data + value.len, LF)
                || ngx_strlchr(value.data, value.data + value.len, '\0')))
        {
            *level = NGX_LOG_ERR;
            rc = ngx_http_kpn_raise(r->pool, err,
                                    NGX_HTTP_KPN_INTERNAL_ERROR,
                                    0,
                                    "the value of kpn_downlink_header "
                                    "\"%V\" holds a CR, LF or NUL: not sent",
                                    &h[i].name);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }
        }

        kv->key = h[i].name;
        kv->value = value;
        kv++;
    }

    ctx->nheaders = kv - ctx->headers;

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_kpn_downlink_missing(r, ctx, err, level);
}


/*
 * Runs the state machine until it has to wait (NGX_DONE) or has an
 * answer (an rc for ngx_http_finalize_request()).
 */

static ngx_int_t
ngx_http_kpn_downlink_run(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx)
{
    ngx_int_t                          rc;
    ngx_uint_t                         verdict;
    ngx_http_kpn_refusal_t             ref;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    for ( ;; ) {

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn downlink state: %ui", ctx->state);

        switch (ctx->state) {

        case NGX_HTTP_KPN_DL_DECIDE:
            ctx->endpoint = NGX_HTTP_KPN_ENDPOINT_TOKEN;
            ctx->misrouted = 0;
            ctx->reached = 0;

            verdict = ngx_http_kpn_access_decide(r, &ctx->access, &ctx->sub,
                                                 &ref);
            rc = ngx_http_kpn_downlink_access(r, ctx, verdict, &ref);
            break;

        case NGX_HTTP_KPN_DL_TOKEN:
            verdict = ngx_http_kpn_access_done(r, &ctx->access, &ctx->sub,
                                               ctx->misrouted, &ref);
            rc = ngx_http_kpn_downlink_access(r, ctx, verdict, &ref);
            break;

        case NGX_HTTP_KPN_DL_WAIT:
            ctx->state = NGX_HTTP_KPN_DL_DECIDE;
            continue;

        case NGX_HTTP_KPN_DL_SEND:
            if (ngx_http_kpn_client_gone(r)) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "kpn downlink: the client closed the "
                              "connection, no downlink sent");
                ctx->status = NGX_HTTP_KPN_CLIENT_CLOSED;
                ctx->state = NGX_HTTP_KPN_DL_DONE;
                return NGX_HTTP_CLIENT_CLOSED_REQUEST;
            }

            ctx->sub.answer = NULL;
            ctx->endpoint = NGX_HTTP_KPN_ENDPOINT_API;
            ctx->misrouted = 0;
            ctx->reached = 0;

            rc = ngx_http_kpn_subrequest_post(r, &ctx->sub,
                                              &dlcf->downlink_uri,
                                              &ctx->args, &ctx->body,
                                              ctx->headers, ctx->nheaders,
                                              &ctx->access.token, 0);
            if (rc != NGX_OK) {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ctx->sent = 1;
            ctx->state = NGX_HTTP_KPN_DL_DOWNLINK;
            return NGX_DONE;

        case NGX_HTTP_KPN_DL_DOWNLINK:
            rc = ngx_http_kpn_downlink_downlink_done(r, ctx);
            break;

        default: /* NGX_HTTP_KPN_DL_DONE */
            return NGX_DONE;
        }

        if (rc != NGX_AGAIN) {
            return rc;
        }
    }
}


static ngx_int_t
ngx_http_kpn_downlink_downlink_done(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx)
{
    ngx_str_t                          body, type;
    ngx_uint_t                         status;
    ngx_http_request_t                *sr;
    ngx_http_kpn_error_t               err;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    sr = ctx->sub.sr;
    ctx->sub.sr = NULL;

    status = sr->headers_out.status;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn downlink answer: status %ui rc %i error %d",
                   status, ctx->sub.rc, (int) ctx->sub.error);

    if (ctx->misrouted) {
        dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

        ctx->sent = 0;

        if (ngx_http_kpn_raise(r->pool, &err, NGX_HTTP_KPN_KPN_UNAVAILABLE,
                               0,
                               "the downlink request to \"%V\" reached a "
                               "location without \"kpn_endpoint api\", "
                               "not sent", &dlcf->downlink_uri)
            == NGX_ERROR)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_kpn_downlink_fail(r, ctx, &err, NGX_LOG_ERR, 0);
    }

    if (ctx->sub.rc == NGX_HTTP_GATEWAY_TIME_OUT && !ctx->sub.error) {
        if (ngx_http_kpn_raise(r->pool, &err, NGX_HTTP_KPN_UPSTREAM_TIMEOUT,
                               0,
                               "the downlink request timed out")
            == NGX_ERROR)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_kpn_downlink_fail(r, ctx, &err, NGX_LOG_ERR, 0);
    }

    if (ctx->sub.rc || ctx->sub.error || status == 0) {
        if (ngx_http_kpn_raise(r->pool, &err, NGX_HTTP_KPN_UPSTREAM_ERROR,
                               0,
                               ctx->sub.error
                               ? "the downlink answer was too big or broken"
                               : "the downlink request failed")
            == NGX_ERROR)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_kpn_downlink_fail(r, ctx, &err, NGX_LOG_ERR, 0);
    }

    ctx->kpn_status = status;

    if (status == NGX_HTTP_MOVED_TEMPORARILY
        || status == NGX_HTTP_UNAUTHORIZED)
    {
        return ngx_http_kpn_downlink_refused(r, ctx, status);
    }

    /* KPN's answer, passed through */

    ngx_http_kpn_subrequest_answer(sr, &body);

    type = sr->headers_out.content_type;

    if (status >= NGX_HTTP_OK && status < NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->status = NGX_HTTP_KPN_OK;

    } else {
        ctx->status = NGX_HTTP_KPN_KPN_REJECTED;
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: KPN answered %ui", status);
    }

    ctx->state = NGX_HTTP_KPN_DL_DONE;

    return ngx_http_kpn_send_body(r, status, &type, &body);
}


/*
 * KPN answered the downlink with 302 or 401: the token is refused.  The
 * first time, a new token (NGX_AGAIN: back to DECIDE); again after a new
 * one, an answer.
 */

static ngx_int_t
ngx_http_kpn_downlink_refused(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_uint_t status)
{
    ngx_http_kpn_error_t               err;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    if (!ctx->retried) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn downlink refused with %ui, new token",
                       status);

        ngx_http_kpn_shm_invalidate(&ctx->access.lease,
                                    ctx->access.generation);

        ctx->retried = 1;
        ctx->access.wait_start = ngx_current_msec;
        ctx->access.wait_delay = 0;
        ngx_str_null(&ctx->access.token);
        ctx->access.cache = NGX_HTTP_KPN_CACHE_NONE;
        ctx->state = NGX_HTTP_KPN_DL_DECIDE;

        return NGX_AGAIN;
    }

    /*
     * refused again after a new token: the credentials,
     * the API key's rights or the account are wrong, and a new token
     * will not help; no fetch for kpn_token_backoff, said once
     */

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    if (ngx_http_kpn_shm_refused(&ctx->access.lease,
                                 ctx->access.generation,
                                 dlcf->token_backoff))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: KPN refuses new access tokens "
                      "(%ui): check the API key's rights and the "
                      "account; no token fetch for %T s",
                      status, dlcf->token_backoff);
    }

    if (ngx_http_kpn_raise(r->pool, &err, NGX_HTTP_KPN_KPN_AUTH_FAILED,
                           0,
                           "KPN refused a new access token (%ui)",
                           status)
        == NGX_ERROR)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_kpn_downlink_fail(r, ctx, &err, NGX_LOG_ERR, 0);
}


ngx_http_kpn_subrequest_t *
ngx_http_kpn_downlink_sub(ngx_http_request_t *r)
{
    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_downlink_module);

    return ctx ? &ctx->sub : NULL;
}


static void
ngx_http_kpn_downlink_resume(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_downlink_module);

    if (ctx == NULL) {
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn downlink resume: state %ui done %d",
                   ctx->state, (int) ctx->sub.done);

    if (ctx->state != NGX_HTTP_KPN_DL_TOKEN
        && ctx->state != NGX_HTTP_KPN_DL_DOWNLINK)
    {
        return;
    }

    if (!ctx->sub.done || ctx->sub.sr == NULL || !ctx->sub.sr->done) {
        return;
    }

    rc = ngx_http_kpn_downlink_run(r, ctx);

    if (rc != NGX_DONE) {
        ngx_http_finalize_request(r, rc);
    }
}


static void
ngx_http_kpn_downlink_timer_handler(ngx_event_t *ev)
{
    ngx_int_t                     rc;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_kpn_downlink_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_downlink_module);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0, "kpn downlink wait over");

    if (ctx->state == NGX_HTTP_KPN_DL_WAIT) {
        rc = ngx_http_kpn_downlink_run(r, ctx);

        if (rc != NGX_DONE) {
            ngx_http_finalize_request(r, rc);
        }
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_kpn_downlink_cleanup(void *data)
{
    ngx_http_kpn_downlink_ctx_t  *ctx = data;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    if (ctx->access.lease.owned) {
        ngx_http_kpn_shm_release(&ctx->access.lease, 0);
    }
}


/*
 * The request is closed before the log phase: a request without an answer of
 * its own here was ended by nginx.  Past the body read, that is the client
 * going away (ngx_http_test_reading() while the request waits for another
 * request's token fetch, the upstream's check of the client while KPN is
 * slow): NGX_HTTP_KPN_CLIENT_CLOSED, as when the going away is found before a
 * downlink is sent.
 */

static void
ngx_http_kpn_downlink_terminated(void *data)
{
    ngx_http_request_t  *r = data;

    ngx_http_kpn_downlink_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_downlink_module);

    if (ctx == NULL
        || ctx->status != NGX_HTTP_KPN_NONE
        || ctx->state == NGX_HTTP_KPN_DL_READING
        || ctx->state == NGX_HTTP_KPN_DL_DONE
        || !(r->connection->error
             || r->headers_out.status == NGX_HTTP_CLIENT_CLOSED_REQUEST))
    {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  ctx->sent ? "kpn downlink: the client closed the "
                              "connection, the downlink was sent, KPN's "
                              "answer is not passed on"
                            : "kpn downlink: the client closed the "
                              "connection, no downlink sent");

    ctx->status = NGX_HTTP_KPN_CLIENT_CLOSED;
    ctx->state = NGX_HTTP_KPN_DL_DONE;
}


/* the answer of a refusal: the request is done */

static ngx_int_t
ngx_http_kpn_downlink_fail(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_error_t *err,
    ngx_uint_t level, time_t retry_after)
{
    ctx->status = err->outcome;
    ctx->state = NGX_HTTP_KPN_DL_DONE;

    return ngx_http_kpn_refuse(r, err, level, retry_after, "kpn downlink", 0,
                               NULL);
}


/* a verdict of the token part: the state it leads to, or the answer */

static ngx_int_t
ngx_http_kpn_downlink_access(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_uint_t verdict,
    ngx_http_kpn_refusal_t *ref)
{
    switch (verdict) {

    case NGX_HTTP_KPN_ACCESS_READY:
        ctx->state = NGX_HTTP_KPN_DL_SEND;
        return NGX_AGAIN;

    case NGX_HTTP_KPN_ACCESS_FETCHING:
        ctx->state = NGX_HTTP_KPN_DL_TOKEN;
        return NGX_DONE;

    case NGX_HTTP_KPN_ACCESS_WAIT:
        ngx_add_timer(&ctx->timer, ctx->access.wait_delay);
        ctx->state = NGX_HTTP_KPN_DL_WAIT;
        return NGX_DONE;

    case NGX_HTTP_KPN_ACCESS_REFUSED:
        return ngx_http_kpn_downlink_fail(r, ctx, &ref->err, ref->level,
                                          ref->retry_after);

    default: /* NGX_HTTP_KPN_ACCESS_FAILED */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


static ngx_http_output_header_filter_pt
    ngx_http_kpn_downlink_next_header_filter;
static ngx_http_output_body_filter_pt
    ngx_http_kpn_downlink_next_body_filter;


/*
 * nginx's own 413 for a body over client_max_body_size in a kpn_downlink
 * location becomes the module's JSON error (ngx_http_kpn_too_large_*()):
 * when Content-Length announces it, nginx answers in the find-config
 * phase, before the kpn_downlink handler runs.
 */

static ngx_uint_t
ngx_http_kpn_downlink_too_large(ngx_http_request_t *r)
{
    ngx_http_kpn_downlink_ctx_t       *ctx;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    if (r->err_status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE || r != r->main) {
        return 0;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    if (dlcf->zone == NULL) {
        return 0;
    }

    /* no ctx: the find-config phase; still reading: the body read failed */

    ctx = ngx_http_get_module_ctx(r, ngx_http_kpn_downlink_module);

    return ctx == NULL
           || (ctx->status == NGX_HTTP_KPN_NONE
               && ctx->state == NGX_HTTP_KPN_DL_READING);
}


static ngx_int_t
ngx_http_kpn_downlink_header_filter(ngx_http_request_t *r)
{
    if (r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        && ngx_http_kpn_downlink_too_large(r)
        && ngx_http_kpn_too_large_header(r) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_kpn_downlink_next_header_filter(r);
}


static ngx_int_t
ngx_http_kpn_downlink_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    if (in
        && r->headers_out.status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        && ngx_http_kpn_downlink_too_large(r)
        && ngx_http_kpn_too_large_body(r, &in) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_kpn_downlink_next_body_filter(r, in);
}


ngx_int_t
ngx_http_kpn_downlink_filter_init(ngx_conf_t *cf)
{
    ngx_http_kpn_downlink_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_kpn_downlink_header_filter;

    ngx_http_kpn_downlink_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_kpn_downlink_body_filter;

    return NGX_OK;
}
