
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The access token of a downlink request: taken from the shared cache, or
 * fetched once for the node by the worker that takes the lease (a
 * background subrequest to kpn_token_uri) while the others wait on a
 * timer; a fetch that fails falls back on a due but still valid token.
 * The answer itself is parsed by ngx_http_kpn_token.c.  Every function
 * gives a verdict (NGX_HTTP_KPN_ACCESS_*): the state machine of
 * ngx_http_kpn_downlink.c owns the states and the answers.
 */


#include "ngx_http_kpn_downlink_module.h"
#include "ngx_http_kpn_downlink_token.h"
#include "ngx_http_kpn_json.h"


#if (NGX_HTTP_KPN_TOKEN_LEN_MAX > NGX_HTTP_KPN_TOKEN_MAX)
#error the token cache holds shorter tokens than the parser accepts
#endif


#define NGX_HTTP_KPN_WAIT_MIN          20      /* ms */
#define NGX_HTTP_KPN_WAIT_MAX          200     /* ms */


static ngx_uint_t ngx_http_kpn_access_fetch(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_subrequest_t *sub);
static ngx_uint_t ngx_http_kpn_access_wait(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_refusal_t *ref);
static ngx_uint_t ngx_http_kpn_access_fail_fast(ngx_http_request_t *r,
    ngx_http_kpn_shm_result_t *res, ngx_http_kpn_refusal_t *ref);
static void ngx_http_kpn_access_answer(ngx_http_request_t *sr,
    ngx_http_kpn_subrequest_t *sub, void *data);
static ngx_uint_t ngx_http_kpn_access_failed(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_refusal_t *ref,
    time_t backoff);
static void ngx_http_kpn_access_fetched(ngx_http_kpn_access_t *access,
    ngx_uint_t result);


static ngx_keyval_t  ngx_http_kpn_downlink_token_type = {
    ngx_string("Content-Type"), ngx_string("application/json; charset=utf-8")
};


ngx_uint_t
ngx_http_kpn_access_decide(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_subrequest_t *sub,
    ngx_http_kpn_refusal_t *ref)
{
    time_t                             lease_time;
    ngx_int_t                          rc;
    ngx_http_kpn_shm_result_t          res;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    lease_time = (time_t) ((dlcf->lock_timeout + 999) / 1000);

    /* one token buffer per request, not one per decision (WAIT loops) */

    if (access->buf == NULL) {
        access->buf = ngx_pnalloc(r->pool, NGX_HTTP_KPN_TOKEN_MAX);
        if (access->buf == NULL) {
            return NGX_HTTP_KPN_ACCESS_FAILED;
        }
    }

    res.token.data = access->buf;

    rc = ngx_http_kpn_shm_acquire(&access->lease, dlcf->token_refresh,
                                  lease_time, &res);

    switch (rc) {

    case NGX_HTTP_KPN_SHM_HIT:
    case NGX_HTTP_KPN_SHM_STALE:
        if (rc == NGX_HTTP_KPN_SHM_HIT) {
            if (access->cache == NGX_HTTP_KPN_CACHE_NONE) {
                access->cache = NGX_HTTP_KPN_CACHE_HIT;
            }

        } else {
            access->cache = NGX_HTTP_KPN_CACHE_STALE;
        }

        access->token = res.token;
        access->generation = res.generation;
        return NGX_HTTP_KPN_ACCESS_READY;

    case NGX_HTTP_KPN_SHM_LEADER:
        access->cache = NGX_HTTP_KPN_CACHE_MISS;

        /* a due but valid token to fall back on if the refresh fails */

        access->stale = res.token;
        access->stale_generation = res.generation;

        return ngx_http_kpn_access_fetch(r, access, sub);

    case NGX_HTTP_KPN_SHM_WAIT:
        access->cache = NGX_HTTP_KPN_CACHE_WAIT;
        return ngx_http_kpn_access_wait(r, access, ref);

    case NGX_HTTP_KPN_SHM_FAIL:
        if (access->cache == NGX_HTTP_KPN_CACHE_NONE) {
            access->cache = NGX_HTTP_KPN_CACHE_MISS;
        }

        return ngx_http_kpn_access_fail_fast(r, &res, ref);

    default: /* NGX_ERROR */
        return NGX_HTTP_KPN_ACCESS_FAILED;
    }
}


/* the lease is ours: post the token subrequest */

