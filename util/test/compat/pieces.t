# Self-test fixture: request pieces as the real framework writes them
# (docs/testing.md, "Request bytes").
#  - the first piece is written at once: its delay_before is not honoured
#    (TEST 1 would otherwise run into client_header_timeout);
#  - a later piece's delay_before is (TEST 2 runs into client_body_timeout:
#    nginx closes the connection without an answer);
#  - a hash-form piece gets the spliced headers written back into it, so the
#    second repeat_each iteration sends them again inside the body: TEST 3
#    passes once and fails once, on purpose.
use Test::Nginx::Socket;

repeat_each(2);

plan tests => repeat_each() * 2 * blocks();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the first piece goes at once, whatever its delay_before
--- config
    client_header_timeout 1s;
    location = /t { return 200 "ok\n"; }
--- request eval
[[{value => "GET /t", delay_before => 2}]]
--- response_body
ok



=== TEST 2: a later piece waits for its delay_before
--- config
    client_body_timeout 1s;
    location = /t { proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ok; }
    location = /ok { return 200 "ok\n"; }
--- request eval
[["POST /t\nhel", {value => "lo", delay_before => 2}]]
--- error_code eval
""
--- response_body_like: ^$
--- abort
--- timeout: 5



=== TEST 3: a hash-form first piece carries the headers of the first iteration into the second
--- config
    location = /t { return 200 "$content_length\n"; }
--- request eval
[[{value => "POST /t\nhello"}]]
--- response_body
5
