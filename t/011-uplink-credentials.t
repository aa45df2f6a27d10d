# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Credentials only where they belong (issue 17, points 2, 3 and 5): the request
# forwarded to Withthegrid carries none of the headers KPN addressed to the
# gateway (Things-Message-Token, Authorization, the API-key header) unless
# kpn_uplink_pass_header names one; the destination's own authentication
# (kpn_uplink_auth basic | bearer | api_key | header) is checked before the
# body is read, together with the message token, answered 401
# bad_destination_auth, logged at kpn_reject_log_level and counted;
# Withthegrid's token from kpn_wtg_token_file as $kpn_wtg_token.
#
# Withthegrid is the recording stand-in of t/lib/KPNStub.pm (/wtg/...):
# every block resets it, sends, then reads what it received (/stub/_raw or
# /stub/_log).

# the workers run as www-data, as in production: nginx reads the files as
# root, the workers never need them
BEGIN { $ENV{TEST_NGINX_WORKER_USER} = 'www-data' if $> == 0 }

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;
use KPNStub;
use MIME::Base64 qw(encode_base64);

kpn_stub_start();

repeat_each(2);
no_shuffle();
no_root_location();

$ENV{TEST_NGINX_HTML_DIR} = html_dir();

our $V = $KPN_VECTOR;
our $PLUG = 'Things-Plug-UUID: 6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01';
our $BASIC = 'Authorization: Basic ' . encode_base64('kpn-gateway:#Pass;word{$x}', '');
our $BASIC_OLD = 'Authorization: Basic ' . encode_base64('kpn-gateway:Old-Pass:with-colon', '');
our $DENIED = '{"error":"bad_destination_auth","message":"the destination\'s credentials are not valid"}' . "\n";

# an uplink at /kpn/uplink with the extra headers given
sub up { return ["GET /stub/_reset", "POST /kpn/uplink\n$V", "GET /stub/_raw"] }
sub hdrs { return ["", ::kpn_headers($V, extra => [@_]), ""] }

# the uplink location, proxying to the stand-in, with the lines given
sub loc {
    return ::kpn_uplink_location(upstream => '127.0.0.1:$TEST_NGINX_STUB_PORT',
                                 uri => '/wtg/iot', extra => [@_]);
}

our $HTTP_CONFIG = <<'_EOC_';
    proxy_set_header Host $host;
    kpn_metrics_zone zone=kpn_m:1m;
    kpn_metrics_count zone=kpn_m;
_EOC_

our $OTHER_LOCATIONS = <<'_EOC_';
    location /stub/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/;
    }
    location = /metrics {
        kpn_metrics;
    }
    location / {
        proxy_pass http://127.0.0.1:$TEST_NGINX_STUB_PORT/wtg/catch-all;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $HTTP_CONFIG) unless defined $block->http_config;
    $block->set_value("config", $block->config . $OTHER_LOCATIONS) if defined $block->config;
    $block->set_value("user_files", <<'_EOC_') unless defined $block->user_files;
>>> basic.auth
# the destination's Basic credentials, user:password, one a line
kpn-gateway:#Pass;word{$x}
kpn-gateway:Old-Pass:with-colon
>>> bearer.auth
#Bearer-Token-0123456789
Next-Bearer-Token-abcdef
>>> key.auth
api-key-0123456789
>>> wtg.token
# Withthegrid's webhook token (one line)
#Wtg-File-Token-0123456789
_EOC_
});

# what the stand-in received: the uplink, without any KPN credential
our $CLEAN = qr/\A(?!.*^things-message-token:)(?!.*^authorization:)(?!.*^x-api-key:)(?!.*^x-kpn-static:)(?=.*^Things-Plug-UUID: 6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01\r\n)(?=.*^device-type: dragino-lds01\r\n)(?=.*^x-wtg-token: wtg-secret\r\n)POST \/wtg\/iot HTTP\/1\.[01]\r\n.*\r\n\r\n\{"deviceTypeHashId":"wasd2"/msi;

run_tests();

__DATA__

=== TEST 1: by default Withthegrid receives no Things-Message-Token, Authorization or X-API-Key; the other headers go on
--- config eval
::loc()
--- request eval
::up()
--- more_headers eval
::hdrs($::PLUG, $::BASIC, 'X-API-Key: api-key-0123456789', 'X-Kept: yes')
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/, qr/$::CLEAN.*/s]
--- response_body_unlike eval
["", "", qr/Pass|api-key|X-Kept: no/]
--- no_error_log
[error]



