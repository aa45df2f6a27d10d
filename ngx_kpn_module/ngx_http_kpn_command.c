
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * A downlink command: parse and validate, then the texts of the variables
 * that the request templates use, and the query strings.
 */


#include "ngx_http_kpn_command.h"
#include "ngx_http_kpn_senml_reader.h"
#include "ngx_http_kpn_text.h"


/* the fields of the input, in the order of the messages */
#define NGX_HTTP_KPN_COMMAND_DEV_EUI    0
#define NGX_HTTP_KPN_COMMAND_PORT       1
#define NGX_HTTP_KPN_COMMAND_PAYLOAD    2
#define NGX_HTTP_KPN_COMMAND_REFERENCE  3
#define NGX_HTTP_KPN_COMMAND_DEVICE_ID  4
#define NGX_HTTP_KPN_COMMAND_NFIELDS    5


/* the JSON of a command: its fields' values, the first unknown key */
typedef struct {
    ngx_http_kpn_reader_value_t  vals[NGX_HTTP_KPN_COMMAND_NFIELDS];
    ngx_uint_t                   present;
    ngx_str_t                    unknown;
} ngx_http_kpn_command_json_t;


static ngx_int_t ngx_http_kpn_command_read(ngx_pool_t *pool,
    ngx_str_t *body, ngx_http_kpn_command_json_t *in,
    ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_command_object(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_command_json_t *in);
static ngx_uint_t ngx_http_kpn_command_field(ngx_str_t *key);
static ngx_int_t ngx_http_kpn_command_port(ngx_http_kpn_reader_value_t *v,
    ngx_int_t *port);
static ngx_int_t ngx_http_kpn_command_texts(ngx_pool_t *pool,
    ngx_http_kpn_command_t *cmd);
static size_t ngx_http_kpn_command_json(u_char *dst, u_char *src,
    size_t len);
static u_char *ngx_http_kpn_command_u(u_char *dst, uint32_t u);
static ngx_uint_t ngx_http_kpn_command_query_char(u_char c);
static ngx_int_t ngx_http_kpn_command_payload(ngx_pool_t *pool,
    ngx_http_kpn_command_json_t *in, ngx_uint_t max_payload,
    ngx_http_kpn_command_t *cmd, ngx_http_kpn_error_t *err);
static ngx_int_t ngx_http_kpn_command_optional(ngx_pool_t *pool,
    ngx_http_kpn_command_json_t *in, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err);


/*
 * The command is read with the uplink's strict reader
 * (ngx_http_kpn_senml_reader.h), straight from the body's bytes: it takes
 * and refuses what json_loadb() with JSON_REJECT_DUPLICATES does, and the
 * checks below give the answers the walk of jansson's tree gave
 * (util/fuzz/command_oracle.c keeps that walk; command_diff holds the two
 * against each other).
 */

ngx_int_t
ngx_http_kpn_command_parse(ngx_pool_t *pool, ngx_str_t *body,
    ngx_uint_t max_payload, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err)
{
    ngx_int_t                     rc;
    ngx_str_t                     echo;
    ngx_uint_t                    cut;
    ngx_http_kpn_reader_value_t  *v;
    ngx_http_kpn_command_json_t   in;

    if (body->len == 0) {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                  0, "the body is empty");
    }

    rc = ngx_http_kpn_command_read(pool, body, &in, err);
    if (rc != NGX_OK) {
        return rc;
    }

    /* every field must be known: a typo is refused, not ignored */

    if (in.unknown.data) {
        ngx_http_kpn_echo(&in.unknown, NGX_HTTP_KPN_ECHO_MAX, &echo, &cut);

        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                  0,
                                  "unknown field \"%V%s\" (the fields are "
                                  "devEUI, port, payload, externalReference "
                                  "and deviceId)",
                                  &echo, cut ? "..." : "");
    }

    /* devEUI: 16 hex digits */

    v = &in.vals[NGX_HTTP_KPN_COMMAND_DEV_EUI];

    if (!(in.present & (1 << NGX_HTTP_KPN_COMMAND_DEV_EUI))
        || v->type != NGX_HTTP_KPN_READER_STRING
        || v->str.len != 16
        || !ngx_http_kpn_is_hex(v->str.data, 16))
    {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_DEV_EUI,
                                  0,
                                  "\"devEUI\" must be a string of "
                                  "16 hex digits");
    }

    cmd->dev_eui.len = 16;
    cmd->dev_eui.data = ngx_pnalloc(pool, 16);
    if (cmd->dev_eui.data == NULL) {
        return NGX_ERROR;
    }

    ngx_http_kpn_upper(cmd->dev_eui.data, v->str.data, 16);

    /* port: an integer (1.0 counts) from 1 to 223 */

    if (!(in.present & (1 << NGX_HTTP_KPN_COMMAND_PORT))
        || ngx_http_kpn_command_port(&in.vals[NGX_HTTP_KPN_COMMAND_PORT],
                                     &cmd->port)
           != NGX_OK)
    {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PORT,
                                  0,
                                  "\"port\" must be an integer from 1 to %d",
                                  NGX_HTTP_KPN_MAX_PORT);
    }

    rc = ngx_http_kpn_command_payload(pool, &in, max_payload, cmd, err);
    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_kpn_command_optional(pool, &in, cmd, err);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_kpn_command_texts(pool, cmd);
}


