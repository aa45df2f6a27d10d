# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The downlink request: the input is strict, an unknown field is refused
# before the other fields are looked at, and nothing reaches the stand-ins
# (t/lib/KPNDownlink.pm).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNDownlink;

repeat_each(2);
no_shuffle();

# a downlink body with the usual fields and more ($extra: JSON members)
sub dl_with {
    my ($extra) = @_;
    return '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b",' . $extra . '}';
}

our $NOTHING_SENT = qr/\Atokens=0 downlinks=0\n\z/;

add_block_preprocessor(sub {
    kpn_downlink_defaults(shift, config => kpn_downlink_config(headers => ['status']));
});

run_tests();

__DATA__

=== TEST 1: an unknown field is 400 invalid_json, before the other fields are looked at
--- request eval
"POST /downlink\n" . '{"devEui":"0059ac00001b3461","port":2,"payload":"0a0b"}'
--- error_code: 400
--- response_headers
X-Downlink-Status: invalid_json
--- response_body eval
qq({"error":"invalid_json","message":"unknown field \\"devEui\\" (the fields are devEUI, port, payload and externalReference)"}\n)
--- error_log
kpn downlink: invalid_json: unknown field "devEui"
--- no_error_log
[error]

=== TEST 2: unknown fields: quoted printable and cut at 64 bytes; nothing reaches KPN
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
