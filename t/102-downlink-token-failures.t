# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Every token failure mode is a 502 token_unavailable, never a crash or a
# hang, and is followed by fast 503s with Retry-After (kpn_token_backoff 2s)
# that do not reach the token endpoint.  Each iteration first waits out the
# backoff of the previous one (delay_before), so both iterations see the
# same thing.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;

repeat_each(2);
no_shuffle();

our $DL = '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}';

our $HTTP_CONFIG = <<'_EOC_';
    kpn_token_zone zone=kpn:1m;
    upstream stub {
        server 127.0.0.1:$TEST_NGINX_STUB_PORT;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $HTTP_CONFIG);
    }
});

run_tests();

__DATA__

=== TEST 1: a 500 from the token endpoint is 502 token_unavailable, then fast 503s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/token/500;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 2.1}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
["", "X-Token-Cache: miss\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token endpoint answered 500"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 "tokens=1 downlinks=0\n"]
--- timeout: 6

=== TEST 2: a 200 with a body that is not JSON is 502 token_unavailable, then fast 503s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/token/garbage;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 2.1}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
["", "X-Token-Cache: miss\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token answer is not JSON"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 "tokens=1 downlinks=0\n"]
--- timeout: 6

=== TEST 3: a 200 without access_token is 502 token_unavailable, then fast 503s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/token/noat;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 2.1}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
["", "X-Token-Cache: miss\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token answer has no access_token"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 "tokens=1 downlinks=0\n"]
--- timeout: 6

=== TEST 4: a 200 with a non-string access_token is 502 token_unavailable, then fast 503s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/token/numat;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 2.1}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
["", "X-Token-Cache: miss\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token answer has no access_token"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 "tokens=1 downlinks=0\n"]
--- timeout: 6

=== TEST 5: an answer larger than subrequest_output_buffer_size is 502 token_unavailable, then fast 503s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/token/big;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 2.1}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
["", "X-Token-Cache: miss\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token answer was too big or broken"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 "tokens=1 downlinks=0\n"]
--- timeout: 6

=== TEST 6: connection refused is 502 token_unavailable, then fast 503s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_CLOSED_PORT/token;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 2.1}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
["", "X-Token-Cache: miss\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token request failed (502)"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 "tokens=0 downlinks=0\n"]
--- timeout: 6

=== TEST 7: a token endpoint that never answers (proxy_read_timeout 1s) is 502 token_unavailable, then fast 503s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT/token;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 2.1}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
["", "X-Token-Cache: miss\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json",
 "Retry-After: [12]\nX-Downlink-Status: token_unavailable\nContent-Type: application/json", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token request timed out"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 qq({"error":"token_unavailable","message":"the token endpoint failed recently, retry later"}\n),
 "tokens=0 downlinks=0\n"]
--- timeout: 6

=== TEST 8: one log line per failure, naming the code, without the secret or any token
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/token/500;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "POST /downlink\n$::DL", delay_before => 2.1}]]
--- error_code: 502
--- error_log
kpn downlink: token_unavailable: the token endpoint answered 500
--- no_error_log
my-secret
tok-
[crit]
--- timeout: 6

=== TEST 9: a fast 503 does not log the secret
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        kpn_token_backoff 2s;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/token/500;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "POST /downlink\n$::DL", delay_before => 2.1}], "POST /downlink\n$::DL"]
--- error_code eval
[502, 503]
--- no_error_log
my-secret
[crit]
--- timeout: 6
