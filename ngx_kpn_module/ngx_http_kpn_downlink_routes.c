
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * kpn_endpoint, and the check at nginx -t that kpn_token_uri and
 * kpn_downlink_uri land in the locations marked for them, found as nginx's
 * find-config phase finds a request's location; at run time, the rewrite
 * phase handler that ends a subrequest of ours anywhere else.
 */


#include "ngx_http_kpn_downlink_module.h"
#include "ngx_http_kpn_downlink.h"
#include "ngx_http_kpn_conf.h"


static ngx_int_t ngx_http_kpn_downlink_find_location(ngx_str_t *uri,
    ngx_http_core_loc_conf_t **clcf);
static ngx_int_t ngx_http_kpn_downlink_find_static(
    ngx_http_location_tree_node_t *node, ngx_str_t *uri,
    ngx_http_core_loc_conf_t **clcf);


/* uri must land in an exact location with "kpn_endpoint <endpoint>" */

ngx_int_t
ngx_http_kpn_downlink_check_route(ngx_conf_t *cf,
    ngx_http_core_loc_conf_t *server, ngx_str_t *uri, ngx_uint_t endpoint,
    ngx_http_kpn_downlink_pos_t *pos)
{
    char                              *what, *kind, *name;
    ngx_str_t                          none = ngx_null_string;
    ngx_int_t                          rc;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;

    clcf = server;

    rc = ngx_http_kpn_downlink_find_location(uri, &clcf);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"%s\" \"%V\": a regular expression of a location "
                      "failed to run in %V:%ui",
                      endpoint == NGX_HTTP_KPN_ENDPOINT_TOKEN
                      ? "kpn_token_uri" : "kpn_downlink_uri",
                      uri, &pos->file, pos->line);
        return NGX_ERROR;
    }

    /* the server's own conf, when nothing matched, has no loc_conf */

    if (clcf != server && clcf->exact_match) {
        dlcf = clcf->loc_conf[ngx_http_kpn_downlink_module.ctx_index];

        if (dlcf->endpoint == endpoint) {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                           "kpn endpoint \"%V\" is location \"%V\"",
                           uri, &clcf->name);
            return NGX_OK;
        }
    }

    if (endpoint == NGX_HTTP_KPN_ENDPOINT_TOKEN) {
        what = "kpn_token_uri";
        kind = "token";

    } else {
        what = "kpn_downlink_uri";
        kind = "api";
    }

    name = clcf == server ? "no location" : "location ";

#if (NGX_PCRE)
    if (clcf->regex) {
        name = "location ~ ";
    }
#endif

    if (clcf->exact_match) {
        name = "location = ";

    } else if (clcf->noregex) {
        name = "location ^~ ";
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "\"%s\" \"%V\" lands in %s%V, not in a location with "
                  "\"kpn_endpoint %s\" (an exact, internal location): "
                  "the %s would go there in %V:%ui",
                  what, uri, name, clcf == server ? &none : &clcf->name, kind,
                  endpoint == NGX_HTTP_KPN_ENDPOINT_TOKEN
                  ? "client secret" : "access token",
                  &pos->file, pos->line);

    return NGX_ERROR;
}


/*
 * The location that a subrequest for uri lands in, found at configuration
 * time the way nginx's find-config phase finds a request's: in the static
 * tree of the level *clcf, where an exact match ends the search and the
 * longest prefix is searched again for nested locations; then, unless that
 * prefix is "^~", the regular expressions of the level in their order.
 * *clcf is left alone when nothing matches.  The return codes are those of
 * that search: NGX_OK (exact, or a regular expression), NGX_DONE (a
 * redirect to uri + "/"), NGX_AGAIN / NGX_DECLINED (a prefix, or none).
 */

static ngx_int_t
ngx_http_kpn_downlink_find_location(ngx_str_t *uri,
    ngx_http_core_loc_conf_t **clcf)
{
    ngx_int_t                  rc;
    ngx_http_core_loc_conf_t  *level;
#if (NGX_PCRE)
    ngx_int_t                  n;
    ngx_uint_t                 noregex;
    ngx_http_core_loc_conf_t **re;

    noregex = 0;
#endif

    level = *clcf;

    rc = ngx_http_kpn_downlink_find_static(level->static_locations, uri,
                                           clcf);

    if (rc == NGX_AGAIN) {
#if (NGX_PCRE)
        noregex = (*clcf)->noregex;
#endif
        rc = ngx_http_kpn_downlink_find_location(uri, clcf);
    }

    if (rc == NGX_OK || rc == NGX_DONE || rc == NGX_ERROR) {
        return rc;
    }

#if (NGX_PCRE)
    if (noregex || level->regex_locations == NULL) {
        return rc;
    }

    for (re = level->regex_locations; *re; re++) {
        n = ngx_regex_exec((*re)->regex->regex, uri, NULL, 0);

        if (n == NGX_REGEX_NO_MATCHED) {
            continue;
        }

        if (n < 0) {
            return NGX_ERROR;
        }

        *clcf = *re;

        rc = ngx_http_kpn_downlink_find_location(uri, clcf);

        return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
    }
#endif

    return rc;
}


