package Test::KPN::StandIn;

# A recording HTTP(S) stand-in for Withthegrid, KPN's token endpoint or
# KPN's API, forked on a loopback port.  See the POD of Test::KPN.

use strict;
use warnings;

use File::Temp ();
use IO::Socket::INET;
use JSON::PP ();
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes ();

our $VERSION = '0.1';

my $JSON = JSON::PP->new->canonical->latin1;

# what each role answers unless told otherwise; "echo": the body received
our %ROLES = (
    withthegrid => { status => 200, type => 'application/json', body => 'echo',
                     host => 'api.withthegrid.com' },
    kpn_token   => { status => 200, type => 'application/json', body => 'token',
                     host => 'auth.grip-on-it.com' },
    kpn_api     => { status => 201,
                     type => 'application/vnd.kpnthings.actuator.v1.response+json',
                     body => 'echo', host => 'api.kpnthings.com' },
);

my %REASON = (200 => 'OK', 201 => 'Created', 204 => 'No Content', 302 => 'Found',
              400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden',
              404 => 'Not Found', 429 => 'Too Many Requests',
              500 => 'Internal Server Error', 502 => 'Bad Gateway',
              503 => 'Service Unavailable', 504 => 'Gateway Timeout');

my @ALL;    # started here, stopped at exit by the process that started them

sub _write_json {
    my ($path, $data) = @_;
    my $tmp = "$path.$$.tmp";
    open my $fh, '>', $tmp or die "Test::KPN::StandIn: $tmp: $!\n";
    print $fh $JSON->encode($data);
    close $fh or die "Test::KPN::StandIn: $tmp: $!\n";
    rename $tmp, $path or die "Test::KPN::StandIn: $path: $!\n";
}

sub _read_json {
    my $path = shift;
    open my $fh, '<', $path or return undef;
    local $/;
    my $text = <$fh>;
    close $fh;
    return undef unless defined $text && length $text;
    return $JSON->decode($text);
}

