
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Just enough of the nginx core to run the module's files without HTTP
 * (ngx_http_kpn_json.c, senml.c, device.c, envelope.c, token.c,
 * command.c) outside nginx, with only the nginx headers (nginx-dev) at
 * hand: the fuzz harnesses and the check driver link these stand-ins.
 * The pool mallocs every allocation separately so that AddressSanitizer
 * sees each one's bounds.  ngx_vslprintf() knows the conversions the
 * module uses and aborts on any other.  No HTTP or configuration
 * function is stubbed: those files call none.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    ngx_pool_t  *pool;

    pool = calloc(1, sizeof(ngx_pool_t));
    if (pool == NULL) {
        return NULL;
    }

    pool->log = log;

    return pool;
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    ngx_pool_large_t    *l, *ln;
    ngx_pool_cleanup_t  *c, *cn;

    for (c = pool->cleanup; c; c = cn) {
        cn = c->next;

        if (c->handler) {
            c->handler(c->data);
        }

        free(c);
    }

    for (l = pool->large; l; l = ln) {
        ln = l->next;
        free(l->alloc);
        free(l);
    }

    free(pool);
}


void *
ngx_palloc(ngx_pool_t *pool, size_t size)
{
    ngx_pool_large_t  *l;

    l = malloc(sizeof(ngx_pool_large_t));
    if (l == NULL) {
        return NULL;
    }

    /* malloc(0) may return NULL: a pool never does */
    l->alloc = malloc(size ? size : 1);
    if (l->alloc == NULL) {
        free(l);
        return NULL;
    }

    l->next = pool->large;
    pool->large = l;

    return l->alloc;
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    return ngx_palloc(pool, size);
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    void  *p;

    p = ngx_palloc(pool, size);
    if (p) {
        ngx_memzero(p, size);
    }

    return p;
}


ngx_pool_cleanup_t *
ngx_pool_cleanup_add(ngx_pool_t *p, size_t size)
{
    ngx_pool_cleanup_t  *c;

    c = calloc(1, sizeof(ngx_pool_cleanup_t));
    if (c == NULL) {
        return NULL;
    }

    if (size) {
        c->data = ngx_palloc(p, size);
        if (c->data == NULL) {
            free(c);
            return NULL;
        }
    }

    c->next = p->cleanup;
    p->cleanup = c;

    return c;
}


u_char *
ngx_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    char        spec[8], tmp[64];
    u_char     *s;
    size_t      len, n;
    int64_t     i64;
    uint64_t    u64;
    ngx_str_t  *v;
    ngx_uint_t  hex, sign, star, lng;

    while (*fmt && buf < last) {

        if (*fmt != '%') {
            *buf++ = *fmt++;
            continue;
        }

        fmt++;
        hex = 0;
        sign = 1;
        star = 0;
        len = (size_t) -1;
        lng = 0;

        for ( ;; ) {
            if (*fmt == 'u') {
                sign = 0;
            } else if (*fmt == 'x') {
                hex = 1;
                sign = 0;
            } else if (*fmt == '*') {
                star = 1;
                len = va_arg(args, size_t);
            } else {
                break;
            }
            fmt++;
        }

        s = NULL;

        switch (*fmt++) {

        case 'V':
            v = va_arg(args, ngx_str_t *);
            s = v->data;
            len = v->len;
            break;

        case 's':
            s = va_arg(args, u_char *);
            if (!star) {
                len = ngx_strlen(s);
            }
            break;

        case 'c':
            tmp[0] = (char) va_arg(args, int);
            s = (u_char *) tmp;
            len = 1;
            break;

        case '%':
            s = (u_char *) "%";
            len = 1;
            break;

        case 'i':
            if (sign) {
                i64 = va_arg(args, ngx_int_t);
            } else {
                u64 = va_arg(args, ngx_uint_t);
            }
            lng = 1;
            break;

        case 'd':
            if (sign) {
                i64 = va_arg(args, int);
            } else {
                u64 = va_arg(args, u_int);
            }
            lng = 1;
            break;

        case 'z':
            if (sign) {
                i64 = va_arg(args, ssize_t);
            } else {
                u64 = va_arg(args, size_t);
            }
            lng = 1;
            break;

        case 'L':
            if (sign) {
                i64 = va_arg(args, int64_t);
            } else {
                u64 = va_arg(args, uint64_t);
            }
            lng = 1;
            break;

        case 'T':
            i64 = va_arg(args, time_t);
            sign = 1;
            lng = 1;
            break;

        default:
            /* a conversion the module is not expected to use */
            abort();
        }

        if (lng) {
            n = 0;
            spec[n++] = '%';
            spec[n++] = 'l';
            spec[n++] = 'l';
            spec[n++] = hex ? 'x' : (sign ? 'd' : 'u');
            spec[n] = '\0';

            if (sign) {
                snprintf(tmp, sizeof(tmp), spec, (long long) i64);
            } else {
                snprintf(tmp, sizeof(tmp), spec, (unsigned long long) u64);
            }

            s = (u_char *) tmp;
            len = ngx_strlen(tmp);
        }

        n = ngx_min(len, (size_t) (last - buf));

        if (n) {
            buf = ngx_cpymem(buf, s, n);
        }
    }

    return buf;
}


