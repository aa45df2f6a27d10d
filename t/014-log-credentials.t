# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# No credential in the module's own log lines, at any level: the suites log
# at debug (and the module is built against nginx's --with-debug, so its
# debug lines are compiled in).  An uplink and a downlink, accepted and
# refused, and no line of the module ("kpn ...") holds the destination
# secret, the message token, the Withthegrid token, the caller's key, the
# client secret or the access token.  (nginx core's own debug lines print
# request headers, the message token and the Authorization headers among
# them: docs/directives.md says so; they are not the module's.)

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;
use KPNDownlink;
use KPNStub;

kpn_stub_start();

repeat_each(2);
no_shuffle();

# the caller's key of the downlink
our $KEY = 'caller-key-0123456789abcdef';

# every credential of the block, as a pattern: a line of the module that
# holds one of them (the message token: its first 16 hex digits)
our $CREDENTIAL = join '|', map { quotemeta }
    $KPN_SECRET, substr(kpn_token($KPN_VECTOR), 0, 16), 'wtg-secret',
    substr($KEY, 0, -1), 'my-secret', 'tok-fixed';
our $MODULE_LINE_WITH_CREDENTIAL = qr/\bkpn [^\n]*?(?:$CREDENTIAL)[^\n]*/i;

our $CONFIG = kpn_uplink_location()
    . kpn_downlink_config(keys => '$TEST_NGINX_HTML_DIR/downlink.keys',
                          token => 'fixed', headers => ['status']);

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $KPN_DOWNLINK_HTTP_CONFIG . $KPN_ECHO_SERVER)
        unless defined $block->http_config;
    $block->set_value("config", $CONFIG) unless defined $block->config;
    $block->set_value("user_files", ">>> downlink.keys\n$KEY\n")
        unless defined $block->user_files;
    $block->set_value("grep_error_log", $MODULE_LINE_WITH_CREDENTIAL);
    $block->set_value("grep_error_log_out", "");
});

run_tests();

__DATA__

=== TEST 1: an accepted uplink: the module's debug lines are there, none holds a credential
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR)
--- error_code: 200
--- error_log
kpn uplink: message token match:1
kpn body: replaced,



=== TEST 2: a refused uplink (a token of another secret): the rejection line holds no token or secret
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, secret => 'Another-Secret-0123456789-abcdefGH!')
--- error_code: 401
--- error_log
kpn uplink rejected: 401 bad_token



=== TEST 3: a downlink with a token fetch: the module's debug lines are there, none holds the key, the secret or the token
--- request eval
"POST /downlink\n$::DL"
--- more_headers eval
"Authorization: Bearer $::KEY"
--- error_code: 201
--- error_log
kpn subrequest "/_kpn/downlinks?port=2", 72 bytes
kpn downlink answer: status 201



=== TEST 4: a downlink with a wrong key: the refusal holds no key
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"POST /downlink\n$::DL"
--- more_headers
Authorization: Bearer caller-key-0123456789abcdeX
--- error_code: 401
--- error_log
kpn downlink: bad_key
