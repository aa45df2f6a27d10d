
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The fuzz harness's oracle: the downlink command's parse before the
 * module's own reader, on jansson (util/fuzz/command_oracle.c).
 */


#ifndef _COMMAND_ORACLE_H_INCLUDED_
#define _COMMAND_ORACLE_H_INCLUDED_


#include "ngx_http_kpn_command.h"


/* ngx_http_kpn_command_parse() as it was: the same contract */
ngx_int_t ngx_http_kpn_command_oracle(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err);


#endif /* _COMMAND_ORACLE_H_INCLUDED_ */
