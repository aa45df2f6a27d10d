#!/usr/bin/perl
# End-to-end test of bin/kpn-replay (make test-replay; prove util/test/test-replay.pl).
#
# Scenarios 1 to 9 need no part of the C module: they write spool files in
# the format of docs/spool.md themselves (and, when /usr/sbin/nginx is there,
# have a stock nginx write one with the map and log_format of
# examples/spool.conf); scenario 10 has nginx with the module itself write the
# spool (KPN_MODULE_SO, default build/ngx_http_kpn_module.so, which
# make test-replay builds; skipped, "no module", when it is missing).  All
# start loopback stand-ins for Withthegrid (Perl, 127.0.0.1 only, each with a
# lifetime) and run kpn-replay against them:
#
#   1  outage: connections refused, then 503s, then 200: every message once,
#      byte for byte, the latest line of each, oldest first, within --rate;
#      the token from the file and never in ps; a rerun sends nothing
#   2  kill -9 with a request in flight, kill -9 right after a 2xx and at
#      moments picked from outside: the reruns deliver every message, none
#      twice but the one the rerun names "in doubt" (only after a 2xx)
#   3  a 4xx stops the run with the answer, exit 2; --skip goes past it;
#      Retry-After as an HTTP date; an answer echoing the token is redacted
#   4  options: token file, token on the command line, URLs, the lock
#   5  https: an unknown CA and a wrong name are exit 4 and send nothing;
#      --ca-file delivers
#   6  unreadable and incomplete spool lines: exit 6, the rest delivered;
#      a line cut by a full disk; refused lines never posted; --check; a
#      large envelope (past Perl's 65534 regex repetitions) is sent
#   7  the progress line shows on a terminal only (script(1))
#   8  stock nginx writes the spool (map, escape=json, $upstream_status of
#      next upstream and error_page), kpn-replay sends exactly the failed ones
#   9  the fast reader and JSON::PP read every spool alike
#  10  the real module, with examples/spool.conf read from the file: N signed
#      uplinks through a healthy run (the envelopes forwarded are recorded),
#      the spool rotated with logrotate -f and debian/'s snippet, in the
#      directory debian/'s postinst makes,
#      then through an outage, 3 tries each (502, 3N failed lines, id = the
#      lowercase token, body = the healthy run's envelope); kpn-replay then
#      sends exactly the N healthy envelopes, byte for byte, once each; and
#      again killed (SIGKILL) with a request in flight and rerun: N in total,
#      none twice, the cut-off one named in doubt
#  11  a hanging Withthegrid: KPN's tries at a steady rate, each given up
#      after 1 s: the example's location spools every one, with the
#      connections docs/spool.md's sizing rule asks for
#  12  closing the spool as docs/spool.md says, again and again: its hand
#      rotation twice within a second, the package's logrotate snippet with
#      logrotate -f eleven times: no outage's file lost; older than 8 weeks
#      deleted
#
# nginx runs its workers as www-data (user www-data;) when run as root; it
# is started (nginx -t first) and stopped by util/lib/throwaway-nginx.sh,
# through util/lib/ThrowawayNginx.pm.
# Every wait is bounded; the whole file stops itself after 300 s.
# KPN_REPLAY=path tests another kpn-replay (the installed one, say).
# KPN_MODULE_SO=path: the module of scenario 10; TEST_NGINX_BINARY=path: the
# nginx of scenarios 8 and 10 (default /usr/sbin/nginx).

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use FindBin ();
use lib "$FindBin::Bin/../lib";
use ThrowawayNginx;             # the throwaway nginx of util/lib/throwaway-nginx.sh
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::IP;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(time sleep);

