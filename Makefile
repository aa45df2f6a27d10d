# ngx_kpn_module
#
#   make                 build build/ngx_http_kpn_module.so against Debian's nginx
#   make NGINX_SRC=DIR   ... against an nginx source tree: a release tarball's
#                        (./configure) or a git tree (auto/configure)
#   make CC=clang        ... with clang (nginx's own warning flags, -Werror)
#   make run             build, then run the demo (examples/demo.conf) on 127.0.0.1:8080
#   make test            build, compile-check against nginx 1.26.3, then run
#                        the Test::Nginx suite (t/)
#   make test-valgrind   the suite under valgrind memcheck
#   make test-real       the suite under the real Test::Nginx (TEST_NGINX_LIB,
#                        default ../shared/test-nginx/lib, or a CPAN install)
#   make matrix          builds: gcc and clang x nginx 1.22.1, 1.26.3, mainline,
#                        with and without --with-debug (KPN_DEBUG=0)
#                        (NGINX_MAINLINE=tree or tarball), static once
#   make test-mainline   the suite against the mainline nginx binary of make matrix
#   make test-http2      the suite over HTTP/2 (real Test::Nginx, curl, an nginx
#                        >= 1.25.1 with HTTP/2: the mainline binary of make matrix)
#   make test-prometheus promtool on the exposition and the example rules, and a
#                        real Prometheus server scraping a test nginx
#   make test-replay     build, then bin/kpn-replay end to end (util/test/test-replay.pl:
#                        loopback stand-ins, stock nginx and nginx with the module
#                        writing the spool of examples/spool.conf)
#   make bench           benchmarks (util/bench/bench.sh)
#   make bench-floor     the uplink's ceiling: the module cut to its request handling,
#                        then to its SenML reader only, and to jansson's parse only
#                        (the ceiling before the reader), next to the plain proxy
#   make faults          the token cache under faults, measured (util/bench/faults.pl)
#   make fuzz            libFuzzer harnesses: the SenML reader against its oracle (jansson
#                        and the walk it replaced), the SenML, token answer and
#                        downlink command parsers, the command against its oracle
#   make test-examples   examples/t (examples/production.conf through Test::KPN) under
#                        both runners: the module and the kit as the packages install
#                        them when installed, else the tree's (util/test/test-examples.sh)
#   make check-structure the module's structure (util/test/check-structure.sh): no file
#                        over 900 lines, no function over 120, the include rules of
#                        docs/architecture.md, each result code written once
#   make deb             Debian packages libnginx-mod-http-kpn, libtest-kpn-perl (build/deb/)
#
# Every target installs the Debian packages it needs when they are missing.

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= /usr/sbin/nginx
BUILD       ?= build
CC          ?= cc
# KPN_LINK=static: --add-module (a whole nginx binary with the module in it);
# KPN_BINARY=1: build the nginx binary of the tree too (dynamic module beside it);
# EXTRA_CONF: more configure arguments
KPN_LINK        ?= dynamic
KPN_BINARY      ?= 0
EXTRA_CONF  ?=

ROOT        := $(CURDIR)
BUILD_ABS   := $(abspath $(BUILD))
MODULE      := $(BUILD_ABS)/objs/ngx_http_kpn_module.so

# KPN_DEBUG=0: configure without --with-debug, as nginx.org's packages, the
# official Docker image and most source builds are (the module's debug lines
# compile to nothing; a variable used only by them must not break -Werror)
KPN_DEBUG   ?= 1

# Debian's nginx-dev ships configure flags that match its binary
ifeq ($(NGINX_SRC),/usr/share/nginx/src)
CONF_FLAGS  := $$(. /usr/share/nginx/src/conf_flags; printf '%s ' "$${NGX_CONF_FLAGS[@]}" $(if $(filter 0,$(KPN_DEBUG)),| sed 's/--with-debug //'))
else
CONF_FLAGS  := --with-compat $(if $(filter 0,$(KPN_DEBUG)),,--with-debug) --with-http_ssl_module --with-threads
endif

SHELL       := /bin/bash

TEST_NGINX_LIB ?= $(ROOT)/../shared/test-nginx/lib
MAINLINE_BIN   := $(ROOT)/build/mainline/objs/nginx
MAINLINE_SO    := $(ROOT)/build/mainline/ngx_http_kpn_module.so

.PHONY: all build deps run test test-valgrind test-real matrix mainline test-mainline test-http2 test-prometheus bench bench-floor faults fuzz test-replay deb test-examples check-structure clean

all: build

deps-%:
	@util/build/install-deps.sh $*

build: deps-build $(BUILD_ABS)/objs/Makefile
ifeq ($(KPN_LINK),static)
	$(MAKE) -C $(BUILD_ABS)/nginx-src -f $(BUILD_ABS)/objs/Makefile binary
	@echo "built $(BUILD_ABS)/objs/nginx (module linked in)"
