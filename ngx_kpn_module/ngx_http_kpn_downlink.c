
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * PLACEHOLDER: the downlink module is being written; this file only
 * defines the module so that the tree builds.
 */


#include "ngx_http_kpn_downlink.h"


static ngx_http_module_t  ngx_http_kpn_downlink_module_ctx = {
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};


ngx_module_t  ngx_http_kpn_downlink_module = {
    NGX_MODULE_V1,
    &ngx_http_kpn_downlink_module_ctx,
    NULL,
    NGX_HTTP_MODULE,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NGX_MODULE_V1_PADDING
};
