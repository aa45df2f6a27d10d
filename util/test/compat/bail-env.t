# An undefined $TEST_NGINX_* variable in a section means Bail out.
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: fine
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok



=== TEST 2: undefined variable
--- config
    location = /t { return 200 "$TEST_NGINX_COMPAT_SELFTEST_UNDEFINED"; }
--- request
GET /t



=== TEST 3: never reached
--- request
GET /t
