
/*
 * Copyright (C) ngx_kpn_module developers
 */


#ifndef _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_
#define _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_


#include "ngx_http_kpn_module.h"


#endif /* _NGX_HTTP_KPN_DOWNLINK_H_INCLUDED_ */
