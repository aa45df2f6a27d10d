# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The downlink request as configuration (docs/directives.md, docs/kpn-api.md):
# the default is the Beta API's request byte for byte; kpn_downlink_body,
# kpn_downlink_header and the arguments of kpn_downlink_uri send exactly what
# they say; the $kpn_downlink_* variables hold the validated input only, each
# inside its JSON string whatever the input; a template that asks for an
# input the caller did not send refuses the request; unknown fields and a bad
# deviceId are refused; KPN's 403 is passed through without a token fetch.
#
# The stand-in (t/lib/KPNDownlink.pm) hands out "tok-fixed"; every iteration
# starts with GET /stub/_reset, and the token is fetched in the first
# iteration only (the cache survives between iterations), so the token
# request is optional in the raw bytes.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

repeat_each(2);
no_shuffle();

kpn_stub_start();

# the usual config with the fixed token and X-Downlink-Status; uri replaces
# the kpn_downlink_uri of the location; the other options are those of
# kpn_downlink_config
sub cfg {
    my (%o) = @_;
    my $uri = delete $o{uri};
    # the caller's refused input at info (kpn_reject_log_level, t/009), so
    # that no_error_log [error] catches a real failure
    my $c = "    kpn_reject_log_level info;\n"
        . kpn_downlink_config(token => 'fixed', headers => ['status'], %o);
    if (defined $uri) {
        $c =~ s{kpn_downlink_uri /_kpn/downlinks;}{kpn_downlink_uri $uri;}
            or die "cfg: no kpn_downlink_uri\n";
    }
    return $c;
}

# the default headers (the Beta API's)
our @BETA = ('Accept: application/vnd.kpnthings.actuator.v1.response+json',
             'Content-Type: application/json');

# the token request of the usual credentials
our $TOKEN_RAW = qr{\QPOST /token/fixed \E$PROXY_HTTP\r\n\QHost: stub\E\r\n$PROXY_CONN\QContent-Length: 137\E\r\n\QContent-Type: application/json; charset=utf-8\E\r\n\r\n\Q{"grant_type":"client_credentials","audience":"4dc82561-f65f-523g-dek9-6c79ec314f02","client_id":"my-client","client_secret":"my-secret"}\E};

# the usual default body for the devEUI of $DL and a payload
sub beta_body {
    my ($payload) = @_;
    return qq([{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payloadHex","vs":"$payload"}]);
}

# a downlink body with the usual fields and more ($extra: JSON members)
sub dl_with {
    my ($extra) = @_;
    return '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b",' . $extra . '}';
}

# an externalReference with quotes, backslashes, control characters, DEL,
# characters beyond ASCII (escaped and raw UTF-8, U+2028, one beyond U+FFFF)
# and the delimiters of a query string
our $HOSTILE_REF = '"externalReference":"q\"b\\\\s\n\t\u0001\u007f\u00e9\u2028\ud83d\ude00 </x> &=%#?' . "\xc3\xa9" . '"';
our $HOSTILE_JSON = 'q\"b\\\\s\n\t\u0001\u007f\u00e9\u2028\ud83d\ude00 </x> &=%#?\u00e9';
our $HOSTILE_ARG = 'q%22b%5Cs%0A%09%01%7F%C3%A9%E2%80%A8%F0%9F%98%80%20%3C%2Fx%3E%20%26%3D%25%23%3F%C3%A9';

# http_config with the usual zone and upstream and a map of device ids
our $MAP_HTTP_CONFIG = $KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_';
    map $kpn_downlink_dev_eui $kpn_device_uuid {
        0059AC00001B3461  F24108FA-D102-40FF-8263-F8D46908A386;
        0059AC00001B3462  not-a-uuid;
    }
_EOC_

our $NOTHING_SENT = qr/\Atokens=0 downlinks=0\n\z/;

add_block_preprocessor(sub {
    kpn_downlink_defaults(shift, config => cfg());
});

run_tests();

__DATA__

=== TEST 1: the default request is the Beta API's, byte for byte: URI and arguments, headers, body
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":10,"payload":"0A0b","externalReference":"cmd 7&x=1"}',
 "GET /stub/_raw"]
--- error_code eval
[200, 201, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE, $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/ok?port=2', ::beta_body('0a0b'), @::BETA),
       ::kpn_dl_raw('/dl/ok?port=10&externalReference=cmd%207%26x%3D1', ::beta_body('0A0b'), @::BETA))]
--- no_error_log
[error]



=== TEST 2: a custom body, headers and arguments are sent exactly as the templates say
--- config eval
::cfg(uri => '/_kpn/downlinks?port=$kpn_downlink_port&dev=$kpn_downlink_dev_eui&fixed=1',
      extra => [q{kpn_downlink_body '{"device":"$kpn_downlink_dev_eui","port":$kpn_downlink_port,"hex":"$kpn_downlink_payload","b64":"$kpn_downlink_payload_base64"}';},
                'kpn_downlink_header Accept application/json;',
                'kpn_downlink_header X-Api-Version 2;',
                'kpn_downlink_header X-Port $kpn_downlink_port;'])
--- request eval
::kpn_one_downlink('_raw')
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/ok?port=2&dev=0059AC00001B3461&fixed=1',
                '{"device":"0059AC00001B3461","port":2,"hex":"0a0b","b64":"Cgs="}',
                'Accept: application/json', 'Content-Type: application/json',
                'X-Api-Version: 2', 'X-Port: 2'))]
