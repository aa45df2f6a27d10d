# vim:set ft= ts=4 sw=4 et fdm=marker:
#
# The one reader of the module's secret and key files (issue 22): a line is
# its raw bytes, a comment is "#" alone or "# " and text, so a secret that
# starts with '#' or holds any of KPN's special characters is read as
# written, by every directive that reads a file; a trailing CR and
# surrounding blanks are left out; the nginx -t warnings (KPN's rules for a
# destination secret, a file others can read) and errors (empty, only
# comments, a control character) name the file and line, never the secret.

# the workers run as www-data, as in production: nginx reads the files as
# root, the workers never need them
BEGIN { $ENV{TEST_NGINX_WORKER_USER} = 'www-data' if $> == 0 }

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use KPNTest;
use KPNDownlink;
use KPNStub;
use File::Temp qw(tempdir);

kpn_stub_start();

repeat_each(2);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} = html_dir();

our $V = $KPN_VECTOR;
our $PLAIN = 'Plain-Secret-0123456789-abcdefGH!';
our $HASH = '#Starts-With-Hash-0123456789-abcdefGH!';
our @SPECIAL = map { "Special-Char-0123456789-abcdefGH$_" } split //, '#?!@$%^&(){}:.,/+*;';

# files of a known mode (the runners write user_files with the umask's)
our $DIR = tempdir(CLEANUP => 1);
for (['0600', 0600], ['0640', 0640], ['0644', 0644], ['0660', 0660]) {
    my ($name, $mode) = @$_;
    open my $fh, '>', "$DIR/$name.secrets" or die "$DIR/$name.secrets: $!\n";
    print $fh "# mode $name\n$KPN_SECRET\n";
    close $fh;
    chmod $mode, "$DIR/$name.secrets" or die "chmod: $!\n";
}
$ENV{TEST_NGINX_SECRET_DIR} = $DIR;

# an accepted uplink signed with $secret, as the stand-in echoes it
sub accepted {
    my ($secret) = @_;
    return ::kpn_echoed(::kpn_with_id($KPN_VECTOR_ENVELOPE, ::kpn_token($V, $secret)));
}

# the startup log is what nginx -t prints: these blocks end their config
# with an error of their own after the directive under test
our $T_LOCATION = "    kpn_uplink_max_records 0;   # stops nginx -t here\n";

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $KPN_ECHO_SERVER)
        unless defined $block->http_config;
});

run_tests();

__DATA__

