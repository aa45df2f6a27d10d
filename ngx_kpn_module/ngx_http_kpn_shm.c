
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * kpn_token_zone: access tokens in shared memory, one entry per credential
 * set (the SHA-256 key built by the downlink module).  Every decision is
 * taken under the slab pool mutex, which the master force-unlocks when a
 * worker dies; the lock is held only for a copy.  A fetch in flight is a
 * lease with a deadline, so a dead worker or a vanished client cannot
 * block refreshes for longer than the lease.
 */


#include "ngx_http_kpn_shm.h"
#include "ngx_http_kpn_conf.h"


#define NGX_HTTP_KPN_SHM_VERSION       0x6b706e02


typedef struct {
    ngx_queue_t                queue;
    u_char                     key[NGX_HTTP_KPN_SHM_KEY_LEN];
    time_t                     expires;     /* 0: no token */
    time_t                     lifetime;    /* expires_in when stored */
    ngx_uint_t                 generation;
    time_t                     lease_until;
    ngx_pid_t                  lease_pid;
    ngx_uint_t                 lease_id;
    time_t                     fail_until;
    ngx_uint_t                 fail_reason; /* NGX_HTTP_KPN_SHM_FAIL_* */
    size_t                     len;
    u_char                     token[NGX_HTTP_KPN_TOKEN_MAX];
} ngx_http_kpn_shm_node_t;


typedef struct {
    ngx_http_kpn_zone_head_t   head;        /* size: of a node */
    ngx_uint_t                 generation;
    ngx_queue_t                queue;       /* most recently used first */
} ngx_http_kpn_shm_sh_t;


/* ctx->sh: an ngx_http_kpn_shm_sh_t */
typedef ngx_http_kpn_zone_t  ngx_http_kpn_shm_ctx_t;


static ngx_http_kpn_shm_node_t *ngx_http_kpn_shm_lookup(
    ngx_http_kpn_shm_ctx_t *ctx, u_char *key, ngx_uint_t create);
static ngx_uint_t ngx_http_kpn_shm_owner_gone(ngx_http_kpn_shm_node_t *node,
    ngx_log_t *log);
static ngx_uint_t ngx_http_kpn_shm_owns(ngx_http_kpn_shm_node_t *node,
    ngx_http_kpn_shm_lease_t *lease);


static ngx_uint_t  ngx_http_kpn_shm_lease_id;


ngx_int_t
ngx_http_kpn_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_int_t                rc;
    ngx_http_kpn_shm_sh_t   *sh;
    ngx_http_kpn_shm_ctx_t  *ctx;

    rc = ngx_http_kpn_conf_shm_init(shm_zone, data, NGX_HTTP_KPN_SHM_VERSION,
                                    sizeof(ngx_http_kpn_shm_node_t),
                                    sizeof(ngx_http_kpn_shm_sh_t),
                                    "kpn_token_zone");
    if (rc != NGX_DONE) {
        return rc;
    }

    ctx = shm_zone->data;
    sh = ctx->sh;

    ngx_queue_init(&sh->queue);
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


/* called with the mutex held */

static ngx_http_kpn_shm_node_t *
ngx_http_kpn_shm_lookup(ngx_http_kpn_shm_ctx_t *ctx, u_char *key,
    ngx_uint_t create)
{
    time_t                    now;
    ngx_queue_t              *q;
    ngx_http_kpn_shm_sh_t    *sh;
    ngx_http_kpn_shm_node_t  *node;

    sh = ctx->sh;

    for (q = ngx_queue_head(&sh->queue);
         q != ngx_queue_sentinel(&sh->queue);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_http_kpn_shm_node_t, queue);

        if (ngx_memcmp(node->key, key, NGX_HTTP_KPN_SHM_KEY_LEN) == 0) {
            ngx_queue_remove(q);
            ngx_queue_insert_head(&sh->queue, q);
            return node;
        }
    }

    if (!create) {
        return NULL;
    }

    node = ngx_slab_calloc_locked(ctx->shpool,
                                  sizeof(ngx_http_kpn_shm_node_t));

    if (node == NULL) {

        /* evict the least recently used credential set not being fetched */

        now = ngx_time();

        for (q = ngx_queue_last(&sh->queue);
             q != ngx_queue_sentinel(&sh->queue);
             q = ngx_queue_prev(q))
        {
            node = ngx_queue_data(q, ngx_http_kpn_shm_node_t, queue);

            if (node->lease_until <= now) {
                ngx_queue_remove(q);
                ngx_memzero(node, sizeof(ngx_http_kpn_shm_node_t));
                goto found;
            }
        }

        return NULL;
    }