=== TEST 2: kpn_uplink_pass_header passes one of them on deliberately
--- config eval
::loc('kpn_uplink_pass_header Authorization;')
--- request eval
::up()
--- more_headers eval
::hdrs($::PLUG, $::BASIC, 'X-API-Key: api-key-0123456789')
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/,
 qr/\A(?!.*^things-message-token:)(?!.*^x-api-key:).*^\Q$::BASIC\E\r\n/msi]
--- no_error_log
[error]



=== TEST 3: kpn_uplink_auth basic: each line of the file is accepted (rotation), the header is not forwarded
--- config eval
::loc('kpn_uplink_auth basic;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/basic.auth;')
--- request eval
[@{ ::up() }, "POST /kpn/uplink\n$::V", "GET /stub/_log"]
--- more_headers eval
[@{ ::hdrs($::PLUG, $::BASIC) }, ::kpn_headers($::V, extra => [$::PLUG, $::BASIC_OLD]), ""]
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/, $::CLEAN, qr/\A\{"ok":true\}\n\z/, qr/\Awtg \/wtg\/iot\nwtg \/wtg\/iot\n\z/]
--- no_error_log
[error]



=== TEST 4: kpn_uplink_auth basic: a missing Authorization is 401 with a Basic challenge, before the body, and nothing reaches Withthegrid
--- skip_eval: 8: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth basic;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/basic.auth;')
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "GET /stub/_log"]
--- more_headers eval
::hdrs($::PLUG)
--- error_code eval
[200, 401, 200]
--- response_headers eval
["", "WWW-Authenticate: Basic realm=\"KPN Things destination\"\nContent-Type: application/json", ""]
--- response_body eval
["reset\n", qq({"error":"bad_destination_auth","message":"an \\"Authorization: Basic\\" header is required"}\n), ""]



=== TEST 5: kpn_uplink_auth basic: the refusal's log line names the destination and what to check
--- skip_eval: 2: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth basic;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/basic.auth;')
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, extra => [$::PLUG])
--- error_code: 401
--- error_log eval
qr/\[error\] .*kpn uplink rejected: 401 bad_destination_auth: an "Authorization: Basic" header is required, destination: 6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01: check the destination's authentication in KPN's portal against kpn_uplink_auth and kpn_uplink_auth_file/



=== TEST 6: kpn_uplink_auth basic: a wrong password is 401, never logged
--- skip_eval: 10: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth basic;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/basic.auth;')
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "GET /stub/_log"]
--- more_headers eval
::hdrs($::PLUG, 'Authorization: Basic ' . MIME::Base64::encode_base64('kpn-gateway:#Pass;word{$x', ''))
--- error_code eval
[200, 401, 200]
--- response_headers eval
["", "WWW-Authenticate: Basic realm=\"KPN Things destination\"", ""]
--- response_body eval
["reset\n", $::DENIED, ""]
--- no_error_log eval
qr/\[(?:info|notice|warn|error)\].*(?:Pass;word|a3BuLWdhdGV3YXk6)/



=== TEST 7: both checks must pass: the right Basic credentials and a wrong message token is bad_token
--- config eval
::loc('kpn_uplink_auth basic;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/basic.auth;')
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "GET /stub/_log"]
--- more_headers eval
["", ::kpn_headers($::V, secret => 'Wrong-Secret-0123456789-abcdefGH!', extra => [$::PLUG, $::BASIC]), ""]
--- error_code eval
[200, 401, 200]
--- response_body_like eval
["reset", qr/"bad_token"/, qr/\A\z/]



=== TEST 8: kpn_uplink_auth bearer: both tokens of the file, '#' first included; a wrong one is 401 with a Bearer challenge
--- skip_eval: 11: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth bearer;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/bearer.auth;')
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V", "GET /stub/_log"]
--- more_headers eval
["", ::kpn_headers($::V, extra => ['Authorization: Bearer #Bearer-Token-0123456789']),
 ::kpn_headers($::V, extra => ['Authorization: Bearer Next-Bearer-Token-abcdef']),
 ::kpn_headers($::V, extra => ['Authorization: Bearer Next-Bearer-Token-abcdeF']), ""]
