#!/usr/bin/env bash
# Install the Go that go.mod names into /usr/local/go, as root, and link go
# and gofmt into /usr/local/bin (sudo's PATH has that directory).
#
# It fetches Go the way `go` itself fetches a newer toolchain: the module
# golang.org/toolchain from the Go module proxy (GOPROXY, so a classroom
# mirror works), checked against the hash in scripts/go-toolchain.sum, the
# same h1: hash that go.sum files and the checksum database hold. Where no
# proxy answers, it falls back to the tarball from go.dev, checked against
# the SHA-256 published beside it.
#
# Usage: scripts/install-go.sh [--if-needed]
#   --if-needed  do nothing when the go installed is go.mod's version or
#                newer, or is 1.21 or newer and may fetch toolchains
#                (GOTOOLCHAIN=auto): such a go reads go.mod and fetches the
#                version it names by itself.
# Environment: GOPROXY (as go reads it); MYDOCKER_GO_DOWNLOAD_URL replaces
# https://dl.google.com/go for the fallback.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
go_root=/usr/local/go
sums=$repo_root/scripts/go-toolchain.sum
go_download_url=${MYDOCKER_GO_DOWNLOAD_URL:-https://dl.google.com/go}

die() {
	echo "install-go: $*" >&2
	exit 1
}
say() { echo "install-go: $*"; }

if_needed=0
case ${1:-} in
"") ;;
--if-needed) if_needed=1 ;;
*)
	echo "usage: $0 [--if-needed]" >&2
	exit 2
	;;
esac

go_version=$(awk '$1 == "go" { print $2; exit }' "$repo_root/go.mod")
[[ -n $go_version ]] || die "no 'go' line in $repo_root/go.mod"

# Go names architectures its own way, not as uname does.
case $(uname -m) in
x86_64) go_arch=amd64 ;;
aarch64 | arm64) go_arch=arm64 ;;
*) die "no Go build for $(uname -m) here: use an amd64 or arm64 machine" ;;
esac

# version_number turns "1.26.8", "1.21" or "1.22rc1" into one number to
# compare; a release candidate counts as its release.
version_number() {
	local major minor patch
	IFS=. read -r major minor patch <<<"$1"
	major=${major%%[!0-9]*}
	minor=${minor%%[!0-9]*}
	patch=${patch%%[!0-9]*}
	echo $((${major:-0} * 1000000 + ${minor:-0} * 1000 + ${patch:-0}))
}

# go_version_of prints the version of the go binary $1 ("1.19.8"), the
# installed one and not the toolchain go.mod asks for: GOTOOLCHAIN=local,
# and / as the directory, where no go.mod is.
go_version_of() {
	(cd / && GOTOOLCHAIN=local "$1" env GOVERSION 2>/dev/null | sed 's/^go//') || true
}

# link_tools links go and gofmt into /usr/local/bin: sudo's PATH and a
# fresh root shell's have that directory, but not /usr/local/go/bin.
link_tools() {
	local tool
	for tool in go gofmt; do
		if [[ $(readlink "/usr/local/bin/$tool" 2>/dev/null) != "$go_root/bin/$tool" ]]; then
			ln -sfn "$go_root/bin/$tool" "/usr/local/bin/$tool"
		fi
	done
}

installed=
if [[ -x $go_root/bin/go ]]; then
	installed=$(go_version_of "$go_root/bin/go")
fi
on_path=$(command -v go || true)
if ((if_needed)); then
	old=
	for go in "$on_path" "$go_root/bin/go"; do
		[[ -n $go && -x $go ]] || continue
		have=$(go_version_of "$go") toolchain=
		if [[ -n $have && $go == "$go_root/bin/go" && -z $on_path ]] && ((EUID == 0)); then
			link_tools
		fi
		if [[ -n $have ]] && (($(version_number "$have") >= $(version_number "$go_version"))); then
			exit 0
		fi
		# Since Go 1.21, go reads go.mod's go line and, unless GOTOOLCHAIN
		# says otherwise, fetches that toolchain through the module proxy.
		toolchain=${GOTOOLCHAIN:-$(cd / && "$go" env GOTOOLCHAIN 2>/dev/null)} || toolchain=
		if [[ -n $have ]] && (($(version_number "$have") >= $(version_number 1.21))) &&
			[[ $toolchain == auto || $toolchain == *+auto ]]; then
			say "note: go $have is older than go.mod's $go_version; it fetches go$go_version through the module proxy on first use"
			exit 0
		fi
		old+=" ${have:-?} ($go${toolchain:+, GOTOOLCHAIN=$toolchain})"
	done
	if [[ -n $old ]]; then
		say "Go${old} cannot build go.mod's $go_version (a go of 1.21 or newer fetches it with GOTOOLCHAIN=auto): installing Go $go_version"
	else
		say "no Go here: installing Go $go_version, as go.mod names"
	fi
fi

if [[ $installed == "$go_version" ]]; then
	link_tools
	say "Go $go_version is in $go_root"
	exit 0
fi

((EUID == 0)) || die "run me as root (e.g. sudo $0): I install Go into $go_root"