=== TEST 1: a secret that starts with '#', alone in its file, is a secret
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/hash.secrets', secret => undef)
--- user_files eval
">>> hash.secrets\n$::HASH\n"
--- request eval
"POST /kpn/uplink\n$::V"
--- more_headers eval
::kpn_headers($::V, secret => $::HASH)
--- response_body eval
::accepted($::HASH)
--- no_error_log eval
[qr/\[error\]/, qr/breaks KPN's rules/, qr/Starts-With-Hash/]



=== TEST 2: a rotation file with comments: the '#' secret and the plain one both match, "# " and "#" lines are comments
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/rotation.secrets', secret => undef)
--- user_files eval
">>> rotation.secrets\n# destination secrets, one a line (a comment is \"# \" and text)\n#\n\n$::PLAIN\n$::HASH\n"
--- request eval
["POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V"]
--- more_headers eval
[::kpn_headers($::V, secret => $::PLAIN), ::kpn_headers($::V, secret => $::HASH),
 ::kpn_headers($::V, secret => '# destination secrets, one a line (a comment is "# " and text)')]
--- error_code eval
[200, 200, 401]
--- response_body eval
[::accepted($::PLAIN), ::accepted($::HASH),
 qq({"error":"bad_token","message":"the Things-Message-Token does not match the message and any configured secret"}\n)]
--- no_error_log eval
[qr/breaks KPN's rules/, qr/Starts-With-Hash|Plain-Secret/]



=== TEST 3: a secret holding each of KPN's special characters #?!@$%^&(){}:.,/+*; is read as written
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/special.secrets', secret => undef)
--- user_files eval
">>> special.secrets\n" . join('', map { "$_\n" } @::SPECIAL)
--- request eval
[map { "POST /kpn/uplink\n$::V" } @::SPECIAL]
--- more_headers eval
[map { ::kpn_headers($::V, secret => $_) } @::SPECIAL]
--- response_body eval
[map { ::accepted($_) } @::SPECIAL]
--- no_error_log eval
[qr/\[error\]/, qr/breaks KPN's rules/]



=== TEST 4: CRLF lines and surrounding blanks are left out of the secret
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/crlf.secrets', secret => undef)
--- user_files eval
">>> crlf.secrets\n# written on Windows\r\n \t$::HASH \t\r\n$::PLAIN\r\n"
--- request eval
["POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V"]
--- more_headers eval
[::kpn_headers($::V, secret => $::HASH), ::kpn_headers($::V, secret => $::PLAIN)]
--- response_body eval
[::accepted($::HASH), ::accepted($::PLAIN)]
--- no_error_log eval
[qr/\[error\]/, qr/breaks KPN's rules/]



=== TEST 5: nginx -t warns, once a line, of a destination secret shorter than 32 characters or missing a class, naming file and line, never the secret
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/weak.secrets', secret => undef) . $::T_LOCATION
--- user_files
>>> weak.secrets
# line 1: a comment
Truncated-Secret-0123!
all-lower-case-and-digits-0123456789!
Example-Secret-0123456789-abcdefGH!
--- must_die
--- error_log eval
[qr/\[warn\] .*"kpn_uplink_secret_file": line 2 of "[^"]*weak\.secrets" breaks KPN's rules for a destination secret \(22 characters \(KPN: at least 32\)\): truncated or mistyped\?/,
 qr/\[warn\] .*"kpn_uplink_secret_file": line 3 of "[^"]*weak\.secrets" breaks KPN's rules for a destination secret \(no upper-case letter\): truncated or mistyped\?/]
--- no_error_log eval
[qr/line 4 of/, qr/Truncated-Secret|all-lower-case|Example-Secret/]



=== TEST 6: a secret with none of the special characters and no digit
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/weak.secrets', secret => undef) . $::T_LOCATION
--- user_files
>>> weak.secrets
Only-Letters-And-Dashes-abcdefGHIJKLMN
--- must_die
--- error_log eval
qr/\[warn\] .*line 1 of "[^"]*weak\.secrets" breaks KPN's rules for a destination secret \(no digit, none of #\?!\@\$%\^&\(\)\{\}:\.,\/\+\*;\)/
--- no_error_log
Only-Letters



=== TEST 7: a file of comments and blank lines says so
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/comments.secrets', secret => undef)
--- user_files eval
">>> comments.secrets\n# rotated out\n#\n\n  # indented\n"
--- must_die
--- error_log eval
qr/"kpn_uplink_secret_file": "[^"]*comments\.secrets" holds only comments and blank lines/



=== TEST 8: an empty file says so
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/empty.secrets', secret => undef)
--- user_files eval
">>> empty.secrets\n"
--- must_die
--- error_log eval
qr/"kpn_uplink_secret_file": "[^"]*empty\.secrets" is empty/



=== TEST 9: a control character in an entry fails, naming the line only
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/ctl.secrets', secret => undef)
--- user_files eval
">>> ctl.secrets\n$::PLAIN\nControl-\x01-Secret-0123456789-abcdefGH!\n"
--- must_die
--- error_log eval
qr/"kpn_uplink_secret_file": line 2 of "[^"]*ctl\.secrets" holds a control character/



=== TEST 10: a file readable by others gets one warning; 0600 and 0640 none
--- config eval
::kpn_uplink_location(secret_file => ['$TEST_NGINX_SECRET_DIR/0600.secrets',
                                      '$TEST_NGINX_SECRET_DIR/0640.secrets',
                                      '$TEST_NGINX_SECRET_DIR/0644.secrets'],
                      secret => undef) . $::T_LOCATION