--- error_code eval
[200, 200, 200, 401, 200]
--- response_headers eval
["", "", "", "WWW-Authenticate: Bearer realm=\"KPN Things destination\"", ""]
--- response_body eval
["reset\n", qq({"ok":true}\n), qq({"ok":true}\n), $::DENIED, "wtg /wtg/iot\nwtg /wtg/iot\n"]



=== TEST 9: kpn_uplink_auth api_key: X-API-Key by default, not forwarded; missing is 401 without a challenge
--- skip_eval: 9: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth api_key;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/key.auth;')
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V", "GET /stub/_raw"]
--- more_headers eval
["", ::kpn_headers($::V, extra => [$::PLUG, 'x-api-key: api-key-0123456789']),
 ::kpn_headers($::V, extra => [$::PLUG, 'Authorization: Bearer api-key-0123456789']), ""]
--- error_code eval
[200, 200, 401, 200]
--- response_headers eval
["", "", "!WWW-Authenticate", ""]
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/,
 qr/\A\Q{"error":"bad_destination_auth","message":"the \"x-api-key\" header is required"}\E\n\z/, $::CLEAN]



=== TEST 10: kpn_uplink_auth header with kpn_uplink_auth_header: KPN's static additional header, checked and not forwarded
--- skip_eval: 8: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth header;', 'kpn_uplink_auth_header X-Kpn-Static;',
      'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/key.auth;')
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V", "GET /stub/_raw"]
--- more_headers eval
["", ::kpn_headers($::V, extra => [$::PLUG, 'X-Kpn-Static: api-key-0123456789']),
 ::kpn_headers($::V, extra => [$::PLUG, 'X-Kpn-Static: api-key-012345678']), ""]
--- error_code eval
[200, 200, 401, 200]
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/, qr/\A\Q$::DENIED\E\z/, $::CLEAN]



=== TEST 11: refusals are logged at kpn_reject_log_level, never with the credential
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth bearer;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/bearer.auth;',
      'kpn_reject_log_level info;')
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, extra => ['Authorization: Bearer Wrong-Bearer-Token-0123'])
--- error_code: 401
--- error_log eval
qr/\[info\] .*kpn uplink rejected: 401 bad_destination_auth: the destination's credentials are not valid, destination: \(no Things-Plug-UUID header\)/
--- no_error_log eval
[qr/\[error\]/, qr/\[(?:info|notice|warn|error)\].*Wrong-Bearer/]



=== TEST 12: refusals are counted as kpn_uplinks_total{result="bad_destination_auth"}
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
::loc('kpn_uplink_auth bearer;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/bearer.auth;')
--- request eval
["POST /kpn/uplink\n$::V", "GET /metrics"]
--- more_headers eval
[::kpn_headers($::V, extra => ['Authorization: Bearer nope']), ""]
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/bad_destination_auth/, qr/^kpn_uplinks_total\{result="bad_destination_auth"\} [12]$/m]



=== TEST 13: nginx -t: kpn_uplink_auth without kpn_uplink_auth_file
--- config eval
::loc('kpn_uplink_auth bearer;')
--- must_die
--- error_log
"kpn_uplink_auth" requires "kpn_uplink_auth_file"



=== TEST 14: nginx -t: kpn_uplink_auth basic with a line that is not user:password
--- config eval
::loc('kpn_uplink_auth basic;', 'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/bearer.auth;')
--- must_die
--- error_log
"kpn_uplink_auth basic" takes lines of "user:password" in "kpn_uplink_auth_file", 2 line(s) have no ':'



=== TEST 15: kpn_wtg_token_file at http level: $kpn_wtg_token sets x-wtg-token, never logged
--- http_config eval
$::HTTP_CONFIG . "    kpn_wtg_token_file \$TEST_NGINX_HTML_DIR/wtg.token;\n"
--- config eval
::kpn_uplink_location(upstream => '127.0.0.1:$TEST_NGINX_STUB_PORT', uri => '/wtg/iot',
                      wtg => '$kpn_wtg_token')
--- request eval
::up()
--- more_headers eval
::hdrs($::PLUG)
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/, qr/^x-wtg-token: #Wtg-File-Token-0123456789\r\n/mi]
--- no_error_log eval
[qr/\[error\]/, qr/\[(?:info|notice|warn|error)\].*Wtg-File-Token/]



