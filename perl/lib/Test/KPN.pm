package Test::KPN;

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use Exporter 'import';
use File::Temp ();
use JSON::PP ();
use POSIX ();
use Test::KPN::CA;
use Test::KPN::StandIn;

our $VERSION = '0.1';

our @EXPORT = qw(
    kpn_sign kpn_headers kpn_lora_pack kpn_cellular_pack kpn_internet_pack kpn_pack
    kpn_envelope kpn_standin kpn_ca kpn_ca_file kpn_file kpn_dir kpn_conf kpn_after
);

# ----------------------------------------------------------------------------
# The teardown delay.  A daemon nginx is an orphan: where PID 1 reaps
# orphans late (containers, micro-VMs) a stopped nginx stays a zombie for
# up to a second, and the test framework, which waits for the pid to go,
# loses that second for every block.  The test process is made the
# "child subreaper" of its descendants (Linux prctl), so the orphaned nginx
# becomes its child and the framework's own waitpid() reaps it at once.

sub _subreaper {
    return unless $^O eq 'linux';
    my %nr = (x86_64 => 157, aarch64 => 167);    # prctl
    my $arch = (POSIX::uname())[4];
    return unless exists $nr{$arch};
    syscall($nr{$arch}, 36, 1, 0, 0, 0);         # PR_SET_CHILD_SUBREAPER, 1
}

_subreaper() unless $ENV{TEST_KPN_NO_SUBREAPER};

# The module as the package installs it, and nginx's workers as Debian's
# (www-data) when the suite runs as root: read by the framework when it
# loads, so Test::KPN comes first.  Set either variable to choose.
our $MODULE = '/usr/lib/nginx/modules/ngx_http_kpn_module.so';
{
    my @set;
    if (!defined $ENV{TEST_NGINX_LOAD_MODULES} && -f $MODULE) {
        $ENV{TEST_NGINX_LOAD_MODULES} = $MODULE;
        push @set, "TEST_NGINX_LOAD_MODULES=$MODULE";
    }
    if (!defined $ENV{TEST_NGINX_WORKER_USER} && $> == 0 && defined getpwnam('www-data')) {
        $ENV{TEST_NGINX_WORKER_USER} = 'www-data';
        push @set, 'TEST_NGINX_WORKER_USER=www-data';
    }
    # too late for a framework that is already loaded: say so rather than
    # let nginx fail on an unknown directive or run its workers as root
    warn "Test::KPN: load it before Test::Nginx::Socket (use Test::KPN; first): the framework"
       . " has already read its settings, so " . join(' and ', @set)
       . (@set > 1 ? ' do' : ' does') . " not apply\n"
        if @set && ($INC{'Test/Nginx/Socket.pm'} || $INC{'Test/Nginx/Util.pm'});
}

# ----------------------------------------------------------------------------
# Options are name => value pairs; an odd list (positional arguments) or a
# misspelt name dies, so a test never silently runs with a default pack or
# without a header it meant to send

sub _opts {
    my ($fn, $args, @known) = @_;
    die "$fn: options are name => value pairs (" . join(', ', map { "$_ => ..." } @known) . ")\n"
        if @$args % 2;
    my %o = @$args;
    my %k = map { $_ => 1 } @known;
    my @bad = grep { !$k{$_} } sort keys %o;
    die "$fn: unknown option" . (@bad > 1 ? 's' : '') . ' ' . join(', ', map { "\"$_\"" } @bad)
        . ' (' . join(', ', @known) . ")\n" if @bad;
    return %o;
}

# ----------------------------------------------------------------------------
# Signing

sub kpn_sign {
    my ($body, $secret) = @_;
    die "kpn_sign: a body and a secret are needed\n" unless defined $body && defined $secret;
    return sha256_hex($body . $secret);
}

