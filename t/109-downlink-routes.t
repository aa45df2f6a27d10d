# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The client secret and the access token go only to the locations marked
# "kpn_endpoint token" and "kpn_endpoint api" (exact and internal): nginx -t
# fails, naming the kpn_token_uri / kpn_downlink_uri line, when a URI lands
# anywhere else (a typo caught by "location /", a prefix, a regular
# expression, an unmarked location, the other endpoint), and at run time a
# subrequest that is sent elsewhere (a rewrite) is refused before it goes
# out: the application behind "location /" never sees it.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;
use KPNStub;

kpn_stub_start();

repeat_each(2);
no_shuffle();
no_root_location();

# a deployment as users write it: Host set at http level, a catch-all
# location for the application (the stand-in's /app/, which records what
# reaches it)
our $HTTP_CONFIG = $KPN_DOWNLINK_HTTP_CONFIG . <<'_EOC_';
    proxy_set_header Host $host;
_EOC_

our $APP = <<'_EOC_';
    location / {
        proxy_pass http://stub/app/;
    }
_EOC_

# the kpn_downlink location, in an included file so that nginx -t's
# "in FILE:LINE" is known: kpn_token_uri on line 6, kpn_downlink_uri on 7
sub downlink_file {
    my ($token, $dl) = @_;
    return ">>> downlink.conf\n"
        . "location = /downlink {\n"
        . "    kpn_downlink zone=kpn;\n"
        . "    kpn_downlink_keys off;\n"
        . "    kpn_client_id my-client;\n"
        . "    kpn_client_secret my-secret;\n"
        . "    kpn_token_uri " . ($token // '/_kpn/token') . ";\n"
        . "    kpn_downlink_uri " . ($dl // '/_kpn/downlinks') . ";\n"
        . "    add_header X-Downlink-Status \$kpn_downlink_status always;\n"
        . "}\n";
}

our $INCLUDE = "    include \$TEST_NGINX_HTML_DIR/downlink.conf;\n";

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $HTTP_CONFIG)
        unless defined $block->http_config;
    $block->set_value("user_files", downlink_file())
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: a typo in kpn_token_uri that "location /" would catch fails nginx -t at the directive's own line
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0)
--- user_files eval
::downlink_file('/_kpn/tokn')
--- must_die
--- error_log eval
qr{\[emerg\] .*"kpn_token_uri" "/_kpn/tokn" lands in location /, not in a location with "kpn_endpoint token" \(an exact, internal location\): the client secret would go there in \S+/downlink\.conf:6$}m



=== TEST 2: a typo in kpn_downlink_uri fails nginx -t at its own line
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0)
--- user_files eval
::downlink_file(undef, '/_kpn/downlink?port=$kpn_downlink_port')
--- must_die
--- error_log eval
qr{"kpn_downlink_uri" "/_kpn/downlink" lands in location /, not in a location with "kpn_endpoint api" \(an exact, internal location\): the access token would go there in \S+/downlink\.conf:7$}m



=== TEST 3: a prefix location that matches the URI is not the endpoint, internal or not
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0) . <<'_EOC_'
    location /_kpn/ {
        internal;
        proxy_pass http://stub/app/;
    }
_EOC_
--- user_files eval
::downlink_file('/_kpn/token/')
--- must_die
--- error_log eval
qr{"kpn_token_uri" "/_kpn/token/" lands in location /_kpn/, not in a location with "kpn_endpoint token" .* in \S+/downlink\.conf:6$}m



=== TEST 4: a regular expression location that matches is not the endpoint
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0) . <<'_EOC_'
    location ~ ^/_kpn/.*token {
        internal;
        rewrite ^ /app$uri break;
        proxy_pass http://stub;
    }
_EOC_
--- user_files eval
::downlink_file('/_kpn/old-token')
--- must_die
--- error_log eval
qr{"kpn_token_uri" "/_kpn/old-token" lands in location ~ \^/_kpn/\.\*token, not in a location with "kpn_endpoint token" .* in \S+/downlink\.conf:6$}m