--- no_error_log
[error]



=== TEST 3: kpn_downlink_header: a level without it inherits the list; a list starts from the defaults; an empty value is not sent
--- config eval
"    kpn_downlink_header X-Level server;\n"
. ::kpn_downlink_location(headers => ['status'])
. ::kpn_downlink_location(location => '= /downlink2', headers => ['status'],
      extra => ['kpn_downlink_header Accept "";',
                'kpn_downlink_header Content-Type "application/json; charset=utf-8";',
                'kpn_downlink_header X-Caller $http_x_caller;',
                'kpn_downlink_header X-Empty $http_x_nothing;'])
. ::kpn_stub_locations(token => 'fixed')
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "POST /downlink2\n$::DL", "GET /stub/_raw"]
--- more_headers eval
["", "", "X-Caller: c1", ""]
--- error_code eval
[200, 201, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE, $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/ok?port=2', ::beta_body('0a0b'), @::BETA, 'X-Level: server'),
       ::kpn_dl_raw('/dl/ok?port=2', ::beta_body('0a0b'),
                'Content-Type: application/json; charset=utf-8', 'X-Caller: c1'))]
--- no_error_log
[error]



=== TEST 4: a hostile externalReference stays inside its JSON string (body and header) and its query argument
--- config eval
::cfg(uri => '/_kpn/downlinks?ref=$kpn_downlink_reference_arg',
      extra => [q{kpn_downlink_body '{"ref":"$kpn_downlink_reference","arg":"$kpn_downlink_reference_arg"}';},
                'kpn_downlink_header X-Ref $kpn_downlink_reference;'])
--- request eval
["GET /stub/_reset", "POST /downlink\n" . ::dl_with($::HOSTILE_REF), "GET /stub/_raw"]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw("/dl/ok?ref=$::HOSTILE_ARG",
                qq({"ref":"$::HOSTILE_JSON","arg":"$::HOSTILE_ARG"}),
                @::BETA, "X-Ref: $::HOSTILE_JSON"))]
--- no_error_log
[error]



=== TEST 5: hostile devEUI, port, payload and deviceId are refused before any template: nothing reaches KPN
--- config eval
::cfg(uri => '/_kpn/downlinks?id=$kpn_downlink_device_id',
      extra => [q{kpn_downlink_body '{"eui":"$kpn_downlink_dev_eui","port":$kpn_downlink_port,"hex":"$kpn_downlink_payload","id":"$kpn_downlink_device_id"}';}])
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . '{"devEUI":"0059ac00001b346\"","port":2,"payload":"0a0b"}',
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":"2,\"x\":1","payload":"0a0b"}',
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a\"}"}',
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b","deviceId":"f24108fa-d102-40ff-8263-f8d46908a3\"}"}',
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b","deviceId":"f24108fa-d102-40ff-8263-f8d46908a3\u00e9"}',
 "GET /stub/_count"]
