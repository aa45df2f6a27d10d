
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Text helpers, without HTTP and without JSON: UTF-8 decoding (for the
 * message sanitiser, the SenML reader and the downlink's JSON escaping),
 * the sanitiser, quoting input in a message, hex (table-driven), UUIDs,
 * base64, upper case.  The fuzz harnesses link this file as it is.
 */


#include "ngx_http_kpn_text.h"


/* the value of a hex digit, either case; NN: not one */

#define NN  0xff

static const u_char  ngx_http_kpn_hex[256] = {
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
     0,  1,  2,  3,  4,  5,  6,  7,  8,  9, NN, NN, NN, NN, NN, NN,
    NN, 10, 11, 12, 13, 14, 15, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, 10, 11, 12, 13, 14, 15, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN,
    NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN, NN
};


ngx_int_t
ngx_http_kpn_utf8_decode(u_char *p, size_t n, uint32_t *cp)
{
    size_t    len, i;
    uint32_t  c, min;

    if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4; c = p[0] & 0x07; min = 0x10000;

    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3; c = p[0] & 0x0f; min = 0x800;

    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2; c = p[0] & 0x1f; min = 0x80;

    } else {
        return 0;
    }

    for (i = 1; i < len; i++) {
        if (i == n) {
            return -1;
        }

        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (p[i] & 0x3f);
    }

    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }

    *cp = c;

    return len;
}


/*
 * The characters beyond ASCII that a log line or a JSON string must not
 * carry as they are: C1 controls (U+0085 is a line break to some
 * readers), U+2028 and U+2029 (line and paragraph separators), the
 * bidirectional controls (U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069: they reorder what a terminal or log viewer shows, so
 * that a line reads other than it is), the zero-width characters and the
 * byte order mark (U+200B..U+200D, U+2060..U+2064, U+FEFF) and the
 * interlinear annotation marks (U+FFF9..U+FFFB).
 */

static ngx_inline ngx_uint_t
ngx_http_kpn_invisible(uint32_t c)
{
    return c <= 0x9f
           || c == 0x061c
           || (c >= 0x200b && c <= 0x200f)
           || (c >= 0x2028 && c <= 0x202e)
           || (c >= 0x2060 && c <= 0x2064)
           || (c >= 0x2066 && c <= 0x2069)
           || c == 0xfeff
           || (c >= 0xfff9 && c <= 0xfffb);
}


size_t
ngx_http_kpn_printable(u_char *p, size_t len)
{
    u_char     *s, *last;
    uint32_t    c;
    ngx_int_t   n;

    last = p + len;

    for (s = p; s < last; /* void */) {

        if (*s < 0x80) {
            if (*s < 0x20 || *s == 0x7f) {
                *s = '?';
            }

            s++;
            continue;
        }

        n = ngx_http_kpn_utf8_decode(s, last - s, &c);

        if (n > 0 && ngx_http_kpn_invisible(c)) {
            /* a C1 control, a line break or a format character */
            n = 0;
        }

        if (n == -1) {
            /* a character cut at the end (truncation): dropped */
            return s - p;
        }

        if (n == 0) {
            /* not UTF-8 (Latin-1 and the like), a surrogate, a C1 control */
            *s++ = '?';
            continue;
        }

        s += n;
    }

    return len;
}


void
ngx_http_kpn_echo(ngx_str_t *in, size_t max, ngx_str_t *out, ngx_uint_t *cut)
{
    size_t  len;

    len = in->len;
    *cut = 0;

    if (len > max) {
        len = max;

        /* back to the start of a character: at most 3 continuation bytes */

        while (len > max - 3 && len > 0 && (in->data[len] & 0xc0) == 0x80) {
            len--;
        }

        *cut = 1;
    }

    out->data = in->data;
    out->len = len;
}


ngx_int_t
ngx_http_kpn_hex_decode(u_char *dst, u_char *src, size_t len)
{
    u_char  hi, lo;
    size_t  i;

    if (len % 2) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i += 2) {
        hi = ngx_http_kpn_hex[src[i]];
        lo = ngx_http_kpn_hex[src[i + 1]];

        /* a digit is 0..15: NN has the high bits */

        if ((hi | lo) & 0xf0) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) (hi << 4 | lo);
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_kpn_is_hex(u_char *p, size_t len)
{
    while (len--) {
        if (ngx_http_kpn_hex[*p++] == NN) {
            return 0;
        }
    }

    return 1;
}


ngx_uint_t
ngx_http_kpn_is_uuid(u_char *p, size_t len)
{
    size_t  k;

    if (len != 36) {
        return 0;
    }

    for (k = 0; k < len; k++) {
        if (k == 8 || k == 13 || k == 18 || k == 23) {
            if (p[k] != '-') {
                return 0;
            }

        } else if (ngx_http_kpn_hex[p[k]] == NN) {
            return 0;
        }
    }

    return 1;
}


/*
 * RFC 8428 says base64url without padding; KPN sends standard base64
 * with padding.  Both alphabets are accepted, padding is optional.
 */

ngx_uint_t
ngx_http_kpn_is_base64(u_char *p, size_t len)
{
    u_char  c;
    size_t  k, pad;

    pad = 0;

    for (k = 0; k < len; k++) {
        c = p[k];

        if (c == '=') {
            pad++;
            continue;
        }

        if (pad) {
            return 0;
        }

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '+' || c == '/' || c == '-' || c == '_')
        {
            continue;
        }

        return 0;
    }

    if (pad > 2) {
        return 0;
    }

    if (pad) {
        return (len % 4 == 0);
    }

    return (len % 4 != 1);
}


void
ngx_http_kpn_upper(u_char *dst, u_char *src, size_t len)
{
    while (len--) {
        *dst++ = ngx_toupper(*src);
        src++;
    }
}
