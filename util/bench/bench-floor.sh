#!/bin/bash
# The uplink's floor (make bench-floor): how close to a plain proxy_pass a
# module that parses the pack can come at all on this machine, with its own
# reader and with jansson.
#
# Two variants of the module are built from a copy of the tree, their
# uplink cut short right after the body is collected:
#
#   structure  the module's own request handling only (the ctx, the body
#              read by the access handler, the phases run again), the
#              original body forwarded: what the module costs before it
#              looks at the body;
#   parse      the same, plus jansson's json_loadb of the body through the
#              module's loader, nothing else: no token check, no SenML
#              rules, no envelope (the ceiling while jansson parsed the
#              pack, before the module's own reader; kept for comparison);
#   reader     the same, plus the module's SenML reader
#              (ngx_http_kpn_senml_parse: the pack read, resolved and its
#              device identified), nothing else: no token check, no
#              envelope.
#
# Each runs util/bench/bench.sh's uplink rounds next to the plain proxy (and its
# callgrind count).  The "reader" ratio is the ceiling of the real uplink:
# what the module does besides the parse can only lower it.  The
# copy is patched by inserting the cut after an anchor line of
# ngx_http_kpn_uplink.c; without that line the script stops (it never
# measures an unpatched module as a floor).
#
# Usage: util/bench/bench-floor.sh       (make bench-floor)
# Env:   as util/bench/bench.sh (BENCH_ROUNDS, BENCH_SECONDS, BENCH_CALLGRIND, ...);
#        BENCH_FLOOR_DIR (build-floor): where the copies are built
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(realpath -m "${BENCH_FLOOR_DIR:-$root/build-floor}")
anchor='    ctx->received = body.len;'
file=ngx_kpn_module/ngx_http_kpn_uplink.c

for variant in structure parse reader; do
    src=$work/$variant
    rm -rf "$src"
    mkdir -p "$src"
    cp -a "$root/config" "$root/Makefile" "$root/ngx_kpn_module" "$root/util" "$src/"

    level=1
    [ "$variant" = parse ] && level=2
    [ "$variant" = reader ] && level=3

    ANCHOR=$anchor LEVEL=$level perl -0pi -e '
        my $a = $ENV{ANCHOR};
        my $cut = "\n#define NGX_HTTP_KPN_BENCH_FLOOR  $ENV{LEVEL}\n"
          . "    {\n"
          . "        json_t                *root;\n"
          . "        ngx_http_kpn_senml_t   floor_pack;\n\n"
          . "        if (NGX_HTTP_KPN_BENCH_FLOOR == 2\n"
          . "            && ngx_http_kpn_json_load(r->pool, &body, &root, err)\n"
          . "               != NGX_OK)\n"
          . "        {\n"
          . "            return NGX_ERROR;\n"
          . "        }\n\n"
          . "        if (NGX_HTTP_KPN_BENCH_FLOOR == 3\n"
          . "            && ngx_http_kpn_senml_parse(r->pool, &body, 0,\n"
          . "                                        &floor_pack, err)\n"
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

    BENCH_ONLY=uplink BENCH_LUA=0 BENCH_RSS_UPLINKS=0 BENCH_RSS_DOWNLINKS=0 \
        "$root/util/bench/bench.sh" "$src/build/ngx_http_kpn_module.so" \
        | grep -Ev '^== (machine|nginx worker|warm-up|callgrind)' \
        | grep -Ev 'downlink|kpn_metrics|counted'
done