# the request headers of a signed uplink, one a line (a Test::Nginx
# more_headers section): kpn_headers($body, secret => S, device_type => T,
# plug => UUID, token => TOKEN (instead of signing), content_type => CT,
# extra => ["Name: value", ...]); undef leaves a header out
sub kpn_headers {
    my ($body, @args) = @_;
    my %o = _opts('kpn_headers', \@args, qw(secret token device_type plug content_type extra));
    my $token = exists $o{token} ? $o{token} : kpn_sign($body, $o{secret});
    my $ct = exists $o{content_type} ? $o{content_type} : 'application/json';
    my @h;
    push @h, "Content-Type: $ct" if defined $ct;
    push @h, "Things-Message-Token: $token" if defined $token;
    push @h, "Things-Plug-UUID: $o{plug}" if defined $o{plug};
    push @h, "device-type: $o{device_type}" if defined $o{device_type};
    push @h, @{ $o{extra} } if $o{extra};
    return join "\n", @h;
}

# ----------------------------------------------------------------------------
# Packs.  Numbers are written as given (a string stays as typed: "1.0",
# "1.765739955219e9"); kpn_envelope() reads them back as the module does.

sub _jstr { JSON::PP->new->ascii->allow_nonref->encode("$_[0]") }

sub _num_text {
    my $v = shift;
    die "Test::KPN: not a number: $v\n"
        unless $v =~ /\A-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?\z/;
    return $v;
}

sub _record {
    my (%r) = @_;
    my @k;
    for my $key (qw(bn bt bu n u t)) {
        next unless defined $r{$key};
        push @k, qq("$key":) . ($key =~ /\A(?:bt|t)\z/ ? _num_text($r{$key}) : _jstr($r{$key}));
    }
    push @k, '"v":' . _num_text($r{v}) if defined $r{v};
    push @k, '"vs":' . _jstr($r{vs}) if defined $r{vs};
    push @k, '"vb":' . ($r{vb} ? 'true' : 'false') if defined $r{vb};
    push @k, '"vd":' . _jstr($r{vd}) if defined $r{vd};
    return '{' . join(',', @k) . '}';
}

