# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# However nginx stores the body (one memory buffer, several buffers, a
# temp file, chunked input, unbuffered HTTP/1.1 proxying), the token covers
# the raw bytes and the upstream gets the envelope; retries and error_page
# send it again intact.  A body read that fails after the uplink handler
# returned (a bad chunk, a chunked body over client_max_body_size) is
# answered at once, with error_page too.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();

our $V = $KPN_VECTOR;

# a pack of about 3.4 KB: larger than a 1k client_body_buffer_size
our $BIG = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,'
    . '"n":"payload","vs":"763d0028"}'
    . join("", map { qq{,{"n":"m$_","v":$_.5}} } 1 .. 150) . ']';

our $BIG_ENVELOPE = '{"deviceTypeHashId":"wasd2",'
    . '"deviceIdentifier":"0059AC00001B3461",'
    . '"kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI",'
    . '"deviceType":"dragino-lds01","time":1765739955.219,'
    . '"payloadHex":"763d0028","messageId":"' . kpn_token($BIG) . '"},'
    . '"records":['
    . '{"n":"urn:dev:DEVEUI:0059AC00001B3461:payload","t":1765739955.219,'
    . '"vs":"763d0028"}'
    . join("", map { ',{"n":"urn:dev:DEVEUI:0059AC00001B3461:m' . $_
                     . '","t":1765739955.219,"v":' . $_ . '.5}' } 1 .. 150)
    . ']}';

sub chunked {
    my ($body, $size) = @_;
    my $out = "";
    while (length $body) {
        my $c = substr($body, 0, $size, "");
        $out .= sprintf("%x\r\n%s\r\n", length $c, $c);
    }
    return $out . "0\r\n\r\n";
}

add_block_preprocessor(\&kpn_uplink_defaults);

run_tests();

__DATA__

=== TEST 1: a small body read in one buffer
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- error_log
kpn body: 116 bytes in 1 buffers, in file:0
--- no_error_log
[error]



=== TEST 2: a body that arrives in pieces is kept in several memory buffers
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: the body must arrive in pieces, which curl does not do
--- raw_request eval
my $h = "POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::BIG))
    . "Content-Length: " . length($::BIG) . "\r\n\r\n";
[$h . substr($::BIG, 0, 100), substr($::BIG, 100, 1000), substr($::BIG, 1100)]
--- raw_request_middle_delay: 0.05
--- response_body eval
::kpn_echoed($::BIG_ENVELOPE)
--- error_log eval
qr/kpn body: 3\d\d\d bytes in [2-9] buffers, in file:0/
--- no_error_log
[error]



=== TEST 3: a body larger than client_body_buffer_size goes through a temp file
--- config eval
::kpn_uplink_location(extra => 'client_body_buffer_size 1k;')
--- request eval
"POST /kpn/uplink\n$::BIG"
--- more_headers eval
::kpn_headers($::BIG)
--- response_body eval
::kpn_echoed($::BIG_ENVELOPE)
--- error_log eval
qr/kpn body: 3\d\d\d bytes in 1 buffers, in file:1/
--- no_error_log
[error]



=== TEST 4: client_body_in_file_only on: the body is read back from the file
--- config eval
::kpn_uplink_location(extra => 'client_body_in_file_only on;')
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- error_log
kpn body: 116 bytes in 1 buffers, in file:1
--- no_error_log
[error]



=== TEST 5: client_body_in_file_only clean: the body is read back from the file too
--- config eval
::kpn_uplink_location(extra => 'client_body_in_file_only clean;')
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- error_log
kpn body: 116 bytes in 1 buffers, in file:1
--- no_error_log
[error]



