
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Text and JSON input, without HTTP: the error object (status, code, a
 * message safe for a JSON string and a log line), quoting input in a
 * message, hex digits, the strict JSON loader.  The fuzz harnesses link
 * this file as it is.
 */


#include "ngx_http_kpn_json.h"


#define NGX_HTTP_KPN_ERROR_MESSAGE_MAX  512


/*
 * jansson's allocator.  jansson has one process-wide pair of memory
 * functions; the module installs its own pair (the first time it parses),
 * which hands every call over to the pair it replaced (malloc and free, or
 * those of another jansson user that installed its own before), except
 * during a parse of ngx_http_kpn_json_load(): for the span of json_loadb()
 * the thread's current span names a pool, and every jansson allocation of
 * that thread is taken from the pool, after a tag word.
 * The free function ignores memory that carries the current span's tag
 * (the pool frees it), and hands anything else to the replaced free
 * function.
 *
 * Such a document is never freed by json_decref(): ngx_http_kpn_json_load()
 * registers no cleanup for it, and the module only reads it, so none of
 * its memory reaches the free function after the span.  Other jansson
 * users (another module, the fuzz harnesses' own documents, another
 * thread: the span is the thread's own) allocate and free through the
 * replaced pair as before.  If another user replaces the pair after the
 * module did, a parse sees it and falls back on jansson's allocator with a
 * json_decref() cleanup, as it did before.
 */

/* "kpnjson!", xor the pool's address */
#define NGX_HTTP_KPN_JSON_TAG  ((uintptr_t) 0x6b706e6a736f6e21)

/*
 * A span allocates from chunks of the pool, a few allocations of the pool
 * for a pack instead of one for each of jansson's values: the first chunk
 * holds about what jansson needs for a document of the body's size (a
 * bit over 6 KB for the 402-byte pack of docs/benchmarks.md).  Under
 * AddressSanitizer (the fuzz harnesses) every allocation is a pool
 * allocation of its own, so that the sanitizer sees each one's bounds.
 */

#define NGX_HTTP_KPN_JSON_CHUNK_PER_BYTE  24
#define NGX_HTTP_KPN_JSON_CHUNK_MIN       1024
#define NGX_HTTP_KPN_JSON_CHUNK_MAX       16384

#if defined(__SANITIZE_ADDRESS__)
#define NGX_HTTP_KPN_JSON_ASAN  1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NGX_HTTP_KPN_JSON_ASAN  1
#endif
#endif

typedef struct {
    ngx_pool_t                *pool;
    uintptr_t                  tag;
    u_char                    *pos;      /* the free part of the chunk */
    u_char                    *last;
    size_t                     chunk;    /* the size of a chunk */
} ngx_http_kpn_json_span_t;


static void *ngx_http_kpn_json_malloc(size_t size);
static void ngx_http_kpn_json_free(void *p);
static ngx_uint_t ngx_http_kpn_json_install(void);
static void ngx_http_kpn_json_uninstall(void) __attribute__((destructor));
static void ngx_http_kpn_json_cleanup(void *data);


/*
 * The span of the parse under way in this thread, NULL outside: another
 * thread (one of a thread pool, say) may use jansson meanwhile and sees
 * none.  The initial-exec model makes every access one load relative to
 * the thread pointer, where a thread-local variable of a shared object is
 * otherwise a call (__tls_get_addr) for each of jansson's allocations;
 * its 8 bytes come from the static TLS that glibc keeps for the objects
 * loaded later, once per process (a reload's load_module opens the object
 * already loaded); a module that did not fit would fail to load, loudly.
 */
static __thread ngx_http_kpn_json_span_t  *ngx_http_kpn_json_span
    __attribute__((tls_model("initial-exec")));

