package KPNDownlink;

# Shared prelude of the downlink suites (t/1NN-downlink-*.t): config
# builders, no server.  Load it after Test::Nginx::Socket:
#
#   use lib 't/lib';
#   use Test::Nginx::Socket 'no_plan';
#   use KPNDownlink;
#   use KPNStub;            # the suites that talk to the stand-ins
#
#   kpn_stub_start();
#
# Loading it sets TEST_NGINX_HTML_DIR (html_dir()); it exports the usual
# downlink body ($DL), the usual http_config ($KPN_DOWNLINK_HTTP_CONFIG),
# builders for the usual locations (kpn_downlink_config and its parts) and
# kpn_downlink_defaults, the body of the suites' block preprocessor.
#
# The config it writes names the stand-ins of t/lib/KPNStub.pm by their
# ports ($TEST_NGINX_STUB_PORT, $TEST_NGINX_BLACKHOLE_PORT,
# $TEST_NGINX_CLOSED_PORT), which kpn_stub_start() sets: a suite that uses
# that config must start the stand-in (the runner bails out on an undefined
# $TEST_NGINX_* name).  Works with the real Test::Nginx and the in-tree
# runner.

use strict;
use warnings;

use Exporter 'import';

our @EXPORT = qw($DL $QUEUED $QUEUED_RE $KPN_DOWNLINK_HTTP_CONFIG
                 kpn_downlink_config kpn_downlink_location kpn_stub_locations
                 kpn_downlink_server $KPN_MIRROR_LOCATIONS kpn_downlink_defaults
                 kpn_one_downlink $PROXY_HTTP $PROXY_CONN kpn_dl_raw
                 kpn_stub_raw);

# the usual downlink request body
our $DL = '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}';

# what the stand-in answers to a downlink, and that as a response_body_like
our $QUEUED = '{"result":"queued"}';
our $QUEUED_RE = qr/\A\{"result":"queued"\}\z/;

# the requests of one downlink: reset the stand-in, the downlink, then the
# stand-in's control path $control ("_log", "_count" or "_raw")
sub kpn_one_downlink {
    my ($control) = @_;
    return ["GET /stub/_reset", "POST /downlink\n$DL", "GET /stub/$control"];
}

# what nginx's proxy puts in the request line and the Connection header of
# a request to the stand-in depends on its version (HTTP/1.0 and
# "Connection: close" in 1.22 and 1.26, HTTP/1.1 by default in mainline
# since early 2026): the exact checks of the stand-in's log take both
our $PROXY_HTTP = qr{HTTP/1\.[01]};
our $PROXY_CONN = qr{(?:Connection: close\r\n)?};

# one downlink request as the stand-in receives it, every byte: URI (path
# and arguments), the headers after Authorization, the body
sub kpn_dl_raw {
    my ($uri, $body, @headers) = @_;
    my $h = join '', map { quotemeta($_) . "\r\n" }
                         'Authorization: Bearer tok-fixed', @headers;
    my $len = length $body;
    return "\QPOST $uri \E$PROXY_HTTP\r\n\QHost: stub\E\r\n$PROXY_CONN"
         . "\QContent-Length: $len\E\r\n$h\r\n\Q$body\E";
}

# all the stand-in received since its reset ("GET /stub/_raw"): the token
# request $token_re (first iteration only), then the downlink requests
sub kpn_stub_raw {
    my ($token_re, @dl) = @_;
    my $dl = join '', @dl;
    return qr{\A(?:$token_re)?$dl\z};
}

# the usual http_config: the token zone and the stand-in upstream
our $KPN_DOWNLINK_HTTP_CONFIG = <<'_EOC_';
    kpn_token_zone zone=kpn:1m;
    upstream stub {
        server 127.0.0.1:$TEST_NGINX_STUB_PORT;
    }
_EOC_

sub _lines {
    my ($indent, $v) = @_;
    return '' unless defined $v;
    return join '', map { "$indent$_\n" } ref $v ? @$v : ($v);
}

