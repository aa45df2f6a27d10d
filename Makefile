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
#   make bench           benchmarks (util/bench.sh)
#   make fuzz            libFuzzer harness for the SenML parser
#   make deb             Debian package libnginx-mod-http-kpn (build/deb/)
#
# Every target installs the Debian packages it needs when they are missing.

NGINX_SRC   ?= /usr/share/nginx/src
NGINX_BIN   ?= /usr/sbin/nginx
BUILD       ?= build
CC          ?= cc
# LINK=static: --add-module (a whole nginx binary with the module in it);
# BINARY=1: build the nginx binary of the tree too (dynamic module beside it);
# EXTRA_CONF: more configure arguments
LINK        ?= dynamic
BINARY      ?= 0
EXTRA_CONF  ?=
DEMO_PORT   ?= 8080

ROOT        := $(CURDIR)
BUILD_ABS   := $(abspath $(BUILD))
MODULE      := $(BUILD_ABS)/objs/ngx_http_kpn_module.so
SOURCES     := config $(wildcard ngx_kpn_module/*.c ngx_kpn_module/*.h)
DEPS_STAMP  := $(BUILD_ABS)/.deps-$(DEPS)

# Debian's nginx-dev ships configure flags that match its binary
ifeq ($(NGINX_SRC),/usr/share/nginx/src)
CONF_FLAGS  := $$(. /usr/share/nginx/src/conf_flags; printf '%s ' "$${NGX_CONF_FLAGS[@]}")
else
CONF_FLAGS  := --with-compat --with-debug --with-http_ssl_module --with-threads
endif

SHELL       := /bin/bash

.PHONY: all build deps run test test-valgrind bench fuzz deb clean

all: build

deps-%:
	@util/install-deps.sh $*

build: deps-build $(BUILD_ABS)/objs/Makefile
ifeq ($(LINK),static)
	$(MAKE) -C $(BUILD_ABS)/nginx-src -f $(BUILD_ABS)/objs/Makefile binary
	@echo "built $(BUILD_ABS)/objs/nginx (module linked in)"
else ifeq ($(BINARY),1)
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
	    --$(if $(filter static,$(LINK)),add-module,add-dynamic-module)=$(ROOT) \
	    --builddir=$(BUILD_ABS)/objs > $(BUILD_ABS)/configure.log 2>&1 \
	    || { tail -20 $(BUILD_ABS)/configure.log; rm -f $(BUILD_ABS)/objs/Makefile; exit 1; }

run: build deps-run
	@util/demo.sh $(BUILD_ABS)/ngx_http_kpn_module.so $(DEMO_PORT)

test: build deps-test
	util/build-upstream.sh
	KPN_MODULE_SO=$(BUILD_ABS)/ngx_http_kpn_module.so util/run-tests.sh $(T)

test-valgrind: build deps-valgrind
	KPN_VALGRIND=1 KPN_MODULE_SO=$(BUILD_ABS)/ngx_http_kpn_module.so util/run-tests.sh $(T)

bench: build deps-bench
	util/bench.sh $(BUILD_ABS)/ngx_http_kpn_module.so

fuzz: build deps-fuzz
	util/fuzz.sh $(BUILD_ABS)

# from HEAD; DEB_REF=--worktree for the working tree, or a commit
deb:
	util/build-deb.sh $(DEB_REF)

clean:
	rm -rf $(BUILD_ABS) t/servroot*
