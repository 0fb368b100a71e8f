# ka-tune: build, test, install. Plain GNU make; see README.md.

VERSION    := 0.1.0
CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
MANDIR     ?= $(PREFIX)/share/man
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DESTDIR    ?=

# Where objects go, and the binary; the sanitizer build uses its own.
BUILD      ?= build
BIN        ?= ka-tune
# The library ka-tune exec preloads, built beside the objects; ka-tune looks for it there,
# relative to its own directory, before $(LIBDIR)/ka-tune/, where make install puts it.
PRELOAD    := $(BUILD)/ka-tune-preload.so
PRELOAD_REL := $(shell realpath -m --relative-to=$(dir $(BIN)) $(PRELOAD))

# CC, CPPFLAGS, CFLAGS and LDFLAGS are the user's (or dpkg-buildflags'): added to, never replaced.
CFLAGS     ?= -O2 -g
WARNINGS   := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes -Wvla
# make check (and so CI) turns warnings into errors; the default build, as distributions and
# newer compilers run it, does not.
WERROR     ?=
BSD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbsd-overlay)
# libbsd is linked statically: its shared object alone costs more loader work than ka-tune show.
BSD_LIBS   := -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs libbsd) -Wl,-Bdynamic
CMOCKA     := $(shell $(PKG_CONFIG) --cflags --libs cmocka)
# KT_BINDIR: where ka-tune is installed, which the systemd drop-ins of enable --persist run.
ALL_CPPFLAGS := -D_GNU_SOURCE -DKT_VERSION='"$(VERSION)"' -Iinclude $(BSD_CFLAGS) $(CPPFLAGS) \
                -DKT_PRELOAD_PATH='"$(LIBDIR)/ka-tune/ka-tune-preload.so"' \
                -DKT_PRELOAD_BUILD='"$(PRELOAD_REL)"' -DKT_BINDIR='"$(BINDIR)"'
ALL_CFLAGS := -std=c11 $(WARNINGS) $(WERROR) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP

LIB_SRCS   := $(wildcard src/kt_*.c)
CLI_SRCS   := src/main.c $(wildcard src/cli_*.c) $(wildcard src/cmd_*.c)
TEST_SRCS  := $(wildcard tests/test_*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS   := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TESTS      := $(TEST_SRCS:%.c=$(BUILD)/%)
LIBKT      := $(BUILD)/libkatune.a
TMPTREE    := $(BUILD)/tests/tmptree.o
# Test helpers: a shim that pauses ka-tune enable at a chosen pidfd_getfd(), and a launcher
# that makes chosen system calls fail through seccomp. The shim is never sanitized: ASan would
# have to come first in every program it is preloaded into.
NOSAN_CFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(ALL_CFLAGS))
PAUSE_GETFD := $(BUILD)/tests/pause_getfd.so
# The preload library: its own source and the library files it shares with enable --pid,
# compiled position-independent, everything hidden but the wrapped calls, unused code dropped
# (and checked: nothing may stay undefined), never sanitized, for the same reason as the shim.
PRELOAD_SRCS := src/ka-tune-preload.c src/kt_tcpsock.c src/kt_exec.c src/kt_value.c src/kt_keys.c
PRELOAD_OBJS := $(PRELOAD_SRCS:%.c=$(BUILD)/pic/%.o)
PIC_CFLAGS := $(NOSAN_CFLAGS) -fPIC -fvisibility=hidden -ffunction-sections -fdata-sections
PIC_LDFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(LDFLAGS)) -shared \
               -Wl,--gc-sections -Wl,-z,defs -Wl,-z,relro -Wl,-z,now
# make check installs here (DESTDIR, PREFIX=/usr) to test the completions where they land.
STAGE      := $(BUILD)/stage
# The systemd unit, with the path ka-tune is installed at.
UNIT       := $(BUILD)/systemd/ka-tune-slice@.service

SANITIZE   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