/*
 * The whole document checked, as json_loadb() would: a JSON object, its
 * known fields' values into in, the first other key remembered.
 */

static ngx_int_t
ngx_http_kpn_command_read(ngx_pool_t *pool, ngx_str_t *body,
    ngx_http_kpn_command_json_t *in, ngx_http_kpn_error_t *err)
{
    ngx_int_t              rc;
    ngx_http_kpn_reader_t  rd;

    in->present = 0;
    ngx_str_null(&in->unknown);

    ngx_http_kpn_reader_init(&rd, pool, body);

    ngx_http_kpn_reader_ws(&rd);

    if (rd.pos < rd.last && *rd.pos == '{') {
        rc = ngx_http_kpn_command_object(&rd, in);

    } else if (rd.pos < rd.last && *rd.pos == '[') {
        rc = ngx_http_kpn_reader_skip(&rd, 1);

        if (rc == NGX_OK) {
            rc = ngx_http_kpn_reader_end(&rd);
        }

        if (rc == NGX_OK) {
            return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                      0, "the body must be a JSON object");
        }

    } else {
        rc = ngx_http_kpn_reader_fail(&rd, rd.pos, "'[' or '{' expected");
    }

    if (rc == NGX_OK) {
        rc = ngx_http_kpn_reader_end(&rd);
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_kpn_reader_error(&rd, err);
    }

    return rc;
}


/* the object at rd->pos, its values at depth 2 as jansson counts */

static ngx_int_t
ngx_http_kpn_command_object(ngx_http_kpn_reader_t *rd,
    ngx_http_kpn_command_json_t *in)
{
    ngx_int_t                    rc;
    ngx_str_t                    key;
    ngx_uint_t                   k;
    ngx_http_kpn_reader_value_t  other;

    rd->pos++;

    ngx_http_kpn_reader_ws(rd);

    if (rd->pos < rd->last && *rd->pos == '}') {
        rd->pos++;
        return NGX_OK;
    }

    for ( ;; ) {

        rc = ngx_http_kpn_reader_key(rd, &key);
        if (rc != NGX_OK) {
            return rc;
        }

        k = ngx_http_kpn_command_field(&key);

        if (k < NGX_HTTP_KPN_COMMAND_NFIELDS) {

            if (in->present & ((ngx_uint_t) 1 << k)) {
                return ngx_http_kpn_reader_fail(rd, rd->pos,
                                                "duplicate object key");
            }

            in->present |= (ngx_uint_t) 1 << k;

        } else {

            /* kept for the duplicate check: an error, but JSON's first */

            if (ngx_http_kpn_reader_keep(rd, &key) != NGX_OK) {
                return NGX_ERROR;
            }

            if (in->unknown.data == NULL) {
                in->unknown = key;
            }

        }

        rc = ngx_http_kpn_reader_read(rd, 2,
                                      (k < NGX_HTTP_KPN_COMMAND_NFIELDS)
                                      ? &in->vals[k] : &other);
        if (rc != NGX_OK) {
            return rc;
        }

        rc = ngx_http_kpn_reader_member_end(rd);

        if (rc == NGX_OK) {
            return ngx_http_kpn_reader_distinct(rd, 0);
        }

        if (rc != NGX_AGAIN) {
            return rc;
        }
    }
}


