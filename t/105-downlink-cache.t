# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The token cache beyond the plain hit/miss (t/101): the stale path (a due
# but valid token is used while another request refreshes it), a failed
# refresh that falls back on the still-valid token instead of failing, a
# credential change being a miss, the lease of a client that goes away
# mid-fetch being released at once, and an oversized subrequest answer
# that is answered with JSON instead of terminating the request.
#
# Blocks that depend on expiry start with a 4.5 s delay so that the second
# repeat_each iteration starts with an expired token, as the first does.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;

repeat_each(2);
no_shuffle();

our $DL3 = '{"devEUI":"0059ac00001b3461","port":3,"payload":"0a0b"}';

# every block has its own config; the http_config is the usual one
add_block_preprocessor(sub { kpn_downlink_defaults(shift) });

run_tests();

__DATA__

=== TEST 1: stale: while one request refreshes a due token, another uses the old one
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_' . ::kpn_downlink_server(token => 'slowshort')
    log_format kpn_dl '$kpn_token_cache $status';
_EOC_
--- config eval
<<'_EOC_' . $::KPN_MIRROR_LOCATIONS
    location = /one {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
    }
    location = /burst {
        mirror /m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
    }
_EOC_
--- request eval
["GET /stub/_reset?wait=4.5",
 "POST /one\n$::DL",
 "GET /stub/_wait?2.2",
 "POST /burst\n$::DL",
 "GET /stub/_count",
 "GET /downlink-log"]
--- error_code eval
[200, 201, 200, 201, 200, 200]
--- response_body_like eval
["reset",
 $::QUEUED_RE,
 "waited",
 $::QUEUED_RE,
 qr/\Atokens=2 downlinks=3\n\z/,
 qr/\A(?:miss 201\n(?:miss 201\nstale 201\n|stale 201\nmiss 201\n))+\z/]
--- no_error_log
[error]
--- timeout: 10



=== TEST 2: a refresh that fails while the token is still valid falls back on it, no 503s
--- config eval
<<'_EOC_' . ::kpn_downlink_config(extra => 'kpn_token_backoff 2s;', token_timeout => '1s', token => 'shortfail')
    error_log logs/kpn-error.log error;
    location = /kpn-error-log {
        alias $TEST_NGINX_SERVER_ROOT/logs/kpn-error.log;
    }
_EOC_
--- request eval
["GET /stub/_reset?wait=4.5",
 "POST /downlink\n$::DL",
 "GET /stub/_wait?2.2",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_log",
 "GET /kpn-error-log"]
--- error_code eval
[200, 201, 200, 201, 201, 200, 200]
--- response_headers eval
["",
 "X-Token-Cache: miss\nX-Downlink-Status: ok",
 "",
 "X-Token-Cache: stale\nX-Downlink-Status: ok",
 "X-Token-Cache: stale\nX-Downlink-Status: ok",
 "", ""]
--- response_body_like eval
["reset",
 $::QUEUED_RE,
 "waited",
 $::QUEUED_RE,
 $::QUEUED_RE,
 qr{\Atoken /token/shortfail -> (tok-\d+)\ndl /dl/ok\?port=2 auth=Bearer \1 -> 201\ntoken /token/shortfail -> 500\n(?:dl /dl/ok\?port=2 auth=Bearer \1 -> 201\n){2}\z},
 qr{\A(?:[^\n]*\Q[error]\E[^\n]*\Qkpn downlink: token refresh failed, using the cached token: the token endpoint answered 500\E[^\n]*\n){1,2}\z}]
--- no_error_log
my-secret
[crit]
--- timeout: 10



=== TEST 3: a credential change is a miss: two client ids on one zone, one token each
--- config eval
::kpn_downlink_location(location => '= /dl-a', client_id => 'client-a', headers => ['cache'])
. ::kpn_downlink_location(location => '= /dl-b', client_id => 'client-b', headers => ['cache'])
. ::kpn_stub_locations()
--- request eval
["GET /stub/_reset",
 "POST /dl-a\n$::DL",
 "POST /dl-b\n$::DL3",
 "POST /dl-a\n$::DL",
 "POST /dl-b\n$::DL3",
 "GET /stub/_log",
 "GET /stub/_raw"]
--- error_code eval
[200, 201, 201, 201, 201, 200, 200]
--- response_headers eval
["", "", "", "X-Token-Cache: hit", "X-Token-Cache: hit", "", ""]
--- response_body_like eval
["reset",
 ($::QUEUED_RE) x 4,
 qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/ok\?port=2 auth=Bearer (tok-\d+) -> 201\n(?:token /token/ok -> tok-\d+\n)?dl /dl/ok\?port=3 auth=Bearer (?!\1\b)(tok-\d+) -> 201\ndl /dl/ok\?port=2 auth=Bearer \1 -> 201\ndl /dl/ok\?port=3 auth=Bearer \2 -> 201\n\z},
 qr{\A(?:(?!.*POST /token/).*|.*"client_id":"client-a".*"client_id":"client-b".*)\z}s]
--- no_error_log
[error]



=== TEST 4: a client that goes away mid-fetch releases the lease: the next request fetches at once
# the block's 1.5 s timeout is what makes the client go away; the short
# token of the previous iteration expires (4 s) over four pauses of 1.2 s
--- skip_eval: 22: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: timing with --- abort: the framework passes "1500ms" to curl --max-time, which curl refuses
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_'
    map $request_uri $kpn_token_backend {
        /downlink-hang  127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT;
        default         127.0.0.1:$TEST_NGINX_STUB_PORT;
    }
_EOC_
--- config eval
::kpn_downlink_config(location => '~ ^/downlink', extra => 'kpn_token_lock_timeout 5s;',
                      headers => ['cache'], token_timeout => '10s',
                      token => 'http://$kpn_token_backend/token/short')
--- request eval
[("GET /stub/_wait?1.2") x 3,
 "GET /stub/_reset?wait=1.2",
 "POST /downlink-hang\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 200, 200, 200, "", 201, 200]
--- response_headers eval
["", "", "", "", "", "X-Token-Cache: miss", ""]
--- response_body_like eval
["waited", "waited", "waited", "reset", qr/\A\z/, $::QUEUED_RE, qr/\Atokens=1 downlinks=1\n\z/]
--- no_error_log
[error]
--- timeout: 1500ms
--- abort



=== TEST 5: a downlink answer larger than subrequest_output_buffer_size is 502 upstream_error
--- config eval
::kpn_downlink_config(headers => ['status'], dl_extra => 'subrequest_output_buffer_size 8;')
--- request eval
::kpn_one_downlink('_count')
--- error_code eval
[200, 502, 200]
--- response_headers eval
["", "Content-Type: application/json\nX-Downlink-Status: upstream_error", ""]
--- response_body eval
["reset\n",
 qq({"error":"upstream_error","message":"the downlink answer was too big or broken"}\n),
 qr/\Atokens=[01] downlinks=1\n\z/]
--- no_error_log
too big subrequest response
[crit]