--- error_code eval
[200, 400, 400, 400, 400, 400, 200]
--- response_headers eval
["", "X-Downlink-Status: invalid_dev_eui", "X-Downlink-Status: invalid_port",
 "X-Downlink-Status: invalid_payload", "X-Downlink-Status: invalid_device_id",
 "X-Downlink-Status: invalid_device_id", ""]
--- response_body_like eval
["reset", qr/"invalid_dev_eui"/, qr/"invalid_port"/, qr/"invalid_payload"/,
 qr/\A\Q{"error":"invalid_device_id","message":"\"deviceId\" must be a UUID (8-4-4-4-12 hex digits)"}\E\n\z/,
 qr/"invalid_device_id"/, $::NOTHING_SENT]
--- no_error_log
[error]



=== TEST 6: the variables hold the validated input (add_header); an absent one is empty outside the templates, not an error
--- config eval
::cfg(extra => q{add_header X-V "$kpn_downlink_dev_eui|$kpn_downlink_dev_eui_lower|$kpn_downlink_port|$kpn_downlink_payload|$kpn_downlink_payload_base64|$kpn_downlink_device_id|$kpn_downlink_reference|$kpn_downlink_reference_arg" always;})
--- request eval
["POST /downlink\n" . '{"devEUI":"0059ac00001B3461","port":2.0,"payload":"0a0bFF","deviceId":"F24108FA-D102-40FF-8263-F8D46908A386","externalReference":"a \"b\""}',
 "POST /downlink\n$::DL",
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":0,"payload":"0a0b","deviceId":"F24108FA-D102-40FF-8263-F8D46908A386","externalReference":"a"}']
--- error_code eval
[201, 201, 400]
--- response_headers eval
['X-V: 0059AC00001B3461|0059ac00001b3461|2|0a0bFF|Cgv/|f24108fa-d102-40ff-8263-f8d46908a386|a \"b\"|a%20%22b%22',
 'X-V: 0059AC00001B3461|0059ac00001b3461|2|0a0b|Cgs=|||',
 'X-V: |||||||']
--- no_error_log
[error]



=== TEST 7: $kpn_downlink_device_id: deviceId of the input (lower case), else kpn_downlink_device_id (a map on the devEUI); "kpn_downlink_uri ...?" sends no arguments
--- http_config eval: $::MAP_HTTP_CONFIG
--- config eval
::cfg(uri => '/_kpn/downlinks?',
      extra => ['kpn_downlink_device_id $kpn_device_uuid;',
                q{kpn_downlink_body '{"deviceId":"$kpn_downlink_device_id","port":$kpn_downlink_port}';}])
--- request eval
["GET /stub/_reset",
 "POST /downlink\n$::DL",
 "POST /downlink\n" . ::dl_with('"deviceId":"00000000-0000-4000-8000-00000000000A"'),
 "GET /stub/_raw"]
--- error_code eval
[200, 201, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE, $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/ok', '{"deviceId":"f24108fa-d102-40ff-8263-f8d46908a386","port":2}', @::BETA),
       ::kpn_dl_raw('/dl/ok', '{"deviceId":"00000000-0000-4000-8000-00000000000a","port":2}', @::BETA))]
--- no_error_log
[error]



=== TEST 8: a body that uses $kpn_downlink_reference without an externalReference is 400 missing_field
--- config eval
::cfg(extra => q{kpn_downlink_body '{"ref":"$kpn_downlink_reference"}';})
--- request eval
"POST /downlink\n$::DL"
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Downlink-Status: missing_field
--- response_body eval
qq({"error":"missing_field","message":"\\"externalReference\\" is required: the downlink request of this location uses it"}\n)
--- error_log
kpn downlink: missing_field: "externalReference" is required
--- no_error_log
[error]



