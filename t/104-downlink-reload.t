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

repeat_each(2);
no_shuffle();

our $DL = '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}';

our $HTTP_CONFIG = <<'_EOC_';
    kpn_token_zone zone=kpn:1m;
    upstream stub {
        server 127.0.0.1:$TEST_NGINX_STUB_PORT;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", $HTTP_CONFIG);
    }
});

run_tests();

__DATA__

=== TEST 1: before the reload: the token is fetched once
--- config
    location = /downlink {
        kpn_downlink zone=kpn;
        kpn_downlink_keys off;
        kpn_client_id my-client;
        kpn_client_secret my-secret;
        kpn_token_uri /_kpn/token;
        kpn_downlink_uri /_kpn/downlinks;
        add_header X-Token-Cache $kpn_token_cache always;
    }
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/token/ok;
    }
    location = /_kpn/downlinks {
        internal;
        proxy_pass http://stub/dl/ok$is_args$args;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_count"]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", "queued", qr/\Atokens=[01] downlinks=1\n\z/]
--- no_error_log
[error]



=== TEST 2: after the reload: the cached token is still used
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_count"]
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "X-Token-Cache: hit", ""]
--- response_body eval
["reset\n", '{"result":"queued"}', "tokens=0 downlinks=1\n"]
--- no_error_log
[error]
