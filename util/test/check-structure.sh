#!/bin/bash
# The structure of ngx_kpn_module/ that docs/architecture.md promises,
# checked (make check-structure; .ci/run before the tests):
#
#   - no file over 900 lines;
#   - no function over 120 lines (nginx style: a function's body is the
#     lines from a '{' in column 0 to the next '}' in column 0);
#   - the include rules: no file of one half (ngx_http_kpn_uplink*,
#     ngx_http_kpn_downlink*) includes the other half's headers; the
#     metrics (ngx_http_kpn_metrics*) include the halves' module headers
#     only, never a request-path header; a file of neither half includes
#     no half's header; the files without HTTP include <ngx_http.h> only
#     through ngx_http_kpn_json.h; the core-only files (conf, shm, text)
#     neither <ngx_http.h> nor any header of the module but each other's;
#   - every result code of the outcome table (ngx_http_kpn_outcome.h) is
#     written once in the whole directory (another table names it by its
#     array, ngx_http_kpn_code_<NAME>).
#
#   util/test/check-structure.sh [DIR]     DIR: default ngx_kpn_module/
#
# Prints one line for each thing that fails and exits 1; prints a summary
# and exits 0 when all holds.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/ngx_kpn_module}

max_file=900
max_function=120

# the files without HTTP and the core-only files (docs/architecture.md)
no_http="text json senml senml_reader senml_scalar device envelope token command"
core_only="conf shm text"

fails=0
fail() {
    echo "check-structure: $*"
    fails=$((fails + 1))
}

mapfile -t files < <(cd "$dir" && printf '%s\n' ./*.[ch] | sed 's|^\./||')
nfiles=0

for f in "${files[@]}"; do
    nfiles=$((nfiles + 1))
    path="$dir/$f"

    # file length

    lines=$(wc -l < "$path")
    if [ "$lines" -gt "$max_file" ]; then
        fail "$f: $lines lines (at most $max_file)"
    fi

    # function length: '{' in column 0 to the next '}' in column 0

    while read -r start len name; do
        fail "$f:$start: $name: $len lines (at most $max_function)"
    done < <(awk -v max="$max_function" '
        /^[a-z_][a-z_0-9]*\(/ { name = $0; sub(/\(.*/, "", name) }
        /^\{/ { start = FNR }
        /^\}/ && start {
            if (FNR - start + 1 > max) {
                print start, FNR - start + 1, (name == "" ? "?" : name)
            }
            start = 0; name = ""
        }' "$path")

    # includes

    base=${f%.[ch]}
    base=${base#ngx_http_kpn_}

    case $base in
        uplink*)   half=uplink ;;
        downlink*) half=downlink ;;
        metrics*)  half=metrics ;;
        *)         half=none ;;
    esac

    while read -r n inc; do
        what=
        case $half:$inc in
            uplink:\"ngx_http_kpn_downlink*)
                what="an uplink file includes the downlink's header" ;;
            downlink:\"ngx_http_kpn_uplink*)
                what="a downlink file includes the uplink's header" ;;
            metrics:\"ngx_http_kpn_uplink_module.h\" \
            | metrics:\"ngx_http_kpn_downlink_module.h\")
                ;;
            metrics:\"ngx_http_kpn_uplink* | metrics:\"ngx_http_kpn_downlink*)
                what="the metrics include a half's request-path header" ;;
            none:\"ngx_http_kpn_uplink* | none:\"ngx_http_kpn_downlink*)
                what="a file of neither half includes a half's header" ;;
        esac

        if [ -z "$what" ] && [ "$inc" = "<ngx_http.h>" ] \
           && [[ " $no_http " == *" $base "* ]] && [ "$base" != json ]
        then
            what="a file without HTTP includes <ngx_http.h> (only through ngx_http_kpn_json.h)"
        fi

        if [ -z "$what" ] && [[ " $core_only " == *" $base "* ]]; then
            case $inc in
                "<ngx_http.h>")
                    what="a core-only file includes <ngx_http.h>" ;;
                \"ngx_http_kpn_conf.h\" | \"ngx_http_kpn_shm.h\" \
                | \"ngx_http_kpn_text.h\")
                    ;;
                \"ngx_http_kpn_*)
                    what="a core-only file includes a header of the module but conf, shm, text" ;;
            esac
        fi

        if [ -n "$what" ]; then
            fail "$f:$n: $what: $inc"
        fi
    done < <(grep -n '^#include ' "$path" \
             | sed 's/^\([0-9]*\):#include *\([^ ]*\).*/\1 \2/')
done

# result codes of the outcome table: each written once

outcome="$dir/ngx_http_kpn_outcome.h"
codes=$(grep -o '^ *X([A-Z_0-9]*, *"[a-z_0-9]*"' "$outcome" \
        | grep -o '"[a-z_0-9]*"' | grep -v '^""$' || true)
ncodes=0

if [ -z "$codes" ]; then
    fail "ngx_http_kpn_outcome.h: no result code found in the outcome table"
fi

for c in $codes; do
    ncodes=$((ncodes + 1))
    n=$(cd "$dir" && grep -o -- "$c" "${files[@]}" | wc -l)
    if [ "$n" -ne 1 ]; then
        where=$(cd "$dir" && grep -n -- "$c" "${files[@]}" | cut -d: -f1,2 | tr '\n' ' ')
        fail "result code $c written $n times (once, in the outcome table): $where"
    fi
done

if [ "$fails" -gt 0 ]; then
    echo "check-structure: $fails failed"
    exit 1
fi

echo "check-structure: $nfiles files: none over $max_file lines, no function over $max_function, the include rules hold, $ncodes result codes written once"
