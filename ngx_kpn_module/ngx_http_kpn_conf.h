
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Configuration-time helpers shared by both modules.
 */


#ifndef _NGX_HTTP_KPN_CONF_H_INCLUDED_
#define _NGX_HTTP_KPN_CONF_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Reads a file of one entry per line at configuration time: blank lines
 * and lines starting with '#' are skipped, surrounding white space and
 * CR are trimmed.  Appends ngx_str_t entries to *lines (created when
 * NULL).  Fails (EMERG, naming the directive) when the file cannot be
 * read or holds no entry.  Contents are never logged.
 */
char *ngx_http_kpn_conf_read_lines(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *file, ngx_array_t **lines);

/*
 * The zone=NAME:SIZE argument of directive cmd (size != NULL: the size is
 * required, at least 8 pages, as for limit_req_zone) or zone=NAME (size
 * NULL: a zone declared elsewhere).  A bad one is logged (EMERG, naming
 * the directive): NGX_ERROR.
 */
ngx_int_t ngx_http_kpn_conf_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *arg, ngx_str_t *name, ssize_t *size);


#endif /* _NGX_HTTP_KPN_CONF_H_INCLUDED_ */
