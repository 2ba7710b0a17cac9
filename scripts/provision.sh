#!/usr/bin/env bash
# Set up a Debian or Ubuntu machine (the learner's VM, or any host) for
# mydocker, as root: Go into /usr/local/go (scripts/install-go.sh), the
# Debian packages of scripts/deps.sh, then `make build` and `make image`.
# The Vagrantfile and the Lima template (contrib/lima/mydocker.yaml) run it
# at every boot. It is idempotent: a second run changes nothing and ends
# with "provision: nothing to change".
#
# Usage: scripts/provision.sh [--offline] [--build-on DIR]
#   --offline       skip the Go download, so a machine that reaches only
#                   package registries can run the rest; also
#                   MYDOCKER_PROVISION_OFFLINE=1. The Debian archive and the
#                   Go module proxy are still used when something is missing.
#   --build-on DIR  keep the repo's build/ on this machine's own disk by
#                   bind-mounting DIR onto it. For repos on a VM shared folder
#                   (vboxsf, virtiofs, 9p): those lose Linux ownership, and
#                   vboxsf refuses symlinks, which the busybox image is made of.
# Environment: GOPROXY (a classroom mirror of the Go module proxy) and
# MYDOCKER_GO_DOWNLOAD_URL, as scripts/install-go.sh reads them.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
offline=${MYDOCKER_PROVISION_OFFLINE:-0}
build_on=
go_root=/usr/local/go
profile_file=/etc/profile.d/mydocker-go.sh
changed=()

usage() {
	echo "usage: $0 [--offline] [--build-on DIR]   (as root; see the top of this script)"
}

die() {
	echo "provision: $*" >&2
	exit 1
}

say() {
	echo "provision: $*"
}

while (($# > 0)); do
	case $1 in
	--offline)
		offline=1
		shift
		;;
	--build-on)
		(($# >= 2)) || { usage >&2; exit 2; }
		build_on=$2
		shift 2
		;;
	--build-on=*)
		build_on=${1#--build-on=}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done

((EUID == 0)) || die "run me as root (e.g. sudo $0): I install packages and Go into $go_root"
command -v apt-get >/dev/null || die "this is not Debian or Ubuntu (no apt-get); install what scripts/deps.sh lists by hand"
export DEBIAN_FRONTEND=noninteractive

# ---- Go ----------------------------------------------------------------------

# go.mod's go line is the one place that says which Go the course needs.
go_version=$(awk '$1 == "go" { print $2; exit }' "$repo_root/go.mod")
[[ -n $go_version ]] || die "no 'go' line in $repo_root/go.mod"

installed_go_version() {
	[[ -x $go_root/bin/go ]] || return 0
	# GOTOOLCHAIN=local and / as the directory stop go from switching to
	# the toolchain that go.mod asks for: we want the installed one.
	(cd / && GOTOOLCHAIN=local "$go_root/bin/go" env GOVERSION 2>/dev/null) || true
}

deps_log=
trap 'rm -rf "${deps_log:-}"' EXIT

# install-go.sh fetches Go through the Go module proxy (or from go.dev),
# checks it, and links go and gofmt into /usr/local/bin.
have=$(installed_go_version)
if [[ $have == "go$go_version" ]]; then
	say "Go $go_version is in $go_root"
elif ((offline)); then
	say "offline: skipping the download of Go $go_version (found: ${have:-none} in $go_root)"
else
	bash "$repo_root/scripts/install-go.sh" || die "scripts/install-go.sh failed (above)"
	changed+=("Go $go_version")
fi

# write_file PATH CONTENT: write only when different, so a second run
# changes nothing. Returns 1 when there was nothing to do. (Called in an
# `if`, where set -e is off: hence the explicit || die.)
write_file() {
	if [[ -f $1 && $(<"$1") == "$2" ]]; then
		return 1
	fi
	if ! mkdir -p "$(dirname "$1")" || ! printf '%s\n' "$2" >"$1"; then
		die "cannot write $1"
	fi
}

# link_file LINK TARGET: make a symlink only when it is missing or different.
link_file() {
	if [[ $(readlink "$1" 2>/dev/null) == "$2" ]]; then
		return 1
	fi
	if ! mkdir -p "$(dirname "$1")" || ! ln -sfn "$2" "$1"; then
		die "cannot link $1 to $2"
	fi
}

if [[ -x $go_root/bin/go ]]; then
	# Login shells of every user read /etc/profile.d.
	# shellcheck disable=SC2016 # $PATH is for the login shell to expand
	if write_file "$profile_file" '# Written by mydocker scripts/provision.sh: the Go of scripts/install-go.sh.
case ":$PATH:" in *:/usr/local/go/bin:*) ;; *) export PATH=$PATH:/usr/local/go/bin ;; esac'; then
		changed+=("$profile_file")
	fi
	# sudo resets PATH to its secure_path, which has /usr/local/bin but not
	# /usr/local/go/bin: without these links `sudo make demo` finds no go.
	for tool in go gofmt; do
		if link_file "/usr/local/bin/$tool" "$go_root/bin/$tool"; then
			changed+=("/usr/local/bin/$tool")
		fi
	done
	export PATH=$go_root/bin:$PATH
