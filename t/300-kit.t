# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The users' kit (perl/lib/Test/KPN.pm) against the module: each pack
# builder's envelope is what the module makes, each stand-in records what
# it got, each fault mode happens, and HTTPS verification fails with a
# certificate of another CA.  proxy_ssl_session_reuse off, as in
# t/106: nginx keeps a peer's last TLS session past exit, which valgrind
# reports (make test-valgrind).  Section evals run outside package main,
# hence ::kpn_headers() and $::Wtg.

use lib 'perl/lib';
use Test::KPN;
use Test::Nginx::Socket 'no_plan';
use Test::More;

repeat_each(2);
no_shuffle();
no_root_location();

our $SECRET = 'Example-Secret-0123456789-abcdefGH!';

our $Wtg   = kpn_standin('withthegrid', env => 'TEST_NGINX_WTG_PORT');
our $WtgS  = kpn_standin('withthegrid', tls => 1, env => 'TEST_NGINX_WTGS_PORT');
our $Other = Test::KPN::CA->new(name => 'Another CA');
our $WtgX  = kpn_standin('withthegrid', tls => 1, ca => $Other, env => 'TEST_NGINX_WTGX_PORT');
our $Token = kpn_standin('kpn_token', tls => 1, env => 'TEST_NGINX_TOKEN_PORT');
our $Api   = kpn_standin('kpn_api', tls => 1, env => 'TEST_NGINX_API_PORT');
$ENV{TEST_NGINX_KIT_CA} = kpn_ca_file();
$ENV{TEST_NGINX_KIT_KEYS} = kpn_file('downlink.keys', "kit-downlink-key-0123456789abcdef\n");
$ENV{TEST_NGINX_KIT_CLIENT} = kpn_file('client.secret', "kit-client-secret\n");

our $Lora    = kpn_lora_pack(deveui => '0059ac00001b3461', payload => '0a0b0c', port => 7,
                             fcnt => 42, rssi => -112, snr => '7.5');
our $Legacy  = kpn_lora_pack(layout => 'legacy', time => '1765739955.5', port => '3.0');
our $Cell    = kpn_cellular_pack(imei => '356938035643809');
our $Net     = kpn_internet_pack(uuid => '3F1E2D4C-5B6A-4789-9ABC-DEF012345678',
                                 time => 1700000000,
                                 records => [ { n => 'state', vs => 'open' },
                                              { n => 'temp', u => 'Cel', v => '19.25', t => 2 } ]);