static json_malloc_t  ngx_http_kpn_json_prev_malloc;
static json_free_t    ngx_http_kpn_json_prev_free;
static ngx_uint_t     ngx_http_kpn_json_installed;


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

        if (n > 0 && c <= 0x9f) {
            /* a C1 control */
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
ngx_http_kpn_error(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t status, char *code, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    err->status = status;
    err->allow = NULL;
    err->challenge = NULL;
    err->hint = NULL;
    err->code.data = (u_char *) code;
    err->code.len = ngx_strlen(code);

    p = ngx_pnalloc(pool, NGX_HTTP_KPN_ERROR_MESSAGE_MAX);
    if (p == NULL) {
        ngx_str_null(&err->message);
        return NGX_ERROR;
    }

    va_start(args, fmt);
    last = ngx_vslprintf(p, p + NGX_HTTP_KPN_ERROR_MESSAGE_MAX, fmt, args);
    va_end(args);

    /* the message goes into a JSON body and a log line: printable UTF-8 */

    err->message.data = p;
    err->message.len = ngx_http_kpn_printable(p, last - p);

    return NGX_DECLINED;
}



static ngx_int_t
ngx_http_kpn_hex_value(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = (u_char) (c | 0x20);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return NGX_ERROR;
}


ngx_int_t
ngx_http_kpn_hex_decode(u_char *dst, u_char *src, size_t len)
{
    size_t     i;
    ngx_int_t  hi, lo;

    if (len % 2) {
        return NGX_ERROR;
    }

    for (i = 0; i < len; i += 2) {
        hi = ngx_http_kpn_hex_value(src[i]);
        lo = ngx_http_kpn_hex_value(src[i + 1]);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
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
        if (ngx_http_kpn_hex_value(*p++) == NGX_ERROR) {
            return 0;
        }
    }

    return 1;
}


ngx_int_t
ngx_http_kpn_json_load(ngx_pool_t *pool, ngx_str_t *body, json_t **root,
    ngx_http_kpn_error_t *err)
{
    char                      *data;
    u_char                    *p;
    json_t                    *json;
    json_error_t               jerr;
    ngx_http_kpn_json_span_t   span;

    data = body->len ? (char *) body->data : "";

    if (ngx_http_kpn_json_install()) {
        span.pool = pool;
        span.tag = (uintptr_t) pool ^ NGX_HTTP_KPN_JSON_TAG;
        span.pos = NULL;
        span.last = NULL;
        span.chunk = ngx_min(ngx_max(body->len
                                     * NGX_HTTP_KPN_JSON_CHUNK_PER_BYTE,
                                     NGX_HTTP_KPN_JSON_CHUNK_MIN),
                             NGX_HTTP_KPN_JSON_CHUNK_MAX);

        /* a thread parses one body at a time: a span is never nested */

        ngx_http_kpn_json_span = &span;

        json = json_loadb(data, body->len, JSON_REJECT_DUPLICATES, &jerr);

        ngx_http_kpn_json_span = NULL;

    } else {
        span.pool = NULL;
        json = json_loadb(data, body->len, JSON_REJECT_DUPLICATES, &jerr);
    }

    if (json == NULL) {

        /* jansson may quote raw input bytes; keep the message printable */
        jerr.text[JSON_ERROR_TEXT_LENGTH - 1] = '\0';

        for (p = (u_char *) jerr.text; *p; p++) {
            if (*p < 0x20 || *p >= 0x7f) {
                *p = '?';
            }
        }

        if (jerr.line < 1) {
            return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                      "invalid_json", "%s", jerr.text);
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST,
                                  "invalid_json", "line %d column %d: %s",
                                  jerr.line, jerr.column, jerr.text);
    }

    /* pool memory is freed with the pool; jansson's memory needs a decref */

    if (span.pool == NULL
        && ngx_http_kpn_json_cleanup_add(pool, json) != NGX_OK)
    {
        return NGX_ERROR;
    }

    *root = json;

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_json_load_as(ngx_pool_t *pool, ngx_str_t *body, json_type type,
    char *code, char *message, json_t **root, ngx_http_kpn_error_t *err)
{
    ngx_int_t  rc;

    rc = ngx_http_kpn_json_load(pool, body, root, err);
    if (rc != NGX_OK) {
        return rc;
    }

    if (json_typeof(*root) != type) {
        return ngx_http_kpn_error(pool, err, NGX_HTTP_BAD_REQUEST, code,
                                  "%s", message);
    }

    return NGX_OK;
}


/*
 * Installs the module's pair of memory functions once; tells whether they
 * are jansson's now (another jansson user may have replaced them since).
 */

static ngx_uint_t
ngx_http_kpn_json_install(void)
{
    json_malloc_t  m;
    json_free_t    f;

    json_get_alloc_funcs(&m, &f);

    if (m == ngx_http_kpn_json_malloc && f == ngx_http_kpn_json_free) {
        return 1;
    }

    if (ngx_http_kpn_json_installed) {
        return 0;
    }

    ngx_http_kpn_json_prev_malloc = m;
    ngx_http_kpn_json_prev_free = f;
    ngx_http_kpn_json_installed = 1;

    json_set_alloc_funcs(ngx_http_kpn_json_malloc, ngx_http_kpn_json_free);

    return 1;
}


/*
 * When the module is unloaded (a reload without it in single-process
 * mode), jansson must not keep pointers into its code.  Memory allocated
 * outside a span came from the replaced functions; none of a span's
 * memory is left, as the requests of the module are gone.
 */

static void
ngx_http_kpn_json_uninstall(void)
{
    json_malloc_t  m;
    json_free_t    f;

    if (!ngx_http_kpn_json_installed) {
        return;
    }

    json_get_alloc_funcs(&m, &f);

    if (m == ngx_http_kpn_json_malloc && f == ngx_http_kpn_json_free) {
        json_set_alloc_funcs(ngx_http_kpn_json_prev_malloc,
                             ngx_http_kpn_json_prev_free);
    }
}


static void *
ngx_http_kpn_json_malloc(size_t size)
{
    size_t                     n;
    uintptr_t                 *p;
    ngx_http_kpn_json_span_t  *span;

    span = ngx_http_kpn_json_span;

    if (span == NULL) {
        return ngx_http_kpn_json_prev_malloc(size);
    }

    /* the tag word, then the value, aligned as a pool allocation (8 bytes) */

    if (size > NGX_MAX_SIZE_T_VALUE / 2) {
        return NULL;
    }

    n = sizeof(uintptr_t) + ngx_align(size, sizeof(uintptr_t));

#if (NGX_HTTP_KPN_JSON_ASAN)

    p = ngx_palloc(span->pool, n);
    if (p == NULL) {
        return NULL;
    }

#else

    if ((size_t) (span->last - span->pos) < n) {

        if (n > span->chunk / 4) {
            /* a long string: a pool allocation of its own */

            p = ngx_palloc(span->pool, n);
            if (p == NULL) {
                return NULL;
            }

            *p = span->tag;
            return p + 1;
        }

        span->pos = ngx_palloc(span->pool, span->chunk);
        if (span->pos == NULL) {
            return NULL;
        }

        span->last = span->pos + span->chunk;
    }

    p = (uintptr_t *) span->pos;
    span->pos += n;

#endif

    *p = span->tag;

    return p + 1;
}


static void
ngx_http_kpn_json_free(void *p)
{
    ngx_http_kpn_json_span_t  *span;

    span = ngx_http_kpn_json_span;

    /*
     * jansson never passes NULL; in a span, its frees are of what it
     * allocated in the span (temporary buffers, values of a document it
     * gives up on): left to the pool
     */

    if (span && ((uintptr_t *) p)[-1] == span->tag) {
        return;
    }

    ngx_http_kpn_json_prev_free(p);
}


static void
ngx_http_kpn_json_cleanup(void *data)
{
    json_t  *json = data;

    json_decref(json);
}


ngx_int_t
ngx_http_kpn_json_cleanup_add(ngx_pool_t *pool, json_t *json)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        json_decref(json);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_kpn_json_cleanup;
    cln->data = json;

    return NGX_OK;
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

        } else if (!ngx_http_kpn_is_hex(&p[k], 1)) {
            return 0;
        }
    }

    return 1;
}


void
ngx_http_kpn_upper(u_char *dst, u_char *src, size_t len)
{
    while (len--) {
        *dst++ = ngx_toupper(*src);
        src++;
    }
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
