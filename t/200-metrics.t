# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# kpn_metrics: after a known sequence of uplinks and downlinks (each result
# at least once, over two workers behind a master), the endpoint shows the
# exact counts, in the Prometheus text format and in JSON; the directives'
# errors at nginx -t.
#
# nginx keeps running across repeat_each iterations, so the counters of the
# second iteration start where the first ended: every expected count is
# "n in the first iteration, 2n in the second" (m_re below), and the token
# cache's counts are given for each iteration.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;
use KPNDownlink;
use KPNStub;

repeat_each(2);
no_shuffle();
master_on();
workers(2);

kpn_stub_start();

our $HTTP_CONFIG = $KPN_ECHO_SERVER . $KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_';
    kpn_metrics_zone zone=m:1m;
    kpn_metrics_count zone=m;
_EOC_

our $CONFIG = kpn_uplink_location()
    . kpn_uplink_location(location => '= /kpn/dead',
                          upstream => '127.0.0.1:$TEST_NGINX_CLOSED_PORT')
    . kpn_uplink_location(location => '= /kpn/busy',
                          upstream => '127.0.0.1:$TEST_NGINX_SERVER_PORT',
                          uri => '/busy')
    . kpn_downlink_config(headers => [])
    . <<'_EOC_';
    location = /downlink-refused {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/refused;
    }
    location = /_kpn/refused {
        internal;
        kpn_endpoint api;
        proxy_pass http://stub/dl/400$is_args$args;
    }
    location = /busy {
        return 503;
    }
    location = /metrics {
        kpn_metrics;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $HTTP_CONFIG)
        unless defined $block->http_config;
    $block->set_value("config", $CONFIG) unless defined $block->config;
});

our $BAD_JSON = '[{"bn":';

# the uplinks and downlinks of one iteration, and the headers of each
our @SEQUENCE = (
    ["POST /kpn/uplink\n$KPN_VECTOR", kpn_headers($KPN_VECTOR)],
    ["POST /kpn/uplink\n$KPN_VECTOR", kpn_headers($KPN_VECTOR)],
    ["POST /kpn/uplink\n$KPN_VECTOR", kpn_headers($KPN_VECTOR, token => '0' x 64)],
    ["POST /kpn/uplink\n$KPN_VECTOR", kpn_headers($KPN_VECTOR, token => undef)],
    ["GET /kpn/uplink", ""],
    ["POST /kpn/uplink\n$KPN_VECTOR", kpn_headers($KPN_VECTOR, type => 'other-type')],
    ["POST /kpn/uplink\n$BAD_JSON", kpn_headers($BAD_JSON)],
    ["POST /kpn/dead\n$KPN_VECTOR", kpn_headers($KPN_VECTOR)],
    ["POST /kpn/busy\n$KPN_VECTOR", kpn_headers($KPN_VECTOR)],
    ["POST /downlink\n$DL", ""],
    ["POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":0,"payload":"0a"}', ""],
    ["POST /downlink-refused\n$DL", ""],
    ["GET /downlink", ""],
);

our @CODES = (200, 200, 401, 401, 405, 422, 400, 502, 503, 201, 400, 400, 405);

# bytes read: every uplink body but the GET's; forwarded: four envelopes
our $RECEIVED = 7 * length($KPN_VECTOR) + length($BAD_JSON);
our $FORWARDED = 4 * length($KPN_VECTOR_ENVELOPE);

# a series line with n in the first iteration, 2n in the second
sub m_re {
    my ($series, $n) = @_;
    return "(?=.*^\Q$series\E (?:$n|" . 2 * $n . ")\$)";
}

# the same in the JSON form: "key":n inside the object "family"
sub j_re {
    my ($family, $key, $n) = @_;
    my $k = defined $key ? "\"\Q$family\E\":\\{[^}]*\"\Q$key\E\":" : "\"\Q$family\E\":";
    return "(?=.*$k(?:$n|" . 2 * $n . ")[,}])";
}

