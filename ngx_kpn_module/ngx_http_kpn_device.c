
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * The device and KPN part of a SenML pack: the device URN that starts
 * each record's name (DEVEUI, IMEI, DVNUUID), the pack's normalised
 * device, the KPN measurements (payload, port, FCntUp, LrrRSSI, LrrSNR)
 * and their texts for the variables: a second pass over the records that
 * ngx_http_kpn_senml.c resolved, which knows nothing of KPN.
 */


#include "ngx_http_kpn_device.h"
#include "ngx_http_kpn_envelope.h"
#include "ngx_http_kpn_text.h"


typedef struct {
    ngx_str_t                  type;
    ngx_uint_t               (*valid)(u_char *p, size_t len);
    char                      *rule;
} ngx_http_kpn_device_kind_t;


static ngx_int_t ngx_http_kpn_device_urn(ngx_pool_t *pool, ngx_str_t *name,
    ngx_uint_t i, ngx_uint_t has_bn, ngx_http_kpn_device_t *dev,
    ngx_http_kpn_error_t *err);
static ngx_uint_t ngx_http_kpn_device_normalise(ngx_http_kpn_device_t *dev);
static ngx_int_t ngx_http_kpn_device_identify(ngx_pool_t *pool,
    ngx_http_kpn_device_t *dev, ngx_http_kpn_senml_t *pack);
static void ngx_http_kpn_device_measurement(ngx_http_kpn_senml_t *pack,
    ngx_str_t *measurement, ngx_http_kpn_senml_record_t *res,
    ngx_http_kpn_senml_number_t **payload_time);
static ngx_uint_t ngx_http_kpn_device_is_eui(u_char *p, size_t len);
static ngx_uint_t ngx_http_kpn_device_is_imei(u_char *p, size_t len);

/* a measurement (ngx_str_t *) is the literal name */
#define ngx_http_kpn_device_is(m, name)                                      \
    ((m)->len == sizeof(name) - 1                                            \
     && ngx_memcmp((m)->data, name, sizeof(name) - 1) == 0)




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
 * The second pass, over the resolved records in order: each name's
 * device part (a base name that holds the whole of it is checked once
 * for its records), one device for the pack, KPN's measurements, then
 * the pack's device and texts.  The first record that fails decides the
 * error, as when this ran while the records were resolved (the SenML
 * errors, found before, outrank it).
 */

ngx_int_t
ngx_http_kpn_device_pack(ngx_pool_t *pool, ngx_http_kpn_senml_t *pack,
    ngx_http_kpn_error_t *err)
{
    u_char                       *dev_text;
    size_t                        dev_prefix;
    ngx_int_t                     rc;
    ngx_str_t                     measurement;
    ngx_uint_t                    k, found, first, dev_gen, changed,
                                  dev_changed;
    ngx_http_kpn_device_t         dev, dev0;
    ngx_http_kpn_senml_record_t  *res;
    ngx_http_kpn_senml_number_t  *first_time, *payload_time;

    found = 0;
    first = 0;
    dev_gen = 0;
    dev_changed = 0;
    dev_text = NULL;
    dev_prefix = 0;
    first_time = NULL;
    payload_time = NULL;

    ngx_memzero(&dev0, sizeof(ngx_http_kpn_device_t));

    for (k = 0; k < pack->nrecords; k++) {
        res = &pack->records[k];

        if (res->bn_gen && res->bn_gen == dev_gen) {

            /*
             * the device part is in the base name, checked, the pack's
             * device: normalised as in the record that checked it (the
             * same bytes of the same base name, unless that changed them)
             */

            if (dev_changed) {
                ngx_memcpy(res->name.data, dev_text, dev_prefix);
            }

            measurement.data = res->name.data + dev_prefix;
            measurement.len = res->name.len - dev_prefix;

            ngx_http_kpn_device_measurement(pack, &measurement, res,
                                            &payload_time);
            continue;
        }

        rc = ngx_http_kpn_device_urn(pool, &res->name, res->index,
                                     res->bn_gen != 0, &dev, err);
        if (rc != NGX_OK) {
            return rc;
        }

        if (!found) {
            found = 1;
            first = res->index;
            dev0 = dev;
            first_time = res->has_time ? &res->time : NULL;

        } else if (dev.type.len != dev0.type.len
                   || dev.id.len != dev0.id.len
                   || ngx_strncmp(dev.type.data, dev0.type.data,
                                  dev.type.len) != 0
                   || ngx_strncasecmp(dev.id.data, dev0.id.data,
                                      dev.id.len) != 0)
        {
            return ngx_http_kpn_raise(pool, err,
                                      NGX_HTTP_KPN_UNKNOWN_DEVICE,
                                      0,
                                      "records of several devices "
                                      "(record %ui and record %ui)",
                                      first, res->index);
        }

        /* the name carries the device part as the envelope does */
        changed = ngx_http_kpn_device_normalise(&dev);

        if (res->bn_gen && dev.prefix <= res->bn_len) {

            /* the next records of this base name: the same device part */

            dev_gen = res->bn_gen;
            dev_text = res->name.data;
            dev_prefix = dev.prefix;
            dev_changed = changed;
        }

        measurement.data = res->name.data + dev.prefix;
        measurement.len = res->name.len - dev.prefix;

        ngx_http_kpn_device_measurement(pack, &measurement, res, &payload_time);
    }

    pack->time = payload_time ? payload_time : first_time;

    /* the texts of the numbers wait until a variable asks for one */

    if (pack->payload_hex) {
        pack->payload_hex_text = *pack->payload_hex;
    }

    return ngx_http_kpn_device_identify(pool, &dev0, pack);
}


