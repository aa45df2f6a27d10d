package KPNTest;

# Shared helpers of the ngx_kpn_module suites: message tokens, the
# docs/protocol.md test vector, a Withthegrid stand-in that echoes what it
# received (an nginx server of the block's config, nothing forked) and the
# uplink location that proxies to it (kpn_uplink_location).  Works with the
# real Test::Nginx and the in-tree runner.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use Exporter 'import';

our @EXPORT = qw(kpn_token kpn_headers kpn_echoed kpn_with_id $KPN_SECRET $KPN_VECTOR
                 $KPN_VECTOR_TOKEN $KPN_VECTOR_ENVELOPE $KPN_ECHO_SERVER
                 $KPN_UPLINK_LOCATION kpn_uplink_location
                 kpn_uplink_defaults);

our $KPN_SECRET = 'Example-Secret-0123456789-abcdefGH!';

our $KPN_VECTOR = '[{"bn":"urn:dev:DEVEUI:0059AC00001B3461:",'
    . '"bt":1.765739955219e9,"n":"payload","vs":"763d0028"},'
    . '{"n":"port","v":1.0}]';

# docs/protocol.md section 1.1
our $KPN_VECTOR_TOKEN =
    '9d29450cf3d4d416bee161cc99b0b36dfacfb9d921346fd1e813cbcbc1ee4e36';

our $KPN_VECTOR_ENVELOPE = '{"deviceTypeHashId":"wasd2",'
    . '"deviceIdentifier":"0059AC00001B3461",'
    . '"kpn":{"urn":"urn:dev:DEVEUI:0059AC00001B3461:","idType":"DEVEUI",'
    . '"deviceType":"dragino-lds01","time":1765739955.219,"port":1,'
    . '"payloadHex":"763d0028",'
    . '"messageId":"' . $KPN_VECTOR_TOKEN . '"},'
    . '"records":[{"n":"urn:dev:DEVEUI:0059AC00001B3461:payload",'
    . '"t":1765739955.219,"vs":"763d0028"},'
    . '{"n":"urn:dev:DEVEUI:0059AC00001B3461:port","t":1765739955.219,'
    . '"v":1}]}';

# $envelope with kpn.messageId set to $token in lower case (the message id
# is the Things-Message-Token of the uplink: another secret, another id)
sub kpn_with_id {
    my ($envelope, $token) = @_;
    my $id = lc $token;
    $envelope =~ s/,"messageId":"[0-9a-f]*"\}/,"messageId":"$id"}/
        or $envelope =~ s/\},"records":/,"messageId":"$id"},"records":/
        or die "kpn_with_id: no kpn object in $envelope\n";
    return $envelope;
}

# The Withthegrid stand-in: /iot answers with what it received (method,
# Content-Length, Content-Type, x-wtg-token and the body).  The proxying
# location reads the body, so $request_body is known there.
our $KPN_ECHO_SERVER = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        client_body_buffer_size 64k;
        large_client_header_buffers 4 64k;

        location / {
            rewrite ^ /_echo break;
            proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-M $request_method;
            proxy_set_header X-Body $request_body;
            proxy_set_header X-Len $http_content_length;
            proxy_set_header X-Type $http_content_type;
            proxy_set_header X-Wtg $http_x_wtg_token;
        }

        location = /_echo {
            return 200 "$http_x_m len=$http_x_len type=$http_x_type wtg=$http_x_wtg\n$http_x_body\n";
        }
    }
_EOC_

# The usual uplink location, proxying to the stand-in.  Options, default
# first; an option given as undef (or []) leaves its line(s) out:
#   location     "= /kpn/uplink"
#   format       kpn_uplink_format: none
#   secret_file  kpn_uplink_secret_file path(s): none
#   secret       kpn_uplink_secret: $KPN_SECRET
#   device_type  kpn_device_type "NAME HASH_ID" pair(s): "dragino-lds01 wasd2"
#   extra        more directive(s): none
#   wtg          the x-wtg-token header the stand-in echoes: "wtg-secret"
#   upstream     the proxy_pass host: 127.0.0.1:$TEST_NGINX_RAND_PORT_1
#   uri          the proxy_pass URI: "/iot"
# The lines come in that order, after "kpn_uplink on;"; the secret and the
# wtg value are written in double quotes unless they are a plain word.
our %KPN_UPLINK_DEFAULT = (
    location => '= /kpn/uplink', format => undef, secret_file => undef,
    secret => $KPN_SECRET, device_type => 'dragino-lds01 wasd2',
    extra => undef, wtg => 'wtg-secret',
    upstream => '127.0.0.1:$TEST_NGINX_RAND_PORT_1', uri => '/iot',
);

sub kpn_uplink_location {
    my (%o) = @_;
    for (sort keys %o) {
        die "kpn_uplink_location: unknown option \"$_\"\n"
            unless exists $KPN_UPLINK_DEFAULT{$_};
    }
    my %v = (%KPN_UPLINK_DEFAULT, %o);
    my $all = sub { my $x = $v{$_[0]}; grep { defined } ref $x ? @$x : ($x) };
    my $arg = sub { $_[0] =~ /\A[\w.-]+\z/ ? $_[0] : qq{"$_[0]"} };

    my @lines = (
        'kpn_uplink on;',
        (map { "kpn_uplink_format $_;" } $all->('format')),
        (map { "kpn_uplink_secret_file $_;" } $all->('secret_file')),
        (map { 'kpn_uplink_secret ' . $arg->($_) . ';' } $all->('secret')),
        (map { "kpn_device_type $_;" } $all->('device_type')),
        $all->('extra'),
        (map { 'proxy_set_header x-wtg-token ' . $arg->($_) . ';' } $all->('wtg')),
        "proxy_pass http://$v{upstream}$v{uri};",
    );

    return "    location $v{location} {\n"
        . join('', map { "        $_\n" } @lines) . "    }\n";
}

our $KPN_UPLINK_LOCATION = kpn_uplink_location();

# block preprocessor: the usual uplink location and the stand-in, unless
# the block has its own
sub kpn_uplink_defaults {
    my $block = shift;

    $block->set_value("config", $KPN_UPLINK_LOCATION)
        unless defined $block->config;

    $block->set_value("http_config", $KPN_ECHO_SERVER)
        unless defined $block->http_config;
}

sub kpn_token {
    my ($body, $secret) = @_;
    return sha256_hex($body . (defined $secret ? $secret : $KPN_SECRET));
}

# request headers of a signed uplink; options: secret, type, token, ct
sub kpn_headers {
    my ($body, %o) = @_;

    my $ct = exists $o{ct} ? $o{ct} : 'application/json';
    my $token = exists $o{token} ? $o{token} : kpn_token($body, $o{secret});
    my $type = exists $o{type} ? $o{type} : 'dragino-lds01';

    my @h;
    push @h, "Content-Type: $ct" if defined $ct;
    push @h, "Things-Message-Token: $token" if defined $token;
    push @h, "device-type: $type" if defined $type;
    push @h, @{ $o{extra} } if $o{extra};

    return join "\n", @h;
}

# what the stand-in answers for a forwarded body
sub kpn_echoed {
    my ($body, %o) = @_;
    my $type = exists $o{type} ? $o{type} : 'application/json';
    my $wtg = exists $o{wtg} ? $o{wtg} : 'wtg-secret';
    return "POST len=" . length($body) . " type=$type wtg=$wtg\n$body\n";
}

1;
