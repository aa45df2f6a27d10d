
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * What the fuzz harnesses and the check driver cannot link from the nginx
 * core itself: they compile nginx's own src/core/ngx_string.c (the
 * printf family, ngx_escape_json, ngx_escape_uri, base64, ...) and
 * src/os/unix/ngx_alloc.c with the module's files without HTTP
 * (ngx_http_kpn_json.c, text.c, senml*.c, device.c, envelope.c, token.c,
 * command.c), and these stand-ins for the rest: the pool, which mallocs
 * every allocation separately so that AddressSanitizer sees each one's
 * bounds (nginx's pool carves them out of one block), the log (no cycle,
 * no files), and the ngx_cycle pointer ngx_sort() reads.  No HTTP or
 * configuration function is stubbed: those files call none.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* ngx_sort() allocates from ngx_cycle->log; nothing here logs */
static ngx_log_t      ngx_stubs_log;
static ngx_cycle_t    ngx_stubs_cycle = { .log = &ngx_stubs_log };
volatile ngx_cycle_t  *ngx_cycle = &ngx_stubs_cycle;


ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    ngx_pool_t  *pool;

    pool = calloc(1, sizeof(ngx_pool_t));
    if (pool == NULL) {
        return NULL;
    }

    pool->log = log;

    return pool;
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    ngx_pool_large_t    *l, *ln;
    ngx_pool_cleanup_t  *c, *cn;

    for (c = pool->cleanup; c; c = cn) {
        cn = c->next;

        if (c->handler) {
            c->handler(c->data);
        }

        free(c);
    }

    for (l = pool->large; l; l = ln) {
        ln = l->next;
        free(l->alloc);
        free(l);
    }

    free(pool);
}


void *
ngx_palloc(ngx_pool_t *pool, size_t size)
{
    ngx_pool_large_t  *l;

    l = malloc(sizeof(ngx_pool_large_t));
    if (l == NULL) {
        return NULL;
    }

    /* malloc(0) may return NULL: a pool never does */
    l->alloc = malloc(size ? size : 1);
    if (l->alloc == NULL) {
        free(l);
        return NULL;
    }

    l->next = pool->large;
    pool->large = l;

    return l->alloc;
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_palloc(pool, size);
    if (p) {
        ngx_memzero(p, size);
    }

    return p;
}


ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    ngx_pool_cleanup_t  *c;

    c = calloc(1, sizeof(ngx_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = ngx_palloc(p, size);
        if (c->data == NULL) {
            free(c);
            return NULL;
        }
    }

    c->next = p->cleanup;
    p->cleanup = c;

    return c;
}


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
}


#if (NGX_DEBUG)

void
ngx_log_debug_core(ngx_log_t *log, ngx_err_t err, const char *fmt, ...)
{
}

#endif
