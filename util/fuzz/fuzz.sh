#!/bin/bash
# Builds and runs the libFuzzer harnesses (util/fuzz/*_fuzz.c) and
# the check driver (util/fuzz/senml_check.c) with AddressSanitizer and
# UndefinedBehaviorSanitizer, outside nginx: the module's sources without HTTP
# are compiled with nginx's own src/core/ngx_string.c and
# src/os/unix/ngx_alloc.c (from BUILD_DIR's nginx-src when it is a full
# source tree, else from the nginx 1.26.3 tree of util/build/build-upstream.sh)
# and the stand-ins of util/fuzz/ngx_stubs.c for the pool and the log.
#
#   util/fuzz/fuzz.sh BUILD_DIR            check driver, then each fuzz target for
#                                     FUZZ_SECONDS (default 60) from its corpus:
#                                     diff, the SenML reader against the oracle
#                                     of util/fuzz/senml_oracle.c (jansson and
#                                     the walk the module had before), and
#                                     senml (both from util/fuzz/corpus); token, the
#                                     token-answer parser (util/fuzz/token-corpus),
#                                     command, the downlink command parser and
#                                     builder, and command_diff, the command
#                                     parser against the oracle of
#                                     util/fuzz/command_oracle.c (jansson and
#                                     the walk the module had before; both
#                                     from util/fuzz/command-corpus);
#                                     FUZZ_TARGETS="senml token" picks some
#   util/fuzz/fuzz.sh BUILD_DIR --check    the check driver only
#   util/fuzz/fuzz.sh BUILD_DIR FILE...    run the harness on FILEs (reproduce;
#                                     FUZZ_TARGET=diff, token, command or
#                                     command_diff for
#                                     those)
#
# Work files, the growing corpus and crash artifacts go to BUILD_DIR/fuzz.
# FUZZ_JOBS=N runs N fuzzer processes; FUZZ_ARGS adds libFuzzer options.
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR [--check | FILE...]}
shift
build=$(cd "$build" && pwd)

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$build/fuzz"
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
jobs_args=
if [ "$jobs" -gt 1 ]; then
    jobs_args="-jobs=$jobs -workers=$jobs"
fi

if [ ! -f "$build/objs/ngx_auto_config.h" ]; then
    echo "$0: $build/objs/ngx_auto_config.h missing: run 'make build' first" >&2
    exit 1
fi

"$root/util/build/install-deps.sh" fuzz

# nginx's own core objects (ngx_string.c, ngx_alloc.c) need a full source
# tree with its configured headers: BUILD_DIR's when NGINX_SRC was one,
# else the nginx 1.26.3 tree that `make test` builds the module against
# (Debian's nginx-dev has the headers only)
tree=$build
if [ ! -f "$tree/nginx-src/src/core/ngx_string.c" ]; then
    tree="$root/build/nginx-1.26.3"
    if [ ! -f "$tree/nginx-src/src/core/ngx_string.c" ] ||
       [ ! -f "$tree/objs/ngx_auto_config.h" ]; then
        "$root/util/build/build-upstream.sh"
    fi
    if [ ! -f "$tree/nginx-src/src/core/ngx_string.c" ]; then
        echo "$0: no nginx source tree with src/core/ngx_string.c (make NGINX_SRC=DIR build with a full tree, or let util/build/build-upstream.sh fetch one)" >&2
        exit 1
    fi
fi
src="$tree/nginx-src/src"
echo "fuzz: nginx core from $tree/nginx-src"

mkdir -p "$out"

cc=${FUZZ_CC:-clang}
cflags="-g -O1 -fno-omit-frame-pointer -Wall -Werror -Wno-unused-parameter
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -I$src/core -I$src/event -I$src/event/modules -I$src/os/unix
        -I$tree/objs -I$src/http -I$src/http/modules -I$src/http/v2
        -I$root/ngx_kpn_module"
