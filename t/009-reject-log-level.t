# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# kpn_reject_log_level: the one level at which both halves log the input
# they refuse (default error, as limit_req_log_level); a failure of the
# module's own (500) stays an error.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;
use KPNDownlink;
use KPNStub;

repeat_each(2);
no_shuffle();

kpn_stub_start();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $KPN_ECHO_SERVER . $KPN_DOWNLINK_HTTP_CONFIG)
        unless defined $block->http_config;
});

our $BAD_PORT = '{"devEUI":"0059ac00001b3461","port":0,"payload":"0a"}';

run_tests();

__DATA__

=== TEST 1: by default a refused uplink is logged at error
--- config eval
::kpn_uplink_location()
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, token => '0' x 64)
--- error_code: 401
--- error_log eval
qr/\[error\] .*kpn uplink rejected: 401 bad_token/



=== TEST 2: by default a refused downlink is logged at error
--- config eval
::kpn_downlink_config(headers => [])
--- request eval
"POST /downlink\n$::BAD_PORT"
--- error_code: 400
--- error_log eval
qr/\[error\] .*kpn downlink: invalid_port: /



=== TEST 3: kpn_reject_log_level info at http level: the uplink
--- http_config eval
"    kpn_reject_log_level info;\n" . $::KPN_ECHO_SERVER . $::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
::kpn_uplink_location()
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, token => '0' x 64)
--- error_code: 401
--- error_log eval
qr/\[info\] .*kpn uplink rejected: 401 bad_token/
--- no_error_log
[error]
[warn]



=== TEST 4: kpn_reject_log_level info at http level: the downlink's input
--- http_config eval
"    kpn_reject_log_level info;\n" . $::KPN_ECHO_SERVER . $::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
::kpn_downlink_config(headers => [])
--- request eval
"POST /downlink\n$::BAD_PORT"
--- error_code: 400
--- error_log eval
qr/\[info\] .*kpn downlink: invalid_port: /
--- no_error_log
[error]
[warn]



=== TEST 5: kpn_reject_log_level info at http level: the downlink's method
--- http_config eval
"    kpn_reject_log_level info;\n" . $::KPN_ECHO_SERVER . $::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
::kpn_downlink_config(headers => [])
--- request
GET /downlink
--- error_code: 405
--- error_log eval
qr/\[info\] .*kpn downlink: method_not_allowed: /
--- no_error_log
[error]
[warn]



=== TEST 6: a location's own level wins
--- config eval
::kpn_uplink_location(extra => 'kpn_reject_log_level warn;')
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, token => undef)
--- error_code: 401
--- error_log eval
qr/\[warn\] .*kpn uplink rejected: 401 missing_token/
--- no_error_log
[error]



=== TEST 7: nginx -t fails: an unknown level
--- config
    kpn_reject_log_level debug;
--- must_die
--- error_log
invalid value "debug"
