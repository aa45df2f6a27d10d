# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The metrics in the corners (issue 18): a second token fetch after KPN's
# 401, a caller that hangs up while its downlink waits, bodies over
# client_max_body_size, mirror subrequests that log, and which Accept
# header gets JSON.
#
# nginx keeps running across the repeat_each iterations of a block: a count
# is "n in the first iteration, 2n in the second" unless said otherwise.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;
use KPNDownlink;
use KPNStub;

repeat_each(2);
no_shuffle();

kpn_stub_start();

our $METRICS = <<'_EOC_';
    location = /metrics {
        kpn_metrics;
    }
_EOC_

# without the echo server: the blocks with a second downlink server (on
# the same port)
our $HTTP_DL = $KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_';
    kpn_metrics_zone zone=m:1m;
    kpn_metrics_count zone=m;
    proxy_set_header Host $host;
    log_format kpn_dl '$kpn_token_cache $kpn_downlink_status $status';
_EOC_

# a caller that hangs up: /impatient, with its own error log for the
# "upstream timed out" of its proxy
our $IMPATIENT = <<'_EOC_';
    location = /impatient {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
        proxy_read_timeout 300ms;
        error_log logs/impatient-error.log;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $KPN_ECHO_SERVER . $HTTP_DL)
        unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: a 401 from KPN: the token fetched anew is a second fetch, counted
# the first iteration fetches (cold cache), is refused once and fetches
# again: 2; the second has the token cached, is refused and fetches: 3
--- config eval
::kpn_downlink_config(dl => '401first', headers => ['cache']) . $::METRICS
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_count", "GET /metrics"]
--- error_code eval
[200, 201, 200, 200]
--- response_body_like eval
["reset", $::QUEUED_RE, qr/\Atokens=[12] downlinks=2\n\z/,
 qr/^kpn_token_fetches_total\{result="ok"\} [23]$/m]
--- no_error_log
[error]



=== TEST 2: Accept: JSON only for application/json itself with a q above 0 and above text's
--- config eval
$::METRICS
--- request eval
[("GET /metrics") x 13]
--- more_headers eval
["Accept: application/json;q=0",
 "Accept: application/json-patch+json",
 "Accept: application/jsonx, text/json",
 "Accept: application/json;q=0.5, */*",
 "Accept: application/json, text/plain",
 "Accept: application/json;q=1.5",
 "Accept: application/json;q=0.",
 "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
 "Accept: Application/JSON ; charset=utf-8",
 "Accept: text/plain;q=0.5, application/json;q=0.9",
 "Accept: application/json, */*;q=0.1",
 "Accept: text/*;q=0.3, */*, application/json;q=0.4",
 "Accept: text/plain;q=0\nAccept: application/json;x=\"a,q=0\";q=0.5"]
--- error_code eval
[(200) x 13]
--- response_headers eval
[("Content-Type: text/plain; version=0.0.4; charset=utf-8") x 8,
 ("Content-Type: application/json") x 5]



=== TEST 3: mirror and log_subrequest on: an uplink counts once, a downlink once
# an iteration: one uplink without a mirror and one with: 2 (twice 2: 4); a
# mirror subrequest that counted would make 3 and 6
--- config eval
"    log_subrequest on;\n"
. ::kpn_uplink_location()
. ::kpn_uplink_location(location => '= /kpn/mirrored', extra => ['mirror /m;'])
. ::kpn_downlink_config(headers => [])
. $::METRICS . <<'_EOC_'
    location = /m {
        internal;
        return 204;
    }
_EOC_
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/mirrored\n$::KPN_VECTOR",
 "POST /downlink\n$::DL", "GET /metrics"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR), "", ""]
--- error_code eval
[200, 200, 201, 200]
--- response_body_like eval
[qr/./s, qr/./s, $::QUEUED_RE,
 qr/(?=.*^kpn_uplinks_total\{result="ok"\} [24]$)(?=.*^kpn_uplink_device_types_total\{device_type="dragino-lds01"\} [24]$)(?=.*^kpn_downlinks_total\{result="ok"\} [12]$)(?=.*^kpn_downlinks_total\{result="internal_error"\} 0$)/ms]
--- no_error_log
[error]



=== TEST 4: a caller that hangs up while KPN is slow: client_closed, in $kpn_downlink_status and the metrics
# KPN's stand-in takes 1.5 s to answer the downlink, the caller gives up
# after 0.3 s
--- http_config eval
$::HTTP_DL . ::kpn_downlink_server(dl => 'slow')
--- config eval
$::IMPATIENT . $::KPN_MIRROR_LOCATIONS . $::METRICS
--- request eval
["GET /stub/_reset", "POST /impatient\n$::DL", "GET /downlink-log", "GET /metrics"]
--- error_code eval
[200, 504, 200, 200]
--- response_body_like eval
["reset", "504", qr/\A(?:(?:miss|hit) client_closed 499\n){1,2}\z/,
 qr/(?=.*^kpn_downlinks_total\{result="client_closed"\} [12]$)(?=.*^kpn_downlinks_total\{result="internal_error"\} 0$)(?=.*^kpn_downlink_kpn_responses_total\{class="none"\} [12]$)/ms]
