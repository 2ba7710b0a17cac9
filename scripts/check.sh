#!/usr/bin/env bash
# Run the checks of chapters 1..CH against chapter CH's binary, or against
# BIN when it is given (lab mode: check your own build).
#
# Usage: scripts/check.sh CH [BIN]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

chapter=${1:-}
bin=${2:-}
if ! [[ $chapter =~ ^[0-9]+$ ]]; then
	echo "check: say which chapter, e.g. make check CH=3 (and BIN=path/to/your/mydocker to check your own)" >&2
	exit 2
fi
nn=$(printf '%02d' "$((10#$chapter))")
dirs=(chapters/"$nn"-*/)
if [[ ! -d ${dirs[0]} ]]; then
	echo "check: there is no chapter $nn in chapters/" >&2
	exit 2
fi

if [[ -z $bin ]]; then
	bin=build/bin/chapter-$nn/mydocker
	CGO_ENABLED=${CGO_ENABLED:-0} go build -o "$bin" "./${dirs[0]%/}"
fi
if [[ ! -x $bin ]]; then
	echo "check: $bin is not an executable file: build your mydocker first" >&2
	exit 2
fi
# The checks run in their own directory: give them an absolute path.
bin=$(realpath "$bin")
echo "check: chapters 01..$nn against $bin"
MYDOCKER_BIN=$bin MYDOCKER_CHAPTER=$chapter MYDOCKER_E2E=1 \
	go test -count=1 ./chapters/checks/ -run 'TestChapters' -v
