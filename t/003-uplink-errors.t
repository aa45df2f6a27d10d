# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Every uplink error of docs/directives.md: status, JSON body, one log line, and
# never a request to the upstream.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();

our $V = $KPN_VECTOR;

# the upstream must never be reached: it would answer 599
add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", <<'_EOC_') unless defined $block->http_config;
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            return 599 "upstream reached\n";
        }
    }
_EOC_

    # the usual location, without the x-wtg-token header
    $block->set_value("config", kpn_uplink_location(wtg => undef))
        unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: GET is 405 method_not_allowed with Allow: POST
--- request
GET /kpn/uplink
--- error_code: 405
--- response_headers
Content-Type: application/json
Allow: POST
--- response_body
{"error":"method_not_allowed","message":"method GET is not allowed, use POST"}
--- error_log
kpn uplink rejected: 405 method_not_allowed: method GET is not allowed, use POST



=== TEST 2: PUT is 405 too
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"PUT /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- error_code: 405
--- response_body
{"error":"method_not_allowed","message":"method PUT is not allowed, use POST"}
--- error_log
kpn uplink rejected: 405 method_not_allowed



=== TEST 3: HEAD is 405 with the JSON headers and no body
--- request
HEAD /kpn/uplink
--- error_code: 405
--- response_headers
Allow: POST
Content-Type: application/json
Content-Length: 80
--- response_body
--- error_log
kpn uplink rejected: 405 method_not_allowed: method HEAD is not allowed



=== TEST 4: a text/plain body is 415 unsupported_media_type
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, ct => "text/plain")
--- error_code: 415
--- response_headers
Content-Type: application/json
--- response_body
{"error":"unsupported_media_type","message":"the content type must be application/json"}
--- error_log
kpn uplink rejected: 415 unsupported_media_type



=== TEST 5: no Content-Type at all is 415
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, ct => undef)
--- error_code: 415
--- response_body
{"error":"unsupported_media_type","message":"the content type must be application/json"}
--- error_log
kpn uplink rejected: 415 unsupported_media_type



=== TEST 6: application/jsonx is not JSON
--- skip_eval: 2: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, ct => "application/jsonx")
--- error_code: 415
--- response_body
{"error":"unsupported_media_type","message":"the content type must be application/json"}



=== TEST 7: an empty body is 400 empty_body
--- request
POST /kpn/uplink
--- more_headers eval
::kpn_headers("")
--- error_code: 400
--- response_body
{"error":"empty_body","message":"the request body is empty"}
--- error_log
kpn uplink rejected: 400 empty_body: the request body is empty



=== TEST 8: no token header is 401 missing_token
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, token => undef)
--- error_code: 401
--- response_body
{"error":"missing_token","message":"the Things-Message-Token header is missing"}
--- error_log
kpn uplink rejected: 401 missing_token



=== TEST 9: a token that is not 64 hex digits is 401 missing_token
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, token => "zz" x 32)
--- error_code: 401
--- response_body
{"error":"missing_token","message":"the Things-Message-Token header is not 64 hexadecimal digits"}
--- error_log
kpn uplink rejected: 401 missing_token



=== TEST 10: a short token is 401 missing_token
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, token => substr($::KPN_VECTOR_TOKEN, 0, 63))
--- error_code: 401
--- response_body
{"error":"missing_token","message":"the Things-Message-Token header is not 64 hexadecimal digits"}



