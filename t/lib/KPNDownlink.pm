package KPNDownlink;

# Shared prelude of the downlink suites (t/1NN-downlink-*.t).  Load it after
# Test::Nginx::Socket:
#
#   use lib 't/lib';
#   use Test::Nginx::Socket 'no_plan';
#   use KPNDownlink;
#
# Loading it sets TEST_NGINX_HTML_DIR (html_dir()) and starts the stand-ins
# below; it exports the usual downlink body ($DL), the usual http_config
# ($KPN_DOWNLINK_HTTP_CONFIG), builders for the usual locations
# (kpn_downlink_config and its parts) and kpn_downlink_defaults, the body of
# the suites' block preprocessor.
#
# The stand-ins: one small HTTP server, forked when the suite loads, plays
# the GRIP token endpoint and the KPN actuator API.  It records every request
# it receives (raw bytes), answers by path, and has control paths:
#
#   GET /_reset    forget the records (first request of every iteration)
#   GET /_reset?wait=S   the same, answered after S seconds: the portable
#                  pause (both frameworks write a request's first piece at
#                  once, so delay_before cannot wait before a request)
#   GET /_wait?S   answers "waited\n" after S seconds (a pause mid-block)
#   GET /_count    "tokens=N downlinks=M\n" since the reset
#   GET /_log      one summary line per request since the reset
#   GET /_raw      the raw bytes of every request since the reset
#
# It also provides a port that accepts connections and never answers
# (TEST_NGINX_BLACKHOLE_PORT) and one with no listener
# (TEST_NGINX_CLOSED_PORT).  Loopback only.  Works with the real
# Test::Nginx and the in-tree runner: only %ENV is shared.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

our @EXPORT = qw($DL $QUEUED $QUEUED_RE $KPN_DOWNLINK_HTTP_CONFIG
                 kpn_downlink_config kpn_downlink_location kpn_stub_locations
                 kpn_downlink_server $KPN_MIRROR_LOCATIONS kpn_downlink_defaults
                 kpn_one_downlink);

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
        . _lines('        ', ['internal;', grep { defined } $to->($o{token_timeout})])
        . _lines('        ', $o{token_extra})
        . "        proxy_pass $token;\n"
        . "    }\n"
        . "    location = /_kpn/downlinks {\n"
        . _lines('        ', ['internal;', grep { defined } $to->($o{dl_timeout})])
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

my $parent = $$;
my ($stub_pid, $blackhole);

sub _listener {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 64, ReuseAddr => 1,
    );
    die "KPNDownlink: cannot listen: $!\n" unless $s;
    return $s;
}