static ngx_uint_t
ngx_http_kpn_command_field(ngx_str_t *key)
{
    switch (key->len) {

    case 4:
        if (ngx_strncmp(key->data, "port", 4) == 0) {
            return NGX_HTTP_KPN_COMMAND_PORT;
        }

        break;

    case 6:
        if (ngx_strncmp(key->data, "devEUI", 6) == 0) {
            return NGX_HTTP_KPN_COMMAND_DEV_EUI;
        }

        break;

    case 7:
        if (ngx_strncmp(key->data, "payload", 7) == 0) {
            return NGX_HTTP_KPN_COMMAND_PAYLOAD;
        }

        break;

    case 8:
        if (ngx_strncmp(key->data, "deviceId", 8) == 0) {
            return NGX_HTTP_KPN_COMMAND_DEVICE_ID;
        }

        break;

    case 17:
        if (ngx_strncmp(key->data, "externalReference", 17) == 0) {
            return NGX_HTTP_KPN_COMMAND_REFERENCE;
        }

        break;
    }

    return NGX_HTTP_KPN_COMMAND_NFIELDS;
}


/* an integer, or a real of an integer's value (1.0, 1e2), 1 .. 223 */

static ngx_int_t
ngx_http_kpn_command_port(ngx_http_kpn_reader_value_t *v, ngx_int_t *port)
{
    double  d;

    if (v->type == NGX_HTTP_KPN_READER_INTEGER) {
        if (v->integer < 1 || v->integer > NGX_HTTP_KPN_MAX_PORT) {
            return NGX_DECLINED;
        }

        *port = (ngx_int_t) v->integer;
        return NGX_OK;
    }

    if (v->type != NGX_HTTP_KPN_READER_REAL) {
        return NGX_DECLINED;
    }

    /* the range first: the cast of a real out of range is undefined */

    d = v->real;

    if (!(d >= 1 && d <= NGX_HTTP_KPN_MAX_PORT) || d != (double) (int64_t) d) {
        return NGX_DECLINED;
    }

    *port = (ngx_int_t) d;

    return NGX_OK;
}


/* payload: even-length hex, 1 .. max_payload bytes */

static ngx_int_t
ngx_http_kpn_command_payload(ngx_pool_t *pool,
    ngx_http_kpn_command_json_t *in, ngx_uint_t max_payload,
    ngx_http_kpn_command_t *cmd, ngx_http_kpn_error_t *err)
{
    ngx_http_kpn_reader_value_t  *v;

    v = &in->vals[NGX_HTTP_KPN_COMMAND_PAYLOAD];

    if (!(in->present & (1 << NGX_HTTP_KPN_COMMAND_PAYLOAD))
        || v->type != NGX_HTTP_KPN_READER_STRING)
    {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PAYLOAD,
                                  0,
                                  "\"payload\" must be a hex string");
    }

    cmd->payload = v->str;

    if (cmd->payload.len == 0 || cmd->payload.len % 2
        || !ngx_http_kpn_is_hex(cmd->payload.data, cmd->payload.len))
    {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PAYLOAD,
                                  0,
                                  "\"payload\" must be a non-empty hex "
                                  "string of even length");
    }

    if (cmd->payload.len / 2 > max_payload) {
        return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_PAYLOAD,
                                  0,
                                  "\"payload\" is %uz bytes, at most %ui "
                                  "are allowed",
                                  cmd->payload.len / 2, max_payload);
    }

    return NGX_OK;
}


/* externalReference and deviceId: both optional, null is absent */

