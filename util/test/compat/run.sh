#!/bin/sh
# Self-tests of the in-tree Test::Nginx::Socket compat runner (t/compat).
# Usage: util/test/compat/run.sh [--update] [--verbose] [fixture.t ...]
# Prints "N passed, N failed" last; exits non-zero on any mismatch.
exec perl "$(dirname "$0")/run.pl" "$@"