=== TEST 9: an empty or null externalReference is absent too; in the arguments or a header as in the body; nothing reaches KPN
--- config eval
"    location = /downlink2 {\n        kpn_downlink_header X-Ref \$kpn_downlink_reference_arg;\n"
. "        kpn_downlink zone=kpn; kpn_downlink_keys off; kpn_client_id my-client; kpn_client_secret my-secret;\n"
. "        kpn_token_uri /_kpn/token; kpn_downlink_uri /_kpn/downlinks;\n    }\n"
. ::cfg(uri => '/_kpn/downlinks?ref=$kpn_downlink_reference_arg')
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . ::dl_with('"externalReference":""'),
 "POST /downlink\n" . ::dl_with('"externalReference":null'),
 "POST /downlink2\n$::DL",
 "GET /stub/_count"]
--- error_code eval
[200, 400, 400, 400, 200]
--- response_body_like eval
["reset", qr/"missing_field"/, qr/"missing_field"/, qr/"missing_field"/, $::NOTHING_SENT]
--- no_error_log
[error]



=== TEST 10: a body that uses $kpn_downlink_device_id without a deviceId (and no kpn_downlink_device_id) is 400 missing_field
--- config eval
::cfg(extra => q{kpn_downlink_body '{"id":"$kpn_downlink_device_id"}';})
--- request eval
"POST /downlink\n$::DL"
--- error_code: 400
--- response_headers
X-Downlink-Status: missing_field
--- response_body eval
qq({"error":"missing_field","message":"\\"deviceId\\" is required: the downlink request of this location uses it"}\n)
--- error_log
kpn downlink: missing_field: "deviceId" is required
--- no_error_log
[error]



=== TEST 11: a devEUI that the map of kpn_downlink_device_id does not know, without deviceId, is 400 missing_field
--- http_config eval: $::MAP_HTTP_CONFIG
--- config eval
::cfg(extra => ['kpn_downlink_device_id $kpn_device_uuid;',
                q{kpn_downlink_body '{"id":"$kpn_downlink_device_id"}';}])
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3469","port":2,"payload":"0a0b"}'
--- error_code: 400
--- response_headers
X-Downlink-Status: missing_field
--- response_body eval
qq({"error":"missing_field","message":"\\"deviceId\\" is required: the downlink request of this location uses it and kpn_downlink_device_id has none for devEUI 0059AC00001B3469"}\n)
--- error_log
kpn downlink: missing_field: "deviceId" is required
--- no_error_log
[error]



=== TEST 12: kpn_downlink_device_id that gives no UUID is 500 invalid_device_id, logged as an error
--- http_config eval: $::MAP_HTTP_CONFIG
--- config eval
::cfg(extra => ['kpn_downlink_device_id $kpn_device_uuid;',
                q{kpn_downlink_body '{"id":"$kpn_downlink_device_id"}';}])
--- request eval
"POST /downlink\n" . '{"devEUI":"0059ac00001b3462","port":2,"payload":"0a0b"}'
--- error_code: 500
--- response_headers
X-Downlink-Status: invalid_device_id
--- response_body eval
qq({"error":"invalid_device_id","message":"kpn_downlink_device_id gives \\"not-a-uuid\\", not a UUID"}\n)
--- error_log
[error]
kpn downlink: invalid_device_id: kpn_downlink_device_id gives "not-a-uuid", not a UUID



=== TEST 13: an unknown field is 400 invalid_json, before the other fields are looked at
--- request eval
"POST /downlink\n" . '{"devEui":"0059ac00001b3461","port":2,"payload":"0a0b"}'
--- error_code: 400
--- response_headers
X-Downlink-Status: invalid_json
--- response_body eval
qq({"error":"invalid_json","message":"unknown field \\"devEui\\" (the fields are devEUI, port, payload, externalReference and deviceId)"}\n)
--- error_log
kpn downlink: invalid_json: unknown field "devEui"
--- no_error_log
[error]



=== TEST 14: unknown fields: quoted printable and cut at 64 bytes; nothing reaches KPN
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . ::dl_with('"x":1'),
 "POST /downlink\n" . ::dl_with('"a\u0001b":null'),
 "POST /downlink\n" . ::dl_with('"' . ('k' x 70) . '":1'),
 "GET /stub/_count"]
