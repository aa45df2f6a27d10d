# Self-test fixture of the compat runner: every assertion here must pass, and
# the plan must match exactly what the contract (docs/testing.md, "Assertions")
# says each section counts.  Expected TAP: pass.golden.
use Test::Nginx::Socket;

repeat_each(2);

# per iteration: 3+2+6+8+3+2+3+3+4+1+2+2+2+1+2+1+2 = 47; shutdown_error_log: 1 per block
plan tests => repeat_each() * 47 + 1;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: plain body, default status 200
--- config
    location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: request body trimmed, header order, Content-Length rule
--- config
    location = /t {
        return 200 "cl=$content_length a=$http_x_a conn=$http_connection host=$http_host\n";
    }
--- more_headers
X-A: 1
# a comment line is skipped
--- request
POST /t
  hello world  

--- response_body
cl=11 a=1 conn=close host=localhost
--- error_code: 200



=== TEST 3: duplicate headers, !Header, empty expected value, exact value
--- config
    location = /t {
        add_header X-Dup a;
        add_header X-Dup b;
        return 200 "ok\n";
    }
--- request
GET /t
--- response_headers
X-Dup: a, b
!X-Absent
X-Absent2:
Content-Type: text/plain
--- response_body_like: ^ok$



=== TEST 4: two requests: status, body and two no_error_log patterns after each
--- config
    location = /a { return 200 "a\n"; }
    location = /b { return 404; }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^a\n\$", "404 Not Found"]
--- no_error_log
[error]
[alert]



=== TEST 5: error_log literal and grep_error_log with a regex
--- config
    location = /t { return 200 "x\n"; }
--- request
GET /t?foo=bar
--- error_log
http args: "foo=bar"
--- grep_error_log eval: qr/http args: "[^"]*"/
--- grep_error_log_out
http args: "foo=bar"



=== TEST 6: HEAD has an empty body; config inherited from the previous block
--- request
HEAD /t
--- response_body



=== TEST 7: user_files under the html dir, chunked response is de-chunked
--- config
    location = /f.txt {
        root html;
        sub_filter_types *;
        sub_filter 'foo' 'bar';
    }
--- user_files
>>> f.txt
foo file
--- request
GET /f.txt
--- response_headers
Transfer-Encoding: chunked
--- response_body
bar file



=== TEST 8: error_code_like, response_headers_like (anchored), raw_response_headers_like
--- config
    location = /t { return 302 /elsewhere; }
--- request
GET /t
--- error_code_like: ^30[12]$
--- response_headers_like
Location: http://localhost:\d+/elsewhere
--- raw_response_headers_like: Server: nginx



=== TEST 9: pipelined requests on one connection
--- config
    location = /p { return 200 "p$arg_n\n"; }
--- pipelined_requests eval
["GET /p?n=1", "GET /p?n=2"]
--- response_body eval
["p1\n", "p2\n"]



=== TEST 10: timeout with abort: no extra failure, ignore_response: no status check
--- config
    location = /slow { limit_rate 1; return 200 "a slow body that will not finish in time"; }
--- request
GET /slow
--- timeout: 200ms
--- abort
--- ignore_response
--- no_error_log
[error]



=== TEST 11: raw_request bytes as given
--- config
    location = /t { return 200 "raw $server_protocol $http_host\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: raw.example\r\n\r\n"
--- response_body
raw HTTP/1.0 raw.example



=== TEST 12: $TEST_NGINX_RAND_PORT_1 mock upstream in http_config
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "mock $request_uri\n"; }
    }
--- config
    location = /up { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/m; }
--- request
GET /up
--- response_body
mock /m



=== TEST 13: --- init runs Perl before the requests
--- init
open my $fh, '>', "$ENV{TEST_NGINX_SERVER_ROOT}/html/init.txt" or die $!;
print $fh "from init\n";
close $fh;
--- config
    location = /init.txt { root html; }
--- request
GET /init.txt
--- response_body
from init



=== TEST 14: shutdown_error_log is checked once per block, after the stop
--- config
    location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- shutdown_error_log
signal 3 (SIGQUIT) received



=== TEST 15: must_die with error_log
--- config
    location = /t { no_such_directive_xyz; }
--- must_die
--- suppress_stderr
--- error_log
unknown directive "no_such_directive_xyz"



=== TEST 16: must_die with an exit code
--- config
    location = /t { return 200 "$no_such_variable_xyz"; }
--- must_die: 1
--- suppress_stderr



=== TEST 17: skip_eval skips N assertions per iteration
--- skip_eval: 2: 1
--- config
    location = /t { return 200; }
--- request
GET /t
--- response_body