=== TEST 6: a bad token is found in a temp-file body too
--- config eval
::kpn_uplink_location(extra => 'client_body_buffer_size 1k;', wtg => undef)
--- request eval
"POST /kpn/uplink\n$::BIG"
--- more_headers eval
::kpn_headers($::BIG . " ")
--- error_code: 401
--- response_body
{"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}



=== TEST 7: chunked input gets an exact Content-Length upstream
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked transfer coding does not exist in HTTP/2
--- raw_request eval
"POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
. "Transfer-Encoding: chunked\r\n\r\n" . ::chunked($::V, 30)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- no_error_log
[error]



=== TEST 8: proxy_http_version 1.1 with proxy_request_buffering off sends chunked input with an exact Content-Length; $content_length shows it
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked input
--- config eval
::kpn_uplink_location(extra => ['proxy_http_version 1.1;', 'proxy_request_buffering off;'],
                      wtg => '$content_length:$http_content_length')
--- raw_request eval
"POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
    . "Transfer-Encoding: chunked\r\n\r\n"
    . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $::V, $::V)
--- response_body eval
my $n = length $::KPN_VECTOR_ENVELOPE;
::kpn_echoed($::KPN_VECTOR_ENVELOPE, wtg => "$n:$n")
--- no_error_log
[error]



=== TEST 9: chunked input in senml format: the original bytes, de-chunked
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked transfer coding does not exist in HTTP/2
--- config eval
::kpn_uplink_location(format => 'senml', device_type => undef)
--- raw_request eval
"POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
. "Transfer-Encoding: chunked\r\n\r\n" . ::chunked($::V, 16)
--- response_body eval
::kpn_echoed($::V)
--- no_error_log
[error]



=== TEST 10: a large chunked body spilled to a temp file
--- skip_eval: 3: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked transfer coding does not exist in HTTP/2
--- config eval
::kpn_uplink_location(extra => 'client_body_buffer_size 1k;')
--- raw_request eval
"POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::BIG))
. "Transfer-Encoding: chunked\r\n\r\n" . ::chunked($::BIG, 700)
--- response_body eval
::kpn_echoed($::BIG_ENVELOPE)
--- no_error_log
[error]



=== TEST 11: a failing first upstream: the retry sends the same envelope
--- http_config eval
$::KPN_ECHO_SERVER . q{
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / {
            return 502;
        }
    }
    upstream wtg {
        server 127.0.0.1:$TEST_NGINX_RAND_PORT_2 max_fails=0;
        server 127.0.0.1:$TEST_NGINX_RAND_PORT_1 backup;
    }
}
--- config eval
::kpn_uplink_location(extra => 'proxy_next_upstream error timeout http_502 non_idempotent;',
                      upstream => 'wtg')
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE)
--- error_log eval
qr/http next upstream, \d+/
--- no_error_log
[error]



=== TEST 12: error_page after the rewrite neither validates nor rewrites again
--- http_config eval
$::KPN_ECHO_SERVER . q{
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        location / {
            return 503;
        }
    }
}
--- config eval
::kpn_uplink_location(extra => ['proxy_intercept_errors on;', 'error_page 503 = @fallback;'],
                      wtg => undef, upstream => '127.0.0.1:$TEST_NGINX_RAND_PORT_2')
. ::kpn_uplink_location(location => '@fallback', wtg => '$kpn_device_type_hash_id', uri => '')
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V)
--- response_body eval
::kpn_echoed($::KPN_VECTOR_ENVELOPE, wtg => "wasd2")
--- grep_error_log eval
qr/kpn uplink: message token ok|kpn uplink: again, state:2|kpn body: replaced/
--- grep_error_log_out eval
["kpn uplink: message token ok\nkpn body: replaced\nkpn uplink: again, state:2\nkpn uplink: again, state:2\n",
 "kpn uplink: message token ok\nkpn body: replaced\nkpn uplink: again, state:2\nkpn uplink: again, state:2\n"]
--- no_error_log
[error]



=== TEST 13: an invalid chunk that arrives late, with error_page into another uplink location: the 400 is answered at once
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: an invalid chunk, which HTTP/2 cannot carry
--- config eval
::kpn_uplink_location(extra => ['client_body_timeout 5s;', 'error_page 400 = @again;'],
                      wtg => undef)
