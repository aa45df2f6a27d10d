# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Message token secrets: several in a file (rotation), a per-plug secret
# chosen with map, both directives at once, kpn_uplink_secret repeated
# (per-plug rotation), the bad_token log line.

# the workers run as www-data, as in production: nginx reads the files as
# root, the workers never need them
BEGIN { $ENV{TEST_NGINX_WORKER_USER} = 'www-data' if $> == 0 }

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} = html_dir();

our $V = $KPN_VECTOR;
our $OLD = 'Older-Secret-0123456789-abcdefGH!xyz';
our $PLUG_B = 'Plug-B-Secret-0123456789-abcdefGHIJ';
our $PLUG_A_NEXT = 'Plug-A-Next-Secret-0123456789-abcdefGH!';
our $PLUG_A = '6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01';
our $BAD_TOKEN = qq({"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}\n);

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value("http_config", $KPN_ECHO_SERVER . <<'_EOC_')
    map $http_things_plug_uuid $kpn_plug_secret {
        default                                "";
        6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01   "Example-Secret-0123456789-abcdefGH!";
        0b6d0f5e-1f5f-4a40-9d0e-3a2f1d8c9e02   "Plug-B-Secret-0123456789-abcdefGHIJ";
    }
    # the secrets that come next (rotation): plug A only
    map $http_things_plug_uuid $kpn_plug_secret_next {
        default                                "";
        6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01   "Plug-A-Next-Secret-0123456789-abcdefGH!";
    }
_EOC_
        unless defined $block->http_config;

    $block->set_value("user_files", <<'_EOC_') unless defined $block->user_files;
>>> kpn.secrets
# one secret a line; any may match
Example-Secret-0123456789-abcdefGH!
Older-Secret-0123456789-abcdefGH!xyz
_EOC_
});

run_tests();

__DATA__

=== TEST 1: the first secret of the file matches
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/kpn.secrets', secret => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- no_error_log
[error]



=== TEST 2: the second secret of the file matches too (rotation)
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/kpn.secrets', secret => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => $::OLD)
--- response_body eval
::kpn_echoed(::kpn_with_id($::KPN_VECTOR_ENVELOPE, ::kpn_token($::V, $::OLD)))
--- no_error_log
[error]



=== TEST 3: a secret that is in no file is refused
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/kpn.secrets', secret => undef,
                      wtg => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => $::PLUG_B)
