# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Uplink edge cases found in review: a body read that fails after the
# uplink handler returned, protocol details of the rewritten request and
# the RFC 8428 version rule.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();

our $V = $KPN_VECTOR;

add_block_preprocessor(\&kpn_uplink_defaults);

run_tests();

__DATA__

=== TEST 1: an invalid chunk that arrives late, with error_page into another uplink location: the 400 is answered at once
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: an invalid chunk, which HTTP/2 cannot carry
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
        kpn_device_type dragino-lds01 wasd2;
        client_body_timeout 5s;
        error_page 400 = @again;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot;
    }
    location @again {
        kpn_uplink on;
        kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
        kpn_device_type dragino-lds01 wasd2;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- raw_request eval
my $h = "POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
    . "Transfer-Encoding: chunked\r\n\r\n";
[$h . "10\r\n" . substr($::V, 0, 16) . "\r\n", "zz\r\n"]
--- raw_request_middle_delay: 0.2
--- timeout: 3
--- error_code: 400
--- error_log
client sent invalid chunked body
kpn uplink: the body read failed
--- no_error_log
kpn uplink: message token ok



=== TEST 2: a chunked body that grows too large after the handler returned, with error_page into the same location: 413 at once
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked transfer coding does not exist in HTTP/2
--- config
    location /kpn/ {
        kpn_uplink on;
        kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
        kpn_device_type dragino-lds01 wasd2;
        client_max_body_size 64;
        client_body_timeout 5s;
        error_page 413 /kpn/too-large;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot;
    }
--- raw_request eval
my $h = "POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
    . "Transfer-Encoding: chunked\r\n\r\n";
[$h . "10\r\n" . substr($::V, 0, 16) . "\r\n",
 sprintf("%x\r\n%s\r\n0\r\n\r\n", length($::V) - 16, substr($::V, 16))]
--- raw_request_middle_delay: 0.2
--- timeout: 3
--- error_code: 413
--- error_log
client intended to send too large chunked body
kpn uplink: the body read failed: 413
--- no_error_log
kpn uplink: message token ok



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



=== TEST 4: proxy_http_version 1.1 with proxy_request_buffering off sends chunked input with an exact Content-Length; $content_length shows it
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked input
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
        kpn_device_type dragino-lds01 wasd2;
        proxy_http_version 1.1;
        proxy_request_buffering off;
        proxy_set_header x-wtg-token "$content_length:$http_content_length";
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot;
    }
--- raw_request eval
"POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
    . "Transfer-Encoding: chunked\r\n\r\n"
    . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $::V, $::V)
--- response_body eval
my $n = length $::KPN_VECTOR_ENVELOPE;
::kpn_echoed($::KPN_VECTOR_ENVELOPE, wtg => "$n:$n")
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
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
        kpn_device_type dragino-lds01 wasd2;
        ssi on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/iot;
    }
    location = /sub {
        return 200 "$kpn_uplink_status $kpn_device_id $kpn_port [$kpn_rssi]\n";
    }
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- response_body
ok 0059AC00001B3461 1 []
--- no_error_log
[error]