my $ROOT   = abs_path(dirname(__FILE__) . '/../..');
my $REPLAY = $ENV{KPN_REPLAY} // "$ROOT/bin/kpn-replay";
my $TMP    = tempdir('kpn-replay-test.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $JSON   = JSON::PP->new->canonical;
my $TOKEN  = 'wtg-test-token-' . sha256_hex("$$" . time);

my @children;
my %NGINX;                      # nginx masters (pid => prefix), stopped at the end
my %MOUNTED;                    # scenario 11's tmpfs, unmounted at the end
$SIG{ALRM} = sub { BAIL_OUT('test-replay.pl ran over 300 s') };
alarm 300;
END { local $?; nginx_stop($_) for keys %NGINX; kill 'KILL', $_ for grep { $_ } @children;
      system('umount', $_) for keys %MOUNTED; }

my $started = time;

# nginx's workers run as an unprivileged user, as on Debian (user www-data;):
# what they may open after a rotation is what the recipe has to work with.
# Run as root, the test's directories let www-data in (0711, as /var and
# /var/spool are); run as another user, nginx's workers stay that user.
my $WORKER = $> == 0 && defined getpwnam('www-data') ? 'www-data' : undef;
my $USER_LINE = $WORKER ? "user $WORKER;" : '';
chmod 0711, $TMP if $WORKER;

# --- helpers -------------------------------------------------------------

sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or return ''; local $/; my $d = <$fh>; $d // '' }
sub spew  { my ($f, $d) = @_; open my $fh, '>:raw', $f or die "$f: $!"; print $fh $d; close $fh or die }

sub free_port {
    my $s = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => 0, Listen => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub wait_for {
    my ($cond, $secs) = @_;
    my $until = time + $secs;
    while (time < $until) {
        return 1 if $cond->();
        sleep 0.02;
    }
    return $cond->();
}

# nginx's escape=json (ngx_escape_json): " and \ and bytes below 0x20
my %ESC = ("\n" => '\n', "\r" => '\r', "\t" => '\t', "\b" => '\b', "\f" => '\f');
sub ngx_escape {
    my ($s) = @_;
    $s =~ s/(["\\])/\\$1/g;
    $s =~ s/([\x00-\x1f])/$ESC{$1} \/\/ sprintf('\u%04x', ord $1)/ge;
    return $s;
}

# one spool line as examples/spool.conf's log_format writes it
sub spool_line {
    my (%f) = @_;
    my $h = $f{headers} // { 'content-type' => 'application/json' };
    my $headers = join ',', map { '"' . $_ . '":"' . ngx_escape($h->{$_}) . '"' } sort keys %$h;
    return '{"kpn_spool":1,"time":"' . ($f{time} // '2026-12-01T10:00:00+00:00')
        . '","msec":"' . sprintf('%.3f', $f{msec}) . '","id":"' . $f{id}
        . '","outcome":"' . ($f{outcome} // 'failed') . '","device":"' . ($f{device} // '')
        . '","device_type":"dragino-lds01","status":"' . ($f{status} // '502')
        . '","upstream_status":"' . $f{us} . '","request_id":"' . substr(sha256_hex($f{msec}), 0, 32)
        . '","headers":{' . $headers . '},"body":"' . ngx_escape($f{body} // '') . "\"}\n";
}

# a Withthegrid envelope with bytes that need care: escapes as JSON text,
# raw UTF-8 (2, 3 and 4 bytes, U+2028), DEL
sub envelope {
    my ($i, $attempt, $id) = @_;
    my $dev = sprintf '0059AC0000%06X', $i;
    my $t = 1765739955 + 60 * $i;
    return qq({"deviceTypeHashId":"wasd2","deviceIdentifier":"$dev","kpn":{"urn":"urn:dev:DEVEUI:$dev:",)
        . qq("idType":"DEVEUI","deviceType":"dragino-lds01","time":$t,"port":1,"payloadHex":"763d00)
        . sprintf('%02x', $i % 256) . qq(","messageId":"$id"},"records":[{"n":"urn:dev:DEVEUI:$dev:note",)
        . qq("t":$t,"vs":"quote \\" backslash \\\\ e\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 )
        . qq(\x7f \\u0001 tab\\t slash \\/ attempt $attempt"}]});
}

my $US_FAILED = ['502', '504', '502, 504', '503', '502 : 503', '-', '', '500, 502'];

# N messages (ids: SHA-256 hex), each spooled 3 times (KPN's retries, 1 and 3
# minutes apart, bodies told apart by their attempt number so that the test
# sees which line was sent), interleaved; for every 5th message two lines are
# out of order in the file (several workers); plus one message whose later
# retry Withthegrid accepted live.  Returns the expected deliveries in order.
sub make_spool {
    my ($file, $n, %o) = @_;
    my (@lines, @expect);
    my $t0 = 1796000000;
    for my $i (1 .. $n) {
        my $id = sha256_hex("message $i $file");
        my @att;
        for my $k (1 .. 3) {
            my $msec = $t0 + 10 * $i + (0, 60, 180)[$k - 1];
            my $ct = $i == 2 ? 'application/senml+json' : 'application/json';
            push @att, [ $msec, spool_line(
                id => $id, msec => $msec, us => $US_FAILED->[($i + $k) % @$US_FAILED],
                device => sprintf('0059AC0000%06X', $i), body => envelope($i, $k, $id),
                headers => { 'content-type' => $ct, 'things-plug-uuid' => "plug-$i",
                             'host' => 'not-this-one.invalid' }) ];
        }
        push @expect, { id => $id, body => envelope($i, 3, $id), i => $i,
                        ct => $i == 2 ? 'application/senml+json' : 'application/json' };
        @att[1, 2] = @att[2, 1] if $i % 5 == 0;   # file order != time order
        push @lines, @att;
    }
    if ($o{live}) {
        my $id = sha256_hex("accepted live $file");
        push @lines, [ $t0 + 5, spool_line(id => $id, msec => $t0 + 5, us => '504',
            body => envelope(999, 1, $id)) ];
        push @lines, [ $t0 + 65, spool_line(id => $id, msec => $t0 + 65, us => '502 : 200',
            outcome => 'accepted', status => '200', body => '') ];
    }
    # the file order: by time, but a worker's line can come a little late
    @lines = map { $_->[1] } sort { $a->[0] <=> $b->[0] } @lines;
    spew($file, join '', @lines);
    return \@expect;
}

# --- the Withthegrid stand-in --------------------------------------------
#
# A forked child on 127.0.0.1:PORT (TLS when asked), one connection at a
# time, keep-alive.  For each request it asks rule->(n, request) what to do:
# a status ("200", "503", "400"), "kill-before" (SIGKILL the process in the
# pid file, close without an answer) or "kill-after" (answer 200, then
# SIGKILL).  Each request is logged (JSON line) before it is answered, with
# "answered" lines after; it exits after `life` seconds or on SIGTERM.

my $standin_seq = 0;

sub standin_start {
    my (%c) = @_;
    my $ready = "$TMP/ready." . ++$standin_seq;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        eval { standin_run(%c, ready => $ready) };
        print STDERR "stand-in: $@" if $@;
        POSIX::_exit(0);
    }
    push @children, $pid;
    wait_for(sub { -e $ready }, 10) or die "stand-in on $c{port} did not start";
    return $pid;
}

sub standin_stop {
    my ($pid) = @_;
    kill 'TERM', $pid;
    wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 5) or do { kill 'KILL', $pid; waitpid $pid, 0 };
    @children = grep { $_ != $pid } @children;
}

sub standin_run {
    my (%c) = @_;
    $SIG{TERM} = sub { POSIX::_exit(0) };
    alarm 0;
    my $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $c{port},
        Listen => 16, ReuseAddr => 1) or die "listen $c{port}: $!";
    open my $log, '>>:raw', $c{log} or die "$c{log}: $!";
    $log->autoflush(1);
    spew($c{ready}, '');
    my $deadline = time + ($c{life} // 90);
    my $n = 0;
    my $sel = IO::Select->new($l);
    while (time < $deadline) {
        next unless $sel->can_read(0.2);
        my $conn = $l->accept or next;
        if ($c{tls}) {
            require IO::Socket::SSL;
            my $ok = IO::Socket::SSL->start_SSL($conn, SSL_server => 1, Timeout => 5,
                SSL_cert_file => $c{tls}{cert}, SSL_key_file => $c{tls}{key});
            if (!$ok) {
                no warnings 'once';
                print $log $JSON->encode({ tls_failed => "$IO::Socket::SSL::SSL_ERROR" }), "\n";
                close $conn;
                next;
            }
        }
        my $buf = '';
        while (time < $deadline) {
            my $req = read_request($conn, \$buf) or last;
            $n++;
            my $action = $c{rule}->($n, $req);
            print $log $JSON->encode({ n => $n, t => time, method => $req->{method},
                path => $req->{path}, headers => $req->{headers},
                body => encode_base64($req->{body}, ''), action => $action }), "\n";
            if ($action eq 'kill-before') {
                kill 'KILL', slurp($c{pidfile}) + 0;
                sleep 0.1;
                last;
            }
            my $status = $action eq 'kill-after' ? 200 : $action =~ /^(\d+)/ ? $1 : $action;
            my $body = $status =~ /^2/ ? '{"ok":true}' : $status == 400
                ? '{"error":"unknown device","message":"device 0059AC stand-in test"}' : "down\n";
            my $extra = $status == 503 ? "Retry-After: 0\r\n" : '';
            # 503-date:N: Retry-After as an HTTP date N s ahead; 400-echo:
            # an answer that echoes the request's headers (the token too)
            if ($action =~ /^503-date:(\d+)\z/) {
                my @g = gmtime(time + $1);
                $extra = sprintf "Retry-After: %s, %02d %s %d %02d:%02d:%02d GMT\r\n",
                    (qw(Sun Mon Tue Wed Thu Fri Sat))[$g[6]], $g[3],
                    (qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec))[$g[4]], $g[5] + 1900, @g[2, 1, 0];
            }
            $body = '{"error":"bad request","echo":' . $JSON->encode($req->{headers}) . '}'
                if $action eq '400-echo';
            my $ok = print $conn "HTTP/1.1 $status X\r\nContent-Type: application/json\r\n"
                . "Content-Length: " . length($body) . "\r\n$extra\r\n$body";
            $conn->flush;
            print $log $JSON->encode({ answered => $n, status => $status, ok => $ok ? 1 : 0 }), "\n";
            if ($action eq 'kill-after') {
                kill 'KILL', slurp($c{pidfile}) + 0;
                sleep 0.1;
                last;
            }
        }
        close $conn;
    }
}

sub read_request {
    my ($s, $buf) = @_;
    my $read = sub {
        my $r = eval {
            local $SIG{ALRM} = sub { die "idle\n" };
            alarm 10;
            my $got = sysread $s, $$buf, 65536, length $$buf;
            alarm 0;
            $got;
        };
        alarm 0;
        return $r;
    };
    while ($$buf !~ /\r\n\r\n/) {
        return undef unless $read->();
        return undef if length $$buf > 1 << 20;
    }
    my $end = index($$buf, "\r\n\r\n") + 4;
    my ($head) = substr $$buf, 0, $end - 4;
    my ($line, @h) = split /\r\n/, $head;
    my ($method, $path) = split / /, $line;
    my (%h, @order);
    for (@h) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        push @order, lc $k;
        $h{lc $k} = exists $h{lc $k} ? "$h{lc $k}, $v" : $v;
    }
    my $len = $h{'content-length'} // 0;
    while (length($$buf) < $end + $len) {
        return undef unless $read->();
    }
    my $body = substr $$buf, $end, $len;
    substr($$buf, 0, $end + $len) = '';
    $h{':order'} = join ',', @order;
    return { method => $method, path => $path, headers => \%h, body => $body };
}

sub standin_log {
    my ($file) = @_;
    my (@req, %answered, @tls);
    for (split /\n/, slurp($file)) {
        my $e = $JSON->decode($_);
        if (exists $e->{tls_failed}) { push @tls, $e->{tls_failed}; next }
        if (exists $e->{answered}) { $answered{$e->{answered}} = $e->{status}; next }
        $e->{body} = decode_base64($e->{body});
        ($e->{id}) = $e->{body} =~ /"messageId":"([^"]+)"/;
        push @req, $e;
    }
    $_->{answered} = $answered{$_->{n}} for @req;
    return { requests => \@req, tls => \@tls,
             accepted => [ grep { defined $_->{answered} && $_->{answered} =~ /^2/ } @req ] };
}

# --- running kpn-replay --------------------------------------------------

my $run_seq = 0;

sub replay_start {
    my (@args) = @_;
    my $k = ++$run_seq;
    my %r = (out => "$TMP/out.$k", err => "$TMP/err.$k", pidfile => "$TMP/replay.pid",
             t0 => time, args => \@args);
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $r{out} or die;
        open STDERR, '>', $r{err} or die;
        open STDIN, '<', '/dev/null' or die;
        exec $^X, $REPLAY, @args or POSIX::_exit(127);
    }
    push @children, $pid;
    spew($r{pidfile}, $pid);
    $r{pid} = $pid;
    return \%r;
}

sub replay_wait {
    my ($r, $secs) = @_;
    my $done = wait_for(sub { waitpid($r->{pid}, WNOHANG) == $r->{pid} && ($r->{st} = $?, 1) },
                        $secs // 60);
    if (!$done) {
        kill 'KILL', $r->{pid};
        waitpid $r->{pid}, 0;
        $r->{st} = $?;
        $r->{timed_out} = 1;
    }
    @children = grep { $_ != $r->{pid} } @children;
    $r->{code}   = $r->{st} >> 8;
    $r->{signal} = $r->{st} & 127;
    $r->{stdout} = slurp($r->{out});
    $r->{stderr} = slurp($r->{err});
    $r->{secs}   = time - $r->{t0};
    return $r;
}

sub replay {
    my (@args) = @_;
    return replay_wait(replay_start(@args), 60);
}

sub show {
    my ($r) = @_;
    diag("kpn-replay @{$r->{args}}: exit $r->{code} signal $r->{signal}"
        . ($r->{timed_out} ? ' (timed out)' : '') . "\n--- stdout\n$r->{stdout}--- stderr\n$r->{stderr}");
}

sub state_events {
    my ($file) = @_;
    return [ map { [ split / / ] } grep { !/^#/ } split /\n/, slurp($file) ];
}

my $token_file = "$TMP/wtg.token";
spew($token_file, "# Withthegrid webhook token\n$TOKEN\n");
chmod 0600, $token_file;

my @common = ('--token-file', $token_file, '--quiet');

# ===========================================================================
# 1. an outage: refused connections, then 503, then Withthegrid accepts
# ===========================================================================
{
    my $N = 20;
    my $spool = "$TMP/s1.spool";
    my $expect = make_spool($spool, $N, live => 1);
    my $port = free_port();
    my $log = "$TMP/wtg1.log";
    my $state = "$TMP/s1.state";
    my $rate = 50;

    my $r = replay_start('--url', "http://127.0.0.1:$port/iot", '--token-file', $token_file,
        '--state', $state, '--rate', $rate, '--retries', 40, '--backoff', 0.1,
        '--backoff-max', 0.4, '--header', 'x-kpn-replay: 1', $spool);

    # while Withthegrid refuses connections: the token is nowhere in ps
    sleep 0.6;
    my $ps = `ps -eo pid,args 2>&1`;
    like($ps, qr/^\s*$r->{pid}\s.*kpn-replay/m, 'ps shows the running kpn-replay');
    unlike($ps, qr/\Q$TOKEN\E/, 'the token is not in ps output');
    my $cmdline = slurp("/proc/$r->{pid}/cmdline");
    ok($cmdline =~ /--token-file/ && $cmdline !~ /\Q$TOKEN\E/,
        'nor in /proc/PID/cmdline (which has --token-file)');
    unlike(slurp("/proc/$r->{pid}/environ"), qr/\Q$TOKEN\E/, 'nor in its environment');

    sleep 0.6;
    my $n503 = 3;
    my $sp = standin_start(port => $port, log => $log,
        rule => sub { my ($n) = @_; $n <= $n503 ? '503' : '200' });
    replay_wait($r, 60);
    standin_stop($sp);

    is($r->{code}, 0, 'outage then recovery: exit 0') or show($r);
    like($r->{stderr}, qr/connection failed/, 'the refused connections were retried');
    like($r->{stdout}, qr/delivered now\s+$N of $N\b/, "summary: delivered $N of $N");
    like($r->{stdout}, qr/accepted live by a later retry 1\b/, 'summary: 1 accepted live');
    unlike($r->{stderr}, qr/\r/, 'no progress line when stderr is not a terminal');

    my $w = standin_log($log);
    my @req = @{$w->{requests}};
    is(scalar @req, $N + $n503, "Withthegrid got $N + $n503 requests");
    my @first = @req[0 .. $n503];
    is(scalar(grep { $_->{body} eq $first[0]{body} } @first), $n503 + 1,
        'the answered-503 message was retried, not skipped');
    my @acc = @{$w->{accepted}};
    is(scalar @acc, $N, "exactly $N envelopes accepted");
    my %seen;
    $seen{$_->{id} // ''}++ for @acc;
    is(scalar(grep { $_ > 1 } values %seen), 0, 'no message accepted twice');
    is_deeply([ map { $_->{body} } @acc ], [ map { $_->{body} } @$expect ],
        'byte-identical to the latest spooled line of each message, oldest first');
    is(scalar(grep { $_->{headers}{'x-wtg-token'} eq $TOKEN } @req), scalar @req,
        'every request carries the token of the file in x-wtg-token');
    is_deeply([ map { $_->{headers}{'content-type'} } @acc ], [ map { $_->{ct} } @$expect ],
        'Content-Type from the spool line');
    is(scalar(grep { ($_->{headers}{'things-plug-uuid'} // '') =~ /^plug-\d+$/
                     && $_->{headers}{'x-kpn-replay'} eq '1'
                     && $_->{headers}{host} eq "127.0.0.1:$port" } @acc), $N,
        'spool headers and --header passed on, the spool cannot set Host');
    is(scalar(grep { $_->{path} eq '/iot' && $_->{method} eq 'POST' } @req), scalar @req,
        'POST /iot');
    # The stand-in stamps a request when it has read it: one stamped late
    # (the stand-in not scheduled at once on a busy machine) makes the gap
    # to the next one look short, so a minimum gap measures the machine as
    # well.  The span of the N requests answered 200 (no retry delay among
    # them) is N - 1 intervals at least, give or take the late stamp of the
    # first: without --rate it would be a few ms a request.
    my @ok_t = map { $_->{t} } @req[$n503 .. $#req];
    my $span = $ok_t[-1] - $ok_t[0];
    my $min_gap = 1e9;
    $min_gap = $_ < $min_gap ? $_ : $min_gap for map { $ok_t[$_] - $ok_t[$_ - 1] } 1 .. $#ok_t;
    cmp_ok($span, '>=', $#ok_t / $rate - 0.05, sprintf('--rate %d: the %d requests answered 200 take '
        . 'at least %d intervals of %.0f ms, less 50 ms (%.0f ms; closest two %.1f ms apart)',
        $rate, scalar @ok_t, $#ok_t, 1000 / $rate, 1000 * $span, 1000 * $min_gap));
    my @done = grep { $_->[0] eq 'done' } @{state_events($state)};
    is(scalar @done, $N, "the state file has $N done");

    my $again = replay('--url', "http://127.0.0.1:$port/iot", @common, '--state', $state, $spool);
    is($again->{code}, 0, 'a rerun: exit 0') or show($again);
    like($again->{stdout}, qr/already done\s+$N\b.*delivered now\s+0 of 0/s,
        "a rerun sends nothing (already done $N), and needs no Withthegrid");
    diag(sprintf 'scenario 1: %.1f s for %d messages, %d retries', $r->{secs}, $N,
        $r->{stdout} =~ /retries (\d+)/ ? $1 : -1);
}

# ===========================================================================
# 2. kill -9 halfway, then a rerun
# ===========================================================================
sub kill_scenario {
    my ($name, $N, $mode, $at, $rate) = @_;
    my $spool = "$TMP/k-$name.spool";
    my $expect = make_spool($spool, $N);
    my $port = free_port();
    my $log = "$TMP/wtg-$name.log";
    my $state = "$TMP/k-$name.state";
    my $killed = 0;
    my $sp = standin_start(port => $port, log => $log, pidfile => "$TMP/replay.pid",
        rule => sub {
            my ($n) = @_;
            return '200' if $mode eq 'outside' || $killed || $n != $at;
            $killed = 1;
            return $mode;
        });
    my @args = ('--url', "http://127.0.0.1:$port/iot", @common, '--state', $state,
        '--rate', $rate // 100, '--backoff', 0.1, '--backoff-max', 0.2, $spool);
    my $r1 = replay_start(@args);
    if ($mode eq 'outside') {
        wait_for(sub { (() = slurp($state) =~ /^done /mg) >= $at }, 20);
        kill 'KILL', $r1->{pid};
    }
    replay_wait($r1, 60);
    is($r1->{signal}, 9, "$name: the first run died of SIGKILL") or show($r1);
    my $r2 = replay(@args);
    standin_stop($sp);
    is($r2->{code}, 0, "$name: the rerun exits 0") or show($r2);

    my $w = standin_log($log);
    my %acc;
    $acc{$_->{id}}++ for @{$w->{accepted}};
    my @dup = grep { $acc{$_} > 1 } keys %acc;
    my %doubt = map { $_ => 1 } $r2->{stderr} =~ /^kpn-replay: ([0-9a-f]{64}): sent by an earlier run/mg;
    is_deeply([ sort keys %acc ], [ sort map { $_->{id} } @$expect ],
        "$name: every one of the $N messages accepted");
    my %body = map { $_->{id} => $_->{body} } @$expect;
    is(scalar(grep { $_->{body} ne $body{$_->{id}} } @{$w->{accepted}}), 0,
        "$name: byte-identical");
    return (\@dup, \%doubt, $w, $r2);
}

{
    # in flight: Withthegrid has the 8th request and has not answered
    my ($dup, $doubt, $w, $r2) = kill_scenario('in-flight', 16, 'kill-before', 8);
    is(scalar @$dup, 0, 'in-flight: no message accepted twice (exactly 16 in total)');
    my @unanswered = grep { !defined $_->{answered} } @{$w->{requests}};
    is(scalar @unanswered, 1, 'in-flight: one request was cut off unanswered');
    is_deeply([ keys %$doubt ], [ map { $_->{id} } @unanswered ],
        'in-flight: the rerun names it in doubt and sends it again');
    like($r2->{stdout}, qr/in doubt\s+1\b/, 'in-flight: summary counts 1 in doubt');
}
{
    # the window no client can close: Withthegrid answered 2xx, kpn-replay
    # died before it had the answer on disk
    my ($dup, $doubt) = kill_scenario('after-2xx', 16, 'kill-after', 8);
    cmp_ok(scalar @$dup, '<=', 1, 'after-2xx: at most one message accepted twice');
    is(scalar(grep { !$doubt->{$_} } @$dup), 0,
        'after-2xx: a message accepted twice is the one the rerun named in doubt');
    diag('after-2xx: ' . (@$dup ? 'the in-flight message was sent twice (named in doubt)'
        : 'the answer was recorded before the kill: no duplicate'));
}
for my $at (3, 7, 11) {
    my ($dup, $doubt) = kill_scenario("outside-$at", 14, 'outside', $at, 20);
    is(scalar(grep { !$doubt->{$_} } @$dup), 0,
        "outside-$at: killed once $at were done: nothing twice but a message named in doubt");
}

# ===========================================================================
# 3. a 4xx stops the run
# ===========================================================================
{
    my $N = 10;
    my $spool = "$TMP/s3.spool";
    my $expect = make_spool($spool, $N);
    my $bad = $expect->[3]{id};
    my $port = free_port();
    my $log = "$TMP/wtg3.log";
    my $state = "$TMP/s3.state";
    my $sp = standin_start(port => $port, log => $log,
        rule => sub { my ($n, $req) = @_; $req->{body} =~ /\Q$bad\E/ ? '400' : '200' });
    my @args = ('--url', "http://127.0.0.1:$port/iot", @common, '--state', $state, '--rate', 100);
    my $r = replay(@args, $spool);
    is($r->{code}, 2, '4xx: exit 2') or show($r);
    like($r->{stderr}, qr/refused message \Q$bad\E .*400.*unknown device/,
        '4xx: names the message, the status and the answer');
    like($r->{stderr}, qr/--skip \Q$bad\E/, '4xx: says how to go past it');
    my $w = standin_log($log);
    is(scalar @{$w->{requests}}, 4, '4xx: nothing after the refused message was sent');
    is(scalar(grep { $_->[0] eq 'done' } @{state_events($state)}), 3, '4xx: 3 recorded done');

    my $r2 = replay(@args, '--skip', $bad, $spool);
    standin_stop($sp);
    is($r2->{code}, 0, '--skip: the rerun goes past it, exit 0') or show($r2);
    $w = standin_log($log);
    my @acc = map { $_->{id} } @{$w->{accepted}};
    is_deeply(\@acc, [ grep { $_ ne $bad } map { $_->{id} } @$expect ],
        '--skip: the other 9 delivered once, in order');
}

# ===========================================================================
# 3b. Retry-After as an HTTP date; an answer that echoes the token
# ===========================================================================
{
    my $spool = "$TMP/s3b.spool";
    my $expect = make_spool($spool, 2);
    my $port = free_port();
    my $log = "$TMP/wtg3b.log";
    my $sp = standin_start(port => $port, log => $log,
        rule => sub { my ($n) = @_; $n == 1 ? '503-date:3' : $n == 2 ? '200' : '400-echo' });
    my $r = replay('--url', "http://127.0.0.1:$port/iot", '--token-file', $token_file,
        '--state', "$TMP/s3b.state", '--rate', 100, '--backoff', 0.1, '--backoff-max', 10, $spool);
    standin_stop($sp);
    my @t = map { $_->{t} } @{standin_log($log)->{requests}};
    # the date has whole seconds: 3 s ahead is 2 s at least
    cmp_ok(@t > 1 ? $t[1] - $t[0] : 0, '>=', 1.9,
        sprintf 'Retry-After as an HTTP date is honoured (%.1f s, --backoff 0.1)', @t > 1 ? $t[1] - $t[0] : 0);
    like($r->{stderr}, qr/retry 1\/8 in [23]\.\d s/, 'the retry note says the delay of the date');
    is($r->{code}, 2, 'the 4xx that echoes the request: exit 2') or show($r);
    like($r->{stderr}, qr/"x-wtg-token":"\[token\]"/, 'the answer is printed with the token redacted');
    unlike($r->{stdout} . $r->{stderr}, qr/\Q$TOKEN\E/, 'the token is in no output');
}

# ===========================================================================
# 4. options
# ===========================================================================
{
    my $spool = "$TMP/s4.spool";
    make_spool($spool, 3);
    my $state = "$TMP/s4.state";
    my $url = 'http://127.0.0.1:9/iot';     # never reached: every run stops first

    my $r = replay('--url', $url, '--token-file', "$TMP/none", '--state', $state, $spool);
    ok($r->{code} == 1 && $r->{stderr} =~ /--token-file .*none/, 'a missing token file: exit 1')
        or show($r);
    spew("$TMP/empty.token", "# nothing\n\n");
    $r = replay('--url', $url, '--token-file', "$TMP/empty.token", '--state', $state, $spool);
    ok($r->{code} == 1 && $r->{stderr} =~ /no token/, 'a token file without a token: exit 1')
        or show($r);
    $r = replay('--url', $url, @common, '--state', $state, '--header', "X-WTG-Token: $TOKEN", $spool);
    ok($r->{code} == 1 && $r->{stderr} =~ /token goes in a file/,
        'the token header on the command line is refused') or show($r);
    $r = replay('--url', 'http://user:pw@127.0.0.1:9/iot', @common, '--state', $state, $spool);
    ok($r->{code} == 1 && $r->{stderr} =~ /no user or password/, 'a password in the URL is refused')
        or show($r);
    # --dry-run never connects: an unreachable name cannot be sent to by mistake
    $r = replay('--dry-run', '--url', 'http://withthegrid.invalid/iot', @common,
        '--state', $state, $spool);
    ok($r->{code} == 1 && $r->{stderr} =~ /plain http only to a loopback/,
        'plain http to a host that is not loopback is refused') or show($r);
    $r = replay('--url', $url, @common, $spool);
    ok($r->{code} == 1 && $r->{stderr} =~ /--state FILE is required/, '--state is required')
        or show($r);
    $r = replay('--dry-run', '--state', $state, $spool);
    is($r->{code}, 0, '--dry-run without --url: exit 0') or show($r);
    is(scalar(() = $r->{stdout} =~ /^[0-9a-f]{64}  /mg), 3, '--dry-run lists the 3 messages');
    ok(!-e $state, '--dry-run writes no state file');

    # the lock: a second run on the same state file while the first waits
    my $port = free_port();
    my $first = replay_start('--url', "http://127.0.0.1:$port/iot", @common, '--state', $state,
        '--retries', 50, '--backoff', 0.2, '--backoff-max', 0.2, $spool);
    wait_for(sub { -s $state }, 10);
    $r = replay('--url', "http://127.0.0.1:$port/iot", @common, '--state', $state, $spool);
    ok($r->{code} == 1 && $r->{stderr} =~ /in use by another kpn-replay/,
        'a second run on a locked state file: exit 1') or show($r);
    kill 'TERM', $first->{pid};
    replay_wait($first, 10);
    is($first->{code}, 5, 'SIGTERM: exit 5') or show($first);
    like($first->{stdout}, qr/interrupted \(SIGTERM\)/, 'SIGTERM: the summary says so');
}

# ===========================================================================
# 5. https: the certificate is verified
# ===========================================================================
SKIP: {
    skip 'IO::Socket::SSL or openssl missing (util/build/install-deps.sh replay)', 7
        unless eval { require IO::Socket::SSL; 1 } && !system('openssl version >/dev/null 2>&1');
    my $d = "$TMP/tls";
    mkdir $d;
    my $ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    spew("$d/ext", "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
        . "extendedKeyUsage=serverAuth\n");
    my $rc = system("cd $d && openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 "
        . "-subj /CN=kpn-replay-test-CA >log 2>&1 && openssl req $ec -keyout srv.key -out srv.csr "
        . "-subj /CN=localhost >>log 2>&1 && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
        . "-CAcreateserial -out srv.pem -days 2 -extfile ext >>log 2>&1");
    is($rc, 0, 'a test CA and a certificate for localhost') or diag(slurp("$d/log"));

    my $N = 5;
    my $spool = "$TMP/s5.spool";
    my $expect = make_spool($spool, $N);
    my $port = free_port();
    my $log = "$TMP/wtg5.log";
    my $sp = standin_start(port => $port, log => $log, rule => sub { '200' },
        tls => { cert => "$d/srv.pem", key => "$d/srv.key" });
    my @a = (@common, '--rate', 100, '--retries', 0);

    my $r = replay('--url', "https://localhost:$port/iot", @a, '--state', "$TMP/s5a.state", $spool);
    ok($r->{code} == 4 && $r->{stderr} =~ /certificate could not be verified/,
        'https, a CA the system does not know: exit 4') or show($r);
    $r = replay('--url', "https://127.0.0.1:$port/iot", @a, '--ca-file', "$d/ca.pem",
        '--state', "$TMP/s5b.state", $spool);
    ok($r->{code} == 4 && $r->{stderr} =~ /certificate could not be verified/,
        'https, the right CA but another name (127.0.0.1, certificate for localhost): exit 4')
        or show($r);
    my $w = standin_log($log);
    is(scalar @{$w->{requests}}, 0, 'no request (and no token) went to an unverified server');
    cmp_ok(scalar @{$w->{tls}}, '>=', 2, 'the stand-in saw the handshakes fail');

    $r = replay('--url', "https://localhost:$port/iot", @a, '--ca-file', "$d/ca.pem",
        '--state', "$TMP/s5c.state", $spool);
    standin_stop($sp);
    is($r->{code}, 0, 'https with --ca-file: exit 0') or show($r);
    $w = standin_log($log);
    is_deeply([ map { $_->{body} } @{$w->{accepted}} ], [ map { $_->{body} } @$expect ],
        "https: the $N envelopes, byte-identical");
}

# ===========================================================================
# 6. lines that cannot be read
# ===========================================================================
{
    my $spool = "$TMP/s6.spool";
    my $expect = make_spool($spool, 3);
    my @l = split /(?<=\n)/, slurp($spool);
    my $bad = sub { my ($n, %f) = @_; spool_line(id => sha256_hex("bad $n"), msec => 1796000001 + $n,
        us => '502', body => envelope(50 + $n, 1, sha256_hex("bad $n")), %f) };
    # line 5: a cut line; 6: no id
    splice @l, 4, 0, "{\"kpn_spool\":1,\"id\":\"abc\",\"upstream_status\":\"502\",\"body\":\"{\\\"cut\n",
        "{\"kpn_spool\":1,\"upstream_status\":\"502\",\"body\":\"{}\"}\n";
    # a full disk: line 12 is cut, and the record written when there was
    # room again is on the same line; it is sent
    my $after = spool_line(id => sha256_hex('after the cut'), msec => 1796000003, us => '502',
        body => envelope(40, 1, sha256_hex('after the cut')));
    push @l, substr($bad->(0), 0, 150) . $after;
    # 13 to 18: lines kpn-replay must refuse and never post
    my %refuse = (
        13 => [ 'no "kpn_spool":1', $bad->(1) =~ s/^\{"kpn_spool":1,/{/r ],
        14 => [ 'kpn.messageId is another', $bad->(2, body => envelope(52, 1, sha256_hex('another'))) ],
        15 => [ 'a byte changed to 0xFF', $bad->(3) =~ s/e\xc3\xa9/e\xff\xa9/r ],
        16 => [ 'the body not JSON', $bad->(4) =~ s/\}\]\}"\}\n\z/}]"}\n/r ],
        17 => [ 'JSON but no envelope', $bad->(5, body => '{"kpn":{"messageId":"' . sha256_hex('bad 5') . '"}}') ],
        18 => [ 'a surrogate in UTF-8', $bad->(6) =~ s/\xe2\x82\xac/\xed\xa0\x80/r ],
    );
    push @l, map { $refuse{$_}[1] } sort keys %refuse;
    # 19, written by hand: white space, other order, \u escapes (read by JSON::PP)
    my $hid = sha256_hex('hand 1');
    my $hand = qq({"deviceTypeHashId":"wasd2","kpn":{"messageId":"$hid"},"records":[],"x":"caf\xc3\xa9"});
    push @l, qq( { "body" : "{\\"deviceTypeHashId\\":\\"wasd2\\",\\"kpn\\":{\\"messageId\\":\\"$hid\\"},)
        . qq(\\"records\\":[],\\"x\\":\\"caf\\u00c3\\u00a9\\"}", "kpn_spool" : 1, )
        . qq(   "upstream_status" : "502, 504", "id" : "$hid", "headers" : {} }\n);
    push @l, '{"kpn_spool":1,"id":"half-writ';
    spew($spool, join '', @l);
    my $port = free_port();
    my $log = "$TMP/wtg6.log";
    my $sp = standin_start(port => $port, log => $log, rule => sub { '200' });
    my $r = replay('--url', "http://127.0.0.1:$port/iot", @common, '--state', "$TMP/s6.state",
        '--rate', 100, $spool);
    standin_stop($sp);
    is($r->{code}, 6, 'unreadable lines: exit 6') or show($r);
    like($r->{stderr}, qr/s6\.spool:5: unreadable spool line, not sent: not JSON/, 'names the cut line');
    like($r->{stderr}, qr/s6\.spool:6: unreadable spool line, not sent: no message id/, 'names the line without id');
    like($r->{stderr}, qr/s6\.spool:12: cut spool line \(another record begins on it at byte 151/,
        'a full disk: names the cut record');
    for my $n (sort keys %refuse) {
        like($r->{stderr}, qr/s6\.spool:$n: unreadable spool line, not sent: \S/, "refused, line $n: $refuse{$n}[0]");
    }
    like($r->{stderr}, qr/s6\.spool:20: incomplete last line/, 'names the incomplete last line');
    like($r->{stdout}, qr/unreadable 9, incomplete last line 1/, 'summary counts them');
    my $w = standin_log($log);
    is_deeply([ map { $_->{body} } @{$w->{accepted}} ],
        [ $hand, envelope(40, 1, sha256_hex('after the cut')), map { $_->{body} } @$expect ],
        'the readable messages are delivered: the record after the cut, the line written by hand too');
    my %sent = map { ($_->{id} // '') => 1 } @{$w->{requests}};
    is(scalar(grep { $sent{sha256_hex("bad $_")} } 0 .. 6), 0, 'no refused line was posted');

    # a cut last line is exit 6, alone too (a closed spool; a large file
    # without any newline)
    spew("$TMP/s6b.spool", join '', @l[0 .. 3], '{"kpn_spool":1,"id":"half-writ');
    spew("$TMP/s6c.spool", 'x' x (3 << 20));
    for my $f ("$TMP/s6b.spool", "$TMP/s6c.spool") {
        $sp = standin_start(port => $port, log => "$TMP/wtg6b.log", rule => sub { '200' });
        my $r = replay('--url', "http://127.0.0.1:$port/iot", @common, '--state', "$TMP/s6b.state",
            '--rate', 100, $f);
        standin_stop($sp);
        ok($r->{code} == 6 && $r->{stdout} =~ /incomplete last line 1\b/
           && $r->{stdout} =~ /result .*could not be read/, "a cut last line only: exit 6 ($f)")
            or show($r);
    }
}

# ===========================================================================
# 6b. --check: a spool whose lines carry no body is found before a replay
# ===========================================================================
{
    # a hand-made recipe with a typo ("faild"): every failed line without
    # its body; and one whose outcome says accepted where nginx saw a 502
    my @l;
    for my $i (1 .. 4) {
        my $id = sha256_hex("typo $i");
        push @l, spool_line(id => $id, msec => 1796000000 + $i, us => '502', outcome => 'faild', body => '');
    }
    push @l, spool_line(id => sha256_hex('typo 5'), msec => 1796000005, us => '502',
        outcome => 'accepted', body => envelope(5, 1, sha256_hex('typo 5')));
    spew("$TMP/s6t.spool", join '', @l);
    my $r = replay('--check', "$TMP/s6t.spool");
    is($r->{code}, 6, '--check, a spool whose failed lines have no body: exit 6') or show($r);
    is(scalar(() = $r->{stderr} =~ /s6t\.spool:[1-4]: unreadable spool line, not sent: no envelope \("body"\) in a line of a failed uplink/g),
        4, '--check names each line without its body');
    like($r->{stderr}, qr/s6t\.spool:5: "outcome":"accepted" but "upstream_status":"502" says failed/,
        '--check names the line whose outcome is not its upstream_status');
    like($r->{stdout}, qr/unreadable or refused 4, incomplete last line 0, outcome not upstream_status 1\b/,
        '--check: the summary');
    $r = replay('--check', "$TMP/s1.spool", "$TMP/s3.spool");
    ok($r->{code} == 0 && $r->{stdout} =~ /every line can be read and sent \(exit 0\)/,
        '--check, good spools: exit 0') or show($r);
}

# ===========================================================================
# 6c. a large envelope: more than 65534 characters and escapes
# ===========================================================================
#
# The module forwards up to client_max_body_size (1m by default) and 256
# records; nginx spools the envelope whole.  A body with 80,000 multibyte
# characters and 80,000 escapes (about 240 KB in the line) is past the
# 65534 repetitions at which a Perl regular expression stops ("Complex
# regular subexpression recursion limit"): it must be read, checked and sent
# byte for byte, by both readers, with no such warning.
{
    my $id = sha256_hex('large envelope');
    my $dev = '0059AC0000BBBBBB';
    my $big = qq({"deviceTypeHashId":"wasd2","deviceIdentifier":"$dev","kpn":{"urn":"urn:dev:DEVEUI:$dev:",)
        . qq("idType":"DEVEUI","deviceType":"dragino-lds01","time":1765739955,"port":1,"payloadHex":"00",)
        . qq("messageId":"$id"},"records":[{"n":"urn:dev:DEVEUI:$dev:note","t":1765739955,"vs":")
        . ("\xc3\xa9\\\"" x 80000) . qq("}]});
    spew("$TMP/s6l.spool", spool_line(id => $id, msec => 1796000001, us => '502', body => $big));
    for my $pp (0, 1) {
        local $ENV{KPN_REPLAY_JSON_PP} = $pp;
        my $port = free_port();
        my $log = "$TMP/wtg6l$pp.log";
        my $sp = standin_start(port => $port, log => $log, rule => sub { '200' });
        my $r = replay('--url', "http://127.0.0.1:$port/iot", @common, '--state', "$TMP/s6l$pp.state",
            '--rate', 100, "$TMP/s6l.spool");
        standin_stop($sp);
        is($r->{code}, 0, "a large envelope (JSON::PP $pp): exit 0") or show($r);
        unlike($r->{stderr}, qr/recursion limit|not sent/, "a large envelope (JSON::PP $pp): no warning, not refused");
        my $w = standin_log($log);
        ok(@{$w->{accepted}} == 1 && $w->{accepted}[0]{body} eq $big,
           "a large envelope (JSON::PP $pp): sent once, byte for byte");
        $r = replay('--check', "$TMP/s6l.spool");
        ok($r->{code} == 0 && $r->{stderr} eq '', "a large envelope (JSON::PP $pp): --check exit 0") or show($r);
    }
}

# ===========================================================================
# 7. progress on a terminal
# ===========================================================================
SKIP: {
    skip 'script(1) missing', 3 unless !system('command -v script >/dev/null 2>&1');
    my $spool = "$TMP/s7.spool";
    make_spool($spool, 6);
    my $port = free_port();
    my $sp = standin_start(port => $port, log => "$TMP/wtg7.log", rule => sub { '200' });
    my $cmd = join ' ', map { "'$_'" } $^X, $REPLAY, '--url', "http://127.0.0.1:$port/iot",
        '--token-file', $token_file, '--state', "$TMP/s7.state", '--rate', 10, $spool;
    my $out = `timeout 30 script -qec "$cmd" /dev/null 2>&1`;
    my $rc = $? >> 8;
    standin_stop($sp);
    is($rc, 0, 'under a terminal: exit 0');
    like($out, qr{\r\e\[Kkpn-replay: 6/6 done, [\d.]+/s, 0 errors}, 'the progress line: done/total, rate, errors');
    my @t = map { $_->{t} } @{standin_log("$TMP/wtg7.log")->{requests}};
    my @gap = sort { $a <=> $b } map { $t[$_] - $t[$_ - 1] } 1 .. $#t;
    ok(@t == 6 && $gap[0] >= 0.075, sprintf '--rate 10: 6 requests, at least 75 ms apart (min %.1f ms)',
        1000 * ($gap[0] // 0));
}

# ===========================================================================
# 8. stock nginx writes the spool with examples/spool.conf
# ===========================================================================
SKIP: {
    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    skip "no $nginx", 15 unless -x $nginx;

    # the http-level part of examples/spool.conf, the module's variables
    # replaced by request headers and $request_body
    my $conf = slurp("$ROOT/examples/spool.conf");
    my ($http) = $conf =~ /^# >>> spool: http\n(.*?)^# <<< spool: http\n/ms;
    ok(defined $http, 'examples/spool.conf has its http part between the markers') or $http = '';
    # ($kpn_spool_outcome and $kpn_spool_envelope by maps that do what the
    # module does, docs/spool.md; scenario 10 and t/008 test the module's)
    my %sub = (kpn_message_id => 'http_x_test_id', kpn_device_id => 'http_x_test_device',
               kpn_device_type => 'http_x_test_type', kpn_spool_outcome => 'test_outcome',
               kpn_spool_envelope => 'test_envelope');
    $http =~ s/\$(kpn_[a-z_]+)/exists $sub{$1} ? "\$$sub{$1}" : "\$$1"/ge;
    my @left = $http =~ /\$(kpn_[a-z_]+)/g;
    is("@left", '', 'every module variable of the recipe is stood in for');
    $http .= <<'END';
    map "$http_x_test_status:$upstream_status" $test_outcome {
        "~^ok:(?:.*[,:] )?2[0-9][0-9]$"   accepted;
        "~^ok:"                           failed;
        default                           "";
    }
    map $test_outcome $test_envelope {
        failed    $request_body;
        default   "";
    }
END
    my ($access) = $conf =~ /^\s*(access_log\s+\/var\/spool\/\S+\s+kpn_spool\s+if=\$kpn_spool_outcome;)/m;
    ok($access, 'examples/spool.conf has the access_log line') or $access = '';
    my ($syslog) = $conf =~ /^\s*(access_log\s+syslog:server=unix:\S+\s+kpn_spool\s+if=\$kpn_spool_outcome;)/m;
    ok($syslog, 'and the syslog one') or $syslog = '';

    my $p = "$TMP/nginx";
    mkdir $p; mkdir "$p/logs"; mkdir "$p/temp";
    chmod 0711, $p, "$p/temp";
    chmod 0755, "$p/logs";      # as /var/log/nginx: the workers reopen the logs by path
    my ($front, $wtg, $closed, $sink) = (free_port(), free_port(), free_port(), free_port());
    (my $acc = $access) =~ s{/var/spool/\S+}{$p/logs/uplinks.spool};
    (my $sl = $syslog) =~ s{unix:/[^,\s]+}{unix:$p/dev-log};
    s/\$(kpn_spool_[a-z]+)/\$$sub{$1}/g for $acc, $sl;
    require IO::Socket::UNIX;
    my $dgram = IO::Socket::UNIX->new(Type => Socket::SOCK_DGRAM(), Local => "$p/dev-log")
        or die "$p/dev-log: $!";
    setsockopt($dgram, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 1 << 20);
    chmod 0666, "$p/dev-log";   # as /dev/log: the workers send to it
    my $user = $USER_LINE;
    spew("$p/nginx.conf", <<"END");
master_process on; worker_processes 2; $user
error_log $p/logs/error.log info; pid $p/logs/nginx.pid;
events { worker_connections 64; }
http {
    client_body_temp_path $p/temp/body; proxy_temp_path $p/temp/proxy;
    fastcgi_temp_path $p/temp/fcgi; uwsgi_temp_path $p/temp/uwsgi; scgi_temp_path $p/temp/scgi;
    client_body_buffer_size 256k;
    access_log off;
$http
    upstream wtg_two { server 127.0.0.1:$closed; server 127.0.0.1:$wtg backup; }
    server {
        listen 127.0.0.1:$front;
        # at server level: the log phase uses the location the request ends in
        $acc
        $sl
        proxy_next_upstream error timeout http_502 http_503 non_idempotent;
        location = /down    { proxy_pass http://127.0.0.1:$wtg/down; }
        location = /ok      { proxy_pass http://127.0.0.1:$wtg/ok; }
        location = /refused { proxy_pass http://127.0.0.1:$closed/iot; }
        location = /two     { proxy_pass http://wtg_two/down; }
        location = /redir   { proxy_pass http://127.0.0.1:$closed/iot; error_page 502 = \@retry; }
        location \@retry     { rewrite ^ /ok break; proxy_pass http://127.0.0.1:$wtg; }
        location = /bad     { return 401; }
    }
    server {
        listen 127.0.0.1:$wtg;
        location = /ok   { return 200 '{"ok":true}'; }
        location = /down { return 503; }
    }
}
END
    my $npid = ThrowawayNginx::start($nginx, $p, "$p/nginx.conf");
    $NGINX{$npid} = $p if $npid;
    my $up = $npid && wait_for(sub { IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $front) }, 10);
    ok($up, 'stock nginx runs the recipe') or diag(slurp("$p/logs/error.log"));

    require HTTP::Tiny;
    my $ua = HTTP::Tiny->new(timeout => 10);
    my $big = envelope(3, 1, 'id-C') =~ s/"records":\[/'"records":[' . ('{"n":"x","v":1},' x 1200)/er;
    # B: JSON white space (\n \t \r, escaped by escape=json) between the
    # envelope's tokens, and DEL: read back byte for byte (by JSON::PP)
    my %body = (
        A => envelope(1, 1, 'id-A'), B => envelope(2, 1, 'id-B') =~ s/,"records":/,\n\t"records" :\r\n/r . " \n\t",
        C => $big, D => envelope(4, 1, 'id-D'), E => envelope(5, 1, 'id-E'), F => envelope(6, 1, 'id-F'),
        G => envelope(7, 1, 'id-G'),
    );
    my @send = ([A => '/down'], [A => '/down'], [B => '/refused'], [C => '/two'], [D => '/redir'],
                [E => '/ok'], [F => '/down'], [F => '/ok'], [G => '/bad'], [A => '/down']);
    my @got;
    for my $s (@send) {
        my ($id, $path) = @$s;
        my $res = $ua->request('POST', "http://127.0.0.1:$front$path", { content => $body{$id},
            headers => { 'content-type' => 'application/json', 'x-test-id' => "id-$id",
                'x-test-status' => $id eq 'G' ? 'bad_token' : 'ok', 'x-test-device' => "dev-$id",
                'x-test-type' => 'dragino-lds01' } });
        push @got, $res->{status};
    }
    is("@got", '503 503 502 503 200 200 503 200 401 503', 'nginx answered as set up');
    nginx_stop($npid);          # graceful: a worker writes its last lines before it goes

    my $spool = "$p/logs/uplinks.spool";
    my @lines = map { $JSON->decode($_) } split /\n/, slurp($spool);
    my %us = map { ("$_->{id} $_->{upstream_status} $_->{outcome}" => 1) } @lines;
    is_deeply([ sort keys %us ], [ sort 'id-A 503 failed', 'id-B 502 failed',
        'id-C 502, 503 failed', 'id-D 502 : 200 accepted', 'id-E 200 accepted',
        'id-F 503 failed', 'id-F 200 accepted' ],
        'the map: next upstream ("502, 503") and error_page ("502 : 200") lists, last value decides; '
        . 'a request the module refused is not spooled');
    is(scalar(grep { $_->{id} eq 'id-A' } @lines), 3, "KPN's 3 tries of one message: 3 lines");
    is(scalar(grep { $_->{outcome} eq 'accepted' && $_->{body} ne '' } @lines), 0,
        'accepted lines carry no body');

    my $log = "$TMP/wtg8.log";
    my $sp = standin_start(port => $sink, log => $log, rule => sub { '200' });
    my $r = replay('--url', "http://127.0.0.1:$sink/iot", @common, '--state', "$TMP/s8.state",
        '--rate', 100, $spool);
    standin_stop($sp);
    is($r->{code}, 0, 'kpn-replay reads what nginx wrote: exit 0') or show($r);
    my $w = standin_log($log);
    is_deeply([ map { $_->{body} } @{$w->{requests}} ], [ @body{qw(A B C)} ],
        'exactly A, B, C (not F, that a retry got through), byte-identical to what KPN sent');

    # the syslog copy: the same lines behind syslog's header
    $dgram->blocking(0);
    my @dg;
    while (defined(my $from = $dgram->recv(my $d, 1 << 20))) { last if $d eq ''; push @dg, $d }
    my $file_lines = slurp($spool);
    is(join('', map { s/^<\d+>\w{3} [ \d]\d \d\d:\d\d:\d\d kpn_spool: //r . "\n" } @dg), $file_lines,
        'the syslog copy has the same lines, behind "<PRI>TIMESTAMP kpn_spool: "');
    spew("$TMP/s8.syslog", join '', map { "$_\n" } @dg);
    $sp = standin_start(port => $sink, log => "$TMP/wtg8b.log", rule => sub { '200' });
    $r = replay('--url', "http://127.0.0.1:$sink/iot", @common, '--state', "$TMP/s8b.state",
        '--rate', 100, "$TMP/s8.syslog");
    standin_stop($sp);
    $w = standin_log("$TMP/wtg8b.log");
    ok($r->{code} == 0 && join('|', map { $_->{body} } @{$w->{requests}}) eq join('|', @body{qw(A B C)}),
        'kpn-replay reads the syslog lines as they are') or show($r);
}

# ===========================================================================
# 9. the fast reader and JSON::PP read every spool of this test alike
# ===========================================================================
{
    my @spools = grep { -s } map { "$TMP/$_" } qw(s1.spool s3.spool s6.spool nginx/logs/uplinks.spool
                                                  s8.syslog);
    for my $spool (@spools) {
        my @out;
        for my $pp (0, 1) {
            local $ENV{KPN_REPLAY_JSON_PP} = $pp;
            my $r = replay('--dry-run', '--state', "$TMP/none.state", $spool);
            push @out, join '', grep { !/^  time / } split /(?<=\n)/, $r->{stdout} . $r->{stderr};
        }
        (my $name = $spool) =~ s{^\Q$TMP\E/}{};
        is($out[0], $out[1], "$name: the same messages and lines with KPN_REPLAY_JSON_PP=1");
    }
    my $nginx_spool = "$TMP/nginx/logs/uplinks.spool";
    SKIP: {
        skip 'no spool of stock nginx', 1 unless -s $nginx_spool;
        local $ENV{KPN_REPLAY_JSON_PP} = 1;
        my $port = free_port();
        my $sp = standin_start(port => $port, log => "$TMP/wtg9.log", rule => sub { '200' });
        my $r = replay('--url', "http://127.0.0.1:$port/iot", @common, '--state', "$TMP/s9.state",
            '--rate', 100, $nginx_spool);
        standin_stop($sp);
        my $fast = join '|', map { $_->{body} } @{standin_log("$TMP/wtg8.log")->{requests}};
        my $pp = join '|', map { $_->{body} } @{standin_log("$TMP/wtg9.log")->{requests}};
        ok($r->{code} == 0 && $pp eq $fast && $pp ne '',
            "the nginx spool read by JSON::PP: the same bodies, byte for byte") or show($r);
    }
}

# ===========================================================================
# 10. the real module writes the spool: a healthy run, an outage, the replay
# ===========================================================================
#
# nginx with the built module (KPN_MODULE_SO, default build/ngx_http_kpn_module.so;
# make test-replay builds it), the http part of examples/spool.conf as it is
# and its uplink location with the few changes a loopback test needs.  KPN is
# played by HTTP::Tiny: N distinct uplinks, signed as KPN signs them
# (t/lib/KPNTest.pm).  What a healthy run forwards is recorded, then the same
# N uplinks go through an outage, 3 tries each, and kpn-replay must send
# exactly the healthy run's envelopes, once each, also when killed halfway.

# the master's workers: the processes whose parent it is
sub nginx_workers {
    my ($pid) = @_;
    my @w;
    for my $st (glob '/proc/[0-9]*/stat') {
        my $s = slurp($st);
        push @w, $1 if $s =~ /^(\d+) \(.*\) \S+ (\d+) /s && $2 == $pid;
    }
    return @w;
}

# QUIT (graceful: a worker writes its last lines before it goes) by the
# throwaway helper, then KILL for a master or worker still there after 10 s
sub nginx_stop {
    my ($pid) = @_;
    my $p = delete $NGINX{$pid} or return;
    my @w = nginx_workers($pid);
    ThrowawayNginx::stop($p, 'QUIT');
    wait_for(sub { !ThrowawayNginx::alive($pid) }, 5) or kill 'KILL', $pid;
    wait_for(sub { !grep { ThrowawayNginx::alive($_) } @w }, 5) or kill 'KILL', @w;
}

SKIP: {
    my $so = $ENV{KPN_MODULE_SO} // "$ROOT/build/ngx_http_kpn_module.so";
    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    skip "no module: $so is missing (make test-replay builds it)", 1 unless -e $so;
    skip "no $nginx", 1 unless -x $nginx;
    require HTTP::Tiny;
    unshift @INC, "$ROOT/t/lib";
    require KPNTest;
    my $N = 10;

    # --- the configuration: examples/spool.conf, read from the file -------
    my $conf = slurp("$ROOT/examples/spool.conf");
    my ($http) = $conf =~ /^# >>> spool: http\n(.*?)^# <<< spool: http\n/ms;
    my ($loc) = $conf =~ /^(    location = \/kpn\/uplink \{\n.*?^    \}\n)/ms;
    ok(defined $http && defined $loc, 'module: examples/spool.conf has its http part and uplink location')
        or ($http, $loc) = ('', '');

    my $p = "$TMP/nginx10";
    mkdir $_ for $p, "$p/logs", "$p/temp", "$p/spool";
    chmod 0711, $p, "$p/temp";
    chmod 0755, "$p/logs";
    my ($front, $wtg) = (free_port(), free_port());
    my $live = "$p/spool/uplinks.spool";

    # the spool directory and its first file as the Debian package makes
    # them (debian/libnginx-mod-http-kpn.postinst, read from the file)
    my $postinst = slurp("$ROOT/debian/libnginx-mod-http-kpn.postinst");
    my ($dmode, $downer, $dgroup) = $postinst =~ m{^\s*spool_dir /var/spool/kpn (0\d+) (\S+) (\S+)$}m;
    my ($fmode, $fowner, $fgroup) = $postinst
        =~ m{^\s*install -m (0\d+) -o (\S+) -g (\S+) /dev/null /var/spool/kpn/uplinks\.spool$}m;
    ok($dmode && $fmode, "module: the package's spool directory ($dmode $downer:$dgroup) "
        . "and file ($fmode $fowner:$fgroup)") or ($dmode, $fmode) = ('0700', '0600');
    if ($WORKER) {
        chown 0 + getpwnam($downer), 0 + getgrnam($dgroup), "$p/spool";
        spew($live, '');
        chown 0 + getpwnam($fowner), 0 + getgrnam($fgroup), $live;
    } else {
        spew($live, '');
    }
    chmod oct $dmode, "$p/spool";
    chmod oct $fmode, $live;
    spew("$p/destination.secrets", "# the KPN Things destination secret\n$KPNTest::KPN_SECRET\n");
    spew("$p/wtg.token", "# Withthegrid's webhook token\n$TOKEN\n");
    chmod 0600, "$p/destination.secrets", "$p/wtg.token";
    # the recipe's location, changed where a test on loopback must: each
    # change has to apply (a changed example fails here, not silently)
    my @change = (
        [ 'the secret file', qr{(kpn_uplink_secret_file\s+)/\S+;}, sub { "$1$p/destination.secrets;" } ],
        [ 'the token file', qr{(kpn_wtg_token_file\s+)/\S+;}, sub { "$1$p/wtg.token;" } ],
        [ 'Withthegrid: the stand-in', qr{(proxy_pass\s+)https://api\.withthegrid\.com/iot;},
          sub { "${1}http://127.0.0.1:$wtg/iot;" } ],
        [ 'no TLS to the stand-in', qr{^[ \t]*proxy_ssl_\w+[^\n]*\n}m, sub { '' } ],
        [ 'the spool file', qr{/var/spool/kpn/uplinks\.spool}, sub { $live } ],
        # scenario 8 checks the syslog copy; here 4N lines would overflow a
        # local datagram socket's queue (net.unix.max_dgram_qlen, 10) unread
        [ 'no syslog copy', qr{^[ \t]*access_log syslog:[^\n]*\n}m, sub { '' } ],
        [ 'the access log', qr{/var/log/nginx/access\.log}, sub { "$p/logs/access.log" } ],
    );
    my @missed;
    for my $c (@change) {
        my ($what, $re, $to) = @$c;
        my $n = () = $loc =~ /$re/g;
        push @missed, $what unless $n;
        $loc =~ s/$re/$to->()/ge;
    }
    is("@missed", '', 'module: every change of the recipe\'s location applies');
    (my $active = $loc) =~ s/#[^\n]*//g;
    unlike($active, qr{/etc/|/var/|https://}, 'module: nothing of the production paths is left');
    like($active, qr{access_log \Q$live\E kpn_spool if=\$kpn_spool_outcome;}, 'module: the spool access_log');

    my $user = $USER_LINE;
    spew("$p/nginx.conf", <<"END");
load_module $so;
master_process on; worker_processes 2; $user
error_log $p/logs/error.log notice; pid $p/logs/nginx.pid;
events { worker_connections 64; }
http {
    client_body_temp_path $p/temp/body; proxy_temp_path $p/temp/proxy;
    fastcgi_temp_path $p/temp/fcgi; uwsgi_temp_path $p/temp/uwsgi; scgi_temp_path $p/temp/scgi;
    access_log off;
$http
    server {
        listen 127.0.0.1:$front;
$loc    }
}
END
    my $npid = ThrowawayNginx::start($nginx, $p, "$p/nginx.conf");
    $NGINX{$npid} = $p if $npid;
    my $up = $npid && wait_for(sub { ThrowawayNginx::alive($npid)
        && IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $front) }, 10);
    ok($up, 'module: nginx runs the recipe with the module loaded')
        or diag(slurp("$p/logs/error.log"));
    skip 'module: nginx did not start', 1 unless $up;

    # "close the spool" as docs/spool.md says: logrotate -f with the
    # package's snippet (debian/libnginx-mod-http-kpn.logrotate, only the
    # paths changed): rename, create, USR1; done when the master and both
    # workers have said "reopening logs".  Then uplinks.spool.1 is moved
    # to $to (nginx no longer writes to it).
    my $lr = slurp("$ROOT/debian/libnginx-mod-http-kpn.logrotate");
    my $lr_n = ($lr =~ s{/var/spool/kpn/uplinks\.spool}{$live}g) + ($lr =~ s{/run/nginx\.pid}{$p/logs/nginx.pid}g);
    is($lr_n, 3, 'module: the logrotate snippet names the spool and nginx\'s pid file');
    $lr =~ s/^\s*create .*\n//m unless $WORKER;      # not root: cannot chown
    spew("$p/logrotate.conf", $lr);
    chmod 0644, "$p/logrotate.conf";
    my $logrotate = -x '/usr/sbin/logrotate' ? '/usr/sbin/logrotate' : undef;
    my $reopened = 0;
    my $rotate = sub {
        my ($to) = @_;
        if ($logrotate) {
            my $out = `$logrotate -f -s $p/logrotate.state $p/logrotate.conf 2>&1`;
            is($? . $out, '0', "module: logrotate -f rotates the spool ($to)");
            ok(rename("$live.1", $to), "module: $live.1 is there (moved to $to)") or diag("rename: $!");
        } else {
            rename $live, $to or die "rename $live: $!";
            kill 'USR1', $npid;
        }
        $reopened += 3;
        wait_for(sub { (() = slurp("$p/logs/error.log") =~ /reopening logs/g) >= $reopened
                       && -e $live }, 10)
            or diag("module: nginx did not reopen its logs\n" . slurp("$p/logs/error.log"));
        my @st = stat $live;
        is(sprintf('%04o %s', $st[2] & 07777, scalar getpwuid $st[4]),
           $WORKER ? "$fmode $WORKER" : sprintf('%04o %s', $st[2] & 07777, scalar getpwuid $>),
           'module: the new spool file is ' . ($WORKER ? "$fmode, the worker user's" : 'there'));
        unlike(slurp("$p/logs/error.log"), qr/\[emerg\]/,
            'module: every worker reopened the spool (no [emerg])');
    };
    # the whole lines of a spool file, decoded (one that is not JSON: "bad")
    my $spool_lines = sub {
        [ map { my $l = $_; eval { $JSON->decode($l) } // { bad => $l } } slurp($_[0]) =~ /^(.*)\n/mg ]
    };

    # --- the uplinks: N distinct packs, signed as KPN signs them ------------
    my @up;
    for my $i (1 .. $N) {
        my $dev = sprintf '0059AC0000%06X', 0x1B3460 + $i;
        my $bt = sprintf '%d.%03d', 1765739955 + 60 * $i, 219 + $i;
        my $body = qq([{"bn":"urn:dev:DEVEUI:$dev:","bt":$bt,"n":"payload","vs":"763d00)
            . sprintf('%02x', 0x27 + $i) . qq("},{"n":"port","v":) . (1 + $i % 3)
            . qq(},{"n":"FCntUp","v":$i},{"n":"LrrRSSI","v":-10$i.5});
        # escapes and raw UTF-8 in a string: the envelope, the spool's
        # escape=json and kpn-replay's reading must give back every byte
        $body .= q(,{"n":"note","vs":"quote \" backslash \\\\ nl \n ctl \u0001 slash \/ )
            . qq(e\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \x7f"}) if $i == 3;
        # a body larger than client_body_buffer_size: read from a temp file
        $body .= join '', map { qq(,{"n":"log","vs":"line $_ ) . ('x' x 90) . '"}' } 1 .. 200
            if $i == 7;
        $body .= ']';
        my $token = KPNTest::kpn_token($body);
        push @up, { i => $i, dev => $dev, body => $body, token => $token, id => lc $token };
    }
    my %up_of_dev = map { $_->{dev} => $_ } @up;
    my $ua = HTTP::Tiny->new(timeout => 10);
    my $post = sub {
        my ($u, $token) = @_;
        return $ua->request('POST', "http://127.0.0.1:$front/kpn/uplink", { content => $u->{body},
            headers => { 'content-type' => 'application/json', 'things-message-token' => $token,
                         'device-type' => 'dragino-lds01' } })->{status};
    };

    # --- a healthy run: what nginx forwards for each uplink ------------------
    my $sp = standin_start(port => $wtg, log => "$TMP/wtg10-healthy.log", rule => sub { '200' });
    my @st = map { $post->($_, $_->{token}) } @up;
    is("@st", join(' ', ('200') x $N), "module, healthy: nginx answered 200 to each of the $N uplinks");
    standin_stop($sp);
    my $h = standin_log("$TMP/wtg10-healthy.log")->{requests};
    is(scalar @$h, $N, "module, healthy: Withthegrid got $N envelopes");
    for my $k (0 .. $#up) {
        $up[$k]{env} = $h->[$k] ? $h->[$k]{body} : '';
    }
    is(scalar(grep { $_->{env} =~ /"deviceIdentifier":"$_->{dev}"/ } @up), $N,
        'module, healthy: each envelope is of its uplink');
    is(scalar(grep { $_->{env} =~ /"messageId":"\Q$_->{id}\E"\},"records":/ } @up), $N,
        'module, healthy: each envelope carries its message id (kpn.messageId)');
    is(scalar(grep { ($_->{headers}{'x-wtg-token'} // '') eq $TOKEN && $_->{path} eq '/iot' } @$h), $N,
        'module, healthy: POST /iot with $kpn_wtg_token (kpn_wtg_token_file) in x-wtg-token');
    my %env_id = map { $_->{env} => $_->{id} } @up;
    is(scalar keys %env_id, $N, 'module, healthy: the envelopes are distinct');
    wait_for(sub { @{$spool_lines->($live)} >= $N }, 10);
    my $healthy = "$p/spool/healthy.spool";
    $rotate->($healthy);
    my $hl = $spool_lines->($healthy);
    is(scalar @$hl, $N, "module, healthy: $N spool lines");
    is(scalar(grep { my $u = $up_of_dev{$_->{device}};
                     $u && $_->{id} eq $u->{id} && $_->{outcome} eq 'accepted' && $_->{body} eq ''
                     && $_->{status} eq '200' && $_->{upstream_status} eq '200'
                     && $_->{device_type} eq 'dragino-lds01' } @$hl), $N,
        'module, healthy: each "accepted", no body, id = the lowercase token');

    # --- the outage: nothing listens; KPN tries each uplink 3 times ----------
    # (the 2nd try of every other message with its token in upper case: the
    # module accepts that, the id is still lower case)
    @st = ();
    for my $try (1 .. 3) {
        push @st, $post->($_, $try == 2 && $_->{i} % 2 ? uc $_->{token} : $_->{token}) for @up;
    }
    is("@st", join(' ', ('502') x (3 * $N)), "module, outage: 502 to each of the " . 3 * $N . ' tries');
    wait_for(sub { @{$spool_lines->($live)} >= 3 * $N }, 10);
    my $outage = "$p/spool/outage.spool";
    $rotate->($outage);
    my $ol = $spool_lines->($outage);
    is(scalar @$ol, 3 * $N, 'module, outage: ' . 3 * $N . ' spool lines');
    is(scalar(grep { $_->{outcome} eq 'failed' && $_->{status} eq '502' && $_->{upstream_status} eq '502'
                     && $_->{headers}{'content-type'} eq 'application/json' } @$ol), 3 * $N,
        'module, outage: each "failed", 502, upstream 502, content-type application/json');
    my %lines_of;
    for my $l (@$ol) {
        my $u = $up_of_dev{$l->{device}} or next;
        $lines_of{$u->{id}}++ if $l->{id} eq $u->{id};
    }
    is_deeply([ map { $lines_of{$_->{id}} // 0 } @up ], [ (3) x $N ],
        'module, outage: 3 lines for each uplink, each with the lowercase token as id');
    is(scalar(grep { my $u = $up_of_dev{$_->{device}}; $u && $_->{body} eq $u->{env} } @$ol), 3 * $N,
        "module, outage: each line's body is the envelope the healthy run forwarded, byte for byte");
    unlike(slurp($healthy) . slurp($outage), qr/\Q$TOKEN\E|\Q$KPNTest::KPN_SECRET\E/,
        'module: neither the Withthegrid token nor the KPN secret is in the spool');
    my @left = grep { !/^$/ } split /\n/, slurp($live);
    is(scalar @left, 0, 'module: the live spool after the rotation is empty');

    # kpn-replay's order (docs/spool.md): oldest first, by the msec of each
    # message's first line, then by position
    my %first;
    for my $k (0 .. $#$ol) {
        my ($id, $msec) = @{$ol->[$k]}{qw(id msec)};
        $first{$id} //= [ $msec, $k ];
        $first{$id}[0] = $msec if $msec < $first{$id}[0];
    }
    my @order = sort { $first{$a}[0] <=> $first{$b}[0] || $first{$a}[1] <=> $first{$b}[1] } keys %first;
    is_deeply(\@order, [ map { $_->{id} } @up ], 'module, outage: that is the order KPN first sent them');
    my $dry = replay('--dry-run', '--state', "$TMP/s10-none.state", $healthy, $outage);
    like($dry->{stdout}, qr/accepted live by a later retry $N\b.*delivered now\s+0 of 0/s,
        "module: with the healthy run's file too, nothing is sent (it shows all $N accepted)")
        or show($dry);
    my @pp;
    for my $pp (0, 1) {
        local $ENV{KPN_REPLAY_JSON_PP} = $pp;
        my $r = replay('--dry-run', '--state', "$TMP/s10-none.state", $outage);
        push @pp, join '', grep { !/^  time / } split /(?<=\n)/, $r->{stdout} . $r->{stderr};
    }
    is($pp[0], $pp[1], 'module: the spool reads the same with KPN_REPLAY_JSON_PP=1');

    # --- Withthegrid is back: the replay ------------------------------------
    my @args = ('--url', "http://127.0.0.1:$wtg/iot", @common, '--rate', 100,
                '--backoff', 0.1, '--backoff-max', 0.2);
    my $log = "$TMP/wtg10-replay.log";
    $sp = standin_start(port => $wtg, log => $log, rule => sub { '200' });
    my $r = replay(@args, '--state', "$TMP/s10a.state", $outage);
    standin_stop($sp);
    is($r->{code}, 0, 'module, replay: exit 0') or show($r);
    like($r->{stdout}, qr/messages\s+$N \(accepted live by a later retry 0\b.*delivered now\s+$N of $N\b/s,
        "module, replay: $N messages, delivered $N of $N");
    my $w = standin_log($log);
    is(scalar @{$w->{requests}}, $N, "module, replay: Withthegrid got exactly $N requests");
    my @got = map { $env_id{$_->{body}} // 'unknown' } @{$w->{accepted}};
    is_deeply(\@got, \@order,
        "module, replay: the $N envelopes byte-identical to the healthy run's, once each, oldest first");
    is(scalar(grep { $_->{headers}{'x-wtg-token'} eq $TOKEN
                     && $_->{headers}{'content-type'} eq 'application/json' } @{$w->{requests}}), $N,
        'module, replay: the token of the file, Content-Type from the spool');
    is(scalar(grep { $_->[0] eq 'done' } @{state_events("$TMP/s10a.state")}), $N,
        "module, replay: the state file has $N done");

    # --- again, killed halfway: SIGKILL with the 5th request in flight -------
    my $at = int($N / 2);
    my $state = "$TMP/s10b.state";
    $log = "$TMP/wtg10-kill.log";
    my $killed = 0;
    $sp = standin_start(port => $wtg, log => $log, pidfile => "$TMP/replay.pid",
        rule => sub {
            my ($n) = @_;
            return '200' if $killed || $n != $at;
            $killed = 1;
            return 'kill-before';
        });
    my $r1 = replay_wait(replay_start(@args, '--state', $state, $outage), 60);
    is($r1->{signal}, 9, 'module, killed: the first run died of SIGKILL') or show($r1);
    is(scalar(grep { $_->[0] eq 'done' } @{state_events($state)}), $at - 1,
        'module, killed: ' . ($at - 1) . ' recorded done before the kill');
    my $r2 = replay(@args, '--state', $state, $outage);
    standin_stop($sp);
    is($r2->{code}, 0, 'module, killed: the rerun exits 0') or show($r2);
    $w = standin_log($log);
    my @cut = grep { !defined $_->{answered} } @{$w->{requests}};
    is(scalar @cut, 1, 'module, killed: one request cut off unanswered');
    my @doubt = $r2->{stderr} =~ /^kpn-replay: ([0-9a-f]{64}): sent by an earlier run/mg;
    is_deeply(\@doubt, [ map { $env_id{$_->{body}} // 'unknown' } @cut ],
        'module, killed: the rerun names that message in doubt and sends it again');
    like($r2->{stdout}, qr/already done\s+${\($at - 1)}\b.*in doubt\s+1\b.*delivered now\s+${\($N - $at + 1)} of ${\($N - $at + 1)}\b/s,
        'module, killed: summary: ' . ($at - 1) . ' already done, 1 in doubt, the rest delivered');
    @got = map { $env_id{$_->{body}} // 'unknown' } @{$w->{accepted}};
    is_deeply(\@got, \@order,
        "module, killed: across both runs exactly $N accepted, none twice, byte-identical, in order");

    # A reopen that failed (the directory closed to the worker user, as in
    # the layout of earlier docs): the workers stay on the renamed file and
    # the new one stays empty.  Once the directory is right again, the next
    # logrotate -f must rotate that empty file too and reopen: the next line
    # is in the live file, not in the renamed one.
    my $stuck_test = $WORKER && $logrotate;
    if ($stuck_test) {
        my $count = sub { scalar(() = slurp("$p/logs/error.log") =~ /$_[0]/g) };
        my $emerg0 = $count->(qr/\[emerg\] .*open\(\) "\Q$live\E" failed \(13: Permission denied\)/);
        $post->($up[1], $up[1]{token});      # a line: logrotate rotates a spool with lines
        wait_for(sub { @{$spool_lines->($live)} >= 1 }, 10);
        chmod 0700, "$p/spool";
        `$logrotate -f -s $p/logrotate.state $p/logrotate.conf 2>&1`;
        wait_for(sub { $count->(qr/\[emerg\] .*open\(\) "\Q$live\E" failed \(13: Permission denied\)/)
                       >= $emerg0 + 2 }, 10)
            or diag('module, stuck: the workers did reopen?' . slurp("$p/logs/error.log"));
        ok(rename("$live.1", "$p/spool/stuck.spool"), 'module, stuck: the workers write to the renamed file');
        chmod oct $dmode, "$p/spool";
        my $reopen0 = $count->(qr/reopening logs/);
        my $out = `$logrotate -f -s $p/logrotate.state $p/logrotate.conf 2>&1`;
        wait_for(sub { $count->(qr/reopening logs/) >= $reopen0 + 3 }, 5);
        my $st = $post->($up[0], $up[0]{token});
        wait_for(sub { @{$spool_lines->($live)} + @{$spool_lines->("$p/spool/stuck.spool")} >= 1 }, 10);
        is(scalar @{$spool_lines->($live)}, 1,
           "module, stuck: after the directory is right again, logrotate -f ($?$out) rotates the "
           . "empty spool and reopens: the next line ($st) is in the live file")
            or diag('the renamed file has ' . scalar(@{$spool_lines->("$p/spool/stuck.spool")}) . ' line(s)');
    }

    nginx_stop($npid);
    my $el = slurp("$p/logs/error.log");
    $el =~ s/^.*\[emerg\] .*open\(\) "\Q$live\E" failed \(13: Permission denied\)\n//mg if $stuck_test;
    like($el, qr/a client request body is buffered to a temporary file/,
        'module: the large uplink was read from a temp file');
    my @err = grep { /\[(?:error|crit|alert|emerg)\]/ } split /\n/, $el;
    is(scalar(grep { !/\[error\] .*connect\(\) failed \(111: Connection refused\)/ } @err), 0,
        'module: no error in the log but the refused connections of the outage')
        or diag(join "\n", @err);
}

# ===========================================================================
# 11. a hanging Withthegrid: every try is spooled, no connection runs out
# ===========================================================================
#
# Withthegrid accepts connections and never answers.  KPN sends R uplinks a
# second for S seconds and gives up on each after K s.  nginx runs the
# example's uplink location as it is (its timeouts, its
# proxy_ignore_client_abort) with the connections docs/spool.md's rule asks
# for when KPN's patience bounds a try: 2 x R x K, plus room.  Every try must
# be spooled with its envelope, and no worker may run out of connections.
SKIP: {
    my $so = $ENV{KPN_MODULE_SO} // "$ROOT/build/ngx_http_kpn_module.so";
    my $nginx = $ENV{TEST_NGINX_BINARY} // '/usr/sbin/nginx';
    skip "no module: $so is missing", 1 unless -e $so;
    skip "no $nginx", 1 unless -x $nginx;
    my ($R, $S, $K) = (20, 3, 1);
    my $conns = 2 * $R * $K + 24;
    my $conf = slurp("$ROOT/examples/spool.conf");
    my ($http) = $conf =~ /^# >>> spool: http\n(.*?)^# <<< spool: http\n/ms;
    my ($loc) = $conf =~ /^(    location = \/kpn\/uplink \{\n.*?^    \}\n)/ms;
    my $p = "$TMP/nginx11";
    mkdir $_ for $p, "$p/logs", "$p/temp", "$p/spool";
    chmod 0711, $p, "$p/temp";
    chmod 0755, "$p/logs";
    chmod 0710, "$p/spool";
    chown 0, 0 + getgrnam($WORKER), "$p/spool" if $WORKER;
    # the spool on a small file system of its own, to be filled (root only)
    my $tmpfs = $> == 0 && !system('mount', '-t', 'tmpfs', '-o',
        'size=1m,mode=0710,uid=0,gid=' . ($WORKER ? getgrnam($WORKER) + 0 : 0), 'kpn-spool-test', "$p/spool");
    $MOUNTED{"$p/spool"} = 1 if $tmpfs;
    my ($front, $wtg) = (free_port(), free_port());
    my $live = "$p/spool/uplinks.spool";
    spew($live, '');
    chmod 0600, $live;
    chown 0 + getpwnam($WORKER), 0, $live if $WORKER;
    spew("$p/destination.secrets", "$KPNTest::KPN_SECRET\n");
    spew("$p/wtg.token", "$TOKEN\n");
    chmod 0600, "$p/destination.secrets", "$p/wtg.token";
    $loc =~ s{(kpn_uplink_secret_file\s+)/\S+;}{$1$p/destination.secrets;};
    $loc =~ s{(kpn_wtg_token_file\s+)/\S+;}{$1$p/wtg.token;};
    $loc =~ s{(proxy_pass\s+)https://api\.withthegrid\.com/iot;}{${1}http://127.0.0.1:$wtg/iot;};
    $loc =~ s{^[ \t]*proxy_ssl_\w+[^\n]*\n}{}mg;
    $loc =~ s{/var/spool/kpn/uplinks\.spool}{$live};
    $loc =~ s{^[ \t]*access_log syslog:[^\n]*\n}{}mg;
    $loc =~ s{/var/log/nginx/access\.log}{$p/logs/access.log};
    spew("$p/nginx.conf", <<"END");
load_module $so;
master_process on; worker_processes 1; $USER_LINE
error_log $p/logs/error.log notice; pid $p/logs/nginx.pid;
events { worker_connections $conns; }
http {
    client_body_temp_path $p/temp/body; proxy_temp_path $p/temp/proxy;
    fastcgi_temp_path $p/temp/fcgi; uwsgi_temp_path $p/temp/uwsgi; scgi_temp_path $p/temp/scgi;
    access_log off;
$http
    server {
        listen 127.0.0.1:$front;
$loc    }
}
END
    # Withthegrid, hanging: takes every connection, reads, never answers
    my $hang = fork // die "fork: $!";
    if ($hang == 0) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        alarm 0;
        my $l = IO::Socket::IP->new(LocalHost => '127.0.0.1', LocalPort => $wtg, Listen => 128,
            ReuseAddr => 1) or POSIX::_exit(1);
        my $sel = IO::Select->new($l);
        my $until = time + 30;
        while (time < $until) {
            for my $h ($sel->can_read(0.2)) {
                if ($h == $l) { my $c = $l->accept; $sel->add($c) if $c; next }
                $sel->remove($h), close $h unless sysread $h, my $buf, 65536;
            }
        }
        POSIX::_exit(0);
    }
    push @children, $hang;
    my $npid = ThrowawayNginx::start($nginx, $p, "$p/nginx.conf");
    $NGINX{$npid} = $p if $npid;
    my $up = $npid && wait_for(sub { IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $front) }, 10);
    ok($up, 'hang: nginx runs the example\'s location') or diag(slurp("$p/logs/error.log"));
    # KPN: R uplinks a second, each given up after K s (connection closed)
    my (@open, %want);
    my $t0 = time;
    for my $i (1 .. $R * $S) {
        sleep_until_t($t0 + ($i - 1) / $R);
        my $body = qq([{"bn":"urn:dev:DEVEUI:0059AC0000) . sprintf('%06X', $i)
            . qq(:","bt":1765739955,"n":"payload","vs":"763d0028"},{"n":"port","v":1}]);
        my $token = KPNTest::kpn_token($body);
        $want{lc $token} = 1;
        my $c = IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $front) or next;
        print $c "POST /kpn/uplink HTTP/1.1\r\nHost: kpn\r\nContent-Type: application/json\r\n"
            . "Things-Message-Token: $token\r\nDevice-Type: dragino-lds01\r\n"
            . "Content-Length: " . length($body) . "\r\n\r\n$body";
        push @open, [ time, $c ];
        close((shift @open)->[1]) while @open && $open[0][0] < time - $K;
    }
    while (@open) { sleep_until_t($open[0][0] + $K); close((shift @open)->[1]) }
    my $n = $R * $S;
    my $lines = sub { [ map { eval { $JSON->decode($_) } // {} } slurp($live) =~ /^(.*)\n/mg ] };
    wait_for(sub { @{$lines->()} >= $n }, 15);
    my $l = $lines->();
    is(scalar(grep { $_->{outcome} eq 'failed' && $want{$_->{id}} && $_->{body} =~ /"messageId":"\Q$_->{id}\E"/ }
        @$l), $n, "hang: each of the $n tries spooled as failed, with its envelope, "
        . 'within 15 s of KPN giving up') or diag(scalar(@$l) . " lines");
    my $el = slurp("$p/logs/error.log");
    unlike($el, qr/worker_connections are not enough/,
        "hang: $conns connections (2 x $R/s x $K s + 24) were enough");
    kill 'TERM', $hang;
    waitpid $hang, 0;
    @children = grep { $_ != $hang } @children;

    # --- a full disk: Withthegrid is gone (502 at once); the file system
    # fills up in the middle of a line, 4 more lines find no room at all;
    # then there is room again, and 5 more lines are written
    SKIP: {
        skip 'a full disk: not root or no tmpfs', 5 unless $tmpfs;
        wait_for(sub { !IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $wtg) }, 5);
        require HTTP::Tiny;
        my $ua = HTTP::Tiny->new(timeout => 10);
        my $seq = 1000;
        my $post = sub {
            my $i = ++$seq;
            my $body = qq([{"bn":"urn:dev:DEVEUI:0059AC0000) . sprintf('%06X', $i)
                . qq(:","bt":1765739955,"n":"payload","vs":"763d0028"},{"n":"port","v":1}]);
            my $token = KPNTest::kpn_token($body);
            my $st = $ua->request('POST', "http://127.0.0.1:$front/kpn/uplink", { content => $body,
                headers => { 'content-type' => 'application/json', 'things-message-token' => $token,
                             'device-type' => 'dragino-lds01' } })->{status};
            return [ lc $token, $st ];
        };
        # 300 bytes left in the file's last page, and no free page
        my $pad = (4096 - 300 - (-s $live) % 4096) % 4096;
        open my $fh, '>>:raw', $live or die; print $fh "\n" x $pad; close $fh;
        my $avail = (split /\n/, `df -B1 --output=avail $p/spool`)[1] + 0;
        open $fh, '>:raw', "$p/spool/filler" or die;
        syswrite $fh, "\0" x $avail;
        close $fh;
        my @full = map { $post->() } 1 .. 5;
        unlink "$p/spool/filler";
        # after a write failed with ENOSPC nginx writes no line to that log
        # for the rest of the second (ngx_http_log_module: disk_full_time)
        sleep 1.1;
        my @after = map { $post->() } 1 .. 5;
        is(join(' ', map { $_->[1] } @full, @after), join(' ', ('502') x 10),
            'full disk: nginx answered 502 to the 10 uplinks');
        wait_for(sub { (() = slurp($live) =~ /\{"kpn_spool":/g) >= $n + 6 }, 10);
        my $el = slurp("$p/logs/error.log");
        is(scalar(() = $el =~ /write\(\) to "\Q$live\E" was incomplete: \d+ of \d+/g), 1,
            'full disk: nginx wrote one line in part');
        my $r = replay('--dry-run', '--state', "$TMP/s11.state", $live);
        is($r->{code}, 6, 'full disk: kpn-replay exit 6') or show($r);
        like($r->{stderr}, qr/uplinks\.spool:\d+: cut spool line \(another record begins on it at byte 301:/,
            'full disk: names the cut line (300 bytes written)');
        my %listed = map { $_ => 1 } $r->{stdout} =~ /^([0-9a-f]{64})  /mg;
        is_deeply([ sort keys %listed ], [ sort keys(%want), map { $_->[0] } @after ],
            "full disk: kpn-replay has every message but the 5 nginx could not write: the $n "
            . 'before, and the 5 after, the first of them written onto the cut line');
    }
    nginx_stop($npid);
    system('umount', "$p/spool") if delete $MOUNTED{"$p/spool"};
}

# ===========================================================================
# 12. closing the spool again and again, as docs/spool.md says
# ===========================================================================
#
# No nginx: the files only (scenario 10 has the workers reopen).  The hand
# rotation is docs/spool.md's own shell block (the directory changed, nginx's
# reopen a no-op), run twice within a second, with a line in between: no
# file may take the place of another.  The package's logrotate snippet
# (paths changed, no postrotate) with logrotate -f once per outage, eleven
# times: every file younger than 8 weeks stays (docs/spool.md: kept 8 weeks);
# a rotated file older than that goes at the next rotation.
SKIP: {
    my $d = "$TMP/s12";
    mkdir $d or die "$d: $!";
    my $doc = slurp("$ROOT/docs/spool.md");
    my ($block) = $doc =~ /```sh\n\s*(cd \/var\/spool\/kpn [^`]*?)\s*```/;
    ok($block, 'close the spool: docs/spool.md has the hand rotation') or skip 'no hand rotation', 1;
    my $n = ($block =~ s{/var/spool/kpn}{$d}g) + ($block =~ s{nginx -s reopen}{true}g);
    is($n, 2, 'close the spool: the block names the spool directory and nginx -s reopen once each');
    $block =~ s/ -o www-data -g root//g unless $WORKER;
    my @rc;
    for my $outage (1, 2) {
        spew("$d/uplinks.spool", "outage $outage\n");
        chmod 0600, "$d/uplinks.spool";
        system('sh', '-c', $block);
        push @rc, $? >> 8;
    }
    my %where = map { my $f = $_; (slurp($f) => $f =~ s{.*/}{}r) } glob "$d/uplinks.spool*";
    ok(-e "$d/uplinks.spool", 'close the spool by hand: the live file is there');
    is(join(', ', map { $where{"outage $_\n"} ? "outage $_ kept" : "outage $_ lost" } 1, 2),
       'outage 1 kept, outage 2 kept',
       "close the spool by hand, twice within a second (exit @rc): no file takes another's place")
        or diag(join "\n", map { "$_: " . slurp($_) } glob "$d/uplinks.spool*");

    my $logrotate = -x '/usr/sbin/logrotate' ? '/usr/sbin/logrotate' : undef;
    skip 'no logrotate', 1 unless $logrotate;
    my $l = "$TMP/s12lr";
    mkdir $l or die "$l: $!";
    my $lr = slurp("$ROOT/debian/libnginx-mod-http-kpn.logrotate");
    $lr =~ s{/var/spool/kpn}{$l}g;
    $lr =~ s{^\s*postrotate\n.*?endscript\n}{}ms;
    $lr =~ s/^\s*create .*\n//m unless $WORKER;
    spew("$l/conf", $lr);
    chmod 0644, "$l/conf";
    for my $outage (1 .. 11) {
        spew("$l/uplinks.spool", "outage $outage\n");
        my $out = `$logrotate -f -s $l/state $l/conf 2>&1`;
        is($? . $out, '0', "logrotate -f, outage $outage") if $outage == 1 || $?;
    }
    my %kept = map { (slurp($_) => 1) } glob "$l/uplinks.spool.*";
    is(join(' ', grep { !$kept{"outage $_\n"} } 1 .. 11), '',
       'logrotate -f once per outage, 11 times: every outage file kept (younger than 8 weeks)');
    my ($oldest) = grep { slurp($_) eq "outage 1\n" } glob "$l/uplinks.spool.*";
    utime time - 57 * 86400, time - 57 * 86400, $oldest if $oldest;
    spew("$l/uplinks.spool", "outage 12\n");
    `$logrotate -f -s $l/state $l/conf 2>&1`;
    %kept = map { (slurp($_) => 1) } glob "$l/uplinks.spool.*";
    is(join(' ', grep { !$kept{"outage $_\n"} } 1 .. 12), '1',
       'logrotate: a rotated file older than 8 weeks is deleted at the next rotation, the others kept');
}

sub sleep_until_t { my $d = $_[0] - time; sleep $d if $d > 0 }

diag(sprintf 'test-replay.pl: %.1f s', time - $started);
done_testing();
