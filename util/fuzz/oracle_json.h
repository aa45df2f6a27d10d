
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * What the fuzz oracles (senml_oracle.c, command_oracle.c) read jansson's
 * trees with: the module's own parsers left jansson, these stay for the
 * references the new parsers are compared with.  Not part of the module.
 */


#ifndef _ORACLE_JSON_H_INCLUDED_
#define _ORACLE_JSON_H_INCLUDED_


#include "ngx_http_kpn_json.h"


/*
 * A JSON number that is an integer from min to max, written as one or as
 * an integral real (1.0): NGX_OK with *out, else NGX_DECLINED.  min and
 * max within +-2^53, where every integer is exact in a double.
 */
ngx_int_t ngx_http_kpn_json_integer(json_t *v, int64_t min, int64_t max,
    int64_t *out);

/*
 * The same, and the document must be of type (JSON_ARRAY, JSON_OBJECT):
 * else NGX_DECLINED with err 400 code "message".
 */
ngx_int_t ngx_http_kpn_json_load_as(ngx_pool_t *pool, ngx_str_t *body,
    json_type type, ngx_uint_t outcome, char *message, json_t **root,
    ngx_http_kpn_error_t *err);


#endif /* _ORACLE_JSON_H_INCLUDED_ */
