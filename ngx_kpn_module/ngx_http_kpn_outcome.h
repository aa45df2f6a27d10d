
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The outcomes of both halves, in one table: the result code (the "error"
 * of the JSON answer, $kpn_uplink_status, $kpn_downlink_status and the
 * "result" label of the metrics), the HTTP status answered (and another
 * one some refusals answer), the log level class and the halves whose
 * metrics count it.  A new code is one line of NGX_HTTP_KPN_OUTCOMES.
 * docs/directives.md and docs/downlink.md list the codes: t/012-outcomes.t
 * compares their tables with this one.  The table itself:
 * ngx_http_kpn_json.c, with the error object.
 */


#ifndef _NGX_HTTP_KPN_OUTCOME_H_INCLUDED_
#define _NGX_HTTP_KPN_OUTCOME_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/* the one status nginx has no name for: well-formed input that is refused */
#define NGX_HTTP_KPN_UNPROCESSABLE_ENTITY  422


/*
 * The log level classes: NONE (no refusal), REJECT (the caller's mistake:
 * kpn_reject_log_level), ERROR (not the caller's: error), INFO (the
 * caller went away).  The halves: U_ uplink, _D downlink, UD both, __
 * neither (counted as OTHER).  The order is the order of the metrics'
 * labels; OTHER is last.  Each code is written here alone (a structure
 * check, util/test/check-structure.sh, counts them): another table that
 * names one uses its array, ngx_http_kpn_code_<NAME>.
 *
 *  name                    code                      status  alt  class  halves
 */
#define NGX_HTTP_KPN_OUTCOMES(X)                                             \
  X(NONE,                   "",                       0,   0,   NONE,   __) \
  X(OK,                     "ok",                     200, 0,   NONE,   UD) \
  X(NOT_READ,               "not_read",               0,   0,   NONE,   UD) \
  X(KPN_REJECTED,           "kpn_rejected",           0,   0,   ERROR,  _D) \
  X(METHOD_NOT_ALLOWED,     "method_not_allowed",     405, 0,   REJECT, UD) \
  X(UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", 415, 0,   REJECT, U_) \
  X(EMPTY_BODY,             "empty_body",             400, 0,   REJECT, U_) \
  X(MISSING_TOKEN,          "missing_token",          401, 0,   REJECT, U_) \
  X(BAD_TOKEN,              "bad_token",              401, 0,   REJECT, U_) \
  X(MISSING_KEY,            "missing_key",            401, 0,   REJECT, _D) \
  X(BAD_KEY,                "bad_key",                401, 0,   REJECT, _D) \
  X(INVALID_JSON,           "invalid_json",           400, 0,   REJECT, UD) \
  X(INVALID_SENML,          "invalid_senml",          400, 0,   REJECT, U_) \
  X(TOO_MANY_RECORDS,       "too_many_records",       413, 0,   REJECT, U_) \
  X(UNKNOWN_DEVICE,         "unknown_device",         422, 0,   REJECT, U_) \
  X(UNKNOWN_DEVICE_TYPE,    "unknown_device_type",    422, 0,   REJECT, U_) \
  X(INVALID_DEV_EUI,        "invalid_dev_eui",        400, 0,   REJECT, _D) \
  X(INVALID_PORT,           "invalid_port",           400, 0,   REJECT, _D) \
  X(INVALID_PAYLOAD,        "invalid_payload",        400, 0,   REJECT, _D) \
  X(INVALID_DEVICE_ID,      "invalid_device_id",      400, 500, REJECT, _D) \
  X(MISSING_FIELD,          "missing_field",          400, 0,   REJECT, _D) \
  X(TOKEN_UNAVAILABLE,      "token_unavailable",      502, 503, ERROR,  _D) \
  X(KPN_AUTH_FAILED,        "kpn_auth_failed",        502, 503, ERROR,  _D) \
  X(KPN_UNAVAILABLE,        "kpn_unavailable",        502, 0,   ERROR,  _D) \
  X(UPSTREAM_TIMEOUT,       "upstream_timeout",       504, 0,   ERROR,  _D) \
  X(UPSTREAM_ERROR,         "upstream_error",         502, 0,   ERROR,  _D) \
  X(CLIENT_CLOSED,          "client_closed",          499, 0,   INFO,   _D) \
  X(INTERNAL_ERROR,         "internal_error",         500, 0,   ERROR,  UD) \
  X(BAD_DESTINATION_AUTH,   "bad_destination_auth",   401, 0,   REJECT, U_) \
  X(BODY_TOO_LARGE,         "body_too_large",         413, 0,   REJECT, __) \
  X(OTHER,                  "other",                  0,   0,   NONE,   UD)


#define NGX_HTTP_KPN_LOG_NONE    0
#define NGX_HTTP_KPN_LOG_REJECT  1
#define NGX_HTTP_KPN_LOG_ERROR   2
#define NGX_HTTP_KPN_LOG_INFO    3


#define ngx_http_kpn_outcome_enum(name, code, status, alt, class, halves)    \
    NGX_HTTP_KPN_##name,

typedef enum {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_enum)
    NGX_HTTP_KPN_OUTCOME_N
} ngx_http_kpn_outcome_e;