static ngx_uint_t
ngx_http_kpn_access_fetch(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_subrequest_t *sub)
{
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    /*
     * the fetch is a background subrequest and the client's going
     * away does not end this request meanwhile (block_reading instead
     * of test_reading): a token KPN issues is stored, and the lease
     * stays with one fetch, whoever still waits for it
     */

    sub->answer = ngx_http_kpn_access_answer;
    sub->answer_data = access;
    access->answer_rc = NGX_AGAIN;

    if (ngx_http_kpn_subrequest_post(r, sub, &dlcf->token_uri,
                                     &dlcf->token_args,
                                     &dlcf->token_body,
                                     &ngx_http_kpn_downlink_token_type, 1,
                                     NULL, 1)
        != NGX_OK)
    {
        ngx_http_kpn_shm_release(&access->lease, 0);
        return NGX_HTTP_KPN_ACCESS_FAILED;
    }

    r->read_event_handler = ngx_http_block_reading;

    return NGX_HTTP_KPN_ACCESS_FETCHING;
}


/* a fetch is in flight elsewhere: wait for it, up to lock_timeout */

static ngx_uint_t
ngx_http_kpn_access_wait(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_refusal_t *ref)
{
    ngx_msec_t                         elapsed;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    elapsed = ngx_current_msec - access->wait_start;

    if (elapsed >= dlcf->lock_timeout) {
        if (ngx_http_kpn_raise(r->pool, &ref->err,
                               NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                               NGX_HTTP_SERVICE_UNAVAILABLE,
                               "timed out waiting for the access token")
            == NGX_ERROR)
        {
            return NGX_HTTP_KPN_ACCESS_FAILED;
        }

        ref->level = NGX_LOG_ERR;
        ref->retry_after = 1;
        return NGX_HTTP_KPN_ACCESS_REFUSED;
    }

    access->wait_delay = access->wait_delay ? access->wait_delay * 2
                                      : NGX_HTTP_KPN_WAIT_MIN;

    if (access->wait_delay > NGX_HTTP_KPN_WAIT_MAX) {
        access->wait_delay = NGX_HTTP_KPN_WAIT_MAX;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn downlink waits %M for the token",
                   access->wait_delay);

    return NGX_HTTP_KPN_ACCESS_WAIT;
}


/* a recent failure of this credential set: 503 with Retry-After */

static ngx_uint_t
ngx_http_kpn_access_fail_fast(ngx_http_request_t *r,
    ngx_http_kpn_shm_result_t *res, ngx_http_kpn_refusal_t *ref)
{
    ngx_int_t  rc;

    if (res->fail_reason == NGX_HTTP_KPN_SHM_FAIL_REFUSED) {
        rc = ngx_http_kpn_raise(r->pool, &ref->err,
                                NGX_HTTP_KPN_KPN_AUTH_FAILED,
                                NGX_HTTP_SERVICE_UNAVAILABLE,
                                "KPN refused a new access token "
                                "recently, retry later");

    } else {
        rc = ngx_http_kpn_raise(r->pool, &ref->err,
                                NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                                NGX_HTTP_SERVICE_UNAVAILABLE,
                                "the token endpoint failed recently, "
                                "retry later");
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_KPN_ACCESS_FAILED;
    }

    ref->level = NGX_LOG_INFO;
    ref->retry_after = res->retry_after;
    return NGX_HTTP_KPN_ACCESS_REFUSED;
}


/*
 * The answer of the token subrequest, read when the subrequest is over
 * (ngx_http_kpn_subrequest.c calls it from the post-subrequest handler):
 * a good token is stored at once, so that it is kept even when nginx then
 * terminates the request because the client reset its HTTP/2 stream.  What
 * went wrong otherwise is the parent's to say (token_done).
 */

static void
ngx_http_kpn_access_answer(ngx_http_request_t *sr,
    ngx_http_kpn_subrequest_t *sub, void *data)
{
    ngx_http_kpn_access_t  *access = data;

    ngx_str_t                          body;
    ngx_http_request_t                *r;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    if (sub->error || sub->rc || sr->headers_out.status != NGX_HTTP_OK) {
        return;
    }

    r = sr->main;
    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    ngx_http_kpn_subrequest_answer(sr, &body);

    access->answer_rc = ngx_http_kpn_token_parse(r->pool, &body,
                                                 &access->answer,
                                                 &access->answer_err);
    if (access->answer_rc != NGX_OK) {
        return;
    }

    access->token = access->answer.token;
    access->expires = ngx_time() + access->answer.expires_in;
    ngx_str_null(&access->stale);

    if (ngx_http_kpn_shm_store(&access->lease, &access->token,
                               access->answer.expires_in,
                               &access->generation)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: token not cached, no memory in "
                      "kpn_token_zone \"%V\"", &dlcf->zone->shm.name);
    }
}