else
	say "warning: no Go in $go_root; make build needs Go $go_version (run me without --offline)" >&2
fi

# ---- Debian packages ------------------------------------------------------------

# deps.sh owns the package lists; `test` adds iptables and the tools that
# the checks use. It prints "deps: all present" when it installs nothing.
# Shown as it runs (apt-get takes a while), and kept to read that line.
deps_log=$(mktemp)
if ! bash "$repo_root/scripts/deps.sh" --with test 2>&1 | tee "$deps_log"; then
	die "scripts/deps.sh failed (above)"
fi
if ! grep -q '^deps: all present' "$deps_log"; then
	changed+=("Debian packages")
fi

# ---- the repository -----------------------------------------------------------

# Git refuses to work in a repository that another user owns (the vagrant
# user's, or a shared folder's), and go build asks git for the VCS stamp.
owner=$(stat -c %u "$repo_root")
if ((owner != 0)) && ! git config --system --get-all safe.directory 2>/dev/null | grep -qxF "$repo_root"; then
	git config --system --add safe.directory "$repo_root"
	changed+=("git safe.directory $repo_root")
fi

if [[ -n $build_on ]]; then
	mkdir -p "$build_on" "$repo_root/build"
	if mountpoint -q "$repo_root/build"; then
		say "$repo_root/build is already a mount point; leaving it"
	else
		mount --bind "$build_on" "$repo_root/build"
		changed+=("bind mount of $build_on on $repo_root/build")
	fi
fi

# fingerprint FILE: its content, to tell whether make rebuilt it.
fingerprint() {
	if [[ -f $1 ]]; then
		sha256sum <"$1"
	else
		echo none
	fi
}

bin=$repo_root/build/bin/mydocker
before=$(fingerprint "$bin")
make -C "$repo_root" --no-print-directory build
# go build writes the binary on every run; the same content means nothing
# changed (Go's builds are reproducible).
if [[ $(fingerprint "$bin") != "$before" ]]; then
	changed+=("build/bin/mydocker")
fi

busybox=$repo_root/build/images/busybox/rootfs/bin/busybox
before=$(fingerprint "$busybox")
make -C "$repo_root" --no-print-directory image >/dev/null
if [[ $(fingerprint "$busybox") != "$before" ]]; then
	changed+=("build/images/busybox")
fi

if ((${#changed[@]} == 0)); then
	say "nothing to change: everything was already in place"
else
	say "changed: $(printf '%s; ' "${changed[@]}" | sed 's/; $//')"
fi
say "next: cd $repo_root && sudo make demo (and sudo build/bin/mydocker doctor)"
