
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Configuration-time helpers shared by both modules.
 */


#ifndef _NGX_HTTP_KPN_CONF_H_INCLUDED_
#define _NGX_HTTP_KPN_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* flags of ngx_http_kpn_conf_read_lines() */
#define NGX_HTTP_KPN_CONF_ONE         0x01  /* exactly one entry */
#define NGX_HTTP_KPN_CONF_KPN_SECRET  0x02  /* KPN's destination secret
                                               rules: a warning a line */

/*
 * The one reader of the module's secret, key and token files, at
 * configuration time (docs/directives.md, "Secret and key files"): one
 * entry a line, its raw bytes; a trailing CR and surrounding blanks left
 * out; blank lines and comments ("#" alone or "#" and a blank first)
 * skipped, so "#text" is an entry.  Appends ngx_str_t entries to *lines
 * (created when NULL).  Fails (EMERG, naming the directive) when the file
 * cannot be read, is empty, holds only comments, an entry holds a
 * control character or, with NGX_HTTP_KPN_CONF_ONE, several entries.
 * Warns when the file is readable by others or writable by group or
 * others.  Contents are never logged.
 */
char *ngx_http_kpn_conf_read_lines(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *file, ngx_uint_t flags, ngx_array_t **lines);

/*
 * The zone=NAME:SIZE argument of directive cmd (size != NULL: the size is
 * required, at least 8 pages, as for limit_req_zone) or zone=NAME (size
 * NULL: a zone declared elsewhere).  A bad one is logged (EMERG, naming
 * the directive): NGX_ERROR.
 */
ngx_int_t ngx_http_kpn_conf_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *arg, ngx_str_t *name, ssize_t *size);


/* the first fields of a zone's shared memory: what a reload checks */
typedef struct {
    ngx_uint_t                 version;
    size_t                     size;        /* what the layout depends on */
} ngx_http_kpn_zone_head_t;


/* the shm_zone->data of the module's zones */
typedef struct {
    void                      *sh;          /* starts with the head */
    ngx_slab_pool_t           *shpool;
} ngx_http_kpn_zone_t;


/*
 * A zone of owner tag: declared (size > 0, init its shm_zone->init, data
 * an ngx_http_kpn_zone_t; a second declaration of the name is an error
 * naming the directive) or referred to (size 0; the reference is unknown
 * while zone->data stays NULL).  NULL on error.
 */
ngx_shm_zone_t *ngx_http_kpn_conf_shm(ngx_conf_t *cf, ngx_str_t *name,
    size_t size, void *tag, ngx_shm_zone_init_pt init);

/*
 * The common part of a shm_zone->init: a reload reuses the zone if its
 * head is {version, size} (else refused, logged naming "what"); a new
 * zone gets its log context and sh_size zeroed bytes, the head filled in.
 * NGX_OK: reused; NGX_DONE: new, the rest of sh to initialise; NGX_ERROR.
 */
ngx_int_t ngx_http_kpn_conf_shm_init(ngx_shm_zone_t *shm_zone, void *data,
    ngx_uint_t version, size_t size, size_t sh_size, char *what);


#endif /* _NGX_HTTP_KPN_CONF_H_INCLUDED_ */