--- error_code eval
[200, 400, 400, 400, 200]
--- response_body_like eval
["reset",
 qr/\A\Q{"error":"invalid_json","message":"unknown field \"x\" (\E/,
 qr/\A\Q{"error":"invalid_json","message":"unknown field \"a?b\" (\E/,
 qr/\A\Q{"error":"invalid_json","message":"unknown field \"\E k{64}\Q...\" (\E/x,
 $::NOTHING_SENT]
--- no_error_log
[error]



=== TEST 15: deviceId: not a string, not 8-4-4-4-12 hex, or one digit short is 400 invalid_device_id; null is absent
--- config eval
::cfg(extra => q{kpn_downlink_body '{"id":"$kpn_downlink_device_id"}';})
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . ::dl_with('"deviceId":42'),
 "POST /downlink\n" . ::dl_with('"deviceId":"f24108fad10240ff8263f8d46908a386"'),
 "POST /downlink\n" . ::dl_with('"deviceId":"f24108fa-d102-40ff-8263-f8d46908a38"'),
 "POST /downlink\n" . ::dl_with('"deviceId":"g24108fa-d102-40ff-8263-f8d46908a386"'),
 "POST /downlink\n" . ::dl_with('"deviceId":null'),
 "GET /stub/_count"]
--- error_code eval
[200, 400, 400, 400, 400, 400, 200]
--- response_headers eval
["", "X-Downlink-Status: invalid_device_id", "X-Downlink-Status: invalid_device_id",
 "X-Downlink-Status: invalid_device_id", "X-Downlink-Status: invalid_device_id",
 "X-Downlink-Status: missing_field", ""]
--- response_body_like eval
["reset", qr/"invalid_device_id"/, qr/"invalid_device_id"/, qr/"invalid_device_id"/,
 qr/"invalid_device_id"/, qr/"missing_field"/, $::NOTHING_SENT]
--- no_error_log
[error]



=== TEST 16: KPN's 403 (token fine, not allowed) is passed through: no token fetch, no retry, the token stays cached
--- config eval
(my $c = ::cfg(headers => [qw(cache status)]))
    =~ s{proxy_pass http://stub/dl/ok\$is_args\$args;}{proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/kpn403;}
    or die "no downlink proxy_pass\n";
$c . "    location = /kpn403 {\n        default_type application/json;\n"
   . "        return 403 '{\"message\":\"not allowed\"}';\n    }\n"
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "POST /downlink\n$::DL", "GET /stub/_count"]
--- error_code eval
[200, 403, 403, 200]
--- response_headers_like eval
["", "Content-Type: application/json\nX-Downlink-Status: kpn_rejected\nX-Token-Cache: (?:miss|hit)",
 "Content-Type: application/json\nX-Downlink-Status: kpn_rejected\nX-Token-Cache: hit", ""]
--- response_body_like eval
["reset", qr/\A\Q{"message":"not allowed"}\E\z/, qr/\A\Q{"message":"not allowed"}\E\z/,
 qr/\Atokens=[01] downlinks=0\n\z/]



=== TEST 17: a 401 is retried once with a new token and the same templated request
--- config eval
::cfg(dl => '401first', uri => '/_kpn/downlinks?v=1&port=$kpn_downlink_port',
      extra => [q{kpn_downlink_body '{"hex":"$kpn_downlink_payload"}';}])
--- request eval
::kpn_one_downlink('_raw')
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE,
 qr{\A(?:$::TOKEN_RAW)?@{[::kpn_dl_raw('/dl/401first?v=1&port=2', '{"hex":"0a0b"}', @::BETA)]}$::TOKEN_RAW@{[::kpn_dl_raw('/dl/401first?v=1&port=2', '{"hex":"0a0b"}', @::BETA)]}\z}]
--- no_error_log
[error]



=== TEST 18: templated arguments are made safe for the request line; "%" escapes and delimiters stay
--- config eval
::cfg(uri => '/_kpn/downlinks?v=$http_x_arg&port=$kpn_downlink_port')
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_log"]
--- more_headers eval
["", 'X-Arg: a b#c"d<e>%41=&', ""]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE,
 qr{\A(?:token /token/fixed -> tok-fixed\n)?dl /dl/ok\Q?v=a%20b%23c%22d%3Ce%3E%41=&&port=2 auth=Bearer tok-fixed -> 201\E\n\z}]