/*
 * The device part of a resolved name: "urn:dev:DEVEUI:<16 hex>:",
 * "urn:dev:IMEI:<15 digits>:" or "urn:dev:DVNUUID:<uuid>:".
 * NGX_DECLINED: err filled (422 NGX_HTTP_KPN_UNKNOWN_DEVICE).
 */

static ngx_int_t
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
            return ngx_http_kpn_raise(pool, err,
                                      NGX_HTTP_KPN_UNKNOWN_DEVICE,
                                      0,
                                      "record %ui: no base name (\"bn\") "
                                      "with a device URN", i);
        }

        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_UNKNOWN_DEVICE,
                                  0,
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
            return ngx_http_kpn_raise(pool, err,
                                      NGX_HTTP_KPN_UNKNOWN_DEVICE,
                                      0,
                                      "record %ui: %s followed by \":\"",
                                      i, kind->rule);
        }

        return NGX_OK;
    }

unknown:

    /* the name is checked already: only a-z A-Z 0-9 - : . / _ */

    ngx_http_kpn_echo(&dev->type, NGX_HTTP_KPN_SENML_ECHO_MAX, &echo, &cut);

    return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_UNKNOWN_DEVICE,
                              0,
                              "record %ui: unknown device URN type \"%V\" "
                              "(DEVEUI, IMEI or DVNUUID expected)", i, &echo);
}


/* urn, id_type and the normalised device_id of the pack */

static ngx_int_t
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

    /* normalised in the name already */

    pack->device_id.data = p;
    pack->device_id.len = dev->id.len;
    p = ngx_cpymem(p, dev->id.data, dev->id.len);
    *p = ':';

    return NGX_OK;
}


/*
 * The device id in place: DEVEUI upper case, DVNUUID lower case (IMEI:
 * digits only); tells whether a byte changed.
 */

static ngx_uint_t
ngx_http_kpn_device_normalise(ngx_http_kpn_device_t *dev)
{
    u_char      c, *p, *last;
    ngx_uint_t  changed, upper;

    if (dev->type.len != sizeof("DEVEUI") - 1
        && dev->type.len != sizeof("DVNUUID") - 1)
    {
        return 0;
    }

    upper = (dev->type.len == sizeof("DEVEUI") - 1);
    changed = 0;
    last = dev->id.data + dev->id.len;

    for (p = dev->id.data; p < last; p++) {
        c = upper ? ngx_toupper(*p) : ngx_tolower(*p);

        if (c != *p) {
            *p = c;
            changed = 1;
        }
    }

    return changed;
}


static void
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


/* a number as the envelope prints it; none (NULL): empty */

ngx_int_t
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
    size_t  k;

    static u_char  hex[256] = {
        ['0'] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        ['A'] = 1, 1, 1, 1, 1, 1,
        ['a'] = 1, 1, 1, 1, 1, 1
    };

    if (len != 16) {
        return 0;
    }

    for (k = 0; k < 16; k++) {
        if (!hex[p[k]]) {
            return 0;
        }
    }

    return 1;
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
