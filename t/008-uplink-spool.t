# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# What the outage spool (docs/spool.md, examples/spool.conf) stands on:
# $kpn_message_id (the same for KPN's retries of a message, another for
# another message), $kpn_uplink_body (the forwarded envelope, also when nginx
# kept the request body in a temp file, where $request_body is empty), and
# the recipe's map over $upstream_status lists of retried requests.  The
# http { } part of examples/spool.conf is used as it is.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET;
use KPNTest;

repeat_each(2);
no_shuffle();

# a loopback port with nothing listening on it
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                              Listen => 1) or die "listen: $!";
$ENV{TEST_NGINX_SPOOL_CLOSED_PORT} = $s->sockport;
close $s;

# the recipe's http { } lines, between its markers
open my $fh, '<', 'examples/spool.conf' or die "examples/spool.conf: $!";
my $recipe = do { local $/; <$fh> };
close $fh;
$recipe =~ /^# >>> spool: http\n(.*)^# <<< spool: http$/ms
    or die "examples/spool.conf: no spool: http markers";
our $SPOOL_HTTP = $1;

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $KPN_ECHO_SERVER . $SPOOL_HTTP . <<'_EOC_')
    upstream retry_ok {
        server 127.0.0.1:$TEST_NGINX_SPOOL_CLOSED_PORT max_fails=0;
        server 127.0.0.1:$TEST_NGINX_RAND_PORT_1 backup;
    }
    upstream retry_fail {
        server 127.0.0.1:$TEST_NGINX_SPOOL_CLOSED_PORT max_fails=0;
        server 127.0.0.1:$TEST_NGINX_SPOOL_CLOSED_PORT backup max_fails=0;
    }
_EOC_
        unless defined $block->http_config;
});

