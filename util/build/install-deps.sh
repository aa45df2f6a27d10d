#!/bin/sh
# Installs the Debian packages that building, running and testing
# ngx_kpn_module need, if any is missing.
# Usage: util/build/install-deps.sh [build|run|test|valgrind|matrix|bench|fuzz|prometheus|replay|deb]
set -e

what=${1:-test}

pkgs="gcc make libc6-dev nginx nginx-dev libjansson-dev libssl-dev libpcre2-dev zlib1g-dev"

test_pkgs="curl openssl perl libtest-base-perl libtext-diff-perl
           libtest-longstring-perl libhttp-message-perl liblist-moreutils-perl
           liburi-perl libipc-run-perl libnginx-mod-stream libnginx-mod-mail
           procps psmisc libio-socket-ssl-perl libnet-ssleay-perl"

case "$what" in
    build) ;;
    run)   pkgs="$pkgs curl openssl" ;;
    # the suite: Test::Nginx's Perl modules (for the in-tree runner and the
    # real framework alike), curl (the real framework's HTTP/2 client),
    # procps and psmisc (kill, pgrep, ps, fuser: the real framework runs
    # them in HUP mode and to free a port), the stream and mail modules
    # (loaded by the runner's self-test
    # util/test/compat/modules.t)
    test)  pkgs="$pkgs $test_pkgs" ;;
    valgrind) pkgs="$pkgs $test_pkgs valgrind" ;;
    # the build matrix of .ci/run: clang next to gcc
    matrix) pkgs="$pkgs clang" ;;
    # make bench: wrk, callgrind, and the Lua peer (util/bench/bench-lua-peer.lua:
    # lua-nginx and the NDK module it loads, ndk_http_module.so, and cjson)
    bench) pkgs="$pkgs curl openssl wrk valgrind libnginx-mod-http-ndk libnginx-mod-http-lua lua-cjson" ;;
    fuzz)  pkgs="$pkgs clang libclang-rt-dev" ;;
    # make test-prometheus: promtool and a real Prometheus server
    prometheus) pkgs="$pkgs $test_pkgs prometheus" ;;
    # bin/kpn-replay and its test (util/test/test-replay.pl): Perl's HTTP::Tiny
    # and JSON::PP (perl), TLS with certificate checks (IO::Socket::SSL on
    # Net::SSLeay, the system CA list), openssl for the test's CA, ps
    # (procps) for the test that the token stays off the command line, logrotate
    # for the test of the packaged rotation (debian/libnginx-mod-http-kpn.logrotate)
    replay) pkgs="$pkgs perl libio-socket-ssl-perl libnet-ssleay-perl ca-certificates
                  openssl procps logrotate" ;;
    # make deb: the package tools and lintian (util/build/build-deb.sh installs
    # the build dependencies of debian/control itself)
    deb) pkgs="dpkg-dev debhelper git lintian" ;;
    *) echo "usage: $0 [build|run|test|valgrind|matrix|bench|fuzz|prometheus|replay|deb]" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing (run as root or install them)" >&2
    exit 1
fi

echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# the nginx package's service start is not wanted on a build machine
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing
