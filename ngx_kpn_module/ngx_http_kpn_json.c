
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * JSON input and the error object, without HTTP: the outcome table, the
 * error object (status, code, a message safe for a JSON string and a log
 * line), the strict JSON loader (jansson, with its own allocator: the
 * downlink's command and KPN's token answer; the uplink's pack has a reader
 * of its own), integers in a range.  The fuzz harnesses link this file as
 * it is.
 */


#include "ngx_http_kpn_json.h"
#include "ngx_http_kpn_text.h"


#define NGX_HTTP_KPN_ERROR_MESSAGE_MAX  512


static void ngx_http_kpn_json_cleanup(void *data);


/*
 * The outcome table of ngx_http_kpn_outcome.h, here with the error object
 * (the fuzz harnesses link this file as it is).
 */

#define ngx_http_kpn_uat_UD(name)  NGX_HTTP_KPN_U_##name
#define ngx_http_kpn_uat_U_(name)  NGX_HTTP_KPN_U_##name
#define ngx_http_kpn_uat__D(name)  NGX_HTTP_KPN_U_OTHER
#define ngx_http_kpn_uat___(name)  NGX_HTTP_KPN_U_OTHER
#define ngx_http_kpn_dat_UD(name)  NGX_HTTP_KPN_D_##name
#define ngx_http_kpn_dat_U_(name)  NGX_HTTP_KPN_D_OTHER
#define ngx_http_kpn_dat__D(name)  NGX_HTTP_KPN_D_##name
#define ngx_http_kpn_dat___(name)  NGX_HTTP_KPN_D_OTHER

#define ngx_http_kpn_outcome_code(name, code, status, alt, class, halves)    \
    char  ngx_http_kpn_code_##name[] = code;

NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_code)


#define ngx_http_kpn_outcome_entry(name, code, status, alt, class, halves)   \
    { { sizeof(code) - 1, (u_char *) ngx_http_kpn_code_##name },             \
      status, alt, NGX_HTTP_KPN_LOG_##class,                                 \
      ngx_http_kpn_uat_##halves(name), ngx_http_kpn_dat_##halves(name) },

ngx_http_kpn_outcome_t  ngx_http_kpn_outcomes[] = {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_entry)
};


#define ngx_http_kpn_ulabel_UD(name)  ngx_http_kpn_code_##name,
#define ngx_http_kpn_ulabel_U_(name)  ngx_http_kpn_code_##name,
#define ngx_http_kpn_ulabel__D(name)
#define ngx_http_kpn_ulabel___(name)
#define ngx_http_kpn_dlabel_UD(name)  ngx_http_kpn_code_##name,
#define ngx_http_kpn_dlabel_U_(name)
#define ngx_http_kpn_dlabel__D(name)  ngx_http_kpn_code_##name,
#define ngx_http_kpn_dlabel___(name)

#define ngx_http_kpn_outcome_ulabel(name, code, status, alt, class, halves)  \
    ngx_http_kpn_ulabel_##halves(name)
#define ngx_http_kpn_outcome_dlabel(name, code, status, alt, class, halves)  \
    ngx_http_kpn_dlabel_##halves(name)

char  *ngx_http_kpn_uplink_results[] = {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_ulabel)
    NULL
};

char  *ngx_http_kpn_downlink_results[] = {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_dlabel)
    NULL
};


static ngx_int_t ngx_http_kpn_verror(ngx_pool_t *pool,
    ngx_http_kpn_error_t *err, ngx_uint_t outcome, ngx_uint_t status,
    const char *fmt, va_list args);


ngx_int_t
ngx_http_kpn_raise(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t outcome, ngx_uint_t status, const char *fmt, ...)
{
    ngx_int_t  rc;
    va_list    args;

    err->code = ngx_http_kpn_outcomes[outcome].code;

    va_start(args, fmt);
    rc = ngx_http_kpn_verror(pool, err, outcome,
                             status ? status
                                    : ngx_http_kpn_outcomes[outcome].status,
                             fmt, args);
    va_end(args);

    return rc;
}


static ngx_int_t
ngx_http_kpn_verror(ngx_pool_t *pool, ngx_http_kpn_error_t *err,
    ngx_uint_t outcome, ngx_uint_t status, const char *fmt, va_list args)
{
    u_char  *p, *last;

    err->status = status;
    err->outcome = outcome;
    err->allow = NULL;
    err->challenge = NULL;
    err->hint = NULL;

    p = ngx_pnalloc(pool, NGX_HTTP_KPN_ERROR_MESSAGE_MAX);
    if (p == NULL) {
        ngx_str_null(&err->message);
        return NGX_ERROR;
    }

    last = ngx_vslprintf(p, p + NGX_HTTP_KPN_ERROR_MESSAGE_MAX, fmt, args);

    /* the message goes into a JSON body and a log line: printable UTF-8 */

    err->message.data = p;
    err->message.len = ngx_http_kpn_printable(p, last - p);

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_kpn_json_load(ngx_pool_t *pool, ngx_str_t *body, json_t **root,
    ngx_http_kpn_error_t *err)
{
    char          *data;
    u_char        *p;
    json_t        *json;
    json_error_t   jerr;

    data = body->len ? (char *) body->data : "";

    json = json_loadb(data, body->len, JSON_REJECT_DUPLICATES, &jerr);

    if (json == NULL) {

        /* jansson may quote raw input bytes; keep the message printable */
        jerr.text[JSON_ERROR_TEXT_LENGTH - 1] = '\0';

        for (p = (u_char *) jerr.text; *p; p++) {
            if (*p < 0x20 || *p >= 0x7f) {
                *p = '?';
            }
        }

        if (jerr.line < 1) {
            return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                      0, "%s", jerr.text);
        }

        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                  0, "line %d column %d: %s",
                                  jerr.line, jerr.column, jerr.text);
    }

    if (ngx_http_kpn_json_cleanup_add(pool, json) != NGX_OK) {
        return NGX_ERROR;
    }

    *root = json;

    return NGX_OK;
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
