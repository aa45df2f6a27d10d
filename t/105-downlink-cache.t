# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The token cache beyond the plain hit/miss (t/101): the stale path (a due
# but valid token is used while another request refreshes it), a failed
# refresh that falls back on the still-valid token instead of failing, a
# credential change being a miss, a fetch that outlives the caller that
# started it (its token stored, no downlink sent), and an oversized answer
# that is answered with JSON instead of terminating the request.
#
# Blocks that depend on expiry start with a 4.5 s delay so that the second
# repeat_each iteration starts with an expired token, as the first does.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

kpn_stub_start();

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



=== TEST 4: a caller that goes away mid-fetch: the fetch goes on, its token is stored and used, and the caller gets no downlink
# /impatient gives up after 100 ms (proxy_read_timeout), as a caller with a
# short timeout does, while the token stand-in takes 0.4 s; its 4 s token is
# fresh for 2 s, so the second iteration, 2.5 s later, fetches again
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_' . ::kpn_downlink_server(token => 'slowshort')
    log_format kpn_dl '$kpn_token_cache $kpn_downlink_status $status';
_EOC_
--- config eval
<<'_EOC_' . $::KPN_MIRROR_LOCATIONS
    location = /impatient {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
        proxy_read_timeout 100ms;
        error_log logs/impatient-error.log;
    }
    location = /one {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
    }
_EOC_
--- request eval
["GET /stub/_reset?wait=2.5",
 "POST /impatient\n$::DL",
 "GET /stub/_wait?0.6",
 "POST /one\n$::DL",
 "GET /stub/_count",
 "GET /downlink-log"]
--- error_code eval
[200, 504, 200, 201, 200, 200]
--- response_body_like eval
["reset", "504", "waited", $::QUEUED_RE, qr/\Atokens=1 downlinks=1\n\z/,
 qr/\A(?:miss client_closed 499\nhit ok 201\n)+\z/]
--- no_error_log
[error]
--- timeout: 5



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
