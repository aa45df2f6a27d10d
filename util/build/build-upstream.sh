#!/bin/sh
# Compile check against a newer upstream nginx than Debian bookworm's 1.22:
# nginx 1.26.3 (the source Debian trixie ships, from Debian's archive),
# configured with --with-compat --add-dynamic-module and built with
# nginx's -Werror.  It catches API drift such as ngx_table_elt_t.next
# (1.23.0).  The source is cached in build/.
#
# Usage: util/build/build-upstream.sh [--fetch-only] [VERSION SHA256]
#   --fetch-only   fetch and unpack only, print the source tree's path
#                  (exit 1, "NOT CHECKED ..." when it cannot be fetched)
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
fetch_only=0
if [ "${1:-}" = --fetch-only ]; then
    fetch_only=1
    shift
fi
version=${1:-1.26.3}
sha=${2:-69ee2b237744036e61d24b836668aad3040dda461fe6f570f1787eab570c75aa}
url="http://deb.debian.org/debian/pool/main/n/nginx/nginx_${version}.orig.tar.gz"
cache="$root/build/upstream"
tarball="$cache/nginx_${version}.orig.tar.gz"

mkdir -p "$cache"

if [ ! -f "$tarball" ]; then
    echo "== fetching nginx $version source from Debian's archive" >&2
    if ! curl -fsS --retry 3 -o "$tarball.tmp" "$url"; then
        rm -f "$tarball.tmp"
        echo "NOT CHECKED: cannot fetch $url (no access to Debian's archive?)"
        exit $fetch_only
    fi
    mv "$tarball.tmp" "$tarball"
fi

echo "$sha  $tarball" | sha256sum -c --quiet - || { rm -f "$tarball"; exit 1; }

if [ ! -d "$cache/nginx-$version" ]; then
    tar -xzf "$tarball" -C "$cache"
fi

if [ $fetch_only = 1 ]; then
    echo "$cache/nginx-$version"
    exit 0
fi

echo "== building the module against nginx $version (-Werror)"
make -C "$root" --no-print-directory NGINX_SRC="$cache/nginx-$version" \
     BUILD="build/nginx-$version" build > "$cache/build-$version.log" 2>&1 \
    || { tail -30 "$cache/build-$version.log"; exit 1; }

echo "== nginx $version: module builds warning-free"