static ngx_int_t
ngx_http_kpn_command_optional(ngx_pool_t *pool,
    ngx_http_kpn_command_json_t *in, ngx_http_kpn_command_t *cmd,
    ngx_http_kpn_error_t *err)
{
    ngx_int_t                     rc;
    ngx_http_kpn_reader_value_t  *v;

    /* externalReference: an optional string */

    ngx_str_null(&cmd->reference);

    v = &in->vals[NGX_HTTP_KPN_COMMAND_REFERENCE];

    if ((in->present & (1 << NGX_HTTP_KPN_COMMAND_REFERENCE))
        && v->type != NGX_HTTP_KPN_READER_NULL)
    {
        if (v->type != NGX_HTTP_KPN_READER_STRING
            || v->str.len > NGX_HTTP_KPN_EXTREF_MAX)
        {
            return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_JSON,
                                      0,
                                      "\"externalReference\" must be a "
                                      "string of at most %d characters",
                                      NGX_HTTP_KPN_EXTREF_MAX);
        }

        cmd->reference = v->str;
    }

    /* deviceId: an optional KPN device UUID */

    ngx_str_null(&cmd->device_id);

    v = &in->vals[NGX_HTTP_KPN_COMMAND_DEVICE_ID];

    if ((in->present & (1 << NGX_HTTP_KPN_COMMAND_DEVICE_ID))
        && v->type != NGX_HTTP_KPN_READER_NULL)
    {
        rc = NGX_DECLINED;

        if (v->type == NGX_HTTP_KPN_READER_STRING) {
            rc = ngx_http_kpn_command_uuid(pool, &v->str, &cmd->device_id);
            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }
        }

        if (rc != NGX_OK) {
            return ngx_http_kpn_raise(pool, err, NGX_HTTP_KPN_INVALID_DEVICE_ID,
                                      0,
                                      "\"deviceId\" must be a UUID "
                                      "(8-4-4-4-12 hex digits)");
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_command_uuid(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    if (!ngx_http_kpn_is_uuid(in->data, in->len)) {
        return NGX_DECLINED;
    }

    out->data = ngx_pnalloc(pool, NGX_HTTP_KPN_UUID_LEN);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = NGX_HTTP_KPN_UUID_LEN;
    ngx_strlow(out->data, in->data, NGX_HTTP_KPN_UUID_LEN);

    return NGX_OK;
}


/* the values of the variables, computed once for every template */

static ngx_int_t
ngx_http_kpn_command_texts(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd)
{
    u_char     *p;
    size_t      n;
    ngx_str_t   bytes;
    ngx_str_t  *ref;

    cmd->dev_eui_lower.len = cmd->dev_eui.len;
    cmd->dev_eui_lower.data = ngx_pnalloc(pool, cmd->dev_eui.len);
    if (cmd->dev_eui_lower.data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(cmd->dev_eui_lower.data, cmd->dev_eui.data, cmd->dev_eui.len);

    /* 1 .. 223: up to three digits, without ngx_sprintf() */

    p = ngx_pnalloc(pool, 3);
    if (p == NULL) {
        return NGX_ERROR;
    }

    cmd->port_text.data = p;

    if (cmd->port >= 100) {
        *p++ = (u_char) ('0' + cmd->port / 100);
    }

    if (cmd->port >= 10) {
        *p++ = (u_char) ('0' + cmd->port / 10 % 10);
    }

    *p++ = (u_char) ('0' + cmd->port % 10);

    cmd->port_text.len = p - cmd->port_text.data;

    /* the payload in base64: the bytes the hex stands for */

    bytes.len = cmd->payload.len / 2;
    bytes.data = ngx_pnalloc(pool, bytes.len);
    if (bytes.data == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_kpn_hex_decode(bytes.data, cmd->payload.data,
                                cmd->payload.len)
        != NGX_OK)
    {
        return NGX_ERROR;   /* validated above */
    }

    cmd->payload_base64.data = ngx_pnalloc(pool,
                                          ngx_base64_encoded_length(bytes.len));
    if (cmd->payload_base64.data == NULL) {
        return NGX_ERROR;
    }

    ngx_encode_base64(&cmd->payload_base64, &bytes);

    /* externalReference, for a JSON string and for a query string */

    ref = &cmd->reference;

    ngx_str_null(&cmd->reference_json);
    ngx_str_null(&cmd->reference_arg);

    if (ref->len == 0) {
        return NGX_OK;
    }

    cmd->reference_json.len = ngx_http_kpn_command_json(NULL, ref->data,
                                                        ref->len);
    cmd->reference_json.data = ngx_pnalloc(pool, cmd->reference_json.len);
    if (cmd->reference_json.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_kpn_command_json(cmd->reference_json.data, ref->data,
                                     ref->len);

    n = ngx_escape_uri(NULL, ref->data, ref->len, NGX_ESCAPE_URI_COMPONENT);

    cmd->reference_arg.len = ref->len + 2 * n;
    cmd->reference_arg.data = ngx_pnalloc(pool, cmd->reference_arg.len);
    if (cmd->reference_arg.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_escape_uri(cmd->reference_arg.data, ref->data, ref->len,
                          NGX_ESCAPE_URI_COMPONENT);

    return NGX_OK;
}


/*
 * Text for the inside of a JSON string, in ASCII alone, so that it is the
 * same in any charset and may go into a header too: '"' and '\' escaped,
 * \b \f \n \r \t, other control characters and DEL as \u00 and two hex
 * digits, every character beyond ASCII as \u and four (a surrogate pair
 * beyond U+FFFF; U+2028 and U+2029 included).  The input is UTF-8 from
 * the reader; a byte that is not part of a character (never, from it)
 * becomes \ufffd.  With dst NULL, only the length.
 */

static size_t
ngx_http_kpn_command_json(u_char *dst, u_char *src, size_t len)
{
    u_char    *p, *last, c, esc;
    size_t     n;
    uint32_t   u;
    ngx_int_t  k;

    n = 0;
    p = src;
    last = src + len;

    while (p < last) {
        c = *p;

        if (c >= 0x20 && c < 0x7f) {
            p++;

            if (c == '"' || c == '\\') {
                n += 2;

                if (dst) {
                    *dst++ = '\\';
                    *dst++ = c;
                }

            } else {
                n++;

                if (dst) {
                    *dst++ = c;
                }
            }

            continue;
        }

        if (c < 0x80) {
            p++;

            switch (c) {
            case '\b': esc = 'b'; break;
            case '\f': esc = 'f'; break;
            case '\n': esc = 'n'; break;
            case '\r': esc = 'r'; break;
            case '\t': esc = 't'; break;
            default:   esc = 0;
            }

            if (esc) {
                n += 2;

                if (dst) {
                    *dst++ = '\\';
                    *dst++ = esc;
                }

                continue;
            }

            u = c;

        } else {
            k = ngx_http_kpn_utf8_decode(p, last - p, &u);

            if (k > 0) {
                p += k;

            } else {
                p++;
                u = 0xfffd;
            }
        }

        if (u < 0x10000) {
            n += 6;

            if (dst) {
                dst = ngx_http_kpn_command_u(dst, u);
            }

            continue;
        }

        n += 12;

        if (dst) {
            u -= 0x10000;
            dst = ngx_http_kpn_command_u(dst, 0xd800 + (u >> 10));
            dst = ngx_http_kpn_command_u(dst, 0xdc00 + (u & 0x3ff));
        }
    }

    return n;
}


static u_char *
ngx_http_kpn_command_u(u_char *dst, uint32_t u)
{
    static u_char  hex[] = "0123456789abcdef";

    *dst++ = '\\';
    *dst++ = 'u';
    *dst++ = hex[(u >> 12) & 0xf];
    *dst++ = hex[(u >> 8) & 0xf];
    *dst++ = hex[(u >> 4) & 0xf];
    *dst++ = hex[u & 0xf];

    return dst;
}


ngx_int_t
ngx_http_kpn_command_args(ngx_pool_t *pool, ngx_http_kpn_command_t *cmd,
    ngx_str_t *args)
{
    u_char  *p;
    size_t   len;

    len = sizeof("port=") - 1 + cmd->port_text.len
          + sizeof("&externalReference=") - 1 + cmd->reference_arg.len;

    args->data = ngx_pnalloc(pool, len);
    if (args->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(args->data, "port=", sizeof("port=") - 1);
    p = ngx_cpymem(p, cmd->port_text.data, cmd->port_text.len);

    if (cmd->reference_arg.len) {
        p = ngx_cpymem(p, "&externalReference=",
                       sizeof("&externalReference=") - 1);
        p = ngx_cpymem(p, cmd->reference_arg.data, cmd->reference_arg.len);
    }

    args->len = p - args->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_kpn_command_query(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    u_char         *p;
    size_t          i, n;
    static u_char   hex[] = "0123456789ABCDEF";

    n = 0;

    for (i = 0; i < in->len; i++) {
        if (!ngx_http_kpn_command_query_char(in->data[i])) {
            n++;
        }
    }

    if (n == 0) {
        *out = *in;
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, in->len + 2 * n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < in->len; i++) {
        if (ngx_http_kpn_command_query_char(in->data[i])) {
            *p++ = in->data[i];
            continue;
        }

        *p++ = '%';
        *p++ = hex[in->data[i] >> 4];
        *p++ = hex[in->data[i] & 0xf];
    }

    out->len = p - out->data;

    return NGX_OK;
}


/* RFC 3986: unreserved, sub-delims, ":", "@", "/", "?"; and "%" */

static ngx_uint_t
ngx_http_kpn_command_query_char(u_char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return c != '\0' && ngx_strchr("-._~!$&'()*+,;=:@/?%", c) != NULL;
}
