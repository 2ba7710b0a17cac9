# mydocker: the two commands of the README are `make demo` and `make test`.
# Everything else is a step of those, or a tool for one chapter.

GO    ?= go
# A static binary: no libc to load at each start (about 2 ms of every
# container start, see docs/performance.md) and nothing to match in a VM.
export CGO_ENABLED ?= 0
IMAGE := build/images/busybox/rootfs
BIN   := build/bin/mydocker

.PHONY: help deps test-deps build image demo test check chapters lint bench bench-smoke clean vmtest fresh

help:
	@echo "make demo           set up this machine and run a container (as root)"
	@echo "make test           run every test: units, chapters, checks (as root)"
	@echo "make check CH=N     run the checks of chapters 1..N against chapter N's binary"
	@echo "make check CH=N BIN=path   ...against your own binary (lab mode)"
	@echo "make chapters       regenerate chapters/ from mydocker/"
	@echo "make doctor         check that this machine can run every chapter (as root)"
	@echo "make vmtest [RUN=REGEX]    the checks in a qemu VM under cgroup v2 (docs/testing.md)"
	@echo "make fresh [DISTS=...]     the README's two commands on fresh Debian roots (docs/testing.md)"
	@echo "make build | image | deps | lint | clean"

# deps: what the demo needs. Go is installed (the version go.mod names,
# through the Go module proxy) only where it is missing or older than 1.21;
# a newer go fetches go.mod's version by itself.
deps:
	@bash scripts/install-go.sh --if-needed
	@bash scripts/deps.sh

# test-deps: what the tests need too: shellcheck and iptables (test),
# docker-registry and skopeo (chapter 05's pull), runc, crun, hyperfine
# (bench), vagrant (the learner's VM files). The VM lane's qemu is
# installed by vmtest, only where the lane runs.
test-deps: deps
	@bash scripts/deps.sh --with test,registry,bench,vagrant

build:
	$(GO) build -o $(BIN) ./mydocker

image:
	bash scripts/build-image.sh $(IMAGE)

demo: deps build image
	bash scripts/demo.sh $(BIN) $(IMAGE)

# Exit status 1 when a needed check fails (mydocker's own errors are 125).
.PHONY: doctor
doctor: build
	$(BIN) doctor --image $(IMAGE)

test: test-deps image
	bash scripts/test.sh

check: image
	bash scripts/check.sh "$(CH)" "$(BIN_UNDER_TEST)"

# `make check CH=3 BIN=...` checks a learner's binary; BIN is also this
# Makefile's own output path, so the command-line value is passed on apart.
ifeq ($(origin BIN),command line)
BIN_UNDER_TEST := $(BIN)
endif

chapters:
	$(GO) run ./tools/chaptergen

# RUN, given on the command line, reaches the recipe as an environment
# variable, so a regex needs no quoting for make.
vmtest: image
	@bash scripts/deps.sh --with vm
	bash scripts/vmtest.sh --run "$$RUN"

# Start latency against runc, crun and unshare (bench/bench.sh): bench
# writes bench/RESULTS.md; bench-smoke runs each command once, for make test.
bench: build image
	@bash scripts/deps.sh --with bench
	GO=$(GO) bash bench/bench.sh

bench-smoke: build image
	@bash scripts/deps.sh --with bench
	GO=$(GO) bash bench/bench.sh --smoke

# The fresh-machine lane: debootstrap'd Debian 12 and 13 roots, each given
# a clone of this repository and the README's two commands (scripts/fresh.sh).
DISTS ?= bookworm trixie
fresh:
	@bash scripts/deps.sh --with fresh
	bash scripts/fresh.sh $(DISTS)

lint:
	bash scripts/lint.sh

clean:
	rm -rf build
