# Modes the compat runner does not implement skip the file with a reason.
use Test::Nginx::Socket;

plan tests => 1;

run_tests();

__DATA__

=== TEST 1: never run
--- config
    location = /t { return 200; }
--- request
GET /t
