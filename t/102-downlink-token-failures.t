# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Every token failure mode is a 502 token_unavailable, never a crash or a
# hang, and is followed by fast 503s with Retry-After (kpn_token_backoff 2s)
# that do not reach the token endpoint.  Each iteration first waits out the
# backoff of the previous one (a stand-in request answered late), so both iterations see the
# same thing.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

kpn_stub_start();

repeat_each(2);
no_shuffle();

# the usual config: kpn_token_backoff 2s, a token endpoint that answers 500
# (1 s read timeout); the blocks of the other failure modes change "token"
our @CONFIG = (extra => 'kpn_token_backoff 2s;', token_timeout => '1s',
               token => '500');

add_block_preprocessor(sub {
    kpn_downlink_defaults(shift, config => kpn_downlink_config(@CONFIG));
});

# a failure, then two fast 503s: the requests, the headers and the bodies
# (the 502's message, then the count of token requests the stand-in saw)
our $UNAVAILABLE = "X-Downlink-Status: token_unavailable\nContent-Type: application/json";

sub failure_requests {
    return ["GET /stub/_reset?wait=2.1",
            ("POST /downlink\n$DL") x 3,
            "GET /stub/_count"];
}

sub failure_headers {
    return ["", "X-Token-Cache: miss\n$UNAVAILABLE",
            ("Retry-After: [12]\n$UNAVAILABLE") x 2, ""];
}

sub failure_bodies {
    my ($message, $tokens) = @_;
    my $json = sub { qq({"error":"token_unavailable","message":"$_[0]"}\n) };
    return ["reset\n", $json->($message),
            ($json->("the token endpoint failed recently, retry later")) x 2,
            "tokens=$tokens downlinks=0\n"];
}

run_tests();

__DATA__

=== TEST 1: a 500 from the token endpoint is 502 token_unavailable, then fast 503s
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body eval
::failure_bodies("the token endpoint answered 500", 1)
--- timeout: 6



=== TEST 2: a 200 with a body that is not JSON is 502 token_unavailable, then fast 503s
--- config eval
::kpn_downlink_config(@::CONFIG, token => 'garbage')
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body eval
::failure_bodies("the token answer is not JSON", 1)
--- timeout: 6



=== TEST 3: a 200 without access_token is 502 token_unavailable, then fast 503s
--- config eval
::kpn_downlink_config(@::CONFIG, token => 'noat')
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body eval
::failure_bodies("the token answer has no access_token", 1)
--- timeout: 6



=== TEST 4: a 200 with a non-string access_token is 502 token_unavailable, then fast 503s
--- config eval
::kpn_downlink_config(@::CONFIG, token => 'numat')
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body eval
::failure_bodies("the token answer has no access_token", 1)
--- timeout: 6



=== TEST 5: an answer larger than subrequest_output_buffer_size is 502 token_unavailable, then fast 503s
--- config eval
::kpn_downlink_config(@::CONFIG, token => 'big')
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body eval
::failure_bodies("the token answer was too big or broken", 1)
--- timeout: 6



=== TEST 6: connection refused is 502 token_unavailable, then fast 503s
--- config eval
::kpn_downlink_config(@::CONFIG, token => 'http://127.0.0.1:$TEST_NGINX_CLOSED_PORT/token')
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body eval
::failure_bodies("the token request failed (502)", 0)
--- timeout: 6



=== TEST 7: a token endpoint that never answers (proxy_read_timeout 1s) is 502 token_unavailable, then fast 503s
--- config eval
::kpn_downlink_config(@::CONFIG, token => 'http://127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT/token')
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body eval
::failure_bodies("the token request timed out", 0)
--- timeout: 6



=== TEST 8: one log line per failure, naming the code, without the secret or any token
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- wait: 2.1
--- error_log
kpn downlink: token_unavailable: the token endpoint answered 500
--- no_error_log
my-secret
tok-
[crit]
--- timeout: 6



=== TEST 9: a fast 503 does not log the secret
--- request eval
["GET /stub/_wait?2.1", "POST /downlink\n$::DL", "POST /downlink\n$::DL"]
--- error_code eval
[200, 502, 503]
--- no_error_log
my-secret
[crit]
--- timeout: 6



=== TEST 10: a token answer that breaks inside the subrequest (a bad chunk) is 502 token_unavailable, not a hang
--- config eval
::kpn_downlink_config(@::CONFIG, token => 'badchunk')
--- request eval
::failure_requests()
--- error_code eval
[200, 502, 503, 503, 200]
--- response_headers_like eval
::failure_headers()
--- response_body_like eval
["reset", qr/\A\{"error":"token_unavailable","message":"the token (?:answer was too big or broken|request failed \(502\))"\}\n\z/,
 qr/failed recently/, qr/failed recently/, qr/\Atokens=1 downlinks=0\n\z/]
--- timeout: 6



=== TEST 11: a 401 from the token endpoint says which credentials to check, once, in the log and the answer
--- config eval
::kpn_downlink_config(@::CONFIG, token => '401')
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- response_body
{"error":"token_unavailable","message":"the token endpoint answered 401: check kpn_client_id and the client secret"}
--- wait: 2.1
--- grep_error_log eval: qr/kpn downlink: .*?client secret|my-secret/
--- grep_error_log_out
kpn downlink: token_unavailable: the token endpoint answered 401: check kpn_client_id and the client secret
--- timeout: 6



=== TEST 12: a 403 from the token endpoint names the API key's roles too
--- config eval
::kpn_downlink_config(@::CONFIG, token => '403')
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- wait: 2.1
--- grep_error_log eval: qr/kpn downlink: .*?roles|my-secret/
--- grep_error_log_out
kpn downlink: token_unavailable: the token endpoint answered 403: check kpn_client_id, the client secret and the API key's roles
--- timeout: 6