# kpn_pack(urn => 'urn:dev:...:', time => T, layout => 'current'|'legacy',
#          records => [ {n => ..., v|vs|vb|vd => ..., u => ..., t => ...}, ... ])
sub kpn_pack {
    my %o = _opts('kpn_pack', \@_, qw(urn time layout records));
    my $urn = $o{urn} // die "kpn_pack: urn is needed\n";
    my @recs = @{ $o{records} // [] };
    die "kpn_pack: at least one record is needed\n" unless @recs;
    my $layout = $o{layout} // 'current';
    my %base = (bn => $urn, (defined $o{time} ? (bt => $o{time}) : ()));
    my @out;
    if ($layout eq 'legacy') {
        # before December 2022: a first record with the base fields only
        push @out, _record(%base);
        push @out, map { _record(%$_) } @recs;
    } elsif ($layout eq 'current') {
        push @out, _record(%base, %{ $recs[0] });
        push @out, map { _record(%$_) } @recs[1 .. $#recs];
    } else {
        die "kpn_pack: layout is current or legacy\n";
    }
    return '[' . join(',', @out) . ']';
}

# a LoRaWAN device (urn:dev:DEVEUI): payload (hex), port, and the radio
# fields of KPN's extended decoder: fcnt (FCntUp), rssi (LrrRSSI), snr
# (LrrSNR); more => [records]
sub kpn_lora_pack {
    my %o = _opts('kpn_lora_pack', \@_, qw(deveui time payload port fcnt rssi snr more layout));
    my $eui = $o{deveui} // '0059AC00001B3461';
    die "kpn_lora_pack: a DevEUI is 16 hex digits\n" unless $eui =~ /\A[0-9a-fA-F]{16}\z/;
    my @r;
    push @r, { n => 'payload', vs => $o{payload} // '763d0028' } unless exists $o{payload} && !defined $o{payload};
    push @r, { n => 'port', v => $o{port} // 1 } unless exists $o{port} && !defined $o{port};
    push @r, { n => 'FCntUp', v => $o{fcnt} } if defined $o{fcnt};
    push @r, { n => 'LrrRSSI', v => $o{rssi} } if defined $o{rssi};
    push @r, { n => 'LrrSNR', v => $o{snr} } if defined $o{snr};
    push @r, @{ $o{more} } if $o{more};
    return kpn_pack(urn => "urn:dev:DEVEUI:$eui:", time => $o{time} // '1.765739955219e9',
                    layout => $o{layout}, records => \@r);
}

# an NB-IoT / LTE-M (M2M) device (urn:dev:IMEI): its own measurements
# (records => [...], default a temperature), optionally a raw payload
sub kpn_cellular_pack {
    my %o = _opts('kpn_cellular_pack', \@_, qw(imei time records payload layout));
    my $imei = $o{imei} // '356938035643809';
    die "kpn_cellular_pack: an IMEI is 15 digits\n" unless $imei =~ /\A\d{15}\z/;
    my @r = @{ $o{records} // [ { n => 'temperature', u => 'Cel', v => '21.1' },
                                { n => 'battery', u => '%EL', v => 87 } ] };
    unshift @r, { n => 'payload', vs => $o{payload} } if defined $o{payload};
    return kpn_pack(urn => "urn:dev:IMEI:$imei:", time => $o{time} // 1654194188,
                    layout => $o{layout}, records => \@r);
}

# an internet-connected device (urn:dev:DVNUUID)
sub kpn_internet_pack {
    my %o = _opts('kpn_internet_pack', \@_, qw(uuid time records layout));
    my $uuid = $o{uuid} // '3f1e2d4c-5b6a-4789-9abc-def012345678';
    die "kpn_internet_pack: not a UUID\n"
        unless $uuid =~ /\A[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\z/;
    my @r = @{ $o{records} // [ { n => 'state', vs => 'open' } ] };
    return kpn_pack(urn => "urn:dev:DVNUUID:$uuid:", time => $o{time},
                    layout => $o{layout}, records => \@r);
}

# ----------------------------------------------------------------------------
# The envelope a pack becomes (docs/protocol.md, the module's envelope):
# kpn_envelope($body, hash_id => 'wasd2', device_type => 'dragino-lds01',
#              secret => S | token => T)   (the message id; neither: none)

sub _shortest {
    my $v = shift;
    if ($v == int($v) && abs($v) < 1e15) {
        return sprintf '%.0f', $v;
    }
    for my $p (15, 16, 17) {
        my $s = sprintf "%.${p}g", $v;
        return $s if $s + 0 == $v;
    }
    return sprintf '%.17g', $v;
}

sub _device_urn {
    my $name = shift;
    my ($kind, $id) = $name =~ /\Aurn:dev:(DEVEUI|IMEI|DVNUUID):([^:]+):/
        or die "kpn_envelope: no device URN in \"$name\"\n";
    $id = uc $id if $kind eq 'DEVEUI';
    $id = lc $id if $kind eq 'DVNUUID';
    return ($kind, $id, "urn:dev:$kind:$id:");
}

sub kpn_envelope {
    my ($body, @args) = @_;
    my %o = _opts('kpn_envelope', \@args, qw(hash_id device_type secret token));
    my $pack = JSON::PP->new->decode($body);
    die "kpn_envelope: not a SenML pack\n" unless ref $pack eq 'ARRAY' && @$pack;
    my $hash_id = $o{hash_id} // die "kpn_envelope: hash_id is needed\n";
    my $device_type = $o{device_type} // '';
    my $id = defined $o{token} ? lc $o{token}
           : defined $o{secret} ? kpn_sign($body, $o{secret}) : undef;

    my ($bn, $bt, $bu) = ('', undef, undef);
    my (@out, %kpn, $first_time, $payload_time, $dev);
    for my $r (@$pack) {
        $bn = $r->{bn} if defined $r->{bn};
        $bt = $r->{bt} if defined $r->{bt};
        $bu = $r->{bu} if defined $r->{bu};
        my $has_value = grep { defined $r->{$_} } qw(v vs vb vd s);
        next unless $has_value || defined $r->{n};
        my $name = $bn . ($r->{n} // '');
        my ($kind, $did, $urn) = _device_urn($name);
        die "kpn_envelope: more than one device\n" if $dev && $dev->[2] ne $urn;
        $dev = [$kind, $did, $urn];
        (my $measurement = $name) =~ s/\Aurn:dev:[^:]+:[^:]+://;
        $name = $urn . $measurement;
        my $time = defined $bt || defined $r->{t} ? ($bt // 0) + ($r->{t} // 0) : undef;
        $first_time //= $time;
        my $unit = $r->{u} // $bu;

        my $rec = qq({"n":) . _jstr($name);
        $rec .= ',"u":' . _jstr($unit) if defined $unit;
        $rec .= ',"t":' . _shortest($time) if defined $time;
        if (defined $r->{v})     { $rec .= ',"v":' . _shortest($r->{v}) }
        elsif (defined $r->{vs}) { $rec .= ',"vs":' . _jstr($r->{vs}) }
        elsif (defined $r->{vb}) { $rec .= ',"vb":' . ($r->{vb} ? 'true' : 'false') }
        elsif (defined $r->{vd}) { $rec .= ',"vd":' . _jstr($r->{vd}) }
        $rec .= ',"s":' . _shortest($r->{s}) if defined $r->{s};
        $rec .= ',"ut":' . _shortest($r->{ut}) if defined $r->{ut};
        push @out, "$rec}";

        if ($measurement eq 'payload' && defined $r->{vs} && !defined $kpn{payloadHex}) {
            $kpn{payloadHex} = _jstr($r->{vs});
            $payload_time = $time;
            $kpn{payload_seen} = 1;
        } elsif (defined $r->{v}) {
            my %field = (port => 'port', FCntUp => 'fCntUp', LrrRSSI => 'rssi', LrrSNR => 'snr');
            my $f = $field{$measurement};
            if ($f && !defined $kpn{$f} && ($f ne 'port' || $r->{v} == int $r->{v})) {
                $kpn{$f} = _shortest($r->{v});
            }
        }
    }
    die "kpn_envelope: no record\n" unless $dev;
    my $time = $kpn{payload_seen} ? $payload_time : $first_time;

    my $e = '{"deviceTypeHashId":' . _jstr($hash_id)
          . ',"deviceIdentifier":"' . $dev->[1] . '"'
          . ',"kpn":{"urn":"' . $dev->[2] . '","idType":"' . $dev->[0] . '"'
          . ',"deviceType":' . _jstr($device_type);
    $e .= ',"time":' . _shortest($time) if defined $time;
    $e .= ',"port":' . $kpn{port} if defined $kpn{port};
    $e .= ',"payloadHex":' . $kpn{payloadHex} if defined $kpn{payloadHex};
    $e .= ',"fCntUp":' . $kpn{fCntUp} if defined $kpn{fCntUp};
    $e .= ',"rssi":' . $kpn{rssi} if defined $kpn{rssi};
    $e .= ',"snr":' . $kpn{snr} if defined $kpn{snr};
    $e .= ',"messageId":"' . $id . '"' if defined $id;
    $e .= '},"records":[' . join(',', @out) . ']}';
    return $e;
}

# ----------------------------------------------------------------------------
# Stand-ins, the test CA, files

my ($CA, $TMP);

sub kpn_ca {
    $CA //= Test::KPN::CA->new;
    return $CA;
}

sub kpn_ca_file { kpn_ca()->cert_file }

# kpn_standin('withthegrid' | 'kpn_token' | 'kpn_api', port => N, tls => 1,
#             names => [...], ca => $ca, env => 'TEST_NGINX_WTG_PORT')
sub kpn_standin {
    my ($role, @args) = @_;
    my %o = _opts('kpn_standin', \@args, qw(port tls names ca env));
    return Test::KPN::StandIn->new(%o, role => $role);
}

sub _tmp {
    $TMP //= File::Temp::tempdir('test-kpn-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    chmod 0711, $TMP;
    return $TMP;
}

# the directory of kpn_file()
sub kpn_dir { _tmp() }

# kpn_file('destination.secrets', "line\n...", mode => 0640): its path
sub kpn_file {
    my ($name, $text, @args) = @_;
    my %o = _opts('kpn_file', \@args, qw(mode));
    die "kpn_file: a relative file name\n" unless $name =~ m{\A[\w.-]+(?:/[\w.-]+)*\z} && $name !~ m{(?:\A|/)\.\.(?:/|\z)};
    if ($name =~ m{\A(.*)/}) { require File::Path; File::Path::make_path(_tmp() . "/$1") }
    my $path = _tmp() . "/$name";
    open my $fh, '>', $path or die "kpn_file: $path: $!\n";
    print $fh $text;
    close $fh or die "kpn_file: $path: $!\n";
    chmod $o{mode} // 0600, $path;
    return $path;
}

# kpn_conf($file, FROM => TO, ...): the file's text with each FROM (a
# literal string) replaced by TO; a FROM that does not occur dies, so a
# test notices when the file changed under it
sub kpn_conf {
    my ($file, @subst) = @_;
    die "kpn_conf: FROM => TO pairs\n" if @subst % 2;
    open my $fh, '<', $file or die "kpn_conf: $file: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    while (my ($from, $to) = splice @subst, 0, 2) {
        my $n = () = $text =~ /\Q$from\E/g;
        die "kpn_conf: \"$from\" is not in $file\n" unless $n;
        $text =~ s/\Q$from\E/$to/g;
    }
    return $text;
}

# kpn_after(sub { ... }): run once after the current block (call it from a
# block's --- init); the checks are Test::More tests of their own
my @AFTER;
my $HOOKED;

sub kpn_after {
    my $code = shift;
    unless ($HOOKED) {
        my $add = Test::Nginx::Socket->can('add_test_cleanup_handler')
            or die "kpn_after: load Test::Nginx::Socket first\n";
        $add->(sub { my @run = @AFTER; @AFTER = (); $_->(@_) for @run });
        $HOOKED = 1;
    }
    push @AFTER, $code;
}

1;

__END__

=head1 NAME

Test::KPN - test your own ngx_kpn_module gateway configuration with Test::Nginx

=head1 SYNOPSIS

    use Test::KPN;                       # before Test::Nginx::Socket
    use Test::Nginx::Socket 'no_plan';

    my $wtg = kpn_standin('withthegrid', tls => 1, env => 'TEST_NGINX_WTG_PORT');
    my $secrets = kpn_file('destination.secrets', "Example-Secret-0123456789-abcdefGH!\n");
    our $Pack = kpn_lora_pack(deveui => '0059AC00001B3461', payload => '0a0b', port => 2);

    add_block_preprocessor(sub {
        my $block = shift;
        $block->set_value(http_config => kpn_conf('/etc/nginx/conf.d/kpn.conf',
            'api.withthegrid.com:443'   => "127.0.0.1:$ENV{TEST_NGINX_WTG_PORT}",
            '/etc/ssl/certs/ca-certificates.crt' => kpn_ca_file(),
            '/etc/nginx/kpn/destination.secrets' => $secrets))
            unless defined $block->http_config;
    });

    run_tests();

    __DATA__

    === an uplink reaches Withthegrid as an envelope
    --- init
    $wtg->reset;
    --- request eval
    "POST /kpn/uplink\n$::Pack"
    --- more_headers eval
    kpn_headers($::Pack, secret => 'Example-Secret-0123456789-abcdefGH!',
                device_type => 'dragino-lds01')
    --- response_body eval
    kpn_envelope($::Pack, hash_id => 'wasd2', device_type => 'dragino-lds01',
                 secret => 'Example-Secret-0123456789-abcdefGH!')

=head1 DESCRIPTION

Test::KPN is the kit for a suite of your own nginx configuration with
ngx_kpn_module, under the real Test::Nginx (CPAN, openresty/test-nginx) or
the in-tree runner of the module's source (C<t/compat>).  It signs uplinks,
builds KPN Things packs, says which Withthegrid envelope a pack becomes, and
starts recording stand-ins for Withthegrid, KPN's token endpoint and KPN's
API, over HTTP or HTTPS with a test CA of its own.  The walk-through is
F<docs/testing-your-config.md> (installed under
F</usr/share/doc/libtest-kpn-perl/>); F<examples/t/> is a suite to copy.

Load it before Test::Nginx::Socket.  Loading it:

=over

=item *

makes the test process the Linux "child subreaper" of the nginx it starts:
a stopped daemon nginx is then reaped by the framework at once instead of
waiting for PID 1 (up to a second a block in containers and CI runners).
C<TEST_KPN_NO_SUBREAPER=1> turns that off;

=item *

sets C<TEST_NGINX_LOAD_MODULES> to the module the package installs
(F</usr/lib/nginx/modules/ngx_http_kpn_module.so>) when it is there and the
variable is not set;

=item *

sets C<TEST_NGINX_WORKER_USER> to C<www-data> when the suite runs as root
and the variable is not set: nginx's workers run as Debian's do, so files
they must write (a spool, logs) are tested with the right owner.

=back

Code in block sections (C<eval>, C<--- init>) runs in the framework's
package: write C<::kpn_headers(...)>, C<$::Var> (declared with C<our>).

=head1 FUNCTIONS

All are exported.  Options are C<< name => value >> pairs; a name a function
does not know, or positional arguments, die (with the names it knows).

=over

=item kpn_sign($body, $secret)

The C<Things-Message-Token>: lower-case hex SHA-256 of the body bytes
followed by the secret bytes.

=item kpn_headers($body, %opt)

The request headers of a signed uplink, one a line (for C<--- more_headers>):
C<Content-Type: application/json>, C<Things-Message-Token>, and when given
C<Things-Plug-UUID> (C<plug>) and C<device-type> (C<device_type>).  Options:
C<secret>, C<token> (a token instead of signing), C<content_type>, C<extra>
(more C<"Name: value"> lines).  An option given as undef leaves its header out.

=item kpn_lora_pack(%opt)

A LoRaWAN pack (C<urn:dev:DEVEUI:...>): C<deveui> (16 hex digits), C<time>
(base time, written as given, default C<1.765739955219e9>), C<payload>
(hex, default C<763d0028>), C<port> (default 1), the radio fields C<fcnt>
(C<FCntUp>), C<rssi> (C<LrrRSSI>), C<snr> (C<LrrSNR>), C<more> (more records),
C<layout> (C<current>: base fields in the first measurement, KPN's layout
since December 2022; C<legacy>: a first record with C<bn>/C<bt> only).

=item kpn_cellular_pack(%opt)

An NB-IoT or LTE-M (M2M) pack (C<urn:dev:IMEI:...>): C<imei> (15 digits),
C<time>, C<records> (default a temperature and a battery level), C<payload>
(a raw payload record), C<layout>.

=item kpn_internet_pack(%opt)

An internet-connected device (C<urn:dev:DVNUUID:...>): C<uuid>, C<time>,
C<records>, C<layout>.

=item kpn_pack(urn => $urn, time => $t, layout => ..., records => [...])

Any pack: records are hashes of C<n>, C<u>, C<t>, C<v>, C<vs>, C<vb>, C<vd>.
Numbers are written exactly as given (C<"1.0"> stays C<1.0>).

=item kpn_envelope($body, hash_id => $id, device_type => $type, secret => $s)

The Withthegrid envelope the module makes of that pack, byte for byte:
C<deviceTypeHashId>, C<deviceIdentifier>, the C<kpn> object (urn, idType,
deviceType, time, port, payloadHex, fCntUp, rssi, snr, messageId) and the
resolved records.  C<secret> (or C<token>) gives the C<messageId>.  For the
packs the functions above build; numbers beyond 15 significant digits may
be written otherwise by the module.

=item kpn_standin($role, %opt)

Starts a stand-in (a forked process) and returns its object.  Roles:
C<withthegrid> (answers 200 with the body it received, so a block's
response body is the envelope Withthegrid got), C<kpn_token> (answers 200
C<{"access_token":"kit-access-token-N","token_type":"Bearer","expires_in":3600}>,
N counting the fetches) and C<kpn_api> (answers 201 with the body it received).
Options: C<port> (default: a free one), C<tls> (HTTPS with a certificate of
the test CA for C<names>, default the real host of the role -
C<api.withthegrid.com>, C<auth.grip-on-it.com>, C<api.kpnthings.com> - and
C<localhost>, C<127.0.0.1>), C<ca> (another Test::KPN::CA), C<env> (an
environment variable that gets the port, e.g. C<TEST_NGINX_WTG_PORT>, which
both frameworks expand in a block's config).  Stopped when the test exits.

Methods: C<port>, C<url($path)>, C<requests> (every request since the last
C<reset>, oldest first: hashes of C<method>, C<uri>, C<path>, C<query>,
C<headers> (lower-case names), C<header_list>, C<body>, C<tls>),
C<last_request>, C<count>, C<reset>, C<tls_failures> (handshakes that
failed), C<answer(status =E<gt> N, body =E<gt> $text, type =E<gt> $ct,
headers =E<gt> {...})> (the normal answer; no arguments: the role's),
C<fault(...)> (no arguments: none): C<status =E<gt> N> (with C<body>,
C<type>), C<delay =E<gt> $seconds>, C<hang =E<gt> 1> (read the request, never
answer), C<reset =E<gt> 1> (read the request, close the connection with a
TCP reset); C<count =E<gt> N> limits the fault to the next N requests.
Every request is recorded, faulty or not.

=item kpn_ca, kpn_ca_file

The test CA of this process (a L<Test::KPN::CA>, made with C<openssl> at
first use) and its certificate file, for C<proxy_ssl_trusted_certificate>.
C<< Test::KPN::CA->new >> makes another one; C<< $ca->issue(@names) >>
returns a certificate and key file for those names.

=item kpn_file($name, $text, mode => 0600)

Writes a file (a secret file, a key file) into a private temporary
directory and returns its path; C<$name> may have directories
(C<kpn/lora.secrets>).

=item kpn_dir

That directory (for a spool or log directory of the test).

=item kpn_conf($file, FROM => TO, ...)

Your configuration file's text with literal replacements (production host
names to stand-in ports, certificate and secret paths to test ones), for
C<http_config>.  A FROM that is not in the file dies.

=item kpn_after(sub { ... })

From a block's C<--- init>: runs the code once after the block (checks on
C<< $standin->requests >> with Test::More).  Use C<'no_plan'> or count them.

=back

=head1 ENVIRONMENT

C<TEST_KPN_NO_SUBREAPER>: leave the process as it is.
C<TEST_NGINX_LOAD_MODULES>, C<TEST_NGINX_WORKER_USER>: see above.  C<TMPDIR>: where the
CA, the records and the files go (removed at exit).

=head1 SEE ALSO

L<Test::Nginx::Socket>, kpn-sign(1), F<docs/testing-your-config.md>.

=cut