sub _answer {
    my ($c, $status, $type, $body, $extra) = @_;
    my %reason = (200 => 'OK', 201 => 'Created', 302 => 'Found',
                  400 => 'Bad Request', 401 => 'Unauthorized',
                  404 => 'Not Found', 500 => 'Internal Server Error');
    my $h = "HTTP/1.1 $status " . ($reason{$status} // 'X') . "\r\n"
          . "Content-Type: $type\r\nContent-Length: " . length($body)
          . "\r\nConnection: close\r\n" . ($extra // '') . "\r\n";
    print $c $h . $body;
}

sub _serve {
    my $srv = shift;
    my (@raw, @log, $tokens, $dls, $issued);
    $tokens = $dls = $issued = 0;

    $SIG{PIPE} = 'IGNORE';

    while (my $c = $srv->accept) {
        binmode $c;
        my $buf = '';
        while ($buf !~ /\r\n\r\n/) {
            my $n = sysread $c, $buf, 65536, length $buf;
            last unless $n;
        }
        my ($head) = $buf =~ /\A(.*?\r\n\r\n)/s;
        unless (defined $head) { close $c; next; }
        my ($len) = $head =~ /^Content-Length:\s*(\d+)/mi;
        $len //= 0;
        while (length($buf) < length($head) + $len) {
            my $n = sysread $c, $buf, 65536, length $buf;
            last unless $n;
        }
        my ($method, $uri) = $head =~ /\A(\S+) (\S+)/;
        my ($path, $args) = $uri =~ /\A([^?]*)(?:\?(.*))?\z/;
        my ($auth) = $head =~ /^Authorization:\s*([^\r\n]*)/mi;
        $auth //= '-';

        if ($path eq '/_reset') {
            my ($wait) = ($args // '') =~ /\bwait=([\d.]+)/;
            Time::HiRes::sleep($wait) if $wait;
            @raw = (); @log = (); $tokens = $dls = 0;
            _answer($c, 200, 'text/plain', "reset\n");

        } elsif ($path eq '/_wait') {
            Time::HiRes::sleep($args) if ($args // '') =~ /\A[\d.]+\z/;
            _answer($c, 200, 'text/plain', "waited\n");

        } elsif ($path eq '/_count') {
            _answer($c, 200, 'text/plain', "tokens=$tokens downlinks=$dls\n");

        } elsif ($path eq '/_log') {
            _answer($c, 200, 'text/plain', join '', map { "$_\n" } @log);

        } elsif ($path eq '/_raw') {
            _answer($c, 200, 'text/plain', join '', @raw);

        } elsif ($path =~ m{\A/token/(\w+)\z}) {
            my $mode = $1;
            push @raw, $buf;
            $tokens++;
            my $tok = 'tok-' . ++$issued;
            $tok = 'tok-fixed' if $mode eq 'fixed';
            my $json = 'application/json';
            my $ok = qq({"access_token":"$tok","token_type":"Bearer","expires_in":3600});

            # kill: SIGKILL the nginx worker named by the X-Worker-Pid
            # header (proxy_set_header X-Worker-Pid $pid) and answer
            # nothing: a lease holder that dies mid-fetch
            if ($mode eq 'kill') {
                my ($wpid) = $head =~ /^X-Worker-Pid:\s*(\d+)/mi;
                my $cmd = '';
                if ($wpid && open my $fh, '<', "/proc/$wpid/cmdline") {
                    local $/;
                    $cmd = <$fh> // '';
                }
                push @log, "token $path -> kill";
                kill 'KILL', $wpid if $cmd =~ /^nginx: worker process/;
                close $c;
                next;
            }

            # badchunk: a chunked answer with a broken chunk size
            if ($mode eq 'badchunk') {
                push @log, "token $path -> badchunk";
                print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                       . "zz\r\n{}\r\n0\r\n\r\n";
                close $c;
                next;
            }

            # slowshort: slow and short-lived; shortfail: the first
            # token since the reset is short-lived, every later fetch 500s
            $mode = $tokens == 1 ? 'short' : '500' if $mode eq 'shortfail';

            if ($mode eq 'slow' || $mode eq 'slowshort') {
                Time::HiRes::sleep(0.4);
            }

            if ($mode eq 'short' || $mode eq 'slowshort') {
                $ok = qq({"access_token":"$tok","expires_in":4});
            }

            push @log, "token $path -> "
                . ($mode =~ /\A(?:ok|fixed|slow|short|slowshort)\z/ ? $tok : $mode);

            if ($mode =~ /\A(?:ok|fixed|slow|short|slowshort)\z/) {
                _answer($c, 200, $json, $ok);
            } elsif ($mode eq '500') {
                _answer($c, 500, $json, '{"error":"server_error"}');
            } elsif ($mode eq 'garbage') {
                _answer($c, 200, 'text/html', '<html>not json</html>');
            } elsif ($mode eq 'noat') {
                _answer($c, 200, $json, '{"token_type":"Bearer","expires_in":3600}');
            } elsif ($mode eq 'numat') {
                _answer($c, 200, $json, '{"access_token":12345,"expires_in":3600}');
            } elsif ($mode eq 'big') {
                _answer($c, 200, $json,
                        qq({"access_token":"$tok","pad":") . ('x' x 20000) . '"}');
            } else {
                _answer($c, 404, 'text/plain', "no such token mode\n");
            }

        } elsif ($path =~ m{\A/dl/(\w+)\z}) {
            my $mode = $1;
            push @raw, $buf;
            $dls++;
            my $type = 'application/vnd.kpnthings.actuator.v1.response+json';
            my $status = 201;
            my $body = '{"result":"queued"}';
            my $extra = '';

            if ($mode eq '302first' && $dls == 1 || $mode eq '302') {
                $status = 302;
                $body = '';
                $extra = "Location: https://auth.invalid/login\r\n";
            } elsif ($mode eq '401first' && $dls == 1 || $mode eq '401') {
                $status = 401;
                $body = '{"message":"token expired"}';
            } elsif ($mode eq '400') {
                $status = 400;
                $body = '{"message":"malformed downlink"}';
            } elsif ($mode eq 'slow') {
                Time::HiRes::sleep(1.5);
            }

            push @log, "dl $uri auth=$auth -> $status";
            _answer($c, $status, $type, $body, $extra);

        } else {
            _answer($c, 404, 'text/plain', "not found\n");
        }

        close $c;
    }
}

sub start {
    return if $stub_pid;

    my $srv = _listener();
    $blackhole = _listener();       # never accepted: requests hang
    my $closed = _listener();       # closed at once: connection refused

    $ENV{TEST_NGINX_STUB_PORT} = $srv->sockport;
    $ENV{TEST_NGINX_BLACKHOLE_PORT} = $blackhole->sockport;
    $ENV{TEST_NGINX_CLOSED_PORT} = $closed->sockport;
    close $closed;

    my $pid = fork;
    die "KPNDownlink: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        close $blackhole;
        _serve($srv);
        POSIX::_exit(0);
    }

    close $srv;
    $stub_pid = $pid;
}

END {
    if ($stub_pid && $$ == $parent) {
        local $?;
        kill 'TERM', $stub_pid;
        waitpid $stub_pid, 0;
    }
}

start();

1;