ngx_uint_t
ngx_http_kpn_access_done(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_subrequest_t *sub,
    ngx_uint_t misrouted, ngx_http_kpn_refusal_t *ref)
{
    ngx_uint_t                         status;
    ngx_http_request_t                *sr;
    ngx_http_kpn_error_t              *err;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);

    err = &ref->err;
    sr = sub->sr;
    sub->sr = NULL;

    r->read_event_handler = ngx_http_test_reading;

    status = sr->headers_out.status;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn token answer: status %ui rc %i error %d",
                   status, sub->rc, (int) sub->error);

    if (misrouted) {
        ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                           0,
                           "the token request to \"%V\" reached a location "
                           "without \"kpn_endpoint token\", not sent",
                           &dlcf->token_uri);
        ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_ERROR);
        goto failed;
    }

    if (sub->error) {
        ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                           0,
                           "the token answer was too big or broken");
        ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_BAD_ANSWER);
        goto failed;
    }

    if (sub->rc == NGX_HTTP_GATEWAY_TIME_OUT) {
        ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                           0,
                           "the token request timed out");
        ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_TIMEOUT);
        goto failed;
    }

    if (sub->rc) {
        ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                           0,
                           "the token request failed (%i)", sub->rc);
        ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_ERROR);
        goto failed;
    }

    if (status != NGX_HTTP_OK) {

        /* a refusal of the credentials: say which ones to check */

        ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                           0,
                           "the token endpoint answered %ui%s", status,
                           status == NGX_HTTP_UNAUTHORIZED
                           ? ": check kpn_client_id and the client secret"
                           : status == NGX_HTTP_FORBIDDEN
                           ? ": check kpn_client_id, the client secret and "
                             "the API key's roles"
                           : "");
        ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_HTTP_ERROR);
        goto failed;
    }

    /* parsed and stored by ngx_http_kpn_downlink_token_answer() */

    if (access->answer_rc == NGX_ERROR) {
        ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_ERROR);
        ngx_http_kpn_shm_release(&access->lease, 0);
        return NGX_HTTP_KPN_ACCESS_FAILED;
    }

    if (access->answer_rc != NGX_OK) {
        *err = access->answer_err;
        ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_BAD_ANSWER);

        if (access->answer_rc == NGX_AGAIN) {
            ngx_http_kpn_raise(r->pool, err, NGX_HTTP_KPN_TOKEN_UNAVAILABLE,
                               0,
                               "the token answer was not read");
        }

        goto failed;
    }

    ngx_http_kpn_access_fetched(access, NGX_HTTP_KPN_FETCH_OK);

    return NGX_HTTP_KPN_ACCESS_READY;

failed:

    return ngx_http_kpn_access_failed(r, access, ref, dlcf->token_backoff);
}


/*
 * The fetch failed (ref->err says how): the lease given back with the
 * backoff; a due but valid token is used if there is one (READY), else
 * the refusal is the answer.
 */

static ngx_uint_t
ngx_http_kpn_access_failed(ngx_http_request_t *r,
    ngx_http_kpn_access_t *access, ngx_http_kpn_refusal_t *ref,
    time_t backoff)
{
    ngx_http_kpn_error_t  *err;

    err = &ref->err;

    ngx_http_kpn_shm_release(&access->lease, backoff);

    if (err->message.data == NULL) {
        return NGX_HTTP_KPN_ACCESS_FAILED;
    }

    if (access->stale.len) {

        /* the refresh failed, the cached token still works: use it */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "kpn downlink: token refresh failed, using the "
                      "cached token: %V", &err->message);

        access->cache = NGX_HTTP_KPN_CACHE_STALE;
        access->token = access->stale;
        access->generation = access->stale_generation;
        ngx_str_null(&access->stale);

        return NGX_HTTP_KPN_ACCESS_READY;
    }

    ref->level = NGX_LOG_ERR;
    ref->retry_after = 0;

    return NGX_HTTP_KPN_ACCESS_REFUSED;
}


/* how a fetch ended: the last one, and each one counted (for the metrics) */

static void
ngx_http_kpn_access_fetched(ngx_http_kpn_access_t *access, ngx_uint_t result)
{
    access->fetch = result;
    access->fetches[result - 1]++;
}
