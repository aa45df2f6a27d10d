#!/usr/bin/perl
# util/test/reap.pl COMMAND [ARG...]
#
# Runs COMMAND as a child subreaper (Linux prctl PR_SET_CHILD_SUBREAPER) and
# reaps every orphan that is handed to it at once.  nginx started with
# "daemon on" is an orphan; where PID 1 reaps orphans only about once a
# second (containers, micro-VMs) a stopped nginx stays a zombie that long,
# and Test::Nginx, which waits for the pid to go, loses about a second per
# block.  Nothing else changes: exit status is COMMAND's.
use strict;
use warnings;
use POSIX ();

die "usage: $0 COMMAND [ARG...]\n" unless @ARGV;

# prctl(PR_SET_CHILD_SUBREAPER = 36, 1); x86_64 and aarch64 syscall numbers
my %nr = (x86_64 => 157, aarch64 => 167);
my ($arch) = (POSIX::uname())[4];
syscall($nr{$arch}, 36, 1, 0, 0, 0) if exists $nr{$arch};

my $pid = fork // die "reap.pl: fork: $!\n";
if ($pid == 0) {
    exec { $ARGV[0] } @ARGV or POSIX::_exit(127);
}

# forward the usual stop signals to the command
for my $sig (qw(INT TERM HUP QUIT)) {
    $SIG{$sig} = sub { kill $sig, $pid };
}

my $status;
while (1) {
    my $w = waitpid(-1, 0);
    last if $w == -1 && !$!{EINTR};
    next if $w <= 0;
    if ($w == $pid) {
        $status = $?;
        # reap what is left without waiting for it
        1 while waitpid(-1, POSIX::WNOHANG()) > 0;
        last;
    }
}
exit($status & 127 ? 128 + ($status & 127) : $status >> 8);
