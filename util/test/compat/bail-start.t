# nginx that cannot start (here: the location / clash of contract gotcha 1)
# means Bail out, never a silent pass.
use Test::Nginx::Socket 'no_plan';
no_shuffle();
run_tests();

__DATA__

=== TEST 1: duplicate location /
--- config
    location / { return 200; }
--- request
GET /
