
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The shared-memory access-token cache of the downlink module: one entry
 * per credential set, a lease for the single fetch in flight across all
 * workers, and a short negative cache after a failed fetch.
 */


#ifndef _NGX_HTTP_KPN_SHM_H_INCLUDED_
#define _NGX_HTTP_KPN_SHM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_KPN_SHM_KEY_LEN       32      /* SHA-256 */
#define NGX_HTTP_KPN_TOKEN_MAX         4096


/* results of ngx_http_kpn_shm_acquire() */
#define NGX_HTTP_KPN_SHM_HIT           0       /* fresh token copied */
#define NGX_HTTP_KPN_SHM_STALE         1       /* due, still valid, someone
                                                  else is fetching */
#define NGX_HTTP_KPN_SHM_LEADER        2       /* lease taken: fetch it */
#define NGX_HTTP_KPN_SHM_WAIT          3       /* no usable token, fetch in
                                                  flight elsewhere */
#define NGX_HTTP_KPN_SHM_FAIL          4       /* recent failure: fail fast */

/* why a credential set fails fast (ngx_http_kpn_shm_result_t.fail_reason) */
#define NGX_HTTP_KPN_SHM_FAIL_FETCH    0       /* a token fetch failed */
#define NGX_HTTP_KPN_SHM_FAIL_REFUSED  1       /* KPN refused a new token */


typedef struct {
    ngx_shm_zone_t            *zone;
    u_char                    *key;         /* NGX_HTTP_KPN_SHM_KEY_LEN */
    ngx_pid_t                  pid;
    ngx_uint_t                 id;
    ngx_uint_t                 owned;       /* unsigned  owned:1; */
    ngx_log_t                 *log;
} ngx_http_kpn_shm_lease_t;


typedef struct {
    ngx_str_t                  token;       /* copy in the request pool */
    ngx_uint_t                 generation;  /* identifies the cached token */
    time_t                     retry_after; /* NGX_HTTP_KPN_SHM_FAIL */
    ngx_uint_t                 fail_reason; /* NGX_HTTP_KPN_SHM_FAIL */
} ngx_http_kpn_shm_result_t;


/* the shm_zone->init of a kpn_token_zone (ngx_http_kpn_conf_shm()) */
ngx_int_t ngx_http_kpn_shm_init_zone(ngx_shm_zone_t *shm_zone, void *data);

/*
 * The single-flight decision, taken under the zone mutex.  A lease held
 * by a process that no longer exists is taken over at once.  margin is the
 * refresh margin (seconds before expiry); lease_time the lifetime of a
 * lease taken by this call.  res->token.data must point to a buffer of
 * NGX_HTTP_KPN_TOKEN_MAX bytes (reused across decisions of one request);
 * the token is copied there for HIT and STALE, and for LEADER when the
 * cached token is due but still valid (res->token.len != 0: a fallback if
 * the refresh fails).  In the fail-fast window a still-valid token is
 * STALE rather than FAIL.
 */
ngx_int_t ngx_http_kpn_shm_acquire(ngx_http_kpn_shm_lease_t *lease,
    time_t margin, time_t lease_time, ngx_http_kpn_shm_result_t *res);

/* stores a fetched token and releases the lease (when still ours) */
ngx_int_t ngx_http_kpn_shm_store(ngx_http_kpn_shm_lease_t *lease,
    ngx_str_t *token, time_t expires_in, ngx_uint_t *generation);

/*
 * releases the lease when still ours; backoff > 0 records a failed fetch:
 * requests fail fast for backoff seconds (0: request gone, nothing learnt)
 */
void ngx_http_kpn_shm_release(ngx_http_kpn_shm_lease_t *lease,
    time_t backoff);

/*
 * KPN refused a token that had just been fetched: drops it (if still the
 * given generation) and makes the credential set fail fast for backoff
 * seconds, without fetching.  Returns 1 when this call started the window.
 */
ngx_uint_t ngx_http_kpn_shm_refused(ngx_http_kpn_shm_lease_t *lease,
    ngx_uint_t generation, time_t backoff);

/* drops the cached token if it is still the given generation */
void ngx_http_kpn_shm_invalidate(ngx_http_kpn_shm_lease_t *lease,
    ngx_uint_t generation);


#endif /* _NGX_HTTP_KPN_SHM_H_INCLUDED_ */
