# mydocker: the two commands of the README are `make demo` and `make test`.
# Everything else is a step of those, or a tool for one chapter.

GO    ?= go
# A static binary: no libc to load at each start (about 2 ms of every
# container start, see docs/performance.md) and nothing to match in a VM.
export CGO_ENABLED ?= 0
IMAGE := build/images/busybox/rootfs
BIN   := build/bin/mydocker

.PHONY: help deps build image demo test check chapters lint bench bench-smoke clean vmtest

help:
	@echo "make demo           set up this machine and run a container (as root)"
	@echo "make test           run every test: units, chapters, checks (as root)"
	@echo "make check CH=N     run the checks of chapters 1..N against chapter N's binary"
	@echo "make check CH=N BIN=path   ...against your own binary (lab mode)"
	@echo "make chapters       regenerate chapters/ from mydocker/"
	@echo "make doctor         check that this machine can run every chapter (as root)"
	@echo "make vmtest [RUN=REGEX]    the checks in a qemu VM under cgroup v2 (docs/testing.md)"
	@echo "make build | image | deps | lint | clean"

# registry: docker-registry and skopeo, which the image checks (chapter 05) run.
# On a machine without Go, provision.sh installs the version go.mod names
# (from go.dev) and then the rest; otherwise deps.sh installs what is missing.
deps:
	@command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || bash scripts/provision.sh
	bash scripts/deps.sh --with test,registry

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

test: deps image
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
	bash scripts/deps.sh --with vm
	bash scripts/vmtest.sh --run "$$RUN"

# Start latency against runc, crun and unshare (bench/bench.sh): bench
# writes bench/RESULTS.md; bench-smoke runs each command once, for make test.
bench: build image
	bash scripts/deps.sh --with bench
	GO=$(GO) bash bench/bench.sh

bench-smoke: build image
	bash scripts/deps.sh --with bench
	GO=$(GO) bash bench/bench.sh --smoke

lint:
	bash scripts/lint.sh

clean:
	rm -rf build
