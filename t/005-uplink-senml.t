# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# SenML: every published example of docs/protocol.md in both layouts, the
# three device URN forms, number forms, and what RFC 8428 forbids.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    kpn_uplink_defaults($block);

    # "--- request eval" holds just the pack: sign it here
    if (defined $block->request && !defined $block->more_headers) {
        my $req = $block->request;
        (my $body = $req) =~ s/^POST \S+\n//;
        $block->set_value("more_headers", kpn_headers($body));
    }

    # every envelope carries kpn.messageId: the token the uplink was sent
    # with, in lower case
    my ($token) = ($block->more_headers // '') =~ /^Things-Message-Token: (\S+)$/m;
    my $rb = $block->response_body;
    if (defined $token && defined $rb && !ref $rb
        && $rb =~ /\A(POST len=)\d+( [^\n]*\n)(\{.*"kpn":\{.*\})\n\z/s)
    {
        my ($head, $rest, $envelope) = ($1, $2, kpn_with_id($3, $token));
        $block->set_value("response_body",
                          $head . length($envelope) . $rest . "$envelope\n");
    }
});

run_tests();

__DATA__

=== TEST 1: KPN documentation example, legacy layout (separate base record)
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0123456789ABCDEF:","bt":1.58565075E9},{"n":"temperature","v":20.5,"u":"Cel"},{"n":"batteryVoltage","v":3.6,"u":"V","t":10},{"n":"active","vb":true},{"n":"modus","vs":"Active"},{"n":"image","vd":"aGFsbG9vb29vISE="}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0123456789ABCDEF","kpn":{"urn":"urn:dev:DEVEUI:0123456789ABCDEF:","idType":"DEVEUI","deviceType":"dragino-lds01","time":1585650750},"records":[{"n":"urn:dev:DEVEUI:0123456789ABCDEF:temperature","u":"Cel","t":1585650750,"v":20.5},{"n":"urn:dev:DEVEUI:0123456789ABCDEF:batteryVoltage","u":"V","t":1585650760,"v":3.6},{"n":"urn:dev:DEVEUI:0123456789ABCDEF:active","t":1585650750,"vb":true},{"n":"urn:dev:DEVEUI:0123456789ABCDEF:modus","t":1585650750,"vs":"Active"},{"n":"urn:dev:DEVEUI:0123456789ABCDEF:image","t":1585650750,"vd":"aGFsbG9vb29vISE="}]}')
--- no_error_log
[error]



=== TEST 2: raw payload, legacy layout
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0018B21000008C47:","bt":1654194188},{"n":"payload","vs":"6a0000e42c01a900e42c01a500e42c01a500e42c01a600e42c01a900e42c01ab"},{"n":"port","v":1}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0018B21000008C47","kpn":{"urn":"urn:dev:DEVEUI:0018B21000008C47:","idType":"DEVEUI","deviceType":"dragino-lds01","time":1654194188,"port":1,"payloadHex":"6a0000e42c01a900e42c01a500e42c01a500e42c01a600e42c01a900e42c01ab"},"records":[{"n":"urn:dev:DEVEUI:0018B21000008C47:payload","t":1654194188,"vs":"6a0000e42c01a900e42c01a500e42c01a500e42c01a600e42c01a900e42c01ab"},{"n":"urn:dev:DEVEUI:0018B21000008C47:port","t":1654194188,"v":1}]}')
--- no_error_log
[error]



=== TEST 3: raw payload, merged layout (base fields in the first measurement)
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC0000000000:","bt":1.76675482e9,"n":"payload","vs":"1b0c6e0c6a640a01ffcd7304000c0a0946000300020002000200010001000100010001000007000000000000"},{"n":"port","v":3.0},{"n":"timeOrigin","vs":"NETWORK"}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC0000000000","kpn":{"urn":"urn:dev:DEVEUI:0059AC0000000000:","idType":"DEVEUI","deviceType":"dragino-lds01","time":1766754820,"port":3,"payloadHex":"1b0c6e0c6a640a01ffcd7304000c0a0946000300020002000200010001000100010001000007000000000000"},"records":[{"n":"urn:dev:DEVEUI:0059AC0000000000:payload","t":1766754820,"vs":"1b0c6e0c6a640a01ffcd7304000c0a0946000300020002000200010001000100010001000007000000000000"},{"n":"urn:dev:DEVEUI:0059AC0000000000:port","t":1766754820,"v":3},{"n":"urn:dev:DEVEUI:0059AC0000000000:timeOrigin","t":1766754820,"vs":"NETWORK"}]}')
--- no_error_log
[error]