# The usual kpn_downlink location.  Options, default first:
#   location   "= /downlink"
#   keys       kpn_downlink_keys: "off"
#   client_id  kpn_client_id: "my-client"
#   extra      directive(s) after kpn_downlink_uri: none
#   headers    add_header lines, of "cache" ($kpn_token_cache as
#              X-Token-Cache) and "status" ($kpn_downlink_status as
#              X-Downlink-Status): both
sub kpn_downlink_location {
    my (%o) = @_;
    my %header = (
        cache  => 'add_header X-Token-Cache $kpn_token_cache always;',
        status => 'add_header X-Downlink-Status $kpn_downlink_status always;',
    );
    return "    location " . ($o{location} // '= /downlink') . " {\n"
        . _lines('        ', [
              'kpn_downlink zone=kpn;',
              'kpn_downlink_keys ' . ($o{keys} // 'off') . ';',
              'kpn_client_id ' . ($o{client_id} // 'my-client') . ';',
              'kpn_client_secret my-secret;',
              'kpn_token_uri /_kpn/token;',
              'kpn_downlink_uri /_kpn/downlinks;'])
        . _lines('        ', $o{extra})
        . _lines('        ', [map { $header{$_} } @{ $o{headers} || [qw(cache status)] }])
        . "    }\n";
}

# The subrequest locations kpn_token_uri and kpn_downlink_uri name, and
# /stub/ for the stand-in's control paths.  Options, default first:
#   token          stand-in token mode ("ok"), or a whole proxy_pass URL
#   token_timeout  proxy_read_timeout of the token location: none
#   token_extra    more directive(s) of the token location: none
#   dl             stand-in downlink mode: "ok"
#   dl_timeout     proxy_read_timeout of the downlink location: none
#   dl_extra       more directive(s) of the downlink location: none
#   stub           the /stub/ location: 1
sub kpn_stub_locations {
    my (%o) = @_;
    my $token = $o{token} // 'ok';
    $token = "http://stub/token/$token" unless $token =~ m{/};
    my $dl = $o{dl} // 'ok';
    my $to = sub { defined $_[0] ? "proxy_read_timeout $_[0];" : undef };

    return "    location = /_kpn/token {\n"
        . _lines('        ', ['internal;', 'kpn_endpoint token;', grep { defined } $to->($o{token_timeout})])
        . _lines('        ', $o{token_extra})
        . "        proxy_pass $token;\n"
        . "    }\n"
        . "    location = /_kpn/downlinks {\n"
        . _lines('        ', ['internal;', 'kpn_endpoint api;', grep { defined } $to->($o{dl_timeout})])
        . _lines('        ', $o{dl_extra})
        . "        proxy_pass http://stub/dl/$dl\$is_args\$args;\n"
        . "    }\n"
        . (($o{stub} // 1) ? "    location /stub/ {\n        proxy_pass http://stub/;\n    }\n" : '');
}

# the usual config: kpn_downlink_location plus kpn_stub_locations (the
# options of both)
sub kpn_downlink_config {
    return kpn_downlink_location(@_) . kpn_stub_locations(@_);
}

# A second server (127.0.0.1:$TEST_NGINX_RAND_PORT_1) with the usual
# downlink locations, for the suites that send concurrent downlinks through
# mirror subrequests; its /downlink logs to logs/downlink.log in the
# log_format kpn_dl.  Options: listen (more listen parameters) and those of
# kpn_downlink_config.
sub kpn_downlink_server {
    my (%o) = @_;
    my $listen = '127.0.0.1:$TEST_NGINX_RAND_PORT_1'
        . (defined $o{listen} ? " $o{listen}" : '');
    (my $locations = kpn_downlink_config(
        headers => [], extra => 'access_log logs/downlink.log kpn_dl;',
        stub => 0, %o)) =~ s/^/    /mg;
    return "    server {\n        listen $listen;\n$locations    }\n";
}

# The locations that go with kpn_downlink_server in the main server: /m, the
# mirror subrequest that sends one more downlink to it, /stub/ and
# /downlink-log (its access log)
our $KPN_MIRROR_LOCATIONS = <<'_EOC_';
    location = /m {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1/downlink;
    }
    location /stub/ {
        proxy_pass http://stub/;
    }
    location = /downlink-log {
        alias $TEST_NGINX_SERVER_ROOT/logs/downlink.log;
    }
_EOC_

# The body of the suites' block preprocessor: a block without its own
# http_config gets $KPN_DOWNLINK_HTTP_CONFIG; a block without its own config
# gets $d{config} and, where it does not set them itself, the other
# sections of %d (the sections that go with the usual config).
sub kpn_downlink_defaults {
    my ($block, %d) = @_;

    $block->set_value("http_config", $KPN_DOWNLINK_HTTP_CONFIG)
        unless defined $block->http_config;

    return if defined $block->config || !defined $d{config};

    $block->set_value("config", delete $d{config});
    for my $s (sort keys %d) {
        $block->set_value($s, $d{$s}) unless defined $block->$s;
    }
}

# TEST_NGINX_HTML_DIR: where --- user_files land (the keys file that
# kpn_downlink_keys reads in t/100 and t/101)
die "KPNDownlink: load Test::Nginx::Socket first\n"
    unless defined &Test::Nginx::Socket::html_dir;
$ENV{TEST_NGINX_HTML_DIR} = Test::Nginx::Socket::html_dir();

1;
