# kpn-sign (bin/kpn-sign, or KPN_SIGN=/usr/bin/kpn-sign for the installed
# one): the token of the docs/protocol.md vector from a file and stdin, the
# Nth secret, an 800 KB body, --send to a recording HTTPS stand-in (the
# bytes and headers it gets), certificate verification, and each exit code.
# Plain Test::More: no nginx.

use strict;
use warnings;

use lib 'perl/lib';
use Test::KPN;
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Temp ();
use IO::Socket::INET;
use POSIX ();

my $SIGN = $ENV{KPN_SIGN} // 'bin/kpn-sign';
my $SECRET = 'Example-Secret-0123456789-abcdefGH!';
my $VECTOR = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","bt":1.765739955219e9,"n":"payload","vs":"763d0028"},{"n":"port","v":1.0}]';
my $VECTOR_TOKEN = '9d29450cf3d4d416bee161cc99b0b36dfacfb9d921346fd1e813cbcbc1ee4e36';

my $dir = File::Temp::tempdir(CLEANUP => 1);

sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>:raw', "$dir/$name" or die $!;
    print $fh $text;
    close $fh;
    return "$dir/$name";
}

# runs kpn-sign with @args and $stdin (a file name or undef): (exit, stdout, stderr)
sub run {
    my ($stdin, @args) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        open STDIN, '<', $stdin // '/dev/null' or die;
        open STDOUT, '>', "$dir/out" or die;
        open STDERR, '>', "$dir/err" or die;
        exec $^X, $SIGN, @args or exit 127;
    }
    waitpid $pid, 0;
    my $code = $? >> 8;
    local $/;
    open my $o, '<', "$dir/out"; my $out = <$o>;
    open my $e, '<', "$dir/err"; my $err = <$e>;
    return ($code, $out, $err);
}

my $secrets = write_file('destination.secrets',
    "# old and new\n\n  $SECRET  \nNew-Secret-0123456789-ABCDEFgh!#x\n");
my $body = write_file('vector.json', $VECTOR);

my ($c, $out, $err) = run(undef, '--secret-file', $secrets, $body);
is($c, 0, 'token from a file: exit 0');
is($out, "$VECTOR_TOKEN\n", 'token from a file: the test vector');

($c, $out) = run($body, '-s', $secrets);
is($out, "$VECTOR_TOKEN\n", 'token from stdin (no file argument)');

($c, $out) = run($body, '-s', $secrets, '-');
is($out, "$VECTOR_TOKEN\n", 'token from stdin (-)');

($c, $out) = run(undef, '-s', $secrets, '--number', 2, $body);
is($out, sha256_hex($VECTOR . 'New-Secret-0123456789-ABCDEFgh!#x') . "\n", '--number 2: the second secret');

($c, $out, $err) = run(undef, '-s', $secrets, '--number', 3, $body);
is($c, 1, '--number beyond the file: exit 1');
like($err, qr/has 2 secret/, '... saying how many there are');

my $big = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:","n":"payload","vs":"' . ('ab' x 409600) . '"}]';
my $bigfile = write_file('big.json', $big);
($c, $out) = run($bigfile, '-s', $secrets);
is($out, sha256_hex($big . $SECRET) . "\n", 'an 800 KB body from stdin');
($c, $out) = run(undef, '-s', $secrets, $bigfile);
is($out, sha256_hex($big . $SECRET) . "\n", 'an 800 KB body from a file');

($c, $out, $err) = run(undef, $body);
is($c, 1, 'no --secret-file: exit 1');
($c, $out, $err) = run(undef, '-s', "$dir/none", $body);
is($c, 2, 'an unreadable secret file: exit 2');
unlike($err, qr/\Q$SECRET\E/, 'no secret in the message');
($c) = run(undef, '-s', write_file('empty', "# none\n\n"), $body);
is($c, 2, 'a secret file without a secret: exit 2');
($c) = run(undef, '-s', $secrets, "$dir/none.json");
is($c, 2, 'an unreadable body: exit 2');
($c, $out, $err) = run(undef, '-s', $secrets, File::Temp::tempdir(CLEANUP => 1));
is($c, 2, 'a directory as the body: exit 2 (it signed an empty body)');
is($out, '', '... no token printed');
($c, $out) = run(undef, '--help');
is($c, 0, '--help: exit 0');
like($out, qr/EXIT STATUS|--send/, '--help shows the options');
($c, $out) = run(undef, '--version');
like($out, qr/\Akpn-sign \d/, '--version');

# --send over https to a recording stand-in of the kit's CA
my $wtg = kpn_standin('withthegrid', tls => 1, names => ['localhost']);
my $ca = kpn_ca_file();
($c, $out, $err) = run(undef, '-s', $secrets, '--send', $wtg->url('/kpn/uplink?x=1'),
                       '--device-type', 'dragino-lds01', '--plug', '6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01',
                       '-H', 'Authorization: Basic a2l0OmtpdA==', '--ca-file', $ca, $bigfile);