=== TEST 4: extended metadata: FCntUp, RSSI and SNR reach the kpn object
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0},{"n":"FCntUp","v":0.0},{"n":"FCntDn","v":1.0},{"n":"LrrRSSI","v":-107.0},{"n":"LrrSNR","v":3.0},{"n":"LrrESP","v":-108.764351},{"n":"DevLrrCnt","v":2.0},{"n":"SpFact","v":8.0},{"n":"SubBand","vs":"G1"},{"n":"Channel","vs":"LC3"},{"n":"ADRbit","v":1.0},{"n":"timeOrigin","vs":"NETWORK"}]'
--- response_body eval
my $u = "urn:dev:DEVEUI:0059AC00001B3461:";
my $t = '"t":1765739955.219';
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"' . $u . '","idType":"DEVEUI","deviceType":"dragino-lds01","time":1765739955.219,"port":1,"payloadHex":"763d0028","fCntUp":0,"rssi":-107,"snr":3},"records":['
  . CORE::join(",",
    qq({"n":"${u}payload",$t,"vs":"763d0028"}),
    qq({"n":"${u}port",$t,"v":1}),
    qq({"n":"${u}FCntUp",$t,"v":0}),
    qq({"n":"${u}FCntDn",$t,"v":1}),
    qq({"n":"${u}LrrRSSI",$t,"v":-107}),
    qq({"n":"${u}LrrSNR",$t,"v":3}),
    qq({"n":"${u}LrrESP",$t,"v":-108.764351}),
    qq({"n":"${u}DevLrrCnt",$t,"v":2}),
    qq({"n":"${u}SpFact",$t,"v":8}),
    qq({"n":"${u}SubBand",$t,"vs":"G1"}),
    qq({"n":"${u}Channel",$t,"vs":"LC3"}),
    qq({"n":"${u}ADRbit",$t,"v":1}),
    qq({"n":"${u}timeOrigin",$t,"vs":"NETWORK"}))
  . ']}')
--- no_error_log
[error]



=== TEST 5: geolocation pack (no payload): units kept, time of the first record
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.76573996026e9,"n":"locOrigin","vs":"KPNLORA"},{"n":"latitude","u":"lat","v":52.266785},{"n":"longitude","u":"lon","v":4.630842},{"n":"radius","u":"m","v":356.820465},{"n":"locMethod","vs":"TDOA"},{"n":"locTime","u":"s","v":1.76573996026e9}]'
--- response_body eval
my $u = "urn:dev:DEVEUI:0059AC00001B3461:";
my $t = '"t":1765739960.26';
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"' . $u . '","idType":"DEVEUI","deviceType":"dragino-lds01","time":1765739960.26},"records":['
  . CORE::join(",",
    qq({"n":"${u}locOrigin",$t,"vs":"KPNLORA"}),
    qq({"n":"${u}latitude","u":"lat",$t,"v":52.266785}),
    qq({"n":"${u}longitude","u":"lon",$t,"v":4.630842}),
    qq({"n":"${u}radius","u":"m",$t,"v":356.820465}),
    qq({"n":"${u}locMethod",$t,"vs":"TDOA"}),
    qq({"n":"${u}locTime","u":"s",$t,"v":1765739960.26}))
  . ']}')
--- no_error_log
[error]



=== TEST 6: a lower-case DevEUI is normalised to upper case
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059ac00001b3461:","n":"port","v":2}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI","deviceType":"dragino-lds01","port":2},"records":[{"n":"urn:dev:DEVEUI:0059AC00001B3461:port","v":2}]}')
--- no_error_log
[error]