else ifeq ($(KPN_BINARY),1)
	$(MAKE) -C $(BUILD_ABS)/nginx-src -f $(BUILD_ABS)/objs/Makefile binary modules
	@ln -sf objs/ngx_http_kpn_module.so $(BUILD_ABS)/ngx_http_kpn_module.so
	@echo "built $(BUILD_ABS)/objs/nginx and $(BUILD_ABS)/ngx_http_kpn_module.so"
else
	$(MAKE) -C $(BUILD_ABS)/nginx-src -f $(BUILD_ABS)/objs/Makefile modules
	@ln -sf objs/ngx_http_kpn_module.so $(BUILD_ABS)/ngx_http_kpn_module.so
	@echo "built $(BUILD_ABS)/ngx_http_kpn_module.so"
endif

$(BUILD_ABS)/objs/Makefile: config
	@mkdir -p $(BUILD_ABS)
	rm -rf $(BUILD_ABS)/nginx-src $(BUILD_ABS)/objs
	cp -a $(NGINX_SRC) $(BUILD_ABS)/nginx-src
	cd $(BUILD_ABS)/nginx-src && $$(if [ -x ./configure ]; then echo ./configure; else echo auto/configure; fi) \
	    $(CONF_FLAGS) --with-cc=$(CC) $(EXTRA_CONF) \
	    --with-cc-opt='-g -O2 -fPIC -fstack-protector-strong -Wformat -Werror=format-security -D_FORTIFY_SOURCE=2' \
	    --with-ld-opt='-Wl,-z,relro -Wl,-z,now -fPIC' \
	    --$(if $(filter static,$(KPN_LINK)),add-module,add-dynamic-module)=$(ROOT) \
	    --builddir=$(BUILD_ABS)/objs > $(BUILD_ABS)/configure.log 2>&1 \
	    || { tail -20 $(BUILD_ABS)/configure.log; rm -f $(BUILD_ABS)/objs/Makefile; exit 1; }

run: build deps-run
	@util/demo/demo.sh $(BUILD_ABS)/ngx_http_kpn_module.so

test: build deps-test
	util/build/build-upstream.sh
	KPN_MODULE_SO=$(BUILD_ABS)/ngx_http_kpn_module.so util/test/run-tests.sh $(T)

test-valgrind: build deps-valgrind
	KPN_VALGRIND=1 KPN_MODULE_SO=$(BUILD_ABS)/ngx_http_kpn_module.so util/test/run-tests.sh $(T)

test-real: build deps-test
	@util/test/real-framework.sh "$(TEST_NGINX_LIB)" > /dev/null
	PERL5LIB=$$(util/test/real-framework.sh "$(TEST_NGINX_LIB)") KPN_SELFTEST_REAL=1 \
	    KPN_MODULE_SO=$(BUILD_ABS)/ngx_http_kpn_module.so util/test/run-tests.sh $(T)

matrix: deps-test deps-matrix
	util/build/build-matrix.sh

# the mainline binary and module, brought up to date (incremental)
mainline: deps-test
	@util/build/build-matrix.sh --mainline-only

test-mainline: mainline
	TEST_NGINX_BINARY=$(MAINLINE_BIN) KPN_MODULE_SO=$(MAINLINE_SO) KPN_SKIP_SELFTEST=1 \
	    util/test/run-tests.sh $(T)

# HTTP2_NGINX: an nginx >= 1.25.1 with HTTP/2 (the real framework writes
# "http2 on;"); HTTP2_MODULE: the module built against it
HTTP2_NGINX  ?= $(MAINLINE_BIN)
HTTP2_MODULE ?= $(MAINLINE_SO)

test-http2: $(if $(filter $(MAINLINE_BIN),$(HTTP2_NGINX)),mainline,deps-test)
	util/test/test-http2.sh "$(TEST_NGINX_LIB)" "$(HTTP2_NGINX)" "$(HTTP2_MODULE)" $(T)

test-prometheus: build deps-prometheus
	util/test/test-prometheus.sh $(BUILD_ABS)/ngx_http_kpn_module.so

faults: build deps-test
	perl util/bench/faults.pl --module $(BUILD_ABS)/ngx_http_kpn_module.so

bench: build deps-bench
	util/bench/bench.sh $(BUILD_ABS)/ngx_http_kpn_module.so

bench-floor: deps-bench
	util/bench/bench-floor.sh

fuzz: build deps-fuzz
	util/fuzz/fuzz.sh $(BUILD_ABS)

# the outage spool's replay tool (docs/spool.md); KPN_REPLAY=path tests another copy;
# scenario 10 has nginx with the module just built write the spool
test-replay: build deps-replay
	KPN_MODULE_SO=$(BUILD_ABS)/ngx_http_kpn_module.so prove -v util/test/test-replay.pl

check-structure:
	util/test/check-structure.sh

test-examples: build deps-test
	util/test/test-examples.sh "$(TEST_NGINX_LIB)"

# from HEAD; DEB_REF=--worktree for the working tree, or a commit
deb: deps-deb
	util/build/build-deb.sh $(DEB_REF)

clean:
	rm -rf $(BUILD_ABS) $(ROOT)/build-floor t/servroot*