u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, (void *) -1, fmt, args);
    va_end(args);

    return p;
}


u_char * ngx_cdecl
ngx_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + max, fmt, args);
    va_end(args);

    return p;
}


void
ngx_strlow(u_char *dst, u_char *src, size_t n)
{
    while (n--) {
        *dst++ = ngx_tolower(*src);
        src++;
    }
}


ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    return strncasecmp((char *) s1, (char *) s2, n);
}


void
ngx_explicit_memzero(void *buf, size_t n)
{
    explicit_bzero(buf, n);
}


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
}


#if (NGX_DEBUG)

void
ngx_log_debug_core(ngx_log_t *log, ngx_err_t err, const char *fmt, ...)
{
}

#endif


/*
 * nginx's JSON escaping, written for the harness (nginx-dev has no core
 * sources): '"' and '\\' escaped, \b \f \n \r \t, other control
 * characters as \u00XX with upper-case hex, the rest as is; with dst NULL,
 * the number of bytes the escaping adds.
 */

uintptr_t
ngx_escape_json(u_char *dst, u_char *src, size_t size)
{
    u_char         c;
    uintptr_t      n;
    static u_char  hex[] = "0123456789ABCDEF";
    static char    shorts[] = { ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
                                ['\r'] = 'r', ['\t'] = 't', [0x1f] = 0 };

    n = 0;

    while (size--) {
        c = *src++;

        if (c >= 0x20 && c != '"' && c != '\\') {
            if (dst) {
                *dst++ = c;
            }

            continue;
        }

        if (dst == NULL) {
            n += (c >= 0x20 || shorts[c]) ? 1 : sizeof("\\u0000") - 2;
            continue;
        }

        *dst++ = '\\';

        if (c >= 0x20) {
            *dst++ = c;

        } else if (shorts[c]) {
            *dst++ = shorts[c];

        } else {
            *dst++ = 'u';
            *dst++ = '0';
            *dst++ = '0';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0xf];
        }
    }

    return dst ? (uintptr_t) dst : n;
}


/*
 * A stand-in for the one escape type the module uses
 * (NGX_ESCAPE_URI_COMPONENT): every byte but the unreserved ones of RFC
 * 3986 becomes %XX.  nginx's table leaves a few more bytes as they are;
 * the harness checks only that the result is URI-safe.
 */

uintptr_t
ngx_escape_uri(u_char *dst, u_char *src, size_t size, ngx_uint_t type)
{
    u_char      c;
    uintptr_t   n;
    static u_char  hex[] = "0123456789ABCDEF";

    if (type != NGX_ESCAPE_URI_COMPONENT) {
        abort();
    }

    n = 0;

    while (size--) {
        c = *src++;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '~')
        {
            if (dst) {
                *dst++ = c;
            }

            continue;
        }

        if (dst) {
            *dst++ = '%';
            *dst++ = hex[c >> 4];
            *dst++ = hex[c & 0xf];
        }

        n++;
    }

    return dst ? (uintptr_t) dst : n;
}


/*
 * Base64 (RFC 4648, section 4, with padding), written for the harness as
 * nginx's ngx_encode_base64() behaves: dst->data holds
 * ngx_base64_encoded_length(src->len) bytes.
 */

void
ngx_encode_base64(ngx_str_t *dst, ngx_str_t *src)
{
    u_char         *d, *s;
    size_t          len;
    static u_char   basis[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    len = src->len;
    s = src->data;
    d = dst->data;

    while (len > 2) {
        *d++ = basis[(s[0] >> 2) & 0x3f];
        *d++ = basis[((s[0] & 3) << 4) | (s[1] >> 4)];
        *d++ = basis[((s[1] & 0x0f) << 2) | (s[2] >> 6)];
        *d++ = basis[s[2] & 0x3f];

        s += 3;
        len -= 3;
    }

    if (len) {
        *d++ = basis[(s[0] >> 2) & 0x3f];

        if (len == 1) {
            *d++ = basis[(s[0] & 3) << 4];
            *d++ = '=';

        } else {
            *d++ = basis[((s[0] & 3) << 4) | (s[1] >> 4)];
            *d++ = basis[(s[1] & 0x0f) << 2];
        }

        *d++ = '=';
    }

    dst->len = d - dst->data;
}
