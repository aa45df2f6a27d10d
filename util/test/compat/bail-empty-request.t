# An empty request means Bail out.
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: empty request
--- config
    location = /t { return 200; }
--- request
