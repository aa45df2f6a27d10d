
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The access token of a downlink request: taken from the shared cache, or
 * fetched once for the node by the worker that takes the lease (a
 * background subrequest to kpn_token_uri) while the others wait on a
 * timer; a fetch that fails falls back on a due but still valid token.
 * The answer itself is parsed by ngx_http_kpn_token.c.
 */


#include "ngx_http_kpn_downlink.h"
#include "ngx_http_kpn_json.h"


#if (NGX_HTTP_KPN_TOKEN_LEN_MAX > NGX_HTTP_KPN_TOKEN_MAX)
#error the token cache holds shorter tokens than the parser accepts
#endif


#define NGX_HTTP_KPN_WAIT_MIN          20      /* ms */
#define NGX_HTTP_KPN_WAIT_MAX          200     /* ms */


static ngx_int_t ngx_http_kpn_downlink_fetch(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx);
static ngx_int_t ngx_http_kpn_downlink_wait(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx);
static ngx_int_t ngx_http_kpn_downlink_fail_fast(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_shm_result_t *res);
static void ngx_http_kpn_downlink_token_answer(ngx_http_request_t *sr,
    ngx_http_kpn_subrequest_t *sub, void *data);
static void ngx_http_kpn_downlink_fetched(ngx_http_kpn_downlink_ctx_t *ctx,
    ngx_uint_t result);


static ngx_keyval_t  ngx_http_kpn_downlink_token_type = {
    ngx_string("Content-Type"), ngx_string("application/json; charset=utf-8")
};


