# connreq: connreqd (the daemon), connreq (the client) and libconnreq.
#
#   make run     install what is missing, build, start the daemon
#   make check   install what is missing, build, run the whole suite twice:
#                as built, and under AddressSanitizer + UBSan
#   make deps    install the Debian packages that are missing
#   make crashtest  CYCLES (1000) kill -9 cycles of connreqd under four
#                writers, each checked (tests/crash/crashtest.py), then
#                make powerloss: the power-loss and I/O-fault long forms
#   make bench   connreqd against Redis and PostgreSQL on this machine
#                (tests/bench/; BENCH_SECONDS, BENCH_REPS, BENCH_CASES),
#                and issue 10's targets; not part of make check. make all
#                builds its generator. make bench-big: the 10M-store case
#                (BENCH_BIG_N, BENCH_BIG_DIR). make bench-capacity: issue
#                11's capacity model on LMDB and PostgreSQL (BENCH_CAP_N)
#   make fuzz    libFuzzer on the decoder and the dispatch (clang),
#                FUZZ_SECONDS (300) each; see docs/reliability.md

BUILD   ?= build
SAN     ?=
CC      ?= cc
OBJCOPY ?= objcopy
PREFIX  ?= /usr/local

# libsystemd: socket activation and sd_notify (daemon/systemd.c); the
# systemd package: systemd-analyze and systemd-socket-activate for the tests.
# libpq: the PostgreSQL store backend (daemon/store-pg.c); postgresql: the
# PostgreSQL 15 cluster its tests start (tests/pgcluster.h).
PKGS      = libevent msgpack lmdb inih libsystemd libpq
# What building connreqd and connreq needs (make run installs only these);
# DEB_PKGS adds what the tests need (make deps, make check).
BUILD_DEB_PKGS = gcc make pkg-config libevent-dev libmsgpack-dev \
            liblmdb-dev libinih-dev libsystemd-dev libpq-dev scdoc
DEB_PKGS  = $(BUILD_DEB_PKGS) perl systemd postgresql
# scdoc: the man pages (make man); man-db: tests/manpages.sh renders them with
# man -l; python3-msgpack: the interop test, tests/interop/, which speaks the
# protocol from docs/protocol.md with no code of ours.
DEB_PKGS += man-db python3-msgpack
# nodejs, npm: the Node package client/node/ and its tests
# (tests/node_client.sh, node's own test runner); npm ci installs its one
# dependency, @msgpack/msgpack, from client/node/package-lock.json.
# Installed when the commands are missing, not by package name: a nodejs
# from NodeSource carries its own npm and conflicts with Debian's.
NODE_PKGS = nodejs npm
# The Python package (client/python; tests/pyclient.sh pip-installs it into a
# venv and runs its pytest suite): no package index, Debian's packages only.
DEB_PKGS += python3-pytest python3-venv python3-pip python3-setuptools
# curl: tests/test_metrics.c scrapes the [metrics] listener as Prometheus
# would, with a client that is not ours.
DEB_PKGS += curl
# zsh, fish: tests/completion_files.sh checks the zsh and fish completions
# (client/_connreq, client/connreq.fish) with the shells themselves.
DEB_PKGS += zsh fish
# The Python the tests use: Debian's, which has those packages (a python3
# earlier on PATH, such as a pyenv build, may not).
PYTHON  ?= /usr/bin/python3

WARN    = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes \
          -Wstrict-prototypes -Wpointer-arith -Wvla
CFLAGS  ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
          -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP

COMMON_SRC = common/util.c common/crc32c.c proto/proto.c proto/vocab.c
DAEMON_LIB_SRC = daemon/rules.c daemon/config.c daemon/store.c daemon/store-lmdb.c daemon/store-pg.c daemon/wal.c \
                 daemon/events.c daemon/clock.c daemon/inv.c daemon/remind.c daemon/member.c \
                 daemon/invite.c daemon/intro.c daemon/plan.c daemon/import.c daemon/erase.c \
                 daemon/timers.c daemon/retry.c daemon/metrics.c daemon/check.c daemon/copy.c daemon/methods.c daemon/server.c \
                 daemon/systemd.c daemon/exec.c