--- no_error_log
[error]



=== TEST 19: nginx -t fails: kpn_downlink_header Authorization
--- config
    location = /downlink {
        kpn_downlink_header Authorization "Bearer x";
    }
--- must_die
--- error_log
"kpn_downlink_header": "Authorization" cannot be set here: the module sends the access token



=== TEST 20: nginx -t fails: kpn_downlink_header Content-Length
--- config
    location = /downlink {
        kpn_downlink_header content-length 5;
    }
--- must_die
--- error_log
"kpn_downlink_header": "content-length" cannot be set here: the module sends the body



=== TEST 21: nginx -t fails: kpn_downlink_header Host
--- config
    location = /downlink {
        kpn_downlink_header Host api.kpnthings.com;
    }
--- must_die
--- error_log
"kpn_downlink_header": "Host" cannot be set here: nginx's proxy sets it (proxy_set_header in the kpn_downlink_uri location)



=== TEST 22: nginx -t fails: a header name with a space
--- config
    location = /downlink {
        kpn_downlink_header "X Y" v;
    }
--- must_die
--- error_log
"kpn_downlink_header": invalid header name "X Y"



=== TEST 23: nginx -t fails: a header given twice at one level (any case)
--- config
    location = /downlink {
        kpn_downlink_header Accept a;
        kpn_downlink_header ACCEPT b;
    }
--- must_die
--- error_log
"kpn_downlink_header": "ACCEPT" is given twice



=== TEST 24: nginx -t fails: a header value with a line break
--- config
    location = /downlink {
        kpn_downlink_header X-A "a\nb";
    }
--- must_die
--- error_log
"kpn_downlink_header": the value of "X-A" has a line break



=== TEST 25: nginx -t fails: a variable in the path of kpn_downlink_uri
--- config
    location = /downlink {
        kpn_downlink_uri /_kpn/$host/downlinks?port=$kpn_downlink_port;
    }
--- must_die
--- error_log
"kpn_downlink_uri": variables are allowed in the arguments only, not in the path "/_kpn/$host/downlinks"



=== TEST 26: nginx -t fails: kpn_downlink_body with an unknown variable
--- config
    location = /downlink {
        kpn_downlink_body '{"x":"$kpn_downlink_nope"}';
    }
--- must_die
--- error_log
unknown "kpn_downlink_nope" variable



=== TEST 27: nginx -t fails: kpn_downlink_body twice
--- config
    location = /downlink {
        kpn_downlink_body a;
        kpn_downlink_body b;
    }
--- must_die
--- error_log
"kpn_downlink_body" directive is duplicate



=== TEST 28: nginx -t fails: kpn_downlink_device_id with an unknown variable
--- config
    location = /downlink {
        kpn_downlink_device_id $kpn_device_nope;
    }
--- must_die
--- error_log
unknown "kpn_device_nope" variable



=== TEST 29: a header value whose variables bring CR/LF ($uri decoded) is refused: 500 internal_error, nothing reaches KPN; a clean one is sent
--- config eval
::cfg(location => '/kpn/dl/', extra => 'kpn_downlink_header X-Path $uri;')
--- request eval
["GET /stub/_reset",
 "POST /kpn/dl/a%0d%0aX-Injected:%20yes\n$::DL",
 "POST /kpn/dl/a%0aX-Injected:%20yes\n$::DL",
 "GET /stub/_count",
 "POST /kpn/dl/abc\n$::DL",
 "GET /stub/_raw"]
--- error_code eval
[200, 500, 500, 200, 201, 200]
--- response_body_like eval
["reset",
 qr/\A\Q{"error":"internal_error","message":"the value of kpn_downlink_header \"X-Path\" holds a CR, LF or NUL: not sent"}\E\n\z/,
 qr/\A\Q{"error":"internal_error",\E/,
 qr/\Atokens=0 downlinks=0\n\z/,
 $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW, ::kpn_dl_raw('/dl/ok?port=2', ::beta_body('0a0b'), @::BETA, 'X-Path: /kpn/dl/abc'))]



