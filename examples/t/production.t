# examples/production.conf, tested as it is, the way your CI would test
# your own /etc/nginx/conf.d/kpn.conf (docs/testing-your-config.md):
#
#   prove examples/t/                      (Test::KPN and the module installed)
#   make test-examples                     (from the source tree: both runners)
#
# The configuration file is read and only its addresses and file names are
# replaced (kpn_conf): Withthegrid, KPN's token endpoint and KPN's API are
# recording HTTPS stand-ins with certificates of a test CA, so
# proxy_ssl_verify stays on.  KPN_CONF=FILE tests another copy.

use strict;
use warnings;

use Test::KPN;                 # first: it picks the module and nginx's user
use Test::Nginx::Socket 'no_plan';
use Test::More;
use HTTP::Tiny;

repeat_each(2);
no_shuffle();

our $CONF = $ENV{KPN_CONF} // 'examples/production.conf';

# the stand-ins, on free ports, over HTTPS
our $Wtg   = kpn_standin('withthegrid', tls => 1);
our $Token = kpn_standin('kpn_token', tls => 1);
our $Api   = kpn_standin('kpn_api', tls => 1);

# the files of /etc/nginx/kpn/, in a temporary directory
our $LORA_OLD = 'Lora-Secret-0123456789-abcdefGH!';
our $LORA_NEW = 'Lora-Secret-2026-0123456789-ABCdef#';
our $M2M      = 'M2m-Secret-0123456789-abcdefGH!xyz';
our $KEY      = 'wtg-downlink-key-0123456789abcdef';
kpn_file('kpn/lora.secrets', "# rotation: the old one until the destination has the new one\n$LORA_OLD\n$LORA_NEW\n");
kpn_file('kpn/m2m.secrets', "$M2M\n");
kpn_file('kpn/downlink.keys', "$KEY\n");
kpn_file('kpn/client.secret', "kit-client-secret-0123456789\n");
kpn_file('kpn/withthegrid.token', "wtg-webhook-token\n");
my ($cert, $key) = kpn_ca()->issue('kpn-gateway.example.net');
mkdir kpn_dir() . "/$_" for qw(spool log);
our $SPOOL = kpn_dir() . '/spool/uplinks.spool';
our $LIMITED = kpn_dir() . '/log/kpn-limited.log';

sub production_conf {
    my (@more) = @_;
    return kpn_conf($CONF,
        'listen       443 ssl;'      => 'listen 127.0.0.1:' . Test::Nginx::Socket::server_port() . ';',
        '/etc/nginx/kpn/gateway.pem' => $cert,
        '/etc/nginx/kpn/gateway.key' => $key,
        '/etc/nginx/kpn/'            => kpn_dir() . '/kpn/',
        '/var/spool/kpn/'            => kpn_dir() . '/spool/',
        '/var/log/nginx/'            => kpn_dir() . '/log/',
        '/etc/ssl/certs/ca-certificates.crt' => kpn_ca_file(),
        'server     api.withthegrid.com:443;' => 'server 127.0.0.1:' . $Wtg->port . ';',
        'server     auth.grip-on-it.com:443;' => 'server 127.0.0.1:' . $Token->port . ';',
        'server     api.kpnthings.com:443;'   => 'server 127.0.0.1:' . $Api->port . ';',
        @more);
}

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => production_conf()) unless defined $block->http_config;
    $block->set_value(config => '') unless defined $block->config;
});

# the packs of the blocks
our $Lora  = kpn_lora_pack(deveui => '0059AC00001B3461', payload => '0a0b0c', port => 2,
                           fcnt => 17, rssi => -97, snr => '8.25');
our $Lora2 = kpn_lora_pack(deveui => 'A84041000181C2A4', layout => 'legacy', payload => '01');
our $Meter = kpn_cellular_pack(imei => '356938035643809');

# lines of a file (the spool, the refusal log)
sub lines {
    my $f = shift;
    open my $fh, '<', $f or return ();
    return <$fh>;
}

# a request from another loopback address
sub from_127_0_0_2 {
    my ($method, $path) = @_;
    my $r = HTTP::Tiny->new(local_address => '127.0.0.2')->request($method,
        'http://127.0.0.1:' . Test::Nginx::Socket::server_port() . $path);
    return $r->{status};
}

run_tests();

__DATA__