--- error_code: 401
--- response_body
{"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}
--- error_log
kpn uplink rejected: 401 bad_token



=== TEST 4: two secret files add up
--- config eval
::kpn_uplink_location(secret_file => ['$TEST_NGINX_HTML_DIR/kpn.secrets',
                                      '$TEST_NGINX_HTML_DIR/plug-b.secret'],
                      secret => undef)
--- user_files
>>> kpn.secrets
Example-Secret-0123456789-abcdefGH!
>>> plug-b.secret
Plug-B-Secret-0123456789-abcdefGHIJ
--- request eval
["POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V"]
--- more_headers eval
[::kpn_headers($::V, secret => $::PLUG_B), ::kpn_headers($::V)]
--- response_body eval
[::kpn_echoed(::kpn_with_id($::KPN_VECTOR_ENVELOPE, ::kpn_token($::V, $::PLUG_B))),
 ::kpn_echoed($::KPN_VECTOR_ENVELOPE)]
--- no_error_log
[error]



=== TEST 5: per-plug secret with map: each plug's own secret matches
--- config eval
::kpn_uplink_location(secret => '$kpn_plug_secret')
--- request eval
["POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V"]
--- more_headers eval
[::kpn_headers($::V, extra => ["Things-Plug-UUID: 6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01"]),
 ::kpn_headers($::V, secret => $::PLUG_B, extra => ["Things-Plug-UUID: 0b6d0f5e-1f5f-4a40-9d0e-3a2f1d8c9e02"])]
--- response_body eval
[::kpn_echoed($::KPN_VECTOR_ENVELOPE),
 ::kpn_echoed(::kpn_with_id($::KPN_VECTOR_ENVELOPE, ::kpn_token($::V, $::PLUG_B)))]
--- no_error_log
[error]



=== TEST 6: per-plug secret with map: another plug's secret is refused
--- config eval
::kpn_uplink_location(secret => '$kpn_plug_secret', wtg => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => $::PLUG_B, extra => ["Things-Plug-UUID: 6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01"])
--- error_code: 401
--- response_body
{"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}
--- error_log
kpn uplink rejected: 401 bad_token



=== TEST 7: per-plug secret with map: an unknown plug (empty secret) is refused
--- config eval
::kpn_uplink_location(secret => '$kpn_plug_secret', wtg => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, extra => ["Things-Plug-UUID: 00000000-0000-0000-0000-000000000000"])
--- error_code: 401
--- response_body
{"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}
--- error_log
kpn uplink: kpn_uplink_secret is empty
kpn uplink rejected: 401 bad_token



=== TEST 8: file and variable together: either matches
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/kpn.secrets',
                      secret => '$kpn_plug_secret')
--- request eval
["POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V"]
--- more_headers eval
[::kpn_headers($::V, secret => $::OLD),
 ::kpn_headers($::V, secret => $::PLUG_B, extra => ["Things-Plug-UUID: 0b6d0f5e-1f5f-4a40-9d0e-3a2f1d8c9e02"])]
--- response_body eval
[::kpn_echoed(::kpn_with_id($::KPN_VECTOR_ENVELOPE, ::kpn_token($::V, $::OLD))),
 ::kpn_echoed(::kpn_with_id($::KPN_VECTOR_ENVELOPE, ::kpn_token($::V, $::PLUG_B)))]
--- no_error_log
[error]



=== TEST 9: kpn_uplink_secret repeated: a plug's current and next secret both match (rotation per destination)
--- config eval
::kpn_uplink_location(secret => ['$kpn_plug_secret', '$kpn_plug_secret_next'])
--- request eval
["POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V"]
--- more_headers eval
[::kpn_headers($::V, extra => ["Things-Plug-UUID: $::PLUG_A"]),
 ::kpn_headers($::V, secret => $::PLUG_A_NEXT, extra => ["Things-Plug-UUID: $::PLUG_A"])]
--- response_body eval
[::kpn_echoed($::KPN_VECTOR_ENVELOPE),
 ::kpn_echoed(::kpn_with_id($::KPN_VECTOR_ENVELOPE, ::kpn_token($::V, $::PLUG_A_NEXT)))]
--- no_error_log
[error]



=== TEST 10: kpn_uplink_secret repeated: another plug's next secret does not match (its next value is empty)
--- config eval
::kpn_uplink_location(secret => ['$kpn_plug_secret', '$kpn_plug_secret_next'], wtg => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => $::PLUG_A_NEXT, extra => ["Things-Plug-UUID: 0b6d0f5e-1f5f-4a40-9d0e-3a2f1d8c9e02"])
--- error_code: 401
--- response_body eval
$::BAD_TOKEN
--- error_log
kpn uplink: kpn_uplink_secret is empty (#2)
kpn uplink rejected: 401 bad_token



=== TEST 11: the bad_token line names the destination and what to check, never a secret
--- config eval
::kpn_uplink_location(secret => ['$kpn_plug_secret', '$kpn_plug_secret_next'], wtg => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => $::PLUG_B, extra => ["Things-Plug-UUID: $::PLUG_A"])
--- error_code: 401
--- response_body eval
$::BAD_TOKEN
--- error_log eval
qr/\[error\] .*kpn uplink rejected: 401 bad_token: the Things-Message-Token does not match the message and any configured secret, destination: 6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01: check the destination's shared secret in KPN's portal against kpn_uplink_secret_file and kpn_uplink_secret/
--- no_error_log eval
qr/\[(?:info|notice|warn|error)\].*Secret-0123456789/



=== TEST 12: the bad_token line without a Things-Plug-UUID header says so
--- config eval
::kpn_uplink_location(wtg => undef)
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => $::PLUG_B)
--- error_code: 401
--- response_body eval
$::BAD_TOKEN
--- error_log eval
qr/\[error\] .*kpn uplink rejected: 401 bad_token: .*, destination: \(no Things-Plug-UUID header\): check the destination's shared secret/
