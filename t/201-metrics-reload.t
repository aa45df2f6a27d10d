# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The counters survive "nginx -s reload": in HUP mode the second block is a
# SIGHUP reload of the same configuration (same kpn_metrics_zone name and
# size), and its counts go on from the first block's.

BEGIN {
    $ENV{TEST_NGINX_USE_HUP} = 1;
}

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();
master_on();
workers(2);

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $KPN_ECHO_SERVER . <<'_EOC_');
    kpn_metrics_zone zone=m:1m;
    kpn_metrics_count zone=m;
_EOC_
    $block->set_value("config", kpn_uplink_location() . <<'_EOC_');
    location = /metrics {
        kpn_metrics;
    }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: before the reload: one uplink an iteration
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "GET /metrics"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/./s, qr/^kpn_uplinks_total\{result="ok"\} (?:1|2)$/m]



=== TEST 2: after the reload: the counts go on
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "GET /metrics"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/./s, qr/^kpn_uplinks_total\{result="ok"\} (?:3|4)$/m]
