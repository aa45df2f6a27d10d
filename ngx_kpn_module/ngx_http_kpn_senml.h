
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * SenML (RFC 8428) packs as KPN Things sends them: read from the body's
 * bytes, resolved and validated (ngx_http_kpn_senml.c), then the device
 * identified over the resolved records (ngx_http_kpn_device.c).
 */


#ifndef _NGX_HTTP_KPN_SENML_H_INCLUDED_
#define _NGX_HTTP_KPN_SENML_H_INCLUDED_


#include "ngx_http_kpn_json.h"
#include "ngx_http_kpn_senml_reader.h"


/* at most this many bytes of a name are quoted in an error message */
#define NGX_HTTP_KPN_SENML_ECHO_MAX   32


/* value types of a record, as the SenML fields that hold them */
#define NGX_HTTP_KPN_SENML_STRING     1      /* "vs" */
#define NGX_HTTP_KPN_SENML_NUMBER     2      /* "v" */
#define NGX_HTTP_KPN_SENML_BOOLEAN    3      /* "vb" */
#define NGX_HTTP_KPN_SENML_DATA       4      /* "vd" */


/* a resolved number: an integer when integral and exact, else a real */
typedef struct {
    int64_t                        integer;
    double                         real;
    unsigned                       is_integer:1;
} ngx_http_kpn_senml_number_t;


/* a resolved record; strings point into the body or pool memory */
typedef struct {
    ngx_str_t                      name;       /* bn + n, device part
                                                  normalised */
    ngx_str_t                      unit;       /* u, else bu */
    ngx_str_t                      string;     /* vs or vd */

    ngx_http_kpn_senml_number_t    time;       /* bt + t */
    ngx_http_kpn_senml_number_t    value;      /* bv + v */
    ngx_http_kpn_senml_number_t    sum;        /* bs + s */
    ngx_http_kpn_senml_number_t    update_time;

    ngx_uint_t                     index;      /* in the pack's array */
    size_t                         bn_len;     /* of name, from "bn" */
    ngx_uint_t                     bn_gen;     /* which "bn" of the pack
                                                  (1, 2, ..); 0: none */

    unsigned                       value_type:3;  /* 0: none, or
                                                     NGX_HTTP_KPN_SENML_* */
    unsigned                       boolean:1;     /* vb */
    unsigned                       has_unit:1;
    unsigned                       has_time:1;
    unsigned                       has_sum:1;
    unsigned                       has_update_time:1;
} ngx_http_kpn_senml_record_t;


typedef struct {
    /* "urn:dev:DEVEUI:0059AC00001B3461:", "DEVEUI", "0059AC00001B3461" */
    ngx_str_t                      urn;
    ngx_str_t                      id_type;    /* DEVEUI, IMEI, DVNUUID */
    ngx_str_t                      device_id;  /* normalised: DevEUI upper
                                                  case, DVNUUID lower */

    /* the resolved pack, in pool memory */
    ngx_http_kpn_senml_record_t   *records;
    ngx_uint_t                     nrecords;

    /* KPN fields found in the pack, NULL when absent; point into records */
    ngx_http_kpn_senml_number_t   *time;       /* time of the "payload"
                                                  record, else of the first
                                                  record */
    ngx_http_kpn_senml_number_t   *port;       /* "port" v, an integer */
    ngx_str_t                     *payload_hex;  /* "payload" vs */
    ngx_http_kpn_senml_number_t   *fcnt_up;    /* "FCntUp" v */
    ngx_http_kpn_senml_number_t   *rssi;       /* "LrrRSSI" v */
    ngx_http_kpn_senml_number_t   *snr;        /* "LrrSNR" v */

    /*
     * the same as text; empty (data NULL) when absent.  Numbers print as
     * in the envelope ("1765739955.219", "-107", "3"), not by the parse:
     * by ngx_http_kpn_device_texts(), or one by ngx_http_kpn_device_text()
     * when a variable asks; payload_hex_text (set by the parse) points
     * into the body or the pool.
     */
    ngx_str_t                      time_text;
    ngx_str_t                      port_text;
    ngx_str_t                      payload_hex_text;
    ngx_str_t                      fcnt_up_text;
    ngx_str_t                      rssi_text;
    ngx_str_t                      snr_text;

    /*
     * set by the caller, not the parser: the envelope's kpn.messageId
     * (64 hex digits), left out when empty
     */
    ngx_str_t                      message_id;
} ngx_http_kpn_senml_t;


/* the bytes from p to last are all a-z A-Z 0-9 - : . / _ (RFC 8428, 4.5.1) */

static ngx_inline ngx_uint_t
ngx_http_kpn_is_senml_name(u_char *p, u_char *last)
{
    static u_char  allowed[256] = {
        ['-'] = 1, ['.'] = 1, ['/'] = 1,
        ['0'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,    /* 0-9 : */
        ['A'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,      /* A-Z */
        ['_'] = 1,
        ['a'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1       /* a-z */
    };

    while (p < last && allowed[*p]) {
        p++;
    }

    return (p == last);
}


/*
 * Parses, resolves and validates the pack in body (which need not be
 * NUL-terminated) and identifies its device. NGX_OK: pack filled.
 * NGX_DECLINED: err filled (400 NGX_HTTP_KPN_INVALID_JSON, 400
 * NGX_HTTP_KPN_INVALID_SENML, 422 NGX_HTTP_KPN_UNKNOWN_DEVICE), pack unusable.
 * NGX_ERROR: out of memory. Strings point into body, which must outlive the
 * pack, or into pool. max_records (0: no limit, for the fuzz harness; the
 * directive takes 1 or more): a pack of more records is 413
 * NGX_HTTP_KPN_TOO_MANY_RECORDS, whatever else is wrong with it.
 */
ngx_int_t ngx_http_kpn_senml_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_records, ngx_http_kpn_senml_t *pack,
    ngx_http_kpn_error_t *err);



#endif /* _NGX_HTTP_KPN_SENML_H_INCLUDED_ */