# options are name => value pairs: positional arguments or a misspelt name
# die (they used to give a default pack, or leave a header out, silently)
eval { kpn_lora_pack('0059AC00001B3461', '0a0b') };
like($@, qr/\Akpn_lora_pack: unknown option "0059AC00001B3461" \(deveui, /, 'kpn_lora_pack: positional arguments die');
eval { kpn_lora_pack(devEUI => '0059AC00001B3461') };
like($@, qr/\Akpn_lora_pack: unknown option "devEUI"/, 'kpn_lora_pack: a misspelt option dies');
eval { kpn_cellular_pack('356938035643809') };
like($@, qr/\Akpn_cellular_pack: options are name => value pairs/, 'kpn_cellular_pack: an odd list dies');
eval { kpn_headers('[]', secret => 's', device_Type => 'x') };
like($@, qr/\Akpn_headers: unknown option "device_Type"/, 'kpn_headers: a misspelt option dies');
eval { kpn_envelope($Lora, hash_id => 'wasd2', secrets => 's') };
like($@, qr/\Akpn_envelope: unknown option "secrets"/, 'kpn_envelope: a misspelt option dies');
eval { kpn_standin('withthegrid', TLS => 1) };
like($@, qr/\Akpn_standin: unknown option "TLS"/, 'kpn_standin: a misspelt option dies');
eval { $Wtg->answer(code => 204) };
like($@, qr/unknown answer option "code"/, 'answer: a misspelt option dies');
eval { $Wtg->fault(503) };
like($@, qr/fault takes name => value pairs/, 'fault: a bare status dies');
eval { kpn_file('x', "y\n", 0600) };
like($@, qr/\Akpn_file: options are name => value pairs/, 'kpn_file: a bare mode dies');

# loaded after the framework, the kit says that its defaults come too late
SKIP: {
    skip 'the defaults apply as root or with the package installed', 2
        unless $> == 0 && defined getpwnam('www-data') || -f $Test::KPN::MODULE;
    local %ENV = %ENV;
    delete @ENV{qw(TEST_NGINX_LOAD_MODULES TEST_NGINX_WORKER_USER)};
    my $late = `$^X -Iperl/lib -e 'BEGIN { \$INC{"Test/Nginx/Socket.pm"} = 1 } use Test::KPN;' 2>&1`;
    like($late, qr/\ATest::KPN: load it before Test::Nginx::Socket/, 'loaded after the framework: a warning');
    my $first = `$^X -Iperl/lib -e 'use Test::KPN;' 2>&1`;
    is($first, '', 'loaded first: no warning');
}

sub env { kpn_envelope($_[0], hash_id => $_[1] // 'wasd2',
                       device_type => $_[2] // 'dragino-lds01', secret => $SECRET) }

our $HTTP_CONFIG = <<'_EOC_';
    proxy_set_header Host $host;
    kpn_token_zone zone=kit:1m;
_EOC_

sub uplink {
    my ($port, $scheme) = @_;
    return <<"_EOC_";
    location = /kpn/uplink {
        kpn_uplink        on;
        kpn_uplink_secret "$SECRET";
        kpn_device_type   dragino-lds01 wasd2;
        kpn_device_type   nbiot-meter   m2m01;
        proxy_set_header  x-wtg-token wtg-kit-token;
        proxy_pass        $scheme://127.0.0.1:\$TEST_NGINX_${port}_PORT/iot;
        proxy_ssl_verify  on;
        proxy_ssl_name    api.withthegrid.com;
        proxy_ssl_server_name on;
        proxy_ssl_trusted_certificate \$TEST_NGINX_KIT_CA;
        proxy_ssl_session_reuse off;
        proxy_read_timeout 500ms;
    }
    location / {
        return 404;
    }
_EOC_
}

our $DOWNLINK = <<'_EOC_';
    location = /kpn/downlink {
        kpn_downlink           zone=kit;
        kpn_downlink_keys      $TEST_NGINX_KIT_KEYS;
        kpn_client_id          kit-client;
        kpn_client_secret_file $TEST_NGINX_KIT_CLIENT;
        kpn_token_uri          /_kpn/token;
        kpn_downlink_uri       /_kpn/downlinks;
    }
    location = /_kpn/token {
        internal;
        kpn_endpoint token;
        proxy_pass https://127.0.0.1:$TEST_NGINX_TOKEN_PORT/v2/kit/oidc/idp/c1/token;
        proxy_ssl_verify on;
        proxy_ssl_name auth.grip-on-it.com;
        proxy_ssl_server_name on;
        proxy_ssl_trusted_certificate $TEST_NGINX_KIT_CA;
        proxy_ssl_session_reuse off;
    }
    location = /_kpn/downlinks {
        internal;
        kpn_endpoint api;
        proxy_pass https://127.0.0.1:$TEST_NGINX_API_PORT/api/actuator/downlinks$is_args$args;
        proxy_ssl_verify on;
        proxy_ssl_name api.kpnthings.com;
        proxy_ssl_server_name on;
        proxy_ssl_trusted_certificate $TEST_NGINX_KIT_CA;
        proxy_ssl_session_reuse off;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $HTTP_CONFIG) unless defined $block->http_config;
    $block->set_value(config => uplink('WTG', 'http')) unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: a LoRa pack (current layout, radio fields, lower-case DevEUI) becomes the envelope the kit states; Withthegrid's stand-in records the request
--- init
$::Wtg->reset; $::Wtg->fault;
::kpn_after(sub {
    my @r = $::Wtg->requests;
    ::is(scalar @r, 2, 'the stand-in recorded both requests');
    ::is($r[0]{method}, 'POST', 'method recorded');
    ::is($r[0]{path}, '/iot', 'path recorded');
    ::is($r[0]{headers}{'x-wtg-token'}, 'wtg-kit-token', 'headers recorded');
    # a location's proxy_set_header replaces every inherited one: no $host
    ::is($r[0]{headers}{host}, '127.0.0.1:' . $::Wtg->port, 'the Host recorded');
    ::is($r[0]{answer}, 200, 'the answer recorded');
    ::is($r[0]{body}, ::env($::Lora), 'body recorded');
    ::ok(!$r[0]{tls}, 'plain HTTP');
});
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- response_body eval
::env($::Lora)
--- no_error_log
[error]



=== TEST 2: the legacy layout
--- request eval
"POST /kpn/uplink\n$::Legacy"
--- more_headers eval
::kpn_headers($::Legacy, secret => $::SECRET, device_type => 'dragino-lds01')
--- response_body eval
::env($::Legacy)
--- no_error_log
[error]



=== TEST 3: an NB-IoT / LTE-M pack (urn:dev:IMEI)
--- request eval
"POST /kpn/uplink\n$::Cell"
--- more_headers eval
::kpn_headers($::Cell, secret => $::SECRET, device_type => 'nbiot-meter')
--- response_body eval
::env($::Cell, 'm2m01', 'nbiot-meter')
--- no_error_log
[error]



=== TEST 4: an internet device (urn:dev:DVNUUID, upper case in, lower case out, relative time)
--- request eval
"POST /kpn/uplink\n$::Net"
--- more_headers eval
::kpn_headers($::Net, secret => $::SECRET, device_type => 'dragino-lds01')
--- response_body eval
::env($::Net)
--- no_error_log
[error]



=== TEST 5: kpn_sign is the documented test vector; a token of another secret is refused and never reaches the stand-in
--- init
$::Wtg->reset;
::kpn_after(sub {
    ::is(::kpn_sign('[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0}]', $::SECRET),
       '9d29450cf3d4d416bee161cc99b0b36dfacfb9d921346fd1e813cbcbc1ee4e36', 'kpn_sign: the test vector');
    ::is($::Wtg->count, 0, 'nothing reached Withthegrid');
});
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => 'another-secret', device_type => 'dragino-lds01')
--- error_code: 401
--- response_body_like: "error":"bad_token"
--- error_log
bad_token



=== TEST 6: HTTPS to Withthegrid with proxy_ssl_verify on and the kit's CA
--- init
$::WtgS->reset;
::kpn_after(sub {
    my @r = $::WtgS->requests;
    ::is(scalar @r, 2, 'the HTTPS stand-in recorded both requests');
    ::ok($r[0]{tls}, 'over TLS');
    ::is($::WtgS->tls_failures, 0, 'no handshake failed');
});
--- config eval
::uplink('WTGS', 'https')
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- response_body eval
::env($::Lora)
--- no_error_log
[error]



=== TEST 7: a certificate of another CA fails the verification: 502, nothing delivered
--- init
$::WtgX->reset;
::kpn_after(sub {
    ::is($::WtgX->count, 0, 'nothing was delivered to the stand-in of another CA');
    ::ok($::WtgX->tls_failures >= 1, 'the handshake failed');
});
--- config eval
::uplink('WTGX', 'https')
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- error_code: 502
--- error_log
upstream SSL certificate verify error



=== TEST 8: fault status: Withthegrid's 503 is what KPN gets; the request is recorded
--- init
$::Wtg->reset; $::Wtg->fault(status => 503, body => "busy\n");
::kpn_after(sub { ::is($::Wtg->count, 2, 'faulty answers are recorded too'); $::Wtg->fault });
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- error_code: 503
--- response_body
busy



=== TEST 9: fault delay: 1 s against proxy_read_timeout 500ms is a 504
--- init
$::Wtg->fault(delay => 1);
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- error_code: 504
--- error_log
upstream timed out



=== TEST 10: fault delay shorter than the timeout: the answer comes, late
--- init
$::Wtg->fault(delay => 0.2);
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- response_body eval
::env($::Lora)



=== TEST 11: fault hang: no answer at all, 504
--- init
$::Wtg->fault(hang => 1);
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- error_code: 504
--- error_log
upstream timed out



=== TEST 12: fault reset: the connection is reset, 502
--- init
$::Wtg->fault(reset => 1);
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- error_code: 502
--- error_log eval
qr/recv\(\) failed \(104: Connection reset by peer\)|upstream prematurely closed/



=== TEST 13: count: a fault for the next request only (the records say how each was answered)
--- init
$::Wtg->reset; $::Wtg->fault(status => 500, count => 1);
::kpn_after(sub {
    ::is(join(' ', map { $_->{answer} } $::Wtg->requests), '500 200', 'answered 500, then 200');
});
--- request eval
"POST /kpn/uplink\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::SECRET, device_type => 'dragino-lds01')
--- error_code_like: ^(?:500|200)$



=== TEST 14: the token endpoint and KPN's API stand-ins over HTTPS record the downlink
--- init
$::Wtg->fault; $::Token->reset; $::Api->reset;
::kpn_after(sub {
    my @t = $::Token->requests;
    ::is(scalar @t, 1, 'one token fetch (cached for the repeat)');
    ::is($t[0]{method}, 'POST', 'token: POST');
    ::is($t[0]{path}, '/v2/kit/oidc/idp/c1/token', 'token: path');
    ::like($t[0]{body}, qr/"client_id":"kit-client"/, 'token: the client id');
    ::like($t[0]{body}, qr/"client_secret":"kit-client-secret"/, 'token: the client secret');
    my @a = $::Api->requests;
    ::is(scalar @a, 2, 'two downlinks');
    ::is($a[0]{uri}, '/api/actuator/downlinks?port=2', 'api: uri');
    ::is($a[0]{headers}{authorization}, 'Bearer kit-access-token-1', 'api: the access token');
    ::is($a[0]{body}, '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"0a0b"}]', 'api: body');
});
--- config eval
$::DOWNLINK
--- request
POST /kpn/downlink
{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}
--- more_headers
Authorization: Bearer kit-downlink-key-0123456789abcdef
Content-Type: application/json
--- error_code: 201
--- response_body chomp
[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"0a0b"}]
--- no_error_log
[error]



=== TEST 15: the token endpoint's fault status: the downlink fails (502, then 503 while the refusal is cached)
--- init
$::Token->reset; $::Token->fault(status => 401);
::kpn_after(sub { ::ok($::Token->count >= 1, 'the refused fetch is recorded'); $::Token->fault });
--- http_config
    proxy_set_header Host $host;
    kpn_token_zone zone=kit2:1m;
--- config eval
$::DOWNLINK =~ s/zone=kit;/zone=kit2;/r
--- request
POST /kpn/downlink
{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}
--- more_headers
Authorization: Bearer kit-downlink-key-0123456789abcdef
Content-Type: application/json
--- error_code_like: ^50[23]$
