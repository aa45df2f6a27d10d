# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The uplink end to end: the test vector, the envelope the upstream
# receives, the variables (also as a subrequest reads them), the senml
# pass-through format.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} = html_dir();

add_block_preprocessor(\&kpn_uplink_defaults);

run_tests();

__DATA__

=== TEST 1: the docs/protocol.md test vector is accepted and rewritten into the envelope
--- config eval
::kpn_uplink_location(device_type => ['dragino-lds01 wasd2', 'dragino-lds02 4djrvd'])
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
"Content-Type: application/json\nThings-Message-Token: $::KPN_VECTOR_TOKEN\ndevice-type: dragino-lds01"
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- no_error_log
[error]
[warn]



=== TEST 2: the token header in upper-case hex and a charset parameter are accepted
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
"Content-Type: application/json; charset=utf-8\nThings-Message-Token: " . uc($::KPN_VECTOR_TOKEN) . "\ndevice-type: dragino-lds01"
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- no_error_log
[error]



=== TEST 3: the second device type maps to its own hash id
--- config eval
::kpn_uplink_location(device_type => ['dragino-lds01 wasd2', 'dragino-lds02 4djrvd'])
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, type => "dragino-lds02")
--- response_body eval
my $e = $::KPN_VECTOR_ENVELOPE;
$e =~ s/wasd2/4djrvd/;
$e =~ s/dragino-lds01/dragino-lds02/;
::kpn_echoed($e)
--- no_error_log
[error]



=== TEST 4: variables reach proxy_set_header and the access log
--- http_config eval
$::KPN_ECHO_SERVER . q{
    log_format kpn '$kpn_uplink_status|$kpn_device_id|$kpn_device_urn|$kpn_id_type|$kpn_device_type|$kpn_device_type_hash_id|$kpn_port|$kpn_payload_hex|$kpn_fcnt_up|$kpn_rssi|$kpn_snr|$kpn_time';
}
--- config eval
::kpn_uplink_location(extra => 'access_log $TEST_NGINX_HTML_DIR/kpn.log kpn;',
                      wtg => '$kpn_device_type_hash_id/$kpn_device_id/$kpn_port/'
                           . '$kpn_payload_hex/$kpn_rssi/$kpn_snr/$kpn_fcnt_up')
. <<'_EOC_'
    location = /log {
        alias $TEST_NGINX_HTML_DIR/kpn.log;
    }
_EOC_
--- request eval
my $b = '[{"bn":"urn:dev:DEVEUI:0059ac00001b3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0},{"n":"FCntUp","v":0.0},{"n":"FCntDn","v":1.0},{"n":"LrrRSSI","v":-107.0},{"n":"LrrSNR","v":3.0},{"n":"LrrESP","v":-108.764351}]';
["POST /kpn/uplink\n$b", "GET /log"]
--- more_headers eval
my $b = '[{"bn":"urn:dev:DEVEUI:0059ac00001b3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0},{"n":"FCntUp","v":0.0},{"n":"FCntDn","v":1.0},{"n":"LrrRSSI","v":-107.0},{"n":"LrrSNR","v":3.0},{"n":"LrrESP","v":-108.764351}]';
[::kpn_headers($b), ""]
--- response_body_like eval
[qr{^POST len=\d+ type=application/json wtg=wasd2/0059AC00001B3461/1/763d0028/-107/3/0\n},
 qr{^(ok\|0059AC00001B3461\|urn:dev:DEVEUI:0059AC00001B3461:\|DEVEUI\|dragino-lds01\|wasd2\|1\|763d0028\|0\|-107\|3\|1765739955.219\n)+$}]
--- no_error_log
[error]



=== TEST 5: the variables in a subrequest (SSI include) read the main request's values
--- http_config eval
$::KPN_ECHO_SERVER . q{
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / {
            default_type text/html;
            return 200 '<!--# include virtual="/sub" -->';
        }
    }
}
--- config eval
::kpn_uplink_location(extra => 'ssi on;', wtg => undef,
                      upstream => '127.0.0.1:$TEST_NGINX_RAND_PORT_2')
. <<'_EOC_'
    location = /sub {
        return 200 "$kpn_uplink_status $kpn_device_id $kpn_port [$kpn_rssi]\n";
    }
_EOC_
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR)
--- response_body
ok 0059AC00001B3461 1 []
--- no_error_log
[error]



=== TEST 6: kpn_uplink_format senml forwards the original bytes unchanged
--- config eval
::kpn_uplink_location(format => 'senml', device_type => undef)
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, type => undef)
--- response_body eval
::kpn_echoed($::KPN_VECTOR)
--- no_error_log
[error]



=== TEST 7: senml format with device types still requires a known type
--- config eval
::kpn_uplink_location(format => 'senml', wtg => '$kpn_device_type_hash_id')
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/uplink\n$::KPN_VECTOR"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR, type => "other")]
--- response_body eval
[::kpn_echoed($::KPN_VECTOR, wtg => "wasd2"),
 qq{{"error":"unknown_device_type","message":"device type \\"other\\" is not configured"}\n}]
--- error_code eval
[200, 422]



=== TEST 8: a custom device-type header name
--- config eval
::kpn_uplink_location(extra => 'kpn_device_type_header X-Device-Model;')
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, type => undef, extra => ["x-device-model: dragino-lds01"])
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- no_error_log
[error]



=== TEST 9: directives inherited from the http and server levels
--- http_config eval
$::KPN_ECHO_SERVER . q{
    kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
    kpn_device_type dragino-lds01 wasd2;
}
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        proxy_set_header x-wtg-token wtg-secret;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot;
    }
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- no_error_log
[error]



=== TEST 10: a location without kpn_uplink passes requests untouched
--- config
    location = /kpn/uplink {
        kpn_uplink off;
        kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
        proxy_set_header x-wtg-token wtg-secret;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot;
    }
--- request
POST /kpn/uplink
not json at all
--- more_headers
Content-Type: text/plain
--- response_body
POST len=15 type=text/plain wtg=wtg-secret
not json at all
--- no_error_log
[error]
