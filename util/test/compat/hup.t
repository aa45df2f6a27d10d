# TEST_NGINX_USE_HUP=1: one master, configuration reloaded with SIGHUP per
# block; each block must see its own configuration.
use Test::Nginx::Socket;

plan tests => 2 * blocks() + 1;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: first config
--- config
    location = /t { return 200 "first\n"; }
--- request
GET /t
--- response_body
first



=== TEST 2: second config after the reload
--- config
    location = /t { return 200 "second\n"; }
--- request
GET /t
--- response_body
second



=== TEST 3: third config, error log window starts after the reload
--- config
    location = /t { return 200 "third\n"; }
--- request
GET /t
--- response_body
third
--- no_error_log
[emerg]
