# mydocker: the two commands of the README are `make demo` and `make test`.
# Everything else is a step of those, or a tool for one chapter.

GO    ?= go
IMAGE := build/images/busybox/rootfs
BIN   := build/bin/mydocker

.PHONY: help deps build image demo test check chapters lint bench clean

help:
	@echo "make demo           set up this machine and run a container (as root)"
	@echo "make test           run every test: units, chapters, checks (as root)"
	@echo "make check CH=N     run the checks of chapters 1..N against chapter N's binary"
	@echo "make check CH=N BIN=path   ...against your own binary (lab mode)"
	@echo "make chapters       regenerate chapters/ from mydocker/"
	@echo "make build | image | deps | lint | clean"

deps:
	bash scripts/deps.sh --with test

build:
	$(GO) build -o $(BIN) ./mydocker

image:
	bash scripts/build-image.sh $(IMAGE)

demo: deps build image
	bash scripts/demo.sh $(BIN) $(IMAGE)

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

lint:
	bash scripts/lint.sh

clean:
	rm -rf build
