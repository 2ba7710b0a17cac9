#!/usr/bin/env bash
# Static checks that CI runs: gofmt, go vet (every chapter too) and shellcheck.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

unformatted=$(gofmt -l mydocker chapters tools bench scripts)
if [[ -n $unformatted ]]; then
	echo "lint: not gofmt-clean (run gofmt -w):" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
shellcheck scripts/*.sh bench/*.sh .ci/run
echo "lint: ok"
