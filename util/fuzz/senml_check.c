
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Checks ngx_http_kpn_senml_parse() and _envelope() outside nginx:
 * docs/protocol.md's published bodies, the token test vector and the error
 * cases, each with the exact expected output; and the envelope's
 * numbers, a million doubles written byte for byte as the reference writer
 * (senml_reference.h) writes them.  Build and run it with
 * util/fuzz/fuzz.sh --check (AddressSanitizer) or under valgrind.
 * "-v" prints every envelope and error.
 */


#include "ngx_http_kpn_senml.h"
#include "ngx_http_kpn_envelope.h"
#include "ngx_http_kpn_device.h"
#include "senml_reference.h"

#include <math.h>


typedef struct {
    char        *body;
    ngx_int_t    rc;
    ngx_uint_t   status;       /* for NGX_DECLINED */
    char        *expect;       /* envelope, or "code: message" */
    char        *vars;         /* "time|port|payload|fcnt|rssi|snr" */
} senml_case_t;


/* "[[[ ... ]]]" beyond jansson's depth limit, made in main() */
static char  depth_bomb[2 * 3000 + 1];

#define DEPTH_BOMB  depth_bomb


static senml_case_t  cases[] = {

    /* docs/protocol.md 1.1: the token test vector */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bt\":1.765739955219e9,"
      "\"n\":\"payload\",\"vs\":\"763d0028\"},{\"n\":\"port\",\"v\":1.0}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\","
      "\"deviceIdentifier\":\"0059AC00001B3461\","
      "\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\","
      "\"idType\":\"DEVEUI\","
      "\"deviceType\":\"dragino-lds01\",\"time\":1765739955.219,\"port\":1,"
      "\"payloadHex\":\"763d0028\"},"
      "\"records\":[{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:payload\","
      "\"t\":1765739955.219,\"vs\":\"763d0028\"},"
      "{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:port\",\"t\":1765739955.219,"
      "\"v\":1}]}",
      "1765739955.219|1|763d0028|||" },

    /* docs/protocol.md 1.3: KPN documentation, legacy layout */
    { "[{\"bn\":\"urn:dev:DEVEUI:0123456789ABCDEF:\",\"bt\":1.58565075E9}"
      ",\n {\"n\":\"temperature\",\"v\":20.5,\"u\":\"Cel\"},{\"n\":\"batt"
      "eryVoltage\",\"v\":3.6,\"u\":\"V\",\"t\":10},\n {\"n\":\"active\","
      "\"vb\":true},{\"n\":\"modus\",\"vs\":\"Active\"},{\"n\":\"image\","
      "\"vd\":\"aGFsbG9vb29vISE=\"}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0123456789A"
      "BCDEF\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0123456789ABCDEF:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":158565"
      "0750},\"records\":[{\"n\":\"urn:dev:DEVEUI:0123456789ABCDEF:temper"
      "ature\",\"u\":\"Cel\",\"t\":1585650750,\"v\":20.5},{\"n\":\"urn:de"
      "v:DEVEUI:0123456789ABCDEF:batteryVoltage\",\"u\":\"V\",\"t\":15856"
      "50760,\"v\":3.6},{\"n\":\"urn:dev:DEVEUI:0123456789ABCDEF:active\""
      ",\"t\":1585650750,\"vb\":true},{\"n\":\"urn:dev:DEVEUI:0123456789A"
      "BCDEF:modus\",\"t\":1585650750,\"vs\":\"Active\"},{\"n\":\"urn:dev"
      ":DEVEUI:0123456789ABCDEF:image\",\"t\":1585650750,\"vd\":\"aGFsbG9"
      "vb29vISE=\"}]}",
      "1585650750|||||" },

    /* docs/protocol.md 1.3: raw payload, legacy layout */
    { "[{\"bn\":\"urn:dev:DEVEUI:0018B21000008C47:\",\"bt\":1654194188},"
      "\n {\"n\":\"payload\",\"vs\":\"6a0000e42c01a900e42c01a500e42c01a50"
      "0e42c01a600e42c01a900e42c01ab\"},\n {\"n\":\"port\",\"v\":1}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0018B210000"
      "08C47\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0018B21000008C47:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":165419"
      "4188,\"port\":1,\"payloadHex\":\"6a0000e42c01a900e42c01a500e42c01a"
      "500e42c01a600e42c01a900e42c01ab\"},\"records\":[{\"n\":\"urn:dev:D"
      "EVEUI:0018B21000008C47:payload\",\"t\":1654194188,\"vs\":\"6a0000e"
      "42c01a900e42c01a500e42c01a500e42c01a600e42c01a900e42c01ab\"},{\"n"
      "\":\"urn:dev:DEVEUI:0018B21000008C47:port\",\"t\":1654194188,\"v\""
      ":1}]}",
      "1654194188|1|6a0000e42c01a900e42c01a500e42c01a500e42c01a600e42c01a"
      "900e42c01ab|||" },

    /* docs/protocol.md 1.3: raw payload, merged layout */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC0000000000:\",\"bt\":1.76675482e9,"
      "\"n\":\"payload\",\n  \"vs\":\"1b0c6e0c6a640a01ffcd7304000c0a09460"
      "00300020002000200010001000100010001000007000000000000\"},\n {\"n\""
      ":\"port\",\"v\":3.0},{\"n\":\"timeOrigin\",\"vs\":\"NETWORK\"}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00000"
      "00000\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC0000000000:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":176675"
      "4820,\"port\":3,\"payloadHex\":\"1b0c6e0c6a640a01ffcd7304000c0a094"
      "6000300020002000200010001000100010001000007000000000000\"},\"recor"
      "ds\":[{\"n\":\"urn:dev:DEVEUI:0059AC0000000000:payload\",\"t\":176"
      "6754820,\"vs\":\"1b0c6e0c6a640a01ffcd7304000c0a0946000300020002000"
      "200010001000100010001000007000000000000\"},{\"n\":\"urn:dev:DEVEUI"
      ":0059AC0000000000:port\",\"t\":1766754820,\"v\":3},{\"n\":\"urn:de"
      "v:DEVEUI:0059AC0000000000:timeOrigin\",\"t\":1766754820,\"vs\":\"N"
      "ETWORK\"}]}",
      "1766754820|3|1b0c6e0c6a640a01ffcd7304000c0a09460003000200020002000"
      "10001000100010001000007000000000000|||" },

    /* docs/protocol.md 1.3: extended metadata */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bt\":1.76573995521"
      "9e9,\"n\":\"payload\",\"vs\":\"763d0028\"},\n {\"n\":\"port\",\"v"
      "\":1.0},{\"n\":\"FCntUp\",\"v\":0.0},{\"n\":\"FCntDn\",\"v\":1.0},"
      "{\"n\":\"LrrRSSI\",\"v\":-107.0},\n {\"n\":\"LrrSNR\",\"v\":3.0},{"
      "\"n\":\"LrrESP\",\"v\":-108.764351},{\"n\":\"DevLrrCnt\",\"v\":2.0"
      "},\n {\"n\":\"SpFact\",\"v\":8.0},{\"n\":\"SubBand\",\"vs\":\"G1\""
      "},{\"n\":\"Channel\",\"vs\":\"LC3\"},\n {\"n\":\"ADRbit\",\"v\":1."
      "0},{\"n\":\"timeOrigin\",\"vs\":\"NETWORK\"}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":176573"
      "9955.219,\"port\":1,\"payloadHex\":\"763d0028\",\"fCntUp\":0,\"rss"
      "i\":-107,\"snr\":3},\"records\":[{\"n\":\"urn:dev:DEVEUI:0059AC000"
      "01B3461:payload\",\"t\":1765739955.219,\"vs\":\"763d0028\"},{\"n\""
      ":\"urn:dev:DEVEUI:0059AC00001B3461:port\",\"t\":1765739955.219,\"v"
      "\":1},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:FCntUp\",\"t\":1765"
      "739955.219,\"v\":0},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:FCntD"
      "n\",\"t\":1765739955.219,\"v\":1},{\"n\":\"urn:dev:DEVEUI:0059AC00"
      "001B3461:LrrRSSI\",\"t\":1765739955.219,\"v\":-107},{\"n\":\"urn:d"
      "ev:DEVEUI:0059AC00001B3461:LrrSNR\",\"t\":1765739955.219,\"v\":3},"
      "{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:LrrESP\",\"t\":1765739955"
      ".219,\"v\":-108.764351},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:D"
      "evLrrCnt\",\"t\":1765739955.219,\"v\":2},{\"n\":\"urn:dev:DEVEUI:0"
      "059AC00001B3461:SpFact\",\"t\":1765739955.219,\"v\":8},{\"n\":\"ur"
      "n:dev:DEVEUI:0059AC00001B3461:SubBand\",\"t\":1765739955.219,\"vs"
      "\":\"G1\"},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:Channel\",\"t"
      "\":1765739955.219,\"vs\":\"LC3\"},{\"n\":\"urn:dev:DEVEUI:0059AC00"
      "001B3461:ADRbit\",\"t\":1765739955.219,\"v\":1},{\"n\":\"urn:dev:D"
      "EVEUI:0059AC00001B3461:timeOrigin\",\"t\":1765739955.219,\"vs\":\""
      "NETWORK\"}]}",
      "1765739955.219|1|763d0028|0|-107|3" },

    /* docs/protocol.md 1.3: geolocation */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bt\":1.76573996026"
      "e9,\"n\":\"locOrigin\",\"vs\":\"KPNLORA\"},\n {\"n\":\"latitude\","
      "\"u\":\"lat\",\"v\":52.266785},{\"n\":\"longitude\",\"u\":\"lon\","
      "\"v\":4.630842},\n {\"n\":\"radius\",\"u\":\"m\",\"v\":356.820465}"
      ",{\"n\":\"locMethod\",\"vs\":\"TDOA\"},\n {\"n\":\"locTime\",\"u\""
      ":\"s\",\"v\":1.76573996026e9}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":176573"
      "9960.26},\"records\":[{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:loc"
      "Origin\",\"t\":1765739960.26,\"vs\":\"KPNLORA\"},{\"n\":\"urn:dev:"
      "DEVEUI:0059AC00001B3461:latitude\",\"u\":\"lat\",\"t\":1765739960."
      "26,\"v\":52.266785},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:longi"
      "tude\",\"u\":\"lon\",\"t\":1765739960.26,\"v\":4.630842},{\"n\":\""
      "urn:dev:DEVEUI:0059AC00001B3461:radius\",\"u\":\"m\",\"t\":1765739"
      "960.26,\"v\":356.820465},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:"
      "locMethod\",\"t\":1765739960.26,\"vs\":\"TDOA\"},{\"n\":\"urn:dev:"
      "DEVEUI:0059AC00001B3461:locTime\",\"u\":\"s\",\"t\":1765739960.26,"
      "\"v\":1765739960.26}]}",
      "1765739960.26|||||" },

    /* DevEUI in lower case, base name again in a later record: every
       record name carries the normalised device part */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059ac00001b3461:\",\"n\":\"payload\",\""
      "vs\":\"00\"},{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\""
      "port\",\"v\":2}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"port\":2,\"pa"
      "yloadHex\":\"00\"},\"records\":[{\"n\":\"urn:dev:DEVEUI:0059AC0000"
      "1B3461:payload\",\"vs\":\"00\"},{\"n\":\"urn:dev:DEVEUI:0059AC0000"
      "1B3461:port\",\"v\":2}]}",
      "|2|00|||" },

    /* IMEI */
    { "[{\"bn\":\"urn:dev:IMEI:123456789012345:\",\"n\":\"temperature\","
      "\"u\":\"Cel\",\"v\":21.1,\"t\":-5}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"12345678901"
      "2345\",\"kpn\":{\"urn\":\"urn:dev:IMEI:123456789012345:\",\"idType"
      "\":\"IMEI\",\"deviceType\":\"dragino-lds01\",\"time\":-5},\"record"
      "s\":[{\"n\":\"urn:dev:IMEI:123456789012345:temperature\",\"u\":\"C"
      "el\",\"t\":-5,\"v\":21.1}]}",
      "-5|||||" },

    /* DVNUUID, upper case normalised to lower, in the names too */
    { "[{\"bn\":\"urn:dev:DVNUUID:0A1B2C3D-4E5F-6789-ABCD-EF0123456789:\""
      ",\"n\":\"x\",\"vb\":false}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0a1b2c3d-4e"
      "5f-6789-abcd-ef0123456789\",\"kpn\":{\"urn\":\"urn:dev:DVNUUID:0a1"
      "b2c3d-4e5f-6789-abcd-ef0123456789:\",\"idType\":\"DVNUUID\",\"devi"
      "ceType\":\"dragino-lds01\"},\"records\":[{\"n\":\"urn:dev:DVNUUID:"
      "0a1b2c3d-4e5f-6789-abcd-ef0123456789:x\",\"vb\":false}]}",
      "|||||" },

    /* base value, base sum, base unit, sum without value, update time */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bv\":10,\"bs\":100"
      ",\"bu\":\"W\",\"bver\":10},{\"n\":\"a\",\"v\":1.5},{\"n\":\"b\",\""
      "s\":5,\"ut\":60.0},{\"n\":\"c\",\"v\":2,\"s\":1,\"u\":\"kW\"}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:a\",\"u\":\"W\",\"v\":11.5"
      "},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:b\",\"u\":\"W\",\"s\":1"
      "05,\"ut\":60},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:c\",\"u\":"
      "\"kW\",\"v\":12,\"s\":101}]}",
      "|||||" },

    /* exact big integers, a real >= 2^53, -0.0 */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":90"
      "07199254740993},{\"n\":\"b\",\"v\":1e20},{\"n\":\"c\",\"v\":-0.0},"
      "{\"n\":\"d\",\"v\":1.0e-7}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:a\",\"v\":9007199254740993"
      "},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:b\",\"v\":1e20},{\"n\":"
      "\"urn:dev:DEVEUI:0059AC00001B3461:c\",\"v\":0},{\"n\":\"urn:dev:DE"
      "VEUI:0059AC00001B3461:d\",\"v\":1e-7}]}",
      "|||||" },

    /* extreme doubles print in as many digits as it takes to read back
       the same value: DBL_MAX with 15 digits would be past DBL_MAX */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1."
      "7976931348623157e308},{\"n\":\"b\",\"v\":-1.7976931348623157e308},"
      "{\"n\":\"c\",\"v\":5e-324},{\"n\":\"d\",\"v\":2.2250738585072014e-3"
      "08},{\"n\":\"e\",\"v\":0.30000000000000004},{\"n\":\"f\",\"v\":0.1}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:a\",\"v\":1.7976931348623157"
      "e308},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:b\",\"v\":-1.7976931"
      "348623157e308},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:c\",\"v\":4."
      "94065645841247e-324},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:d\","
      "\"v\":2.2250738585072014e-308},{\"n\":\"urn:dev:DEVEUI:0059AC00001B"
      "3461:e\",\"v\":0.30000000000000004},{\"n\":\"urn:dev:DEVEUI:0059AC0"
      "0001B3461:f\",\"v\":0.1}]}",
      "|||||" },

    /* no times at all */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"payload\",\""
      "vs\":\"ab\"},{\"n\":\"port\",\"v\":1}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"port\":1,\"pa"
      "yloadHex\":\"ab\"},\"records\":[{\"n\":\"urn:dev:DEVEUI:0059AC0000"
      "1B3461:payload\",\"vs\":\"ab\"},{\"n\":\"urn:dev:DEVEUI:0059AC0000"
      "1B3461:port\",\"v\":1}]}",
      "|1|ab|||" },

    /* payload record without time: time of the first record */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1,"
      "\"t\":1700000000},{\"n\":\"payload\",\"vs\":\"ab\"}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":170000"
      "0000,\"payloadHex\":\"ab\"},\"records\":[{\"n\":\"urn:dev:DEVEUI:0"
      "059AC00001B3461:a\",\"t\":1700000000,\"v\":1},{\"n\":\"urn:dev:DEV"
      "EUI:0059AC00001B3461:payload\",\"vs\":\"ab\"}]}",
      "1700000000||ab|||" },

    /* payload record with its own time */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bt\":1700000000,\""
      "n\":\"a\",\"v\":1},{\"n\":\"payload\",\"vs\":\"ab\",\"t\":0.5}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":170000"
      "0000.5,\"payloadHex\":\"ab\"},\"records\":[{\"n\":\"urn:dev:DEVEUI"
      ":0059AC00001B3461:a\",\"t\":1700000000,\"v\":1},{\"n\":\"urn:dev:D"
      "EVEUI:0059AC00001B3461:payload\",\"t\":1700000000.5,\"vs\":\"ab\"}"
      "]}",
      "1700000000.5||ab|||" },

    /* port not an integer: left out; unknown keys ignored */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"port\",\"v\""
      ":1.5,\"foo\":1,\"_x\":{}}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:port\",\"v\":1.5}]}",
      "|||||" },

    /* name of the device URN alone (no measurement name) */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"v\":1}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"v\":1}]}",
      "|||||" },

    /* vd in base64url without padding */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"image\",\"vd"
      "\":\"aGFsbG9vb29vISE_-w\"}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:image\",\"vd\":\"aGFsbG9vb"
      "29vISE_-w\"}]}",
      "|||||" },

    /* the device part of every name normalised, as docs/directives.md says */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059ac00001b3461:\",\"n\":\"port\",\"v\""
      ":2}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"port\":2},\"r"
      "ecords\":[{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:port\",\"v\":2}"
      "]}",
      "|2||||" },

    /* a device id split between bn and n, normalised in the name */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059ac\",\"n\":\"00001b3461:x\",\"bt\":1"
      "700000000.25,\"v\":1}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":170000"
      "0000.25},\"records\":[{\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:x\""
      ",\"t\":1700000000.25,\"v\":1}]}",
      "1700000000.25|||||" },

    /* escaping as json_dumpb(): short escapes, \u00XX in upper case,
       DEL and non-ASCII as they are */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"u\":\""
      "\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f \\u00e9\\u20ac\\ud83"
      "d\\ude00\",\"vs\":\"x\\u001Fy<>&\"}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:a\",\"u\":\"\\\"\\\\/\\b\\"
      "f\\n\\r\\t\\u0001\\u001F\177 \303\251\342\202\254\360\237\230\200"
      "\",\"vs\":\"x\\u001Fy<>&\"}]}",
      "|||||" },

    /* reals as json_dumpb() with JSON_REAL_PRECISION(15) */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1."
      "5e300},{\"n\":\"b\",\"v\":-1.25e-5},{\"n\":\"c\",\"v\":0.1},{\"n\""
      ":\"d\",\"v\":123456.7890123456789},{\"n\":\"e\",\"v\":100000000000"
      "0000.3},{\"n\":\"f\",\"v\":-1e-300},{\"n\":\"g\",\"v\":90071992547"
      "40993.0},{\"n\":\"h\",\"v\":1e16},{\"n\":\"i\",\"v\":-922337203685"
      "4775808},{\"n\":\"j\",\"v\":0.000123},{\"n\":\"k\",\"v\":1e-5}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\"},\"records\":[{"
      "\"n\":\"urn:dev:DEVEUI:0059AC00001B3461:a\",\"v\":1.5e300},{\"n\":"
      "\"urn:dev:DEVEUI:0059AC00001B3461:b\",\"v\":-1.25e-5},{\"n\":\"urn"
      ":dev:DEVEUI:0059AC00001B3461:c\",\"v\":0.1},{\"n\":\"urn:dev:DEVEU"
      "I:0059AC00001B3461:d\",\"v\":123456.78901234567},{\"n\":\"urn:dev:"
      "DEVEUI:0059AC00001B3461:e\",\"v\":1000000000000000.2},{\"n\":\"urn:"
      "dev:DEVEUI:0059"
      "AC00001B3461:f\",\"v\":-1e-300},{\"n\":\"urn:dev:DEVEUI:0059AC0000"
      "1B3461:g\",\"v\":9007199254740992.0},{\"n\":\"urn:dev:DEVEUI:0059"
      "AC00001B3461:h\",\"v\":1e16},{\"n\":\"urn:dev:DEVEUI:0059AC00001B3"
      "461:i\",\"v\":-9223372036854775808},{\"n\":\"urn:dev:DEVEUI:0059AC"
      "00001B3461:j\",\"v\":0.000123},{\"n\":\"urn:dev:DEVEUI:0059AC00001"
      "B3461:k\",\"v\":1e-5}]}",
      "|||||" },

    /* integer overflow: the sums become reals */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bt\":9223372036854"
      "775807,\"n\":\"a\",\"t\":1,\"v\":9223372036854775807,\"bv\":1}]",
      NGX_OK, 0,
      "{\"deviceTypeHashId\":\"wasd2\",\"deviceIdentifier\":\"0059AC00001"
      "B3461\",\"kpn\":{\"urn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"id"
      "Type\":\"DEVEUI\",\"deviceType\":\"dragino-lds01\",\"time\":9.2233"
      "72036854776e18},\"records\":[{\"n\":\"urn:dev:DEVEUI:0059AC00001B"
      "3461:a\",\"t\":9.223372036854776e18,\"v\":9.223372036854776e18}]}",
      "9.223372036854776e18|||||" },

    /* a type error wins over a must-understand key before it */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"x_\":1"
      ",\"u\":1,\"v\":1}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: \"u\" must be a string", NULL },

    /* invalid_json: syntax */
    { "[{\"n\":1,}]",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 9: string or '}' expected near '}]'",
      NULL },

    /* invalid_json: trailing data */
    { "[{}] x",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 6: end of input expected near 'x'",
      NULL },

    /* invalid_json: duplicate key */
    { "[{\"n\":\"a\",\"n\":\"b\"}]",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 15: duplicate object key near '\"b\"}]'",
      NULL },

    /* invalid_json: integer too big */
    { "[{\"v\":123456789012345678901234567890}]",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 7: too big integer near '12345678901234"
      "56...'", NULL },

    /* invalid_json: truncated */
    { "[{\"bn\":\"urn:dev",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 16: premature end of input at the end",
      NULL },

    /* invalid_json: second line */
    { "[\n {\"n\":\"a\", \"v\":01}]",
      NGX_DECLINED, 400,
      "invalid_json: line 2 column 16: invalid token near '01}]'", NULL },

    /* invalid_json: empty body */
    { "",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 1: '[' or '{' expected at the end",
      NULL },

    /* invalid_json: invalid UTF-8 */
    { "[{\"n\":\"\xff" "\"}]",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 8: unable to decode byte near '?\"}]'",
      NULL },

    /* invalid_json: escaped NUL */
    { "[{\"vs\":\"a\\u0000b\"}]",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 10: \\u0000 is not allowed near '\\u000"
      "0b\"}]'", NULL },

    /* invalid_json: depth bomb */
    { DEPTH_BOMB,
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 2049: maximum parsing depth reached ne"
      "ar '[[[[[[[[[[[[[[[[...'", NULL },

    /* invalid_json: real overflow */
    { "[{\"v\":1e400}]",
      NGX_DECLINED, 400,
      "invalid_json: line 1 column 7: real number overflow near '1e400}]'",
      NULL },

    /* invalid_senml: not an array */
    { "{\"bn\":\"x\"}",
      NGX_DECLINED, 400,
      "invalid_senml: the pack must be an array of records", NULL },

    /* invalid_senml: empty pack */
    { "[]",
      NGX_DECLINED, 400,
      "invalid_senml: the pack is empty", NULL },

    /* invalid_senml: record not an object */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1}"
      ",2]",
      NGX_DECLINED, 400,
      "invalid_senml: record 1: not an object", NULL },

    /* invalid_senml: v not a number */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1}"
      ",{\"n\":\"b\",\"v\":\"1\"}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 1: \"v\" must be a number", NULL },

    /* invalid_senml: bn not a string */
    { "[{\"bn\":1,\"n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: \"bn\" must be a string", NULL },

    /* invalid_senml: vb not a boolean */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"vb\":1"
      "}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: \"vb\" must be true or false", NULL },

    /* invalid_senml: vd not base64 */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"vd\":"
      "\"aGFsbG8=x\"}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: \"vd\" must be a base64 string", NULL },

    /* invalid_senml: vd bad length */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"vd\":"
      "\"aGFsb\"}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: \"vd\" must be a base64 string", NULL },

    /* invalid_senml: bver not a positive integer */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bver\":1.5,\"n\":"
      "\"a\",\"v\":1}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: \"bver\" must be a positive integer", NULL },

    /* invalid_senml: must-understand key */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1,"
      "\"ct_\":\"x\"}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: unsupported must-understand field \"ct_\"",
      NULL },

    /* invalid_senml: long must-understand key cut at a character */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1,"
      "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\\nbbbbbbbbbbbbbbbbbbbbbbb"
      "bbbbbbbbbbbbbbbbb_\":1}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: unsupported must-understand field \"aaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaa\"", NULL },

    /* invalid_senml: two values */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1,"
      "\"vs\":\"x\"}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: more than one value field", NULL },

    /* invalid_senml: no value */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\"},{\"n\":\"a\",\"u\":"
      "\"Cel\"}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 1: no value field (\"v\", \"vs\", \"vb\" or "
      "\"vd\")", NULL },

    /* invalid_senml: base fields only */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bt\":1}]",
      NGX_DECLINED, 400,
      "invalid_senml: the pack has no record with a value", NULL },

    /* invalid_senml: empty name */
    { "[{\"v\":1}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: the name (\"bn\" + \"n\") is empty", NULL },

    /* invalid_senml: name starts with a dash */
    { "[{\"n\":\"-a\",\"v\":1}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: the name (\"bn\" + \"n\") must start with"
      " a letter or digit", NULL },

    /* invalid_senml: space in name */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a b\",\"v\":"
      "1}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: the name (\"bn\" + \"n\") may hold only a"
      "-z A-Z 0-9 - : . / _", NULL },

    /* invalid_senml: time overflow */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"bt\":1e308,\"n\":"
      "\"a\",\"v\":1,\"t\":1e308}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 0: \"t\" is out of range", NULL },

    /* invalid_senml wins over unknown_device */
    { "[{\"bn\":\"urn:dev:MAC:01:\",\"n\":\"a\",\"v\":1},{\"n\":\"b\",\"v"
      "\":true}]",
      NGX_DECLINED, 400,
      "invalid_senml: record 1: \"v\" must be a number", NULL },

    /* unknown_device: no base name */
    { "[{\"n\":\"temperature\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: no base name (\"bn\") with a device URN",
      NULL },

    /* unknown_device: not urn:dev: */
    { "[{\"bn\":\"device1:\",\"n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: the name does not start with \"urn:dev:"
      "\"", NULL },

    /* unknown_device: unknown type */
    { "[{\"bn\":\"urn:dev:MAC:0011223344556677:\",\"n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: unknown device URN type \"MAC\" (DEVEUI,"
      " IMEI or DVNUUID expected)", NULL },

    /* unknown_device: type case-sensitive */
    { "[{\"bn\":\"urn:dev:deveui:0059AC00001B3461:\",\"n\":\"a\",\"v\":1}"
      "]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: unknown device URN type \"deveui\" (DEVE"
      "UI, IMEI or DVNUUID expected)", NULL },

    /* unknown_device: type without id */
    { "[{\"bn\":\"urn:dev:DEVEUI\",\"n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: unknown device URN type \"DEVEUIa\" (DEV"
      "EUI, IMEI or DVNUUID expected)", NULL },

    /* unknown_device: DevEUI too short */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B346:\",\"n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: a DEVEUI must be 16 hex digits followed "
      "by \":\"", NULL },

    /* unknown_device: DevEUI not hex */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B346G:\",\"n\":\"a\",\"v\":1}"
      "]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: a DEVEUI must be 16 hex digits followed "
      "by \":\"", NULL },

    /* unknown_device: DevEUI without closing colon */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461\",\"n\":\"\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: a DEVEUI must be 16 hex digits followed "
      "by \":\"", NULL },

    /* unknown_device: IMEI of 14 digits */
    { "[{\"bn\":\"urn:dev:IMEI:12345678901234:\",\"n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: an IMEI must be 15 digits followed by \""
      ":\"", NULL },

    /* unknown_device: DVNUUID not a UUID */
    { "[{\"bn\":\"urn:dev:DVNUUID:0a1b2c3d4e5f67890abcdef0123456789:\",\""
      "n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: a DVNUUID must be a UUID followed by \":"
      "\"", NULL },

    /* unknown_device: several devices */
    { "[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",\"n\":\"a\",\"v\":1}"
      ",{\"n\":\"b\",\"v\":1},{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3462:"
      "\",\"n\":\"c\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: records of several devices (record 0 and record 2)",
      NULL },

    /* unknown_device: long type cut */
    { "[{\"bn\":\"urn:dev:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
      "XXX:1:\",\"n\":\"a\",\"v\":1}]",
      NGX_DECLINED, 422,
      "unknown_device: record 0: unknown device URN type \"XXXXXXXXXXXXXX"
      "XXXXXXXXXXXXXXXXXX\" (DEVEUI, IMEI or DVNUUID expected)", NULL },

    { NULL, 0, 0, NULL, NULL }
};


