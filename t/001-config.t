# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Configuration errors of the uplink directives fail at start (nginx -t).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;

repeat_each(2);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} = html_dir();

run_tests();

__DATA__

=== TEST 1: kpn_uplink without any secret
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_device_type dragino-lds01 wasd2;
        return 204;
    }
--- must_die
--- error_log
"kpn_uplink" requires "kpn_uplink_secret_file" or "kpn_uplink_secret"



=== TEST 2: secret file that does not exist
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret_file /nonexistent/kpn.secrets;
        kpn_device_type dragino-lds01 wasd2;
        return 204;
    }
--- must_die
--- error_log
"kpn_uplink_secret_file": cannot open "/nonexistent/kpn.secrets"



=== TEST 3: secret file with no entry (blank lines and comments only)
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret_file $TEST_NGINX_HTML_DIR/empty.secrets;
        kpn_device_type dragino-lds01 wasd2;
        return 204;
    }
--- user_files
>>> empty.secrets
# rotated out

--- must_die
--- error_log
empty.secrets" holds only comments and blank lines



=== TEST 4: hash id that is not lower-case alphanumeric
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t;
        kpn_device_type dragino-lds01 WASD-2;
        return 204;
    }
--- must_die
--- error_log
invalid Withthegrid hash id "WASD-2" in "kpn_device_type", expected lower-case letters and digits



=== TEST 5: the same device type twice
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t;
        kpn_device_type dragino-lds01 wasd2;
        kpn_device_type dragino-lds01 4djrvd;
        return 204;
    }
--- must_die
--- error_log
duplicate device type "dragino-lds01" in "kpn_device_type"



=== TEST 6: unknown output format
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t;
        kpn_device_type dragino-lds01 wasd2;
        kpn_uplink_format xml;
        return 204;
    }
--- must_die
--- error_log
invalid value "xml"



=== TEST 7: envelope format without any device type
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t;
        return 204;
    }
--- must_die
--- error_log
"kpn_uplink" with "kpn_uplink_format envelope" requires at least one "kpn_device_type"



=== TEST 8: bad device-type header name
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t;
        kpn_device_type dragino-lds01 wasd2;
        kpn_device_type_header "device type";
        return 204;
    }
--- must_die
--- error_log
invalid header name "device type" in "kpn_device_type_header"



=== TEST 9: kpn_uplink takes on or off
--- config
    location = /kpn/uplink {
        kpn_uplink yes;
    }
--- must_die
--- error_log
invalid value "yes" in "kpn_uplink" directive, it must be "on" or "off"



=== TEST 10: kpn_uplink is not allowed at server level
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        kpn_uplink on;
    }
--- config
--- must_die
--- error_log
"kpn_uplink" directive is not allowed here



=== TEST 11: a valid configuration at every level starts, secrets never logged
--- http_config
    kpn_uplink_secret_file $TEST_NGINX_HTML_DIR/kpn.secrets;
    kpn_device_type dragino-lds01 wasd2;
    kpn_device_type_header X-Device-Type;
--- config
    kpn_uplink_format senml;
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_format envelope;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/t;
    }
    location = /t {
        return 200 "started\n";
    }
--- user_files
>>> kpn.secrets
# current
  Example-Secret-0123456789-abcdefGH!  
Older-Secret-0123456789-abcdefGH!xyz
--- request
GET /t
--- response_body
started
--- no_error_log
Example-Secret
[emerg]



=== TEST 12: an empty kpn_uplink_secret (a constant that can never match)
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret "";
        kpn_device_type dragino-lds01 wasd2;
        return 204;
    }
--- must_die
--- error_log
empty secret in "kpn_uplink_secret"



=== TEST 13: a secret file larger than 1m is refused
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret_file $TEST_NGINX_HTML_DIR/huge.secrets;
        kpn_device_type dragino-lds01 wasd2;
        return 204;
    }
--- user_files eval
">>> huge.secrets\n" . ("Example-Secret-0123456789-abcdefGH!\n" x 30000)
--- must_die
--- error_log
huge.secrets" is larger than 1m



=== TEST 14: kpn_uplink_max_records takes a positive number
--- config
    location = /kpn/uplink {
        kpn_uplink on;
        kpn_uplink_secret "Example-Secret-0123456789-abcdefGH!";
        kpn_device_type dragino-lds01 wasd2;
        kpn_uplink_max_records 0;
        return 204;
    }
--- must_die
--- error_log
"kpn_uplink_max_records" directive must be at least 1