=== TEST 7: an M2M device: urn:dev:IMEI
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:IMEI:356938035643809:","bt":1654194188,"n":"temperature","u":"Cel","v":21.1}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"356938035643809","kpn":{"urn":"urn:dev:IMEI:356938035643809:","idType":"IMEI","deviceType":"dragino-lds01","time":1654194188},"records":[{"n":"urn:dev:IMEI:356938035643809:temperature","u":"Cel","t":1654194188,"v":21.1}]}')
--- no_error_log
[error]



=== TEST 8: an internet device: urn:dev:DVNUUID
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DVNUUID:3f1e2d4c-5b6a-4789-9abc-def012345678:","n":"state","vs":"open"}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"3f1e2d4c-5b6a-4789-9abc-def012345678","kpn":{"urn":"urn:dev:DVNUUID:3f1e2d4c-5b6a-4789-9abc-def012345678:","idType":"DVNUUID","deviceType":"dragino-lds01"},"records":[{"n":"urn:dev:DVNUUID:3f1e2d4c-5b6a-4789-9abc-def012345678:state","vs":"open"}]}')
--- no_error_log
[error]



=== TEST 9: base fields in a later record change the running base (RFC 8428 4.6)
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":100,"bu":"Cel","n":"a","v":1},{"n":"b","v":2,"t":5},{"bt":200,"n":"c","v":3,"u":"V"},{"n":"d","bv":10,"v":4}]'
--- response_body eval
my $u = "urn:dev:DEVEUI:0059AC00001B3461:";
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"' . $u . '","idType":"DEVEUI","deviceType":"dragino-lds01","time":100},"records":['
  . qq({"n":"${u}a","u":"Cel","t":100,"v":1},{"n":"${u}b","u":"Cel","t":105,"v":2},{"n":"${u}c","u":"V","t":200,"v":3},{"n":"${u}d","u":"Cel","t":200,"v":14})
  . ']}')
--- no_error_log
[error]



=== TEST 10: an empty pack is invalid SenML
--- request eval
"POST /kpn/uplink\n[]"
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
kpn uplink rejected: 400 invalid_senml



=== TEST 11: a pack of numbers is invalid SenML
--- request eval
"POST /kpn/uplink\n[1,2]"
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 0(?:[^"\\]|\\.)*"\}$



=== TEST 12: two value fields in one record
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1,"vs":"1"}]'
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 0(?:[^"\\]|\\.)*"\}$



=== TEST 13: a measurement without any value
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1},{"n":"b","u":"Cel"}]'
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 1(?:[^"\\]|\\.)*"\}$



=== TEST 14: a sum makes a value optional
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"energy","u":"J","s":12.5}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI","deviceType":"dragino-lds01"},"records":[{"n":"urn:dev:DEVEUI:0059AC00001B3461:energy","u":"J","s":12.5}]}')



=== TEST 15: a name with a space breaks RFC 8428's name rule
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"battery voltage","v":3.6}]'
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 0(?:[^"\\]|\\.)*"\}$



=== TEST 16: an unknown must-understand key (ending in _) is refused
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1,"crit_":true}]'
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 0(?:[^"\\]|\\.)*crit_(?:[^"\\]|\\.)*"\}$



=== TEST 17: an unknown ordinary key is ignored
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1,"extra":"x"}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI","deviceType":"dragino-lds01"},"records":[{"n":"urn:dev:DEVEUI:0059AC00001B3461:a","v":1}]}')



=== TEST 18: vb must be a boolean
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","vb":"true"}]'
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 0(?:[^"\\]|\\.)*\\"vb\\"(?:[^"\\]|\\.)*"\}$



=== TEST 19: vd must be base64
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","vd":"not base64!"}]'
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 0(?:[^"\\]|\\.)*\\"vd\\"(?:[^"\\]|\\.)*"\}$



=== TEST 20: bt must be a number
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":"1654194188","n":"a","v":1}]'
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 0(?:[^"\\]|\\.)*\\"bt\\"(?:[^"\\]|\\.)*"\}$



