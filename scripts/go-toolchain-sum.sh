#!/usr/bin/env bash
# Write scripts/go-toolchain.sum: the h1: hashes of the Go toolchain that
# go.mod names, for linux/amd64 and linux/arm64, which scripts/install-go.sh
# checks its download against. Run it after changing go.mod's go line.
#
# `go mod download` verifies each hash against the checksum database
# (GOSUMDB, sum.golang.org by default) before printing it, so the file
# holds the hashes that every go in the world agrees on.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=$(awk '$1 == "go" { print $2; exit }' go.mod)
[[ -n $version ]] || { echo "go-toolchain-sum: no 'go' line in go.mod" >&2; exit 1; }
# Outside the repo's module, so that go.mod's requirements play no part.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
{
	for arch in amd64 arm64; do
		module=golang.org/toolchain@v0.0.1-go$version.linux-$arch
		sum=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module" | jq -r .Sum)
		echo "golang.org/toolchain v0.0.1-go$version.linux-$arch $sum"
	done
} >"$work/sum"
mv "$work/sum" scripts/go-toolchain.sum
cat scripts/go-toolchain.sum
