#!/usr/bin/env bash
# The fresh-machine lane: the README's two commands, as the README prints
# them, on fresh minimal Debian roots. A machine that has been used for a
# while has things installed by hand, and a green make test there can hide
# a missing install step; a root made by debootstrap a minute ago cannot.
#
# For each distribution it makes a minimal root (debootstrap
# --variant=minbase), clones this repository's HEAD into /root/mydocker,
# enters the root as a machine of its own would be entered (new mount, PID,
# UTS and IPC namespaces, /proc /sys /dev from the host, pivot_root; the
# host's network), and runs the two commands in a clean environment. Any
# failure fails the lane. Debian 12's root has no Go (the set-up must
# install it); Debian 13's has Debian's own Go, 1.24, older than go.mod's.
#
# Usage: scripts/fresh.sh [DIST...]   (default: bookworm trixie; as root)
# Environment:
#   FRESH_MIRROR   the Debian mirror (default: the first of the host's
#                  apt sources that is a Debian archive, else deb.debian.org)
#   FRESH_TIMEOUT  seconds for one distribution's two commands (default 2700)
#   FRESH_KEEP=1   keep each root in build/_fresh/ after it passed (the "_"
#                  keeps go's ./... patterns out of the Go sources in it)
#   FRESH_LOCK     a file to flock around each of the two commands, so that
#                  other end-to-end tests on this host (whose leak checks
#                  see the same cgroups) do not run at the same time
# Where the host reaches the network through a proxy with a certificate
# authority of its own, each root gets the host's local CA certificates
# (/usr/local/share/ca-certificates), its apt proxy settings and its
# proxy and GOPROXY variables, and nothing more.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root=$(pwd -P)

die() {
	echo "fresh: $*" >&2
	exit 1
}
say() { echo "fresh: $*"; }

((EUID == 0)) || die "run me as root: debootstrap and the namespaces need it"
for tool in debootstrap unshare git timeout; do
	command -v "$tool" >/dev/null || die "$tool not found: run scripts/deps.sh --with fresh"
