# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The downlink end to end against recording stand-ins (t/lib/KPNStub.pm):
# the token is fetched once and reused, the exact bytes and headers both
# stand-ins receive, nothing of the caller leaks, KPN's answer is passed
# through, 302/401 lead to exactly one refetch and one retry, expiry and the
# refresh margin.
#
# Every iteration starts with GET /stub/_reset; the token cache is not reset
# between repeat_each iterations (nginx keeps running), so the second
# iteration starts with a cached token where the first started cold.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

kpn_stub_start();

repeat_each(2);
no_shuffle();

add_block_preprocessor(sub {
    kpn_downlink_defaults(shift, config => kpn_downlink_config());
});

# the stand-in's log of a downlink that KPN refuses with $status: the token
# is dropped, a new one fetched, and the retry with it is answered $retry
sub retry_log {
    my ($mode, $status, $retry) = @_;
    return qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/$mode\?port=2 auth=Bearer (tok-\d+) -> $status\ntoken /token/ok -> (?!\1)(tok-\d+)\ndl /dl/$mode\?port=2 auth=Bearer \2 -> $retry\n\z};
}

# the answer when the retry is refused as well
sub auth_failed {
    my ($status) = @_;
    return qr/\A\Q{"error":"kpn_auth_failed","message":"KPN refused a new access token ($status)"}\E\n\z/;
}

run_tests();

__DATA__

=== TEST 1: the first downlink fetches a token, the next ones reuse it
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_log"]
--- error_code eval
[200, 201, 201, 201, 200]
--- response_body_like eval
["reset",
 $::QUEUED_RE,
 $::QUEUED_RE,
 $::QUEUED_RE,
 qr{\A(?:token /token/ok -> (tok-\d+)\n)?dl /dl/ok\?port=2 auth=Bearer (tok-\d+) -> 201\n(?:dl /dl/ok\?port=2 auth=Bearer \2 -> 201\n){2}\z}]
--- no_error_log
[error]



=== TEST 2: the exact bytes the stand-ins receive; the caller's headers never reach them
--- config eval
::kpn_downlink_config(keys => '$TEST_NGINX_HTML_DIR/keys', headers => [], token => 'fixed')
--- user_files
>>> keys
key-one
key-two
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":10,"payload":"0A0b","externalReference":"cmd 7&x=1"}',
 "GET /stub/_raw"]
--- more_headers eval
["",
 "Authorization: Bearer key-two\nCookie: session=caller-cookie\nX-Custom: caller-custom\nUser-Agent: caller-agent\nAccept-Encoding: gzip\nContent-Type: application/json",
 ""]
--- error_code eval
[200, 201, 200]
--- response_body eval
["reset\n",
 $::QUEUED,
 qr{\A(?:\QPOST /token/fixed \E$::PROXY_HTTP\r\n\QHost: stub\E\r\n$::PROXY_CONN\QContent-Length: 137\E\r\n\QContent-Type: application/json; charset=utf-8\E\r\n\r\n\Q{"grant_type":"client_credentials","audience":"4dc82561-f65f-523g-dek9-6c79ec314f02","client_id":"my-client","client_secret":"my-secret"}\E)?\QPOST /dl/ok?port=10&externalReference=cmd%207%26x%3D1 \E$::PROXY_HTTP\r\n\QHost: stub\E\r\n$::PROXY_CONN\QContent-Length: 72\E\r\n\QAuthorization: Bearer tok-fixed\E\r\n\QAccept: application/vnd.kpnthings.actuator.v1.response+json\E\r\n\QContent-Type: application/json\E\r\n\r\n\Q[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"0A0b"}]\E\z}]
--- no_error_log
[error]



=== TEST 3: a 302 from KPN drops the token, fetches a new one and retries once
--- config eval
::kpn_downlink_config(dl_timeout => '1s', dl => '302first')
--- request eval
::kpn_one_downlink('_log')
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "X-Token-Cache: miss\nX-Downlink-Status: ok", ""]
--- response_body_like eval
["reset", $::QUEUED_RE, ::retry_log('302first', 302, 201)]
--- no_error_log
[error]



