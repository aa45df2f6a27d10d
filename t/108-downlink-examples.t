# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The configurations of examples/ for KPN's APIs (docs/kpn-api.md), run as
# they are but for three replacements, so that they work against the
# stand-ins (t/lib/KPNDownlink.pm) on a machine without KPN:
#
#   https://api.kpnthings.com/a/b   -> http://stub/dl/a_b (the stand-in's
#                                      downlink path, which records it)
#   https://auth.grip-on-it.com/... -> http://stub/token/fixed
#   /etc/nginx/kpn/                 -> the html dir (the keys file and the
#                                      client secret of the blocks)
#
# Each block starts nginx with an example (so nginx -t holds for it) and
# compares every byte of the downlink request the stand-in receives; one
# block checks that docs/kpn-api.md shows each file verbatim, and the last
# shows why the examples' proxy_pass has no variables.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;
use Cwd ();
use FindBin ();

repeat_each(2);
no_shuffle();

kpn_stub_start();

our $ROOT = Cwd::abs_path("$FindBin::Bin/..");
$ENV{TEST_NGINX_KPN_ROOT} = $ROOT;

sub slurp {
    my ($file) = @_;
    open my $fh, '<', "$ROOT/$file" or die "cannot read $ROOT/$file: $!\n";
    local $/;
    return scalar <$fh>;
}

# an example file with the replacements above
sub example {
    my ($file) = @_;
    my $c = slurp("examples/$file");
    $c =~ s{https://api\.kpnthings\.com/([^;\s]*)}{'http://stub/dl/' . join '_', split m{/}, $1}ge
        or $file eq 'kpn-device-ids.conf' or die "$file: no KPN API\n";
    $c =~ s{https://auth\.grip-on-it\.com/[^;\s]*}{http://stub/token/fixed}g;
    $c =~ s{/etc/nginx/kpn/}{\$TEST_NGINX_HTML_DIR/}g;
    return $c;
}

our @EXAMPLES = qw(kpn-beta-downlinks.conf kpn-lora-downlinks.conf
                   kpn-device-ids.conf kpn-actuator-downlinks.conf);

our $STUB_CONTROL = "    location /stub/ {\n        proxy_pass http://stub/;\n    }\n";

# the token request of the examples' credentials (first iteration only)
our $TOKEN_RAW = qr{\QPOST /token/fixed \E$PROXY_HTTP\r\n(?:(?!\r\n\r\n).)*\r\n\r\n\Q{"grant_type":"client_credentials","audience":"4dc82561-f65f-523g-dek9-6c79ec314f02","client_id":"my-api-key-id","client_secret":"example-client-secret"}\E}s;

our @JSON = ('Accept: application/json', 'Content-Type: application/json');

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("user_files", <<'_EOF_') unless defined $block->user_files;
>>> downlink.keys
example-downlink-key
>>> client.secret
example-client-secret
_EOF_

    $block->set_value("more_headers", "Authorization: Bearer example-downlink-key")
        unless defined $block->more_headers;

    kpn_downlink_defaults($block);
});

run_tests();

__DATA__

=== TEST 1: examples/kpn-beta-downlinks.conf sends the Beta API's request, byte for byte
--- config eval: ::example('kpn-beta-downlinks.conf') . $::STUB_CONTROL
--- request eval
["GET /stub/_reset",
 "POST /kpn/downlink\n$::DL",
 "POST /kpn/downlink\n" . '{"devEUI":"0059ac00001b3461","port":10,"payload":"0A0b","externalReference":"cmd 7&x=1"}',
 "GET /stub/_raw"]
--- error_code eval
[200, 201, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE, $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/api_actuator_downlinks?port=2',
                '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"0a0b"}]',
                'Accept: application/vnd.kpnthings.actuator.v1.response+json',
                'Content-Type: application/json'),
       ::kpn_dl_raw('/dl/api_actuator_downlinks?port=10&externalReference=cmd%207%26x%3D1',
                '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"0A0b"}]',
                'Accept: application/vnd.kpnthings.actuator.v1.response+json',
                'Content-Type: application/json'))]
--- no_error_log
[error]



=== TEST 2: examples/kpn-lora-downlinks.conf with kpn-device-ids.conf: deviceId from the map or the input, no arguments; an unknown DevEUI is 400 missing_field
--- http_config eval: "    kpn_reject_log_level info;\n" . $::KPN_DOWNLINK_HTTP_CONFIG . ::example('kpn-device-ids.conf')
--- config eval: ::example('kpn-lora-downlinks.conf') . $::STUB_CONTROL
--- request eval
["GET /stub/_reset",
 "POST /kpn/downlink\n$::DL",
 "POST /kpn/downlink\n" . '{"devEUI":"0059ac00001b3462","port":3,"payload":"ff","deviceId":"00000000-0000-4000-8000-00000000000A"}',
 "POST /kpn/downlink\n" . '{"devEUI":"0059ac00001b3469","port":2,"payload":"0a0b"}',
 "GET /stub/_raw"]
--- error_code eval
[200, 201, 201, 400, 200]
--- response_body_like eval
["reset", $::QUEUED_RE, $::QUEUED_RE,
 qr/\A\Q{"error":"missing_field","message":"\"deviceId\" is required: the downlink request of this location uses it and kpn_downlink_device_id has none for devEUI 0059AC00001B3469"}\E\n\z/,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/lora_downlinks',
                '{"deviceId":"f24108fa-d102-40ff-8263-f8d46908a386","port":2,"payload":"0a0b"}', @::JSON),
       ::kpn_dl_raw('/dl/lora_downlinks',
                '{"deviceId":"00000000-0000-4000-8000-00000000000a","port":3,"payload":"ff"}', @::JSON))]
--- no_error_log
[error]



=== TEST 3: examples/kpn-actuator-downlinks.conf: tagValue with the DevEUI in lower case, the command, no arguments
--- config eval: ::example('kpn-actuator-downlinks.conf') . $::STUB_CONTROL
--- request eval
["GET /stub/_reset", "POST /kpn/downlink\n$::DL", "GET /stub/_raw"]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/downlinks',
                '{"tagValue":"urn:dev:DEVEUI:0059ac00001b3461:","command":[{"n":"payloadHex","vs":"0a0b"}]}', @::JSON))]
--- no_error_log
[error]



=== TEST 4: docs/kpn-api.md shows each example file verbatim, in an nginx block
--- config
    location = /doc {
        alias $TEST_NGINX_KPN_ROOT/docs/kpn-api.md;
        default_type text/plain;
    }
--- request eval
[map { "GET /doc" } @::EXAMPLES]
--- response_body_like eval
[map { my $f = ::slurp("examples/$_"); qr/\Q```nginx\E\n\Q$f```\E\n/ } @::EXAMPLES]
--- no_error_log
[error]



=== TEST 5: the pitfall the examples avoid: a proxy_pass with $is_args$args to a host name needs a resolver (502 upstream_error)
--- config eval
(my $c = ::example('kpn-beta-downlinks.conf'))
    =~ s{proxy_pass http://stub/dl/api_actuator_downlinks;}{proxy_pass http://kpn-api.invalid/api/actuator/downlinks\$is_args\$args;}
    or die "no downlink proxy_pass\n";
$c
--- request eval
"POST /kpn/downlink\n$::DL"
--- error_code: 502
--- response_body_like: \A\{"error":"upstream_error",
--- error_log
no resolver defined to resolve kpn-api.invalid