our %COUNTS = (
    'kpn_uplinks_total{result="ok"}' => 4,
    'kpn_uplinks_total{result="bad_token"}' => 1,
    'kpn_uplinks_total{result="missing_token"}' => 1,
    'kpn_uplinks_total{result="method_not_allowed"}' => 1,
    'kpn_uplinks_total{result="unknown_device_type"}' => 1,
    'kpn_uplinks_total{result="invalid_json"}' => 1,
    'kpn_uplinks_total{result="not_read"}' => 0,
    'kpn_uplink_upstream_responses_total{class="2xx"}' => 2,
    'kpn_uplink_upstream_responses_total{class="5xx"}' => 1,
    'kpn_uplink_upstream_responses_total{class="none"}' => 1,
    'kpn_uplink_received_bytes_total' => $RECEIVED,
    'kpn_uplink_forwarded_bytes_total' => $FORWARDED,
    'kpn_uplink_device_types_total{device_type="dragino-lds01"}' => 4,
    'kpn_uplink_device_types_total{device_type="_unconfigured"}' => 1,
    'kpn_downlinks_total{result="ok"}' => 1,
    'kpn_downlinks_total{result="kpn_rejected"}' => 1,
    'kpn_downlinks_total{result="invalid_port"}' => 1,
    'kpn_downlinks_total{result="method_not_allowed"}' => 1,
    'kpn_downlinks_total{result="token_unavailable"}' => 0,
    'kpn_downlink_kpn_responses_total{class="2xx"}' => 1,
    'kpn_downlink_kpn_responses_total{class="4xx"}' => 1,
    'kpn_downlink_kpn_responses_total{class="none"}' => 0,
);

our $TEXT_RE = '(?ms)\A'
    . '(?=# HELP kpn_build_info .*^kpn_build_info\{version="[0-9.]+",nginx_version="[0-9.]+"\} 1$)'
    . '(?=.*^# TYPE kpn_uplinks_total counter$)'
    . '(?=.*^# TYPE kpn_token_expiry_timestamp_seconds gauge$)'
    . join('', map { m_re($_, $COUNTS{$_}) } sort keys %COUNTS)
    # the first iteration fetches the token (miss), the second hits
    . '(?=.*^kpn_token_fetches_total\{result="ok"\} 1$)'
    . '(?=.*^kpn_token_fetches_total\{result="http_error"\} 0$)'
    . '(?=.*^kpn_token_cache_lookups_total\{outcome="miss"\} 1$)'
    . '(?=.*^kpn_token_cache_lookups_total\{outcome="hit"\} (?:1|3)$)'
    . '(?=.*^kpn_token_expiry_timestamp_seconds\{client_id="my-client"\} \d{10}$)';

our $JSON_RE = '(?s)\A\{"build_info":\{"version":"[0-9.]+","nginx_version":"[0-9.]+"\}'
    . j_re('uplinks', 'ok', 4) . j_re('uplinks', 'bad_token', 1)
    . j_re('uplinks', 'unknown_device_type', 1)
    . j_re('uplink_upstream_responses', 'none', 1)
    . j_re('uplink_upstream_responses', '5xx', 1)
    . j_re('uplink_received_bytes', undef, $RECEIVED)
    . j_re('uplink_forwarded_bytes', undef, $FORWARDED)
    . j_re('uplink_device_types', 'dragino-lds01', 4)
    . j_re('uplink_device_types', '_unconfigured', 1)
    . j_re('downlinks', 'ok', 1) . j_re('downlinks', 'kpn_rejected', 1)
    . j_re('downlink_kpn_responses', '4xx', 1)
    . '(?=.*"token_fetches":\{"ok":1,)'
    . '(?=.*"token_cache_lookups":\{"hit":(?:1|3),"miss":1,)'
    . '(?=.*"token_expiry":\{"my-client":\d{10}\})'
    . '.*\}\n\z';

run_tests();

__DATA__

