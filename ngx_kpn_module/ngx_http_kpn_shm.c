
/*
 * Copyright (C) ngx_kpn_module developers
 */


#include "ngx_http_kpn_shm.h"
