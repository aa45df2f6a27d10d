package Test::Nginx::Socket;

# In-tree, independent implementation of the Test::Nginx::Socket interface
# for machines without the CPAN distribution.  Written from the behaviour
# contract in docs/testing.md; only the
# public interface (package, function, section and environment variable names,
# test description format) is shared with the real framework.
#
# Anything outside the implemented subset is refused loudly: an unknown block
# section bails out naming it, and the unsupported test modes (leak check,
# benchmark, stap, rr, http3) skip the whole file with a reason.

use strict;
use warnings;

use Test::Base -base;

use Cwd ();
use File::Path ();
use File::Spec ();
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use List::Util ();
use Time::HiRes ();
use Errno ();

our $VERSION = '0.01_compat';

# BEGIN COMPAT LISTS
# The single source of truth for what this runner implements.  util/test/check-sections.pl
# reads these two lists (textually, between the BEGIN/END markers) to lint t/*.t.
our @COMPAT_SECTIONS = qw(
    config http_config main_config post_main_config server_name
    request more_headers raw_request raw_request_middle_delay pipelined_requests
    response_body response_body_like response_body_unlike
    error_code error_code_like
    response_headers response_headers_like
    raw_response_headers_like raw_response_headers_unlike
    error_log no_error_log grep_error_log grep_error_log_out
    shutdown_error_log no_shutdown_error_log
    timeout abort ignore_response wait shutdown user_files log_level
    must_die suppress_stderr skip_eval skip_nginx skip_nginx2 init
    no_check_leak
    ONLY SKIP LAST
);
our @COMPAT_FUNCTIONS = qw(
    run_tests repeat_each no_shuffle no_long_string no_diff log_level
    workers master_on master_off master_process_enabled worker_connections
    no_root_location check_accum_error_log add_block_preprocessor env_to_nginx
    config_preamble html_dir server_root server_port server_port_for_client
    server_name timeout bail_out add_cleanup_handler add_test_cleanup_handler
    plan blocks
);
# END COMPAT LISTS

our @EXPORT = qw(
    run_tests repeat_each no_shuffle no_long_string log_level
    workers master_on master_off master_process_enabled worker_connections
    no_root_location check_accum_error_log add_block_preprocessor env_to_nginx
    config_preamble html_dir server_root server_port server_port_for_client
    server_name timeout bail_out add_cleanup_handler add_test_cleanup_handler
);

my %SectionOk = map { $_ => 1 } @COMPAT_SECTIONS;

sub _expand_env ($);
sub _env_value ($);
sub _expand_pat ($);
sub bail_out (@);
sub _emergency_stop ();
sub _is_str ($$$);
sub _header_value ($$);
sub _verbose_io ($$);
sub _nreq ($);
sub _finish ();

# ---------------------------------------------------------------------------
# Behaviour switches, read once when the module is loaded (contract gotcha 3).

my $Cwd = Cwd::getcwd();

sub _abs ($) {
    my $p = shift;
    return $p if File::Spec->file_name_is_absolute($p);
    return File::Spec->catdir($Cwd, $p);
}

sub _envbool ($) {
    my $v = $ENV{ $_[0] };
    return defined $v && $v ne '' && $v ne '0' && lc($v) ne 'off' && lc($v) ne 'no';
}

our $NginxBinary   = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $LogLevel      = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $NoShuffle     = _envbool('TEST_NGINX_NO_SHUFFLE');
our $UseValgrind   = _envbool('TEST_NGINX_USE_VALGRIND');
our $UseHup        = _envbool('TEST_NGINX_USE_HUP');
our $FastShutdown  = _envbool('TEST_NGINX_FAST_SHUTDOWN');
our $NoClean       = _envbool('TEST_NGINX_NO_CLEAN');
our $Verbose       = _envbool('TEST_NGINX_VERBOSE');
our $ReusePort     = _envbool('TEST_NGINX_REUSE_PORT');
our $IgnoreMissing = _envbool('TEST_NGINX_IGNORE_MISSING_DIRECTIVES');
our $ForceRestart  = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                     ? _envbool('TEST_NGINX_FORCE_RESTART_ON_TEST') : 1;
our $EventType     = $ENV{TEST_NGINX_EVENT_TYPE};
our $WorkerUser    = $ENV{TEST_NGINX_WORKER_USER};
our $ErrorLogCopy  = $ENV{TEST_NGINX_ERROR_LOG};
our $Sleep         = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $MasterProcess = (lc($ENV{TEST_NGINX_MASTER_PROCESS} || '') eq 'on') ? 1 : 0;
our @LoadModules   = grep { length } split /\s+/, ($ENV{TEST_NGINX_LOAD_MODULES} || '');
our $PostponeOutput = $ENV{TEST_NGINX_POSTPONE_OUTPUT};

sub _parse_time ($) {
    my $t = shift;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $t =~ /^(\d+(?:\.\d+)?)ms$/;
    return $1 if $t =~ /^(\d+(?:\.\d+)?)s?$/;
    return undef;
}

our $Timeout = defined $ENV{TEST_NGINX_TIMEOUT}
               ? _parse_time($ENV{TEST_NGINX_TIMEOUT}) : 3;
$Timeout = 3 unless defined $Timeout;

# Modes this runner refuses instead of faking.
my @RefusedModes = (
    [TEST_NGINX_CHECK_LEAK => 'leak-check mode'],
    [TEST_NGINX_BENCHMARK  => 'benchmark mode'],
    [TEST_NGINX_USE_STAP   => 'systemtap mode'],
    [TEST_NGINX_USE_RR     => 'rr mode'],
    [TEST_NGINX_USE_HTTP3  => 'HTTP/3 mode (nginx 1.22 has no HTTP/3)'],
    [TEST_NGINX_USE_HTTP2  => 'HTTP/2 mode'],
);
our $RefuseReason;
for my $m (@RefusedModes) {
    if (_envbool($m->[0])) {
        $RefuseReason = "$m->[0]: $m->[1] is not implemented by the in-tree compat runner";
        last;
    }
}
if (defined $PostponeOutput && $PostponeOutput !~ /^\d+$/) {
    die "TEST_NGINX_POSTPONE_OUTPUT must be a number, got \"$PostponeOutput\"\n";
}

# Ports and server root.
my %ReservedPorts;

sub _port_free ($) {
    my $p = shift;
    my $s = IO::Socket::INET->new(
        LocalAddr => '0.0.0.0', LocalPort => $p, Proto => 'tcp',
        Listen => 1, ReuseAddr => 1,
    );
    return 0 unless $s;
    close $s;
    return 1;
}

sub _random_port () {
    for (1 .. 500) {
        # below the Linux ephemeral range, so client sockets never hold it
        my $p = 10000 + int(rand(22000));
        next if $ReservedPorts{$p};
        next unless _port_free($p);
        $ReservedPorts{$p} = 1;
        return $p;
    }
    die "compat runner: cannot find a free TCP port\n";
}

our ($ServerPort, $ServRoot, $ServRootIsRandom);
if (_envbool('TEST_NGINX_RANDOMIZE')) {
    # as the real framework: t/servroot_PORT, TEST_NGINX_SERVROOT ignored
    my $base = _abs('t/servroot');
    for (1 .. 100) {
        my $p = _random_port();
        my $dir = "${base}_$p";
        my $parent = $dir; $parent =~ s{/[^/]+/?$}{};
        File::Path::make_path($parent) unless -d $parent;
        if (mkdir $dir) {      # atomic: a concurrent run can't claim the same one
            ($ServerPort, $ServRoot, $ServRootIsRandom) = ($p, $dir, 1);
            last;
        }
    }
    die "compat runner: cannot allocate a random server root\n" unless $ServRoot;
} else {
    $ServerPort = $ENV{TEST_NGINX_PORT} || 1984;
    $ServRoot   = _abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
}
$ReservedPorts{$ServerPort} = 1;
our $ClientPort = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ServerName = 'localhost';

$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

# Settings changed through the exported functions.
our $RepeatEach        = 1;
our $NoLongString      = 0;
our $Workers           = 1;
our $WorkerConnections = 64;
our $NoRootLocation    = 0;
our $CheckAccumErrLog  = 0;
our $ConfigPreamble    = '';
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @TestCleanupHandlers;