=== TEST 5: a regular expression does not win over the exact endpoint (nginx's order), which passes
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations() . <<'_EOC_'
    location ~ token {
        rewrite ^ /app$uri break;
        proxy_pass http://stub;
    }
_EOC_
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_app"]
--- error_code eval
[200, 201, 200]
--- response_body eval
["reset\n", $::QUEUED, "app=0\n"]
--- no_error_log
[error]



=== TEST 6: an exact, internal location without the marker is not the endpoint
--- config eval
$::INCLUDE . $::APP . <<'_EOC_' . ::kpn_stub_locations(stub => 0) =~ s{location = /_kpn/token \{.*?\n    \}\n}{}sr
    location = /_kpn/token {
        internal;
        proxy_pass http://stub/app/;
    }
_EOC_
--- must_die
--- error_log eval
qr{"kpn_token_uri" "/_kpn/token" lands in location = /_kpn/token, not in a location with "kpn_endpoint token" .* in \S+/downlink\.conf:6$}m



=== TEST 7: the other endpoint is not this one: the token URI may not land in "kpn_endpoint api"
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0)
--- user_files eval
::downlink_file('/_kpn/downlinks')
--- must_die
--- error_log eval
qr{"kpn_token_uri" "/_kpn/downlinks" lands in location = /_kpn/downlinks, not in a location with "kpn_endpoint token" .* in \S+/downlink\.conf:6$}m



=== TEST 8: a marked location that is not internal fails nginx -t at the marker's line
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0) =~ s{internal;\n        kpn_endpoint token;}{kpn_endpoint token;}r
--- must_die
--- error_log eval
qr{"kpn_endpoint" requires "internal" in its location "/_kpn/token" in \S+/nginx\.conf:\d+$}m



=== TEST 9: kpn_endpoint in a named location fails nginx -t
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0) . <<'_EOC_'
    location @kpn_token {
        kpn_endpoint token;
        proxy_pass http://stub/app/;
    }
_EOC_
--- must_die
--- error_log
"kpn_endpoint" must be in an exact location ("location = /uri"), not in "@kpn_token"



=== TEST 10: kpn_endpoint in a prefix location fails nginx -t
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0) . <<'_EOC_'
    location /_kpn/ {
        internal;
        kpn_endpoint api;
        proxy_pass http://stub/app/;
    }
_EOC_
--- must_die
--- error_log
"kpn_endpoint" must be in an exact location ("location = /uri"), not in "/_kpn/"



=== TEST 11: a URI that lands in no location at all fails nginx -t
--- config eval
$::INCLUDE . ::kpn_stub_locations(stub => 0)
--- user_files eval
::downlink_file('/kpn-token')
--- must_die
--- error_log eval
qr{"kpn_token_uri" "/kpn-token" lands in no location, not in a location with "kpn_endpoint token" .* in \S+/downlink\.conf:6$}m



=== TEST 12: kpn_endpoint takes token or api
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0) =~ s{kpn_endpoint api;}{kpn_endpoint downlink;}r
--- must_die
--- error_log
invalid value "downlink" in "kpn_endpoint", expected "token" or "api"



=== TEST 13: the endpoints of another server do not count: the check is made in the server of the kpn_downlink location
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(stub => 0)
--- http_config eval
$::HTTP_CONFIG . <<'_EOC_'
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        location = /downlink {
            kpn_downlink zone=kpn;
            kpn_downlink_keys off;
            kpn_client_id my-client;
            kpn_client_secret my-secret;
            kpn_token_uri /_kpn/token;
            kpn_downlink_uri /_kpn/downlinks;
        }
    }
_EOC_
--- must_die
--- error_log
"kpn_token_uri" "/_kpn/token" lands in no location, not in a location with "kpn_endpoint token"



