#!/usr/bin/perl
# The downlink's token cache under faults, measured (`make faults`):
#
#   1. impatient callers: the token endpoint answers after 3 s, callers give
#      up after 2 s (a loop of them for 20 s) and 50 callers that give up
#      after 0.3 s; counts token fetches, tokens issued and downlinks sent;
#   2. a refusing KPN: the API answers 401 to everything; 2,000 downlinks,
#      20 at a time; counts token fetches and downlink posts;
#   3. a dead lease holder: the worker that fetches is killed (SIGKILL) 1 s
#      into a stalled fetch; when does the next fetch start, and how long
#      does a downlink sent at +1.1 s take.
#
# nginx with a master and 4 workers on 127.0.0.1 (started and stopped by
# util/lib/throwaway-nginx.sh), the module from KPN_MODULE_SO; the stand-ins are one Perl process (loopback only).  Every
# loop is bounded in count and time.  Prints one line per figure.
#
# Usage: util/bench/faults.pl [--nginx BIN] [--module SO]

use strict;
use warnings;

use File::Temp ();
use FindBin ();
use Getopt::Long ();
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

use lib "$FindBin::Bin/../lib";
use ThrowawayNginx;             # the throwaway nginx of util/lib/throwaway-nginx.sh

my $nginx = '/usr/sbin/nginx';
my $module = $ENV{KPN_MODULE_SO} || 'build/ngx_http_kpn_module.so';
Getopt::Long::GetOptions('nginx=s' => \$nginx, 'module=s' => \$module) or exit 2;
$module = File::Spec->rel2abs($module);
-f $module or die "faults: no module at $module (make build)\n";
-x '/usr/bin/curl' or die "faults: curl is needed\n";

my $dir = File::Temp::tempdir('kpn-faults-XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$dir/$_" for qw(conf logs);

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1) or die;
    my $p = $s->sockport;
    close $s;
    return $p;
}

my ($port, $stub_port) = (free_port(), free_port());

# --- the stand-in: token endpoint and KPN API, one child per connection ---
#
# It appends one line per request to $dir/stub.log: "<time> <kind> <pid>".
# Its behaviour is set by the file $dir/mode: "slow" (token after 3 s),
# "fast", "stall1" (the first token request never answers), and the API
# answers 401 when $dir/api is "401", else 201.

sub file_of { my $f = shift; open my $fh, '<', $f or return ''; local $/; my $v = <$fh>; chomp $v; $v }
sub set_file { my ($f, $v) = @_; open my $fh, '>', $f or die; print $fh $v; close $fh }

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $stub_port,
                                Listen => 256, ReuseAddr => 1) or die "stub: $!\n";
