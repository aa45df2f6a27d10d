# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# Downlink input: caller authentication (several keys), every validation
# error with its code, and nginx -t failures for each bad directive value.
# Nothing here reaches the token or downlink stand-ins; the stand-in is
# started all the same, for its port: the usual http_config names it.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

kpn_stub_start();

repeat_each(2);
no_shuffle();

# The usual config reads the keys file, allows 4-byte payloads and sets
# X-Downlink-Status.  A block that takes it also gets, unless it sets its
# own, the usual keys file and the check that no key reaches the error log.
our $CONFIG = kpn_downlink_config(keys => '$TEST_NGINX_HTML_DIR/keys',
                                  extra => 'kpn_downlink_max_payload 4;',
                                  headers => ['status']);

our $KEYS = <<'_EOC_';
>>> keys
# downlink keys, one a line
key-old
key-new
_EOC_

our $NO_KEY_IN_LOG = qr/\[(?:info|notice|warn|error)\].*key-(?:new|old)/;

add_block_preprocessor(sub {
    kpn_downlink_defaults(shift, config => $CONFIG, user_files => $KEYS,
                          no_error_log => $NO_KEY_IN_LOG);
});

run_tests();

__DATA__

=== TEST 1: no Authorization header is 401 missing_key
--- skip_eval: 6: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"POST /downlink\n$::DL"
--- error_code: 401
--- response_headers
Content-Type: application/json
X-Downlink-Status: missing_key
--- response_body eval
qq({"error":"missing_key","message":"an \\\"Authorization: Bearer <key>\\\" header is required"}\n)
--- error_log
kpn downlink: missing_key:



