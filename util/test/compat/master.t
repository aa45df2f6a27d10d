# master_on() + workers(2): master process mode with two workers.
use Test::Nginx::Socket;

master_on();
workers(2);
repeat_each(2);

plan tests => repeat_each() * (3 * blocks()) + 1;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: two workers started by a master
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- grep_error_log eval: qr/start worker process(?= \d+)/
--- grep_error_log_out eval
["start worker process\nstart worker process\n", ""]



=== TEST 2: graceful shutdown of the master
--- config
    location = /t { return 200 "ok2\n"; }
--- request
GET /t
--- response_body
ok2
--- no_error_log
[alert]
--- shutdown_error_log
gracefully shutting down
