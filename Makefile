# kubectl-azlinux: build, test, install.  See README.md.
#
#   make            build bin/kubectl-azlinux and bin/kubectl_complete-azlinux
#   make deps       install the Debian packages everything below needs (root)
#   make check      lint, unit and end-to-end tests, then again under ASan+UBSan
#   make demo       run the main job against the simulator
#   make bench      benchmarks (not part of check)
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (60) each
#   make install    PREFIX=/usr/local

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
CC        ?= cc
PKG_CONFIG ?= pkg-config
PYTHON    ?= /usr/bin/python3
PKGS      := libcurl libcjson yaml-0.1 libsecret-1

# OUT holds objects and test binaries, BIN the programs; the sanitizer build
# uses its own pair so both can coexist.
OUT       ?= build
BIN       ?= bin
SANITIZE  ?=

# The release tag when building one; otherwise VERSION plus the commit.
VERSION   := $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || \
               echo "$$(cat VERSION)-dev+g$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")

# -Wconversion without -Wsign-conversion: cJSON and libcurl speak int and
# long where sizes are size_t; -Wsign-compare (from -Wextra) still catches
# the comparisons that matter.
WARNINGS  := -Wall -Wextra -Wshadow -Wformat=2 -Wconversion -Wno-sign-conversion \
             -Wstrict-prototypes -Wmissing-prototypes -Wvla -Werror
CFLAGS    ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L $(WARNINGS) $(CFLAGS) \
             -Icore \
             $(shell $(PKG_CONFIG) --cflags $(PKGS)) $(SAN_FLAGS)
LIBS       = $(shell $(PKG_CONFIG) --libs $(PKGS)) -lssl -lcrypto -lpthread
ifneq ($(SANITIZE),)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

