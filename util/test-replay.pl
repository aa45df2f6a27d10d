#!/usr/bin/perl
# End-to-end test of util/kpn-replay (make test-replay; prove util/test-replay.pl).
#
# Needs no part of the C module: it writes spool files in the format of
# docs/spool.md itself (and, when /usr/sbin/nginx is there, has a stock nginx
# write one with the map and log_format of examples/spool.conf), starts
# loopback stand-ins for Withthegrid (Perl, 127.0.0.1 only, each with a
# lifetime) and runs kpn-replay against them:
#
#   1  outage: connections refused, then 503s, then 200: every message once,
#      byte for byte, the latest line of each, oldest first, within --rate;
#      the token from the file and never in ps; a rerun sends nothing
#   2  kill -9 with a request in flight, kill -9 right after a 2xx and at
#      moments picked from outside: the reruns deliver every message, none
#      twice but the one the rerun names "in doubt" (only after a 2xx)
#   3  a 4xx stops the run with the answer, exit 2; --skip goes past it
#   4  options: token file, token on the command line, URLs, the lock
#   5  https: an unknown CA and a wrong name are exit 4 and send nothing;
#      --ca-file delivers
#   6  unreadable and incomplete spool lines: exit 6, the rest delivered
#   7  the progress line shows on a terminal only (script(1))
#   8  stock nginx writes the spool (map, escape=json, $upstream_status of
#      next upstream and error_page), kpn-replay sends exactly the failed ones
#
# Every wait is bounded; the whole file stops itself after 300 s.
# KPN_REPLAY=path tests another kpn-replay (the installed one, say).

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::IP;
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(WNOHANG);
use Test::More;
use Time::HiRes qw(time sleep);

