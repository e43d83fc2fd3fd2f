# ngx_http_scim_module
#
#   make          build build/ngx_http_scim_module.so against the installed
#                 Debian nginx (nginx-dev), as Debian builds its modules
#   make test     install what is missing, build, run every test (prove)
#   make run      install what is missing, build, start redis-server and
#                 nginx with conf-examples/quickstart.conf on 127.0.0.1:8080
#   make unit     build the C unit tests of the SCIM core
#   make bench    wrk benchmark against a live server (bench/run)
#   make fuzz     libFuzzer targets of the core (clang)
#   make replay   the fuzz corpus replay tests (plain cc; part of `make test`)

SHELL       := /bin/bash
TOP         := $(CURDIR)
BUILD       := $(TOP)/build
NGX_SRC     := /usr/share/nginx/src
NGX_COPY    := $(BUILD)/nginx-src
MODULE_SO   := $(BUILD)/ngx_http_scim_module.so

SRC_DIR     := ngx_http_scim_module
ALL_SRCS    := $(wildcard $(SRC_DIR)/*.c) $(wildcard $(SRC_DIR)/*.h)
CORE_SRCS   := $(wildcard $(SRC_DIR)/scim_*.c)
CORE_HDRS   := $(wildcard $(SRC_DIR)/scim_*.h)
UNIT_SRCS   := $(wildcard t/unit/test_*.c)
UNIT_BINS   := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))

CC          ?= cc
UNIT_CFLAGS := -std=gnu99 -g -O1 -Wall -Wextra -Werror -I$(SRC_DIR) -It/unit
UNIT_LIBS   := -ljansson -lm

# every fuzz target's corpus (t/fuzz-corpus/NAME) replayed without
# libFuzzer: t/fuzz/replay.c + t/fuzz/fuzz_NAME.c, a TAP test per target
FUZZ_SRCS   := $(wildcard t/fuzz/fuzz_*.c)
REPLAY_BINS := $(patsubst t/fuzz/fuzz_%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRCS))

# Debian packages the build, the tests and `make run` need.
DEB_PKGS    := nginx nginx-dev libjansson-dev libhiredis-dev libssl-dev \
               redis-server redis-tools gcc make perl openssl wrk

# -Wextra on our sources; nginx's own cflags stay as Debian has them.
NGX_CC_OPT  := -g -O2 -Wextra -Wno-unused-parameter \
               -Wno-missing-field-initializers -Wno-sign-compare \
               -fstack-protector-strong -Wformat -Werror=format-security \
               -fPIC -D_FORTIFY_SOURCE=2

.PHONY: all build deps test unit replay run bench fuzz clean distclean

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

# nginx's configure lists our sources, so it reruns when the set of files
# or the addon script changes.
$(BUILD)/srcs.list: FORCE
	@mkdir -p $(BUILD)
	@ls $(SRC_DIR)/*.c $(SRC_DIR)/*.h config | sort > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(NGX_COPY)/objs/Makefile: $(BUILD)/srcs.list config
	@test -d $(NGX_SRC) || { echo "nginx-dev is missing: run 'make deps'"; \
	                         exit 1; }
	rm -rf $(NGX_COPY)
	cp -a $(NGX_SRC) $(NGX_COPY)
	. $(NGX_COPY)/conf_flags && cd $(NGX_COPY) && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(NGX_CC_OPT)" \
	        --add-dynamic-module=$(TOP) > $(BUILD)/configure.log 2>&1 \
	    || { tail -30 $(BUILD)/configure.log; exit 1; }

$(MODULE_SO): $(NGX_COPY)/objs/Makefile $(ALL_SRCS)
	$(MAKE) -s -C $(NGX_COPY) -f objs/Makefile modules
	@# a new inode: a running nginx keeps the module it has mapped
	cp $(NGX_COPY)/objs/ngx_http_scim_module.so $@.tmp && mv -f $@.tmp $@

$(BUILD)/unit/%: t/unit/%.c $(CORE_SRCS) $(CORE_HDRS) t/unit/tap.h
	@mkdir -p $(BUILD)/unit
	@echo "  CC  $<"
	@$(CC) $(UNIT_CFLAGS) -o $@ $< $(CORE_SRCS) $(UNIT_LIBS)

unit: $(UNIT_BINS)

$(BUILD)/fuzz-replay/%: t/fuzz/fuzz_%.c t/fuzz/replay.c t/fuzz/fuzz.h \
                        $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(BUILD)/fuzz-replay
	@echo "  CC  $< (corpus replay)"
	@$(CC) $(UNIT_CFLAGS) -It/fuzz -DFUZZ_CORPUS='"t/fuzz-corpus/$*"' \
	    -o $@ t/fuzz/replay.c $< $(CORE_SRCS) $(UNIT_LIBS)

replay: $(REPLAY_BINS)

test: deps
	$(MAKE) build unit replay
	prove -j2 -f t/*.t $(UNIT_BINS) $(REPLAY_BINS)

run: deps
	$(MAKE) build
	bash conf-examples/quickstart.sh

bench: deps
	$(MAKE) build
	bash bench/run

fuzz:
	$(MAKE) -C t/fuzz

clean:
	rm -rf $(BUILD)

FORCE:
