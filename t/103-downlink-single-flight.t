# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Single flight across the node: 4 workers, a burst of concurrent
# downlinks at cold start (8 mirror subrequests, each its own connection to
# a reuseport listener, so they spread over the workers) against a slow
# token stand-in (0.4 s) gives exactly one token request; the others wait
# on a timer and use that token.  A worker that dies holding the lease
# does not stop the others: the next request fetches at once.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

kpn_stub_start();

repeat_each(2);
no_shuffle();
workers(4);
master_on();

run_tests();

__DATA__

=== TEST 1: a cold burst of 9 downlinks over 4 workers makes one token request
--- skip_eval: 12: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: the burst is mirror subrequests of the request, which curl cuts off by closing the connection once it has the answer
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_' . ::kpn_downlink_server(listen => 'reuseport', token => 'slow')
    log_format kpn_dl '$kpn_token_cache $kpn_downlink_status $status';
_EOC_
--- config eval
<<'_EOC_' . $::KPN_MIRROR_LOCATIONS
    location = /burst {
        mirror /m;
        mirror /m;
        mirror /m;
        mirror /m;
        mirror /m;
        mirror /m;
        mirror /m;
        mirror /m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
    }
_EOC_
--- request eval
["GET /stub/_reset",
 "POST /burst\n$::DL",
 "GET /stub/_count",
 "GET /downlink-log"]
--- error_code eval
[200, 201, 200, 200]
--- response_body_like eval
["reset",
 $::QUEUED_RE,
 qr/\Atokens=[01] downlinks=9\n\z/,
 qr/\A(?:miss ok 201\n)?(?:(?:wait|hit) ok 201\n)+\z/]
--- no_error_log
[error]
--- timeout: 10



=== TEST 2: a worker killed while it holds the fetch lease: the next request fetches at once
# the token stand-in kills the worker that asks it (X-Worker-Pid) and
# answers nothing; the lease would last kpn_token_lock_timeout (20 s); the
# 4 s token of the first iteration is gone when the second one starts
--- skip_eval: 16: $ENV{TEST_NGINX_USE_HTTP2} || $ENV{TEST_NGINX_USE_VALGRIND}  # HTTP/2: the killed worker takes its connection along, which curl reports on stderr, an extra failing assertion in the framework's HTTP/2 mode; valgrind: the worker's command line is valgrind's, so the stand-in does not kill it
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_'
    map $request_uri $kpn_token_mode {
        /downlink-kill  kill;
        default         short;
    }
_EOC_
--- config eval
::kpn_downlink_config(location => '~ ^/downlink', extra => 'kpn_token_lock_timeout 20s;',
                      headers => ['cache'], token => 'http://stub/token/$kpn_token_mode',
                      token_extra => 'proxy_set_header X-Worker-Pid $pid;')
. <<'_EOC_'
    error_log logs/warn.log warn;
    location = /warn-log {
        alias $TEST_NGINX_SERVER_ROOT/logs/warn.log;
    }
_EOC_
--- request eval
["GET /stub/_reset?wait=4.2",
 "POST /downlink-kill\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_log",
 "GET /warn-log"]
--- error_code eval
[200, "", 201, 200, 200]
--- response_headers eval
["", "", "X-Token-Cache: miss", "", ""]
--- response_body_like eval
["reset", qr/\A\z/, $::QUEUED_RE,
 qr{\Atoken /token/kill -> kill\ntoken /token/short -> tok-\d+\ndl /dl/ok\?port=2 auth=Bearer tok-\d+ -> 201\n\z},
 qr/\Qkpn downlink: the token fetch of process \E\d+\Q ended with the process, fetching anew\E/]
--- no_error_log
[error]
--- timeout: 6