. ::kpn_uplink_location(location => '@again', wtg => undef, uri => '')
--- raw_request eval
my $h = "POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
    . "Transfer-Encoding: chunked\r\n\r\n";
[$h . "10\r\n" . substr($::V, 0, 16) . "\r\n", "zz\r\n"]
--- raw_request_middle_delay: 0.2
--- timeout: 3
--- error_code: 400
--- error_log
client sent invalid chunked body
kpn uplink: the body read failed
--- no_error_log
kpn uplink: message token ok



=== TEST 14: a chunked body that grows too large after the handler returned, with error_page into the same location: 413 at once
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: raw_request: chunked transfer coding does not exist in HTTP/2
--- config eval
::kpn_uplink_location(location => '/kpn/',
                      extra => ['client_max_body_size 64;', 'client_body_timeout 5s;',
                                'error_page 413 /kpn/too-large;'],
                      wtg => undef)
--- raw_request eval
my $h = "POST /kpn/uplink HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    . CORE::join("", map { "$_\r\n" } split /\n/, ::kpn_headers($::V))
    . "Transfer-Encoding: chunked\r\n\r\n";
[$h . "10\r\n" . substr($::V, 0, 16) . "\r\n",
 sprintf("%x\r\n%s\r\n0\r\n\r\n", length($::V) - 16, substr($::V, 16))]
--- raw_request_middle_delay: 0.2
--- timeout: 3
--- error_code: 413
--- error_log
client intended to send too large chunked body
kpn uplink: the body read failed: 413
--- no_error_log
kpn uplink: message token ok



=== TEST 15: keepalive: a second request on the same connection after an uplink
--- skip_eval: 6: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: pipelined_requests: HTTP/1.1 keepalive
--- config eval
$::KPN_UPLINK_LOCATION . q{
    location = /t {
        return 200 "second\n";
    }
}
--- pipelined_requests eval
["POST /kpn/uplink\n$::V", "GET /t"]
--- more_headers eval
::kpn_headers($::V)
--- response_body eval
[::kpn_echoed($::KPN_VECTOR_ENVELOPE), "second\n"]
--- no_error_log
[error]



=== TEST 16: keepalive: a rejected uplink with an unread body leaves the connection usable
--- skip_eval: 4: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: pipelined_requests: HTTP/1.1 keepalive
--- config eval
::kpn_uplink_location(wtg => undef)
. <<'_EOC_'
    location = /t {
        return 200 "second\n";
    }
_EOC_
--- pipelined_requests eval
["PUT /kpn/uplink\n$::V", "GET /t"]
--- more_headers eval
::kpn_headers($::V)
--- error_code eval
[405, 200]
--- response_body eval
["{\"error\":\"method_not_allowed\",\"message\":\"method PUT is not allowed, use POST\"}\n", "second\n"]



=== TEST 17: mirror copies the rewritten body (the uplink runs before mirror)
--- http_config eval
$::KPN_ECHO_SERVER . q{
    log_format copy escape=none '$request_body';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2;
        client_body_buffer_size 64k;
        location = /copy {
            access_log $TEST_NGINX_SERVER_ROOT/html/copies.log copy;
            proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot;
        }
    }
}
--- config eval
::kpn_uplink_location(extra => 'mirror /mirror;') . q{
    location = /mirror {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2/copy;
    }
    location = /copies {
        alias $TEST_NGINX_SERVER_ROOT/html/copies.log;
    }
}
--- request eval
["POST /kpn/uplink\n$::V", "GET /copies"]
--- more_headers eval
[::kpn_headers($::V), ""]
--- response_body_like eval
[qr/^\Q${\ ::kpn_echoed($::KPN_VECTOR_ENVELOPE)}\E$/,
 qr/^(\Q$::KPN_VECTOR_ENVELOPE\E\n)+$/]
--- no_error_log
[error]
