#!/usr/bin/env bash
# Install what building and testing mydocker need, on Debian 12/13 or
# Ubuntu 22.04/24.04, as root. Safe to run again: it only acts when
# something is missing. Called by `make deps`.
#
# Usage: scripts/deps.sh [--with GROUP[,GROUP...]]...
#   groups: test, bench, registry, vm (see group_packages below)
set -euo pipefail

# The repo root is found from the script's own location, so the script
# works no matter which directory make (or a learner) runs it from.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# Needed by every chapter: busybox-static is what the test image is built
# from; diffutils because tests compare expected and actual output.
base_packages=(busybox-static ca-certificates git make diffutils)

# Extra packages that only later chapters need, so a first-time learner
# does not wait for qemu to download.
group_packages() {
	case $1 in
	test) echo shellcheck iptables iproute2 procps ;;
	bench) echo hyperfine jq runc crun ;;
	registry) echo docker-registry skopeo ;;
	vm) echo qemu-system-x86 cpio ;;
	vagrant) echo vagrant ;;
	*) return 1 ;;
	esac
}

usage() {
	echo "usage: $0 [--with GROUP[,GROUP...]]  (groups: test bench registry vm)"
}

wanted=("${base_packages[@]}")
add_groups() {
	local group pkgs more
	# Accept both "test,bench" and "test bench" so Makefile variables can
	# be passed through either way.
	for group in ${1//,/ }; do
		if ! pkgs=$(group_packages "$group"); then
			echo "deps: unknown group '$group'" >&2
			usage >&2
			exit 2
		fi
		read -ra more <<<"$pkgs"
		wanted+=("${more[@]}")
	done
}

while (($# > 0)); do
	case $1 in
	--with)
		(($# >= 2)) || { usage >&2; exit 2; }
		add_groups "$2"
		shift 2
		;;
	--with=*)
		add_groups "${1#--with=}"
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

# Groups overlap with each other, so drop duplicates before reporting.
mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | sort -u)

status=0
missing=()

# ---- Debian packages -------------------------------------------------------

if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
	# Package names differ between distributions, so guessing an install
	# command for dnf/pacman/apk would be wrong as often as right.
	echo "deps: no apt-get here (not Debian/Ubuntu). Install the equivalents of:" >&2
	echo "  ${wanted[*]}" >&2
	status=1
else
	for pkg in "${wanted[@]}"; do
		# Status is "install ok installed" only when fully installed; a
		# removed package can still be listed as "deinstall ok config-files".
		if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
			missing+=("$pkg")
		fi
	done
fi

if ((${#missing[@]} > 0)); then
	if ((EUID != 0)); then
		echo "deps: missing packages: ${missing[*]}" >&2
		echo "deps: run as root:" >&2
		echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
		status=1
	else
		echo "deps: installing ${missing[*]}" >&2
		# Update only now that an install is certain: it is slow, and a fresh
		# container image has no package lists at all, so it is also needed.
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
fi

# ---- Go toolchain ----------------------------------------------------------

# The version learners need is whatever go.mod says, so there is a single
# place to bump it.
need=$(awk '$1 == "go" { print $2; exit }' "$repo_root/go.mod")
if [[ -z $need ]]; then
	echo "deps: no 'go' line in $repo_root/go.mod" >&2
	exit 1
fi

# Turn "1.26.8", "1.26" or "1.22rc1" into one comparable number; a release
# candidate counts as its release, which is close enough for this check.
version_number() {
	local major minor patch
	IFS=. read -r major minor patch <<<"$1"
	major=${major%%[!0-9]*}
	minor=${minor%%[!0-9]*}
	patch=${patch%%[!0-9]*}
	echo $((${major:-0} * 1000000 + ${minor:-0} * 1000 + ${patch:-0}))
}

go_install_help() {
	local arch
	# go.dev names tarballs by Go's architecture names, not uname's.
	case $(uname -m) in
	x86_64) arch=amd64 ;;
	aarch64) arch=arm64 ;;
	*) arch=$(uname -m) ;;
	esac
	cat >&2 <<EOF
deps: Go $need or newer is needed (see go.mod). Install it from https://go.dev/dl/:
  curl -fsSLO https://go.dev/dl/go$need.linux-$arch.tar.gz
  rm -rf /usr/local/go && tar -C /usr/local -xzf go$need.linux-$arch.tar.gz
  export PATH=/usr/local/go/bin:\$PATH   # also add this to your shell profile
EOF
}

# The official tarball installs to /usr/local/go, which is often not on
# PATH yet in a fresh root shell.
go_bin=$(command -v go || true)
if [[ -z $go_bin && -x /usr/local/go/bin/go ]]; then
	go_bin=/usr/local/go/bin/go
	echo "deps: note: using $go_bin; add /usr/local/go/bin to PATH" >&2
fi

if [[ -z $go_bin ]]; then
	echo "deps: go not found" >&2
	go_install_help
	status=1
else
	# GOTOOLCHAIN=local and running outside the repo make `go version`
	# report the installed toolchain instead of switching to (and possibly
	# downloading) the one go.mod asks for.
	have=$(cd / && GOTOOLCHAIN=local "$go_bin" version | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^go[0-9]/) { print substr($i, 3); exit } }')
	if [[ -z $have ]]; then
		echo "deps: cannot tell the version of $go_bin" >&2
		go_install_help
		status=1
	elif (($(version_number "$have") >= $(version_number "$need"))); then
		: # new enough
	elif (($(version_number "$have") >= $(version_number 1.21))); then
		# Since Go 1.21, go reads the go line of go.mod and, with
		# GOTOOLCHAIN=auto (the default), downloads the matching toolchain
		# from the module proxy by itself, so an older go is enough as long
		# as that switching is not turned off.
		toolchain=${GOTOOLCHAIN:-$(cd / && "$go_bin" env GOTOOLCHAIN)}
		if [[ $toolchain == auto || $toolchain == *+auto ]]; then
			echo "deps: note: go $have is older than go.mod's $need; go will fetch go$need through the module proxy on first use (GOTOOLCHAIN=$toolchain)" >&2
		else
			echo "deps: go $have is older than go.mod's $need, and GOTOOLCHAIN=$toolchain stops go from fetching a newer one" >&2
			go_install_help
			status=1
		fi
	else
		echo "deps: go $have is too old" >&2
		go_install_help
		status=1
	fi
fi

if ((status == 0)); then
	if ((${#missing[@]} == 0)); then
		echo "deps: all present"
	else
		echo "deps: done"
	fi
fi
exit "$status"
