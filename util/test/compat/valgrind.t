# TEST_NGINX_USE_VALGRIND=1: nginx runs under valgrind (daemon off, child of
# the runner) with the repo's valgrind.suppress; the driver checks that no
# ==PID== report line reaches stderr for core-only configurations.
use Test::Nginx::Socket;

repeat_each(2);

plan tests => repeat_each() * 2 * blocks();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: return
--- config
    location = /t { return 200 "vg\n"; }
--- request
GET /t
--- response_body
vg



=== TEST 2: proxy to a mock upstream
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location / { return 200 "mock\n"; }
    }
--- config
    location = /t { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
--- request
GET /t
--- response_body
mock
