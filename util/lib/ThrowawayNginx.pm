package ThrowawayNginx;

# The throwaway nginx of util/lib/throwaway-nginx.sh for the scripts in Perl
# (util/test/test-replay.pl, util/bench/faults.pl): the shell helper's
# tn_start and tn_stop, run by bash over a prefix the caller made (with its
# logs/; the conf's error_log and pid in logs/, as tn_main_conf writes them).
#
#   use lib "$ROOT/util/lib"; use ThrowawayNginx;
#   my $pid = ThrowawayNginx::start($nginx, $prefix, $conf);
#       nginx -t, then nginx started ($conf: a file of $prefix/conf/, or a
#       path); the master's pid (logs/nginx.pid), or 0 when it did not
#       start (the reason and the error log's tail printed)
#   ThrowawayNginx::stop($prefix, $signal);
#       $signal (TERM; QUIT: graceful) to the master of logs/nginx.pid,
#       then waits (at most 5 s) for the pid file to go; true when it went
#   ThrowawayNginx::alive($pid);
#       whether the process is there (a zombie is not)

use strict;
use warnings;

use File::Basename ();
use File::Spec ();

my $SH = File::Spec->rel2abs(File::Basename::dirname(__FILE__))
    . '/throwaway-nginx.sh';

sub run {
    my ($nginx, $prefix, @call) = @_;
    $prefix =~ s{/+$}{};
    return system('bash', '-c', '. "$0"; tn_nginx=$1; tn_dir=$2; shift 2; "$@"',
                  $SH, $nginx, $prefix, @call) == 0;
}

sub start {
    my ($nginx, $prefix, $conf) = @_;
    run($nginx, $prefix, 'tn_start', $conf // 'nginx.conf') or return 0;
    open my $fh, '<', "$prefix/logs/nginx.pid" or return 0;
    my $pid = <$fh> // '';
    chomp $pid;
    return $pid =~ /^\d+$/ ? $pid + 0 : 0;
}

sub stop {
    my ($prefix, $signal) = @_;
    run('', $prefix, 'tn_stop', $signal // 'TERM');
    return !-e "$prefix/logs/nginx.pid";
}

sub alive {
    my ($pid) = @_;
    return 0 unless $pid && kill 0, $pid;
    open my $fh, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$fh> // '';
    return $stat !~ /^\d+ \(.*\) Z /s;
}

1;
