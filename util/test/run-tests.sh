#!/bin/bash
# Test entry point (`make test`, `make test-valgrind`).
#
#   util/test/run-tests.sh [t/NNN-x.t ...]        default: all of t/ (prove -r t)
#
# Environment:
#   KPN_MODULE_SO      absolute path of the built module
#                      (default: $PWD/build/ngx_http_kpn_module.so)
#   TEST_NGINX_BINARY  nginx to test with (default /usr/sbin/nginx)
#   TEST_NGINX_COMPAT  1 = use the in-tree runner (t/compat) even when the
#                      CPAN Test::Nginx is installed
#   KPN_VALGRIND       1 = run nginx under valgrind (TEST_NGINX_USE_VALGRIND=1);
#                      the run fails on any ==PID== valgrind report line
#   KPN_TEST_JOBS      N = prove -j N (each file gets its own random port/servroot)
#   KPN_SKIP_SELFTEST  1 = skip the runner's self-tests (a second run in one CI job)
#
# Steps: lint t/*.t against what the compat runner implements
# (util/test/check-sections.pl), self-test the compat runner (util/test/compat/;
# differential against the real framework when that is found), then prove
# under util/test/reap.pl (orphaned daemon nginx reaped at once).  Exits with prove's status (or 1 on lint/self-test/valgrind
# failure).

set -u

cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD

KPN_MODULE_SO=${KPN_MODULE_SO:-$ROOT/build/ngx_http_kpn_module.so}
case $KPN_MODULE_SO in
    /*) ;;
    *) KPN_MODULE_SO=$ROOT/$KPN_MODULE_SO ;;
esac
if [ ! -f "$KPN_MODULE_SO" ]; then
    echo "run-tests: module not found: $KPN_MODULE_SO (build it first: make)" >&2
    exit 1
fi

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=$KPN_MODULE_SO
export TEST_NGINX_RANDOMIZE=1

# (b) lint: every section and framework function used in t/ must be
#     implemented by the compat runner, so the suite runs under both
echo "run-tests: lint: util/test/check-sections.pl t/*.t"
perl util/test/check-sections.pl t/*.t || exit 1

# (d) framework choice by file probe (loading Test::Nginx::Socket to probe
#     would kill the nginx named in t/servroot/logs/nginx.pid at exit)
use_real=0
if [ "${TEST_NGINX_COMPAT:-0}" != 1 ] &&
   perl -e 'exit !grep { -f "$_/Test/Nginx/Socket.pm" } @INC'; then
    use_real=1
fi

# (c) self-tests of the compat runner: against the golden files, and
#     against the real framework too when it is found (differential)
if [ "${KPN_SKIP_SELFTEST:-0}" != 1 ]; then
    echo "run-tests: self-test: util/test/compat/run.sh"
    util/test/compat/run.sh || { echo "run-tests: compat runner self-test failed" >&2; exit 1; }
fi

# (f) test files
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=(-r t)
fi

prove_args=()
if [ $use_real = 0 ]; then
    prove_args+=(-I t/compat)
    echo "run-tests: framework: in-tree compat runner (t/compat/Test/Nginx/Socket.pm)"
else
    echo "run-tests: framework: installed Test::Nginx::Socket (set TEST_NGINX_COMPAT=1 for the in-tree runner)"
fi
if [ -n "${KPN_TEST_JOBS:-}" ]; then
    prove_args+=(-j "$KPN_TEST_JOBS")
fi

echo "run-tests: nginx: $TEST_NGINX_BINARY; module: $KPN_MODULE_SO"

# (g) valgrind mode
if [ "${KPN_VALGRIND:-0}" = 1 ]; then
    if ! command -v valgrind >/dev/null; then
        echo "run-tests: KPN_VALGRIND=1 but valgrind is not installed" >&2
        exit 1
    fi
    export TEST_NGINX_USE_VALGRIND=1
    errlog=$(mktemp "${TMPDIR:-/tmp}/kpn-valgrind-XXXXXX.log")
    echo "run-tests: prove ${prove_args[*]} ${targets[*]} (valgrind; stderr also in $errlog)"
    util/test/reap.pl prove "${prove_args[@]}" "${targets[@]}" 2> >(tee "$errlog" >&2)
    status=$?
    wait    # let tee drain
    if grep -Eq '^==[0-9]+==' "$errlog"; then
        echo
        echo "run-tests: valgrind reported errors or leaks:"
        grep -E '^==[0-9]+==' "$errlog"
        echo "run-tests: FAIL (valgrind); full stderr: $errlog"
        [ $status = 0 ] && status=1
    else
        echo "run-tests: valgrind: no reports"
        rm -f "$errlog"
    fi
    exit $status
fi

echo "run-tests: prove ${prove_args[*]} ${targets[*]}"
util/test/reap.pl prove "${prove_args[@]}" "${targets[@]}"
exit $?