# Runtime state.
my $NginxPid;          # pid of the running nginx (master or single process)
my $NginxChild;        # true when nginx is our direct child (valgrind mode)
my $ErrLogOffset = 0;  # error-log window start
my $PendingShutdownChecks;   # closure run after the next stop
my $PrevConfig;
my $PrevConfText;
my %BlockRandPorts;
my $CurName = '';
my $Announced = 0;
my $NginxVersion;
my $RunningHup = 0;
my $OwnerPid = $$;
my $StaleChecked = 0;

$SIG{PIPE} = 'IGNORE';

# An interrupted run (Ctrl-C, a CI timeout's SIGTERM) skips END blocks by
# default; stop our nginx first so it is not left running.
for my $sig (qw(INT TERM)) {
    next if defined $SIG{$sig} && $SIG{$sig} ne 'DEFAULT' && $SIG{$sig} ne '';
    $SIG{$sig} = sub {
        if ($$ == $OwnerPid) {
            print STDERR "# compat runner: SIG$sig received, stopping nginx\n";
            _emergency_stop();
        }
        $SIG{$sig} = 'DEFAULT';
        kill $sig, $$;
    };
}

# ---------------------------------------------------------------------------
# Exported functions.

sub repeat_each (@) {
    if (@_) { $RepeatEach = shift; return; }
    return $RepeatEach;
}
sub no_shuffle ()            { $NoShuffle = 1 }
sub no_long_string ()        { $NoLongString = 1 }
sub no_root_location ()      { $NoRootLocation = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub master_on ()             { $MasterProcess = 1 }
sub master_off ()            { $MasterProcess = 0 }
sub master_process_enabled (@) {
    if (@_) { $MasterProcess = $_[0] ? 1 : 0; return; }
    return $MasterProcess;
}
sub workers ($)              { $Workers = shift }
sub worker_connections ($)   { $WorkerConnections = shift }
sub log_level (@) {
    if (@_) { $LogLevel = shift; return; }
    return $LogLevel;
}
sub config_preamble ($)      { $ConfigPreamble = shift }
sub env_to_nginx (@)         { push @EnvToNginx, @_ }
sub add_block_preprocessor (&) { push @BlockPreprocessors, shift }
sub add_cleanup_handler ($)  { push @CleanupHandlers, shift }
sub add_test_cleanup_handler ($) { push @TestCleanupHandlers, shift }
sub html_dir ()              { return "$ServRoot/html" }
sub server_root ()           { return $ServRoot }
sub server_port (@) {
    if (@_) { $ServerPort = shift; $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort; return; }
    return $ServerPort;
}
sub server_port_for_client (@) {
    if (@_) { $ClientPort = shift; return; }
    return $ClientPort;
}
sub server_name (@) {
    if (@_) { $ServerName = shift; return; }
    return $ServerName;
}
sub timeout (@) {
    if (@_) { $Timeout = _parse_time(shift) // $Timeout; return; }
    return $Timeout;
}
sub bail_out (@) {
    my $msg = join '', @_;
    _emergency_stop();
    Test::More->builder->BAIL_OUT($msg);
    exit 255;
}

# ---------------------------------------------------------------------------
# Small helpers.

sub _tb () { Test::More->builder }

sub _diag_text ($) {
    my $t = shift;
    Test::More->builder->diag($t);
}

sub _read_file ($) {
    my $f = shift;
    open my $fh, '<', $f or return undef;
    binmode $fh;
    local $/;
    my $c = <$fh>;
    close $fh;
    return $c;
}

sub _write_file ($$) {
    my ($f, $c) = @_;
    my $dir = $f; $dir =~ s{/[^/]*$}{};
    File::Path::make_path($dir) if length $dir && !-d $dir;
    open my $fh, '>', $f or bail_out("$CurName - cannot write $f: $!");
    binmode $fh;
    print $fh $c;
    close $fh or bail_out("$CurName - cannot write $f: $!");
}

sub _sec ($$) {
    my ($block, $s) = @_;
    return undef unless exists $block->{$s};
    my $v = $block->{$s};
    return undef unless ref $v eq 'ARRAY';
    return $v->[0];
}

sub _has ($$) { exists $_[0]->{$_[1]} }

# $TEST_NGINX_* expansion (config text, user files, expected bodies, ...).
sub _expand_env ($) {
    my $s = shift;
    return $s unless defined $s;
    if (ref $s eq 'ARRAY') {
        return [ map { ref $_ ? $_ : _expand_env($_) } @$s ];
    }
    return $s if ref $s;
    $s =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{_env_value($1)}ge;
    return $s;
}

sub _env_value ($) {
    my $n = shift;
    if ($n =~ /^TEST_NGINX_RAND_PORT_(\d+)$/) {
        $BlockRandPorts{$1} //= _random_port();
        $ENV{$n} = $BlockRandPorts{$1};
        return $BlockRandPorts{$1};
    }
    return $ENV{$n} if defined $ENV{$n};
    bail_out("$CurName - No environment $n defined.");
}

sub _subst_server_port ($) {
    my $s = shift;
    return $s unless defined $s && !ref $s;
    $s =~ s/\$ServerPortForClient\b/$ClientPort/g;
    $s =~ s/\$ServerPort\b/$ServerPort/g;
    return $s;
}

sub _pat_desc ($) {
    my $p = shift;
    return ref $p eq 'Regexp' ? "$p" : $p;
}

# no_error_log descriptions quote the pattern and the line with '"', CR and
# LF escaped (error_log descriptions show the pattern as it is)
sub _fmt_str ($) {
    my $s = "" . shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# ---------------------------------------------------------------------------
# Process handling.

sub _proc_gone ($) {
    my $pid = shift;
    return 1 unless $pid;
    if ($NginxChild && $pid == $NginxChild) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid || $r == -1) { $NginxChild = undef; return 1; }
        return 0;
    }
    return 1 unless kill 0, $pid;
    # A zombie is as good as gone (PID 1 in containers reaps slowly).
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $st = <$fh>;
        close $fh;
        if (defined $st && $st =~ /\)\s+(\S)/) {
            return 1 if $1 eq 'Z' || $1 eq 'X';
        }
    }
    return 0;
}

sub _read_pid () {
    my $c = _read_file("$ServRoot/logs/nginx.pid");
    return $1 if defined $c && $c =~ /^(\d+)\s*$/;
    return undef;
}

sub _stop_nginx () {
    return unless $NginxPid;
    my $pid = $NginxPid;
    my $sig = $FastShutdown ? 'TERM' : 'QUIT';
    kill $sig, $pid;
    my $limit = $UseValgrind ? 120 : 15;
    my $t0 = Time::HiRes::time();
    my $delay = 0.001;
    my $resent = $t0;
    until (_proc_gone($pid)) {
        my $now = Time::HiRes::time();
        # a signal that arrives before nginx enters epoll_wait() for the first
        # time is only noticed at the next event: repeat it until it is seen
        if ($now - $resent > 0.05) {
            kill $sig, $pid;
            $resent = $now;
        }
        if ($now - $t0 > $limit) {
            warn "WARNING: nginx $pid did not stop in ${limit}s, killing it\n";
            kill 'KILL', $pid;
            Time::HiRes::sleep(0.05);
            _proc_gone($pid);
            last;
        }
        Time::HiRes::sleep($delay);
        $delay *= 2 if $delay < 0.02;
    }
    if ($NginxChild && $NginxChild == $pid) {
        waitpid($pid, 0);
        $NginxChild = undef;
    }
    $NginxPid = undef;
    $RunningHup = 0;
}

sub _emergency_stop () {
    return if $NoClean;
    if ($NginxPid) {
        kill($FastShutdown ? 'TERM' : 'QUIT', $NginxPid);
        my $t0 = Time::HiRes::time();
        my $n = 0;
        until (_proc_gone($NginxPid) || Time::HiRes::time() - $t0 > 5) {
            Time::HiRes::sleep(0.01);
            kill($FastShutdown ? 'TERM' : 'QUIT', $NginxPid) if ++$n % 5 == 0;
        }
        kill 'KILL', $NginxPid unless _proc_gone($NginxPid);
        $NginxPid = undef;
    }
}