=== TEST 1: the counts after a known sequence, in the text format
--- request eval
[(map { $_->[0] } @::SEQUENCE), "GET /metrics"]
--- more_headers eval
[(map { $_->[1] } @::SEQUENCE), ""]
--- error_code eval
[@::CODES, 200]
--- response_headers eval
[(map { "" } @::SEQUENCE), "Content-Type: text/plain; version=0.0.4; charset=utf-8"]
--- response_body_like eval
[(map { qr/./s } @::SEQUENCE), qr/$::TEXT_RE/]



=== TEST 2: the same counts in JSON (?format=json and Accept), HEAD without a body
--- request eval
[(map { $_->[0] } @::SEQUENCE), "GET /metrics?format=json", "GET /metrics", "HEAD /metrics"]
--- more_headers eval
[(map { $_->[1] } @::SEQUENCE), "", "Accept: text/plain;q=0.5, application/json", ""]
--- error_code eval
[@::CODES, 200, 200, 200]
--- response_headers eval
[(map { "" } @::SEQUENCE), "Content-Type: application/json", "Content-Type: application/json",
 "Content-Type: text/plain; version=0.0.4; charset=utf-8"]
--- response_body_like eval
[(map { qr/./s } @::SEQUENCE), qr/$::JSON_RE/, qr/$::JSON_RE/, qr/\A\z/]



=== TEST 3: another method is refused with a JSON error, counters untouched
--- request
POST /metrics
x
--- error_code: 405
--- response_headers
Allow: GET, HEAD
--- response_body
{"error":"method_not_allowed","message":"method POST is not allowed, use GET, HEAD"}



=== TEST 4: nginx -t fails: kpn_metrics without a zone
--- http_config
--- config
    location = /metrics {
        kpn_metrics;
    }
--- must_die
--- error_log
"kpn_metrics" needs a zone: "kpn_metrics zone=NAME" or "kpn_metrics_count zone=NAME"



=== TEST 5: nginx -t fails: kpn_metrics_count names an unknown zone
--- http_config
    kpn_metrics_count zone=nope;
--- config
    location = / {
        return 204;
    }
--- must_die
--- error_log
"kpn_metrics_count": unknown kpn_metrics_zone "nope"



=== TEST 6: nginx -t fails: kpn_metrics zone= names an unknown zone
--- http_config
    kpn_metrics_zone zone=m:1m;
--- config
    location = /metrics {
        kpn_metrics zone=other;
    }
--- must_die
--- error_log
"kpn_metrics": unknown kpn_metrics_zone "other"



=== TEST 7: nginx -t fails: a kpn_metrics_zone declared twice, a bad zone
--- http_config
    kpn_metrics_zone zone=m:1m;
    kpn_metrics_zone zone=m:1m;
--- config
--- must_die
--- error_log
"kpn_metrics_zone": zone "m" is already declared



=== TEST 8: nginx -t fails: a kpn_metrics_zone without a size
--- http_config
    kpn_metrics_zone zone=m;
--- config
--- must_die
--- error_log
"kpn_metrics_zone": invalid zone size "zone=m"



=== TEST 9: kpn_metrics zone= shows a zone the location does not count into; kpn_metrics_count off counts nothing
--- http_config eval
$::KPN_ECHO_SERVER . <<'_EOC_';
    kpn_metrics_zone zone=a:1m;
    kpn_metrics_zone zone=b:1m;
    kpn_metrics_count zone=a;
_EOC_
--- config eval
::kpn_uplink_location()
. ::kpn_uplink_location(location => '= /kpn/quiet', extra => 'kpn_metrics_count off;')
. <<'_EOC_';
    location = /metrics-a {
        kpn_metrics;
    }
    location = /metrics-b {
        kpn_metrics zone=b;
    }
_EOC_
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/quiet\n$::KPN_VECTOR", "GET /metrics-a", "GET /metrics-b"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR), "", ""]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/./s, qr/./s,
 qr/^kpn_uplinks_total\{result="ok"\} (?:1|2)$/m,
 qr/^kpn_uplinks_total\{result="ok"\} 0$/m]