=== TEST 21: no base name at all is an unknown device
--- request eval
"POST /kpn/uplink\n" . '[{"n":"temperature","v":20.5}]'
--- error_code: 422
--- response_body_like
^\{"error":"unknown_device","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 22: a DevEUI of 15 hex digits is an unknown device
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B346:","n":"a","v":1}]'
--- error_code: 422
--- response_body_like
^\{"error":"unknown_device","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 23: an IMEI with a letter is an unknown device
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:IMEI:35693803564380A:","n":"a","v":1}]'
--- error_code: 422
--- response_body_like
^\{"error":"unknown_device","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 24: a base name that changes device in a later record
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:IMEI:356938035643809:","n":"a","v":1},{"bn":"urn:dev:IMEI:356938035643810:","n":"a","v":2}]'
--- error_code: 422
--- response_body_like
^\{"error":"unknown_device","message":"(?:[^"\\]|\\.)*several devices(?:[^"\\]|\\.)*"\}$



=== TEST 25: the same device in several base records is one device
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1},{"bn":"urn:dev:DEVEUI:0059ac00001b3461:","n":"b","v":2}]'
--- response_body eval
my $u = "urn:dev:DEVEUI:0059AC00001B3461:";
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"' . $u . '","idType":"DEVEUI","deviceType":"dragino-lds01"},"records":[' . qq({"n":"${u}a","v":1},{"n":"${u}b","v":2}) . ']}')
--- no_error_log
[error]



=== TEST 26: a later SenML version (bver above 10) must not be used (RFC 8428 4.4)
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bver":11,"n":"payload","vs":"763d0028"}]'
--- error_code: 400
--- response_body
{"error":"invalid_senml","message":"record 0: unsupported SenML version 11 (\"bver\")"}
--- error_log
kpn uplink rejected: 400 invalid_senml: record 0: unsupported SenML version 11



=== TEST 27: bver 10, and 26 (secondary units, RFC 9100), are accepted
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bver":10,"n":"payload","vs":"763d0028"},{"bver":26,"n":"port","v":1}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI","deviceType":"dragino-lds01","port":1,"payloadHex":"763d0028"},"records":[{"n":"urn:dev:DEVEUI:0059AC00001B3461:payload","vs":"763d0028"},{"n":"urn:dev:DEVEUI:0059AC00001B3461:port","v":1}]}')
--- no_error_log
[error]



=== TEST 28: strings are escaped as JSON requires (quotes, backslash, control characters), UTF-8 kept
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"note","u":"\"q\"","vs":"a\\\\b\nc\u0001\u001f\u00e9/"}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI","deviceType":"dragino-lds01"},"records":[{"n":"urn:dev:DEVEUI:0059AC00001B3461:note","u":"\"q\"","vs":"a\\\\b\nc\u0001\u001F' . "\xc3\xa9" . '/"}]}')
--- no_error_log
[error]



=== TEST 29: every number reads back as the value accepted: DBL_MAX, the smallest subnormal, 17-digit reals
--- request eval
"POST /kpn/uplink\n" . '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1.7976931348623157e308},{"n":"b","v":-1.7976931348623157e308},{"n":"c","v":5e-324},{"n":"d","v":0.30000000000000004},{"n":"e","v":0.1},{"n":"f","v":-0.0}]'
--- response_body eval
::kpn_echoed('{"deviceTypeHashId":"wasd2","deviceIdentifier":"0059AC00001B3461","kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI","deviceType":"dragino-lds01"},"records":[{"n":"urn:dev:DEVEUI:0059AC00001B3461:a","v":1.7976931348623157e308},{"n":"urn:dev:DEVEUI:0059AC00001B3461:b","v":-1.7976931348623157e308},{"n":"urn:dev:DEVEUI:0059AC00001B3461:c","v":4.94065645841247e-324},{"n":"urn:dev:DEVEUI:0059AC00001B3461:d","v":0.30000000000000004},{"n":"urn:dev:DEVEUI:0059AC00001B3461:e","v":0.1},{"n":"urn:dev:DEVEUI:0059AC00001B3461:f","v":0}]}')
--- no_error_log
[error]
