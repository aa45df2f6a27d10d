#!/usr/bin/perl
# Lint for Test::Nginx::Socket suites: fails on any block section or
# framework function the in-tree compat runner does not implement.
#
#   util/test/check-sections.pl [t/*.t ...]
#
# The implemented lists live in ONE place: the "# BEGIN COMPAT LISTS" /
# "# END COMPAT LISTS" region of t/compat/Test/Nginx/Socket.pm, which this
# script evaluates textually (it never loads the runner itself).

use strict;
use warnings;
use FindBin ();

my $runner = "$FindBin::Bin/../../t/compat/Test/Nginx/Socket.pm";

sub load_lists {
    open my $fh, '<', $runner or die "check-sections: cannot read $runner: $!\n";
    local $/;
    my $src = <$fh>;
    close $fh;
    my ($region) = $src =~ /^# BEGIN COMPAT LISTS\n(.*?)^# END COMPAT LISTS$/ms
        or die "check-sections: no COMPAT LISTS region in $runner\n";
    my (@COMPAT_SECTIONS, @COMPAT_FUNCTIONS);
    $region =~ s/\bour\s+//g;
    eval "$region; 1" or die "check-sections: cannot evaluate the lists: $@";
    return (\@COMPAT_SECTIONS, \@COMPAT_FUNCTIONS);
}

my ($secs, $funcs) = load_lists();
my %sec_ok  = map { $_ => 1 } @$secs;
my %func_ok = map { $_ => 1 } @$funcs;

# Public functions of the real Test::Nginx::Socket / Test::Nginx::Util that a
# .t prelude could call.  Anything here and not in @COMPAT_FUNCTIONS is
# rejected.  (Perl built-ins and the suite's own subs are not in this list.)
my @framework_funcs = qw(
    run_tests run_test repeat_each no_shuffle no_long_string no_diff log_level
    workers master_on master_off master_process_enabled worker_connections
    no_root_location check_accum_error_log add_block_preprocessor env_to_nginx
    config_preamble html_dir server_root server_port server_port_for_client
    server_name timeout bail_out add_cleanup_handler add_test_cleanup_handler
    is_str is_running no_nginx_manager use_hup server_addr access_log_data
    add_response_body_check set_http_config_filter set_err_log_filter
);

my @files = @ARGV;
@files = glob('t/*.t') unless @files;

my @problems;
for my $file (@files) {
    open my $fh, '<', $file or do { push @problems, "$file: cannot read: $!"; next };
    my @lines = <$fh>;
    close $fh;

    my $in_data = 0;
    my $block = '(before first block)';
    my $lineno = 0;
    my $prelude = '';
    for my $l (@lines) {
        $lineno++;
        if (!$in_data) {
            if ($l =~ /^__(DATA|END)__\s*$/) { $in_data = 1; next }
            $prelude .= $l;
            next;
        }
        if ($l =~ /^===\s*(.*?)\s*$/) { $block = $1; next }
        # same section syntax as Test::Base's data delimiter
        if ($l =~ /^--- +\(?(\w+)\)?/) {
            my $s = $1;
            next if $sec_ok{$s};
            push @problems, "$file:$lineno: block \"$block\": section \"--- $s\" is not "
                          . "implemented by the compat runner";
        }
    }

    # prelude: strip comments, POD and quoted strings before looking for calls
    (my $code = $prelude) =~ s/^=\w+.*?^=cut\s*$//msg;
    $code =~ s/#[^\n]*//g;
    $code =~ s/'(?:[^'\\]|\\.)*'//gs;
    $code =~ s/"(?:[^"\\]|\\.)*"//gs;
    my %fw = map { $_ => 1 } @framework_funcs;
    while ($code =~ /(?<![\$\@%&\w:>])(\w+)\s*(?:\(|;|\s+[\$\w'"\d])/g) {
        my $f = $1;
        next unless $fw{$f};
        next if $func_ok{$f};
        push @problems, "$file: function $f() is not implemented by the compat runner";
    }
    while ($code =~ /Test::Nginx::(?:Socket|Util)::(\w+)/g) {
        my $f = $1;
        next if $func_ok{$f} || $f =~ /^[A-Z]/;    # package variables like $RepeatEach
        push @problems, "$file: Test::Nginx::...::$f is not implemented by the compat runner";
    }
    if ($prelude =~ /use\s+Test::Nginx::(?!Socket\b)(\w+(?:::\w+)*)/) {
        push @problems, "$file: only Test::Nginx::Socket is provided by the compat runner "
                      . "(found Test::Nginx::$1)";
    }
    if ($prelude =~ /^\s*use\s+lib\s+.*compat/m) {
        push @problems, "$file: do not 'use lib' the compat runner; run prove -I t/compat";
    }
}

if (@problems) {
    print STDERR "check-sections: $_\n" for @problems;
    printf STDERR "check-sections: %d problem(s) in %d file(s)\n", scalar @problems, scalar @files;
    exit 1;
}
printf "check-sections: %d file(s) OK\n", scalar @files;
exit 0;