ngx_int_t
ngx_http_kpn_downlink_decide(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx)
{
    time_t                             lease_time;
    ngx_int_t                          rc;
    ngx_http_kpn_shm_result_t          res;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    lease_time = (time_t) ((dlcf->lock_timeout + 999) / 1000);

    /* one token buffer per request, not one per decision (WAIT loops) */

    if (ctx->token_buf == NULL) {
        ctx->token_buf = ngx_pnalloc(r->pool, NGX_HTTP_KPN_TOKEN_MAX);
        if (ctx->token_buf == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    res.token.data = ctx->token_buf;

    rc = ngx_http_kpn_shm_acquire(&ctx->lease, dlcf->token_refresh,
                                  lease_time, &res);

    switch (rc) {

    case NGX_HTTP_KPN_SHM_HIT:
    case NGX_HTTP_KPN_SHM_STALE:
        if (rc == NGX_HTTP_KPN_SHM_HIT) {
            if (ctx->cache.len == 0) {
                ngx_str_set(&ctx->cache, "hit");
            }

        } else {
            ngx_str_set(&ctx->cache, "stale");
        }

        ctx->token = res.token;
        ctx->generation = res.generation;
        ctx->state = NGX_HTTP_KPN_DL_SEND;
        return NGX_AGAIN;

    case NGX_HTTP_KPN_SHM_LEADER:
        ngx_str_set(&ctx->cache, "miss");

        /* a due but valid token to fall back on if the refresh fails */

        ctx->stale = res.token;
        ctx->stale_generation = res.generation;

        return ngx_http_kpn_downlink_fetch(r, ctx);

    case NGX_HTTP_KPN_SHM_WAIT:
        ngx_str_set(&ctx->cache, "wait");
        return ngx_http_kpn_downlink_wait(r, ctx);

    case NGX_HTTP_KPN_SHM_FAIL:
        if (ctx->cache.len == 0) {
            ngx_str_set(&ctx->cache, "miss");
        }

        return ngx_http_kpn_downlink_fail_fast(r, ctx, &res);

    default: /* NGX_ERROR */
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* the lease is ours: post the token subrequest */

static ngx_int_t
ngx_http_kpn_downlink_fetch(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx)
{
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    /*
     * the fetch is a background subrequest and the client's going
     * away does not end this request meanwhile (block_reading instead
     * of test_reading): a token KPN issues is stored, and the lease
     * stays with one fetch, whoever still waits for it
     */

    ctx->sub.answer = ngx_http_kpn_downlink_token_answer;
    ctx->sub.answer_data = ctx;
    ctx->tok_rc = NGX_AGAIN;
    ctx->endpoint = NGX_HTTP_KPN_ENDPOINT_TOKEN;
    ctx->misrouted = 0;
    ctx->reached = 0;

    if (ngx_http_kpn_subrequest_post(r, &ctx->sub, &dlcf->token_uri,
                                     &dlcf->token_args,
                                     &dlcf->token_body,
                                     &ngx_http_kpn_downlink_token_type, 1,
                                     NULL, 1)
        != NGX_OK)
    {
        ngx_http_kpn_shm_release(&ctx->lease, 0);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->read_event_handler = ngx_http_block_reading;

    ctx->state = NGX_HTTP_KPN_DL_TOKEN;
    return NGX_DONE;
}


/* a fetch is in flight elsewhere: wait for it, up to lock_timeout */

static ngx_int_t
ngx_http_kpn_downlink_wait(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx)
{
    ngx_msec_t                         elapsed;
    ngx_http_kpn_error_t               err;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    elapsed = ngx_current_msec - ctx->wait_start;

    if (elapsed >= dlcf->lock_timeout) {
        if (ngx_http_kpn_error(r->pool, &err,
                               NGX_HTTP_SERVICE_UNAVAILABLE,
                               "token_unavailable",
                               "timed out waiting for the access token")
            == NGX_ERROR)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_kpn_downlink_fail(r, ctx, &err, NGX_LOG_ERR, 1);
    }

    ctx->wait_delay = ctx->wait_delay ? ctx->wait_delay * 2
                                      : NGX_HTTP_KPN_WAIT_MIN;

    if (ctx->wait_delay > NGX_HTTP_KPN_WAIT_MAX) {
        ctx->wait_delay = NGX_HTTP_KPN_WAIT_MAX;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn downlink waits %M for the token",
                   ctx->wait_delay);

    ngx_add_timer(&ctx->timer, ctx->wait_delay);

    ctx->state = NGX_HTTP_KPN_DL_WAIT;
    return NGX_DONE;
}


/* a recent failure of this credential set: 503 with Retry-After */

static ngx_int_t
ngx_http_kpn_downlink_fail_fast(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx, ngx_http_kpn_shm_result_t *res)
{
    ngx_int_t             rc;
    ngx_http_kpn_error_t  err;

    if (res->fail_reason == NGX_HTTP_KPN_SHM_FAIL_REFUSED) {
        rc = ngx_http_kpn_error(r->pool, &err,
                                NGX_HTTP_SERVICE_UNAVAILABLE,
                                "kpn_auth_failed",
                                "KPN refused a new access token "
                                "recently, retry later");

    } else {
        rc = ngx_http_kpn_error(r->pool, &err,
                                NGX_HTTP_SERVICE_UNAVAILABLE,
                                "token_unavailable",
                                "the token endpoint failed recently, "
                                "retry later");
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_kpn_downlink_fail(r, ctx, &err, NGX_LOG_INFO,
                                      res->retry_after);
}


/*
 * The answer of the token subrequest, read when the subrequest is over
 * (ngx_http_kpn_subrequest.c calls it from the post-subrequest handler):
 * a good token is stored at once, so that it is kept even when nginx then
 * terminates the request because the client reset its HTTP/2 stream.  What
 * went wrong otherwise is the parent's to say (token_done).
 */

static void
ngx_http_kpn_downlink_token_answer(ngx_http_request_t *sr,
    ngx_http_kpn_subrequest_t *sub, void *data)
{
    ngx_http_kpn_downlink_ctx_t  *ctx = data;

    ngx_str_t                          body;
    ngx_http_request_t                *r;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    if (sub->error || sub->rc || sr->headers_out.status != NGX_HTTP_OK) {
        return;
    }

    r = sr->main;
    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    ngx_http_kpn_subrequest_answer(sr, &body);

    ctx->tok_rc = ngx_http_kpn_token_parse(r->pool, &body, &ctx->tok,
                                           &ctx->tok_err);
    if (ctx->tok_rc != NGX_OK) {
        return;
    }

    ctx->token = ctx->tok.token;
    ctx->expires = ngx_time() + ctx->tok.expires_in;
    ngx_str_null(&ctx->stale);

    if (ngx_http_kpn_shm_store(&ctx->lease, &ctx->token, ctx->tok.expires_in,
                               &ctx->generation)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: token not cached, no memory in "
                      "kpn_token_zone \"%V\"", &dlcf->zone->shm.name);
    }
}


ngx_int_t
ngx_http_kpn_downlink_token_done(ngx_http_request_t *r,
    ngx_http_kpn_downlink_ctx_t *ctx)
{
    ngx_uint_t                         status;
    ngx_http_request_t                *sr;
    ngx_http_kpn_error_t               err;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    sr = ctx->sub.sr;
    ctx->sub.sr = NULL;

    r->read_event_handler = ngx_http_test_reading;

    status = sr->headers_out.status;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn token answer: status %ui rc %i error %d",
                   status, ctx->sub.rc, (int) ctx->sub.error);

    if (ctx->misrouted) {
        ngx_http_kpn_error(r->pool, &err, NGX_HTTP_BAD_GATEWAY,
                           "token_unavailable",
                           "the token request to \"%V\" reached a location "
                           "without \"kpn_endpoint token\", not sent",
                           &dlcf->token_uri);
        ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_ERROR);
        goto failed;
    }

    if (ctx->sub.error) {
        ngx_http_kpn_error(r->pool, &err, NGX_HTTP_BAD_GATEWAY,
                           "token_unavailable",
                           "the token answer was too big or broken");
        ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_BAD_ANSWER);
        goto failed;
    }

    if (ctx->sub.rc == NGX_HTTP_GATEWAY_TIME_OUT) {
        ngx_http_kpn_error(r->pool, &err, NGX_HTTP_BAD_GATEWAY,
                           "token_unavailable",
                           "the token request timed out");
        ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_TIMEOUT);
        goto failed;
    }

    if (ctx->sub.rc) {
        ngx_http_kpn_error(r->pool, &err, NGX_HTTP_BAD_GATEWAY,
                           "token_unavailable",
                           "the token request failed (%i)", ctx->sub.rc);
        ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_ERROR);
        goto failed;
    }

    if (status != NGX_HTTP_OK) {

        /* a refusal of the credentials: say which ones to check */

        ngx_http_kpn_error(r->pool, &err, NGX_HTTP_BAD_GATEWAY,
                           "token_unavailable",
                           "the token endpoint answered %ui%s", status,
                           status == NGX_HTTP_UNAUTHORIZED
                           ? ": check kpn_client_id and the client secret"
                           : status == NGX_HTTP_FORBIDDEN
                           ? ": check kpn_client_id, the client secret and "
                             "the API key's roles"
                           : "");
        ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_HTTP_ERROR);
        goto failed;
    }

    /* parsed and stored by ngx_http_kpn_downlink_token_answer() */

    if (ctx->tok_rc == NGX_ERROR) {
        ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_ERROR);
        ngx_http_kpn_shm_release(&ctx->lease, 0);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->tok_rc != NGX_OK) {
        err = ctx->tok_err;
        ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_BAD_ANSWER);

        if (ctx->tok_rc == NGX_AGAIN) {
            ngx_http_kpn_error(r->pool, &err, NGX_HTTP_BAD_GATEWAY,
                               "token_unavailable",
                               "the token answer was not read");
        }

        goto failed;
    }

    ngx_http_kpn_downlink_fetched(ctx, NGX_HTTP_KPN_FETCH_OK);
    ctx->state = NGX_HTTP_KPN_DL_SEND;

    return NGX_AGAIN;

failed:

    ngx_http_kpn_shm_release(&ctx->lease, dlcf->token_backoff);

    if (err.message.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->stale.len) {

        /* the refresh failed, the cached token still works: use it */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: token refresh failed, using the "
                      "cached token: %V", &err.message);

        ngx_str_set(&ctx->cache, "stale");
        ctx->token = ctx->stale;
        ctx->generation = ctx->stale_generation;
        ngx_str_null(&ctx->stale);
        ctx->state = NGX_HTTP_KPN_DL_SEND;

        return NGX_AGAIN;
    }

    return ngx_http_kpn_downlink_fail(r, ctx, &err, NGX_LOG_ERR, 0);
}


/* how a fetch ended: the last one, and each one counted (for the metrics) */

static void
ngx_http_kpn_downlink_fetched(ngx_http_kpn_downlink_ctx_t *ctx,
    ngx_uint_t result)
{
    ctx->fetch = result;
    ctx->fetches[result - 1]++;
}
