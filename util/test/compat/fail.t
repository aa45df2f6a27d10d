# Self-test fixture of the compat runner: deliberately failing blocks.  A
# runner that cannot fail is worthless: fail.golden lists the exact `not ok`
# lines these blocks must produce (and the `ok` lines around them).
use Test::Nginx::Socket;

repeat_each(1);

# 28 planned; the timeout of TEST 6 adds one failing assertion outside the plan
plan tests => 28;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: wrong body
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
goodbye



=== TEST 2: wrong status code
--- request
GET /t
--- error_code: 404



=== TEST 3: wrong header value, !Header present, empty expectation but present
--- config
    location = /t {
        add_header X-Dup a;
        add_header X-Dup b;
        add_header X-Here yes;
        add_header X-Here2 yes;
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers
X-Dup: a
!X-Here
X-Here2:
--- response_body_like: ^nope



=== TEST 4: no_error_log: one failure per matching line, after every request
--- config
    location = /r {
        rewrite_log on;
        rewrite ^/r$ /t;
    }
    location = /t { return 200 "t\n"; }
--- request eval
["GET /r", "GET /t"]
--- no_error_log
request: "GET /r
rewritten data



=== TEST 5: error_log pattern that never shows up
--- request
GET /t
--- error_log
this line is never logged
qr/never/ stays literal here



=== TEST 6: timeout without abort: one extra failing assertion
--- config
    location = /slow { limit_rate 1; return 200 "a slow body that will not finish in time"; }
--- request
GET /slow
--- timeout: 200ms



=== TEST 7: must_die on a config that starts
--- config
    location = /t { return 200; }
--- must_die
--- error_log
[emerg]



=== TEST 8: grep_error_log_out mismatch
--- config
    location = /t { return 200 "x\n"; }
--- request
GET /t?a=1
--- grep_error_log eval: qr/http args: "[^"]*"/
--- grep_error_log_out
http args: "a=2"



=== TEST 9: response_headers_like is anchored, raw_response_headers_unlike
--- request
GET /t
--- response_headers_like
Content-Type: plain
--- raw_response_headers_unlike: Server: nginx



=== TEST 10: HEAD body is empty, so a non-empty expectation fails
--- request
HEAD /t
--- response_body
x