=== TEST 1: the "lora" destination, old secret: the envelope reaches Withthegrid over verified https with the webhook token
--- init
$::Wtg->reset;
::kpn_after(sub {
    my @r = $::Wtg->requests;
    ::is(scalar @r, 2, 'Withthegrid got both');
    ::ok($r[0]{tls}, 'over https (verified: proxy_ssl_verify on)');
    ::is($r[0]{uri}, '/iot', 'POST /iot');
    ::is($r[0]{headers}{host}, 'api.withthegrid.com', 'Host');
    ::is($r[0]{headers}{'x-wtg-token'}, 'wtg-webhook-token', 'the webhook token');
});
--- request eval
"POST /kpn/uplink/lora\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::LORA_OLD, device_type => 'dragino-lds01')
--- response_body eval
::kpn_envelope($::Lora, hash_id => 'wasd2', device_type => 'dragino-lds01', secret => $::LORA_OLD)
--- no_error_log
[error]



=== TEST 2: the same destination with the new secret of the rotation, a second device type, the legacy layout
--- request eval
"POST /kpn/uplink/lora\n$::Lora2"
--- more_headers eval
::kpn_headers($::Lora2, secret => $::LORA_NEW, device_type => 'dragino-lds02')
--- response_body eval
::kpn_envelope($::Lora2, hash_id => '4djrvd', device_type => 'dragino-lds02', secret => $::LORA_NEW)
--- no_error_log
[error]



=== TEST 3: the "m2m" destination: an NB-IoT meter, the third device type
--- request eval
"POST /kpn/uplink/m2m\n$::Meter"
--- more_headers eval
::kpn_headers($::Meter, secret => $::M2M, device_type => 'nbiot-meter')
--- response_body eval
::kpn_envelope($::Meter, hash_id => 'm2m01', device_type => 'nbiot-meter', secret => $::M2M)
--- no_error_log
[error]



