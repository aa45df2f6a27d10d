#!/bin/sh
# Prints the PERL5LIB under which the real Test::Nginx (openresty/test-nginx)
# loads: the directory given (e.g. ../shared/test-nginx/lib), or nothing when
# it is installed system-wide (CPAN).  Exits 1, saying what is missing,
# when neither has it.
#
# Usage: util/test/real-framework.sh [LIBDIR]
lib=${1:-}
if [ -n "$lib" ] && [ -f "$lib/Test/Nginx/Socket.pm" ]; then
    (cd "$lib" && pwd)
    exit 0
fi
if perl -e 'exit !grep { -f "$_/Test/Nginx/Socket.pm" } @INC'; then
    echo ""
    exit 0
fi
echo "the real Test::Nginx is not found: neither in ${lib:-(no directory given)} nor installed;" \
     "give its lib directory (make TEST_NGINX_LIB=DIR), or install it from CPAN" >&2
exit 1
