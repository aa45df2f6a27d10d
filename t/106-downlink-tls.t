# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The token and downlink locations verify the TLS certificate of their
# upstream, as docs/downlink.md configures them: the client secret and the
# access token never travel to a server that could not prove who it is.
# The suite makes its own CA and a certificate for "localhost" with openssl,
# and a second CA that signed nothing of it; a TLS server on
# $TEST_NGINX_RAND_PORT_1 plays the identity platform and the KPN API.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use File::Temp ();

repeat_each(2);
no_shuffle();

# the certificates, made once per run
my $dir = File::Temp::tempdir('kpn-tls-XXXXXX', TMPDIR => 1, CLEANUP => 1);
sub openssl { system('openssl', @_) == 0 or die "openssl @_ failed\n" }
{
    local *STDERR;
    open STDERR, '>', '/dev/null';
    my @ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes');
    openssl('req', '-x509', @ec, '-keyout', "$dir/ca.key", '-out', "$dir/ca.crt",
            '-days', '2', '-subj', '/CN=kpn test CA');
    openssl('req', @ec, '-keyout', "$dir/server.key", '-out', "$dir/server.csr",
            '-subj', '/CN=localhost');
    open my $ext, '>', "$dir/ext" or die;
    print $ext "subjectAltName=DNS:localhost\n";
    close $ext;
    openssl('x509', '-req', '-in', "$dir/server.csr", '-CA', "$dir/ca.crt",
            '-CAkey', "$dir/ca.key", '-CAcreateserial', '-out', "$dir/server.crt",
            '-days', '2', '-extfile', "$dir/ext");
    openssl('req', '-x509', @ec, '-keyout', "$dir/other.key", '-out', "$dir/other.crt",
            '-days', '2', '-subj', '/CN=another CA');
}
$ENV{TEST_NGINX_KPN_TLS} = $dir;

# the TLS stand-in and the usual token zone
our $HTTP_CONFIG = <<'_EOC_';
    kpn_token_zone zone=kpn:1m;
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
        ssl_certificate $TEST_NGINX_KPN_TLS/server.crt;
        ssl_certificate_key $TEST_NGINX_KPN_TLS/server.key;
        location = /token {
            default_type application/json;
            return 200 '{"access_token":"tok-tls","expires_in":3600}';
        }
        location = /api/actuator/downlinks {
            default_type application/vnd.kpnthings.actuator.v1.response+json;
            return 201 '{"result":"queued"}';
        }
    }
_EOC_

# the downlink location and its two internal locations, verifying against
# CA ca (a file name in the certificate directory) and name name
sub tls_config {
    my (%o) = @_;
    my $ca = $o{ca} // 'ca.crt';
    my $name = $o{name} // 'localhost';
    my $verify = <<"_EOC_";
            proxy_ssl_verify on;
            proxy_ssl_verify_depth 2;
            proxy_ssl_trusted_certificate \$TEST_NGINX_KPN_TLS/$ca;
            proxy_ssl_server_name on;
            proxy_ssl_name $name;
            proxy_ssl_session_reuse off;
_EOC_
    return <<"_EOC_";
        location = /downlink {
            kpn_downlink zone=kpn;
            kpn_downlink_keys off;
            kpn_client_id my-client;
            kpn_client_secret my-secret;
            kpn_token_backoff 1s;
            kpn_token_uri /_kpn/token;
            kpn_downlink_uri /_kpn/downlinks;
            add_header X-Downlink-Status \$kpn_downlink_status always;
        }
        location = /_kpn/token {
            internal;
            kpn_endpoint token;
$verify            proxy_pass https://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/token;
        }
        location = /_kpn/downlinks {
            internal;
            kpn_endpoint api;
$verify            proxy_pass https://127.0.0.1:\$TEST_NGINX_RAND_PORT_1/api/actuator/downlinks\$is_args\$args;
        }
_EOC_
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $HTTP_CONFIG) unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: a certificate signed by the trusted CA for the right name: the downlink goes through
--- config eval
::tls_config()
--- request eval
"POST /downlink\n$::DL"
--- error_code: 201
--- response_headers
X-Downlink-Status: ok
--- response_body eval
$::QUEUED
--- no_error_log
[error]



=== TEST 2: a certificate of another CA: the secret is not sent, 502 token_unavailable
--- config eval
::tls_config(ca => 'other.crt')
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- response_headers
X-Downlink-Status: token_unavailable
--- error_log
upstream SSL certificate verify error
kpn downlink: token_unavailable: the token request failed (502)
--- wait: 1.1



=== TEST 3: the trusted CA but another name: 502 token_unavailable
--- config eval
::tls_config(name => 'auth.grip-on-it.com')
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- response_headers
X-Downlink-Status: token_unavailable
--- error_log
upstream SSL certificate does not match "auth.grip-on-it.com"
--- wait: 1.1
