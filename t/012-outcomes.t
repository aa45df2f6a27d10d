# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The outcome table (ngx_kpn_module/ngx_http_kpn_outcome.h) against the
# docs: every row of the error tables of docs/directives.md (the uplink)
# and docs/downlink.md names a code of the table with one of its statuses,
# and every code a half answers with a status of its own is in that
# half's table.  Then the answers and $kpn_uplink_status /
# $kpn_downlink_status of a refusal of each half, from the same table.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use Test::More;
use KPNTest;
use KPNDownlink;
use KPNStub;

repeat_each(2);
no_shuffle();

sub read_file_text {
    my $f = shift;
    open my $fh, '<', $f or die "cannot read $f: $!";
    local $/;
    return scalar <$fh>;
}

# name, code, status, alt, class, halves
my %outcome;
for (split /\n/, read_file_text('ngx_kpn_module/ngx_http_kpn_outcome.h')) {
    next unless /^\s*X\((\w+),\s*"(\w*)",\s*(\d+),\s*(\d+),\s*(\w+),\s*(\w+)\)/;
    $outcome{$2} = { name => $1, status => $3, alt => $4, class => $5, halves => $6 };
}

ok(scalar(keys %outcome) > 20, 'the outcome table is read');

for my $doc (['docs/directives.md', 'U'], ['docs/downlink.md', 'D']) {
    my ($file, $half) = @$doc;
    my %seen;

    for (split /\n/, read_file_text($file)) {
        next unless /^\|.*\|\s*(\d{3})[^|]*\|\s*`(\w+)`\s*\|\s*$/;
        my ($status, $code) = ($1, $2);
        $seen{$code} = 1;
        my $o = $outcome{$code};
        ok($o, "$file: $code is in the outcome table") or next;
        ok($status == $o->{status} || $status == $o->{alt},
           "$file: $code answers $status as the table says");
        ok($o->{halves} eq '__' || index($o->{halves}, $half) >= 0,
           "$file: $code is counted for this half");
    }

    for my $code (sort keys %outcome) {
        my $o = $outcome{$code};
        next if $o->{status} == 0 || $code eq 'ok';
        next unless $o->{halves} eq '__' || index($o->{halves}, $half) >= 0;
        ok($seen{$code}, "$file lists $code");
    }
}

kpn_stub_start();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $KPN_ECHO_SERVER . $KPN_DOWNLINK_HTTP_CONFIG)
        unless defined $block->http_config;
});

our $BAD_PORT = '{"devEUI":"0059ac00001b3461","port":0,"payload":"0a"}';

run_tests();

__DATA__

=== TEST 1: an uplink refusal: the code, its status and $kpn_uplink_status from the table
--- http_config eval
"    log_format st 'uplink_status=\$kpn_uplink_status';\n" . $::KPN_ECHO_SERVER . $::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
"access_log logs/error.log st;\n" . ::kpn_uplink_location()
--- request eval
"POST /kpn/uplink\n$::KPN_VECTOR"
--- more_headers eval
::kpn_headers($::KPN_VECTOR, token => '0' x 64)
--- error_code: 401
--- response_body_like: ^\{"error":"bad_token","message":"
--- error_log
uplink_status=bad_token



=== TEST 2: a downlink refusal: the code, its status and $kpn_downlink_status from the table
--- http_config eval
"    log_format st 'downlink_status=\$kpn_downlink_status';\n" . $::KPN_ECHO_SERVER . $::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
"access_log logs/error.log st;\n" . ::kpn_downlink_config(headers => [])
--- request eval
"POST /downlink\n$::BAD_PORT"
--- error_code: 400
--- response_body_like: ^\{"error":"invalid_port","message":"
--- error_log
downlink_status=invalid_port
