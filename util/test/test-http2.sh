#!/bin/bash
# `make test-http2`: the suite over HTTP/2 (h2c with prior knowledge: the
# real Test::Nginx sends each request with curl --http2-prior-knowledge).
#
# Usage: util/test/test-http2.sh TEST_NGINX_LIB NGINX MODULE [t/NNN-x.t ...]
#
# Needs the real framework (the in-tree runner does not speak HTTP/2), curl
# with HTTP/2, and an nginx >= 1.25.1 built with the HTTP/2 module: the real
# framework writes "http2 on;", which older nginx does not know.  Says what
# is missing and exits 1 when it cannot run.  Blocks that cannot run over
# HTTP/2 skip through the framework's own skip_eval on TEST_NGINX_USE_HTTP2;
# their reasons (the comment on that line) are listed at the end.  Then
# (for the whole suite) HTTP/2 over TLS, which h2c does not cover:
# util/test/http2-tls.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1

lib=$1 nginx=$2 module=$3
shift 3

missing=()
perl5lib=$(util/test/real-framework.sh "$lib" 2>/dev/null) || missing+=("the real Test::Nginx (TEST_NGINX_LIB=$lib)")
if ! command -v curl >/dev/null || ! curl --help all 2>/dev/null | grep -q -- --http2-prior-knowledge; then
    missing+=("curl with --http2-prior-knowledge")
fi
if [ ! -x "$nginx" ]; then
    missing+=("an nginx binary at $nginx (make matrix builds one)")
else
    v=$("$nginx" -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
    if [ "$(printf '%s\n1.25.1\n' "$v" | sort -V | head -1)" != 1.25.1 ]; then
        missing+=("an nginx >= 1.25.1 ($nginx is $v)")
    fi
    "$nginx" -V 2>&1 | grep -q -- --with-http_v2_module || missing+=("$nginx built --with-http_v2_module")
fi
[ -f "$module" ] || missing+=("the module built against $nginx ($module)")

if [ ${#missing[@]} -gt 0 ]; then
    echo "test-http2: cannot run; missing:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
fi

echo "test-http2: nginx $v ($nginx), real Test::Nginx from ${perl5lib:-@INC}"
PERL5LIB=$perl5lib TEST_NGINX_USE_HTTP2=1 TEST_NGINX_BINARY=$nginx KPN_MODULE_SO=$module \
    KPN_SKIP_SELFTEST=1 util/test/run-tests.sh "$@"
status=$?

# HTTP/2 over TLS, which the framework's HTTP/2 mode (h2c) does not cover
if [ $# -eq 0 ]; then
    echo "test-http2: HTTP/2 over TLS: util/test/http2-tls.sh"
    util/test/http2-tls.sh "$nginx" "$module" || status=1
fi

echo "test-http2: blocks skipped over HTTP/2, and why:"
for f in ${*:-t/*.t}; do
    awk -v f="$f" '/^=== TEST/ { name = $0; sub(/^=== /, "", name) }
                   /^--- skip_eval:.*TEST_NGINX_USE_HTTP2/ {
                       why = $0; sub(/.*# HTTP\/2: /, "", why)
                       printf "  %s %s\n      %s\n", f, name, why }' "$f"
done
exit $status