# Everything is rebuilt when the flags change (make, then make check with -Werror, say): the
# flags of the last build are kept in $(FLAGS), which every object depends on.
FLAGS      := $(BUILD)/.flags
FLAGS_NOW  := $(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS)
ifneq ($(FLAGS_NOW),$(file <$(FLAGS)))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS),$(FLAGS_NOW))
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

# bpftool is for the tests only: they count the programs on a cgroup with it.
DEBIAN_PKGS := build-essential pkg-config libbsd-dev libcmocka-dev mandoc clang \
               valgrind strace procps util-linux iproute2 nftables systemd jq python3 \
               zsh bash-completion ansible-core bpftool
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all check check-all check-unit check-cli check-asan check-clang check-stress install uninstall \
	clean deps bench bench-sockets bench-enable bench-exec bench-cgroup bench-helpers lint
.PHONY: deb deb-deps

all: $(BIN) $(PRELOAD) $(UNIT)

$(BIN): $(CLI_OBJS) $(LIBKT)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIBKT) $(BSD_LIBS)

$(LIBKT): $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/systemd/%: systemd/%.in $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)sed 's|@BINDIR@|$(BINDIR)|g' $< >$@

$(PRELOAD): $(PRELOAD_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(PIC_CFLAGS) $(PIC_LDFLAGS) -o $@ $^

$(BUILD)/pic/%.o: %.c $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(PIC_CFLAGS) -c -o $@ $<

$(PAUSE_GETFD): tests/pause_getfd.c $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(NOSAN_CFLAGS) -fPIC -shared -o $@ $<

$(BUILD)/%.o: %.c $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The unit tests share the temp-tree helpers of tests/tmptree.c; the helpers sockpeer, enosys,
# idlepeer and foreignprog need none of them.
$(TESTS): $(TMPTREE)

$(BUILD)/tests/%: tests/%.c $(LIBKT) $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(LIBKT) \
		$(BSD_LIBS) $(CMOCKA)

# Unit tests, end-to-end tests, then both again under ASan+UBSan, a clang build, the man page;
# all of it with warnings as errors.
check:
	$(Q)$(MAKE) --no-print-directory WERROR=-Werror check-all

check-all: check-unit check-cli check-asan check-clang lint

check-unit: $(TESTS)
	$(Q)fail=0; for t in $(TESTS); do echo "== $$t"; ./$$t || fail=1; done; exit $$fail

check-cli: $(BIN) $(PRELOAD) $(UNIT) $(BUILD)/tests/sockpeer $(BUILD)/tests/enosys $(BUILD)/tests/idlepeer \
		$(PAUSE_GETFD) $(BUILD)/tests/sysfail $(BUILD)/tests/foreignprog
	$(Q)sh tests/cli.sh ./$(BIN)
	$(Q)sh tests/persist.sh ./$(BIN)
	$(Q)sh tests/netns.sh ./$(BIN)
	$(Q)KT_ENOSYS=$(BUILD)/tests/enosys sh tests/boot.sh ./$(BIN)
	$(Q)sh tests/advice.sh ./$(BIN)
	$(Q)sh tests/fleet.sh ./$(BIN)
	$(Q)sh tests/ansible.sh ./$(BIN)
	$(Q)KT_SOCKPEER=$(BUILD)/tests/sockpeer sh tests/sockets.sh ./$(BIN)
	$(Q)KT_SOCKPEER=$(BUILD)/tests/sockpeer sh tests/metrics.sh ./$(BIN)
	$(Q)KT_PEER=tests/peer.py KT_PAUSE_GETFD=$(PAUSE_GETFD) KT_SYSFAIL=$(BUILD)/tests/sysfail \
		sh tests/enable.sh ./$(BIN)
	$(Q)KT_PEER=tests/peer.py KT_PRELOAD=$(PRELOAD) KT_SYSFAIL=$(BUILD)/tests/sysfail \
		sh tests/exec.sh ./$(BIN)
	$(Q)KT_IDLEPEER=$(BUILD)/tests/idlepeer sh tests/probe.sh ./$(BIN)
	$(Q)KT_UNIT=$(UNIT) sh tests/units.sh ./$(BIN)
	$(Q)KT_PEER=tests/peer.py KT_FOREIGN=$(BUILD)/tests/foreignprog sh tests/cgroup.sh ./$(BIN)
	$(Q)rm -rf $(STAGE) && $(MAKE) -s install DESTDIR=$(STAGE) PREFIX=/usr >/dev/null
	$(Q)sh tests/completion.sh ./$(BIN) $(STAGE)/usr
	$(Q)$(MAKE) -s uninstall DESTDIR=$(STAGE) PREFIX=/usr >/dev/null
	$(Q)left=$$(find $(STAGE) -type f); \
		[ -z "$$left" ] || { echo "FAIL: make uninstall left $$left" >&2; exit 1; }

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/ka-tune \
		EXTRA_CFLAGS="$(SANITIZE)" LDFLAGS="$(SANITIZE)" KT_BOOT_TREES=40 KT_PROBE_CASES=quick \
		check-unit check-cli

check-clang:
	$(Q)$(MAKE) --no-print-directory CC=clang BUILD=build/clang BIN=build/clang/ka-tune \
		build/clang/ka-tune build/clang/ka-tune-preload.so $(TEST_SRCS:%.c=build/clang/%) \
		build/clang/tests/sockpeer build/clang/tests/enosys build/clang/tests/pause_getfd.so \
		build/clang/tests/sysfail build/clang/tests/idlepeer build/clang/tests/foreignprog

# make check STRESS_RUNS times (default 5) while busy loops keep every CPU busy: the suite must
# not fail by chance. Not part of check: it takes minutes and loads the whole machine.
STRESS_RUNS ?= 5
check-stress:
	$(Q)MAKE="$(MAKE)" sh tests/stress.sh $(STRESS_RUNS)

# mandoc -Tlint, every level; only its notes about the system's missing mandoc.db are dropped
# (Debian keeps no mandoc.db, so every .Xr draws one): they are not about this page. Then the
# mechanical part of the code style, tests/style.sh (tabs, 100 columns, functions of at most
# 60 lines): clang-format 14 cannot keep the tree's tab-aligned comments, so it is not used.
lint:
	$(Q)out=$$(mandoc -Tlint man/ka-tune.8 2>&1 | grep -v 'outdated mandoc.db lacks'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "man/ka-tune.8: mandoc -Tlint clean"
	$(Q)sh tests/style.sh

bench: $(BIN) $(BUILD)/tests/sockpeer bench-helpers
	sh bench/bench.sh ./$(BIN)
	sh bench/boot.sh ./$(BIN)
	sh bench/sockets.sh ./$(BIN) $(BUILD)/tests/sockpeer
	sh bench/enable.sh ./$(BIN) $(BUILD)
	sh bench/exec.sh ./$(BIN) $(BUILD)
	sh bench/cgroup.sh ./$(BIN) $(BUILD)

# enable --pid on 10,000 connections against sockets; exec's library on connect+accept.
bench-enable: $(BIN) bench-helpers
	sh bench/enable.sh ./$(BIN) $(BUILD)

bench-exec: $(BIN) $(PRELOAD) bench-helpers
	sh bench/exec.sh ./$(BIN) $(BUILD)

# enable --cgroup's program on connect+accept, against a cgroup without it.
bench-cgroup: $(BIN) bench-helpers
	sh bench/cgroup.sh ./$(BIN) $(BUILD)

bench-helpers: $(PRELOAD) $(BUILD)/bench/fdholder $(BUILD)/bench/connrate $(BUILD)/bench/vgpidfd.so

$(BUILD)/bench/%: bench/%.c $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(NOSAN_CFLAGS) $(LDFLAGS) -o $@ $<

$(BUILD)/bench/vgpidfd.so: bench/vgpidfd.c $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(NOSAN_CFLAGS) -fPIC -shared -o $@ $<

# ka-tune sockets against ss -tanoip on 1,000 and 10,000 loopback connections (needs root).
bench-sockets: $(BIN) $(BUILD)/tests/sockpeer
	sh bench/sockets.sh ./$(BIN) $(BUILD)/tests/sockpeer

# The preload library is a plugin of ka-tune's, loaded by its full path: a directory of its
# own under LIBDIR, mode 0644 as shared objects are.
install: $(BIN) $(PRELOAD) $(UNIT)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/ka-tune $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(COMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ka-tune
	install -m 0644 $(PRELOAD) $(DESTDIR)$(LIBDIR)/ka-tune/ka-tune-preload.so
	install -m 0644 $(UNIT) $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 0644 man/ka-tune.8 $(DESTDIR)$(MANDIR)/man8/ka-tune.8
	install -m 0644 completion/ka-tune.bash $(DESTDIR)$(COMPDIR)/ka-tune
	install -m 0644 completion/ka-tune.zsh $(DESTDIR)$(ZSHCOMPDIR)/_ka-tune

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ka-tune $(DESTDIR)$(MANDIR)/man8/ka-tune.8 \
		$(DESTDIR)$(COMPDIR)/ka-tune $(DESTDIR)$(ZSHCOMPDIR)/_ka-tune \
		$(DESTDIR)$(LIBDIR)/ka-tune/ka-tune-preload.so \
		$(DESTDIR)$(SYSTEMDUNITDIR)/ka-tune-slice@.service
	-rmdir $(DESTDIR)$(LIBDIR)/ka-tune 2>/dev/null

# The Debian package (debian/), built as a build daemon would: dpkg-buildpackage -b on a copy of
# this tree (the build's own make clean never touches this one), with none of this make's
# variables. The .deb, -dbgsym .deb, .buildinfo and .changes land in $(DEB_DIR); then lintian
# must find no error or warning, and hardening-check must find PIE, stack protector, FORTIFY,
# RELRO and BIND_NOW, and control-flow protection where dpkg-buildflags asks for it (not on
# Debian 12), in ka-tune and in the preload library (a shared object, PIE does not apply; it
# calls no function FORTIFY guards). make deb-deps installs what this needs.
DEB_DIR    := build/deb
DEB_SRC    := $(DEB_DIR)/ka-tune-$(VERSION)
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	tar -c --exclude-vcs --exclude=./build --exclude=./ka-tune . | tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_SRC)
	lintian --fail-on error,warning --display-info $(DEB_DIR)/ka-tune_$(VERSION)_*.changes
	$(Q)arch=$$(dpkg-architecture -qDEB_HOST_ARCH) && root=$(DEB_DIR)/root && rm -rf $$root && \
	dpkg-deb -x $(DEB_DIR)/ka-tune_$(VERSION)_$$arch.deb $$root && \
	cf=--nocfprotection && if DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags \
		--get CFLAGS | grep -q -e -fcf-protection; then cf=; fi && \
	hardening-check $$cf $$root/usr/sbin/ka-tune $$root/usr/lib/ka-tune/ka-tune-preload.so && \
	rm -rf $$root && \
	echo "Debian package: $(DEB_DIR)/ka-tune_$(VERSION)_$$arch.deb"

# What make deb needs beyond make deps: debian/control's Build-Depends (debhelper, ...),
# devscripts for hardening-check, and lintian.
deb-deps:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get build-dep -y --no-install-recommends ./
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		devscripts lintian

clean:
	rm -rf build $(BIN)

# tests/metrics.sh checks its output with promtool, from Debian's prometheus package. The package
# is not installed: its postinst starts a Prometheus server, and its init script would start one
# at every boot. apt-get download fetches it, and promtool alone goes to /usr/local/bin.
deps:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		$(DEBIAN_PKGS)
	$(Q)command -v promtool >/dev/null || { d=$$(mktemp -d) && chmod 755 $$d && \
		(cd $$d && apt-get download prometheus) && \
		dpkg-deb --fsys-tarfile $$d/prometheus_*.deb | $(SUDO) tar -x -C /usr/local/bin \
			--strip-components=3 ./usr/bin/promtool && rm -rf $$d && promtool --version; }

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