/* the metric slots of each half, in the table's order */

#define ngx_http_kpn_uslot_UD(name)  NGX_HTTP_KPN_U_##name,
#define ngx_http_kpn_uslot_U_(name)  NGX_HTTP_KPN_U_##name,
#define ngx_http_kpn_uslot__D(name)
#define ngx_http_kpn_uslot___(name)
#define ngx_http_kpn_dslot_UD(name)  NGX_HTTP_KPN_D_##name,
#define ngx_http_kpn_dslot_U_(name)
#define ngx_http_kpn_dslot__D(name)  NGX_HTTP_KPN_D_##name,
#define ngx_http_kpn_dslot___(name)

#define ngx_http_kpn_outcome_uslot(name, code, status, alt, class, halves)   \
    ngx_http_kpn_uslot_##halves(name)
#define ngx_http_kpn_outcome_dslot(name, code, status, alt, class, halves)   \
    ngx_http_kpn_dslot_##halves(name)

typedef enum {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_uslot)
    NGX_HTTP_KPN_U_N                   /* uplinks by result */
} ngx_http_kpn_uplink_slot_e;

typedef enum {
    NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_dslot)
    NGX_HTTP_KPN_D_N                   /* downlinks by result */
} ngx_http_kpn_downlink_slot_e;


/* each code as an array of its own (ngx_http_kpn_code_OK, ...) */

#define ngx_http_kpn_outcome_code_decl(name, code, status, alt, class,      \
                                       halves)                               \
    extern char  ngx_http_kpn_code_##name[];

NGX_HTTP_KPN_OUTCOMES(ngx_http_kpn_outcome_code_decl)


typedef struct {
    ngx_str_t                  code;        /* empty for NONE */
    ngx_uint_t                 status;      /* answered; 0: none of ours */
    ngx_uint_t                 alt_status;  /* also answered, or 0 */
    ngx_uint_t                 log_class;   /* NGX_HTTP_KPN_LOG_* */
    ngx_uint_t                 uplink_slot;     /* NGX_HTTP_KPN_U_* */
    ngx_uint_t                 downlink_slot;   /* NGX_HTTP_KPN_D_* */
} ngx_http_kpn_outcome_t;


extern ngx_http_kpn_outcome_t  ngx_http_kpn_outcomes[];

/* the "result" labels of each half, NULL-terminated, in slot order */
extern char  *ngx_http_kpn_uplink_results[];
extern char  *ngx_http_kpn_downlink_results[];


#endif /* _NGX_HTTP_KPN_OUTCOME_H_INCLUDED_ */