# an uplink location at $uri proxying to $upstream (host[:port], then the
# URI), with more directives and the headers that show the recipe's values
sub uplink_to {
    my ($uri, $upstream, @extra) = @_;
    my ($host, $path) = $upstream =~ m{\Ahttp://([^/]+)(.*)\z} or die $upstream;
    return kpn_uplink_location(
        location => "= $uri", upstream => $host, uri => $path,
        extra => [@extra, 'add_header X-Id $kpn_message_id always;',
                  'add_header X-Spool "spool=$kpn_spool_outcome upstream=[$upstream_status]" always;']);
}

our $OTHER = $KPN_VECTOR =~ s/763d0028/763d0029/r;

# the envelope as escape=json writes it
our $ESCAPED = $KPN_VECTOR_ENVELOPE =~ s/(["\\])/\\$1/gr;

run_tests();

__DATA__

=== TEST 1: $kpn_message_id: the same for a retry of a message, another for another message, lower case
--- config eval
::uplink_to('/kpn/uplink', 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot')
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/uplink\n$::KPN_VECTOR",
 "POST /kpn/uplink\n$::OTHER", "POST /kpn/uplink\n$::KPN_VECTOR"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR),
 ::kpn_headers($::OTHER), ::kpn_headers($::KPN_VECTOR, token => uc ::kpn_token($::KPN_VECTOR))]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Id: " . ::kpn_token($::KPN_VECTOR), "X-Id: " . ::kpn_token($::KPN_VECTOR),
 "X-Id: " . ::kpn_token($::OTHER), "X-Id: " . ::kpn_token($::KPN_VECTOR)]
--- no_error_log
[error]



=== TEST 2: no message id for an uplink refused before its token is checked
--- config eval
::uplink_to('/kpn/uplink', 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot')
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/uplink\n$::KPN_VECTOR"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR, token => '0' x 64), ::kpn_headers($::KPN_VECTOR, token => undef)]
--- error_code eval
[401, 401]
--- response_headers eval
["X-Id: ", "X-Id: "]



=== TEST 3: the spool line of an uplink Withthegrid did not take holds the envelope, also when the request body was in a temp file
--- config eval
::uplink_to('/kpn/uplink', 'http://127.0.0.1:$TEST_NGINX_SPOOL_CLOSED_PORT/iot',
            'client_body_in_file_only on;',
            'access_log logs/spool.log kpn_spool if=$kpn_spool_outcome;')
. <<'_EOC_'
    location = /spool {
        alias $TEST_NGINX_SERVER_ROOT/logs/spool.log;
    }
_EOC_
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "GET /spool"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ""]
--- error_code eval
[502, 200]
--- response_headers eval
["X-Spool: spool=failed upstream=[502]", ""]
--- response_body_like eval
[qr/./s,
 qr/\A(?:\{"kpn_spool":1,"time":"[^"]+","msec":"[0-9.]+","id":"\Q${\ ::kpn_token($::KPN_VECTOR)}\E","outcome":"failed","device":"0059AC00001B3461","device_type":"dragino-lds01","status":"502","upstream_status":"502","request_id":"[0-9a-f]{32}","headers":\{"content-type":"application\/json"\},"body":"\Q$::ESCAPED\E"\}\n){1,2}\z/]



=== TEST 4: the recipe's map over retried $upstream_status lists: the last value decides; refused uplinks are not spooled
--- config eval
::uplink_to('/kpn/uplink', 'http://retry_ok/iot')
. ::uplink_to('/kpn/fail', 'http://retry_fail/iot')
. ::uplink_to('/kpn/redirect', 'http://127.0.0.1:$TEST_NGINX_SPOOL_CLOSED_PORT/iot',
              'error_page 502 = @again;')
. <<'_EOC_'
    location @again {
        add_header X-Spool "spool=$kpn_spool_outcome upstream=[$upstream_status]" always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
_EOC_
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/fail\n$::KPN_VECTOR",
 "POST /kpn/redirect\n$::KPN_VECTOR", "POST /kpn/uplink\n$::KPN_VECTOR"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR),
 ::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR, token => '0' x 64)]
--- error_code eval
[200, 502, 200, 401]
--- response_headers eval
["X-Spool: spool=accepted upstream=[502, 200]", "X-Spool: spool=failed upstream=[502, 502]",
 "X-Spool: spool=accepted upstream=[502 : 200]", "X-Spool: spool= upstream=[]"]
--- response_body_like eval
[qr/\A\QPOST len=${\ length $::KPN_VECTOR_ENVELOPE}\E/, qr/./s, qr/\A\QPOST len=${\ length $::KPN_VECTOR_ENVELOPE}\E/, qr/bad_token/]



=== TEST 5: $kpn_spool_outcome and $kpn_spool_envelope: an accepted uplink's line has no envelope; a refused uplink writes no line
--- config eval
::uplink_to('/kpn/uplink', 'http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/iot',
            'access_log logs/spool5.log kpn_spool if=$kpn_spool_outcome;')
. <<'_EOC_'
    location = /spool {
        alias $TEST_NGINX_SERVER_ROOT/logs/spool5.log;
    }
_EOC_
--- request eval
["POST /kpn/uplink\n$::KPN_VECTOR", "POST /kpn/uplink\n$::KPN_VECTOR", "GET /spool"]
--- more_headers eval
[::kpn_headers($::KPN_VECTOR), ::kpn_headers($::KPN_VECTOR, token => '0' x 64), ""]
--- error_code eval
[200, 401, 200]
--- response_body_like eval
[qr/./s, qr/bad_token/,
 qr/\A(?:\{"kpn_spool":1,"time":"[^"]+","msec":"[0-9.]+","id":"\Q${\ ::kpn_token($::KPN_VECTOR)}\E","outcome":"accepted","device":"0059AC00001B3461","device_type":"dragino-lds01","status":"200","upstream_status":"200","request_id":"[0-9a-f]{32}","headers":\{"content-type":"application\/json"\},"body":""\}\n){1,2}\z/]
