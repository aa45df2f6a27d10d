package Test::KPN::CA;

# A throw-away certificate authority for test suites: a CA certificate and
# server certificates it signs, made with the openssl command.  See the POD
# of Test::KPN.

use strict;
use warnings;

use File::Temp ();

our $VERSION = '0.1';

my $serial = 0;

sub _run {
    my @cmd = @_;
    my $out = qx{@{[ join ' ', map { _q($_) } @cmd ]} 2>&1};
    die "Test::KPN::CA: @cmd failed: $out\n" if $?;
    return $out;
}

sub _q {
    my $s = shift;
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

sub _write {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "Test::KPN::CA: $path: $!\n";
    print $fh $text;
    close $fh or die "Test::KPN::CA: $path: $!\n";
}

# Test::KPN::CA->new(name => 'Test::KPN CA', dir => DIR)
sub new {
    my ($class, %o) = @_;
    my $dir = $o{dir} // File::Temp::tempdir('test-kpn-ca-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    my $self = bless { dir => $dir, name => $o{name} // 'Test::KPN CA' }, $class;
    $self->{key} = "$dir/ca.key";
    $self->{cert} = "$dir/ca.pem";
    _run('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
         '-nodes', '-keyout', $self->{key}, '-out', $self->{cert}, '-days', '7',
         '-subj', "/CN=$self->{name}",
         '-addext', 'basicConstraints=critical,CA:TRUE',
         '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    chmod 0644, $self->{cert};
    return $self;
}

sub cert_file { $_[0]{cert} }
sub dir       { $_[0]{dir} }

# $ca->issue('api.withthegrid.com', 'localhost', '127.0.0.1'):
# (certificate file, key file) for those names (IP addresses as IP SANs)
sub issue {
    my ($self, @names) = @_;
    @names = ('localhost', '127.0.0.1') unless @names;
    my $n = ++$serial;
    my $base = "$self->{dir}/server-$$-$n";
    my $san = join ',', map { /\A[\d.]+\z|:/ ? "IP:$_" : "DNS:$_" } @names;
    _write("$base.ext", "subjectAltName=$san\nbasicConstraints=CA:FALSE\n"
                      . "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n");
    _run('openssl', 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
         '-nodes', '-keyout', "$base.key", '-out', "$base.csr", '-subj', "/CN=$names[0]");
    _run('openssl', 'x509', '-req', '-in', "$base.csr", '-CA', $self->{cert},
         '-CAkey', $self->{key}, '-set_serial', time() . sprintf('%03d', $n),
         '-days', '7', '-extfile', "$base.ext", '-out', "$base.pem");
    chmod 0644, "$base.pem";
    chmod 0640, "$base.key";
    # nginx workers that run as another user read neither; the master does
    return ("$base.pem", "$base.key");
}

1;