is($c, 0, '--send: answered 200, exit 0');
like($out, qr/\A200 OK\n/, '--send prints the status line');
is(length($out), length("200 OK\n") + length($big) + 1, '... and the answer (the echo)');
my $r = $wtg->last_request;
is($r->{method}, 'POST', 'sent: POST');
is($r->{uri}, '/kpn/uplink?x=1', 'sent: the URL path and query');
is($r->{body}, $big, 'sent: the body, byte for byte (800 KB)');
is($r->{headers}{'things-message-token'}, sha256_hex($big . $SECRET), 'sent: the token');
is($r->{headers}{'content-type'}, 'application/json', 'sent: Content-Type');
is($r->{headers}{'device-type'}, 'dragino-lds01', 'sent: device-type');
is($r->{headers}{'things-plug-uuid'}, '6e0e2a3c-0b25-4b5f-8a35-2f0c8b0b0a01', 'sent: Things-Plug-UUID');
is($r->{headers}{authorization}, 'Basic a2l0OmtpdA==', 'sent: --header');
ok($r->{tls}, 'sent over TLS');

$wtg->fault(status => 401, count => 1);
($c, $out) = run($body, '-s', $secrets, '--send', $wtg->url('/'), '--ca-file', $ca);
is($c, 3, 'a 401 answer: exit 3');
like($out, qr/\A401 /, '... printed');

$wtg->fault(status => 503, count => 1);
($c) = run($body, '-s', $secrets, '--send', $wtg->url('/'), '--ca-file', $ca);
is($c, 4, 'a 503 answer: exit 4');

$wtg->fault(reset => 1, count => 1);
($c) = run($body, '-s', $secrets, '--send', $wtg->url('/'), '--ca-file', $ca);
is($c, 4, 'a reset connection: exit 4');

$wtg->fault;
my $other = Test::KPN::CA->new(name => 'Another CA');
($c, $out, $err) = run($body, '-s', $secrets, '--send', $wtg->url('/'), '--ca-file', $other->cert_file);
is($c, 5, 'a certificate of another CA: exit 5');
like($err, qr/TLS/, '... saying TLS');

($c, $out, $err) = run($body, '-s', $secrets, '--send', $wtg->url('/'));
is($c, 5, 'the system CA store does not know the test CA: exit 5');

# a certificate of the trusted CA for another name: hostname verification
# fails, which is exit 5 (not 4, "no answer")
{
    require IO::Socket::SSL;
    my ($pem, $key) = kpn_ca()->issue('other.example.net');
    my $tls = IO::Socket::SSL->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5,
                                   ReuseAddr => 1, SSL_server => 1,
                                   SSL_cert_file => $pem, SSL_key_file => $key)
        or die "listen: $IO::Socket::SSL::SSL_ERROR";
    my $port = $tls->sockport;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        for (1 .. 2) { my $s = $tls->accept or next; close $s }
        POSIX::_exit(0);
    }
    close $tls;
    ($c, $out, $err) = run($body, '-s', $secrets, '--send', "https://127.0.0.1:$port/", '--ca-file', $ca);
    is($c, 5, 'a certificate for another name: exit 5');
    like($err, qr/TLS .* hostname verification/, '... saying TLS and hostname verification');
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

# an answer without a reason phrase (nginx's 422): the status alone, no trailing blank
{
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5,
                                    ReuseAddr => 1) or die "listen: $!";
    my $port = $srv->sockport;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $s = $srv->accept;
        my $in = '';
        while ($in !~ /\r\n\r\n/) { sysread($s, $in, 4096, length $in) or last }
        my $answer = '{"error":"unknown_device_type"}';
        syswrite $s, "HTTP/1.1 422 \r\nContent-Type: application/json\r\nContent-Length: "
                   . length($answer) . "\r\nConnection: close\r\n\r\n$answer";
        close $s;
        POSIX::_exit(0);
    }
    close $srv;
    ($c, $out) = run($body, '-s', $secrets, '--send', "http://127.0.0.1:$port/kpn/uplink");
    is($c, 3, 'a 422 answer: exit 3');
    like($out, qr/\A422\n\{"error"/, '... its status line is "422", no trailing blank');
    waitpid $pid, 0;
}

# plain http, to a stand-in on a port chosen by the test
my $free = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1)->sockport;
my $api = kpn_standin('kpn_api', port => $free);
is($api->port, $free, 'a stand-in on a chosen port');
($c, $out) = run($body, '-s', $secrets, '--send', "http://127.0.0.1:$free/api/actuator/downlinks");
is($c, 0, '--send over http: exit 0');
like($out, qr/\A201 Created\n\Q$VECTOR\E\n\z/, "KPN API's stand-in: 201 with the body received");
is($api->last_request->{body}, $VECTOR, 'recorded');
ok(!$api->last_request->{tls}, 'plain http');

($c) = run($body, '-s', $secrets, '--send', 'ftp://x/');
is($c, 1, 'not an http(s) URL: exit 1');

done_testing();