my $stub = fork // die;
if ($stub == 0) {
    $SIG{CHLD} = 'IGNORE';
    my $issued = 0;
    while (my $c = $srv->accept) {
        $issued++;
        my $pid = fork;
        next if !defined $pid;
        if ($pid) { close $c; next }
        my $buf = '';
        while ($buf !~ /\r\n\r\n/) { sysread($c, $buf, 65536, length $buf) or last }
        my ($path) = $buf =~ /^\S+ (\S+)/;
        my ($wpid) = $buf =~ /^X-Worker-Pid:\s*(\d+)/mi;
        my ($len) = $buf =~ /^Content-Length:\s*(\d+)/mi;
        my ($head) = $buf =~ /\A(.*?\r\n\r\n)/s;
        while (defined $len && length($buf) < length($head // '') + $len) {
            sysread($c, $buf, 65536, length $buf) or last;
        }
        my $kind = ($path // '') =~ /token/ ? 'token' : 'downlink';
        open my $log, '>>', "$dir/stub.log";
        printf $log "%.3f %s %s\n", time, $kind, $wpid // '-';
        close $log;
        my $mode = file_of("$dir/mode");
        if ($kind eq 'token') {
            if ($mode eq 'stall1' && !-e "$dir/stalled") {
                set_file("$dir/stalled", $wpid // '');
                sleep 60;
                POSIX::_exit(0);
            }
            sleep 3 if $mode eq 'slow';
            my $b = qq({"access_token":"tok-$$","expires_in":3600});
            print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   . "Content-Length: " . length($b) . "\r\nConnection: close\r\n\r\n$b";
        } else {
            my ($st, $b) = file_of("$dir/api") eq '401'
                ? (401, '{"message":"unauthorized"}') : (201, '{"result":"queued"}');
            print $c "HTTP/1.1 $st X\r\nContent-Type: application/json\r\n"
                   . "Content-Length: " . length($b) . "\r\nConnection: close\r\n\r\n$b";
        }
        close $c;
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}
close $srv;

# --- nginx ---

sub write_conf {
    open my $fh, '>', "$dir/conf/nginx.conf" or die;
    print $fh <<"_EOC_";
load_module $module;
worker_processes 4;
error_log $dir/logs/error.log warn;
pid $dir/logs/nginx.pid;
events { worker_connections 1024; accept_mutex off; }
http {
    access_log off;
    kpn_token_zone zone=kpn:1m;
    server {
        listen 127.0.0.1:$port reuseport;
        location = /downlink {
            kpn_downlink zone=kpn;
            kpn_downlink_keys off;
            kpn_client_id faults;
            kpn_client_secret faults-secret;
            kpn_token_backoff 5s;
            kpn_token_lock_timeout 30s;
            kpn_token_uri /_kpn/token;
            kpn_downlink_uri /_kpn/downlinks;
        }
        location = /_kpn/token {
            internal;
            kpn_endpoint token;
            proxy_read_timeout 60s;
            proxy_set_header X-Worker-Pid \$pid;
            proxy_pass http://127.0.0.1:$stub_port/token;
        }
        location = /_kpn/downlinks {
            internal;
            kpn_endpoint api;
            proxy_pass http://127.0.0.1:$stub_port/downlinks\$is_args\$args;
        }
    }
}
_EOC_
    close $fh;
}

sub nginx_start {
    unlink "$dir/stub.log", "$dir/stalled";
    write_conf();
    ThrowawayNginx::start($nginx, $dir) or die "nginx failed\n";
    sleep 0.5;
}

# QUIT (graceful), then the master waited for (at most 10 s in all)
sub nginx_stop {
    my $pid = file_of("$dir/logs/nginx.pid");
    ThrowawayNginx::stop($dir, 'QUIT');
    for (1 .. 50) { last unless ThrowawayNginx::alive($pid); sleep 0.1 }
}

my $DL = '{"devEUI":"0059ac00001b3461","port":2,"payload":"0a0b"}';

# one downlink with curl; returns (status, seconds)
sub downlink {
    my ($max) = @_;
    my $t0 = time;
    my $out = `curl -s -o /dev/null -w '%{http_code}' -m $max -H 'Content-Type: application/json' --data-binary '$DL' http://127.0.0.1:$port/downlink 2>/dev/null`;
    return ($out || '000', time - $t0);
}

sub stub_count {
    my ($kind) = @_;
    open my $fh, '<', "$dir/stub.log" or return 0;
    return scalar grep { / \Q$kind\E / } <$fh>;
}

sub stub_times {
    my ($kind) = @_;
    open my $fh, '<', "$dir/stub.log" or return ();
    return map { (split ' ')[0] } grep { / \Q$kind\E / } <$fh>;
}

# 1. impatient callers
set_file("$dir/mode", 'slow');
set_file("$dir/api", '201');
nginx_start();
{
    my $t0 = time;
    my (%codes, $n);
    while (time - $t0 < 20 && $n++ < 200) {
        my ($code) = downlink(2);
        $codes{$code}++;
    }
    my $tokens = stub_count('token');
    my $dls = stub_count('downlink');
    printf "1a. callers giving up after 2 s, %d in 20 s, token endpoint 3 s: %d token fetch(es), %d downlinks sent; answers: %s\n",
        $n, $tokens, $dls, join(', ', map { "$_ x $codes{$_}" } sort keys %codes);
}
nginx_stop();
nginx_start();
{
    my @pids;
    for (1 .. 50) {
        my $pid = fork // die;
        if ($pid == 0) { downlink(0.3); POSIX::_exit(0) }
        push @pids, $pid;
    }
    waitpid $_, 0 for @pids;
    my @t = stub_times('token');
    sleep 3.5;
    my ($code) = downlink(5);
    my @t2 = stub_times('token');
    printf "1b. 50 callers giving up after 0.3 s: %d token fetch(es) while they came and went, %d in all; a caller 3.5 s later: %s\n",
        scalar @t, scalar @t2, $code;
}
nginx_stop();

# 2. a refusing KPN
set_file("$dir/mode", 'fast');
set_file("$dir/api", '401');
nginx_start();
{
    my $t0 = time;
    my %codes;
    my $total = 2000;
    my $per = $total / 20;
    my @pids;
    pipe(my $r, my $w) or die;
    for my $j (1 .. 20) {
        my $pid = fork // die;
        if ($pid == 0) {
            close $r;
            my %c;
            for (1 .. $per) {
                last if time - $t0 > 120;
                my ($code) = downlink(5);
                $c{$code}++;
            }
            print $w join(' ', map { "$_=$c{$_}" } keys %c), "\n";
            close $w;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    close $w;
    while (my $l = <$r>) { for (split ' ', $l) { my ($k, $v) = split /=/; $codes{$k} += $v } }
    waitpid $_, 0 for @pids;
    my $secs = time - $t0;
    printf "2.  %d downlinks, 20 at a time, KPN answering 401: %d token fetches, %d downlink posts in %.1f s (%.1f fetches a minute); answers: %s\n",
        $total, stub_count('token'), stub_count('downlink'), $secs,
        stub_count('token') * 60 / $secs, join(', ', map { "$_ x $codes{$_}" } sort keys %codes);
}
nginx_stop();

# 3. a dead lease holder
set_file("$dir/mode", 'stall1');
set_file("$dir/api", '201');
nginx_start();
{
    my $t0 = time;
    my $first = fork // die;
    if ($first == 0) { downlink(60); POSIX::_exit(0) }
    my $victim;
    for (1 .. 50) { $victim = file_of("$dir/stalled"); last if $victim; sleep 0.02 }
    sleep(1 - (time - $t0)) if time - $t0 < 1;
    my $killed = time;
    kill 'KILL', $victim if $victim;
    sleep(0.1);
    my ($code, $secs) = downlink(60);
    my @t = stub_times('token');
    waitpid $first, 0;
    printf "3.  the fetching worker killed at +%.1f s: the next fetch started %.2f s after the kill; a downlink sent at +%.1f s: %s after %.2f s\n",
        $killed - $t0, (@t > 1 ? $t[1] - $killed : -1), $killed + 0.1 - $t0, $code, $secs;
}
nginx_stop();

kill 'TERM', $stub;
waitpid $stub, 0;
