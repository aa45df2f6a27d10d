# Without no_shuffle() the blocks run in random order (golden is unordered).
use Test::Nginx::Socket;

plan tests => 2 * blocks();

run_tests();

__DATA__

=== TEST 1: one
--- config
    location = /t { return 200 "1\n"; }
--- request
GET /t
--- response_body
1



=== TEST 2: two
--- config
    location = /t { return 200 "2\n"; }
--- request
GET /t
--- response_body
2



=== TEST 3: three
--- config
    location = /t { return 200 "3\n"; }
--- request
GET /t
--- response_body
3