static int  verbose;


static uint64_t  rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}


/* as the pack resolves it: integral and exact is an integer */

static int
check_number(double d)
{
    u_char                       a[64], b[64], *ea, *eb;
    ngx_http_kpn_senml_number_t  num;

    if (!isfinite(d)) {
        return 0;
    }

    ngx_memzero(&num, sizeof(num));

    if (d > -9007199254740992.0 && d < 9007199254740992.0
        && d == (double) (int64_t) d)
    {
        num.is_integer = 1;
        num.integer = (int64_t) d;

    } else {
        num.real = d;
    }

    ea = ngx_http_kpn_envelope_number(a, &num);
    eb = ngx_http_kpn_reference_number(b, &num);

    if (ea - a != eb - b || memcmp(a, b, ea - a) != 0) {
        printf("number %.17g: \"%.*s\", expected \"%.*s\"\n", d,
               (int) (ea - a), a, (int) (eb - b), b);
        return 1;
    }

    return 0;
}


static int
check_numbers(ngx_uint_t n)
{
    int         failed;
    double      d, scale;
    int64_t     m;
    uint64_t    bits;
    ngx_uint_t  i, k;

    static double  edges[] = {
        1e-4, 1.0000000000000001e-4, 9.9999999999999991e-5, 0.00012345,
        1e15, 999999999999999.9, 999999999999999.5, 99999999999999.99,
        0.1, 0.2, 0.30000000000000004, 1.5, 2.5, -108.764351,
        1765739955.219, 1.58565075e9, 20.5, 3.6, 1.7976931348623157e308,
        2.2250738585072014e-308, 4.9406564584124654e-324, 9007199254740993.0,
        4503599627370495.5, 0.1234567890123456, 123456.7890123456,
        1e-5, 1.5e-5, 5e-324, -0.0001, 123456789012345.6, 12345678901234.56
    };

    failed = 0;

    for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
        failed += check_number(edges[i]);
        failed += check_number(-edges[i]);
        failed += check_number(nextafter(edges[i], 0.0));
        failed += check_number(nextafter(edges[i], 1e308));
    }

    for (i = 0; i < n && failed < 10; i++) {
        bits = next_random();

        switch (i % 4) {

        case 0:
            /* any double */
            ngx_memcpy(&d, &bits, sizeof(double));
            break;

        case 1:
            /* a short decimal, as packs carry them: m / 10^k */
            m = (int64_t) (bits >> 4) % 1000000000000000LL;
            k = (bits & 0xf) + 1;
            for (scale = 1.0; k; k--) {
                scale *= 10.0;
            }
            d = (double) m / scale;
            if (bits & 0x10) {
                d = -d;
            }
            break;

        case 2:
            /* a sum of two such (bt + t): often 16 or 17 digits */
            d = (double) ((int64_t) (bits >> 20) % 10000000000LL) / 1000.0
                + (double) ((bits >> 4) & 0xffff) / 100.0;
            break;

        default:
            /* the doubles next to a short decimal */
            d = (double) ((int64_t) (bits >> 8) % 100000000LL) / 10000.0;
            d = (bits & 1) ? nextafter(d, 0.0) : nextafter(d, 1e300);
            break;
        }

        failed += check_number(d);
    }

    return failed;
}