=== TEST 30: the refused header value: one error line that names the header
--- config eval
::cfg(location => '/kpn/dl/', extra => 'kpn_downlink_header X-Path $uri;')
--- request eval
"POST /kpn/dl/a%0d%0aX-Injected:%20yes\n$::DL"
--- error_code: 500
--- grep_error_log eval: qr/kpn downlink: .*?(?=, client: )/
--- grep_error_log_out
kpn downlink: internal_error: the value of kpn_downlink_header "X-Path" holds a CR, LF or NUL: not sent



=== TEST 31: the command's JSON as JSON: escapes in values and keys, whitespace, a port written as a real; the same request reaches KPN byte for byte
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . '{"devEUI":"\u0030059ac00001b346\u0031","port":2,"payload":"\u0030a0\u0062"}',
 "POST /downlink\n" . '{"dev\u0045UI":"0059ac00001b3461","p\u006frt":2,"payload":"0a0b"}',
 "POST /downlink\n" . qq( \t\r\n{ "devEUI" :\n"0059ac00001b3461" , "port"\t: 2.0 ,"payload":"0a0b" ,\r\n"externalReference" : null , "deviceId":null }\n ),
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":20e-1,"payload":"0a0b"}',
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":1e2,"payload":"0a0b","externalReference":"\ud83d\ude00\u00e9\/"}',
 "GET /stub/_raw"]
--- error_code eval
[200, 201, 201, 201, 201, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE, $::QUEUED_RE, $::QUEUED_RE, $::QUEUED_RE, $::QUEUED_RE,
 ::kpn_stub_raw($::TOKEN_RAW,
       (::kpn_dl_raw('/dl/ok?port=2', ::beta_body('0a0b'), @::BETA)) x 4,
       ::kpn_dl_raw('/dl/ok?port=100&externalReference=%F0%9F%98%80%C3%A9%2F', ::beta_body('0a0b'), @::BETA))]
--- no_error_log
[error]



=== TEST 32: refused as jansson refused them: duplicate keys (escaped, unknown), bad escapes, BOM, trailing bytes, an integer too big, -0 and 2^53+1; JSON errors before unknown fields; nothing reaches KPN
--- request eval
["GET /stub/_reset",
 "POST /downlink\n" . ::dl_with('"p\u006frt":3'),
 "POST /downlink\n" . ::dl_with('"x":1,"y":{"a":[{"b":1,"b":2}]},"x":2'),
 "POST /downlink\n" . ::dl_with('"externalReference":"\ud83d"'),
 "POST /downlink\n" . ::dl_with('"externalReference":"\ude00"'),
 "POST /downlink\n" . ::dl_with('"externalReference":"a\u0000b"'),
 "POST /downlink\n" . ::dl_with('"externalReference":"\x"'),
 "POST /downlink\n\xef\xbb\xbf$::DL",
 "POST /downlink\n$::DL x",
 "POST /downlink\n" . ::dl_with('"x":1,'),
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":123456789012345678901234567890,"payload":"0a0b"}',
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":-0,"payload":"0a0b"}',
 "POST /downlink\n" . '{"devEUI":"0059ac00001b3461","port":9007199254740993,"payload":"0a0b"}',
 "GET /stub/_count"]
--- error_code eval
[200, (400) x 12, 200]
--- response_headers eval
["", ("X-Downlink-Status: invalid_json") x 10, ("X-Downlink-Status: invalid_port") x 2, ""]
--- response_body_like eval
["reset",
 qr/"line 1 column \d+: duplicate object key/,
 qr/"line 1 column \d+: duplicate object key/,
 qr/"line 1 column \d+: invalid Unicode escape/,
 qr/"line 1 column \d+: invalid Unicode escape/,
 qr/"line 1 column \d+: \\\\u0000 is not allowed/,
 qr/"line 1 column \d+: invalid escape/,
 qr/"line 1 column 1: /,
 qr/"line 1 column \d+: end of input expected/,
 qr/"line 1 column \d+: string or '}' expected/,
 qr/"line 1 column \d+: too big integer/,
 qr/"invalid_port"/, qr/"invalid_port"/,
 $::NOTHING_SENT]
--- no_error_log
[error]
