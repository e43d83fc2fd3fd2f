# ngx_http_scim_module
#
#   make          build build/ngx_http_scim_module.so against the installed
#                 Debian nginx (nginx-dev), as Debian builds its modules
#   make test     install what is missing, build, run every test (prove),
#                 then make test-cluster's files on a Redis Cluster
#   make test-cluster  the credentials, user, group, filter and
#                 concurrency files on a local Redis Cluster
#                 (SCIM_TEST_REDIS=cluster: 3 primaries + 3 replicas,
#                 t/lib/ScimCluster.pm); t/57-cluster.t and
#                 t/62-cluster-chaos.t run on one always
#   make run      install what is missing, build, start redis-server and
#                 nginx with conf-examples/quickstart.conf on 127.0.0.1:8080
#   make unit     build the C unit tests of the SCIM core
#   make test-asan  the same tests with the module and the unit tests built
#                 with AddressSanitizer + UndefinedBehaviorSanitizer, nginx
#                 run with the sanitizer runtime preloaded (build/asan/)
#   make bench    wrk benchmark against a live server (bench/run)
#   make fuzz     libFuzzer targets of the core (clang)
#   make replay   the fuzz corpus replay tests (plain cc; part of `make test`)
#   make generate rewrite the generated C (the built-in schemas from
#                 ngx_http_scim_module/core/schemas/*.json); make test checks
#                 that it is up to date
#   make lua      embed ngx_http_scim_module/store/lua/*.lua into C
#   make deb      the Debian package libnginx-mod-http-scim (debian/) into
#                 build/deb/, built as Debian builds its nginx modules
#   make NGX_SRC=<nginx source tree>  the module for another nginx (an
#                 nginx.org tarball, a git checkout, another distribution's
#                 sources) into build/nginx-<version>/; `make NGX_SRC=...
#                 nginx` builds that nginx too, `make NGX_SRC=... test`
#                 runs the suite on the pair

SHELL       := /bin/bash
TOP         := $(CURDIR)
# the nginx sources of the installed Debian nginx (nginx-dev): their
# conf_flags are the configure flags of /usr/sbin/nginx
NGX_DEB_SRC := /usr/share/nginx/src
NGX_SRC     ?= $(NGX_DEB_SRC)
# NGX_SRC when it is another nginx's tree (empty for Debian's)
NGX_OTHER   := $(filter-out $(NGX_DEB_SRC) $(NGX_DEB_SRC)/,$(NGX_SRC))
ifeq ($(NGX_OTHER),)
BUILD       := $(TOP)/build
else
# another nginx: a build tree of its own, named after its version
NGX_VERSION := $(shell sed -n 's/^\#define NGINX_VERSION *"\(.*\)"/\1/p' \
                   $(NGX_SRC)/src/core/nginx.h 2>/dev/null)
BUILD       := $(TOP)/build/nginx-$(or $(NGX_VERSION),unknown)
endif
# Configure flags for a tree without Debian's conf_flags.  A dynamic
# module loads only into an nginx of the same version whose binary was
# configured with the same "signature" flags; --with-compat makes the
# signature the same for every set of modules, on both sides.  The module
# needs threads (its password hashes run in a thread pool).
NGX_FLAGS   ?= --with-compat --with-threads --with-http_ssl_module \
               --with-http_v2_module --with-http_realip_module \
               --with-http_stub_status_module
NGX_COPY    := $(BUILD)/nginx-src
MODULE_SO   := $(BUILD)/ngx_http_scim_module.so

