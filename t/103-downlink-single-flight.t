# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Single flight across the node: 4 workers, a burst of concurrent
# downlinks at cold start (8 mirror subrequests, each its own connection to
# a reuseport listener, so they spread over the workers) against a slow
# token stand-in (0.4 s) gives exactly one token request; the others wait
# on a timer and use that token.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;

repeat_each(2);
no_shuffle();
workers(4);
master_on();

our $DL = '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}';

run_tests();

__DATA__

=== TEST 1: a cold burst of 9 downlinks over 4 workers makes one token request
--- http_config
    kpn_token_zone zone=kpn:1m;
    upstream stub {
        server 127.0.0.1:$TEST_NGINX_STUB_PORT;
    }
    log_format kpn_dl '$kpn_token_cache $kpn_downlink_status $status';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 reuseport;
        location = /downlink {
            kpn_downlink zone=kpn;
            kpn_downlink_keys off;
            kpn_client_id my-client;
            kpn_client_secret my-secret;
            kpn_token_uri /_kpn/token;
            kpn_downlink_uri /_kpn/downlinks;
            access_log logs/downlink.log kpn_dl;
        }
        location = /_kpn/token {
            internal;
            proxy_pass http://stub/token/slow;
        }
        location = /_kpn/downlinks {
            internal;
            proxy_pass http://stub/dl/ok$is_args$args;
        }
    }
--- config
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
    location = /m {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
    location = /downlink-log {
        alias $TEST_NGINX_SERVER_ROOT/logs/downlink.log;
    }
--- request eval
["GET /stub/_reset",
 "POST /burst\n$::DL",
 "GET /stub/_count",
 "GET /downlink-log"]
--- error_code eval
[200, 201, 200, 200]
--- response_body_like eval
["reset",
 qr/\A\{"result":"queued"\}\z/,
 qr/\Atokens=[01] downlinks=9\n\z/,
 qr/\A(?:miss ok 201\n)?(?:(?:wait|hit) ok 201\n)+\z/]
--- no_error_log
[error]
--- timeout: 10
