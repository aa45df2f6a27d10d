#!/bin/bash
# The fresh-machine check: .ci/run in a clone of HEAD inside a clean Debian
# 12 root (debootstrap minbase plus ca-certificates, git and make), with
# the real Test::Nginx and the nginx mainline source copied beside the
# clone as CI has them.  Nothing installed on this machine can help it.
#
# Usage (root): util/build/fresh-debian.sh [ROOT_DIR [SHARED_DIR]]
#   ROOT_DIR     where the Debian root goes (default build/fresh-debian;
#                reused when it exists: delete it for a new one)
#   SHARED_DIR   the directory that holds test-nginx/ and nginx/
#                (default ../shared)
# The log is ROOT_DIR.log; exits with .ci/run's status.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/build/fresh-debian}
shared=${2:-$root/../shared}
log=$dir.log

[ "$(id -u)" = 0 ] || { echo "fresh-debian: run as root" >&2; exit 1; }

if [ ! -x "$dir/bin/bash" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
    debootstrap --variant=minbase --include=ca-certificates,git,make \
        bookworm "$dir" http://deb.debian.org/debian
fi

cp /etc/resolv.conf "$dir/etc/resolv.conf"
rm -rf "$dir/ci"
mkdir -p "$dir/ci"
git clone -q "$root" "$dir/ci/main"
if [ -d "$shared" ]; then
    cp -a "$shared" "$dir/ci/shared"
    chmod -R a-w "$dir/ci/shared"
fi

cleanup() {
    umount "$dir/dev/pts" 2>/dev/null || true
    umount "$dir/dev" 2>/dev/null || true
    umount "$dir/proc" 2>/dev/null || true
}
trap cleanup EXIT
mount -t proc proc "$dir/proc"
mount --bind /dev "$dir/dev"
mount --bind /dev/pts "$dir/dev/pts" || true

echo "fresh-debian: CI=true bash .ci/run in $dir/ci/main (log: $log)"
set +e
chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    CI=true /bin/bash -c 'cd /ci/main && bash .ci/run' > "$log" 2>&1
status=$?
set -e
grep -E '^=== \.ci/run|^Result|^Files=|passed, .* failed' "$log" || true
echo "fresh-debian: .ci/run exited $status"
exit $status
