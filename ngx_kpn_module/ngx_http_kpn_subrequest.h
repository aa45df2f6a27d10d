
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * In-memory POST subrequests into internal locations, with a request body
 * and a header list built here, so nothing of the caller's request reaches
 * them; and a body filter that caps their answers.
 */


#ifndef _NGX_HTTP_KPN_SUBREQUEST_H_INCLUDED_
#define _NGX_HTTP_KPN_SUBREQUEST_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


typedef struct ngx_http_kpn_subrequest_s  ngx_http_kpn_subrequest_t;

/*
 * called once when the subrequest is over, with its answer complete, even
 * if nginx then terminates the request (the client went away)
 */
typedef void (*ngx_http_kpn_subrequest_answer_pt)(ngx_http_request_t *sr,
    ngx_http_kpn_subrequest_t *sub, void *data);


/* the state of one subrequest at a time, kept in the parent's ctx */

struct ngx_http_kpn_subrequest_s {
    ngx_http_kpn_subrequest_answer_pt  answer;  /* or NULL; kept across */
    void                      *answer_data;     /* subrequests */

    /* from here on: the state of one subrequest, zeroed when it is posted */

    ngx_http_request_t        *sr;          /* the running subrequest */
    ngx_int_t                  rc;          /* first special rc seen */
    off_t                      bytes;       /* answer bytes so far */

    unsigned                   done:1;      /* post-subrequest handler ran */
    unsigned                   error:1;     /* too big, or failed inside */
    unsigned                   posted:1;    /* background: parent posted */
    unsigned                   answered:1;  /* answer called */
};


/* the state of the subrequest of main request r, or NULL */
typedef ngx_http_kpn_subrequest_t *(*ngx_http_kpn_subrequest_get_pt)
    (ngx_http_request_t *r);


/*
 * Starts an in-memory, waited POST subrequest of r to uri (args: may be
 * empty) with body and, in this order, "Authorization: Bearer token" (if
 * token is not NULL) and the nheaders headers (Content-Type among them,
 * if any; the values must live as long as r).  Resets sub and sets sub->sr.
 * Once the subrequest is over, sub->done is set and the parent's write
 * event handler runs; sub->error then means an oversized answer or an
 * internal failure of the subrequest, sub->rc the first special response
 * code.  background: a background subrequest, which lives on when the
 * client goes away (the parent is still woken when it is over; the
 * parent's read handler decides what a client close does meanwhile).
 * NGX_ERROR: no memory.
 */
ngx_int_t ngx_http_kpn_subrequest_post(ngx_http_request_t *r,
    ngx_http_kpn_subrequest_t *sub, ngx_str_t *uri, ngx_str_t *args,
    ngx_str_t *body, ngx_keyval_t *headers, ngx_uint_t nheaders,
    ngx_str_t *token, ngx_uint_t background);

/* the in-memory answer of a finished subrequest (empty if none) */
void ngx_http_kpn_subrequest_answer(ngx_http_request_t *sr, ngx_str_t *body);

/*
 * Installs the body filter that caps the answers (postconfiguration of
 * the module that starts subrequests); get finds their state.
 */
ngx_int_t ngx_http_kpn_subrequest_init(ngx_conf_t *cf,
    ngx_http_kpn_subrequest_get_pt get);


#endif /* _NGX_HTTP_KPN_SUBREQUEST_H_INCLUDED_ */
