
/*
 * Copyright (C) ngx_kpn_module developers
 */


#ifndef _NGX_HTTP_KPN_BODY_H_INCLUDED_
#define _NGX_HTTP_KPN_BODY_H_INCLUDED_


#include "ngx_http_kpn_module.h"


/*
 * The whole request body, once read, as one contiguous string: memory
 * buffers (one or several) or the temp file.  A body in a single memory
 * buffer is not copied.  NGX_ERROR: read error or no memory (logged).
 */
ngx_int_t ngx_http_kpn_body_collect(ngx_http_request_t *r, ngx_str_t *body);

/*
 * Replaces the request body with data (pool memory that outlives the
 * request's use of it), with an exact Content-Length and the given
 * Content-Type, so that proxy_pass, mirror and upstream retries send it.
 */
ngx_int_t ngx_http_kpn_body_replace(ngx_http_request_t *r, ngx_str_t *data,
    ngx_str_t *content_type);

/*
 * One chain link with a copy of data (non-empty) in a temp buffer marked
 * last_buf: a request body that proxy_pass and its retries can send.
 */
ngx_chain_t *ngx_http_kpn_body_chain(ngx_pool_t *pool, ngx_str_t *data,
    ngx_buf_tag_t tag);


#endif /* _NGX_HTTP_KPN_BODY_H_INCLUDED_ */
