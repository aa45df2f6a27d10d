
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The device and KPN part of a SenML pack: the device URN that starts
 * each record's name (DEVEUI, IMEI, DVNUUID), the pack's normalised
 * device, the KPN measurements (payload, port, FCntUp, LrrRSSI, LrrSNR)
 * and their texts for the variables.  ngx_http_kpn_senml.c calls these
 * while it resolves the records.
 */


#include "ngx_http_kpn_device.h"
#include "ngx_http_kpn_envelope.h"


typedef struct {
    ngx_str_t                  type;
    ngx_uint_t               (*valid)(u_char *p, size_t len);
    char                      *rule;
} ngx_http_kpn_device_kind_t;


static ngx_uint_t ngx_http_kpn_device_is_eui(u_char *p, size_t len);
static ngx_uint_t ngx_http_kpn_device_is_imei(u_char *p, size_t len);

/* a measurement (ngx_str_t *) is the literal name */
#define ngx_http_kpn_device_is(m, name)                                      \
    ((m)->len == sizeof(name) - 1                                            \
     && ngx_memcmp((m)->data, name, sizeof(name) - 1) == 0)


static ngx_int_t ngx_http_kpn_device_text(ngx_pool_t *pool,
    ngx_http_kpn_senml_number_t *num, ngx_str_t *text);


/* the device URN types KPN sends, and what their ids must be */
static ngx_http_kpn_device_kind_t  ngx_http_kpn_device_kinds[] = {
    { ngx_string("DEVEUI"), ngx_http_kpn_device_is_eui,
      "a DEVEUI must be 16 hex digits" },
    { ngx_string("IMEI"), ngx_http_kpn_device_is_imei,
      "an IMEI must be 15 digits" },
    { ngx_string("DVNUUID"), ngx_http_kpn_is_uuid,
      "a DVNUUID must be a UUID" },
    { ngx_null_string, NULL, NULL }
};


/*
 * The device part of a resolved name: "urn:dev:DEVEUI:<16 hex>:",
 * "urn:dev:IMEI:<15 digits>:" or "urn:dev:DVNUUID:<uuid>:".
 * NGX_DECLINED: err filled (422 unknown_device).
 */

ngx_int_t
ngx_http_kpn_device_urn(ngx_pool_t *pool, ngx_str_t *name, ngx_uint_t i,
    ngx_uint_t has_bn, ngx_http_kpn_device_t *dev,
    ngx_http_kpn_error_t *err)
{
    u_char                      *p, *last, *colon;
    ngx_str_t                    echo;
    ngx_uint_t                   cut;
    ngx_http_kpn_device_kind_t  *kind;

    p = name->data;
    last = name->data + name->len;

    if (name->len < sizeof("urn:dev:") - 1
        || ngx_strncmp(p, "urn:dev:", sizeof("urn:dev:") - 1) != 0)
    {
        if (!has_bn) {
            return ngx_http_kpn_error(pool, err,
                                      NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                      "unknown_device",
                                      "record %ui: no base name (\"bn\") "
                                      "with a device URN", i);
        }

        return ngx_http_kpn_error(pool, err, NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                  "unknown_device",
                                  "record %ui: the name does not start with "
                                  "\"urn:dev:\"", i);
    }

    p += sizeof("urn:dev:") - 1;

    colon = ngx_strlchr(p, last, ':');

    dev->type.data = p;
    dev->type.len = (colon ? colon : last) - p;

    if (colon == NULL) {
        goto unknown;
    }

    dev->id.data = colon + 1;

    colon = ngx_strlchr(colon + 1, last, ':');
    if (colon == NULL) {
        colon = last;
    }

    dev->id.len = colon - dev->id.data;
    dev->prefix = (colon == last) ? 0 : (size_t) (colon + 1 - name->data);

    for (kind = ngx_http_kpn_device_kinds; kind->type.len; kind++) {

        if (dev->type.len != kind->type.len
            || ngx_strncmp(dev->type.data, kind->type.data, kind->type.len)
               != 0)
        {
            continue;
        }

        if (dev->prefix == 0 || !kind->valid(dev->id.data, dev->id.len)) {
            return ngx_http_kpn_error(pool, err,
                                      NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                                      "unknown_device",
                                      "record %ui: %s followed by \":\"",
                                      i, kind->rule);
        }

        return NGX_OK;
    }

unknown:

    /* the name is checked already: only a-z A-Z 0-9 - : . / _ */

    ngx_http_kpn_echo(&dev->type, NGX_HTTP_KPN_SENML_ECHO_MAX, &echo, &cut);

    return ngx_http_kpn_error(pool, err, NGX_HTTP_KPN_UNPROCESSABLE_ENTITY,
                              "unknown_device",
                              "record %ui: unknown device URN type \"%V\" "
                              "(DEVEUI, IMEI or DVNUUID expected)", i, &echo);
}