SRC_DIR     := ngx_http_scim_module
CORE_DIR    := $(SRC_DIR)/core
ALL_SRCS    := $(shell find $(SRC_DIR) -name '*.[ch]' | sort)
CORE_SRCS   := $(wildcard $(CORE_DIR)/*.c)
CORE_HDRS   := $(wildcard $(CORE_DIR)/*.h)
UNIT_SRCS   := $(wildcard t/unit/test_*.c)
UNIT_BINS   := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
TESTS       ?= t/*.t t/lua/*.t       # make test TESTS=t/35-passwords.t
# run again with SCIM_TEST_REDIS=cluster by make test (CLUSTER_TESTS= : none)
CLUSTER_TESTS ?= t/2[457]-*.t t/30-*.t t/31-*.t t/32-*.t t/33-*.t t/3[89]-*.t \
                 t/51-*.t t/65-*.t \
                 t/7[0-4]-*.t

CC          ?= cc
# a sanitizer build (make test-asan sets these): compiler flags for the
# module and the unit tests, link flags of each, the compiler of nginx's
# configure
SAN_CFLAGS  ?=
SAN_LDFLAGS ?=
NGX_LD_OPT  ?=
NGX_CC      ?=
UNIT_CFLAGS := -std=gnu99 -g -O1 -Wall -Wextra -Werror -I$(CORE_DIR) -It/unit \
               $(SAN_CFLAGS)
UNIT_LIBS   := -ljansson -lm

# every fuzz target's corpus (t/fuzz-corpus/NAME) replayed without
# libFuzzer: t/fuzz/replay.c + t/fuzz/fuzz_NAME.c, a TAP test per target
FUZZ_SRCS   := $(wildcard t/fuzz/fuzz_*.c)
REPLAY_BINS := $(patsubst t/fuzz/fuzz_%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRCS))

# Debian packages the build, the tests and `make run` need.
DEB_PKGS    := nginx nginx-dev libjansson-dev libhiredis-dev libssl-dev \
               libargon2-dev \
               redis-server redis-tools gcc make perl openssl wrk

# -Wextra on our sources; nginx's own cflags stay as Debian has them.
NGX_CC_OPT  := -g -O2 -Wextra -Wno-unused-parameter \
               -Wno-missing-field-initializers -Wno-sign-compare \
               -fstack-protector-strong -Wformat -Werror=format-security \
               -fPIC -D_FORTIFY_SOURCE=2 $(SAN_CFLAGS)

# make test-asan: clang (its UBSan sees memcpy from NULL, gcc's does not
# here), its own build tree, nginx started through a wrapper that preloads
# the ASan runtime (the stock nginx is not instrumented)
ASAN_BUILD  := $(TOP)/build/asan
ASAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -O1 -U_FORTIFY_SOURCE \
               -fsanitize-ignorelist=$(TOP)/t/asan.ignorelist
ASAN_PKGS   := clang libclang-rt-14-dev
ASAN_NGINX  := $(ASAN_BUILD)/nginx
ASAN_RT      = $(shell clang -print-file-name=libclang_rt.asan-x86_64.so)

.PHONY: all build deb nginx deps test test-cluster test-asan asan-run unit replay run bench fuzz clean \
        distclean check-layers generate check-generated lua

PORT ?= 8080

all: build

# one build at a time in this tree: two at once would race on the copy
# of the nginx sources
build:
	@mkdir -p $(BUILD)
	@flock $(BUILD)/.lock $(MAKE) --no-print-directory $(MODULE_SO)

# Install whatever Debian package is missing: apt-get update once, then
# install only the missing ones.
deps:
	@missing=""; \
	for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	        --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# nginx's configure lists our sources, so it reruns when the set of files,
# the addon script or the compiler flags change.
$(BUILD)/srcs.list: FORCE
	@mkdir -p $(BUILD)
	@{ find $(SRC_DIR) -name '*.[ch]'; echo config; } | sort > $@.tmp
	@echo '$(NGX_CC) $(NGX_CC_OPT) $(NGX_LD_OPT) $(CC) $(SAN_LDFLAGS)' >> $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(NGX_COPY)/objs/Makefile: $(BUILD)/srcs.list config
	@test -d $(NGX_SRC) || { if [ -z "$(NGX_OTHER)" ]; \
	    then echo "nginx-dev is missing: run 'make deps'"; \
	    else echo "NGX_SRC=$(NGX_SRC): no such directory"; fi; exit 1; }
	@test -f $(NGX_SRC)/src/core/nginx.h || { \
	    echo "NGX_SRC=$(NGX_SRC) is not an nginx source tree"; exit 1; }
	rm -rf $(NGX_COPY)
	cp -a $(NGX_SRC) $(NGX_COPY)
	@# Debian's tree: the flags of its binary (conf_flags); any other:
	@# NGX_FLAGS. A release tarball has ./configure, a git checkout
	@# auto/configure.
	if [ -f $(NGX_COPY)/conf_flags ]; then . $(NGX_COPY)/conf_flags; \
	else NGX_CONF_FLAGS=($(NGX_FLAGS)); fi && \
	cd $(NGX_COPY) && conf=./configure && \
	{ [ -f $$conf ] || conf=auto/configure; } && \
	    $$conf "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(NGX_CC_OPT)" \
	        $(if $(NGX_CC),--with-cc=$(NGX_CC)) \
	        $(if $(NGX_LD_OPT),--with-ld-opt="$(NGX_LD_OPT)") \
	        --add-dynamic-module=$(TOP) > $(BUILD)/configure.log 2>&1 \
	    || { tail -30 $(BUILD)/configure.log; exit 1; }

$(MODULE_SO): $(NGX_COPY)/objs/Makefile $(ALL_SRCS)
	$(MAKE) -s -C $(NGX_COPY) -f objs/Makefile modules
	@# a new inode: a running nginx keeps the module it has mapped
	cp $(NGX_COPY)/objs/ngx_http_scim_module.so $@.tmp && mv -f $@.tmp $@
	$(if $(NGX_OTHER),@echo "built $@ for \
	    nginx $(NGX_VERSION); it loads only into an nginx $(NGX_VERSION) \
	    built --with-compat (make NGX_SRC=$(NGX_SRC) nginx builds one)")

# NGX_SRC's nginx itself, configured as the module was: $(BUILD)/nginx
# (for the tests: make NGX_SRC=... test runs them on this pair)
NGX_BIN     := $(BUILD)/nginx

nginx:
	@test -n "$(NGX_OTHER)" || { echo "make nginx: for \
	    NGX_SRC=<another nginx>; Debian's nginx is /usr/sbin/nginx"; exit 1; }
	@mkdir -p $(BUILD)
	@flock $(BUILD)/.lock $(MAKE) --no-print-directory $(MODULE_SO) $(NGX_BIN)

$(NGX_BIN): $(NGX_COPY)/objs/Makefile
	$(MAKE) -s -C $(NGX_COPY) -f objs/Makefile binary
	cp $(NGX_COPY)/objs/nginx $@.tmp && mv -f $@.tmp $@

$(BUILD)/unit/%: t/unit/%.c $(CORE_SRCS) $(CORE_HDRS) t/unit/tap.h \
                 $(BUILD)/srcs.list
	@mkdir -p $(BUILD)/unit
	@echo "  CC  $<"
	@$(CC) $(UNIT_CFLAGS) -o $@ $< $(CORE_SRCS) $(UNIT_LIBS) $(SAN_LDFLAGS)

unit: $(UNIT_BINS)

# store/lua/*.lua -> store/ngx_scim_lua.[ch] (committed; t/lua/00-generated.t
# fails when they are stale)
lua:
	perl $(SRC_DIR)/store/lua/gen.pl

$(BUILD)/fuzz-replay/%: t/fuzz/fuzz_%.c t/fuzz/replay.c t/fuzz/fuzz.h \
                        $(CORE_SRCS) $(CORE_HDRS) $(BUILD)/srcs.list
	@mkdir -p $(BUILD)/fuzz-replay
	@echo "  CC  $< (corpus replay)"
	@$(CC) $(UNIT_CFLAGS) -It/fuzz -DFUZZ_CORPUS='"t/fuzz-corpus/$*"' \
	    -o $@ t/fuzz/replay.c $< $(CORE_SRCS) $(UNIT_LIBS) $(SAN_LDFLAGS)

replay: $(REPLAY_BINS)

# what each layer may include (t/check-layers: one rule a line)
check-layers:
	@perl t/check-layers $(SRC_DIR)

# Generated C, committed so that a plain nginx build needs no step of its
# own: one "output:generator" a line, the generator (Perl) printing the
# output.  `make generate` rewrites them; check-generated (part of make
# test) fails when one differs from what its generator prints.
GENERATED   := $(CORE_DIR)/scim_schemas_gen.c:$(CORE_DIR)/schemas/gen.pl

generate: lua
	@for g in $(GENERATED); do \
	    out=$${g%%:*}; gen=$${g#*:}; \
	    perl $$gen > $$out.tmp && mv $$out.tmp $$out || exit 1; \
	    echo "  GEN $$out"; \
	done

check-generated:
	@mkdir -p $(BUILD); rc=0; for g in $(GENERATED); do \
	    out=$${g%%:*}; gen=$${g#*:}; \
	    perl $$gen > $(BUILD)/.gen.tmp || exit 1; \
	    cmp -s $(BUILD)/.gen.tmp $$out \
	        || { echo "$$out is stale: run make generate"; rc=1; }; \
	done; rm -f $(BUILD)/.gen.tmp; exit $$rc

# make NGX_SRC=... test: the suite on that nginx and the module built
# for it (t/91-make-run.t and t/92-deb.t stay on Debian's nginx)
ifneq ($(NGX_OTHER),)
export SCIM_NGINX  ?= $(NGX_BIN)
export SCIM_MODULE ?= $(MODULE_SO)
endif

test: deps check-layers check-generated
	$(MAKE) build unit replay $(if $(NGX_OTHER),nginx)
	prove -j2 -f $(TESTS) $(UNIT_BINS) $(REPLAY_BINS)
	$(if $(strip $(CLUSTER_TESTS)),SCIM_TEST_REDIS=cluster prove -j2 -f \
	    $(CLUSTER_TESTS))

test-cluster: deps
	$(MAKE) build
	SCIM_TEST_REDIS=cluster prove -j2 -f $(CLUSTER_TESTS) t/57-*.t t/62-*.t

# The integration tests read SCIM_NGINX and SCIM_MODULE; a sanitizer
# report, a "runtime error:" or a worker killed by a signal in error.log
# fails the test file (t/lib/ScimTest.pm).  Leak checks stay on for the
# unit tests and off for nginx, which leaves its pools to the exit.
test-asan: deps check-layers check-generated
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(ASAN_PKGS)"
	@$(MAKE) --no-print-directory asan-run

# (a make of its own: clang's runtime path is known once clang is there)
asan-run:
	$(MAKE) build unit replay BUILD=$(ASAN_BUILD) CC=clang NGX_CC=clang \
	    SAN_CFLAGS="$(ASAN_FLAGS)" SAN_LDFLAGS="-fsanitize=address,undefined" \
	    NGX_LD_OPT="-fsanitize=address,undefined -shared-libasan \
	                -Wl,-rpath,$(dir $(ASAN_RT))"
	@printf '%s\n' '#!/bin/sh' \
	    '# nginx with the ASan runtime first in its library list' \
	    'export LD_PRELOAD="$(ASAN_RT)"' \
	    'export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}"' \
	    'export UBSAN_OPTIONS="print_stacktrace=1"' \
	    'exec $${SCIM_REAL_NGINX:-/usr/sbin/nginx} "$$@"' > $(ASAN_NGINX)
	@chmod +x $(ASAN_NGINX)
	SCIM_NGINX=$(ASAN_NGINX) \
	SCIM_MODULE=$(ASAN_BUILD)/ngx_http_scim_module.so \
	SCIM_TEST_TIMEOUT=900 UBSAN_OPTIONS=print_stacktrace=1 \
	    prove -j2 -f $(TESTS) \
	        $(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_BINS) $(REPLAY_BINS))
	$(if $(strip $(CLUSTER_TESTS)),SCIM_NGINX=$(ASAN_NGINX) \
	SCIM_MODULE=$(ASAN_BUILD)/ngx_http_scim_module.so \
	SCIM_TEST_TIMEOUT=900 UBSAN_OPTIONS=print_stacktrace=1 \
	SCIM_TEST_REDIS=cluster prove -j2 -f $(CLUSTER_TESTS))

# The Debian package, built the way Debian builds its nginx modules:
# debian/rules is `dh $@ --with nginx`, nginx-dev's nginx_mod build system
# configures with /usr/share/nginx/src and its conf_flags, dh_nginx adds
# Depends: nginx-abi-<the nginx it was built for>, the modules-available
# snippet and the scripts that enable it.  The version is debian/changelog's
# plus "+nginx<ABI>" (a rebuild for a newer nginx upgrades the package).
# Built in a copy of the sources under build/deb/src (the work tree stays
# clean); the .deb files land in build/deb/.  Rebuilt when a source,
# debian/ or the installed nginx-dev changed.
DEB_OUT     := $(TOP)/build/deb
DEB_NAME    := libnginx-mod-http-scim
DEB_ABI     := $(NGX_DEB_SRC)/debian/libnginx-mod.abisubstvars
DEB_BUILD_PKGS := nginx nginx-dev debhelper dpkg-dev fakeroot gcc make \
               libjansson-dev libhiredis-dev libssl-dev libargon2-dev
DEB_INPUTS  = $(ALL_SRCS) config $(shell find debian -type f 2>/dev/null)

deb:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(DEB_BUILD_PKGS)"
	@mkdir -p $(DEB_OUT)
	@flock $(DEB_OUT)/.lock $(MAKE) -s --no-print-directory NGX_SRC= \
	    $(DEB_OUT)/.stamp
	@ls $(DEB_OUT)/$(DEB_NAME)_*.deb

$(DEB_OUT)/.stamp: $(DEB_INPUTS) $(DEB_ABI)
	@abi=$$(sed -n 's/^nginx:abi=nginx-abi-//p' $(DEB_ABI)); \
	test -n "$$abi" || { echo "no nginx:abi in $(DEB_ABI)"; exit 1; }; \
	base=$$(dpkg-parsechangelog -l debian/changelog -S Version) && \
	ver="$$base+nginx$${abi//-/.}" && \
	src=$(DEB_OUT)/src/$(DEB_NAME)-$$ver && \
	rm -rf $(DEB_OUT)/src $(DEB_OUT)/*.deb $(DEB_OUT)/*.buildinfo \
	       $(DEB_OUT)/*.changes $(DEB_OUT)/build.log $@ && \
	mkdir -p $$src && \
	cp -a config debian $(SRC_DIR) $$src/ && \
	{ printf '%s (%s) unstable; urgency=medium\n\n' $(DEB_NAME) "$$ver"; \
	  printf '  * Built for nginx-abi-%s (make deb).\n\n' "$$abi"; \
	  printf ' -- %s  %s\n\n' \
	    "$$(dpkg-parsechangelog -l debian/changelog -S Maintainer)" \
	    "$$(dpkg-parsechangelog -l debian/changelog -S Date)"; \
	  cat debian/changelog; } > $$src/debian/changelog && \
	echo "  DEB $(DEB_NAME) $$ver (log: $(DEB_OUT)/build.log)" && \
	( cd $$src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	      dpkg-buildpackage -b -us -uc -j2 ) \
	    > $(DEB_OUT)/build.log 2>&1 \
	    || { tail -40 $(DEB_OUT)/build.log; exit 1; }; \
	mv $(DEB_OUT)/src/*.deb $(DEB_OUT)/src/*.buildinfo \
	   $(DEB_OUT)/src/*.changes $(DEB_OUT)/ && \
	rm -rf $(DEB_OUT)/src && touch $@

run: deps
	$(MAKE) build
	PORT=$(PORT) bash conf-examples/quickstart.sh

bench: deps
	$(MAKE) build
	bash bench/run

fuzz:
	$(MAKE) -C t/fuzz

clean:
	rm -rf $(BUILD)

FORCE:
