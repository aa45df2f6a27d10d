#!/usr/bin/perl
# Self-test driver of the in-tree Test::Nginx::Socket compat runner.
#
#   util/test/compat/run.sh [--update] [--verbose] [fixture.t ...]
#
# Runs every util/test/compat/*.t with `perl -I t/compat` (no prove, no
# module) against $TEST_NGINX_BINARY (default /usr/sbin/nginx) and compares
# the TAP `1..N`, `ok`/`not ok` and `Bail out!` lines with <fixture>.golden.
# Failing fixtures must fail: their golden lists the exact `not ok` lines.
#
# Differential mode: when the real Test::Nginx is found (installed, or in
# PERL5LIB), every fixture also runs under it (`perl fixture.t`, no -I
# t/compat) and the two runs' normalised TAP (and exit status class) must
# be the same: a fixture that behaves differently under the two frameworks
# fails the self-test.  A fixture whose golden says `# compat-only: WHY`
# (behaviour the in-tree runner has on purpose: it is stricter, or refuses
# a mode) is compared with its golden only.  KPN_SELFTEST_REAL=0 turns the
# differential mode off, KPN_SELFTEST_REAL=1 makes a missing real framework
# an error.
#
# Golden header lines (before the TAP lines):
#   # env: NAME=VALUE      extra environment for this fixture (repeatable)
#   # exit: 0|nonzero      expected exit status class (default 0)
#   # unordered            compare the TAP lines as a multiset (shuffled blocks)
#   # requires: PROGRAM    skip the fixture when PROGRAM is not in PATH
#   # stderr-unlike: RE    fail when stderr matches RE
#   # compat-only: WHY     not run under the real framework (and why)
#
# Normalisation before comparing: the random server root becomes <SERVROOT>,
# and the log line quoted in a no_error_log failure becomes "...".
#
# --update rewrites the golden TAP lines from the actual output (header lines
# are kept).  It refuses to write a golden for an `exit: nonzero` fixture
# without `not ok`/`Bail out!` lines, or one with `not ok` lines for an
# `exit: 0` fixture.  Review every update by hand.

use strict;
use warnings;
use Cwd ();
use File::Basename ();
use File::Temp ();
use File::Path ();

my $here = Cwd::abs_path(File::Basename::dirname(__FILE__));
my $root = Cwd::abs_path("$here/../../..");
chdir $root or die "cannot chdir $root: $!\n";

my ($update, $verbose) = (0, 0);
my @fixtures;
for my $a (@ARGV) {
    if ($a eq '--update') { $update = 1; next }
    if ($a eq '--verbose' || $a eq '-v') { $verbose = 1; next }
    push @fixtures, $a;
}
@fixtures = sort glob('util/test/compat/*.t') unless @fixtures;
@fixtures = map { my $f = $_; $f =~ s{^\Q$root\E/}{}; $f =~ s{^\./}{}; $f } @fixtures;

my $binary = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $tmp = File::Temp::tempdir('kpn-compat-selftest-XXXXXX', TMPDIR => 1, CLEANUP => 0);

# the real framework: a Test/Nginx/Socket.pm in @INC (PERL5LIB included)
# that is not the in-tree one
my $real_mode = $ENV{KPN_SELFTEST_REAL} // 'auto';
my ($real_lib) = grep { -f "$_/Test/Nginx/Socket.pm" && Cwd::abs_path($_) ne "$root/t/compat" }
                 @INC;
if ($real_mode eq '0') {
    undef $real_lib;
} elsif ($real_mode eq '1' && !$real_lib) {
    print "FAIL: KPN_SELFTEST_REAL=1 but no real Test::Nginx in \@INC\n";
    print "0 passed, 1 failed\n";
    exit 1;
}
print $real_lib ? "self-test: differential: in-tree runner against $real_lib/Test/Nginx/Socket.pm\n"
                : "self-test: in-tree runner against the golden files (no real Test::Nginx found)\n";