done
timeout=${FRESH_TIMEOUT:-2700}
[[ $timeout =~ ^[0-9]+$ ]] || die "FRESH_TIMEOUT=$timeout: want a number of seconds"
dists=("$@")
((${#dists[@]} > 0)) || dists=(bookworm trixie)

# The README's two commands: the lines of the first code block after the
# heading "## Two commands", each without its comment.
mapfile -t commands < <(awk '
	/^## Two commands/ { section = 1; next }
	section && /^```/ { if (block) exit; block = 1; next }
	block { sub(/[ \t]+#.*$/, ""); if ($0 != "") print }' README.md)
((${#commands[@]} == 2)) || die "README.md's \"Two commands\" block has ${#commands[@]} commands, not 2"

mirror=${FRESH_MIRROR:-$(
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ' || true
)}
mirror=${mirror:-http://deb.debian.org/debian}

# A clean environment, as a fresh root shell has, plus what reaching the
# network here needs.
environment=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	TERM=dumb LANG=C.UTF-8 CI="${CI:-}")
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY GOPROXY GONOSUMDB GOPRIVATE; do
	if [[ -n ${!name:-} ]]; then
		environment+=("$name=${!name}")
	fi
done

# make_root DIST DIR: a minimal root with what the host's network needs.
make_root() {
	local dist=$1 root=$2 file
	say "$dist: debootstrap --variant=minbase from $mirror"
	mkdir -p "$(dirname "$root")"
	if ! debootstrap --variant=minbase "$dist" "$root" "$mirror" >"$root.debootstrap.log" 2>&1; then
		tail -n 20 "$root.debootstrap.log" >&2
		die "$dist: debootstrap failed (all of it in $root.debootstrap.log)"
	fi
	# The host's own certificate authorities: ca-certificates, once the
	# set-up installs it, adds them to the root's bundle.
	if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
		cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/"
	fi
	for file in /etc/apt/apt.conf.d/*; do
		if grep -qi 'proxy' "$file" 2>/dev/null; then
			cp "$file" "$root/etc/apt/apt.conf.d/"
		fi
	done
	cp /etc/resolv.conf "$root/etc/resolv.conf"
}

# in_root DIR COMMAND: runs the shell command in the root, entered as its
# own machine, for at most $timeout seconds. Everything that the run leaves (processes, mounts) goes
# with the namespaces when it ends.
in_root() {
	local root=$1 command=$2
	# The script that runs as PID 1 of the new namespaces: it mounts what a
	# booted system has, moves into the root and drops the host's tree.
	# shellcheck disable=SC2016 # expanded by that inner shell
	local enter='
		set -e
		root=$1
		shift
		mount --bind "$root" "$root"
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mount --rbind /dev "$root/dev"
		mount -t tmpfs -o mode=0755 tmpfs "$root/run"
		cd "$root"
		mkdir -p .host
		pivot_root . .host
		umount -l /.host
		rmdir /.host
		cd /
		exec env -i "$@"'
	# --kill-child: when timeout ends unshare, every process in the root
	# goes with it.
	timeout -k 30 "$timeout" unshare --mount --pid --fork --kill-child --uts --ipc --propagation private \
		bash -c "$enter" enter "$root" "${environment[@]}" bash -c "$command"
}

# remove_root deletes a root and its logs. A debootstrap that was killed
# may have left /proc or /sys mounted in it, in the host's namespace: those
# are unmounted first, and rm never crosses into a file system it missed.
remove_root() {
	local root=$1
	awk -v root="$root/" 'index($5, root) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while IFS= read -r mount; do umount -l "$mount"; done
	rm -rf --one-file-system "$root" "$root".*.log
}

lane() {
	local dist=$1 root=$repo_root/build/_fresh/$1 start=$SECONDS command status
	remove_root "$root"
	make_root "$dist" "$root"
	case $dist in
	bookworm) ;; # no Go at all: the set-up must install it
	*)
		say "$dist: installing Debian's own Go (golang-go), as a learner may have"
		in_root "$root" 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go' \
			>"$root.golang.log" 2>&1 || { tail -n 20 "$root.golang.log" >&2; die "$dist: apt-get install golang-go failed"; }
		say "$dist: $(in_root "$root" 'go version')"
		;;
	esac
	git clone -q "$repo_root" "$root/root/mydocker"
	say "$dist: a clone of $(git rev-parse --short HEAD) in /root/mydocker"
	for command in "${commands[@]}"; do
		say "$dist: # $command"
		status=0
		{
			if [[ -n ${FRESH_LOCK:-} ]]; then
				flock 9
			fi
			in_root "$root" "cd /root/mydocker && $command" 2>&1 | sed -u "s/^/[$dist] /" || status=${PIPESTATUS[0]}
		} 9>>"${FRESH_LOCK:-/dev/null}"
		((status == 0)) || die "$dist: \`$command\` failed with exit code $status$( ((status == 124)) && echo " (timed out after ${timeout}s)")"
	done
	check_nothing_listens "$dist" "$root"
	say "$dist: passed in $((SECONDS - start))s"
	if [[ ${FRESH_KEEP:-0} != 1 ]]; then
		remove_root "$root"
	fi
}

# check_nothing_listens fails when the set-up left a service to start at
# boot: Debian's docker-registry package enables one that listens on every
# interface, and the set-up must turn it off.
check_nothing_listens() {
	local dist=$1 root=$2 links
	links=$(find "$root"/etc/rc?.d "$root/etc/systemd/system" -name 'S*docker-registry' -o -name 'docker-registry.service' 2>/dev/null || true)
	[[ -z $links ]] || die "$dist: docker-registry still starts at boot: $links"
}

for dist in "${dists[@]}"; do
	lane "$dist"
done
say "passed: ${dists[*]}"