/* the static tree of one level: see ngx_http_kpn_downlink_find_location() */

static ngx_int_t
ngx_http_kpn_downlink_find_static(ngx_http_location_tree_node_t *node,
    ngx_str_t *uri, ngx_http_core_loc_conf_t **clcf)
{
    size_t      len, n;
    u_char     *p;
    ngx_int_t   rc, found;

    p = uri->data;
    len = uri->len;
    found = NGX_DECLINED;

    while (node) {

        n = ngx_min(len, (size_t) node->len);

        rc = ngx_filename_cmp(p, node->name, n);

        if (rc != 0) {
            node = (rc < 0) ? node->left : node->right;
            continue;
        }

        if (len > (size_t) node->len) {

            /* a prefix of uri: the longest one wins, look further in */

            if (node->inclusive) {
                *clcf = node->inclusive;
                found = NGX_AGAIN;
                p += n;
                len -= n;
                node = node->tree;
                continue;
            }

            node = node->right;
            continue;
        }

        if (len == (size_t) node->len) {
            if (node->exact) {
                *clcf = node->exact;
                return NGX_OK;
            }

            *clcf = node->inclusive;
            return NGX_AGAIN;
        }

        /* uri is shorter: "/a" for "location /a/" redirects to "/a/" */

        if (len + 1 == (size_t) node->len && node->auto_redirect) {
            *clcf = node->exact ? node->exact : node->inclusive;
            found = NGX_DONE;
        }

        node = node->left;
    }

    return found;
}


/*
 * kpn_endpoint token | api: this location is where kpn_token_uri
 * (the client secret) or kpn_downlink_uri (the access token) may go; an
 * exact location (checked here) and internal (checked at the merge, as
 * "internal" may follow)
 */

char *
ngx_http_kpn_downlink_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_kpn_downlink_loc_conf_t *dlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (dlcf->endpoint) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "token") == 0) {
        dlcf->endpoint = NGX_HTTP_KPN_ENDPOINT_TOKEN;

    } else if (ngx_strcmp(value[1].data, "api") == 0) {
        dlcf->endpoint = NGX_HTTP_KPN_ENDPOINT_API;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\", expected "
                           "\"token\" or \"api\"", &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (!clcf->exact_match || clcf->named) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must be in an exact location "
                           "(\"location = /uri\"), not in \"%V\"",
                           &cmd->name, &clcf->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_kpn_downlink_pos(cf, &dlcf->endpoint_pos) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * In the rewrite phase of every location (the first handler of the
 * phase, before "rewrite" and "return"; the access phase is not run for
 * subrequests): a token or downlink subrequest of ours that has landed in
 * a location without the kpn_endpoint it needs (a rewrite, an internal
 * redirect, a changed configuration the checks of nginx -t could not
 * see) is ended here, before proxy_pass connects anywhere.  The parent
 * answers 502 and logs it, once.  An error_page of the endpoint's own
 * failure is ended too, with that failure's status.
 */

ngx_int_t
ngx_http_kpn_downlink_endpoint_handler(ngx_http_request_t *r)
{
    ngx_http_kpn_downlink_ctx_t       *ctx;
    ngx_http_kpn_downlink_loc_conf_t  *dlcf;
    ngx_http_core_loc_conf_t          *clcf;

    if (r == r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_kpn_downlink_module);

    if (ctx == NULL || ctx->sub.sr != r) {
        return NGX_DECLINED;
    }

    dlcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_downlink_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (dlcf->endpoint == ctx->endpoint && clcf->exact_match) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn endpoint: \"%V\"", &clcf->name);
        ctx->reached = 1;
        return NGX_DECLINED;
    }

    /*
     * an error_page after the endpoint itself failed (a server-level
     * "error_page 502 504 /50x.html;" when KPN timed out): the request
     * went to the endpoint, and it goes nowhere else; the parent answers
     * the endpoint's failure (r->err_status, 502 when an "=code" has
     * replaced it), not "reached another location, not sent"
     */

    if (ctx->reached && r->error_page) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "kpn endpoint: error_page \"%V\" after the endpoint "
                       "failed (%ui), not followed", &clcf->name,
                       r->err_status);

        return r->err_status >= NGX_HTTP_SPECIAL_RESPONSE
               ? (ngx_int_t) r->err_status : NGX_HTTP_BAD_GATEWAY;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "kpn endpoint: \"%V\" is not kpn_endpoint %ui, refused",
                   &clcf->name, ctx->endpoint);

    ctx->misrouted = 1;

    /* an internal failure of the subrequest: the parent answers */

    return NGX_ERROR;
}