CORE_SRC   := $(sort $(wildcard core/*.c))
PLUGIN_SRC := $(sort $(wildcard plugin/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
CORE_OBJ   := $(CORE_SRC:%.c=$(OUT)/%.o)
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(OUT)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)
LIBCORE    := $(OUT)/libazlinux.a
PROGRAM    := $(BIN)/kubectl-azlinux
COMPLETER  := $(BIN)/kubectl_complete-azlinux

.PHONY: FORCE all deps check test unit e2e asan lint demo bench soak install uninstall dist clean completions man \
	fuzz fuzz-replay fuzz-targets

all: $(PROGRAM) $(COMPLETER)

deps:
	@./scripts/deps.sh

$(OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Only version.o sees the version, and it is rebuilt whenever that changes.
$(OUT)/version-stamp: FORCE
	@mkdir -p $(OUT)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
$(OUT)/core/version.o: ALL_CFLAGS += -DAZL_VERSION='"$(VERSION)"'
$(OUT)/core/version.o: $(OUT)/version-stamp
FORCE:

$(LIBCORE): $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(PROGRAM): $(PLUGIN_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $(PLUGIN_OBJ) $(LIBCORE) $(LIBS)

# The completion helper kubectl looks for is the same program: it answers
# completion requests when called by this name.
$(COMPLETER): $(PROGRAM)
	ln -f $(PROGRAM) $@

$(OUT)/tests/%: tests/unit/%.c $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -Iplugin -MMD -MP -o $@ $< $(LIBCORE) $(LIBS) -lcmocka

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

# The end-to-end tests wait on simulated clocks far more than they compute,
# so they run on E2E_JOBS pytest-xdist workers (each with a Secret Service
# of its own: tests/e2e/conftest.py); E2E_JOBS=0 runs them in one process.
E2E_JOBS ?= 4
e2e: all
	AZLINUX_BIN=$(abspath $(PROGRAM)) tests/run-e2e.sh $(if $(filter-out 0,$(E2E_JOBS)),-n $(E2E_JOBS)) $(E2E_ARGS)

test: unit e2e

lint:
	$(MAKE) --no-print-directory OUT=build/clang BIN=build/clang/bin CC=clang all
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
	    --inline-suppr --suppress=missingIncludeSystem -Icore core plugin
	scripts/tidy.sh '$(filter-out -Werror,$(ALL_CFLAGS))' $(CORE_SRC) $(PLUGIN_SRC)

# The plain pass runs the whole fault matrix; the sanitizer pass its
# covering subset (every step, every fault) and leaves out the short soak,
# which the plain pass has just run, and the simulator's own suites, which
# never run the program.
ASAN_E2E_ARGS := --ignore=tests/e2e/test_soak.py --ignore=tests/e2e/test_sim_arm.py \
                 --ignore=tests/e2e/test_sim_k8s.py --ignore=tests/e2e/test_sim_clock.py \
                 --ignore=tests/e2e/test_sim_backend.py
asan:
	$(MAKE) --no-print-directory OUT=build/asan BIN=build/asan/bin SANITIZE=1 CFLAGS='-O1 -g' \
	    E2E_ARGS='$(ASAN_E2E_ARGS)' unit e2e

check: deps
	$(MAKE) --no-print-directory lint
	FAULT_MATRIX=full $(MAKE) --no-print-directory unit e2e
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(MAKE) --no-print-directory asan
	$(MAKE) --no-print-directory fuzz-replay

# libFuzzer targets, one per tests/fuzz/fuzz_<name>.c (README.md "Fuzzing"),
# built with clang against a fuzzer+ASan+UBSan build of core/ and of the
# printers and option parser; http.h's client is replaced by a scripted
# double (ld --wrap). fuzz-replay (part of check) replays each target's
# corpus and regression inputs, then fuzzes FUZZ_CHECK_SECONDS.
FUZZ_SECONDS       ?= 60
FUZZ_CHECK_SECONDS ?= 3
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(OUT)/fuzz/%)
FUZZ_OBJ   := $(OUT)/tests/fuzz/util.o $(OUT)/plugin/print.o $(OUT)/plugin/parse-options.o
FUZZ_WRAP  := $(foreach f,new free do do_many do_stream preconnect request_count,-Wl,--wrap=azl_http_$(f)) \
              -Wl,--wrap=sleep
FUZZ_MAKE  := $(MAKE) --no-print-directory OUT=build/fuzz BIN=build/fuzz/bin CC=clang SANITIZE=1 \
              CFLAGS='-O1 -g -fsanitize=fuzzer-no-link' fuzz-targets

$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJ) $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -Iplugin -MMD -MP -o $@ $< $(FUZZ_OBJ) \
	    $(FUZZ_WRAP) $(LIBCORE) $(LIBS)

fuzz-targets: $(FUZZ_BIN)

fuzz: deps
	@$(FUZZ_MAKE)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/fuzz/%)

fuzz-replay:
	@$(FUZZ_MAKE)
	tests/fuzz/run.sh -replay $(FUZZ_CHECK_SECONDS) $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/fuzz/%)

# The soak: the whole fault matrix and every interruption case (make check
# runs subsets that meet every step, every fault and every signal), then
# SOAK_RUNS random fault-matrix runs from SOAK_SEED (default: from the
# time; printed; make check runs 10).
SOAK_RUNS ?= 200
soak: deps all
	FAULT_MATRIX=full AZLINUX_BIN=$(abspath $(PROGRAM)) tests/run-e2e.sh \
	    $(if $(filter-out 0,$(E2E_JOBS)),-n $(E2E_JOBS)) tests/e2e/test_fault_matrix.py tests/e2e/test_interrupt.py
	SOAK_RUNS=$(SOAK_RUNS) SOAK_SEED=$(SOAK_SEED) AZLINUX_BIN=$(abspath $(PROGRAM)) \
	    tests/run-e2e.sh -s tests/e2e/test_soak.py

demo: deps all
	$(PYTHON) tests/sim/demo.py --bin $(abspath $(BIN))

bench: deps all
	$(PYTHON) tests/bench/bench.py --bin $(abspath $(BIN))
	$(PYTHON) tests/bench/bench_migrate.py --bin $(abspath $(BIN))
	$(PYTHON) tests/bench/bench_upgrade.py --bin $(abspath $(BIN))

# The completion helper is installed as a second copy: kubectl looks it up
# on PATH by name. Completion scripts go where each shell looks by default.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(PROGRAM) $(DESTDIR)$(BINDIR)/kubectl-azlinux
	install -m 0755 $(PROGRAM) $(DESTDIR)$(BINDIR)/kubectl_complete-azlinux
	install -m 0644 docs/kubectl-azlinux.1 $(DESTDIR)$(MANDIR)/man1/kubectl-azlinux.1
	install -m 0644 completions/kubectl-azlinux.bash \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/kubectl-azlinux
	install -m 0644 completions/kubectl-azlinux.zsh \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_kubectl-azlinux
	install -m 0644 completions/kubectl-azlinux.fish \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/kubectl-azlinux.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kubectl-azlinux $(DESTDIR)$(BINDIR)/kubectl_complete-azlinux \
	    $(DESTDIR)$(MANDIR)/man1/kubectl-azlinux.1 \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/kubectl-azlinux \
	    $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_kubectl-azlinux \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/kubectl-azlinux.fish

# The scripts in completions/ are generated by the program and committed;
# tests/e2e/test_completion.py fails when they are stale.
completions: $(PROGRAM)
	for s in bash zsh fish; do $(PROGRAM) completion $$s > completions/kubectl-azlinux.$$s; done

# Renders the man page and fails on any groff warning.
man:
	@out=$$(MANWIDTH=80 man -l --warnings docs/kubectl-azlinux.1 2>&1 >/dev/null); \
	if [ -n "$$out" ]; then echo "$$out" >&2; exit 1; fi; echo "man: docs/kubectl-azlinux.1 renders cleanly"

# The krew archive (dist/kubectl-azlinux_<version>_linux_amd64.tar.gz); its
# URL and sha256 are written into krew-manifest.yaml. A release is built
# from its tag: git tag v0.1.0 && make dist.
dist: all completions
	BIN_DIR=$(BIN) scripts/dist.sh $(VERSION)
	$(PYTHON) scripts/check_krew.py --archive dist/kubectl-azlinux_$$(sed -n 's/^  version: //p' krew-manifest.yaml)_linux_amd64.tar.gz krew-manifest.yaml

clean:
	rm -rf build bin dist

-include $(CORE_OBJ:.o=.d) $(PLUGIN_OBJ:.o=.d) $(UNIT_BIN:=.d) $(FUZZ_BIN:=.d) $(FUZZ_OBJ:.o=.d)