static int
run(ngx_pool_t *pool, senml_case_t *c, ngx_uint_t n)
{
    u_char                buf[4096], *p;
    ngx_int_t             rc;
    ngx_str_t             body, out, type, hash;
    ngx_http_kpn_error_t  err;
    ngx_http_kpn_senml_t  pack;

    body.data = (u_char *) c->body;
    body.len = strlen(c->body);

    ngx_memzero(&err, sizeof(err));

    rc = ngx_http_kpn_senml_parse(pool, &body, 0, &pack, &err);

    if (rc != c->rc) {
        printf("case %d: rc %d, expected %d (%.*s)\n", (int) n, (int) rc,
               (int) c->rc, (int) err.message.len, err.message.data);
        return 1;
    }

    if (rc == NGX_DECLINED) {
        p = ngx_snprintf(buf, sizeof(buf), "%V: %V", &err.code, &err.message);
        *p = '\0';

        if (verbose) {
            printf("case %d: declined %d\n  %s\n", (int) n,
                   (int) err.status, buf);
        }

        if (err.status != c->status || strcmp((char *) buf, c->expect) != 0) {
            printf("case %d: got %d \"%s\"\n   expected %d \"%s\"\n", (int) n,
                   (int) err.status, buf, (int) c->status, c->expect);
            return 1;
        }

        return 0;
    }

    ngx_str_set(&type, "dragino-lds01");
    ngx_str_set(&hash, "wasd2");

    if (ngx_http_kpn_senml_envelope(pool, &pack, &type, &hash, &out)
        != NGX_OK)
    {
        printf("case %d: envelope failed\n", (int) n);
        return 1;
    }

    if (ngx_http_kpn_device_texts(pool, &pack) != NGX_OK) {
        printf("case %d: texts failed\n", (int) n);
        return 1;
    }

    p = ngx_snprintf(buf, sizeof(buf), "%V|%V|%V|%V|%V|%V", &pack.time_text,
                     &pack.port_text, &pack.payload_hex_text,
                     &pack.fcnt_up_text, &pack.rssi_text, &pack.snr_text);
    *p = '\0';

    if (verbose) {
        printf("case %d: ok\n  %.*s\n  %s\n", (int) n,
               (int) out.len, out.data, buf);
    }

    if (out.len != strlen(c->expect)
        || memcmp(out.data, c->expect, out.len) != 0
        || strcmp((char *) buf, c->vars) != 0)
    {
        printf("case %d: got\n  %.*s\n  %s\nexpected\n  %s\n  %s\n", (int) n,
               (int) out.len, out.data, buf, c->expect, c->vars);
        return 1;
    }

    return 0;
}


int
main(int argc, char **argv)
{
    int          failed;
    ngx_uint_t   n, k;
    ngx_pool_t  *pool;

    memset(depth_bomb, '[', 3000);
    memset(depth_bomb + 3000, ']', 3000);

    verbose = (argc > 1 && strcmp(argv[1], "-v") == 0);

    failed = 0;

    for (n = 0; cases[n].body; n++) {
        pool = ngx_create_pool(4096, NULL);
        if (pool == NULL) {
            return 2;
        }

        failed += run(pool, &cases[n], n);

        ngx_destroy_pool(pool);
    }

    printf("%d of %d cases failed\n", failed, (int) n);

    k = check_numbers(1000000);
    printf("numbers: %d differ from the reference writer\n", (int) k);
    failed += k;

    return failed ? 1 : 0;
}