sub _nginx_cmd () {
    return ($NginxBinary, '-p', "$ServRoot/", '-c', "$ServRoot/conf/nginx.conf",
            '-e', "$ServRoot/logs/error.log");
}

sub _valgrind_prefix () {
    my @v = ('valgrind', '-q', '--leak-check=full', '--gen-suppressions=all',
             '--num-callers=40');
    push @v, '--suppressions=' . _abs('valgrind.suppress') if -f 'valgrind.suppress';
    return @v;
}

# Runs nginx in the foreground of a forked child with stderr captured in a
# file; returns (exit_code, stderr_text).  For daemon mode the exit code is
# the one of the launcher process (0 once the daemon has forked).
sub _run_capture (@) {
    my @cmd = @_;
    my $errf = "$ServRoot/logs/.start-stderr";
    my $pid = fork;
    die "fork failed: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $errf;
        exec @cmd or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    my $st = $?;
    my $err = _read_file($errf) // '';
    unlink $errf;
    my $code = ($st & 127) ? 128 + ($st & 127) : ($st >> 8);
    return ($code, $err);
}

sub _wait_pidfile ($$) {
    my ($limit, $child) = @_;
    my $t0 = Time::HiRes::time();
    my $delay = 0.001;
    while (Time::HiRes::time() - $t0 < $limit) {
        my $pid = _read_pid();
        return $pid if $pid && ($child ? 1 : kill(0, $pid));
        if ($child) {
            my $r = waitpid($child, POSIX::WNOHANG());
            return undef if $r == $child || $r == -1;
        }
        Time::HiRes::sleep($delay);
        $delay *= 2 if $delay < 0.01;
    }
    return undef;
}

sub _log_tail ($) {
    my $n = shift;
    my $c = _read_file("$ServRoot/logs/error.log") // '';
    my @l = split /\n/, $c;
    @l = grep { !/\[debug\]/ } @l if @l > $n;
    @l = @l[-$n .. -1] if @l > $n;
    return join "\n", @l;
}

# Start nginx for a block; on failure retry briefly, then bail out.
# Returns 1 when started; returns the missing directive name when
# TEST_NGINX_IGNORE_MISSING_DIRECTIVES applies.
sub _start_nginx ($;$) {
    my ($block, $regen) = @_;
    my $t0 = Time::HiRes::time();
    my $attempt = 0;
    my ($lasterr, $code) = ('', 0);
    while (1) {
        $attempt++;
        if ($UseValgrind) {
            my $pid = fork;
            die "fork failed: $!" unless defined $pid;
            if ($pid == 0) {
                open STDIN, '<', '/dev/null';
                if (_has($block, 'suppress_stderr')) {
                    open STDERR, '>', '/dev/null';
                }
                exec(_valgrind_prefix(), _nginx_cmd()) or POSIX::_exit(127);
            }
            $NginxChild = $pid;
            my $got = _wait_pidfile(120, $pid);
            if ($got) {
                $NginxPid = $pid;
                return 1;
            }
            $NginxChild = undef;
            $code = $? >> 8;
            $lasterr = '';
        } else {
            my $err;
            ($code, $err) = _run_capture(_nginx_cmd());
            if ($code == 0) {
                my $pid = _wait_pidfile(10, undef);
                if ($pid) {
                    $NginxPid = $pid;
                    print STDERR $err if length $err && !_has($block, 'suppress_stderr');
                    return 1;
                }
                $lasterr = "nginx exited 0 but wrote no pid file\n$err";
            } else {
                $lasterr = $err;
            }
        }
        my $log = _read_file("$ServRoot/logs/error.log") // '';
        if ($IgnoreMissing && $log =~ /unknown directive "([^"]+)"/) {
            return "directive $1";
        }
        my $transient = ($log . $lasterr) =~ /Address already in use|bind\(\) to .* failed/;
        my $elapsed = Time::HiRes::time() - $t0;
        if ($elapsed > 5 || (!$transient && $attempt >= 2)) {
            _diag_text("nginx failed to start (exit code $code); command: "
                       . join(' ', _nginx_cmd()));
            _diag_text("stderr: $lasterr") if length $lasterr;
            _diag_text("error.log tail:\n" . _log_tail(15));
            bail_out("$CurName - Cannot start nginx using command \""
                     . join(' ', _nginx_cmd()) . "\" (status code $code).");
        }
        if ($transient && $regen) {
            # keep the bind error out of the next error-log window
            unlink "$ServRoot/logs/error.log";
            $regen->();
            next;
        }
        Time::HiRes::sleep(0.1 * $attempt);
    }
}

# ---------------------------------------------------------------------------
# Config generation.

my @EnvPassThrough = qw(
    LD_PRELOAD LD_LIBRARY_PATH DYLD_INSERT_LIBRARIES DYLD_FORCE_FLAT_NAMESPACE
    ASAN_OPTIONS MOCKEAGAIN MOCKEAGAIN_VERBOSE MOCKEAGAIN_WRITE_TIMEOUT_PATTERN
    MOCKNOEAGAIN
);