my $ROOT   = abs_path(dirname(__FILE__) . '/..');
my $REPLAY = $ENV{KPN_REPLAY} // "$ROOT/util/kpn-replay";
my $TMP    = tempdir('kpn-replay-test.XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $JSON   = JSON::PP->new->canonical;
my $TOKEN  = 'wtg-test-token-' . sha256_hex("$$" . time);

my @children;
$SIG{ALRM} = sub { BAIL_OUT('test-replay.pl ran over 300 s') };
alarm 300;
END { kill 'KILL', $_ for grep { $_ } @children; }

my $started = time;

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
            my $status = $action eq 'kill-after' ? 200 : $action;
            my $body = $status =~ /^2/ ? '{"ok":true}' : $status == 400
                ? '{"error":"unknown device","message":"device 0059AC stand-in test"}' : "down\n";
            my $extra = $status == 503 ? "Retry-After: 0\r\n" : '';
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
    my $min_gap = 1e9;
    $min_gap = ($req[$_]{t} - $req[$_ - 1]{t}) < $min_gap ? $req[$_]{t} - $req[$_ - 1]{t} : $min_gap
        for 1 .. $#req;
    cmp_ok($min_gap, '>=', 0.75 / $rate, sprintf('--rate %d: requests at least %.0f ms apart (min %.1f ms)',
        $rate, 750 / $rate, 1000 * $min_gap));
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
    skip 'IO::Socket::SSL or openssl missing (util/install-deps.sh replay)', 7
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
    splice @l, 4, 0, "{\"kpn_spool\":1,\"id\":\"abc\",\"upstream_status\":\"502\",\"body\":\"{\\\"cut\n",
        "{\"kpn_spool\":1,\"upstream_status\":\"502\",\"body\":\"{}\"}\n";
    # written by hand: white space, other order, \u escapes (read by JSON::PP)
    my $hand = qq({"messageId":"hand-1","x":"caf\xc3\xa9 \x01"});
    push @l, qq( { "body" : "{\\"messageId\\":\\"hand-1\\",\\"x\\":\\"caf\\u00c3\\u00a9 \\u0001\\"}", )
        . qq(   "upstream_status" : "502, 504", "id" : "hand-1", "headers" : {} }\n);
    push @l, '{"kpn_spool":1,"id":"half-writ';
    spew($spool, join '', @l);
    my $port = free_port();
    my $log = "$TMP/wtg6.log";
    my $sp = standin_start(port => $port, log => $log, rule => sub { '200' });
    my $r = replay('--url', "http://127.0.0.1:$port/iot", @common, '--state', "$TMP/s6.state",
        '--rate', 100, $spool);
    standin_stop($sp);
    is($r->{code}, 6, 'unreadable lines: exit 6') or show($r);
    like($r->{stderr}, qr/s6\.spool:5: unreadable spool line: not JSON/, 'names the cut line');
    like($r->{stderr}, qr/s6\.spool:6: unreadable spool line: no message id/, 'names the line without id');
    like($r->{stdout}, qr/unreadable 2, incomplete last line 1/, 'summary counts them');
    my $w = standin_log($log);
    is_deeply([ map { $_->{body} } @{$w->{accepted}} ], [ $hand, map { $_->{body} } @$expect ],
        'the readable messages are delivered, a line written by hand too');
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
    my %sub = (kpn_uplink_status => 'http_x_test_status', kpn_message_id => 'http_x_test_id',
               kpn_device_id => 'http_x_test_device', kpn_device_type => 'http_x_test_type',
               kpn_uplink_body => 'request_body');
    $http =~ s/\$(kpn_[a-z_]+)/exists $sub{$1} ? "\$$sub{$1}" : "\$$1"/ge;
    my @left = $http =~ /\$(kpn_(?!spool_)[a-z_]+)/g;
    is("@left", '', 'every module variable of the recipe is stood in for');
    my ($access) = $conf =~ /^\s*(access_log\s+\/var\/spool\/\S+\s+kpn_spool\s+if=\$kpn_spool_it;)/m;
    ok($access, 'examples/spool.conf has the access_log line') or $access = '';
    my ($syslog) = $conf =~ /^\s*(access_log\s+syslog:server=unix:\S+\s+kpn_spool\s+if=\$kpn_spool_it;)/m;
    ok($syslog, 'and the syslog one') or $syslog = '';

    my $p = "$TMP/nginx";
    mkdir $p; mkdir "$p/logs"; mkdir "$p/temp";
    my ($front, $wtg, $closed, $sink) = (free_port(), free_port(), free_port(), free_port());
    (my $acc = $access) =~ s{/var/spool/\S+}{$p/logs/uplinks.spool};
    (my $sl = $syslog) =~ s{unix:/[^,\s]+}{unix:$p/dev-log};
    require IO::Socket::UNIX;
    my $dgram = IO::Socket::UNIX->new(Type => Socket::SOCK_DGRAM(), Local => "$p/dev-log")
        or die "$p/dev-log: $!";
    setsockopt($dgram, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 1 << 20);
    my $user = $> == 0 ? 'user root;' : '';
    spew("$p/nginx.conf", <<"END");
daemon off; master_process on; worker_processes 2; $user
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
    my $npid = fork // die;
    if ($npid == 0) {
        open STDOUT, '>', "$p/logs/stdout"; open STDERR, '>&', \*STDOUT;
        { exec $nginx, '-p', "$p/", '-c', "$p/nginx.conf", '-e', "$p/logs/error.log" }
        POSIX::_exit(127);
    }
    push @children, $npid;
    my $up = wait_for(sub { IO::Socket::IP->new(PeerHost => '127.0.0.1', PeerPort => $front) }, 10);
    ok($up, 'stock nginx runs the recipe') or diag(slurp("$p/logs/stdout") . slurp("$p/logs/error.log"));

    require HTTP::Tiny;
    my $ua = HTTP::Tiny->new(timeout => 10);
    my $big = envelope(1, 1, 'big') =~ s/"records":\[/'"records":[' . ('{"n":"x","v":1},' x 1200)/er;
    my %body = (
        A => envelope(1, 1, 'A'), B => envelope(2, 1, 'B') . " \x01\x1f\x7f\\\"\n\t",
        C => $big, D => envelope(4, 1, 'D'), E => envelope(5, 1, 'E'), F => envelope(6, 1, 'F'),
        G => envelope(7, 1, 'G'),
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
    kill 'QUIT', $npid;         # graceful: a worker writes its last lines before it goes
    wait_for(sub { waitpid($npid, WNOHANG) == $npid }, 10) or do { kill 'KILL', $npid; waitpid $npid, 0 };
    @children = grep { $_ != $npid } @children;

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

diag(sprintf 'test-replay.pl: %.1f s', time - $started);
done_testing();