found:

    ngx_memcpy(node->key, key, NGX_HTTP_KPN_SHM_KEY_LEN);
    ngx_queue_insert_head(&sh->queue, &node->queue);

    return node;
}


/*
 * A lease whose owner process is gone (a worker killed mid-fetch) is free
 * at once rather than at its deadline: the owner's pid is in the lease,
 * and kill(pid, 0) tells a dead process (ESRCH) from a slow one.  Our own
 * pid is alive by definition; EPERM means alive too.
 */

static ngx_uint_t
ngx_http_kpn_shm_owner_gone(ngx_http_kpn_shm_node_t *node, ngx_log_t *log)
{
    if (node->lease_pid == ngx_pid || node->lease_pid <= 0) {
        return 0;
    }

    if (kill(node->lease_pid, 0) == 0 || ngx_errno != NGX_ESRCH) {
        return 0;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "kpn downlink: the token fetch of process %P ended with "
                  "the process, fetching anew", node->lease_pid);

    return 1;
}


static ngx_uint_t
ngx_http_kpn_shm_owns(ngx_http_kpn_shm_node_t *node,
    ngx_http_kpn_shm_lease_t *lease)
{
    return lease->owned
           && node->lease_until != 0
           && node->lease_pid == lease->pid
           && node->lease_id == lease->id;
}


ngx_int_t
ngx_http_kpn_shm_acquire(ngx_http_kpn_shm_lease_t *lease, time_t margin,
    time_t lease_time, ngx_http_kpn_shm_result_t *res)
{
    time_t                    now, m;
    ngx_uint_t                valid;
    ngx_int_t                 rc;
    ngx_http_kpn_shm_ctx_t   *ctx;
    ngx_http_kpn_shm_node_t  *node;

    ctx = lease->zone->data;

    /* res->token.data: the caller's buffer of NGX_HTTP_KPN_TOKEN_MAX bytes */

    res->token.len = 0;
    res->generation = 0;
    res->retry_after = 0;
    res->fail_reason = 0;

    now = ngx_time();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_kpn_shm_lookup(ctx, lease->key, 1);

    if (node == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        ngx_log_error(NGX_LOG_ERR, lease->log, 0,
                      "kpn downlink: no memory in kpn_token_zone \"%V\"",
                      &lease->zone->shm.name);
        return NGX_ERROR;
    }

    m = ngx_min(margin, node->lifetime / 2);

    /*
     * while KPN refuses new tokens, no token is worth a post: the cached
     * one counts as none
     */

    valid = (node->len && now < node->expires
             && !(now < node->fail_until
                  && node->fail_reason == NGX_HTTP_KPN_SHM_FAIL_REFUSED));

    if (valid && now < node->expires - m) {
        rc = NGX_HTTP_KPN_SHM_HIT;

    } else if (now < node->fail_until) {

        /* a refresh failed recently: the old token is good while it lasts */

        if (valid) {
            rc = NGX_HTTP_KPN_SHM_STALE;

        } else {
            res->retry_after = node->fail_until - now;
            res->fail_reason = node->fail_reason;
            rc = NGX_HTTP_KPN_SHM_FAIL;
        }

    } else if (node->lease_until <= now
               || ngx_http_kpn_shm_owner_gone(node, lease->log))
    {
        node->lease_until = now + lease_time;
        node->lease_pid = ngx_pid;
        node->lease_id = ++ngx_http_kpn_shm_lease_id;

        lease->pid = node->lease_pid;
        lease->id = node->lease_id;
        lease->owned = 1;

        rc = NGX_HTTP_KPN_SHM_LEADER;

    } else if (valid) {
        rc = NGX_HTTP_KPN_SHM_STALE;

    } else {
        rc = NGX_HTTP_KPN_SHM_WAIT;
    }

    /*
     * HIT and STALE use the token; a LEADER refreshing a token that is
     * due but still valid gets it too, to fall back on if the fetch fails
     */

    if (valid
        && (rc == NGX_HTTP_KPN_SHM_HIT || rc == NGX_HTTP_KPN_SHM_STALE
            || rc == NGX_HTTP_KPN_SHM_LEADER))
    {
        res->token.len = node->len;
        ngx_memcpy(res->token.data, node->token, node->len);
        res->generation = node->generation;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, lease->log, 0,
                   "kpn token cache decision: %i lease:%ui", rc, lease->id);

    return rc;
}


