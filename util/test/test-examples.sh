#!/bin/bash
# make test-examples: examples/t (the suite of examples/production.conf, the
# way a user's CI runs it) under the in-tree runner, then under the real
# Test::Nginx when it is found (TEST_NGINX_LIB, argument 1).
#
# What is tested: the module and Test::KPN as the packages install them
# (/usr/lib/nginx/modules/ngx_http_kpn_module.so, /usr/share/perl5/Test/KPN.pm)
# when libnginx-mod-http-kpn and libtest-kpn-perl are installed, otherwise the
# tree's (build/ngx_http_kpn_module.so, perl/lib).  KPN_MODULE_SO and
# KPN_KIT_LIB choose.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD

installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

if [ -z "${KPN_MODULE_SO:-}" ]; then
    if installed libnginx-mod-http-kpn; then
        KPN_MODULE_SO=/usr/lib/nginx/modules/ngx_http_kpn_module.so
    else
        KPN_MODULE_SO=$ROOT/build/ngx_http_kpn_module.so
    fi
fi
if [ -z "${KPN_KIT_LIB:-}" ]; then
    if installed libtest-kpn-perl; then
        KPN_KIT_LIB=
    else
        KPN_KIT_LIB=$ROOT/perl/lib
    fi
fi
[ -f "$KPN_MODULE_SO" ] || { echo "test-examples: no module at $KPN_MODULE_SO (make, or make deb and install it)" >&2; exit 1; }

export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}
export TEST_NGINX_LOAD_MODULES=$KPN_MODULE_SO
export TEST_NGINX_RANDOMIZE=1
echo "test-examples: module $KPN_MODULE_SO; Test::KPN from ${KPN_KIT_LIB:-the installed package}"

# every section and framework function the suite uses must be in the in-tree runner
perl util/test/check-sections.pl examples/t/*.t || exit 1

status=0
echo "test-examples: in-tree runner (t/compat)"
PERL5LIB=$ROOT/t/compat${KPN_KIT_LIB:+:$KPN_KIT_LIB} prove examples/t/ || status=1

if lib=$(util/test/real-framework.sh "${1:-}" 2>/dev/null); then
    echo "test-examples: the real Test::Nginx (${lib:-installed})"
    PERL5LIB=$lib${KPN_KIT_LIB:+:$KPN_KIT_LIB} prove examples/t/ || status=1
else
    echo "test-examples: the real Test::Nginx is not found: in-tree runner only"
fi
exit $status