--- no_error_log
[error]
--- timeout: 5



=== TEST 5: a caller that hangs up while it waits for another request's token fetch: client_closed
# /wait-hangup's mirror sends the first downlink (the fetch, 0.4 s); the
# caller's own reaches kpn_downlink 80 ms later (after /late times out on
# a port that never answers), waits for that fetch, and is given up by the
# caller at 250 ms.  The token lasts 4 s: the second iteration, 4.2 s
# later, fetches again.
--- http_config eval
my $s = ::kpn_downlink_config(location => '= /downlink', headers => [], token => 'slowshort',
                              extra => 'access_log logs/downlink.log kpn_dl;', stub => 0)
      . ::kpn_downlink_location(location => '@late', headers => [],
                                extra => 'access_log logs/downlink.log kpn_dl;')
      . <<'_EOC_';
    location = /late {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT;
        proxy_read_timeout 80ms;
        error_page 504 = @late;
        error_log logs/impatient-error.log;
    }
_EOC_
$s =~ s/^/    /mg;
$::HTTP_DL . "    server {\n        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1;\n$s    }\n"
--- config eval
$::KPN_MIRROR_LOCATIONS . $::METRICS . <<'_EOC_'
    location = /wait-hangup {
        mirror /m;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/late;
        proxy_read_timeout 250ms;
        error_log logs/impatient-error.log;
    }
    location = /pause {
        proxy_pass http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT;
        proxy_read_timeout 500ms;
        error_log logs/impatient-error.log;
    }
_EOC_
--- request eval
["GET /stub/_reset?wait=4.2", "POST /wait-hangup\n$::DL", "GET /pause", "GET /downlink-log",
 "GET /metrics"]
--- error_code eval
[200, 504, 504, 200, 200]
--- response_body_like eval
["reset", "504", qr/./s, qr/\A(?:wait client_closed 499\nmiss ok 201\n){1,2}\z/,
 qr/(?=.*^kpn_downlinks_total\{result="client_closed"\} [12]$)(?=.*^kpn_downlinks_total\{result="internal_error"\} 0$)(?=.*^kpn_token_cache_lookups_total\{outcome="wait"\} [12]$)/ms]
--- no_error_log
[error]
--- timeout: 8



=== TEST 6: bodies over client_max_body_size announced by Content-Length: the JSON 413, counted not_read (both halves)
# nginx refuses them before the module's handlers run (the find-config
# phase); the module's filters turn its HTML page into the JSON error
--- skip_eval: 11: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::kpn_uplink_location(extra => 'client_max_body_size 64;')
. ::kpn_downlink_config(headers => [], extra => 'client_max_body_size 64;')
. $::METRICS
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /downlink\n{" . (' ' x 20) . substr($::DL, 1), "GET /metrics"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), "", ""]
--- error_code eval
[413, 413, 200]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json", ""]
--- response_body eval
[qq({"error":"body_too_large","message":"the body is larger than client_max_body_size (64 bytes)"}\n),
 qq({"error":"body_too_large","message":"the body is larger than client_max_body_size (64 bytes)"}\n),
 qr/(?=.*^kpn_uplinks_total\{result="not_read"\} [12]$)(?=.*^kpn_downlinks_total\{result="not_read"\} [12]$)(?=.*^kpn_uplinks_total\{result="other"\} 0$)/ms]
--- no_error_log
kpn uplink rejected



=== TEST 7: the same body chunked: the JSON 413 too (the body read fails after the handler ran)
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked transfer coding does not exist in HTTP/2
--- config eval
::kpn_uplink_location(extra => ['client_max_body_size 64;', 'client_body_timeout 5s;'])
. $::METRICS
--- raw_request eval
my $h = "POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::KPN_VECTOR))
    . "Transfer-Encoding: chunked\r\n\r\n";
$h . sprintf("%x\r\n%s\r\n0\r\n\r\n", length($::KPN_VECTOR), $::KPN_VECTOR)
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":"body_too_large","message":"the body is larger than client_max_body_size (64 bytes)"}
--- error_log
client intended to send too large chunked body



=== TEST 8: nginx -t fails: a kpn_metrics_zone too small for the device types configured
--- http_config eval
$::KPN_ECHO_SERVER . <<'_EOC_'
    kpn_metrics_zone zone=small:32k;
    kpn_metrics_count zone=small;
_EOC_
--- config eval
::kpn_uplink_location(device_type => [map { sprintf "t%03d h%03d", $_, $_ } 1 .. 200])
--- must_die
--- error_log eval
qr/"kpn_metrics_zone": zone of 32k is too small for 201 device types and client ids, make it at least 80k in \S+nginx\.conf:\d+/