# Test::KPN::StandIn->new(role => 'withthegrid', port => 0, tls => 0,
#                         names => [...], ca => $ca)
sub new {
    my ($class, %o) = @_;
    my $role = $o{role} // 'withthegrid';
    die "Test::KPN::StandIn: unknown role \"$role\" (withthegrid, kpn_token, kpn_api)\n"
        unless $ROLES{$role};

    my $self = bless {
        role => $role, tls => $o{tls} ? 1 : 0,
        dir => File::Temp::tempdir("test-kpn-$role-XXXXXX", TMPDIR => 1, CLEANUP => 1),
    }, $class;
    mkdir "$self->{dir}/records" or die "Test::KPN::StandIn: mkdir: $!\n";

    if ($self->{tls}) {
        my $ca = $o{ca} // do { require Test::KPN; Test::KPN::kpn_ca() };
        my @names = @{ $o{names} // [$ROLES{$role}{host}] };
        ($self->{cert}, $self->{key}) = $ca->issue(@names, 'localhost', '127.0.0.1');
    }

    my $srv = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $o{port} // 0, Proto => 'tcp',
        Listen => 128, ReuseAddr => 1,
    ) or die "Test::KPN::StandIn: cannot listen on 127.0.0.1:" . ($o{port} // 0) . ": $!\n";
    $self->{port} = $srv->sockport;

    $ENV{$o{env}} = $self->{port} if $o{env};

    my $pid = fork // die "Test::KPN::StandIn: fork: $!\n";
    if ($pid == 0) {
        eval { $self->_serve($srv) };
        POSIX::_exit(0);
    }
    close $srv;
    $self->{pid} = $pid;
    $self->{owner} = $$;
    push @ALL, $self;
    return $self;
}

sub port { $_[0]{port} }
sub role { $_[0]{role} }
sub url  {
    my ($self, $path) = @_;
    return ($self->{tls} ? 'https' : 'http') . "://127.0.0.1:$self->{port}" . ($path // '');
}

# every request since the last reset, oldest first: hashes with method,
# uri, path, query, headers (lower-case names; repeated ones joined with
# ", "), header_list ([name, value] as sent), body, tls, answer (the
# status answered, or "reset" / "hang"), delay
sub requests {
    my $self = shift;
    opendir my $dh, "$self->{dir}/records" or return ();
    my @files = sort grep { /\A\d+\.json\z/ } readdir $dh;
    closedir $dh;
    return grep { defined } map { _read_json("$self->{dir}/records/$_") } @files;
}

sub last_request { my @r = $_[0]->requests; return $r[-1] }
sub count        { return scalar $_[0]->requests }

# TLS handshakes that failed (the client refused the certificate, ...)
sub tls_failures {
    my $self = shift;
    open my $fh, '<', "$self->{dir}/tls-failures" or return 0;
    my @l = <$fh>;
    return scalar @l;
}

# forget the records and the TLS failures
sub reset {
    my $self = shift;
    opendir my $dh, "$self->{dir}/records" or return;
    unlink map { "$self->{dir}/records/$_" } grep { /\.json\z/ } readdir $dh;
    closedir $dh;
    unlink "$self->{dir}/tls-failures";
    return $self;
}

# the normal answer: status, body (text, 'echo' or, for kpn_token, 'token'),
# type, headers ({name => value}); no arguments: the role's default
sub answer {
    my ($self, @args) = @_;
    die "Test::KPN::StandIn: answer takes name => value pairs (status, body, type, headers)\n"
        if @args % 2;
    my %o = @args;
    for (keys %o) {
        die "Test::KPN::StandIn: unknown answer option \"$_\" (status, body, type, headers)\n"
            unless /\A(?:status|body|type|headers)\z/;
    }
    if (%o) { _write_json("$self->{dir}/answer.json", \%o) }
    else    { unlink "$self->{dir}/answer.json" }
    return $self;
}

# a fault for the next requests: status => N (body, type), delay => S,
# hang => 1, reset => 1; count => N limits it to the next N requests;
# no arguments: no fault
sub fault {
    my ($self, @args) = @_;
    die "Test::KPN::StandIn: fault takes name => value pairs\n" if @args % 2;
    my %o = @args;
    for (keys %o) {
        die "Test::KPN::StandIn: unknown fault option \"$_\"\n"
            unless /\A(?:status|body|type|delay|hang|reset|count)\z/;
    }
    if (%o) {
        $o{id} = Time::HiRes::time() . "-" . rand();
        _write_json("$self->{dir}/fault.json", \%o);
    } else {
        unlink "$self->{dir}/fault.json";
    }
    return $self;
}

sub stop {
    my $self = shift;
    return unless $self->{pid} && $self->{owner} == $$;
    kill 'TERM', -$self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

END {
    local $?;
    $_->stop for @ALL;
}

# ----------------------------------------------------------------------------
# The server process.

sub _serve {
    my ($self, $srv) = @_;
    POSIX::setpgid(0, 0);
    $SIG{PIPE} = 'IGNORE';
    $SIG{CHLD} = 'IGNORE';
    $SIG{TERM} = sub { kill 'TERM', -$$; POSIX::_exit(0) };
    @ALL = ();

    my ($seq, $tokens, %used) = (0, 0);
    require IO::Socket::SSL if $self->{tls};

    while (1) {
        my $c = $srv->accept or next;
        binmode $c;
        if ($self->{tls}) {
            my $ok = IO::Socket::SSL->start_SSL($c, SSL_server => 1,
                SSL_cert_file => $self->{cert}, SSL_key_file => $self->{key},
                Timeout => 5);
            unless ($ok) {
                $self->_tls_failure(IO::Socket::SSL::errstr() // 'handshake failed');
                close $c;
                next;
            }
        }

        my $req = _read_request($c);
        unless ($req) {
            # with TLS 1.3 a client that refuses the certificate says so
            # after the server's side of the handshake: no request comes
            $self->_tls_failure('closed before a request') if $self->{tls};
            _close($c);
            next;
        }
        $req->{tls} = $self->{tls};
        $req->{time} = Time::HiRes::time();
        my $record = sprintf("%s/records/%09d.json", $self->{dir}, ++$seq);

        my $answer = { %{ $ROLES{$self->{role}} }, %{ _read_json("$self->{dir}/answer.json") // {} } };
        my $fault = _read_json("$self->{dir}/fault.json");
        if ($fault && defined $fault->{count}) {
            $fault = undef if ++$used{ $fault->{id} } > $fault->{count};
        }

        my $body = $answer->{body};
        if ($body eq 'echo') {
            $body = $req->{body};
        } elsif ($body eq 'token') {
            $tokens++;
            $body = qq({"access_token":"kit-access-token-$tokens","token_type":"Bearer",)
                  . qq("expires_in":) . ($answer->{expires_in} // 3600) . '}';
        }
        my $status = $answer->{status};
        my $type = $answer->{type};
        my %headers = %{ $answer->{headers} // {} };

        if ($fault && $fault->{status}) {
            $status = $fault->{status};
            $body = $fault->{body} // qq({"error":"stand-in fault $status"});
            $type = $fault->{type} // 'application/json';
        }

        # the record says how it was answered
        $req->{answer} = $fault && $fault->{reset} ? 'reset'
                       : $fault && $fault->{hang} ? 'hang' : $status;
        $req->{delay} = $fault->{delay} if $fault && $fault->{delay} && !$fault->{hang};
        _write_json($record, $req);

        if ($fault && $fault->{reset}) {
            setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
            _close($c, 1);
            next;
        }

        if ($fault && ($fault->{hang} || $fault->{delay})) {
            my $pid = fork;
            if (defined $pid && $pid == 0) {
                $SIG{TERM} = 'DEFAULT';
                if ($fault->{hang}) {
                    # until the client gives up (or 10 minutes)
                    my $t0 = time;
                    my $buf;
                    while (time - $t0 < 600) {
                        my $n = sysread $c, $buf, 4096;
                        last if defined $n && $n == 0;
                        last if !defined $n && !$!{EINTR} && !$!{EAGAIN};
                    }
                    POSIX::_exit(0);
                }
                Time::HiRes::sleep($fault->{delay});
                _respond($c, $status, $type, $body, \%headers);
                _close($c);
                POSIX::_exit(0);
            }
            _close($c, 1);
            next;
        }

        _respond($c, $status, $type, $body, \%headers);
        _close($c);
    }
}

sub _tls_failure {
    my ($self, $why) = @_;
    open my $fh, '>>', "$self->{dir}/tls-failures" or return;
    print $fh $why =~ s/\n/ /gr, "\n";
    close $fh;
}

sub _close {
    my ($c, $no_shutdown) = @_;
    if (ref($c) =~ /SSL/) {
        $c->close(SSL_no_shutdown => $no_shutdown ? 1 : 0, SSL_ctx_free => 0);
    } else {
        close $c;
    }
}

sub _respond {
    my ($c, $status, $type, $body, $headers) = @_;
    $body //= '';
    my $h = "HTTP/1.1 $status " . ($REASON{$status} // 'Status') . "\r\n";
    $h .= "Content-Type: $type\r\n" if defined $type && length $body;
    $h .= "$_: $headers->{$_}\r\n" for sort keys %$headers;
    $h .= "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n";
    my $out = $h . $body;
    while (length $out) {
        my $n = syswrite $c, $out;
        last unless $n;
        substr($out, 0, $n) = '';
    }
}

sub _read_request {
    my $c = shift;
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        my $n = sysread $c, $buf, 65536, length $buf;
        return undef unless $n;
        return undef if length $buf > 1 << 20;
    }
    my ($head, $rest) = $buf =~ /\A(.*?)\r\n\r\n(.*)\z/s;
    my ($request_line, @lines) = split /\r\n/, $head;
    my ($method, $uri, $proto) = split / /, $request_line;
    return undef unless defined $uri;
    my (@list, %h);
    for (@lines) {
        my ($n, $v) = /\A([^:]+):\s*(.*?)\s*\z/ or next;
        push @list, [$n, $v];
        $h{lc $n} = exists $h{lc $n} ? "$h{lc $n}, $v" : $v;
    }
    my $body = $rest;
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $raw = $rest;
        $body = '';
        while (1) {
            while ($raw !~ /\A([0-9a-fA-F]+)[^\r\n]*\r\n/) {
                my $n = sysread $c, $raw, 65536, length $raw;
                return undef unless $n;
            }
            my ($size, $line) = $raw =~ /\A(([0-9a-fA-F]+)[^\r\n]*\r\n)/ ? (hex $2, length $1) : (0, 0);
            while (length $raw < $line + $size + 2) {
                my $n = sysread $c, $raw, 65536, length $raw;
                return undef unless $n;
            }
            $body .= substr $raw, $line, $size;
            substr($raw, 0, $line + $size + 2) = '';
            last if $size == 0;
        }
    } else {
        my $len = $h{'content-length'} // 0;
        while (length $body < $len) {
            my $n = sysread $c, $body, 65536, length $body;
            last unless $n;
        }
    }
    my ($path, $query) = $uri =~ /\A([^?]*)(?:\?(.*))?\z/s;
    return { method => $method, uri => $uri, path => $path, query => $query,
             protocol => $proto, headers => \%h, header_list => \@list, body => $body };
}

1;