=== TEST 2: a Basic Authorization header is 401 missing_key
--- skip_eval: 6: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"POST /downlink\n$::DL"
--- more_headers
Authorization: Basic a2V5LW9sZDo=
--- error_code: 401
--- response_headers
Content-Type: application/json
X-Downlink-Status: missing_key
--- response_body_like: ^\{"error":"missing_key","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: missing_key:



=== TEST 3: a wrong key is 401 bad_key
--- skip_eval: 6: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- request eval
"POST /downlink\n$::DL"
--- more_headers
Authorization: Bearer key-older
--- error_code: 401
--- response_headers
Content-Type: application/json
X-Downlink-Status: bad_key
--- response_body eval
qq({"error":"bad_key","message":"the bearer key is not valid"}\n)
--- error_log
kpn downlink: bad_key:



=== TEST 4: GET is 405 method_not_allowed
--- request eval
"GET /downlink"
--- more_headers
Authorization: Bearer key-new
--- error_code: 405
--- response_headers
Content-Type: application/json
X-Downlink-Status: method_not_allowed
--- response_body eval
qq({"error":"method_not_allowed","message":"method GET is not allowed, use POST"}\n)
--- error_log
kpn downlink: method_not_allowed:



=== TEST 5: an empty body is 400 invalid_json
--- request eval
"POST /downlink\n" . ''
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_json
--- response_body eval
qq({"error":"invalid_json","message":"the body is empty"}\n)
--- error_log
kpn downlink: invalid_json:



=== TEST 6: a JSON syntax error is 400 invalid_json with line and column
--- request eval
"POST /downlink\n" . '{"devEUI":'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_json
--- response_body_like: ^\{"error":"invalid_json","message":"line 1 column \d+: [^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_json: line 1 column



=== TEST 7: a JSON array is 400 invalid_json
--- request eval
"POST /downlink\n" . '[1,2]'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_json
--- response_body eval
qq({"error":"invalid_json","message":"the body must be a JSON object"}\n)
--- error_log
kpn downlink: invalid_json:



=== TEST 8: duplicate keys are 400 invalid_json
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","devEUI":"0059ac00001b3462","port":2,"payload":"0a"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_json
--- response_body_like: ^\{"error":"invalid_json","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_json:



=== TEST 9: a missing devEUI is 400 invalid_dev_eui
--- request eval
"POST /downlink\n" . '{"port":2,"payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_dev_eui
--- response_body eval
qq({"error":"invalid_dev_eui","message":"\\\"devEUI\\\" must be a string of 16 hex digits"}\n)
--- error_log
kpn downlink: invalid_dev_eui:



=== TEST 10: a 15-digit devEUI is 400 invalid_dev_eui
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b346","port":2,"payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_dev_eui
--- response_body_like: ^\{"error":"invalid_dev_eui","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_dev_eui:



=== TEST 11: a non-hex devEUI is 400 invalid_dev_eui
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b346g","port":2,"payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_dev_eui
--- response_body_like: ^\{"error":"invalid_dev_eui","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_dev_eui:



=== TEST 12: a numeric devEUI is 400 invalid_dev_eui
--- request eval
"POST /downlink\n" . '{"devEUI":1234567890123456,"port":2,"payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_dev_eui
--- response_body_like: ^\{"error":"invalid_dev_eui","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_dev_eui:



=== TEST 13: port 0 is 400 invalid_port
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":0,"payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_port
--- response_body eval
qq({"error":"invalid_port","message":"\\\"port\\\" must be an integer from 1 to 223"}\n)
--- error_log
kpn downlink: invalid_port:



=== TEST 14: port 224 is 400 invalid_port
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":224,"payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_port
--- response_body_like: ^\{"error":"invalid_port","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_port:



=== TEST 15: port 2.5 is 400 invalid_port
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2.5,"payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_port
--- response_body_like: ^\{"error":"invalid_port","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_port:



=== TEST 16: a string port is 400 invalid_port
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":"2","payload":"0a0b"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_port
--- response_body_like: ^\{"error":"invalid_port","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_port:



=== TEST 17: a missing payload is 400 invalid_payload
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_payload
--- response_body eval
qq({"error":"invalid_payload","message":"\\\"payload\\\" must be a hex string"}\n)
--- error_log
kpn downlink: invalid_payload:



=== TEST 18: an odd-length payload is 400 invalid_payload
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_payload
--- response_body eval
qq({"error":"invalid_payload","message":"\\\"payload\\\" must be a non-empty hex string of even length"}\n)
--- error_log
kpn downlink: invalid_payload:



=== TEST 19: an empty payload is 400 invalid_payload
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":""}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_payload
--- response_body_like: ^\{"error":"invalid_payload","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_payload:



=== TEST 20: a non-hex payload is 400 invalid_payload
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":"zz"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_payload
--- response_body_like: ^\{"error":"invalid_payload","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_payload:



=== TEST 21: a payload above kpn_downlink_max_payload is 400 invalid_payload
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b0c0d0e"}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_payload
--- response_body eval
qq({"error":"invalid_payload","message":"\\\"payload\\\" is 5 bytes, at most 4 are allowed"}\n)
--- error_log
kpn downlink: invalid_payload:



=== TEST 22: a non-string externalReference is 400 invalid_json
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a","externalReference":7}'
--- more_headers
Authorization: Bearer key-new
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: invalid_json
--- response_body_like: ^\{"error":"invalid_json","message":"[^"]+.*"\}\n$
--- error_log
kpn downlink: invalid_json:



=== TEST 23: both keys of the keys file are accepted (rotation)
--- user_files
>>> keys
key-old
key-new
--- request eval
["POST /downlink\n{\"devEUI\":\"0059ac00001b3461\",\"port\":2,\"payload\":\"0a0b\"}", "POST /downlink\n{\"devEUI\":\"0059ac00001b3461\",\"port\":2,\"payload\":\"0a0b\"}"]
--- more_headers eval
["Authorization: Bearer key-old", "Authorization: Bearer key-new"]
--- error_code eval
[201, 201]
--- response_headers eval
["X-Downlink-Status: ok", "X-Downlink-Status: ok"]
--- no_error_log
[error]



=== TEST 24: nginx -t fails: kpn_downlink without kpn_downlink_keys
--- config
    location = /downlink {
        kpn_downlink zone=kpn; kpn_client_id a; kpn_client_secret b; kpn_token_uri /t; kpn_downlink_uri /d;
    }
--- must_die
--- error_log
"kpn_downlink" requires "kpn_downlink_keys"



=== TEST 25: nginx -t fails: kpn_downlink without kpn_client_id
--- config
    location = /downlink {
        kpn_downlink zone=kpn; kpn_downlink_keys off; kpn_client_secret b; kpn_token_uri /t; kpn_downlink_uri /d;
    }
--- must_die
--- error_log
"kpn_downlink" requires "kpn_client_id"



=== TEST 26: nginx -t fails: kpn_downlink without a client secret
--- config
    location = /downlink {
        kpn_downlink zone=kpn; kpn_downlink_keys off; kpn_client_id a; kpn_token_uri /t; kpn_downlink_uri /d;
    }
--- must_die
--- error_log
"kpn_downlink" requires "kpn_client_secret" or "kpn_client_secret_file"



=== TEST 27: nginx -t fails: kpn_downlink without kpn_token_uri
--- config
    location = /downlink {
        kpn_downlink zone=kpn; kpn_downlink_keys off; kpn_client_id a; kpn_client_secret b; kpn_downlink_uri /d;
    }
--- must_die
--- error_log
"kpn_downlink" requires "kpn_token_uri"



=== TEST 28: nginx -t fails: kpn_downlink without kpn_downlink_uri
--- config
    location = /downlink {
        kpn_downlink zone=kpn; kpn_downlink_keys off; kpn_client_id a; kpn_client_secret b; kpn_token_uri /t;
    }
--- must_die
--- error_log
"kpn_downlink" requires "kpn_downlink_uri"



=== TEST 29: nginx -t fails: an unknown zone
--- config
    location = /downlink {
        kpn_downlink zone=other; kpn_downlink_keys off; kpn_client_id a; kpn_client_secret b; kpn_token_uri /t; kpn_downlink_uri /d;
    }
--- must_die
--- error_log
unknown kpn_token_zone "other"



=== TEST 30: nginx -t fails: kpn_downlink without its zone says what is missing
--- config
    location = /downlink {
        kpn_downlink;
    }
--- must_die
--- error_log
"kpn_downlink" needs a zone: it takes the kpn_token_zone of the access tokens, "kpn_downlink zone=NAME;"



=== TEST 31: nginx -t fails: kpn_downlink with two parameters
--- config
    location = /downlink {
        kpn_downlink zone=kpn zone=other;
    }
--- must_die
--- error_log
"kpn_downlink" takes one parameter: it takes the kpn_token_zone of the access tokens, "kpn_downlink zone=NAME;"



=== TEST 32: nginx -t fails: a bad kpn_downlink parameter
--- config
    location = /downlink {
        kpn_downlink kpn;
    }
--- must_die
--- error_log
"kpn_downlink": invalid parameter "kpn"



=== TEST 33: nginx -t fails: a missing keys file
--- config
    location = /downlink {
        kpn_downlink zone=kpn; kpn_downlink_keys /nonexistent/keys;
    }
--- must_die
--- error_log
"kpn_downlink_keys": cannot open "/nonexistent/keys"



=== TEST 34: nginx -t fails: an empty client secret
--- config
    location = /downlink {
        kpn_client_secret "";
    }
--- must_die
--- error_log
"kpn_client_secret" directive must not be empty



=== TEST 35: nginx -t fails: an empty client id
--- config
    location = /downlink {
        kpn_client_id "";
    }
--- must_die
--- error_log
"kpn_client_id" directive must not be empty



=== TEST 36: nginx -t fails: an empty audience
--- config
    location = /downlink {
        kpn_audience "";
    }
--- must_die
--- error_log
"kpn_audience" directive must not be empty



=== TEST 37: nginx -t fails: both kpn_client_secret and kpn_client_secret_file
--- config
    location = /downlink {
        kpn_client_secret a; kpn_client_secret_file /etc/hostname;
    }
--- must_die
--- error_log
"kpn_client_secret_file" directive is duplicate



=== TEST 38: nginx -t fails: a missing client secret file
--- config
    location = /downlink {
        kpn_client_secret_file /nonexistent/secret;
    }
--- must_die
--- error_log
"kpn_client_secret_file": cannot open "/nonexistent/secret"



=== TEST 39: nginx -t fails: a bad kpn_token_refresh
--- config
    location = /downlink {
        kpn_token_refresh soon;
    }
--- must_die
--- error_log
"kpn_token_refresh" directive invalid value



=== TEST 40: nginx -t fails: a bad kpn_token_backoff
--- config
    location = /downlink {
        kpn_token_backoff -1;
    }
--- must_die
--- error_log
"kpn_token_backoff" directive invalid value



=== TEST 41: nginx -t fails: a bad kpn_token_lock_timeout
--- config
    location = /downlink {
        kpn_token_lock_timeout x;
    }
--- must_die
--- error_log
"kpn_token_lock_timeout" directive invalid value



=== TEST 42: nginx -t fails: a token URI that is not local
--- config
    location = /downlink {
        kpn_token_uri https://auth.grip-on-it.com/token;
    }
--- must_die
--- error_log
is not a local URI



=== TEST 43: nginx -t fails: a downlink URI that is not local
--- config
    location = /downlink {
        kpn_downlink_uri api/downlinks;
    }
--- must_die
--- error_log
is not a local URI



=== TEST 44: nginx -t fails: kpn_downlink_max_payload 0
--- config
    location = /downlink {
        kpn_downlink_max_payload 0;
    }
--- must_die
--- error_log
"kpn_downlink_max_payload" must be between 1 and 242



=== TEST 45: nginx -t fails: kpn_downlink_max_payload 243
--- config
    location = /downlink {
        kpn_downlink_max_payload 243;
    }
--- must_die
--- error_log
"kpn_downlink_max_payload" must be between 1 and 242



=== TEST 46: nginx -t fails: a kpn_token_zone without zone=
--- http_config
    kpn_token_zone kpn:1m;
--- config
--- must_die
--- error_log
"kpn_token_zone": invalid parameter "kpn:1m"



=== TEST 47: nginx -t fails: a kpn_token_zone without a size
--- http_config
    kpn_token_zone zone=kpn;
--- config
--- must_die
--- error_log
"kpn_token_zone": invalid zone size "zone=kpn"



=== TEST 48: nginx -t fails: a kpn_token_zone with a bad size
--- http_config
    kpn_token_zone zone=kpn:lots;
--- config
--- must_die
--- error_log
"kpn_token_zone": invalid zone "zone=kpn:lots"



=== TEST 49: nginx -t fails: a kpn_token_zone that is too small
--- http_config
    kpn_token_zone zone=kpn:4k;
--- config
--- must_die
--- error_log
"kpn_token_zone": zone "zone=kpn:4k" is too small



=== TEST 50: nginx -t fails: a kpn_token_zone declared twice
--- http_config
    kpn_token_zone zone=kpn:1m; kpn_token_zone zone=kpn:1m;
--- config
--- must_die
--- error_log
zone "kpn" is already declared



=== TEST 51: keys of two files and different lengths are all accepted (kept as digests); a prefix or an extension of a key is bad_key
--- skip_eval: 10: $ENV{TEST_NGINX_USE_HTTP2}  # HTTP/2: nginx answers before the body and resets the stream, which curl 7.88 reports as error 92 (as for a plain "return 415")
--- config eval
my $c = $::CONFIG;
$c =~ s{(kpn_downlink_keys \S+;)}{$1\n        kpn_downlink_keys \$TEST_NGINX_HTML_DIR/more.keys;} or die;
$c
--- user_files eval
$::KEYS . ">>> more.keys\n#A-Much-Longer-Key-0123456789-abcdefghijklmnopqrstuvwxyz\n"
--- request eval
["POST /downlink\n{", "POST /downlink\n{", "POST /downlink\n{", "POST /downlink\n{", "POST /downlink\n{"]
--- more_headers eval
["Authorization: Bearer key-old", "Authorization: Bearer #A-Much-Longer-Key-0123456789-abcdefghijklmnopqrstuvwxyz",
 "Authorization: Bearer key-ol", "Authorization: Bearer key-new2",
 "Authorization: Bearer #A-Much-Longer-Key-0123456789-abcdefghijklmnopqrstuvwxy"]
--- error_code eval
[400, 400, 401, 401, 401]
--- response_headers eval
["X-Downlink-Status: invalid_json", "X-Downlink-Status: invalid_json", "X-Downlink-Status: bad_key",
 "X-Downlink-Status: bad_key", "X-Downlink-Status: bad_key"]