=== TEST 11: a token of another secret is 401 bad_token
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => "Some-Other-Secret-0123456789-abcdef")
--- error_code: 401
--- response_body
{"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}
--- error_log
kpn uplink rejected: 401 bad_token
--- no_error_log
Example-Secret



=== TEST 12: one changed body byte is 401 bad_token (the token covers the raw bytes)
--- request eval
(my $b = $::V) =~ s/"v":1.0/"v":1.00/;
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers($::V)
--- error_code: 401
--- response_body
{"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}



=== TEST 13: the token is checked before the JSON: bad JSON with a bad token is 401
--- request
POST /kpn/uplink
[{"bn":
--- more_headers eval
::kpn_headers("x")
--- error_code: 401
--- response_body
{"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}



=== TEST 14: a JSON syntax error is 400 invalid_json with line and column
--- request eval
"POST /kpn/uplink\n[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",}]"
--- more_headers eval
::kpn_headers("[{\"bn\":\"urn:dev:DEVEUI:0059AC00001B3461:\",}]")
--- error_code: 400
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)*line 1[^"]*column \d+(?:[^"\\]|\\.)*"\}$
--- error_log eval
qr/kpn uplink rejected: 400 invalid_json: .*line 1/



=== TEST 15: duplicate keys are invalid JSON
--- request eval
my $b = '[{"n":"a","v":1,"v":2}]';
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers('[{"n":"a","v":1,"v":2}]')
--- error_code: 400
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)*duplicate object key(?:[^"\\]|\\.)*"\}$



=== TEST 16: an object instead of a pack is 400 invalid_senml
--- request eval
my $b = '{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"x","v":1}';
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers('{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"x","v":1}')
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
kpn uplink rejected: 400 invalid_senml



=== TEST 17: a wrongly typed field is 400 invalid_senml naming the record and field
--- request eval
my $b = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payload","vs":"00"},{"n":"port","v":"1"}]';
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers('[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payload","vs":"00"},{"n":"port","v":"1"}]')
--- error_code: 400
--- response_body_like
^\{"error":"invalid_senml","message":"record 1(?:[^"\\]|\\.)*\\"v\\"(?:[^"\\]|\\.)*"\}$
--- error_log eval
qr/kpn uplink rejected: 400 invalid_senml: record 1.*"v"/



=== TEST 18: an unknown base name is 422 unknown_device
--- request eval
my $b = '[{"bn":"urn:dev:MAC:0024befffe804ff1:","n":"payload","vs":"00"}]';
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers('[{"bn":"urn:dev:MAC:0024befffe804ff1:","n":"payload","vs":"00"}]')
--- error_code: 422
--- response_body_like
^\{"error":"unknown_device","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
kpn uplink rejected: 422 unknown_device



=== TEST 19: records of several devices are 422 unknown_device
--- request eval
my $b = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payload","vs":"00"},{"bn":"urn:dev:DEVEUI:0059AC00001B3462:","n":"port","v":1}]';
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers('[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payload","vs":"00"},{"bn":"urn:dev:DEVEUI:0059AC00001B3462:","n":"port","v":1}]')
--- error_code: 422
--- response_body_like
^\{"error":"unknown_device","message":"(?:[^"\\]|\\.)*several devices(?:[^"\\]|\\.)*"\}$
--- error_log
kpn uplink rejected: 422 unknown_device



=== TEST 20: no device-type header is 422 unknown_device_type, logged with the device id
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, type => undef)
--- error_code: 422
--- response_body
{"error":"unknown_device_type","message":"the \"device-type\" header is missing"}
--- error_log
kpn uplink rejected: 422 unknown_device_type: the "device-type" header is missing, device: 0059AC00001B3461



=== TEST 21: a device type that is not configured is 422 unknown_device_type
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, type => "dragino-lds99")
--- error_code: 422
--- response_body
{"error":"unknown_device_type","message":"device type \"dragino-lds99\" is not configured"}
--- error_log
kpn uplink rejected: 422 unknown_device_type: device type "dragino-lds99" is not configured, device: 0059AC00001B3461



=== TEST 22: a device type that is not UTF-8 (Latin-1) is quoted as valid UTF-8 JSON
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, type => "drag\xe9ino")
--- error_code: 422
--- response_body
{"error":"unknown_device_type","message":"device type \"drag?ino\" is not configured"}
--- error_log
kpn uplink rejected: 422 unknown_device_type: device type "drag?ino" is not configured



=== TEST 23: control bytes of a device type (an ESC sequence) reach neither the answer nor the log
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, type => "drag\x1b[31mino")
--- error_code: 422
--- response_body
{"error":"unknown_device_type","message":"device type \"drag?[31mino\" is not configured"}
--- log_level: info
--- error_log
kpn uplink rejected: 422 unknown_device_type: device type "drag?[31mino" is not configured
--- no_error_log eval
["\x1b"]



=== TEST 24: a long device type is quoted in part, cut between characters, never inside one
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, type => ("a" x 63) . "\xe2\x82\xac" . ("b" x 500))
--- error_code: 422
--- response_body eval
'{"error":"unknown_device_type","message":"device type \\"' . ("a" x 63) . '...\\" is not configured"}' . "\n"



=== TEST 25: more records than kpn_uplink_max_records is 413 too_many_records, before any parse
--- config eval
::kpn_uplink_location(extra => 'kpn_uplink_max_records 2;', wtg => undef)
--- request eval
my $b = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1},{"n":"b","vs":"{not a record}"},{"n":"c","v":3}]';
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers('[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1},{"n":"b","vs":"{not a record}"},{"n":"c","v":3}]')
--- error_code: 413
--- response_body
{"error":"too_many_records","message":"the pack has more than 2 records"}
--- error_log
kpn uplink rejected: 413 too_many_records: the pack has more than 2 records



=== TEST 26: the default limit is 256 records
--- request eval
my $b = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1}' . (',{"n":"a","v":1}' x 256) . ']';
"POST /kpn/uplink\n$b"
--- more_headers eval
::kpn_headers('[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"a","v":1}' . (',{"n":"a","v":1}' x 256) . ']')
--- error_code: 413
--- response_body
{"error":"too_many_records","message":"the pack has more than 256 records"}



=== TEST 27: the status variable carries the error code to the access log
--- http_config
    log_format kpn 'status=$kpn_uplink_status device=$kpn_device_id';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / {
            return 599 "upstream reached\n";
        }
    }
--- config eval
::kpn_uplink_location(extra => 'access_log $TEST_NGINX_SERVER_ROOT/html/kpn.log kpn;',
                      wtg => undef)
. <<'_EOC_'
    location = /log {
        alias $TEST_NGINX_SERVER_ROOT/html/kpn.log;
    }
_EOC_
--- request eval
["POST /kpn/uplink\n$::V", "GET /log"]
--- more_headers eval
[::kpn_headers($::V, type => "nope"), ""]
--- error_code eval
[422, 200]
--- response_body_like eval
[qr/unknown_device_type/, qr/^(status=unknown_device_type device=0059AC00001B3461\n)+$/]