# curl and unzip, with deps.sh's base packages (which the demo needs next
# anyway): deps.sh owns every apt-get of the set-up.
if ! command -v curl >/dev/null || ! command -v unzip >/dev/null || [[ ! -f /etc/ssl/certs/ca-certificates.crt ]]; then
	bash "$repo_root/scripts/deps.sh" --with go-download || die "cannot install what downloading Go needs (above)"
fi

# Next to $go_root, so that the final mv is a rename on one file system.
tmp=$(mktemp -d /usr/local/.go-download.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# proxies prints the URLs of GOPROXY's list, one a line; "direct" and
# "off" are go's own words, not servers, and name no place to fetch from.
proxies() {
	local list=${GOPROXY:-} entry
	if [[ -z $list && -n $on_path ]]; then
		list=$(cd / && GOTOOLCHAIN=local "$on_path" env GOPROXY 2>/dev/null) || list=
	fi
	tr ',|' '\n' <<<"${list:-https://proxy.golang.org}" |
		while IFS= read -r entry; do
			case $entry in
			"" | direct | off) ;;
			*) echo "${entry%/}" ;;
			esac
		done
}

# h1_hash prints the h1: hash of the module zip $1, unpacked into $2: the
# SHA-256 of the list of its files' SHA-256s, each line "HASH  NAME" in
# byte order of the names, base64-encoded (as golang.org/x/mod/sumdb/dirhash
# computes it). sha256sum prints exactly that line for each file.
h1_hash() {
	local zip=$1 dir=$2 names list
	names=$(unzip -Z1 "$zip" | grep -v '/$' | LC_ALL=C sort)
	# sha256sum escapes a name with a backslash or a newline: none may
	# have one, or the list would differ from the one that was hashed.
	if [[ $names == *\\* ]]; then
		return 1
	fi
	list=$(cd "$dir" && xargs -d '\n' sha256sum -- <<<"$names") || return 1
	printf 'h1:%s\n' "$(sha256sum <<<"$list" | cut -c1-64 | tr a-f A-F | basenc --base16 -d | base64)"
}

# from_proxy fetches go.mod's toolchain from the proxy $1 and unpacks it
# to $tmp/go; it fails when the proxy does not have it.
from_proxy() {
	local proxy=$1 version=v0.0.1-go$go_version.linux-$go_arch want got
	want=$(awk -v v="$version" '$1 == "golang.org/toolchain" && $2 == v { print $3 }' "$sums")
	[[ -n $want ]] || die "$sums has no hash of golang.org/toolchain $version: after changing go.mod's go line, run scripts/go-toolchain-sum.sh"
	say "downloading golang.org/toolchain@$version from $proxy"
	curl -fsSL --retry 3 -o "$tmp/go.zip" "$proxy/golang.org/toolchain/@v/$version.zip" || return 1
	mkdir "$tmp/unzip"
	unzip -q "$tmp/go.zip" -d "$tmp/unzip"
	got=$(h1_hash "$tmp/go.zip" "$tmp/unzip") || die "cannot hash the toolchain from $proxy (a file name with a backslash, or a file that cannot be read)"
	[[ $got == "$want" ]] || die "the toolchain from $proxy has hash $got, but $sums says $want: it is not the Go it claims to be; not installed"
	mv "$tmp/unzip/golang.org/toolchain@$version" "$tmp/go"
	# A module zip keeps no file modes; go marks its own toolchain's
	# programs executable after unpacking, and so must we.
	find "$tmp/go/bin" "$tmp/go/pkg/tool" -type f -exec chmod 0755 {} +
}

# from_go_dev fetches the release tarball and its published SHA-256.
from_go_dev() {
	local file=go$go_version.linux-$go_arch.tar.gz want got
	say "downloading $go_download_url/$file"
	curl -fsSL --retry 3 -o "$tmp/$file" "$go_download_url/$file" ||
		die "cannot download Go $go_version from the module proxy nor from $go_download_url: check the network, or install Go $go_version by hand"
	want=$(curl -fsSL --retry 3 "$go_download_url/$file.sha256") ||
		die "cannot download the checksum of $file: check the network"
	got=$(sha256sum "$tmp/$file" | cut -c1-64)
	[[ $got == "$want" ]] || die "$file has SHA-256 $got, but $go_download_url publishes $want: not installed"
	tar -C "$tmp" -xzf "$tmp/$file"
}

fetched=0
while IFS= read -r proxy; do
	if from_proxy "$proxy"; then
		fetched=1
		break
	fi
	rm -rf "$tmp/go.zip" "$tmp/unzip"
	say "$proxy does not serve it"
done < <(proxies)
((fetched)) || from_go_dev

# Replace the old tree whole: unpacking over it would mix two versions.
rm -rf "$go_root.old"
if [[ -e $go_root ]]; then
	mv "$go_root" "$go_root.old"
fi
mv "$tmp/go" "$go_root"
rm -rf "$go_root.old"
link_tools
say "installed Go $go_version in $go_root (was: ${installed:-none}); /usr/local/bin/go links to it"
