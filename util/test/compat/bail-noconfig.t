# The first block must have a --- config section.
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: no config
--- request
GET /t
