# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The labelled series (device types, client ids) are the configuration's:
# every configured name is labelled from the start, however many there are,
# and after "nginx -s reload" the series of names the new configuration no
# longer has are gone (as after a restart) while the others go on.  In HUP
# mode, as t/201: the second block is a reload of the first's zone with
# other device types and another client id.

BEGIN {
    $ENV{TEST_NGINX_USE_HUP} = 1;
}

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

# 200 device types: the one of the test vector and t001 .. t199
our @TYPES = ('dragino-lds01 wasd2', map { sprintf "t%03d h%03d", $_, $_ } 1 .. 199);

our $HTTP_CONFIG = $KPN_ECHO_SERVER . $KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_';
    kpn_metrics_zone zone=m:1m;
    kpn_metrics_count zone=m;
    proxy_set_header Host $host;
_EOC_

our $METRICS = <<'_EOC_';
    location = /metrics {
        kpn_metrics;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $HTTP_CONFIG) unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: 200 device types and a client id: every one labelled
# the first line of each family is _unconfigured, then the configured
# types in order; the client id has its expiry once its token is fetched
--- config eval
::kpn_uplink_location(device_type => \@::TYPES)
. ::kpn_downlink_config(client_id => 'client-a', headers => [])
. $::METRICS
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/uplink\n$::KPN_VECTOR",
 "POST /downlink\n$::DL", "GET /metrics"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR, type => 't199'), "", ""]
--- error_code eval
[200, 200, 201, 200]
--- response_body_like eval
[qr/./s, qr/./s, $::QUEUED_RE,
 qr/(?=.*^kpn_uplink_device_types_total\{device_type="dragino-lds01"\} [12]$)(?=.*^kpn_uplink_device_types_total\{device_type="t199"\} [12]$)(?=.*^kpn_uplink_device_types_total\{device_type="t001"\} 0$)(?=.*^kpn_token_expiry_timestamp_seconds\{client_id="client-a"\} \d{10}$)(?=\A(?:(?!kpn_uplink_device_types_total\{)[^\n]*\n)*(?:kpn_uplink_device_types_total\{[^\n]*\n){201}(?!kpn_uplink_device_types_total\{))/ms]
--- no_error_log
[warn]



=== TEST 2: after a reload with other device types and another client id: the dropped series are gone, the kept one goes on
--- config eval
::kpn_uplink_location(device_type => ['dragino-lds01 wasd2', 'new-type n1'])
. ::kpn_downlink_config(client_id => 'client-b', headers => [])
. $::METRICS
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /downlink\n$::DL", "GET /metrics"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), "", ""]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
[qr/./s, $::QUEUED_RE,
 qr/\A(?!.*device_type="t\d\d\d")(?!.*client_id="client-a")(?=.*^kpn_uplink_device_types_total\{device_type="dragino-lds01"\} [34]$)(?=.*^kpn_uplink_device_types_total\{device_type="new-type"\} 0$)(?=.*^kpn_uplink_device_types_total\{device_type="_unconfigured"\} 0$)(?=.*^kpn_token_expiry_timestamp_seconds\{client_id="client-b"\} \d{10}$)/ms]
--- no_error_log
[warn]
