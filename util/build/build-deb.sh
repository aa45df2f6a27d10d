#!/bin/sh
# Builds the Debian packages libnginx-mod-http-kpn and libtest-kpn-perl
# (debian/) out of tree,
# in build/deb/, the way Debian builds its nginx module packages
# (debhelper compat 13, dh-sequence-nginx / nginx_mod build system).
#
# Usage: util/build/build-deb.sh [TREE-ISH | --worktree]
#
#   TREE-ISH     package that commit (git archive), HEAD by default
#   --worktree   package the working tree's tracked files as they are now
#
# debian/ always comes from the working tree.  Nothing outside build/deb/ is
# written.  Missing build dependencies are installed (as root) with apt-get.
# Results: build/deb/*.deb, *.changes, *.buildinfo, build.log, lintian.log
# (lintian runs only when installed).
set -eu

cd "$(dirname "$0")/../.."
root=$(pwd)
out=$root/build/deb
src=$out/src

ref=HEAD
mode=git
case "${1:-}" in
    --worktree) mode=worktree ;;
    -h|--help)  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "")         ;;
    -*)         echo "usage: $0 [TREE-ISH | --worktree]" >&2; exit 2 ;;
    *)          ref=$1 ;;
esac

[ -f debian/control ] || { echo "$0: no debian/ in $root" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "$0: missing build dependencies: $* (run as root or install them)" >&2
        exit 1
    fi
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    # installing nginx must not start the service on a build machine
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update -qq
    apt-get "$@"
}

# the tools this script itself needs
need=
command -v dpkg-buildpackage >/dev/null 2>&1 || need="$need dpkg-dev"
command -v dh >/dev/null 2>&1 || need="$need debhelper"
command -v git >/dev/null 2>&1 || need="$need git"
if [ -n "$need" ]; then
    as_root $need
    echo "installing:$need"
    apt_install install -y -qq --no-install-recommends $need
fi

# a fresh source tree: build/deb/src (only build/deb/ is touched)
mkdir -p "$out"
rm -rf "$src"
rm -f "$out"/libnginx-mod-http-kpn*_*.deb "$out"/libtest-kpn-perl_*.deb "$out"/libnginx-mod-http-kpn_*.changes \
      "$out"/libnginx-mod-http-kpn_*.buildinfo "$out"/libnginx-mod-http-kpn_*.orig.tar.*
mkdir -p "$src"

if [ $mode = git ]; then
    commit=$(git rev-parse --verify "$ref^{commit}")
    echo "exporting $ref ($commit) with git archive"
    git archive --format=tar "$commit" | tar -x -C "$src"
else
    commit="$(git rev-parse HEAD) + working tree"
    echo "exporting the working tree's tracked files (git ls-files)"
    # tracked files, as they are in the working tree; deleted ones skipped
    git ls-files -z --cached | tr '\0' '\n' | grep -v '^debian/' \
        | while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done \
        | tar -c -T - -f - | tar -x -C "$src"
fi

rm -rf "$src/debian"
cp -a debian "$src/debian"

pkg=$(dpkg-parsechangelog -l debian/changelog -S Source)
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
upstream=${version%-*}
upstream=${upstream#*:}

# the upstream tarball that a "3.0 (quilt)" source package would use
tar -c -C "$src" --exclude=./debian --sort=name --owner=0 --group=0 --numeric-owner \
    --transform "s,^\.,$pkg-$upstream," . | gzip -n9 > "$out/${pkg}_$upstream.orig.tar.gz"

# build dependencies from debian/control
if ! (cd "$src" && dpkg-checkbuilddeps) 2>/dev/null; then
    as_root "(see dpkg-checkbuilddeps in $src)"
    echo "installing the build dependencies of debian/control"
    apt_install build-dep -y -qq --no-install-recommends "$src"
fi

echo "building $pkg $version from $commit in $src"
: "${DEB_BUILD_OPTIONS:=parallel=$(nproc 2>/dev/null || echo 1)}"
export DEB_BUILD_OPTIONS
status=0
(cd "$src" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || status=$?
if [ $status != 0 ]; then
    tail -40 "$out/build.log"
    echo "dpkg-buildpackage failed ($status), full log: $out/build.log" >&2
    exit $status
fi
grep -E '^dpkg-deb: building package' "$out/build.log" || true

changes=$(ls "$out"/${pkg}_"$version"_*.changes)
if command -v lintian >/dev/null 2>&1; then
    echo "lintian $changes"
    # (lintian's notice about running as root is not a finding)
    lintian --info --display-info --pedantic "$changes" 2>&1 \
        | grep -v '^running with root privileges is not recommended!$' > "$out/lintian.log" || true
    if [ -s "$out/lintian.log" ]; then cat "$out/lintian.log"; else echo "lintian: clean"; fi
else
    echo "lintian not installed, skipped (apt-get install lintian)"
fi

for deb in "$out"/*_"$version"_*.deb; do
    echo
    echo "== $deb"
    dpkg-deb -f "$deb" Package Version Architecture Depends Recommends
    dpkg-deb -c "$deb" | awk '{ print "   " $NF }'
done