# nginx's core as nginx ships it: its %V of an empty ngx_str_t (data NULL)
# is memcpy(p, NULL, 0), which nginx relies on everywhere; UBSan's nonnull
# check stays on for the module's files and the harnesses
core_objects() {  # SUFFIX EXTRA-FLAGS...
    local suffix=$1 f o
    shift
    for f in core/ngx_string.c os/unix/ngx_alloc.c; do
        o="$out/$(basename "$f" .c)$suffix.o"
        # shellcheck disable=SC2086
        $cc $cflags "$@" -fno-sanitize=nonnull-attribute -c -o "$o" "$src/$f"
        echo "$o"
    done
}

common="$root/util/fuzz/ngx_stubs.c
        $root/ngx_kpn_module/ngx_http_kpn_json.c
        $root/ngx_kpn_module/ngx_http_kpn_text.c
        $root/ngx_kpn_module/ngx_http_kpn_senml.c
        $root/ngx_kpn_module/ngx_http_kpn_senml_reader.c
        $root/ngx_kpn_module/ngx_http_kpn_senml_scalar.c
        $root/ngx_kpn_module/ngx_http_kpn_device.c
        $root/ngx_kpn_module/ngx_http_kpn_envelope.c"

# shellcheck disable=SC2086
$cc $cflags -o "$out/senml_check" "$root/util/fuzz/senml_check.c" $common \
    $(core_objects "") -ljansson
"$out/senml_check"

if [ "${1:-}" = "--check" ]; then
    exit 0
fi

common="$common $root/ngx_kpn_module/ngx_http_kpn_token.c
        $root/ngx_kpn_module/ngx_http_kpn_command.c
        $(core_objects -fuzz -fsanitize=fuzzer-no-link)"

# shellcheck disable=SC2086
$cc $cflags -fsanitize=fuzzer -o "$out/senml_fuzz" \
    "$root/util/fuzz/senml_fuzz.c" $common -ljansson
# shellcheck disable=SC2086
$cc $cflags -fsanitize=fuzzer -o "$out/diff_fuzz" \
    "$root/util/fuzz/senml_diff_fuzz.c" "$root/util/fuzz/senml_oracle.c" \
    "$root/util/fuzz/oracle_json.c" \
    $common -ljansson
# shellcheck disable=SC2086
$cc $cflags -fsanitize=fuzzer -o "$out/token_fuzz" \
    "$root/util/fuzz/token_fuzz.c" $common -ljansson
# shellcheck disable=SC2086
$cc $cflags -fsanitize=fuzzer -o "$out/command_fuzz" \
    "$root/util/fuzz/command_fuzz.c" $common -ljansson
# shellcheck disable=SC2086
$cc $cflags -fsanitize=fuzzer -o "$out/command_diff_fuzz" \
    "$root/util/fuzz/command_diff_fuzz.c" "$root/util/fuzz/command_oracle.c" \
    "$root/util/fuzz/oracle_json.c" \
    $common -ljansson

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ $# -gt 0 ]; then
    exec "$out/${FUZZ_TARGET:-senml}_fuzz" "$@"
fi

# with -jobs, libFuzzer writes fuzz-N.log into the current directory
cd "$out"

status=0
for target in ${FUZZ_TARGETS:-diff senml token command command_diff}; do
    case $target in
        senml|diff) seeds="$root/util/fuzz/corpus" dict="-dict=$root/util/fuzz/senml.dict" ;;
        token) seeds="$root/util/fuzz/token-corpus" dict= ;;
        command|command_diff) seeds="$root/util/fuzz/command-corpus" dict= ;;
    esac
    mkdir -p "$out/corpus-$target"
    echo "fuzzing $target for ${seconds}s with $jobs job(s); corpus $out/corpus-$target"
    # shellcheck disable=SC2086
    "$out/${target}_fuzz" -max_total_time="$seconds" -max_len=16384 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 $dict \
        -artifact_prefix="$out/$target-" \
        $jobs_args ${FUZZ_ARGS:-} \
        "$out/corpus-$target" "$seeds" || status=$?
done
exit $status