=== TEST 4: one destination's secret does not open the other: 401, nothing reaches Withthegrid
--- init
$::Wtg->reset;
::kpn_after(sub { ::is($::Wtg->count, 0, 'nothing forwarded') });
--- request eval
"POST /kpn/uplink/m2m\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::LORA_OLD, device_type => 'dragino-lds01')
--- error_code: 401
--- response_body_like: ^\{"error":"bad_token"
--- error_log
bad_token



=== TEST 5: a device type the destination does not map is refused before Withthegrid
--- init
$::Wtg->reset;
::kpn_after(sub { ::is($::Wtg->count, 0, 'nothing forwarded') });
--- request eval
"POST /kpn/uplink/m2m\n$::Meter"
--- more_headers eval
::kpn_headers($::Meter, secret => $::M2M, device_type => 'dragino-lds01')
--- error_code_like: ^4\d\d$
--- response_body_like: ^\{"error":



=== TEST 6: Withthegrid answers 503: KPN gets 503 (it will retry) and the envelope is spooled for kpn-replay
--- init
$::Wtg->reset; $::Wtg->fault(status => 503);
truncate $::SPOOL, 0 if -e $::SPOOL;
::kpn_after(sub {
    $::Wtg->fault;
    my @failed = grep { /"outcome":"failed"/ } ::lines($::SPOOL);
    ::is(scalar @failed, 2, 'two failed uplinks spooled');
    my $envelope = ::kpn_envelope($::Lora, hash_id => 'wasd2', device_type => 'dragino-lds01', secret => $::LORA_OLD);
    (my $escaped = $envelope) =~ s/"/\\"/g;
    ::like($failed[0] // '', qr/"upstream_status":"503"/, 'with the upstream status');
    ::ok(index($failed[0] // '', qq{"body":"$escaped"}) >= 0, 'with the envelope');
});
--- request eval
"POST /kpn/uplink/lora\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::LORA_OLD, device_type => 'dragino-lds01')
--- error_code: 503



=== TEST 7: Withthegrid resets the connection: 502, spooled
--- init
$::Wtg->reset; $::Wtg->fault(reset => 1);
truncate $::SPOOL, 0 if -e $::SPOOL;
::kpn_after(sub {
    $::Wtg->fault;
    ::is(scalar(grep { /"outcome":"failed"/ && /"upstream_status":"502"/ } ::lines($::SPOOL)), 2, 'both spooled');
});
--- request eval
"POST /kpn/uplink/m2m\n$::Meter"
--- more_headers eval
::kpn_headers($::Meter, secret => $::M2M, device_type => 'nbiot-meter')
--- error_code: 502



=== TEST 8: a downlink: one token fetch with the client credentials, the downlink with the access token, both over verified https
--- init
$::Token->reset; $::Api->reset;
::kpn_after(sub {
    my @t = $::Token->requests;
    ::is(scalar @t, 1, 'one token fetch, cached for the second downlink');
    ::is($t[0]{uri}, '/v2/TENANT/oidc/idp/c1/token', 'the token URL');
    ::is($t[0]{headers}{host}, 'auth.grip-on-it.com', 'token: Host');
    ::like($t[0]{body}, qr/"client_id":"my-api-key-id"/, 'token: client id');
    ::like($t[0]{body}, qr/"client_secret":"kit-client-secret-0123456789"/, 'token: client secret');
    my @a = $::Api->requests;
    ::is(scalar @a, 2, 'two downlinks');
    ::is($a[1]{uri}, '/api/actuator/downlinks?port=2', 'the downlink URL');
    ::is($a[1]{headers}{authorization}, 'Bearer kit-access-token-1', 'the access token');
    ::is($a[1]{headers}{host}, 'api.kpnthings.com', 'api: Host');
    ::is($a[1]{headers}{cookie}, undef, "the caller's cookie stays");
    ::ok($a[1]{tls} && $t[0]{tls}, 'https');
});
--- request
POST /kpn/downlink
{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}
--- more_headers eval
"Authorization: Bearer $::KEY\nContent-Type: application/json\nCookie: session=private"
--- error_code: 201
--- response_body chomp
[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"0a0b"}]
--- no_error_log
[error]



=== TEST 9: a downlink without the key is refused, nothing reaches KPN
--- init
$::Api->reset;
::kpn_after(sub { ::is($::Api->count, 0, 'nothing sent to KPN') });
--- request
POST /kpn/downlink
{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}
--- more_headers
Content-Type: application/json
--- error_code: 401



=== TEST 10: the metrics from this host
--- request
GET /metrics
--- error_code: 200
--- response_body_like: kpn_uplinks_total\{result="ok"\} \d+



=== TEST 11: the metrics from another address: 403
--- init
::kpn_after(sub { ::is(::from_127_0_0_2('GET', '/metrics'), 403, 'GET /metrics from 127.0.0.2: 403') });
--- request
GET /metrics
--- error_code: 200
--- response_body_like: kpn_downlinks_total



=== TEST 12: rate limiting: refused with 429 before the module (with a tight limit), neither forwarded, spooled nor counted; logged in kpn-limited.log
--- http_config eval
::production_conf('rate=50r/s' => 'rate=1r/m', 'burst=100 nodelay' => 'burst=1 nodelay')
--- init
$::Wtg->reset;
truncate $::SPOOL, 0 if -e $::SPOOL;
truncate $::LIMITED, 0 if -e $::LIMITED;
# two uplinks take the rate and the burst
for (1 .. 2) {
    HTTP::Tiny->new->post('http://127.0.0.1:' . Test::Nginx::Socket::server_port() . '/kpn/uplink/lora',
        { content => $::Lora, headers => { 'Content-Type' => 'application/json',
          'Things-Message-Token' => ::kpn_sign($::Lora, $::LORA_OLD), 'device-type' => 'dragino-lds01' } });
}
::kpn_after(sub {
    ::is($::Wtg->count, 2, 'only the two before the limit reached Withthegrid');
    ::is(scalar(grep { /"outcome":"failed"/ } ::lines($::SPOOL)), 0, 'nothing spooled');
    my @l = ::lines($::LIMITED);
    ::is(scalar(grep { / 429 limit=REJECTED / } @l), 2, 'both refusals in kpn-limited.log');
    my $m = HTTP::Tiny->new->get('http://127.0.0.1:' . Test::Nginx::Socket::server_port() . '/metrics')->{content};
    my $n = 0;
    $n += $1 while $m =~ /^kpn_uplinks_total\{[^}]*\} (\d+)$/mg;
    ::is($n, 2, 'kpn_uplinks_total counts the two uplinks before the limit only');
});
--- request eval
"POST /kpn/uplink/lora\n$::Lora"
--- more_headers eval
::kpn_headers($::Lora, secret => $::LORA_OLD, device_type => 'dragino-lds01')
--- error_code: 429
--- error_log
limiting requests
