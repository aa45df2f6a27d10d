# The compat runner is stricter than the real framework: an unknown section
# (here the classic typo "--- response") means Bail out naming the section.
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: typo
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response
ok