=== TEST 14: an endpoint nested in a prefix location is found, as nginx finds it, and works
--- config eval
$::INCLUDE . $::APP . <<'_EOC_'
    location /_kpn/ {
        internal;
        proxy_pass http://stub/app/;

        location = /_kpn/token {
            kpn_endpoint token;
            proxy_pass http://stub/token/ok;
        }
        location = /_kpn/downlinks {
            kpn_endpoint api;
            proxy_pass http://stub/dl/ok$is_args$args;
        }
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
_EOC_
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_app"]
--- error_code eval
[200, 201, 200]
--- response_body eval
["reset\n", $::QUEUED, "app=0\n"]
--- no_error_log
[error]



=== TEST 15: at run time, a token subrequest that a rewrite sends to "location /" is refused before it goes out: 502 token_unavailable, one line, the application sees nothing
--- config eval
"    kpn_token_backoff 1s;\n" . $::INCLUDE . $::APP
. ::kpn_stub_locations(token_extra => 'rewrite ^ /app-token last;')
--- request eval
["GET /stub/_reset?wait=1.1", "POST /downlink\n$::DL", "GET /stub/_app", "GET /stub/_count"]
--- error_code eval
[200, 502, 200, 200]
--- response_headers eval
["", "X-Downlink-Status: token_unavailable", "", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token request to \\"/_kpn/token\\" reached a location without \\"kpn_endpoint token\\", not sent"}\n),
 "app=0\n", "tokens=0 downlinks=0\n"]
--- timeout: 5



=== TEST 16: the refused token subrequest: one error line naming the URI, nothing of the secret
--- config eval
"    kpn_token_backoff 1s;\n" . $::INCLUDE . $::APP
. ::kpn_stub_locations(token_extra => 'rewrite ^ /app-token last;')
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- grep_error_log eval: qr/kpn downlink: .*?not sent|my-secret/
--- grep_error_log_out
kpn downlink: token_unavailable: the token request to "/_kpn/token" reached a location without "kpn_endpoint token", not sent
--- wait: 1.1
--- timeout: 5



=== TEST 17: at run time, a downlink subrequest that a rewrite sends to "location /" is refused before it goes out: 502 kpn_unavailable, the application sees nothing
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(dl_extra => 'rewrite ^ /app-downlinks last;')
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_app", "GET /stub/_count"]
--- error_code eval
[200, 502, 200, 200]
--- response_headers eval
["", "X-Downlink-Status: kpn_unavailable", "", ""]
--- response_body_like eval
["reset\n",
 qr/\A\Q{"error":"kpn_unavailable","message":"the downlink request to \"\/_kpn\/downlinks\" reached a location without \"kpn_endpoint api\", not sent"}\E\n\z/,
 "\\Aapp=0\n\\z", "\\Atokens=[01] downlinks=0\n\\z"]



=== TEST 18: the refused downlink subrequest: one error line naming the URI, no token
--- config eval
$::INCLUDE . $::APP . ::kpn_stub_locations(dl_extra => 'rewrite ^ /app-downlinks last;')
--- request eval
"POST /downlink\n$::DL"
--- error_code: 502
--- grep_error_log eval: qr/kpn downlink: .*?not sent|tok-|my-secret/
--- grep_error_log_out
kpn downlink: kpn_unavailable: the downlink request to "/_kpn/downlinks" reached a location without "kpn_endpoint api", not sent



=== TEST 19: a server-level error_page (nginx's "error_page 500 502 503 504 /50x.html", caught by "location /") after KPN's API timed out: the redirect is not followed, and the answer is the timeout, not "not sent" (KPN has the downlink)
--- config eval
"    error_page 500 502 503 504 /50x.html;\n" . $::INCLUDE . $::APP
. ::kpn_stub_locations(dl => 'slow', dl_timeout => '1s')
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_app", "GET /stub/_count"]
--- error_code eval
[200, 504, 200, 200]
--- response_headers eval
["", "X-Downlink-Status: upstream_timeout", "", ""]
--- response_body_like eval
["reset\n",
 qr/\A\Q{"error":"upstream_timeout","message":"the downlink request timed out"}\E\n\z/,
 "\\Aapp=0\n\\z", "\\Atokens=[01] downlinks=1\n\\z"]
--- no_error_log
reached a location without
--- timeout: 6



=== TEST 20: an error_page to a named location after the token endpoint refused the connection: not followed, the answer is the endpoint's failure
--- config eval
"    error_page 502 = \@app;\n    location \@app {\n        rewrite ^ /app/fallback break;\n        proxy_pass http://stub;\n    }\n"
. "    kpn_token_backoff 1s;\n" . $::INCLUDE . $::APP
. ::kpn_stub_locations(token => 'http://127.0.0.1:$TEST_NGINX_CLOSED_PORT/token')
--- request eval
["GET /stub/_reset?wait=1.1", "POST /downlink\n$::DL", "GET /stub/_app"]
--- error_code eval
[200, 502, 200]
--- response_headers eval
["", "X-Downlink-Status: token_unavailable", ""]
--- response_body eval
["reset\n",
 qq({"error":"token_unavailable","message":"the token request failed (502)"}\n),
 "app=0\n"]
--- no_error_log
reached a location without
--- timeout: 6
