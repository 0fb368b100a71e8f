# ka-tune: build, test, install. Plain GNU make; see README.md.

VERSION    := 0.1.0
CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
COMPDIR    ?= $(PREFIX)/share/bash-completion/completions
DESTDIR    ?=

# Where objects go, and the binary; the sanitizer build uses its own.
BUILD      ?= build
BIN        ?= ka-tune

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
ALL_CPPFLAGS := -D_GNU_SOURCE -DKT_VERSION='"$(VERSION)"' -Iinclude $(BSD_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS := -std=c11 $(WARNINGS) $(WERROR) $(CFLAGS) $(EXTRA_CFLAGS) -MMD -MP

LIB_SRCS   := $(wildcard src/kt_*.c)
CLI_SRCS   := src/main.c $(wildcard src/cli_*.c) $(wildcard src/cmd_*.c)
TEST_SRCS  := $(wildcard tests/test_*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
CLI_OBJS   := $(CLI_SRCS:%.c=$(BUILD)/%.o)
TESTS      := $(TEST_SRCS:%.c=$(BUILD)/%)
LIBKT      := $(BUILD)/libkatune.a
TMPTREE    := $(BUILD)/tests/tmptree.o

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

DEBIAN_PKGS := build-essential pkg-config libbsd-dev libcmocka-dev mandoc clang \
               valgrind strace procps util-linux iproute2 systemd jq python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all check check-all check-unit check-cli check-asan check-clang check-stress install uninstall \
	clean deps bench bench-sockets lint

all: $(BIN)

$(BIN): $(CLI_OBJS) $(LIBKT)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIBKT) $(BSD_LIBS)

$(LIBKT): $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/%.o: %.c $(FLAGS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The unit tests share the temp-tree helpers of tests/tmptree.c; sockpeer needs none of them.
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

check-cli: $(BIN) $(BUILD)/tests/sockpeer
	$(Q)sh tests/cli.sh ./$(BIN)
	$(Q)sh tests/persist.sh ./$(BIN)
	$(Q)sh tests/netns.sh ./$(BIN)
	$(Q)sh tests/boot.sh ./$(BIN)
	$(Q)sh tests/advice.sh ./$(BIN)
	$(Q)KT_SOCKPEER=$(BUILD)/tests/sockpeer sh tests/sockets.sh ./$(BIN)

check-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan BIN=build/asan/ka-tune \
		EXTRA_CFLAGS="$(SANITIZE)" LDFLAGS="$(SANITIZE)" KT_BOOT_TREES=40 check-unit check-cli

check-clang:
	$(Q)$(MAKE) --no-print-directory CC=clang BUILD=build/clang BIN=build/clang/ka-tune \
		build/clang/ka-tune $(TEST_SRCS:%.c=build/clang/%) build/clang/tests/sockpeer

# make check STRESS_RUNS times (default 5) while busy loops keep every CPU busy: the suite must
# not fail by chance. Not part of check: it takes minutes and loads the whole machine.
STRESS_RUNS ?= 5
check-stress:
	$(Q)MAKE="$(MAKE)" sh tests/stress.sh $(STRESS_RUNS)

# mandoc -Tlint, every level; only its notes about the system's missing mandoc.db are dropped
# (Debian keeps no mandoc.db, so every .Xr draws one): they are not about this page.
lint:
	$(Q)out=$$(mandoc -Tlint man/ka-tune.8 2>&1 | grep -v 'outdated mandoc.db lacks'); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi; echo "man/ka-tune.8: mandoc -Tlint clean"

bench: $(BIN) $(BUILD)/tests/sockpeer
	sh bench/bench.sh ./$(BIN)
	sh bench/boot.sh ./$(BIN)
	sh bench/sockets.sh ./$(BIN) $(BUILD)/tests/sockpeer

# ka-tune sockets against ss -tanoip on 1,000 and 10,000 loopback connections (needs root).
bench-sockets: $(BIN) $(BUILD)/tests/sockpeer
	sh bench/sockets.sh ./$(BIN) $(BUILD)/tests/sockpeer

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/ka-tune
	install -m 0644 man/ka-tune.8 $(DESTDIR)$(MANDIR)/man8/ka-tune.8
	install -m 0644 completion/ka-tune.bash $(DESTDIR)$(COMPDIR)/ka-tune

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/ka-tune $(DESTDIR)$(MANDIR)/man8/ka-tune.8 \
		$(DESTDIR)$(COMPDIR)/ka-tune

clean:
	rm -rf build $(BIN)

deps:
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		$(DEBIAN_PKGS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