ngx_int_t
ngx_http_kpn_shm_store(ngx_http_kpn_shm_lease_t *lease, ngx_str_t *token,
    time_t expires_in, ngx_uint_t *generation)
{
    time_t                    now;
    ngx_http_kpn_shm_sh_t    *sh;
    ngx_http_kpn_shm_ctx_t   *ctx;
    ngx_http_kpn_shm_node_t  *node;

    ctx = lease->zone->data;

    if (token->len > NGX_HTTP_KPN_TOKEN_MAX) {
        return NGX_ERROR;
    }

    now = ngx_time();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_kpn_shm_lookup(ctx, lease->key, 1);

    if (node == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        lease->owned = 0;
        return NGX_ERROR;
    }

    /* a fresh token is worth keeping even if our lease ran out meanwhile */

    ngx_memcpy(node->token, token->data, token->len);
    node->len = token->len;
    node->lifetime = expires_in;
    node->expires = now + expires_in;
    sh = ctx->sh;
    node->generation = ++sh->generation;

    /*
     * a window opened because KPN refused new tokens stays: a fetch that
     * began before it would otherwise end it
     */

    if (node->fail_reason != NGX_HTTP_KPN_SHM_FAIL_REFUSED
        || node->fail_until <= now)
    {
        node->fail_until = 0;
    }

    *generation = node->generation;

    if (ngx_http_kpn_shm_owns(node, lease)) {
        node->lease_until = 0;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    lease->owned = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, lease->log, 0,
                   "kpn token stored: expires in %T, generation %ui",
                   expires_in, *generation);

    return NGX_OK;
}


void
ngx_http_kpn_shm_release(ngx_http_kpn_shm_lease_t *lease, time_t backoff)
{
    ngx_http_kpn_shm_ctx_t   *ctx;
    ngx_http_kpn_shm_node_t  *node;

    if (!lease->owned) {
        return;
    }

    ctx = lease->zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_kpn_shm_lookup(ctx, lease->key, 0);

    if (node && ngx_http_kpn_shm_owns(node, lease)) {
        node->lease_until = 0;

        if (backoff) {
            node->fail_until = ngx_time() + backoff;
            node->fail_reason = NGX_HTTP_KPN_SHM_FAIL_FETCH;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    lease->owned = 0;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, lease->log, 0,
                   "kpn token lease released, fail fast for %T", backoff);
}


void
ngx_http_kpn_shm_invalidate(ngx_http_kpn_shm_lease_t *lease,
    ngx_uint_t generation)
{
    ngx_http_kpn_shm_ctx_t   *ctx;
    ngx_http_kpn_shm_node_t  *node;

    ctx = lease->zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_kpn_shm_lookup(ctx, lease->key, 0);

    if (node && node->len && node->generation == generation) {
        ngx_explicit_memzero(node->token, node->len);
        node->len = 0;
        node->expires = 0;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, lease->log, 0,
                   "kpn token generation %ui dropped", generation);
}


ngx_uint_t
ngx_http_kpn_shm_refused(ngx_http_kpn_shm_lease_t *lease,
    ngx_uint_t generation, time_t backoff)
{
    time_t                    now;
    ngx_uint_t                started;
    ngx_http_kpn_shm_ctx_t   *ctx;
    ngx_http_kpn_shm_node_t  *node;

    ctx = lease->zone->data;
    started = 0;
    now = ngx_time();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    node = ngx_http_kpn_shm_lookup(ctx, lease->key, 0);

    if (node) {
        if (node->len && node->generation == generation) {
            ngx_explicit_memzero(node->token, node->len);
            node->len = 0;
            node->expires = 0;
        }

        if (backoff) {
            started = (node->fail_until <= now);
            node->fail_until = now + backoff;
            node->fail_reason = NGX_HTTP_KPN_SHM_FAIL_REFUSED;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, lease->log, 0,
                   "kpn token generation %ui refused, fail fast for %T",
                   generation, backoff);

    return started;
}
