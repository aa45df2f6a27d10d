# $TEST_NGINX_* expansion is done at run time (prelude assignments work),
# $TEST_NGINX_SERVER_PORT / _SERVER_ROOT are set, html_dir() gives the html
# dir, $ServerPort is substituted in expected values, env_to_nginx() passes
# variables to nginx, config_preamble() lands in the server block.
use Test::Nginx::Socket;

$ENV{TEST_NGINX_GREETING} ||= 'hi there';
$ENV{TEST_NGINX_HTML_DIR} = html_dir();
$ENV{KPN_COMPAT_SELFTEST_ENV} = 'from-env';

env_to_nginx('KPN_COMPAT_SELFTEST_ENV');
config_preamble(q{    add_header X-Preamble yes;});

plan tests => 8;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: variables expanded in config and expected body
--- config
    location = /t { return 200 "$TEST_NGINX_GREETING port=$server_port\n"; }
--- request
GET /t
--- response_body
$TEST_NGINX_GREETING port=$ServerPort
--- response_headers
X-Preamble: yes



=== TEST 2: user file body expanded; html_dir is under the server root
--- config
    location = /f { alias $TEST_NGINX_HTML_DIR/f.txt; }
--- user_files
>>> f.txt
root=$TEST_NGINX_SERVER_ROOT
--- request
GET /f
--- response_body eval
"root=$ENV{TEST_NGINX_SERVER_ROOT}\n"
--- no_error_log
[error]



=== TEST 3: env_to_nginx puts an env line in the main context (checked by --- init)
--- config
    location = /conf.txt { root html; }
--- init
my $root = $ENV{TEST_NGINX_SERVER_ROOT};
open my $in, '<', "$root/conf/nginx.conf" or die $!;
my $conf = do { local $/; <$in> };
open my $out, '>', "$root/html/conf.txt" or die $!;
print $out(($conf =~ /^env KPN_COMPAT_SELFTEST_ENV;\n(?:.*\n)*?http \{/m) ? "env line present\n" : "no env line\n");
close $out;
--- request
GET /conf.txt
--- response_body
env line present
