# TEST_NGINX_LOAD_MODULES: load_module lines come first in the main context,
# before --- main_config (which uses the loaded stream module here).
use Test::Nginx::Socket;

plan tests => 3;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: stream module from TEST_NGINX_LOAD_MODULES serves a mock upstream
--- main_config
    stream {
        server {
            listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
            return "HTTP/1.0 200 OK\r\nX-Mock: stream\r\nContent-Length: 12\r\n\r\nfrom stream\n";
        }
    }
--- config
    location = /t { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
--- request
GET /t
--- response_headers
X-Mock: stream
--- response_body
from stream
