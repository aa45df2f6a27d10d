
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * jansson's tree as the fuzz oracles read it (see oracle_json.h).
 */


#include "oracle_json.h"


ngx_int_t
ngx_http_kpn_json_load_as(ngx_pool_t *pool, ngx_str_t *body, json_type type,
    ngx_uint_t outcome, char *message, json_t **root, ngx_http_kpn_error_t *err)
{
    ngx_int_t  rc;

    rc = ngx_http_kpn_json_load(pool, body, root, err);
    if (rc != NGX_OK) {
        return rc;
    }

    if (json_typeof(*root) != type) {
        return ngx_http_kpn_raise(pool, err, outcome, NGX_HTTP_BAD_REQUEST,
                                  "%s", message);
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_json_integer(json_t *v, int64_t min, int64_t max, int64_t *out)
{
    double      d;
    json_int_t  i;

    if (json_is_integer(v)) {
        i = json_integer_value(v);

        if (i < min || i > max) {
            return NGX_DECLINED;
        }

        *out = i;
        return NGX_OK;
    }

    if (!json_is_real(v)) {
        return NGX_DECLINED;
    }

    /* the range first: the cast of a real out of range is undefined */

    d = json_real_value(v);

    if (!(d >= (double) min && d <= (double) max)
        || d != (double) (int64_t) d)
    {
        return NGX_DECLINED;
    }

    *out = (int64_t) d;

    return NGX_OK;
}