DAEMON_SRC = daemon/main.c
CLIENT_LIB_SRC = client/libconnreq.c client/json.c
CLIENT_SRC = client/cli.c client/cli-out.c client/cmd-info.c \
             client/cmd-invitations.c client/cmd-members.c client/cmd-plans.c client/cmd-import.c \
             client/cmd-intros.c \
             client/cmd-watch.c
TEST_SRC = $(wildcard tests/test_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

BIN_DAEMON = $(BUILD)/bin/connreqd
BIN_CLIENT = $(BUILD)/bin/connreq
LIB_CLIENT = $(BUILD)/lib/libconnreq.a
LIB_CLIENT_OBJ = $(BUILD)/obj/libconnreq.o
LIB_CORE   = $(BUILD)/lib/libconnreqd-core.a
TESTS      = $(patsubst tests/%.c,$(BUILD)/tests/%.t,$(TEST_SRC))
# The I/O shim of the power-loss and fault tests (tests/faults/iofault.c),
# preloaded into connreqd. Built without the sanitizers in both builds: it
# must load into any process, and ASan's interceptors stay next in line.
LIB_IOFAULT = $(BUILD)/lib/libiofault.so
# A shim that moves time() (tests/faults/skew.c), for test_pg_dues's
# daemon on a machine whose clock is off; built like LIB_IOFAULT.
LIB_SKEW = $(BUILD)/lib/libskew.so
# A shim that makes listen() wait (tests/faults/slowlisten.c), for
# test_e2e's socket that appears only once it listens; built likewise.
LIB_SLOWLISTEN = $(BUILD)/lib/libslowlisten.so
# A shim that holds writes to *.tmp while a gate file exists
# (tests/faults/holdwrite.c), for test_backup's backup kept under way;
# built likewise.
LIB_HOLDWRITE = $(BUILD)/lib/libholdwrite.so

# The fuzz harnesses (tests/fuzz/fuzz_NAME.c) replay their committed
# corpus (tests/fuzz/corpus/NAME/) as tests: fuzz_replay_NAME.t.
FUZZ_NAMES = decode dispatch
TESTS     += $(patsubst %,$(BUILD)/tests/fuzz_replay_%.t,$(FUZZ_NAMES))

.PHONY: all deps deps-build run check test clean man crashtest powerloss fuzz fuzz-deps node-deps \
        bench bench-deps bench-big bench-capacity
.SECONDARY:
# The bench's load generator is built by all (so make check's builds keep
# it compiling, both plain and under the sanitizers); make bench runs it.
BIN_BENCH = $(BUILD)/tests/bench/bench
# mkstore: the stores of the bench's big-store and expire-1m cases, built
# through the daemon's domain code in-process (tests/bench/mkstore.c).
BIN_MKSTORE = $(BUILD)/tests/bench/mkstore
all: $(BIN_DAEMON) $(BIN_CLIENT) $(LIB_CLIENT) $(BIN_BENCH) $(BIN_MKSTORE)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_CORE): $(call obj,$(COMMON_SRC) $(DAEMON_LIB_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# libconnreq.a holds one object: the library's sources and the common code
# they use, linked together, with every symbol but the cr_* API made local.
# A program that has its own log_info() or fatal() links with it. connreq
# links the common objects itself; the tests get them from libconnreqd-core.a.
$(LIB_CLIENT_OBJ): $(call obj,$(CLIENT_LIB_SRC) $(COMMON_SRC))
	$(LD) -r -o $@.tmp $^
	$(OBJCOPY) -w --keep-global-symbol='cr_*' $@.tmp $@
	rm -f $@.tmp

$(LIB_CLIENT): $(LIB_CLIENT_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $<

$(BIN_DAEMON): $(call obj,$(DAEMON_SRC)) $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN_CLIENT): $(call obj,$(CLIENT_SRC) $(COMMON_SRC)) $(LIB_CLIENT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Unit tests link the daemon's core; end-to-end tests link the client
# library and start the daemon binary.
$(BUILD)/tests/%.t: $(BUILD)/obj/tests/%.o $(LIB_CORE) $(LIB_CLIENT)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_CORE) $(LIB_CLIENT) $(PKG_LIBS)

$(BIN_BENCH): $(BUILD)/obj/tests/bench/bench.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN_MKSTORE): $(BUILD)/obj/tests/bench/mkstore.o $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(LIB_IOFAULT): tests/faults/iofault.c tests/faults/journal.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl -lpthread

$(LIB_SKEW): tests/faults/skew.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $<

$(BUILD)/tests/test_pg_dues.t: | $(LIB_SKEW)

$(LIB_SLOWLISTEN): tests/faults/slowlisten.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

$(BUILD)/tests/test_e2e.t: | $(LIB_SLOWLISTEN)

$(LIB_HOLDWRITE): tests/faults/holdwrite.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -fPIC -shared -o $@ $< -ldl

$(BUILD)/tests/test_backup.t: | $(LIB_HOLDWRITE)

# pgserve: a PostgreSQL cluster of a shell or Python test's own, for the
# tests run against connreqd --postgres (CONNREQ_PG=1; tests/pgserve.c).
BIN_PGSERVE = $(BUILD)/tests/pgserve
$(BIN_PGSERVE): $(BUILD)/obj/tests/pgserve.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(patsubst %,$(BUILD)/obj/tests/fuzz/replay_%.o,$(FUZZ_NAMES)): \
    $(BUILD)/obj/tests/fuzz/replay_%.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DFUZZ_NAME='"$*"' -c -o $@ $<

$(BUILD)/tests/fuzz_replay_%.t: $(BUILD)/obj/tests/fuzz/fuzz_%.o \
    $(BUILD)/obj/tests/fuzz/replay_%.o $(LIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# Man pages, from the scdoc sources in docs/ (`all` does not need scdoc).
# connreq(1) takes each command's usage line and help paragraph from the
# connreq just built (docs/man-commands.sh), so the two cannot differ.
# scdoc's .nh comes before .TH, which turns hyphenation back on: it is said
# again after .TH, so that names such as ALREADY_PENDING never break.
MAN_OUT  = $(patsubst docs/%.scd,$(BUILD)/man/%,$(wildcard docs/*.[1-8].scd))
MAN_DATE = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),$(shell date +%s))
define scdoc_to_man
SOURCE_DATE_EPOCH=$(MAN_DATE) scdoc <$(1) >$@.roff
awk '{ print } /^\.TH / { print ".nh" }' $@.roff >$@.tmp
rm -f $@.roff
mv $@.tmp $@
endef

man: $(MAN_OUT)

$(BUILD)/man/connreq.1: docs/connreq.1.scd docs/man-commands.sh $(BIN_CLIENT)
	@mkdir -p $(dir $@)
	sh docs/man-commands.sh $(BIN_CLIENT) $< >$@.scd
	$(call scdoc_to_man,$@.scd)
	rm -f $@.scd

$(BUILD)/man/%: docs/%.scd
	@mkdir -p $(dir $@)
	$(call scdoc_to_man,$<)

# Installs the Debian packages of $(1) that are missing (through sudo when
# not root); with $(2) = node, nodejs and npm too when the commands are.
define deb_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" \
	    || missing="$$missing $$p"; \
	done; \
	if [ "$(2)" = node ]; then \
	  command -v node >/dev/null && command -v npm >/dev/null \
	    || missing="$$missing $(NODE_PKGS)"; \
	fi; \
	if [ -n "$$missing" ]; then \
	  echo "make $@: installing$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call deb_install,$(DEB_PKGS),node)

deps-build:
	$(call deb_install,$(BUILD_DEB_PKGS))

# make fuzz [FUZZ_SECONDS=300] [FUZZ_JOBS=1]: each harness under libFuzzer
# with ASan and UBSan for FUZZ_SECONDS, on a copy of its committed corpus
# (build/fuzz/corpus/NAME; what it finds stays there: merge the interesting
# inputs back with -merge=1, see docs/reliability.md). Crashes are written
# to build/fuzz/crashes/NAME/; the final stats (executions, cov, ft) are
# printed at the end and kept in build/fuzz/NAME.log. clang and its
# libFuzzer runtime (libclang-rt-N-dev, N: clang's major version) are
# installed when missing.
FUZZ_SECONDS ?= 300
FUZZ_JOBS    ?= 1
FUZZ_CC      ?= clang
FUZZ_BUILD    = build/fuzz
# clang's -Wformat=2 also flags the va_list logging in common/util.c.
FUZZ_CFLAGS   = -std=c11 -D_GNU_SOURCE $(WARN) -Wno-format-nonliteral -O1 -g -fno-omit-frame-pointer \
                -fsanitize=fuzzer-no-link,address,undefined \
                -fno-sanitize-recover=undefined $(PKG_CFLAGS) -MMD -MP
FUZZ_LIB_SRC  = $(COMMON_SRC) $(DAEMON_LIB_SRC)
FUZZ_BINS     = $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))

fuzz-deps:
	@missing=""; \
	dpkg-query -W -f='$${Status}' clang 2>/dev/null | grep -q "ok installed" \
	    || missing=clang; \
	if [ -n "$$missing" ]; then \
	  echo "make fuzz: installing clang"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq clang \
	    || exit 1; \
	fi; \
	v=$$($(FUZZ_CC) -dumpversion | cut -d. -f1); rt=libclang-rt-$$v-dev; \
	dpkg-query -W -f='$${Status}' $$rt 2>/dev/null | grep -q "ok installed" \
	  || { echo "make fuzz: installing $$rt"; \
	       SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	       $$SUDO apt-get update -qq && \
	       DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$rt; }

$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o \
    $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_LIB_SRC))
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

fuzz: fuzz-deps
	$(MAKE) $(FUZZ_BINS)
	@for n in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/crashes/$$n; \
	  cp -n tests/fuzz/corpus/$$n/* $(FUZZ_BUILD)/corpus/$$n/; \
	  echo "make fuzz: $$n for $(FUZZ_SECONDS) s (log: $(FUZZ_BUILD)/$$n.log)"; \
	  ASAN_OPTIONS=detect_leaks=1:$(ASAN_OPTIONS) \
	  $(FUZZ_BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -max_len=70000 -timeout=30 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$n/ \
	    $(if $(filter-out 1,$(FUZZ_JOBS)),-fork=$(FUZZ_JOBS)) \
	    $(FUZZ_BUILD)/corpus/$$n >$(FUZZ_BUILD)/$$n.log 2>&1; \
	  echo "$$n: exit $$?" >>$(FUZZ_BUILD)/$$n.log; \
	done; \
	fail=0; for n in $(FUZZ_NAMES); do \
	  echo "== $$n"; \
	  grep -E '^#[0-9]+.*(INITED|DONE)|^stat::' $(FUZZ_BUILD)/$$n.log; \
	  if ls $(FUZZ_BUILD)/crashes/$$n/* >/dev/null 2>&1; then \
	    echo "$$n: CRASHES in $(FUZZ_BUILD)/crashes/$$n/"; fail=1; \
	  fi; \
	  grep -q "^$$n: exit 0" $(FUZZ_BUILD)/$$n.log || fail=1; \
	done; exit $$fail

# The Node package's dependencies, in client/node/node_modules (npm ci: as
# the lock file says; from npm's cache when it has them). Again only when
# package.json or the lock file changes.
NODE_DEPS = client/node/node_modules/.package-lock.json
$(NODE_DEPS): client/node/package.json client/node/package-lock.json
	cd client/node && npm ci --prefer-offline --no-audit --no-fund
	touch $@
node-deps: $(NODE_DEPS)

# ASan's quarantine keeps freed memory for a while; kept small so the
# tests that bound the daemon's memory measure the daemon, not ASan.
# Every end-to-end test runs on LMDB and again on PostgreSQL: test_X_pg.c,
# X_pg.sh, interop/protocol_pg.py (docs/reliability.md §5 says which tests
# are which). The PostgreSQL clusters of the tests copy the data directory
# initdb made for the first of them (CONNREQ_PG_TEMPLATE; tests/pgcluster.h).
test: all $(TESTS) $(LIB_IOFAULT) $(BIN_PGSERVE) man $(NODE_DEPS)
	ASAN_OPTIONS=quarantine_size_mb=4:$(ASAN_OPTIONS) \
	CONNREQ_PG_TEMPLATE=$(abspath $(BUILD))/pg-template PYTHON=$(PYTHON) \
	CONNREQ_BIN=$(abspath $(BUILD)/bin) prove --exec '' $(TESTS) tests/*.sh \
	    tests/interop/*.py

check: deps
	$(MAKE) test
	$(MAKE) BUILD=build/san SAN=1 test

# make bench [BENCH_SECONDS=5] [BENCH_REPS=3] [BENCH_CASES=a,b]: connreqd
# against its own Redis and PostgreSQL 15 (tests/bench/bench.sh; a few
# minutes). redis-server, redis-tools and postgresql-15 are installed when
# missing. Not part of make check: it measures, it does not test.
BENCH_DEB = redis-server postgresql-15 postgresql-client-15 util-linux
bench-deps:
	@missing=""; for p in $(BENCH_DEB); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make bench: installing$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

bench: deps bench-deps
	$(MAKE) all $(LIB_IOFAULT)
	BENCH_BIN=$(abspath $(BUILD)) sh tests/bench/bench.sh

# make bench-big [BENCH_BIG_N=10000000] [BENCH_BIG_DIR=build/bench-big]:
# the opt-in big-store case alone (connreqd on a store of BENCH_BIG_N
# invitations, built once by tests/bench/mkstore and kept in BENCH_BIG_DIR
# for the next run; docs/performance.md). Needs no Redis or PostgreSQL.
bench-big: deps
	$(MAKE) all $(LIB_IOFAULT)
	BENCH_BIN=$(abspath $(BUILD)) BENCH_CASES=big-store sh tests/bench/bench.sh

# make bench-capacity [BENCH_CAP_N=1000000,10000000]: the opt-in capacity
# case alone (issue 11's capacity model, docs/scaling.md): for each size,
# the store of N invitations on LMDB (mkstore, built anew in
# BENCH_BIG_DIR/cap-N; BENCH_CAP_REUSE=1 takes the last run's) and on
# PostgreSQL (connreqd --copy-store into the bench's cluster), their bytes
# per invitation and per event, and sends and gets at 16 connections on
# each. One line per backend per size; about 10 minutes at 1,000,000,
# hours at 10,000,000.
bench-capacity: deps bench-deps
	$(MAKE) all $(LIB_IOFAULT)
	BENCH_BIN=$(abspath $(BUILD)) BENCH_CASES=capacity sh tests/bench/bench.sh

# The long form of the power-loss and I/O-fault tests (make check runs
# their short forms): a power cut before every sync of the workload, and
# the N-th fdatasync/fsync/msync/pwrite/write failing with EIO and ENOSPC
# for N = 1..30. make crashtest runs it after its kill -9 cycles.
powerloss: all $(BUILD)/tests/test_powerloss.t $(BUILD)/tests/test_iofault.t \
    $(LIB_IOFAULT)
	POWERLOSS_CUTS=all IOFAULT_MATRIX=full \
	CONNREQ_BIN=$(abspath $(BUILD)/bin) prove -v --exec '' \
	    $(BUILD)/tests/test_powerloss.t $(BUILD)/tests/test_iofault.t

# make crashtest [CYCLES=1000]: the kill -9 harness on the binaries of
# $(BUILD) (make check runs 20 cycles of it: tests/crash.sh), then the
# long power-loss and I/O-fault runs.
CYCLES ?= 1000
crashtest: all
	CONNREQ_BIN=$(abspath $(BUILD)/bin) /usr/bin/python3 \
	    tests/crash/crashtest.py --cycles $(CYCLES)
	$(MAKE) powerloss

run: deps-build
	$(MAKE) all
	@echo "connreqd: starting in the foreground (Ctrl-C stops it)."
	@echo "          In another terminal: $(BUILD)/bin/connreq info"
	@echo "          or: $(BUILD)/bin/connreq help"
	$(BIN_DAEMON)

# make demo: the store README.md's tour runs on (tests/lib/demo.sh), built
# afresh in $(BUILD)/demo, and connreqd on it in the foreground, on the
# virtual clock where the demo left it. make readme-tour writes what
# today's connreq prints into README.md's tour, for when an output changes
# on purpose (tests/readme_tour.sh compares the two; --print prints it).
.PHONY: demo readme-tour
demo: all
	sh tests/lib/mkdemo.sh $(abspath $(BUILD)/bin) $(BUILD)/demo

readme-tour: all
	@CONNREQ_BIN=$(abspath $(BUILD)/bin) sh tests/readme_tour.sh --update

# make install [PREFIX=/usr/local] [DESTDIR=]; make uninstall, the same.
# DESTDIR is a staging root (packages, tests): it is put before every path
# written to, and in no file. systemd does not look for user units in
# ~/.local/lib/systemd/user, so with PREFIX=$(HOME)/.local they go to
# ~/.local/share/systemd/user, where it does. The man pages are built
# (make man) and installed, with the user docs under DOCDIR; the bash, zsh and fish
# completions always.
BINDIR        = $(PREFIX)/bin
LIBDIR        = $(PREFIX)/lib
INCLUDEDIR    = $(PREFIX)/include
DATADIR       = $(PREFIX)/share
MANDIR        = $(DATADIR)/man
DOCDIR        = $(DATADIR)/doc/connreq
COMPLETIONDIR = $(DATADIR)/bash-completion/completions
ZSHCOMPDIR    = $(DATADIR)/zsh/vendor-completions
FISHCOMPDIR   = $(DATADIR)/fish/vendor_completions.d
ifeq ($(patsubst %/,%,$(PREFIX)),$(HOME)/.local)
USERUNITDIR   = $(DATADIR)/systemd/user
else
USERUNITDIR   = $(LIBDIR)/systemd/user
endif
VERSION      := $(shell sed -n 's/.*CONNREQ_VERSION "\(.*\)"/\1/p' common/util.h)
MAN_NAMES     = connreqd.8 connreq.1 connreqd.conf.5 connreq-protocol.7
COMPLETION    = client/connreq.bash-completion

# install records the directories it made (the ones that did not exist
# before) in DOCDIR/installed-dirs; uninstall removes them again, deepest
# first, when they are empty, and never a directory that was there before.
DOCS          = docs/protocol.md docs/configuration.md docs/python-client.md \
                docs/node-client.md docs/scaling.md docs/reliability.md \
                README.md
INSTALL_DIRS  = $(BINDIR) $(LIBDIR)/pkgconfig $(INCLUDEDIR) $(USERUNITDIR) \
                $(DOCDIR) $(COMPLETIONDIR) $(ZSHCOMPDIR) $(FISHCOMPDIR) \
                $(foreach p,$(MAN_NAMES),$(MANDIR)/man$(subst .,,$(suffix $(p))))

.PHONY: install uninstall
install: all man
	@made=""; for d in $(INSTALL_DIRS); do \
	  p="$$d"; while [ -n "$$p" ] && [ "$$p" != "/" ] && \
	    [ "$$p" != "$(patsubst %/,%,$(PREFIX))" ] && [ ! -d "$(DESTDIR)$$p" ]; do \
	    case " $$made " in *" $$p "*) ;; *) made="$$made $$p" ;; esac; \
	    p=$${p%/*}; \
	  done; \
	done; \
	install -d $(foreach d,$(INSTALL_DIRS),"$(DESTDIR)$(d)") && \
	for d in $$made; do echo "$$d"; done | \
	    awk '{ print length($$0) " " $$0 }' | sort -rn | cut -d' ' -f2- \
	    >"$(DESTDIR)$(DOCDIR)/installed-dirs"
	install -m 755 $(BIN_DAEMON) $(BIN_CLIENT) "$(DESTDIR)$(BINDIR)"
	install -m 644 $(LIB_CLIENT) "$(DESTDIR)$(LIBDIR)"
	install -m 644 client/connreq.h "$(DESTDIR)$(INCLUDEDIR)"
	sed -e 's|@prefix@|$(PREFIX)|g' -e 's|@version@|$(VERSION)|g' \
	    client/connreq.pc.in >"$(DESTDIR)$(LIBDIR)/pkgconfig/connreq.pc"
	chmod 644 "$(DESTDIR)$(LIBDIR)/pkgconfig/connreq.pc"
	sed 's|@bindir@|$(BINDIR)|g' systemd/connreqd.service \
	    >"$(DESTDIR)$(USERUNITDIR)/connreqd.service"
	chmod 644 "$(DESTDIR)$(USERUNITDIR)/connreqd.service"
	install -m 644 systemd/connreqd.socket "$(DESTDIR)$(USERUNITDIR)"
	install -m 644 docs/connreqd.conf.example $(DOCS) "$(DESTDIR)$(DOCDIR)"
	@for f in $(MAN_OUT); do \
	  d="$(DESTDIR)$(MANDIR)/man$${f##*.}"; \
	  echo "install -m 644 $$f $$d"; \
	  install -m 644 "$$f" "$$d" || exit 1; \
	done
	install -m 644 $(COMPLETION) "$(DESTDIR)$(COMPLETIONDIR)/connreq"
	install -m 644 client/_connreq "$(DESTDIR)$(ZSHCOMPDIR)/_connreq"
	install -m 644 client/connreq.fish \
	    "$(DESTDIR)$(FISHCOMPDIR)/connreq.fish"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/connreqd" "$(DESTDIR)$(BINDIR)/connreq" \
	    "$(DESTDIR)$(LIBDIR)/libconnreq.a" \
	    "$(DESTDIR)$(LIBDIR)/pkgconfig/connreq.pc" \
	    "$(DESTDIR)$(INCLUDEDIR)/connreq.h" \
	    "$(DESTDIR)$(USERUNITDIR)/connreqd.service" \
	    "$(DESTDIR)$(USERUNITDIR)/connreqd.socket" \
	    "$(DESTDIR)$(DOCDIR)/connreqd.conf.example" \
	    $(foreach f,$(notdir $(DOCS)),"$(DESTDIR)$(DOCDIR)/$(f)") \
	    "$(DESTDIR)$(COMPLETIONDIR)/connreq" \
	    "$(DESTDIR)$(ZSHCOMPDIR)/_connreq" \
	    "$(DESTDIR)$(FISHCOMPDIR)/connreq.fish"
	@for p in $(MAN_NAMES); do \
	  echo "rm -f $(DESTDIR)$(MANDIR)/man$${p##*.}/$$p"; \
	  rm -f "$(DESTDIR)$(MANDIR)/man$${p##*.}/$$p"; \
	done
	@if [ -f "$(DESTDIR)$(DOCDIR)/installed-dirs" ]; then \
	  dirs=$$(cat "$(DESTDIR)$(DOCDIR)/installed-dirs"); \
	  rm -f "$(DESTDIR)$(DOCDIR)/installed-dirs"; \
	  for d in $$dirs; do \
	    rmdir "$(DESTDIR)$$d" 2>/dev/null && echo "rmdir $(DESTDIR)$$d"; \
	  done; \
	fi; true

clean:
	rm -rf build client/node/node_modules

-include $(shell find $(BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
