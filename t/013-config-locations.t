# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# nginx -t names the location's own file and line for what a kpn_uplink or
# kpn_downlink location lacks (not the end of http {}), and refuses a
# kpn_uplink location without a content handler to send the rewritten
# request on.  The locations are in an included file, so that the
# "in FILE:LINE" of the errors is known.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';

repeat_each(2);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} = html_dir();

# a kpn_uplink location (kpn_uplink on line 2) with the given lines
sub uplink_file {
    my (@lines) = @_;
    return ">>> kpn.conf\n"
        . "location = /kpn/uplink {\n"
        . "    kpn_uplink on;\n"
        . join('', map { "    $_\n" } @lines)
        . "}\n"
        . ">>> kpn.secrets\nExample-Secret-0123456789-abcdefGH!\n";
}

# a kpn_downlink location (kpn_downlink on line 2) with the given lines
sub downlink_file {
    my ($zone, @lines) = @_;
    return ">>> kpn.conf\n"
        . "location = /downlink {\n"
        . "    kpn_downlink zone=$zone;\n"
        . join('', map { "    $_\n" } @lines)
        . "}\n";
}

our @UPLINK = ('kpn_uplink_secret_file $TEST_NGINX_HTML_DIR/kpn.secrets;',
               'kpn_device_type dragino-lds01 wasd2;');

our @DOWNLINK = ('kpn_downlink_keys off;', 'kpn_client_id my-client;',
                 'kpn_client_secret my-secret;', 'kpn_token_uri /_kpn/token;',
                 'kpn_downlink_uri /_kpn/downlinks;');

# the endpoints the downlink locations name
our $ENDPOINTS = <<'_EOC_';
    location = /_kpn/token {
        internal;
        kpn_endpoint token;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t;
    }
    location = /_kpn/downlinks {
        internal;
        kpn_endpoint api;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", "    kpn_token_zone zone=kpn:1m;\n")
        unless defined $block->http_config;
    $block->set_value("config", "    include \$TEST_NGINX_HTML_DIR/kpn.conf;\n"
                      . "    location = /t {\n        return 200 \"started\\n\";\n    }\n"
                      . $ENDPOINTS)
        unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: kpn_uplink without proxy_pass (a return answers instead) fails nginx -t at its line
--- user_files eval
::uplink_file(@::UPLINK, 'return 204;')
--- must_die
--- error_log eval
qr{"kpn_uplink" requires "proxy_pass" \(or another content handler\) in its location "/kpn/uplink" in \S+/kpn\.conf:2$}m



=== TEST 2: kpn_uplink with proxy_pass, and an "if" block without one inside, starts
--- user_files eval
::uplink_file(@::UPLINK, 'if ($http_x_debug) {', '    set $x 1;', '}',
              'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t;')
--- request
GET /t
--- response_body
started
--- no_error_log
[emerg]



=== TEST 3: kpn_uplink without a secret: the error names the kpn_uplink line, not the end of http {}
--- user_files eval
::uplink_file('kpn_device_type dragino-lds01 wasd2;',
              'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t;')
--- must_die
--- error_log eval
qr{"kpn_uplink" requires "kpn_uplink_secret_file" or "kpn_uplink_secret" in \S+/kpn\.conf:2$}m



=== TEST 4: kpn_uplink without a device type: the error names the kpn_uplink line
--- user_files eval
::uplink_file('kpn_uplink_secret_file $TEST_NGINX_HTML_DIR/kpn.secrets;',
              'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t;')
--- must_die
--- error_log eval
qr{"kpn_uplink" with "kpn_uplink_format envelope" requires at least one "kpn_device_type" in \S+/kpn\.conf:2$}m



=== TEST 5: kpn_downlink without kpn_client_id: the error names the kpn_downlink line
--- user_files eval
::downlink_file('kpn', grep { !/client_id/ } @::DOWNLINK)
--- must_die
--- error_log eval
qr{"kpn_downlink" requires "kpn_client_id" in \S+/kpn\.conf:2$}m



=== TEST 6: kpn_downlink without kpn_downlink_keys: the error names the kpn_downlink line
--- user_files eval
::downlink_file('kpn', grep { !/keys/ } @::DOWNLINK)
--- must_die
--- error_log eval
qr{"kpn_downlink" requires "kpn_downlink_keys" \(or "kpn_downlink_keys off" when the location is protected otherwise\) in \S+/kpn\.conf:2$}m



=== TEST 7: kpn_downlink without a client secret names the kpn_downlink line
--- user_files eval
::downlink_file('kpn', grep { !/secret/ } @::DOWNLINK)
--- must_die
--- error_log eval
qr{"kpn_downlink" requires "kpn_client_secret" or "kpn_client_secret_file" in \S+/kpn\.conf:2$}m



=== TEST 8: kpn_downlink without kpn_token_uri names the kpn_downlink line
--- user_files eval
::downlink_file('kpn', grep { !/token_uri/ } @::DOWNLINK)
--- must_die
--- error_log eval
qr{"kpn_downlink" requires "kpn_token_uri" in \S+/kpn\.conf:2$}m



=== TEST 9: kpn_downlink without kpn_downlink_uri names the kpn_downlink line
--- user_files eval
::downlink_file('kpn', grep { !/downlink_uri/ } @::DOWNLINK)
--- must_die
--- error_log eval
qr{"kpn_downlink" requires "kpn_downlink_uri" in \S+/kpn\.conf:2$}m



=== TEST 10: kpn_downlink with an unknown zone names the kpn_downlink line
--- user_files eval
::downlink_file('other', @::DOWNLINK)
--- must_die
--- error_log eval
qr{"kpn_downlink": unknown kpn_token_zone "other" in \S+/kpn\.conf:2$}m



=== TEST 11: a complete kpn_downlink location starts
--- user_files eval
::downlink_file('kpn', @::DOWNLINK)
--- request
GET /t
--- response_body
started
--- no_error_log
[emerg]
