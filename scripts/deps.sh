#!/usr/bin/env bash
# Install the Debian packages that building and testing mydocker need, on
# Debian 12/13 or Ubuntu 22.04/24.04, as root. Safe to run again: it only
# acts when something is missing. Go itself is scripts/install-go.sh's.
# apt's own output goes to build/deps.log; what is installed is said in one
# line.
#
# Usage: scripts/deps.sh [--with GROUP[,GROUP...]]...
#   groups: test, registry, vm, bench, vagrant, fresh, go-download (see
#   group_packages)
set -euo pipefail

# The repo root is found from the script's own location, so the script
# works no matter which directory make (or a learner) runs it from.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

# What `make demo` needs: busybox-static is what the image is built from;
# git because go build stamps the binary with the commit.
base_packages=(busybox-static ca-certificates git make)

# What only the tests need, so that a first-time learner's demo does not
# wait for qemu to download. A minimal Debian 13 has no xz, zstd nor
# mkfs.ext4: each group names every program its scripts call beyond those
# that every Debian and Ubuntu system has.
group_packages() {
	case $1 in
	# lint; the checks and the leak check; scripts/vmkernel_test.go (xz, zstd)
	test) echo shellcheck iptables iproute2 procps diffutils xz-utils zstd ;;
	# chapter 05's pull and push
	registry) echo docker-registry skopeo ;;
	# scripts/vmtest.sh: kernel modules come as .ko, .ko.xz or .ko.zst
	vm) echo qemu-system-x86 cpio xz-utils zstd ;;
	# bench/bench.sh: the peers, and mkfs.ext4 for its file system
	bench) echo hyperfine jq runc crun e2fsprogs ;;
	# scripts/test-vm-config.sh
	vagrant) echo vagrant ;;
	# scripts/install-go.sh, where Go must be downloaded
	go-download) echo curl unzip ;;
	# scripts/fresh.sh
	fresh) echo debootstrap ;;
	*) return 1 ;;
	esac
}

usage() {
	echo "usage: $0 [--with GROUP[,GROUP...]]  (groups: test registry vm bench vagrant fresh go-download)"
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

log=$repo_root/build/deps.log

# install_packages installs its arguments, with apt's output in $log; on a
# failure the end of the log is shown. No service starts while it runs:
# a policy-rc.d that says no (exit 101) is what Debian's maintainer scripts
# ask before they start one, and docker-registry's would start a registry
# listening on every interface.
install_packages() {
	local policy=/usr/sbin/policy-rc.d ours=0
	mkdir -p "$(dirname "$log")"
	echo "deps: installing $* (apt's output: ${log#"$repo_root"/})"
	# One that says it is ours was left by a run that was killed: it is
	# ours to remove.
	if [[ ! -e $policy ]] || grep -q '^# mydocker scripts/deps.sh' "$policy"; then
		printf '#!/bin/sh\n# mydocker scripts/deps.sh: no service starts during its install\nexit 101\n' >"$policy"
		chmod 0755 "$policy"
		ours=1
		# shellcheck disable=SC2064 # expand now: $policy is local
		trap "rm -f '$policy'" EXIT
	fi
	# Update only now that an install is certain: it is slow, and a fresh
	# machine has no package lists at all, so it is also needed.
	export DEBIAN_FRONTEND=noninteractive
	if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; } >>"$log" 2>&1; then
		tail -n 20 "$log" >&2
		echo "deps: apt-get failed (above; all of it in $log)" >&2
		exit 1
	fi
	if ((ours)); then
		rm -f "$policy"
		trap - EXIT
	fi
}

# keep_registry_off stops and disables Debian's docker-registry service,
# whenever the package is installed, by this script or before: the checks
# start registries of their own on 127.0.0.1, and nothing that this script
# installs may listen on the network or start at boot.
keep_registry_off() {
	[[ -e /etc/init.d/docker-registry || -e /lib/systemd/system/docker-registry.service ]] || return 0
	mkdir -p "$(dirname "$log")"
	{
		if command -v systemctl >/dev/null; then
			# Without a running systemd (a container, a chroot) --now
			# cannot stop anything, but disable still removes the links.
			systemctl disable --now docker-registry.service || systemctl disable docker-registry.service || true
		fi
		if [[ -x /etc/init.d/docker-registry ]]; then
			/etc/init.d/docker-registry stop || true
			update-rc.d docker-registry disable || true
		fi
	} >>"$log" 2>&1
}

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
		install_packages "${missing[@]}"
	fi
fi

if ((status == 0)); then
	keep_registry_off
	if ((${#missing[@]} == 0)); then
		echo "deps: all present"
	else
		echo "deps: done"
	fi
fi
exit "$status"