sub in_path {
    my $p = shift;
    return -x $p if $p =~ m{/};
    for my $d (split /:/, $ENV{PATH} // '') { return 1 if -x "$d/$p" }
    return 0;
}

sub read_golden {
    my $f = shift;
    my %g = (env => [], exit => '0', unordered => 0, requires => [], stderr_unlike => [],
             header => [], tap => [], compat_only => undef);
    open my $fh, '<', $f or return undef;
    while (my $l = <$fh>) {
        chomp $l;
        if (!@{ $g{tap} } && $l =~ /^#/) {
            push @{ $g{header} }, $l;
            if ($l =~ /^# env: ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/) { push @{ $g{env} }, [$1, $2] }
            elsif ($l =~ /^# exit: (\S+)/) { $g{exit} = $1 }
            elsif ($l =~ /^# unordered\b/) { $g{unordered} = 1 }
            elsif ($l =~ /^# requires: (\S+)/) { push @{ $g{requires} }, $1 }
            elsif ($l =~ /^# stderr-unlike: (.*)$/) { push @{ $g{stderr_unlike} }, $1 }
            elsif ($l =~ /^# compat-only: (.*)$/) { $g{compat_only} = $1 }
            next;
        }
        next if $l eq '' && !@{ $g{tap} };
        push @{ $g{tap} }, $l;
    }
    close $fh;
    return \%g;
}

sub normalise {
    my ($line, $servroot) = @_;
    $line =~ s{\S*/t/servroot_\d+}{<SERVROOT>}g;
    $line =~ s{(should not match any line in error\.log but matches line ")(.*)(" \(req \d+\))$}{$1...$3};
    $line =~ s{(should not match any line in error\.log but matches line ")(.*)(")$}{$1...$3};
    return $line;
}

# runs one fixture: (exit code, stderr, normalised TAP lines)
sub run_fixture {
    my ($fx, $servroot, $inc) = @_;
    my $out = "$tmp/out";
    my $err = "$tmp/err";
    # the reaper: a stopped daemon nginx is gone at once, not after PID 1's
    # next reaping round (see util/test/reap.pl)
    system("util/test/reap.pl perl $inc '$fx' >'$out' 2>'$err' </dev/null");
    my $status = $?;
    my $code = $status & 127 ? 128 + ($status & 127) : $status >> 8;
    my @raw = do { open my $fh, '<', $out or die; <$fh> };
    my $stderr = do { local $/; open my $fh, '<', $err or die; <$fh> // '' };
    chomp @raw;
    my @tap = map { normalise($_, $servroot) }
              grep { /^(?:not )?ok \d+/ || /^1\.\.\d+/ || /^Bail out!/ } @raw;
    return ($code, $stderr, @tap);
}

# What the two frameworks must agree on, line by line: the plan, every
# assertion's result and description, in order, except
#  - a "Bail out!" line counts by its block name (the reason's wording may
#    differ);
#  - the real framework checks response_headers in the order of a Perl hash
#    (random per process), so a run of consecutive header assertions of one
#    block and request is compared as a sorted run;
#  - the test number follows from the order, so it is dropped.
# Exit statuses are not compared: the real framework exits 0 after a
# "Bail out!" or failures when TEST_NGINX_RANDOMIZE is set (its END block
# runs system(), which resets $?); prove judges by the TAP lines.
sub comparable {
    my @out;
    my @run;
    my $flush = sub { push @out, sort @run; @run = () };
    for my $l (@_) {
        my $x = $l;
        $x =~ s/^((?:not )?ok) \d+/$1/;
        $x =~ s/^(Bail out!\s+.*? TEST \d+: .*?) - .*/$1 - .../;
        if ($x =~ / - header \S+ (?:ok|like ok|not present in the raw headers)$/) {
            push @run, $x;
            next;
        }
        $flush->();
        push @out, $x;
    }
    $flush->();
    return @out;
}

sub tap_diff {
    my ($a, $b, $na, $nb) = @_;
    if (eval { require Text::Diff; 1 }) {
        return Text::Diff::diff(\join('', map { "$_\n" } @$a), \join('', map { "$_\n" } @$b),
                                { FILENAME_A => $na, FILENAME_B => $nb });
    }
    return "$na:\n" . join("\n", @$a) . "\n$nb:\n" . join("\n", @$b) . "\n";
}

my ($passed, $failed) = (0, 0);
my @summary;

for my $fx (@fixtures) {
    (my $gf = $fx) =~ s/\.t$/.golden/;
    my $g = read_golden($gf);
    unless ($g) {
        print "FAIL $fx: no golden file $gf\n";
        $failed++;
        next;
    }
    if (my @miss = grep { !in_path($_) } @{ $g->{requires} }) {
        print "skip $fx: requires @miss\n";
        next;
    }

    my $servroot = "$tmp/" . File::Basename::basename($fx, '.t');
    local %ENV = %ENV;
    delete $ENV{$_} for grep { /^TEST_NGINX_/ } keys %ENV;
    $ENV{TEST_NGINX_BINARY} = $binary;
    $ENV{TEST_NGINX_RANDOMIZE} = 1;
    $ENV{TEST_NGINX_SERVROOT} = $servroot;
    $ENV{$_->[0]} = $_->[1] for @{ $g->{env} };

    my $t0 = time;
    my ($code, $stderr, @tap) = run_fixture($fx, $servroot, '-I t/compat');

    my @why;
    if ($update) {
        my $nok = grep { /^not ok / || /^Bail out!/ } @tap;
        if ($g->{exit} ne '0' && !$nok) {
            print "FAIL $fx: refusing --update: a failing fixture produced no failures\n";
            $failed++;
            next;
        }
        if ($g->{exit} eq '0' && grep { /^not ok / } @tap) {
            print "FAIL $fx: refusing --update: a passing fixture produced failures\n";
            $failed++;
            next;
        }
        open my $fh, '>', $gf or die "cannot write $gf: $!\n";
        print $fh "$_\n" for @{ $g->{header} }, @tap;
        close $fh;
        print "updated $gf\n";
        $g = read_golden($gf);
    }

    my @want = @{ $g->{tap} };
    my @got = @tap;
    if ($g->{unordered}) {
        # test numbers follow the run order; compare without them
        my $strip = sub { map { my $x = $_; $x =~ s/^((?:not )?ok) \d+/$1 N/; $x } @_ };
        @want = sort $strip->(@want);
        @got = sort $strip->(@got);
    }
    if ("@want" ne "@got" || @want != @got) {
        my $diff = '';
        if (eval { require Text::Diff; 1 }) {
            $diff = Text::Diff::diff(\join('', map { "$_\n" } @want),
                                     \join('', map { "$_\n" } @got),
                                     { FILENAME_A => $gf, FILENAME_B => 'actual' });
        } else {
            $diff = "expected:\n" . join("\n", @want) . "\nactual:\n" . join("\n", @got) . "\n";
        }
        push @why, "TAP differs from $gf:\n$diff";
    }
    my $nok_lines = grep { /^not ok / || /^Bail out!/ } @got;
    if ($g->{exit} eq '0') {
        push @why, "exit status $code, expected 0" if $code != 0;
        push @why, "a passing fixture has failures" if grep { /^not ok / } @got;
    } else {
        push @why, "exit status 0, expected a failure" if $code == 0;
        push @why, "a failing fixture produced no failures" unless $nok_lines;
    }
    for my $re (@{ $g->{stderr_unlike} }) {
        if ($stderr =~ /$re/m) {
            my @hits = grep { /$re/ } split /\n/, $stderr;
            splice @hits, 10 if @hits > 10;
            push @why, "stderr matches /$re/:\n" . join("\n", @hits);
        }
    }
    # the same fixture under the real framework: the same TAP, the same
    # exit status class
    my $diffnote = '';
    if ($real_lib && !defined $g->{compat_only}) {
        my ($rcode, $rstderr, @rtap) = run_fixture($fx, "${servroot}_real", '');
        my @a = comparable(@tap);
        my @b = comparable(@rtap);
        if ($g->{unordered}) {
            my $strip = sub { map { my $x = $_; $x =~ s/^((?:not )?ok) \d+/$1 N/; $x } @_ };
            @a = sort $strip->(@a);
            @b = sort $strip->(@b);
        }
        if ("@a" ne "@b" || @a != @b) {
            push @why, "the real framework differs from the in-tree runner:\n"
                . tap_diff(\@a, \@b, 'in-tree runner', 'real Test::Nginx')
                . "--- real framework's stderr:\n$rstderr";
        }
        $diffnote = ', same under the real framework';
    } elsif ($real_lib) {
        $diffnote = ", compat-only: $g->{compat_only}";
    }

    my $secs = time - $t0;
    if (@why) {
        $failed++;
        print "FAIL $fx (exit $code, ${secs}s)\n";
        print "  $_\n" for map { s/\n/\n  /gr } @why;
        print "  --- stderr:\n", (map { "  $_\n" } split /\n/, $stderr) if $verbose || 1;
    } else {
        $passed++;
        printf "ok   %s (%d TAP lines, %d failing as expected, exit %d, %ds%s)\n",
            $fx, scalar(@got), scalar(grep { /^not ok / || /^Bail out!/ } @got), $code, $secs,
            $diffnote;
        print map { "  $_\n" } split /\n/, $stderr if $verbose;
    }
}

File::Path::remove_tree($tmp) unless $failed;
print "self-test scratch dir kept: $tmp\n" if $failed;
print "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);
