
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The harnesses' reference for the envelope's numbers: the writer as it
 * was before the fast path for short reals, byte for byte.
 */


#ifndef _SENML_REFERENCE_H_INCLUDED_
#define _SENML_REFERENCE_H_INCLUDED_


#include "ngx_http_kpn_envelope.h"

#include <stdio.h>
#include <stdlib.h>


/*
 * The envelope's numbers against the writer they had before the fast
 * path for short reals (snprintf "%.15g", "%.16g", "%.17g" until strtod()
 * reads the value back), byte for byte.
 */

static u_char *
ngx_http_kpn_reference_number(u_char *p, ngx_http_kpn_senml_number_t *num)
{
    int      n, prec;
    char     buf[NGX_HTTP_KPN_SENML_NUMBER_LEN];
    u_char  *s, *e, *last;

    if (num->is_integer) {
        /* not nginx's "%L": it negates INT64_MIN as a signed value */
        n = snprintf(buf, sizeof(buf), "%lld", (long long) num->integer);
        return ngx_cpymem(p, buf, n);
    }

    for (prec = 15; ; prec++) {
        n = snprintf(buf, sizeof(buf), "%.*g", prec, num->real);

        if (n <= 0 || n >= (int) sizeof(buf) - 2) {
            return ngx_cpymem(p, "0.0", sizeof("0.0") - 1);
        }

        if (prec == 17 || strtod(buf, NULL) == num->real) {
            break;
        }
    }

    s = (u_char *) buf;
    last = s + n;

    e = ngx_strlchr(s, last, 'e');

    if (e == NULL) {
        p = ngx_cpymem(p, s, n);

        if (ngx_strlchr(s, last, '.') == NULL) {
            *p++ = '.';
            *p++ = '0';
        }

        return p;
    }

    p = ngx_cpymem(p, s, e + 1 - s);

    s = e + 1;

    if (*s == '-') {
        *p++ = '-';
        s++;

    } else if (*s == '+') {
        s++;
    }

    while (s < last - 1 && *s == '0') {
        s++;
    }

    return ngx_cpymem(p, s, last - s);
}


#endif /* _SENML_REFERENCE_H_INCLUDED_ */
