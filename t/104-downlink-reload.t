# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The token survives "nginx -s reload": in HUP mode the second block is a
# SIGHUP reload of the same configuration (same zone name and size), and
# its downlinks use the token fetched before the reload.

BEGIN {
    $ENV{TEST_NGINX_USE_HUP} = 1;
}

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

kpn_stub_start();

repeat_each(2);
no_shuffle();

# both blocks take the same config, so the second one is a reload of it
add_block_preprocessor(sub {
    kpn_downlink_defaults(shift, config => kpn_downlink_config(headers => ['cache']));
});

run_tests();

__DATA__

=== TEST 1: before the reload: the token is fetched once
--- request eval
::kpn_one_downlink('_count')
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", "queued", qr/\Atokens=[01] downlinks=1\n\z/]
--- no_error_log
[error]



=== TEST 2: after the reload: the cached token is still used
--- request eval
::kpn_one_downlink('_count')
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "X-Token-Cache: hit", ""]
--- response_body eval
["reset\n", $::QUEUED, "tokens=0 downlinks=1\n"]
--- no_error_log
[error]