/* urn, id_type and the normalised device_id of the pack */

ngx_int_t
ngx_http_kpn_device_identify(ngx_pool_t *pool,
    ngx_http_kpn_device_t *dev, ngx_http_kpn_senml_t *pack)
{
    u_char  *p;

    pack->urn.len = dev->prefix;
    pack->urn.data = ngx_pnalloc(pool, pack->urn.len);
    if (pack->urn.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(pack->urn.data, "urn:dev:", sizeof("urn:dev:") - 1);

    pack->id_type.data = p;
    pack->id_type.len = dev->type.len;
    p = ngx_cpymem(p, dev->type.data, dev->type.len);
    *p++ = ':';

    /* DEVEUI upper case, DVNUUID lower case, IMEI digits only */

    pack->device_id.data = p;
    pack->device_id.len = dev->id.len;

    if (dev->type.len == sizeof("DEVEUI") - 1) {
        ngx_http_kpn_upper(p, dev->id.data, dev->id.len);

    } else {
        ngx_strlow(p, dev->id.data, dev->id.len);
    }

    p[dev->id.len] = ':';

    return NGX_OK;
}


/* the device id in place: DEVEUI upper case, DVNUUID lower case */

void
ngx_http_kpn_device_normalise(ngx_http_kpn_device_t *dev)
{
    if (dev->type.len == sizeof("DEVEUI") - 1) {
        ngx_http_kpn_upper(dev->id.data, dev->id.data, dev->id.len);

    } else if (dev->type.len == sizeof("DVNUUID") - 1) {
        ngx_strlow(dev->id.data, dev->id.data, dev->id.len);
    }

    /* IMEI: digits only */
}


void
ngx_http_kpn_device_measurement(ngx_http_kpn_senml_t *pack,
    ngx_str_t *measurement, ngx_http_kpn_senml_record_t *res,
    ngx_http_kpn_senml_number_t **payload_time)
{
    ngx_http_kpn_senml_number_t  *v;

    if (ngx_http_kpn_device_is(measurement, "payload")) {

        if (res->value_type == NGX_HTTP_KPN_SENML_STRING
            && pack->payload_hex == NULL)
        {
            pack->payload_hex = &res->string;
            *payload_time = res->has_time ? &res->time : NULL;
        }

        return;
    }

    if (res->value_type != NGX_HTTP_KPN_SENML_NUMBER) {
        return;
    }

    v = &res->value;

    if (ngx_http_kpn_device_is(measurement, "port")) {
        if (pack->port == NULL && v->is_integer) {
            pack->port = v;
        }

    } else if (ngx_http_kpn_device_is(measurement, "FCntUp")) {
        if (pack->fcnt_up == NULL) {
            pack->fcnt_up = v;
        }

    } else if (ngx_http_kpn_device_is(measurement, "LrrRSSI")) {
        if (pack->rssi == NULL) {
            pack->rssi = v;
        }

    } else if (ngx_http_kpn_device_is(measurement, "LrrSNR")) {
        if (pack->snr == NULL) {
            pack->snr = v;
        }
    }
}


ngx_int_t
ngx_http_kpn_device_texts(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack)
{
    if (pack->payload_hex) {
        pack->payload_hex_text = *pack->payload_hex;

    } else {
        ngx_str_null(&pack->payload_hex_text);
    }

    if (ngx_http_kpn_device_text(pool, pack->time, &pack->time_text)
        != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->port, &pack->port_text)
           != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->fcnt_up, &pack->fcnt_up_text)
           != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->rssi, &pack->rssi_text)
           != NGX_OK
        || ngx_http_kpn_device_text(pool, pack->snr, &pack->snr_text)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a number as the envelope prints it */

static ngx_int_t
ngx_http_kpn_device_text(ngx_pool_t *pool, ngx_http_kpn_senml_number_t *num,
    ngx_str_t *text)
{
    if (num == NULL) {
        ngx_str_null(text);
        return NGX_OK;
    }

    text->data = ngx_pnalloc(pool, NGX_HTTP_KPN_SENML_NUMBER_LEN);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    text->len = ngx_http_kpn_envelope_number(text->data, num) - text->data;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_kpn_device_is_eui(u_char *p, size_t len)
{
    return len == 16 && ngx_http_kpn_is_hex(p, len);
}


static ngx_uint_t
ngx_http_kpn_device_is_imei(u_char *p, size_t len)
{
    if (len != 15) {
        return 0;
    }

    while (len--) {
        if (*p < '0' || *p > '9') {
            return 0;
        }

        p++;
    }

    return 1;
}