=== TEST 4: a 302 again after the retry is 502 kpn_auth_failed (one refetch, one retry), then no fetch and no post for kpn_token_backoff
--- config eval
::kpn_downlink_config(dl_timeout => '1s', dl => '302', extra => 'kpn_token_backoff 2s;')
--- request eval
["GET /stub/_reset?wait=2.1", "POST /downlink\n$::DL", "POST /downlink\n$::DL", "GET /stub/_log"]
--- error_code eval
[200, 502, 503, 200]
--- response_headers_like eval
["", "Content-Type: application/json\nX-Downlink-Status: kpn_auth_failed", "Retry-After: [12]\nX-Downlink-Status: kpn_auth_failed", ""]
--- response_body_like eval
["reset", ::auth_failed(302), qr/\A\Q{"error":"kpn_auth_failed","message":"KPN refused a new access token recently, retry later"}\E\n\z/, ::retry_log('302', 302, 302)]
--- timeout: 5



=== TEST 5: a 401 from KPN drops the token, fetches a new one and retries once
--- config eval
::kpn_downlink_config(dl_timeout => '1s', dl => '401first')
--- request eval
::kpn_one_downlink('_log')
--- error_code eval
[200, 201, 200]
--- response_headers eval
["", "X-Token-Cache: miss\nX-Downlink-Status: ok", ""]
--- response_body_like eval
["reset", $::QUEUED_RE, ::retry_log('401first', 401, 201)]
--- no_error_log
[error]



=== TEST 6: a 401 again after the retry is 502 kpn_auth_failed (one refetch, one retry), then no fetch and no post for kpn_token_backoff
--- config eval
::kpn_downlink_config(dl_timeout => '1s', dl => '401', extra => 'kpn_token_backoff 2s;')
--- request eval
["GET /stub/_reset?wait=2.1", "POST /downlink\n$::DL", "POST /downlink\n$::DL", "GET /stub/_log"]
--- error_code eval
[200, 502, 503, 200]
--- response_headers_like eval
["", "Content-Type: application/json\nX-Downlink-Status: kpn_auth_failed", "Retry-After: [12]\nX-Downlink-Status: kpn_auth_failed", ""]
--- response_body_like eval
["reset", ::auth_failed(401), qr/\A\Q{"error":"kpn_auth_failed","message":"KPN refused a new access token recently, retry later"}\E\n\z/, ::retry_log('401', 401, 401)]
--- timeout: 5



=== TEST 7: any other KPN status and body are passed through
--- config eval
::kpn_downlink_config(dl_timeout => '1s', dl => '400')
--- request eval
::kpn_one_downlink('_log')
--- error_code eval
[200, 400, 200]
--- response_headers eval
["", "Content-Type: application/vnd.kpnthings.actuator.v1.response+json\nX-Downlink-Status: kpn_rejected", ""]
--- response_body eval
["reset\n", '{"message":"malformed downlink"}',
 qr{\A(?:token /token/ok -> tok-\d+\n)?dl /dl/400\?port=2 auth=Bearer tok-\d+ -> 400\n\z}]
--- no_error_log
kpn downlink: token



=== TEST 8: a downlink that times out is 504 upstream_timeout
--- config eval
::kpn_downlink_config(dl_timeout => '1s', dl => 'slow')
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL"]
--- error_code eval
[200, 504]
--- response_headers eval
["", "X-Downlink-Status: upstream_timeout"]
--- response_body eval
["reset\n", qq({"error":"upstream_timeout","message":"the downlink request timed out"}\n)]
--- timeout: 5



=== TEST 9: expiry and the refresh margin: expires_in 4 gives a margin of 2 s
--- config eval
::kpn_downlink_config(dl_timeout => '1s', token => 'short')
--- request eval
["GET /stub/_reset?wait=4.5",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_wait?2.2",
 "POST /downlink\n$::DL",
 "POST /downlink\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 201, 201, 200, 201, 201, 200]
--- response_headers eval
["", "X-Token-Cache: miss", "X-Token-Cache: hit", "", "X-Token-Cache: miss", "X-Token-Cache: hit", ""]
--- response_body eval
["reset\n", ($::QUEUED) x 2, "waited\n", ($::QUEUED) x 2, "tokens=2 downlinks=4\n"]
--- no_error_log
[error]
--- timeout: 10



=== TEST 10: KPN refusing new tokens is said in one log line, without the secret or a token
--- config eval
::kpn_downlink_config(dl_timeout => '1s', dl => '401', extra => 'kpn_token_backoff 2s;')
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- wait: 2.1
--- log_level: info
--- error_log
kpn downlink: KPN refuses new access tokens (401): check the API key's rights and the account; no token fetch for 2 s
kpn downlink: kpn_auth_failed: KPN refused a new access token (401)
--- no_error_log
my-secret
tok-
--- timeout: 5
