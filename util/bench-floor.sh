#!/bin/bash
# The uplink's floor (make bench-floor): how close to a plain proxy_pass a
# module that parses the pack with jansson can come at all on this machine.
#
# Two variants of the module are built from a copy of the tree, their
# uplink cut short right after the body is collected:
#
#   structure  the module's own request handling only (the ctx, the body
#              read by the access handler, the phases run again), the
#              original body forwarded: what the module costs before it
#              looks at the body;
#   parse      the same, plus jansson's json_loadb of the body through the
#              module's loader (the request pool's span), nothing else: no
#              token check, no SenML rules, no envelope.
#
# Each runs util/bench.sh's uplink rounds next to the plain proxy (and its
# callgrind count).  The "parse" ratio is the ceiling of the real uplink:
# what the module does besides jansson's parse can only lower it.  The
# copy is patched by inserting the cut after an anchor line of
# ngx_http_kpn_uplink.c; without that line the script stops (it never
# measures an unpatched module as a floor).
#
# Usage: util/bench-floor.sh       (make bench-floor)
# Env:   as util/bench.sh (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CALLGRIND, ...);
#        BENCH_FLOOR_DIR (build-floor): where the copies are built
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(realpath -m "${BENCH_FLOOR_DIR:-$root/build-floor}")
anchor='    ctx->received = body.len;'
file=ngx_kpn_module/ngx_http_kpn_uplink.c

for variant in structure parse; do
    src=$work/$variant
    rm -rf "$src"
    mkdir -p "$src"
    cp -a "$root/config" "$root/Makefile" "$root/ngx_kpn_module" "$root/util" "$src/"

    level=1
    [ "$variant" = parse ] && level=2

    ANCHOR=$anchor LEVEL=$level perl -0pi -e '
        my $a = $ENV{ANCHOR};
        my $cut = "\n#define NGX_HTTP_KPN_BENCH_FLOOR  $ENV{LEVEL}\n"
          . "    {\n"
          . "        json_t  *root;\n\n"
          . "        if (NGX_HTTP_KPN_BENCH_FLOOR == 2\n"
          . "            && ngx_http_kpn_json_load(r->pool, &body, &root, err)\n"
          . "               != NGX_OK)\n"
          . "        {\n"
          . "            return NGX_ERROR;\n"
          . "        }\n\n"
          . "        ctx->body = body;\n"
          . "        ctx->forwarded = body.len;\n"
          . "        return NGX_OK;\n"
          . "    }\n";
        s/^\Q$a\E\n/$a\n$cut/m or die "bench-floor: the anchor line is gone from the uplink\n";
    ' "$src/$file"

    echo "== floor: $variant (building $src)"
    make -s -C "$src" build BUILD="$src/build" > "$src/build.log" 2>&1 \
        || { tail -20 "$src/build.log"; exit 1; }

    BENCH_ONLY=uplink BENCH_RSS_UPLINKS=0 BENCH_RSS_DOWNLINKS=0 \
        "$root/util/bench.sh" "$src/build/ngx_http_kpn_module.so" \
        | grep -Ev '^== (machine|nginx worker|warm-up|callgrind)' \
        | grep -Ev 'downlink|kpn_metrics|counted'
done