--- must_die
--- error_log eval
qr/\[warn\] .*"kpn_uplink_secret_file": "[^"]*0644\.secrets" is readable by others \(mode 0644\): make it 0600 or 0640, owned by root/
--- no_error_log eval
[qr/0600\.secrets" is/, qr/0640\.secrets" is/]



=== TEST 11: a file writable by its group gets one warning
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_SECRET_DIR/0660.secrets', secret => undef)
. $::T_LOCATION
--- must_die
--- error_log eval
qr/\[warn\] .*"kpn_uplink_secret_file": "[^"]*0660\.secrets" is writable by others than its owner \(mode 0660\)/



=== TEST 12: the same reader for kpn_client_secret_file and kpn_downlink_keys: a '#' client secret and a '#' key work
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
my $c = ::kpn_downlink_config(keys => '$TEST_NGINX_HTML_DIR/keys', client_id => 'hash-client',
                              token => 'fixed');
$c =~ s/kpn_client_secret my-secret;/kpn_client_secret_file \$TEST_NGINX_HTML_DIR\/client.secret;/ or die;
$c
--- user_files
>>> keys
# downlink keys, one a line
#Key-With-Hash;{$x}
>>> client.secret
# the KPN API key's secret
#Client-Secret-0123456789
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_raw"]
--- more_headers eval
["", "Authorization: Bearer #Key-With-Hash;{\$x}", ""]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE,
 qr/\A(?:POST \/token\/fixed .*"client_secret":"#Client-Secret-0123456789"\}|)POST \/dl\/ok/s]
--- no_error_log eval
[qr/\[error\]/, qr/\[(?:info|notice|warn|error)\].*(?:Key-With-Hash|Client-Secret)/]



=== TEST 13: a client secret file of two entries fails
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
my $c = ::kpn_downlink_config();
$c =~ s/kpn_client_secret my-secret;/kpn_client_secret_file \$TEST_NGINX_HTML_DIR\/client.secret;/ or die;
$c
--- user_files
>>> client.secret
#Client-Secret-0123456789
Another-Secret-0123456789
--- must_die
--- error_log eval
qr/"kpn_client_secret_file": "[^"]*client\.secret" must hold exactly one entry, it holds 2/



=== TEST 14: a file saved with a UTF-8 byte order mark (Windows Notepad, CRLF): the mark is not part of the first entry
--- config eval
::kpn_uplink_location(secret_file => '$TEST_NGINX_HTML_DIR/bom.secrets', secret => undef)
--- user_files eval
">>> bom.secrets\n\xEF\xBB\xBF$::PLAIN\r\n$::HASH\r\n"
--- request eval
["POST /kpn/uplink\n$::V", "POST /kpn/uplink\n$::V"]
--- more_headers eval
[::kpn_headers($::V, secret => $::PLAIN), ::kpn_headers($::V, secret => $::HASH)]
--- response_body eval
[::accepted($::PLAIN), ::accepted($::HASH)]
--- no_error_log eval
[qr/\[error\]/, qr/breaks KPN's rules/]



=== TEST 15: a byte order mark before a comment: the comment stays a comment (kpn_client_secret_file takes exactly one entry)
--- http_config eval
$::KPN_DOWNLINK_HTTP_CONFIG
--- config eval
my $c = ::kpn_downlink_config(token => 'fixed');
$c =~ s/kpn_client_secret my-secret;/kpn_client_secret_file \$TEST_NGINX_HTML_DIR\/client.secret;/ or die;
$c
--- user_files eval
">>> client.secret\n\xEF\xBB\xBF# the KPN API key's secret\r\nClient-Secret-0123456789\r\n"
--- request eval
["GET /stub/_reset", "POST /downlink\n$::DL", "GET /stub/_raw"]
--- error_code eval
[200, 201, 200]
--- response_body_like eval
["reset", $::QUEUED_RE,
 qr/\A(?:POST \/token\/fixed .*"client_secret":"Client-Secret-0123456789"\}|)POST \/dl\/ok/s]
--- no_error_log eval
[qr/\[error\]/, qr/\[emerg\]/]
