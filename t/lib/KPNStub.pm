package KPNStub;

# The stand-ins of the downlink suites (t/1NN-downlink-*.t): one small HTTP
# server that plays the GRIP token endpoint and the KPN actuator API.  It is
# forked by kpn_stub_start(), which a suite calls in its prelude, before
# run_tests():
#
#   use lib 't/lib';
#   use Test::Nginx::Socket 'no_plan';
#   use KPNDownlink;
#   use KPNStub;
#
#   kpn_stub_start();
#
# (KPNDownlink's builders only write config that names the ports below; the
# stand-in runs only in the suites that start it.)  It records every request
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
#   GET /_app      "app=N\n" and the raw bytes of the N requests to /app/...
#                  (an application behind a catch-all location, which must
#                  never see a request meant for KPN) since the reset
#
# /wtg/... plays Withthegrid for the uplink suites: it records the request
# (its raw bytes in /_raw) and answers 200 {"ok":true}.
#
# The token endpoint is /token/MODE (ok, fixed, slow, short, slowshort,
# shortfail, 500, 401, 403, garbage, noat, numat, big, kill, badchunk), the actuator
# API /dl/MODE (ok, slow, 302, 302first, 401, 401first, 400): see _serve.
#
# kpn_stub_start() sets TEST_NGINX_STUB_PORT (the stand-in), and also
# provides a port that accepts connections and never answers
# (TEST_NGINX_BLACKHOLE_PORT) and one with no listener
# (TEST_NGINX_CLOSED_PORT).  Loopback only.  The stand-in is stopped when the
# suite exits.  Works with the real Test::Nginx and the in-tree runner: only
# %ENV is shared.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();

our @EXPORT = qw(kpn_stub_start);

my ($parent, $stub_pid, $blackhole);

sub _listener {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 64, ReuseAddr => 1,
    );
    die "KPNStub: cannot listen: $!\n" unless $s;
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
    my (@raw, @log, @app, $tokens, $dls, $issued);
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
            @raw = (); @log = (); @app = (); $tokens = $dls = 0;
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

        } elsif ($path eq '/_app') {
            _answer($c, 200, 'text/plain', 'app=' . @app . "\n" . join '', @app);

        } elsif ($path =~ m{\A/app/}) {
            push @app, $buf;
            _answer($c, 200, 'text/plain', "app\n");

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
            } elsif ($mode eq '401') {
                _answer($c, 401, $json, '{"error":"invalid_client"}');
            } elsif ($mode eq '403') {
                _answer($c, 403, $json, '{"error":"access_denied"}');
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

        } elsif ($path =~ m{\A/wtg(?:/|\z)}) {
            push @raw, $buf;
            push @log, "wtg $uri";
            _answer($c, 200, 'application/json', qq({"ok":true}\n));

        } else {
            _answer($c, 404, 'text/plain', "not found\n");
        }

        close $c;
    }
}

# Start the stand-in (once: a second call does nothing) and set
# TEST_NGINX_STUB_PORT, TEST_NGINX_BLACKHOLE_PORT and TEST_NGINX_CLOSED_PORT.
sub kpn_stub_start {
    return if $stub_pid;

    my $srv = _listener();
    $blackhole = _listener();       # never accepted: requests hang
    my $closed = _listener();       # closed at once: connection refused

    $ENV{TEST_NGINX_STUB_PORT} = $srv->sockport;
    $ENV{TEST_NGINX_BLACKHOLE_PORT} = $blackhole->sockport;
    $ENV{TEST_NGINX_CLOSED_PORT} = $closed->sockport;
    close $closed;

    my $pid = fork;
    die "KPNStub: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        close $blackhole;
        _serve($srv);
        POSIX::_exit(0);
    }

    close $srv;
    $parent = $$;
    $stub_pid = $pid;
}

END {
    if ($stub_pid && $$ == $parent) {
        local $?;
        kill 'TERM', $stub_pid;
        waitpid $stub_pid, 0;
    }
}

1;
