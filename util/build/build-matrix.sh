#!/bin/bash
# The build matrix of .ci/run: the module built with nginx's own warning
# flags (-Werror) by gcc and by clang against Debian bookworm's nginx 1.22.1
# (nginx-dev), nginx 1.26.3 (Debian trixie's source, from Debian's archive)
# and nginx mainline (a source tree or tarball given by NGINX_MAINLINE, by
# default the snapshot in ../shared/nginx/ when it is there), as a dynamic
# module, and once linked in statically (mainline, gcc); each of the three
# once more by gcc and by clang without --with-debug (KPN_DEBUG=0).  It also leaves a
# mainline nginx binary with HTTP/2 and the dynamic module built against it
# in build/mainline/ for `make test-mainline` and `make test-http2`.
#
# Usage: util/build/build-matrix.sh [--mainline-only]
#
# Prints one line per build; a build that fails prints the tail of its log
# and the script exits non-zero.  Sources that cannot be had are reported
# as NOT CHECKED, never as passed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cache=build/upstream
mkdir -p "$cache"

failed=0
only_mainline=0
[ "${1:-}" = --mainline-only ] && only_mainline=1

# the mainline source: a directory (release tree or git tree) or a tarball
mainline_src() {
    local m=${NGINX_MAINLINE:-}
    if [ -z "$m" ]; then
        m=$(ls -d "$root"/../shared/nginx/nginx-*.tar.gz 2>/dev/null | sort -V | tail -1)
    fi
    [ -n "$m" ] || return 1
    if [ -d "$m" ]; then
        echo "$m"
        return 0
    fi
    local base
    base=$(basename "$m" .tar.gz)
    if [ ! -d "$cache/$base" ]; then
        tar -xzf "$m" -C "$cache" || return 1
    fi
    echo "$cache/$base"
}

# build NAME MAKE-ARGS...: one build into build/NAME, log in build/NAME.log
build() {
    local name=$1
    shift
    local t0=$SECONDS
    local dir=build/$name log=build/$name.log label=$name
    if [ "$name" = . ]; then
        dir=build log=build/build.log label="gcc-1.22.1"
    fi
    if make --no-print-directory BUILD="$dir" "$@" build > "$log" 2>&1; then
        if grep -q 'warning:' "$log"; then
            echo "FAIL $label: warnings"
            grep 'warning:' "$log" | head -10
            failed=1
            return 1
        fi
        echo "ok   $label ($((SECONDS - t0)) s)"
    else
        echo "FAIL $label ($((SECONDS - t0)) s), $log:"
        tail -30 "$log"
        failed=1
        return 1
    fi
}

export MAKEFLAGS="${MAKEFLAGS:--j$(nproc)}"

compilers=gcc
if command -v clang >/dev/null; then
    compilers="gcc clang"
else
    echo "NOT CHECKED: clang is not installed (util/build/install-deps.sh matrix)"
fi

ml=$(mainline_src) || ml=
if [ -z "$ml" ]; then
    echo "NOT CHECKED: no nginx mainline source (set NGINX_MAINLINE to a tree or tarball)"
else
    ml=$(cd "$ml" && pwd)
    mlv=$(sed -n 's/^#define NGINX_VERSION *"\(.*\)"/\1/p' "$ml/src/core/nginx.h")
fi

if [ $only_mainline = 0 ]; then
    # Debian's 1.22.1 (nginx-dev, configure flags of Debian's binary)
    # gcc: the tree of `make` (build/)
    build . CC=gcc
    [ "$compilers" = "gcc clang" ] && build clang-1.22.1 CC=clang

    # 1.26.3 from Debian's archive (cached)
    if v126=$(util/build/build-upstream.sh --fetch-only 2>&1); then
        # gcc: the tree `make test` builds already (util/build/build-upstream.sh)
        build nginx-1.26.3 CC=gcc NGINX_SRC="$v126"
        [ "$compilers" = "gcc clang" ] && build clang-1.26.3 CC=clang NGINX_SRC="$v126"
    else
        echo "$v126"
    fi

    if [ -n "$ml" ]; then
        build "clang-$mlv" CC=clang NGINX_SRC="$ml" || true
    fi

    # without --with-debug, as nginx.org's packages, the official Docker
    # image and most source builds are: ngx_log_debug*() compiles to nothing,
    # so a variable only they read is set but unused (-Werror under clang)
    for cc in $compilers; do
        build "$cc-1.22.1-nodebug" CC=$cc KPN_DEBUG=0 || true
        [ -n "${v126:-}" ] && [ -d "${v126:-/nonexistent}" ] &&
            { build "$cc-1.26.3-nodebug" CC=$cc KPN_DEBUG=0 NGINX_SRC="$v126" || true; }
        [ -n "$ml" ] && { build "$cc-$mlv-nodebug" CC=$cc KPN_DEBUG=0 NGINX_SRC="$ml" || true; }
    done

    if [ -n "$ml" ]; then
        build "gcc-$mlv-static" CC=gcc NGINX_SRC="$ml" KPN_LINK=static &&
            { build/gcc-$mlv-static/objs/nginx -V 2>&1 | grep -q 'add-module=' &&
              echo "ok   gcc-$mlv-static: nginx -V shows the module linked in"; }
    fi
fi

# mainline binary (HTTP/2, ssl, debug) and the dynamic module for it
if [ -n "$ml" ]; then
    build mainline CC=gcc NGINX_SRC="$ml" KPN_BINARY=1 \
        EXTRA_CONF="--with-http_v2_module --with-http_realip_module --with-http_auth_request_module --with-http_stub_status_module" \
        && echo "     build/mainline/objs/nginx: nginx $mlv"
fi

exit $failed
