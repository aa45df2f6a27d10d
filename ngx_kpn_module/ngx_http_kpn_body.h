
/*
 * Copyright (C) ngx_kpn_module developers
 */


#ifndef _NGX_HTTP_KPN_BODY_H_INCLUDED_
#define _NGX_HTTP_KPN_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The whole request body, once read, as one contiguous string: memory
 * buffers (one or several) or the temp file.  A body in a single memory
 * buffer is not copied.  NGX_ERROR: read error or no memory (logged).
 */
ngx_int_t ngx_http_kpn_body_collect(ngx_http_request_t *r, ngx_str_t *body);

/*
 * Replaces the request body with data (not copied: it must live as long
 * as the request, and is not written to), with an exact Content-Length
 * and the given Content-Type, so that proxy_pass, mirror and upstream
 * retries send it.  Also builds the body of a subrequest whose
 * request_body and header list were reset first.
 */
ngx_int_t ngx_http_kpn_body_replace(ngx_http_request_t *r, ngx_str_t *data,
    ngx_str_t *content_type);

/*
 * Sets an input header: overwrites *hp when it points to one, else adds
 * it to r->headers_in.headers (hash, lower-case key) and stores it in *hp
 * (hp may be NULL for headers without a field in ngx_http_headers_in_t).
 */
ngx_int_t ngx_http_kpn_body_set_header(ngx_http_request_t *r,
    ngx_table_elt_t **hp, ngx_str_t *name, ngx_str_t *value);


#endif /* _NGX_HTTP_KPN_BODY_H_INCLUDED_ */
