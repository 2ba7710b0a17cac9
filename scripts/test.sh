#!/usr/bin/env bash
# Every test, as `make test` and CI run them. Under this script a skipped
# test is a failure: the end-to-end checks must really run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export MYDOCKER_E2E=1

mkdir -p build
log=build/test.log
: >"$log"
step() { printf '\n== %s\n' "$*" | tee -a "$log"; }
run() { "$@" 2>&1 | tee -a "$log"; }

step "lint: gofmt, go vet, shellcheck"
run bash scripts/lint.sh

step "chapters/ is generated from mydocker/ and up to date"
run go run ./tools/chaptergen -check

step "unit tests (mydocker/, every chapter, the tools)"
mapfile -t packages < <(go list ./... | grep -v '/chapters/checks$')
run go test -count=1 -v "${packages[@]}"

step "checks: each chapter's binary against its own and all earlier chapters' checks"
last=
for dir in chapters/[0-9][0-9]-*/; do
	last=$(basename "$dir")
	last=${last%%-*}
	run bash scripts/check.sh "$last"
done

step "checks: the final mydocker against every chapter's checks"
run go build -o build/bin/mydocker ./mydocker
run bash scripts/check.sh "$last" build/bin/mydocker

# On a cgroup v2 host (the learner's VM, most machines now) the checks
# above ran under cgroup v2 already; the VM lane exists for hosts that run
# cgroup v1, such as CI's.
if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
	step "the VM lane stands aside: this host runs cgroup v2, so the checks above ran under it"
else
	step "the VM lane: every chapter's checks under cgroup v2, on the distribution's kernel in qemu"
	run make --no-print-directory vmtest
fi

step "bench: each command of make bench runs once (mydocker, runc, crun, unshare)"
run make --no-print-directory bench-smoke

step "the learner's VM: Vagrantfile, Lima template, provision.sh --offline"
run bash scripts/test-vm-config.sh

step "no test was skipped"
if grep -E '^\s*--- SKIP' "$log"; then
	echo "test: the tests above were skipped; under make test a skip is a failure" >&2
	exit 1
fi
passed=$(grep -cE '^\s*--- PASS' "$log" || true)
echo "test: all passed"
echo "$passed passed, 0 failed"
