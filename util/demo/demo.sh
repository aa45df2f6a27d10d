#!/bin/sh
# Runs the demo: nginx in the foreground with examples/demo.conf.
# Usage: util/demo/demo.sh MODULE_SO   (make run; the ports are examples/demo.conf's)
set -e

root=$(cd "$(dirname "$0")/../.." && pwd)
module=${1:?usage: $0 MODULE_SO}
prefix="$root/build/demo"
nginx=${NGINX_BIN:-/usr/sbin/nginx}

mkdir -p "$prefix/logs" "$prefix/temp"

conf="$root/examples/demo.conf"

# secret files are root-only in production (docs/directives.md): a checkout
# makes them world-readable, which nginx -t warns of
chmod go-rwx "$root"/examples/demo/client.secret \
    "$root"/examples/demo/destination.secrets "$root"/examples/demo/downlink.keys

echo "ngx_kpn_module demo on http://127.0.0.1:8080 (Ctrl-C stops it)"
echo "try the README's curl examples from another terminal"

"$nginx" -p "$prefix/" -c "$conf" -e stderr \
    -g "load_module $module; daemon off;" -t -q

exec "$nginx" -p "$prefix/" -c "$conf" -e stderr \
    -g "load_module $module; daemon off;"
