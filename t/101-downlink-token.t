# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The downlink end to end against recording stand-ins (t/lib/KPNDownlink.pm):
# the token is fetched once and reused, the exact bytes and headers both
# stand-ins receive, nothing of the caller leaks, KPN's answer is passed
# through, 302/401 lead to exactly one refetch and one retry, expiry and the
# refresh margin.
#
# Every iteration starts with GET /stub/_reset; the token cache is not reset
# between repeat_each iterations (nginx keeps running), so the second
# iteration starts with a cached token where the first started cold.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;

repeat_each(2);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} = html_dir();

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

=== TEST 1: the first downlink fetches a token, the next ones reuse it
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_log"]
--- error_code eval
[200, 201, 201, 201, 200]
--- response_body_like eval
["reset",
 qr/\A\{"result":"queued"\}\z/,
 qr/\A\{"result":"queued"\}\z/,
 qr/\A\{"result":"queued"\}\z/,
 qr{\A(?:token /token/ok -> (tok-\d+)\n)?dl /dl/ok\?port=2 auth=Bearer (tok-\d+) -> 201\n(?:dl /dl/ok\?port=2 auth=Bearer \2 -> 201\n){2}\z}]
--- no_error_log
[error]

=== TEST 2: the exact bytes the stand-ins receive; the caller's headers never reach them
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys $TEST_NGINX_HTML_DIR/keys;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/fixed;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- user_files
>>> keys
key-one
key-two
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":10,"payload":"0A0b","externalReference":"cmd 7&x=1"}',
 "GET /stub/_raw"]
--- more_headers eval
["",
 "Authorization: Bearer key-two\nCookie: session=caller-cookie\nX-Custom: caller-custom\nUser-Agent: caller-agent\nAccept-Encoding: gzip\nContent-Type: application/json",
 ""]
--- error_code eval
[200, 201, 200]
--- response_body eval
["reset\n",
 '{"result":"queued"}',
 qr{\A(?:\QPOST /token/fixed HTTP/1.0\E\r\n\QHost: stub\E\r\n\QConnection: close\E\r\n\QContent-Length: 137\E\r\n\QContent-Type: application/json; charset=utf-8\E\r\n\r\n\Q{"grant_type":"client_credentials","audience":"4dc82561-f65f-523g-dek9-6c79ec314f02","client_id":"my-client","client_secret":"my-secret"}\E)?\QPOST /dl/ok?port=10&externalReference=cmd%207%26x%3D1 HTTP/1.0\E\r\n\QHost: stub\E\r\n\QConnection: close\E\r\n\QContent-Length: 72\E\r\n\QAuthorization: Bearer tok-fixed\E\r\n\QAccept: application/vnd.kpnthings.actuator.v1.response+json\E\r\n\QContent-Type: application/json\E\r\n\r\n\Q[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"0A0b"}]\E\z}]
--- no_error_log
[error]

=== TEST 3: a 302 from KPN drops the token, fetches a new one and retries once
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/dl/302first$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "GET /stub/_log"]
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "X-Token-Cache: miss\nX-Downlink-Status: ok", ""]
--- response_body_like eval
["reset",
 qr/\A\{"result":"queued"\}\z/,
 qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/302first\?port=2 auth=Bearer (tok-\d+) -> 302\ntoken /token/ok -> (?!\1)(tok-\d+)\ndl /dl/302first\?port=2 auth=Bearer \2 -> 201\n\z}]
--- no_error_log
[error]

=== TEST 4: a 302 again after the retry is 502 kpn_auth_failed (one refetch, one retry)
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/dl/302$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "GET /stub/_log"]
--- error_code eval
[200, 502, 200]
--- response_headers eval
["", "Content-Type: application/json\nX-Downlink-Status: kpn_auth_failed", ""]
--- response_body_like eval
["reset",
 qr/\A\Q{"error":"kpn_auth_failed","message":"KPN refused the access token (302) after a retry with a new one"}\E\n\z/,
 qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/302\?port=2 auth=Bearer (tok-\d+) -> 302\ntoken /token/ok -> (?!\1)(tok-\d+)\ndl /dl/302\?port=2 auth=Bearer \2 -> 302\n\z}]

=== TEST 5: a 401 from KPN drops the token, fetches a new one and retries once
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/dl/401first$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "GET /stub/_log"]
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "X-Token-Cache: miss\nX-Downlink-Status: ok", ""]
--- response_body_like eval
["reset",
 qr/\A\{"result":"queued"\}\z/,
 qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/401first\?port=2 auth=Bearer (tok-\d+) -> 401\ntoken /token/ok -> (?!\1)(tok-\d+)\ndl /dl/401first\?port=2 auth=Bearer \2 -> 201\n\z}]
--- no_error_log
[error]

=== TEST 6: a 401 again after the retry is 502 kpn_auth_failed (one refetch, one retry)
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/dl/401$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "GET /stub/_log"]
--- error_code eval
[200, 502, 200]
--- response_headers eval
["", "Content-Type: application/json\nX-Downlink-Status: kpn_auth_failed", ""]
--- response_body_like eval
["reset",
 qr/\A\Q{"error":"kpn_auth_failed","message":"KPN refused the access token (401) after a retry with a new one"}\E\n\z/,
 qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/401\?port=2 auth=Bearer (tok-\d+) -> 401\ntoken /token/ok -> (?!\1)(tok-\d+)\ndl /dl/401\?port=2 auth=Bearer \2 -> 401\n\z}]

=== TEST 7: any other KPN status and body are passed through
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/dl/400$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "GET /stub/_log"]
--- error_code eval
[200, 400, 200]
--- response_headers eval
["", "Content-Type: application/vnd.kpnthings.actuator.v1.response+json\nX-Downlink-Status: kpn_rejected", ""]
--- response_body eval
["reset\n", '{"message":"malformed downlink"}',
 qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/400\?port=2 auth=Bearer tok-\d+ -> 400\n\z}]
--- no_error_log
kpn downlink: token

=== TEST 8: a downlink that times out is 504 upstream_timeout
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/dl/slow$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL"]
--- error_code eval
[200, 504]
--- response_headers eval
["", "X-Downlink-Status: upstream_timeout"]
--- response_body eval
["reset\n", qq({"error":"upstream_timeout","message":"the downlink request timed out"}\n)]
--- timeout: 5

=== TEST 9: expiry and the refresh margin: expires_in 4 gives a margin of 2 s
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
        add_header X-Downlink-Status $kpn_downlink_status always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/short;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_read_timeout 1s;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
[[{value => "GET /stub/_reset", delay_before => 4.5}],
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 [{value => "POST /downlink\n$::DL", delay_before => 2.2}],
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 201, 201, 201, 201, 200]
--- response_headers eval
["", "X-Token-Cache: miss", "X-Token-Cache: hit", "X-Token-Cache: miss", "X-Token-Cache: hit", ""]
--- response_body eval
["reset\n", '{"result":"queued"}', '{"result":"queued"}', '{"result":"queued"}', '{"result":"queued"}', "tokens=2 downlinks=4\n"]
--- no_error_log
[error]
--- timeout: 10