=== TEST 16: without kpn_wtg_token_file, $kpn_wtg_token is not found and the header is not sent
--- config eval
::kpn_uplink_location(upstream => '127.0.0.1:$TEST_NGINX_STUB_PORT', uri => '/wtg/iot',
                      wtg => '$kpn_wtg_token')
--- request eval
::up()
--- more_headers eval
::hdrs($::PLUG)
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/, qr/\A(?!.*^x-wtg-token:)POST \/wtg\/iot /msi]
--- no_error_log
[error]



=== TEST 17: nginx -t: a token file of two entries fails
--- http_config eval
$::HTTP_CONFIG . "    kpn_wtg_token_file \$TEST_NGINX_HTML_DIR/wtg2.token;\n"
--- config eval
::kpn_uplink_location(wtg => '$kpn_wtg_token')
--- user_files
>>> wtg2.token
token-one
token-two
--- must_die
--- error_log eval
qr/"kpn_wtg_token_file": "[^"]*wtg2\.token" must hold exactly one entry, it holds 2/



=== TEST 18: kpn_uplink_auth_value: per destination through a map; another plug's token, or an empty value, matches nothing
--- skip_eval: 10: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- http_config eval
$::HTTP_CONFIG . <<'_EOC_'
    map $http_things_plug_uuid $kpn_dest_token {
        default                                "";
        6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01   "Plug-A-Bearer-Token-0123";
        0b6d0f5e-1f5f-4a40-9d0e-3a2f1d8c9e02   "Plug-B-Bearer-Token-0123";
    }
_EOC_
--- config eval
::loc('kpn_uplink_auth bearer;', 'kpn_uplink_auth_value $kpn_dest_token;')
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V", "GET /stub/_log"]
--- more_headers eval
["", ::kpn_headers($::V, extra => [$::PLUG, 'Authorization: Bearer Plug-A-Bearer-Token-0123']),
 ::kpn_headers($::V, extra => [$::PLUG, 'Authorization: Bearer Plug-B-Bearer-Token-0123']),
 ::kpn_headers($::V, extra => ['Things-Plug-UUID: 00000000-0000-0000-0000-000000000000', 'Authorization: Bearer Plug-A-Bearer-Token-0123']), ""]
--- error_code eval
[200, 200, 401, 401, 200]
--- response_body eval
["reset\n", qq({"ok":true}\n), $::DENIED, $::DENIED, "wtg /wtg/iot\n"]



=== TEST 19: kpn_wtg_token_file and proxy_set_header x-wtg-token at http level: only a verified uplink carries the token, "location /" (any client's request) does not
--- http_config eval
$::HTTP_CONFIG . "    kpn_wtg_token_file \$TEST_NGINX_HTML_DIR/wtg.token;\n    proxy_set_header x-wtg-token \$kpn_wtg_token;\n"
--- config eval
::kpn_uplink_location(upstream => '127.0.0.1:$TEST_NGINX_STUB_PORT', uri => '/wtg/iot', wtg => undef)
--- request eval
["GET /stub/_reset", "POST /kpn/uplink\n$::V", "GET /stub/_raw",
 "GET /stub/_reset", "GET /anything", "GET /stub/_raw"]
--- more_headers eval
["", ::kpn_headers($::V, extra => [$::PLUG]), "", "", "", ""]
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/, qr/^x-wtg-token: #Wtg-File-Token-0123456789\r\n/mi,
 "reset", qr/\A\{"ok":true\}\n\z/, qr/\AGET \/wtg\/catch-all(?!.*^x-wtg-token:)/msi]
--- no_error_log eval
[qr/\[error\]/, qr/\[(?:info|notice|warn|error)\].*Wtg-File-Token/]



=== TEST 20: with kpn_uplink_auth_header set to KPN's static additional header, X-API-Key (KPN's X-API-key option, on as well) is still not forwarded
--- config eval
::loc('kpn_uplink_auth header;', 'kpn_uplink_auth_header X-Kpn-Static;',
      'kpn_uplink_auth_file $TEST_NGINX_HTML_DIR/key.auth;')
--- request eval
::up()
--- more_headers eval
::hdrs($::PLUG, 'X-Kpn-Static: api-key-0123456789', 'X-API-Key: Other-Api-Key-0123456789')
--- response_body_like eval
["reset", qr/\A\{"ok":true\}\n\z/, $::CLEAN]
--- response_body_unlike eval
["", "", qr/Other-Api-Key|api-key-0123456789/]
--- no_error_log
[error]
