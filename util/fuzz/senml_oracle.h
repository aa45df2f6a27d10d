
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The fuzz harness's oracle: the SenML parse before the module's own
 * reader, on jansson (util/fuzz/senml_oracle.c).
 */


#ifndef _SENML_ORACLE_H_INCLUDED_
#define _SENML_ORACLE_H_INCLUDED_


#include "ngx_http_kpn_senml.h"


/* ngx_http_kpn_senml_parse() as it was: the same contract */
ngx_int_t ngx_http_kpn_oracle_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_records, ngx_http_kpn_senml_t *pack,
    ngx_http_kpn_error_t *err);


#endif /* _SENML_ORACLE_H_INCLUDED_ */