sub _build_conf ($$) {
    my ($block, $config) = @_;
    my $http_config      = _expand_env(_sec($block, 'http_config') // '');
    my $main_config      = _expand_env(_sec($block, 'main_config') // '');
    my $post_main_config = _expand_env(_sec($block, 'post_main_config') // '');
    $config = _expand_env($config // '');
    my $level = _sec($block, 'log_level') // $LogLevel;
    my $sname = _sec($block, 'server_name') // $ServerName;
    my $master = ($MasterProcess || $UseHup) ? 'on' : 'off';
    my $daemon = $UseValgrind ? 'off' : 'on';

    my $c = '';
    $c .= "worker_processes  $Workers;\n";
    $c .= "daemon $daemon;\n";
    $c .= "master_process $master;\n";
    $c .= "error_log $ServRoot/logs/error.log $level;\n";
    $c .= "pid       $ServRoot/logs/nginx.pid;\n";
    $c .= "env $_;\n" for @EnvPassThrough, @EnvToNginx;
    $c .= "\n";
    $c .= "load_module $_;\n" for @LoadModules;
    $c .= "\n$main_config\n" if length $main_config;
    $c .= "\nhttp {\n";
    $c .= "    access_log $ServRoot/logs/access.log;\n";
    for my $t (qw(client_body proxy fastcgi uwsgi scgi)) {
        next if $http_config =~ /\b${t}_temp_path\b/;
        $c .= "    ${t}_temp_path $ServRoot/${t}_temp;\n";
    }
    $c .= "    default_type text/plain;\n";
    $c .= "    keepalive_timeout  68000ms;\n";
    $c .= "\n$http_config\n" if length $http_config;
    $c .= "\n    server {\n";
    my $listen = $ServerPort . ($ReusePort ? ' reuseport' : '');
    $c .= "        listen          $listen;\n";
    $c .= "        server_name     '$sname';\n";
    $c .= "        client_max_body_size 30M;\n";
    $c .= "$ConfigPreamble\n" if length $ConfigPreamble;
    $c .= "        # --- config ---\n$config\n        # --- end config ---\n";
    unless ($NoRootLocation) {
        $c .= "        location / {\n";
        $c .= "            root $ServRoot/html;\n";
        $c .= "            index index.html index.htm;\n";
        $c .= "        }\n";
    }
    $c .= "    }\n";
    $c .= "}\n\n";
    $c .= "$post_main_config\n" if length $post_main_config;
    $c .= "events {\n    accept_mutex off;\n    worker_connections  $WorkerConnections;\n";
    $c .= "    use $EventType;\n" if defined $EventType && length $EventType;
    $c .= "}\n";
    if (defined $WorkerUser && length $WorkerUser) {
        $c .= "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $c .= "user root;\n";
    }
    return $c;
}

sub _parse_user_files ($) {
    my $v = shift;
    my @files;
    if (ref $v eq 'ARRAY') {
        for my $e (@$v) {
            next unless ref $e eq 'ARRAY';
            push @files, [$e->[0], _expand_env($e->[1] // '')];
        }
        return @files;
    }
    my $cur;
    for my $line (split /^/, $v) {
        if ($line =~ /^>>>\s*(\S+)\s*$/) {
            push @files, $cur if $cur;
            $cur = [$1, ''];
        } elsif ($cur) {
            $cur->[1] .= $line;
        } elsif ($line =~ /\S/) {
            bail_out("$CurName - user_files: content before the first '>>> name' line");
        }
    }
    push @files, $cur if $cur;
    $_->[1] = _expand_env($_->[1]) for @files;
    return @files;
}

sub _write_user_files ($) {
    my $block = shift;
    return unless _has($block, 'user_files');
    for my $f (_parse_user_files(_sec($block, 'user_files') // '')) {
        my ($name, $body) = @$f;
        bail_out("$CurName - user_files: bad file name \"$name\"") if $name =~ m{(^|/)\.\.(/|$)};
        my $path = $name =~ m{^/} ? $name : "$ServRoot/html/$name";
        _write_file($path, $body);
    }
}

sub _prepare_servroot ($) {
    my $block = shift;
    unless ($StaleChecked++) {
        # an nginx left behind by an interrupted run on the same server root
        if (my $old = _read_pid()) {
            if (!_proc_gone($old)) {
                $NginxPid = $old;
                _stop_nginx();
            }
        }
    }
    if (defined $ErrorLogCopy && -f "$ServRoot/logs/error.log") {
        my $c = _read_file("$ServRoot/logs/error.log");
        if (open my $fh, '>>', $ErrorLogCopy) { print $fh $c; close $fh }
    }
    File::Path::make_path($ServRoot) unless -d $ServRoot;
    if (opendir my $dh, $ServRoot) {
        for my $e (readdir $dh) {
            next if $e eq '.' || $e eq '..';
            if ($e =~ /^(conf|html|logs|cache)$/ || $e =~ /_temp$/) {
                File::Path::remove_tree("$ServRoot/$e");
            }
        }
        closedir $dh;
    }
    File::Path::make_path("$ServRoot/$_") for qw(conf html logs);
    _write_file("$ServRoot/html/index.html",
        "<html><head><title>It works!</title></head><body>It works!</body></html>");
}

# ---------------------------------------------------------------------------
# Error log window.

sub _read_log_window () {
    my $f = "$ServRoot/logs/error.log";
    open my $fh, '<', $f or return '';
    binmode $fh;
    my $start = $CheckAccumErrLog ? 0 : $ErrLogOffset;
    seek $fh, $start, 0;
    local $/;
    my $c = <$fh> // '';
    close $fh;
    # only complete lines belong to this window
    my $cut = rindex($c, "\n");
    $c = $cut >= 0 ? substr($c, 0, $cut + 1) : '';
    $ErrLogOffset = $start + length($c) unless $CheckAccumErrLog;
    return $c;
}

sub _log_patterns ($$) {
    my ($block, $sec) = @_;
    return () unless _has($block, $sec);
    my $v = _sec($block, $sec);
    return () unless defined $v;
    if (ref $v eq 'ARRAY') { return map { _expand_pat($_) } @$v }
    return ($v) if ref $v eq 'Regexp';
    return grep { length } map { s/^\s+|\s+$//gr } split /\n+/, $v;
}

sub _expand_pat ($) { my $p = shift; ref $p ? $p : _expand_env($p) }

sub _line_matches ($$) {
    my ($line, $pat) = @_;
    return $line =~ $pat if ref $pat eq 'Regexp';
    return index($line, $pat) >= 0;
}

sub _check_log_window ($$$$) {
    my ($block, $name, $idx, $text) = @_;
    my @lines = split /\n/, $text;
    my @err = _log_patterns($block, 'error_log');
    my @no  = _log_patterns($block, 'no_error_log');

    # grep_error_log_out first, then error_log, then no_error_log
    if (_has($block, 'grep_error_log')) {
        my $g = _sec($block, 'grep_error_log');
        $g = _expand_pat($g);
        my @m;
        if (ref $g eq 'Regexp') {
            for my $l (@lines) { while ($l =~ /$g/g) { push @m, $& } }
        } else {
            for my $l (@lines) {
                my $pos = 0;
                while ((my $i = index($l, $g, $pos)) >= 0) {
                    push @m, $g;
                    $pos = $i + (length($g) || 1);
                }
            }
        }
        my $got = join '', map { "$_\n" } @m;
        if (_has($block, 'grep_error_log_out')) {
            my $exp = _sec($block, 'grep_error_log_out');
            $exp = $exp->[$idx] // $exp->[-1] if ref $exp eq 'ARRAY';
            $exp = _expand_pat($exp);
            my $d = "$name - grep_error_log_out (req $idx)";
            if (ref $exp eq 'Regexp') { like($got, $exp, $d) }
            else { _is_str($got, $exp // '', $d) }
        }
    }
    for my $p (@err) {
        my $found = grep { _line_matches($_, $p) } @lines;
        # a pattern may also span lines
        $found ||= ref $p eq 'Regexp' ? $text =~ $p : 0;
        my $d = _pat_desc($p);
        if ($found) {
            pass("$name - pattern \"$d\" matches a line in error.log (req $idx)");
        } else {
            fail("$name - pattern \"$d\" should match a line in error.log (req $idx)");
        }
    }
    # as the real framework: line by line, each matching pattern fails once
    # for the line, with up to 9 following lines in the description; then
    # a pass for each pattern that matched nothing
    my %hit;
    for my $j (0 .. $#lines) {
        for my $k (0 .. $#no) {
            next unless _line_matches($lines[$j], $no[$k]);
            $hit{$k} = 1;
            my $last = List::Util::min($j + 10, $#lines);
            fail("$name - pattern \"" . _fmt_str(_pat_desc($no[$k]))
                 . "\" should not match any line in error.log "
                 . "but matches line \"" . _fmt_str($lines[$j]) . "\" (req $idx)\n"
                 . join('', map { "$lines[$_]\n" } $j + 1 .. $last - 1));
        }
    }
    for my $k (0 .. $#no) {
        next if $hit{$k};
        pass("$name - pattern \"" . _fmt_str(_pat_desc($no[$k]))
             . "\" does not match a line in error.log (req $idx)");
    }
    # extra diagnostics / failures not counted in any plan
    my @loud = (@err, @no);
    for my $l (@lines) {
        if ($l =~ /\[(alert|crit|emerg)\]/) {
            my $lvl = $1;
            next if $lvl eq 'emerg' && _has($block, 'must_die');
            my $mentioned = grep { !ref($_) ? index($_, $lvl) >= 0 : "$_" =~ /\Q$lvl\E/ } @loud;
            warn "WARNING: $name - $l\n" unless $mentioned;
        }
        if ($l =~ /Assertion .* failed/) {
            fail("$name - nginx hit an assertion: $l");
        }
    }
}

sub _is_str ($$$) {
    my ($got, $exp, $desc) = @_;
    if (!$NoLongString && defined $got && defined $exp
        && (length($got) > 50 || length($exp) > 50)
        && eval { require Test::LongString; 1 }) {
        local $Test::Builder::Level = $Test::Builder::Level + 1;
        return Test::LongString::is_string($got, $exp, $desc);
    }
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::Base::is($got, $exp, $desc);
}

# ---------------------------------------------------------------------------
# Requests on the wire.

sub _parse_header_lines ($) {
    my $v = shift;
    my @h;
    return @h unless defined $v;
    for my $l (split /\n/, $v) {
        next if $l =~ /^\s*#/ || $l !~ /\S/;
        $l =~ s/\r$//;
        if ($l =~ /^\s*([^:]+?)\s*:\s*(.*?)\s*$/) {
            push @h, [$1, $2];
        } else {
            push @h, [$l =~ s/^\s+|\s+$//gr, undef];
        }
    }
    return @h;
}

# Build the write list for one HTTP request.  $req is a string or an array of
# packets (strings or {value, delay_before}).  As in the real framework:
# the first packet is written at once (its delay_before is not honoured),
# and a hash-form packet gets what is sent written back into its value, so
# a block repeated by repeat_each sends the spliced headers again (inside
# the body) on its next iteration.
sub _build_request ($$$) {
    my ($req, $more_headers, $conn) = @_;
    my @orig = ref $req eq 'ARRAY' ? @$req : ($req);
    my @pk = map { ref $_ eq 'HASH' ? {%$_} : { value => $_ } } @orig;
    $_->{value} //= '' for @pk;
    my $first = $pk[0]{value};
    $first =~ s/^\s+//;
    while ($first =~ s/^#[^\n]*(?:\n|\z)//) { $first =~ s/^\s+//; }
    my ($line, $rest) = $first =~ /^([^\n]*)(?:\n(.*))?\z/s;
    $line //= '';
    $rest //= '';
    $line =~ s/\r$//;
    $line =~ s/^\s+|\s+$//g;
    bail_out("$CurName - request line should not be empty") unless length $line;
    my ($meth, $uri, $proto);
    if ($line =~ m{^(\S+)(?:\s+(.*?))??(?:\s+(HTTP/[\d.]+))?$}) {
        ($meth, $uri, $proto) = ($1, $2, $3);
    }
    $uri = '/' unless defined $uri && length $uri;
    $proto //= 'HTTP/1.1';

    my @bodyparts = ($rest, map { $_->{value} } @pk[1 .. $#pk]);
    $bodyparts[0] =~ s/^\s+//;
    # trailing whitespace of the body is trimmed as well
    for (my $i = $#bodyparts; $i >= 0; $i--) {
        $bodyparts[$i] =~ s/\s+\z//;
        last if length $bodyparts[$i];
        # an all-space packet: keep trimming into the previous one
    }
    my $blen = 0;
    $blen += length $_ for @bodyparts;

    my @h = _parse_header_lines($more_headers);
    my %has = map { lc($_->[0]) => 1 } @h;
    my $te_chunked = grep { lc($_->[0]) eq 'transfer-encoding' && defined $_->[1]
                            && $_->[1] =~ /chunked/i } @h;
    my $head = "$meth $uri $proto\r\n";
    $head .= "Host: localhost\r\n" unless $has{host};
    $head .= "Connection: $conn\r\n" unless $has{connection};
    for my $x (@h) {
        $head .= defined $x->[1] ? "$x->[0]: $x->[1]\r\n" : "$x->[0]\r\n";
    }
    if ($blen && !$has{'content-length'} && !$te_chunked) {
        $head .= "Content-Length: $blen\r\n";
    }
    $head .= "\r\n";

    my @writes;
    push @writes, { data => $head . $bodyparts[0] };
    for my $i (1 .. $#pk) {
        push @writes, { data => $bodyparts[$i], delay_before => $pk[$i]{delay_before} };
    }
    for my $i (0 .. $#orig) {
        $orig[$i]{value} = $writes[$i]{data} if ref $orig[$i] eq 'HASH';
    }
    return { writes => \@writes, method => uc $meth };
}

# Send writes on a new connection and read until the server closes it.
# Returns ($raw_response, $timed_out).
sub _do_io ($$$) {
    my ($writes, $timeout, $shutdown) = @_;
    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $ClientPort, Proto => 'tcp',
        Timeout => $timeout,
    );
    unless ($sock) {
        return ('', 0, "cannot connect to 127.0.0.1:$ClientPort: $!");
    }
    binmode $sock;
    $sock->blocking(0);
    my $sel = IO::Select->new($sock);
    my $resp = '';
    my $timed_out = 0;
    my $write_failed = 0;

    my $read_some = sub {
        my $n = sysread($sock, my $buf, 65536);
        if (!defined $n) {
            return 1 if $! == Errno::EAGAIN() || $! == Errno::EINTR();
            return 0;    # ECONNRESET etc: treat as closed
        }
        return 0 if $n == 0;
        $resp .= $buf;
        return 1;
    };

    my $open = 1;
  WRITE:
    for my $w (@$writes) {
        Time::HiRes::sleep($w->{delay_before}) if $w->{delay_before};
        my $data = $w->{data} // '';
        my $off = 0;
        while ($off < length $data) {
            my @can = IO::Select::select($sel, $sel, undef, $timeout);
            if (!@can) { $timed_out = 1; last WRITE; }
            if (@{ $can[0] || [] }) {
                unless ($read_some->()) { $open = 0; last WRITE; }
            }
            if (@{ $can[1] || [] }) {
                my $n = syswrite($sock, $data, length($data) - $off, $off);
                if (!defined $n) {
                    next if $! == Errno::EAGAIN() || $! == Errno::EINTR();
                    $write_failed = 1;
                    last WRITE;
                }
                $off += $n;
            }
        }
    }
    if ($open && !$timed_out) {
        shutdown($sock, 1) if $shutdown;
        while (1) {
            my @r = $sel->can_read($timeout);
            if (!@r) { $timed_out = 1; last; }
            last unless $read_some->();
        }
    }
    close $sock;
    return ($resp, $timed_out, undef);
}

sub _dechunk ($) {
    my $s = shift;
    my $out = '';
    my $pos = 0;
    while (1) {
        my $nl = index($s, "\r\n", $pos);
        return ($out, substr($s, $pos), 0) if $nl < 0;
        my $szline = substr($s, $pos, $nl - $pos);
        $szline =~ s/;.*//;
        return ($out, substr($s, $pos), 0) unless $szline =~ /^\s*([0-9a-fA-F]+)\s*$/;
        my $sz = hex $1;
        $pos = $nl + 2;
        if ($sz == 0) {
            # trailers until an empty line
            while (1) {
                my $e = index($s, "\r\n", $pos);
                if ($e < 0) { return ($out, '', 1) }
                my $l = substr($s, $pos, $e - $pos);
                $pos = $e + 2;
                last if $l eq '';
            }
            return ($out, substr($s, $pos), 1);
        }
        if ($pos + $sz > length $s) {
            $out .= substr($s, $pos);
            return ($out, '', 0);
        }
        $out .= substr($s, $pos, $sz);
        $pos += $sz;
        $pos += 2 if substr($s, $pos, 2) eq "\r\n";
    }
}

# Parse one response from the front of $raw.  $last: take the rest as body
# when there is no length information.  Returns (res, remaining).
sub _parse_response ($$$) {
    my ($raw, $method, $last) = @_;
    my %res = (status => '', headers => [], raw_headers => '', body => '');
    return (\%res, '') unless length $raw;
    my $end = index($raw, "\r\n\r\n");
    my $sep = 4;
    if ($end < 0) { $end = index($raw, "\n\n"); $sep = 2; }
    if ($end < 0) {
        $res{raw_headers} = $raw;
        $end = length $raw;
        $sep = 0;
    } else {
        $res{raw_headers} = substr($raw, 0, $end + $sep);
    }
    my $hdr = substr($raw, 0, $end);
    my $rest = substr($raw, $end + $sep);
    my @lines = split /\r?\n/, $hdr;
    my $sl = shift @lines // '';
    $res{status} = $1 if $sl =~ m{^HTTP/\d+(?:\.\d+)?\s+(\d{3})};
    for my $l (@lines) {
        if ($l =~ /^([^:]+?)\s*:\s*(.*?)\s*$/) {
            push @{ $res{headers} }, [$1, $2];
        }
    }
    my $te = _header_value(\%res, 'Transfer-Encoding');
    my $cl = _header_value(\%res, 'Content-Length');
    my $nobody = ($method // '') eq 'HEAD' || $res{status} =~ /^(1\d\d|204|304)$/;
    if ($nobody) {
        $res{body} = '';
    } elsif (defined $te && $te =~ /chunked/i) {
        my ($body, $remain, $complete) = _dechunk($rest);
        $res{body} = $body;
        if (!$complete) {
            warn "WARNING: $CurName - response body is not completely chunked\n";
        } elsif ($last && length $remain) {
            my $x = $remain; $x =~ s/([^\x20-\x7e])/sprintf('\\x{%02x}', ord $1)/ge;
            warn "WARNING: $CurName - unexpected extra bytes after last chunk in response: \"$x\"\n";
        }
        $rest = $last ? '' : $remain;
    } elsif (defined $cl && $cl =~ /^\d+$/ && !$last) {
        $res{body} = substr($rest, 0, $cl);
        $rest = length($rest) > $cl ? substr($rest, $cl) : '';
    } else {
        $res{body} = $rest;
        $rest = '';
    }
    return (\%res, $rest);
}

sub _header_value ($$) {
    my ($res, $name) = @_;
    my @v = map { $_->[1] } grep { lc($_->[0]) eq lc($name) } @{ $res->{headers} };
    return undef unless @v;
    return join ', ', @v;
}

# ---------------------------------------------------------------------------
# Response checks.

sub _pick ($$$$) {
    my ($block, $sec, $i, $n) = @_;
    return undef unless _has($block, $sec);
    my $v = _sec($block, $sec);
    if (ref $v eq 'ARRAY') {
        return $v->[$i];
    }
    if ($n > 1 && $sec =~ /^response_body/) {
        bail_out("$CurName - $sec: an array of expected values is required "
                 . "when there are $n requests");
    }
    return $v;
}

# expected header lines as the real framework reads them: a name => value
# table, so a name given twice is checked once (the last line wins); "!Name"
# and a name without ':' mean absent (undef), "Name:" means ''.  Returns the
# table and the names in first-seen order.
sub _header_table ($) {
    my $v = shift;
    my (%want, @order);
    for my $l (split /\n/, $v) {
        (my $x = $l) =~ s/^\s+|\s+$//g;
        my ($key, $val);
        if ($x =~ s/^!\s*//) {
            $key = $x;
        } else {
            ($key, $val) = split /\s*:\s*/, $x, 2;
            $key //= '';
        }
        push @order, $key unless exists $want{$key};
        $want{$key} = $val;
    }
    return (\%want, \@order);
}

sub _body_summary ($) {
    my $s = shift // '';
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /gs;
    $s =~ s/\s{2,}/ /gs;
    return $s;
}

sub _check_response ($$$$$$) {
    my ($block, $name, $res, $rep, $i, $n) = @_;
    return if _has($block, 'ignore_response');

    # status
    if (_has($block, 'error_code_like')) {
        my $p = _pick($block, 'error_code_like', $i, $n);
        $p = qr/$p/ unless ref $p eq 'Regexp';
        like($res->{status}, $p, "$name - status code ok");
    } else {
        my $exp = _has($block, 'error_code') ? _pick($block, 'error_code', $i, $n) : 200;
        $exp = 200 unless defined $exp;
        $exp =~ s/^\s+|\s+$//g;
        Test::More::is($res->{status}, $exp, "$name - status code ok");
    }

    for my $sec (qw(raw_response_headers_like raw_response_headers_unlike)) {
        next unless _has($block, $sec);
        my $p = _pick($block, $sec, $i, $n);
        $p = qr/$p/s unless ref $p eq 'Regexp';
        my $d = $sec eq 'raw_response_headers_like'
                ? "$name - raw resp headers like" : "$name - raw resp headers unlike";
        if ($sec =~ /unlike/) { unlike($res->{raw_headers}, $p, $d) }
        else { like($res->{raw_headers}, $p, $d) }
    }

    if (_has($block, 'response_headers')) {
        my $v = _subst_server_port(_pick($block, 'response_headers', $i, $n)) // '';
        my ($want, $order) = _header_table($v);
        my %want = %$want;
        my @order = @$order;
        for my $key (@order) {
            my $val = $want{$key};
            if (!defined $val) {
                unlike($res->{raw_headers}, qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }
            my $got = _header_value($res, $key);
            Test::More::is($got // '', $val, "$name - header $key ok");
        }
    } elsif (_has($block, 'response_headers_like')) {
        my $v = _subst_server_port(_pick($block, 'response_headers_like', $i, $n)) // '';
        my ($want, $order) = _header_table($v);
        for my $key (@$order) {
            my $val = $want->{$key} // '';
            my $got = _header_value($res, $key);
            like($got // '', qr/^$val$/, "$name - header $key like ok");
        }
    }

    my $body = $res->{body};
    if (_has($block, 'response_body')) {
        my $exp = _pick($block, 'response_body', $i, $n);
        my $d = "$name - response_body - response is expected (repeated req $rep, req $i)";
        if (ref $exp eq 'Regexp') {
            like($body, $exp, $d);
        } else {
            $exp = _subst_server_port(_expand_env($exp // ''));
            _is_str($body, $exp, $d);
        }
    } elsif (_has($block, 'response_body_like')) {
        my $p = _subst_server_port(_pick($block, 'response_body_like', $i, $n));
        $p = qr/$p/s unless ref $p eq 'Regexp';
        like($body, $p, "$name - response_body_like - response is expected ("
                        . _body_summary($body) . ")");
    } elsif (_has($block, 'response_body_unlike')) {
        my $p = _subst_server_port(_pick($block, 'response_body_unlike', $i, $n));
        $p = qr/$p/s unless ref $p eq 'Regexp';
        unlike($body, $p, "$name - response_body_unlike - response is expected ("
                          . _body_summary($body) . ")");
    }
}

# Number of assertions a block would make per iteration (for skips caused by
# TEST_NGINX_IGNORE_MISSING_DIRECTIVES).
sub _count_assertions ($$) {
    my ($block, $nreq) = @_;
    my $c = 0;
    my @e = _log_patterns($block, 'error_log');
    my @n = _log_patterns($block, 'no_error_log');
    my $logc = @e + @n + (_has($block, 'grep_error_log_out') ? 1 : 0);
    if (_has($block, 'must_die')) { return 1 + $logc }
    for my $i (0 .. $nreq - 1) {
        unless (_has($block, 'ignore_response')) {
            $c++;
            $c++ for grep { _has($block, $_) } qw(raw_response_headers_like raw_response_headers_unlike);
            for my $sec (qw(response_headers response_headers_like)) {
                next unless _has($block, $sec);
                my $v = _sec($block, $sec);
                $v = $v->[$i] if ref $v eq 'ARRAY';
                $c += @{ (_header_table($v // ''))[1] };
                last;
            }
            $c++ if grep { _has($block, $_) } qw(response_body response_body_like response_body_unlike);
        }
        $c += $logc;
    }
    return $c;
}

# ---------------------------------------------------------------------------
# Skips.

sub _nginx_version () {
    return $NginxVersion if defined $NginxVersion;
    my $out = `$NginxBinary -v 2>&1`;
    $NginxVersion = $out =~ m{nginx/(\d+(?:\.\d+)*)} ? $1 : '0';
    return $NginxVersion;
}

sub _vnum ($) {
    my @p = split /\./, shift;
    push @p, 0 while @p < 3;
    return sprintf '%03d%03d%03d', @p[0 .. 2];
}

sub _ver_cond ($$) {
    my ($op, $v) = @_;
    my ($a, $b) = (_vnum(_nginx_version()), _vnum($v));
    return $a lt $b  if $op eq '<';
    return $a le $b  if $op eq '<=';
    return $a gt $b  if $op eq '>';
    return $a ge $b  if $op eq '>=';
    return $a eq $b  if $op eq '==' || $op eq '=';
    return $a ne $b  if $op eq '!=';
    bail_out("$CurName - bad nginx version operator \"$op\"");
}

# Returns (count, reason) when the block must be skipped.
sub _skip_info ($) {
    my $block = shift;
    if (_has($block, 'skip_eval')) {
        my $v = _sec($block, 'skip_eval') // '';
        my ($n, $code) = $v =~ /^\s*(\d+)\s*:\s*(.*)$/s
            or bail_out("$CurName - skip_eval: expected \"N: <perl code>\"");
        my $r = eval "package main; $code";
        bail_out("$CurName - skip_eval failed: $@") if $@;
        return ($n, "$CurName - skip_eval") if $r;
    }
    if (_has($block, 'skip_nginx')) {
        my $v = _sec($block, 'skip_nginx') // '';
        my ($n, $op, $ver) = $v =~ /^\s*(\d+)\s*:\s*([<>=!]+)\s*(\d[\d.]*)\s*$/
            or bail_out("$CurName - skip_nginx: expected \"N: <op> x.y.z\"");
        return ($n, "$CurName - nginx version " . _nginx_version() . " $op $ver")
            if _ver_cond($op, $ver);
    }
    if (_has($block, 'skip_nginx2')) {
        my $v = _sec($block, 'skip_nginx2') // '';
        my ($n, $op1, $v1, $lop, $op2, $v2) = $v =~
            /^\s*(\d+)\s*:\s*([<>=!]+)\s*(\d[\d.]*)\s+(and|or)\s+([<>=!]+)\s*(\d[\d.]*)\s*$/
            or bail_out("$CurName - skip_nginx2: expected \"N: <op> x.y.z and|or <op> x.y.z\"");
        my ($c1, $c2) = (_ver_cond($op1, $v1), _ver_cond($op2, $v2));
        my $hit = $lop eq 'and' ? ($c1 && $c2) : ($c1 || $c2);
        return ($n, "$CurName - nginx version " . _nginx_version() . " $op1 $v1 $lop $op2 $v2")
            if $hit;
    }
    return ();
}

# ---------------------------------------------------------------------------
# Block execution.

sub _check_sections ($) {
    my $block = shift;
    my @secs = @{ $block->{_section_order}[0] || [] };
    for my $k (keys %$block) {
        next if $k =~ /^_/;
        next if $k =~ /^(name|description|seq_num|is_filtered|blocks_object|original_values)$/;
        push @secs, $k;
    }
    for my $s (@secs) {
        next if $SectionOk{$s};
        bail_out("$CurName - section \"--- $s\" is not implemented by the compat runner "
                 . "(t/compat/Test/Nginx/Socket.pm); remove it or implement it");
    }
}

sub _timeout_for ($) {
    my $block = shift;
    if (_has($block, 'timeout')) {
        my $t = _parse_time(_sec($block, 'timeout'));
        bail_out("$CurName - bad --- timeout value") unless defined $t;
        return $t;
    }
    return $Timeout;
}

sub _run_init ($) {
    my $block = shift;
    return unless _has($block, 'init');
    my $code = _sec($block, 'init');
    if (ref $code eq 'CODE') {
        eval { $code->($block) };
    } elsif (defined $code && !ref $code) {
        eval "package main; $code; 1" or 0;
    }
    bail_out("$CurName - --- init failed: $@") if $@;
}

sub _requests_for ($) {
    my $block = shift;
    # returns list of {kind, ...}; one element per expected response
    if (_has($block, 'pipelined_requests')) {
        my $reqs = _sec($block, 'pipelined_requests');
        bail_out("$CurName - pipelined_requests expects an array (use eval)")
            unless ref $reqs eq 'ARRAY' && @$reqs;
        return { kind => 'pipelined', reqs => [ map { _expand_env($_) } @$reqs ] };
    }
    if (_has($block, 'raw_request')) {
        my $r = _sec($block, 'raw_request');
        bail_out("$CurName - raw_request is empty") unless defined $r && (ref $r || length $r);
        return { kind => 'raw', req => $r };
    }
    if (_has($block, 'request')) {
        my $r = _sec($block, 'request');
        if (ref $r eq 'ARRAY') {
            bail_out("$CurName - request array is empty") unless @$r;
            # an array of arrays: several requests made of packets;
            # an array of strings: several requests
            return { kind => 'multi', reqs => $r };
        }
        bail_out("$CurName - request is empty") unless defined $r && $r =~ /\S/;
        return { kind => 'multi', reqs => [$r] };
    }
    bail_out("$CurName - No request specified");
}

sub _more_headers_for ($$$) {
    my ($block, $i, $n) = @_;
    return undef unless _has($block, 'more_headers');
    my $v = _sec($block, 'more_headers');
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

sub _run_requests ($$$$) {
    my ($block, $name, $rep, $spec) = @_;
    my $timeout = _timeout_for($block);
    my $shutdown = _has($block, 'shutdown') ? (_sec($block, 'shutdown') // 1) : 0;
    $shutdown = 1 if defined $shutdown && $shutdown eq '';
    my $abort = _has($block, 'abort');

    my $after_request = sub {
        my ($i) = @_;
        if (_has($block, 'wait')) {
            my $w = _parse_time(_sec($block, 'wait')) // 0;
            Time::HiRes::sleep($w) if $w > 0;
        }
        Time::HiRes::sleep(3 * $Sleep);
        my $win = _read_log_window();
        _check_log_window($block, $name, $rep, $win);
    };

    my $timed_out_fail = sub {
        fail("ERROR: client socket timed out - $name") unless $abort;
    };

    if ($spec->{kind} eq 'raw') {
        my $r = $spec->{req};
        my @w;
        my $mid = _parse_time(_sec($block, 'raw_request_middle_delay') // 0) // 0;
        if (ref $r eq 'ARRAY') {
            my $first = 1;
            for my $p (@$r) {
                push @w, { data => (ref $p eq 'HASH' ? $p->{value} : $p),
                           delay_before => ($first ? 0 : $mid) };
                $first = 0;
            }
        } else {
            push @w, { data => $r };
        }
        my $meth = $w[0]{data} =~ /^\s*(\w+)/ ? uc $1 : '';
        my ($raw, $to, $err) = _do_io(\@w, $timeout, $shutdown);
        warn "WARNING: $name - $err\n" if $err;
        $timed_out_fail->() if $to;
        my ($res) = _parse_response($raw, $meth, 1);
        _verbose_io(\@w, $raw);
        _check_response($block, $name, $res, $rep, 0, 1);
        $after_request->(0);
        return;
    }

    if ($spec->{kind} eq 'pipelined') {
        my @reqs = @{ $spec->{reqs} };
        my $n = @reqs;
        my @w;
        my @meth;
        for my $i (0 .. $#reqs) {
            my $b = _build_request($reqs[$i], _more_headers_for($block, $i, $n),
                                   $i == $#reqs ? 'close' : 'keep-alive');
            push @meth, $b->{method};
            push @w, $_ for @{ $b->{writes} };
        }
        my $data = join '', map { $_->{data} } @w;
        my ($raw, $to, $err) = _do_io([{ data => $data }], $timeout, $shutdown);
        warn "WARNING: $name - $err\n" if $err;
        $timed_out_fail->() if $to;
        _verbose_io(\@w, $raw);
        my $rest = $raw;
        for my $i (0 .. $n - 1) {
            my $res;
            ($res, $rest) = _parse_response($rest, $meth[$i], $i == $n - 1);
            _check_response($block, $name, $res, $rep, $i, $n);
            $after_request->($i);
        }
        return;
    }

    my @reqs = @{ $spec->{reqs} };
    my $n = @reqs;
    for my $i (0 .. $#reqs) {
        my $b = _build_request($reqs[$i], _more_headers_for($block, $i, $n), 'close');
        my ($raw, $to, $err) = _do_io($b->{writes}, $timeout, $shutdown);
        warn "WARNING: $name - $err\n" if $err;
        $timed_out_fail->() if $to;
        _verbose_io($b->{writes}, $raw);
        my ($res) = _parse_response($raw, $b->{method}, 1);
        _check_response($block, $name, $res, $rep, $i, $n);
        $after_request->($i);
    }
}

sub _verbose_io ($$) {
    return unless $Verbose;
    my ($w, $raw) = @_;
    my $req = join '', map { $_->{data} // '' } @$w;
    _diag_text("request:\n$req\nresponse:\n$raw");
}

sub _shutdown_checks_closure ($$) {
    my ($block, $name) = @_;
    my @sh = _log_patterns($block, 'shutdown_error_log');
    my @nsh = _log_patterns($block, 'no_shutdown_error_log');
    return undef unless @sh || @nsh;
    return sub {
        my $text = _read_log_window();
        my @lines = split /\n/, $text;
        for my $p (@sh) {
            my $found = grep { _line_matches($_, $p) } @lines;
            $found ||= ref $p eq 'Regexp' ? $text =~ $p : 0;
            my $d = _pat_desc($p);
            if ($found) { pass("$name - pattern \"$d\" matches a line in error.log") }
            else { fail("$name - pattern \"$d\" should match a line in error.log") }
        }
        for my $p (@nsh) {
            my @hits = grep { _line_matches($_, $p) } @lines;
            my $d = _pat_desc($p);
            if (!@hits) { pass("$name - pattern \"$d\" does not match a line in error.log") }
            else {
                fail("$name - pattern \"$d\" should not match any line in error.log "
                     . "but matches line \"$_\"") for @hits;
            }
        }
    };
}

sub _run_pending_shutdown () {
    if (my $cb = $PendingShutdownChecks) {
        $PendingShutdownChecks = undef;
        $cb->();
    }
}

sub _must_die ($$$) {
    my ($block, $name, $rep) = @_;
    my $want = _sec($block, 'must_die');
    $want = undef if defined $want && $want !~ /\S/;
    my @cmd = _nginx_cmd();
    @cmd = ($NginxBinary, @cmd[1 .. $#cmd]);
    my ($code, $err) = _run_capture(@cmd);
    print STDERR $err if length $err && !_has($block, 'suppress_stderr');
    if ($code == 0) {
        # it started: stop it again and fail
        my $pid = _wait_pidfile(5, undef);
        if ($pid) { $NginxPid = $pid; _stop_nginx(); }
    }
    if (defined $want) {
        Test::More::is($code, $want, "$name - die with the expected exit code");
    } else {
        ok($code != 0, "$name - die as expected");
    }
    Time::HiRes::sleep(3 * $Sleep);
    _check_log_window($block, $name, $rep, _read_log_window());
}

sub _child_pids ($) {
    my $ppid = shift;
    my @kids;
    opendir my $dh, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $st = <$fh>;
        close $fh;
        next unless defined $st && $st =~ /\)\s+(\S)\s+(\d+)/;
        push @kids, $p if $2 == $ppid && $1 ne 'Z';
    }
    closedir $dh;
    return @kids;
}

# Reload the configuration with SIGHUP and wait until the old workers are
# gone, so that every later connection is served by the new configuration.
sub _hup_reload ($) {
    my $block = shift;
    my $f = "$ServRoot/logs/error.log";
    my $mark = -s $f || 0;
    my @old = _child_pids($NginxPid);
    kill 'HUP', $NginxPid;
    my $t0 = Time::HiRes::time();
    my $delay = 0.002;
    while (Time::HiRes::time() - $t0 < 15) {
        Time::HiRes::sleep($delay);
        $delay *= 2 if $delay < 0.02;
        if (open my $fh, '<', $f) {
            seek $fh, $mark, 0;
            local $/;
            my $c = <$fh> // '';
            close $fh;
            if ($c =~ /\[emerg\][^\n]*/) {
                my $e = $&;
                _diag_text("error.log tail:\n" . _log_tail(15));
                bail_out("$CurName - nginx failed to reload the configuration: $e");
            }
        }
        next if grep { !_proc_gone($_) } @old;
        my @new = _child_pids($NginxPid);
        next unless @new;
        $ErrLogOffset = -s $f || 0;
        return 1;
    }
    bail_out("$CurName - nginx did not finish reloading its configuration in 15 s");
}

sub _run_block ($) {
    my $block = shift;
    my $name = $CurName;

    my @skip = _skip_info($block);
    if (@skip) {
        _tb()->skip($skip[1]) for 1 .. $skip[0] * $RepeatEach;
        return;
    }

    my $config = _has($block, 'config') ? _sec($block, 'config') : $PrevConfig;
    $PrevConfig = $config;

    # random ports used anywhere in the block are allocated up front so that
    # --- init code and mock servers see the same values
    my $alloc_ports = sub {
        %BlockRandPorts = ();
        delete $ENV{$_} for grep { /^TEST_NGINX_RAND_PORT_\d+$/ } keys %ENV;
        for my $s (@{ $block->{_section_order}[0] || [] }) {
            my $v = $block->{original_values}{$s} // '';
            $v = _sec($block, $s) unless length $v;
            next if ref $v;
            _env_value("TEST_NGINX_RAND_PORT_$1") while $v =~ /\bTEST_NGINX_RAND_PORT_(\d+)/g;
        }
    };
    $alloc_ports->();

    my $conf_text = _build_conf($block, $config);

    if (_has($block, 'must_die')) {
        _stop_nginx() if $NginxPid;
        _run_pending_shutdown();
        _prepare_servroot($block);
        _write_user_files($block);
        _write_file("$ServRoot/conf/nginx.conf", $conf_text);
        $ErrLogOffset = 0;
        _run_init($block);
        for my $rep (0 .. $RepeatEach - 1) {
            _write_user_files($block) if $rep > 0;
            _must_die($block, $name, $rep);
        }
        return;
    }

    my $spec = _requests_for($block);

    my $reuse = !$ForceRestart && $NginxPid && !_proc_gone($NginxPid)
                && defined $PrevConfText && $PrevConfText eq $conf_text
                && !_has($block, 'user_files');
    if ($UseHup && $NginxPid && !_proc_gone($NginxPid)) {
        _write_user_files($block);
        _write_file("$ServRoot/conf/nginx.conf", $conf_text);
        _hup_reload($block);
    } elsif (!$reuse) {
        _stop_nginx() if $NginxPid;
        _run_pending_shutdown();
        _prepare_servroot($block);
        _write_user_files($block);
        _write_file("$ServRoot/conf/nginx.conf", $conf_text);
        $ErrLogOffset = 0;
        warn "--- nginx.conf for $name:\n$conf_text" if $Verbose;
        # a concurrent run may have taken one of our random ports meanwhile:
        # pick new ones and retry
        my $regen = !%BlockRandPorts ? undef : sub {
            $alloc_ports->();
            $conf_text = _build_conf($block, $config);
            _write_user_files($block);
            _write_file("$ServRoot/conf/nginx.conf", $conf_text);
        };
        my $r = _start_nginx($block, $regen);
        if ($r ne '1') {
            _tb()->skip("$name - tests skipped due to the lack of $r")
                for 1 .. _count_assertions($block, _nreq($spec)) * $RepeatEach;
            return;
        }
    }
    $PrevConfText = $conf_text;

    _run_init($block);
    for my $rep (0 .. $RepeatEach - 1) {
        _write_user_files($block) if $rep > 0;
        _run_requests($block, $name, $rep, $spec);
    }
    $PendingShutdownChecks = _shutdown_checks_closure($block, $name);
}

sub _nreq ($) {
    my $spec = shift;
    return 1 if $spec->{kind} eq 'raw';
    return scalar @{ $spec->{reqs} };
}

sub run_tests () {
    unless ($Announced++) {
        _diag_text("Test::Nginx::Socket compat runner (in-tree t/compat, not the CPAN "
                   . "framework); nginx: $NginxBinary; servroot: $ServRoot; port: $ServerPort"
                   . ($UseValgrind ? '; valgrind' : '')
                   . (($MasterProcess || $UseHup) ? '; master process' : '')
                   . ($UseHup ? '; HUP reload' : ''));
    }
    my @blocks = Test::Base::blocks();
    unless ($NoShuffle) {
        require List::Util;
        @blocks = List::Util::shuffle(@blocks);
    }
    my $first = 1;
    for my $block (@blocks) {
        $CurName = "$0 " . ($block->name // '');
        $_->($block) for @BlockPreprocessors;
        $CurName = "$0 " . ($block->name // '');
        _check_sections($block);
        if ($first && !_has($block, 'config') && !defined $PrevConfig) {
            bail_out("$CurName - No '--- config' section specified and no previous "
                     . "block's config to reuse");
        }
        $first = 0;
        _run_block($block);
        $_->($block) for @TestCleanupHandlers;
    }
    _finish();
}

sub _finish () {
    unless ($NoClean) {
        _stop_nginx() if $NginxPid;
        _run_pending_shutdown();
    }
    if (defined $ErrorLogCopy && -f "$ServRoot/logs/error.log") {
        my $c = _read_file("$ServRoot/logs/error.log");
        if (open my $fh, '>>', $ErrorLogCopy) { print $fh $c; close $fh }
    }
}

END {
    # forked children (e.g. curl launchers in --- init) must not stop nginx
    return unless $$ == $OwnerPid;
    my $status = $?;
    _emergency_stop() if $NginxPid;
    for my $h (@CleanupHandlers) { eval { $h->() } }
    if ($ServRootIsRandom && !$NoClean && !$NginxPid && defined $ServRoot && -d $ServRoot) {
        my $tb = Test::More->builder;
        if ($status == 0 && $tb->is_passing) {
            File::Path::remove_tree($ServRoot);
        } elsif (!$Announced) {
            File::Path::remove_tree($ServRoot);
        } else {
            print STDERR "# servroot kept for inspection: $ServRoot\n";
        }
    }
    $? = $status;
}

# Refused modes: skip the whole file (never fake them).
if (defined $RefuseReason) {
    Test::More->builder->skip_all($RefuseReason);
}

1;
