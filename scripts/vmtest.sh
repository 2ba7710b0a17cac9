#!/usr/bin/env bash
# The VM test lane: run the end-to-end checks of every chapter under cgroup v2
# on Debian's own kernel, in a qemu VM. This host runs cgroup v1 (hybrid) and
# has no KVM, so qemu emulates the CPU (TCG); see docs/testing.md.
#
# The VM boots straight into an initramfs that this script builds: busybox,
# the kernel modules the checks need, the checks as a test binary, mydocker
# and the busybox image. A debootstrap'd disk would also work, but it takes
# about 80 s and 200 MB to make (as root), and the kernel must then find it
# through a disk driver; the initramfs is 8 MB (17 MB unpacked), takes a
# second or two to build and is in memory as soon as the kernel starts.
#
# Usage: scripts/vmtest.sh [--run REGEX] [--shell] [--debug]
#   --run REGEX  run only the checks that match, as go test -run does
#                (e.g. TestChapters/03-mount)
#   --shell      give a shell on the VM's console after the checks
#   --debug      show the kernel's boot messages and trace /init
# Environment:
#   VMTEST_TIMEOUT  seconds before qemu is stopped (default 600)
#   VMTEST_KERNEL   the kernel packages, space-separated (default: those of
#                   the distribution's current kernel, see scripts/vmkernel.sh)
#
# Downloads and builds are kept in build/vm/; the last console output is
# build/vm/console.log. The VM has no network device at all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/vmkernel.sh
source scripts/vmkernel.sh

vm_dir=build/vm
busybox=${BUSYBOX:-/bin/busybox}
image=build/images/busybox/rootfs
image_tar=build/images/busybox/busybox.tar
timeout=${VMTEST_TIMEOUT:-600}

# The modules loaded at boot: overlay (images), veth and bridge (networks),
# and the netfilter modules of NAT with iptables-nft (port mapping). Their
# dependencies (llc, stp, nf_conntrack, ...) are found and loaded first.
modules=(overlay veth bridge br_netfilter nf_tables nft_compat nft_chain_nat
	xt_MASQUERADE xt_addrtype xt_conntrack xt_nat xt_comment)

# The modules that provide what a module's soft dependency names by an
# alias. The package has no modules.alias to look them up in; the generic
# crc32c is the one that runs on every CPU, also qemu's emulated one.
declare -A module_aliases=([crc32c]=crc32c_generic)

# Host programs the checks run that busybox lacks, copied with the shared
# libraries they need: ipcmk and ipcrm (chapter 02), bash (chapter 03 checks
# that the host's bash is not what the container runs).
host_tools=(/usr/bin/ipcmk /usr/bin/ipcrm /bin/bash)

run_regex=
shell=0
debug=0
while (($# > 0)); do
	case $1 in
	--run)
		(($# >= 2)) || { echo "usage: $0 [--run REGEX] [--shell] [--debug]" >&2; exit 2; }
		run_regex=$2
		shift 2
		;;
	--shell) shell=1 && shift ;;
	--debug) debug=1 && shift ;;
	*)
		echo "usage: $0 [--run REGEX] [--shell] [--debug]" >&2
		exit 2
		;;
	esac
done

die() {
	echo "vmtest: $*" >&2
	exit 1
}
note() { echo "vmtest: $*" >&2; }

[[ $(uname -m) == x86_64 ]] ||
	die "the VM lane boots an amd64 kernel under qemu-system-x86_64, and this is $(uname -m); on a cgroup v2 host make test needs no VM lane"
for tool in qemu-system-x86_64 cpio dpkg-deb apt-get go gzip ldd xz zstd; do
	command -v "$tool" >/dev/null || die "$tool not found: run scripts/deps.sh --with vm"
done
[[ -x $busybox ]] || die "$busybox not found: run scripts/deps.sh (package busybox-static)"
# ldd fails on a static binary, and only a static busybox runs without libc.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static"
fi
[[ -x $image/bin/busybox && -f $image_tar ]] || die "no busybox image at $image (and $image_tar): run make image"
[[ $timeout =~ ^[0-9]+$ ]] || die "VMTEST_TIMEOUT=$timeout: want a number of seconds"

# Two runs at once would build over each other's files.
mkdir -p "$vm_dir"
exec 9>"$vm_dir/lock"
flock -n 9 || die "another vmtest is running (it holds $vm_dir/lock)"

# ---- the kernel --------------------------------------------------------------

mkdir -p "$vm_dir/debs"
read -ra packages <<<"${VMTEST_KERNEL:-$(kernel_packages)}"
if ((${#packages[@]} == 0)) && ((EUID == 0)); then
	note "no package lists: apt-get update"
	apt-get update -qq
	read -ra packages <<<"$(kernel_packages)"
fi
# debs_of prints the downloaded files of the packages, one a line: of
# each, the newest version downloaded.
debs_of() {
	local package newest
	for package in "$@"; do
		newest=$(find "$vm_dir/debs" -maxdepth 1 -name "${package}_*.deb" | sort -V | tail -n 1)
		[[ -n $newest ]] || return 1
		echo "$newest"
	done
}
debs=()
if ((${#packages[@]} > 0)); then
	if ! mapfile -t debs < <(debs_of "${packages[@]}") || ((${#debs[@]} < ${#packages[@]})); then
		note "downloading ${packages[*]}"
		# apt-get download needs no root, only the package lists.
		(cd "$vm_dir/debs" && apt-get download -q "${packages[@]}" >/dev/null) || true
		mapfile -t debs < <(debs_of "${packages[@]}" || true)
	fi
fi
if ((${#packages[@]} == 0 || ${#debs[@]} < ${#packages[@]})); then
	# Offline, or no package lists: the kernel downloaded before will do.
	[[ -f $vm_dir/debs/last ]] ||
		die "cannot download the kernel (${packages[*]:-no kernel package found}); as root, run apt-get update first"
	mapfile -t debs <"$vm_dir/debs/last"
	note "using the kernel downloaded before: ${debs[0]}"
else
	printf '%s\n' "${debs[@]}" >"$vm_dir/debs/last"
fi
deb=${debs[0]}
kernel_dir=$vm_dir/kernel/$(basename "$deb" .deb)

# extract_kernel unpacks the kernel and the modules that are needed into
# $kernel_dir, with modules.load: their names in an order that insmod can
# load them in. The package has no modules.dep, so each module's
# dependencies are read from its .modinfo section ("depends=llc,stp").
extract_kernel() {
	local tree name path file vmlinuz modules_dir
	tree=$(mktemp -d "$vm_dir/.extract.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $tree is local
	trap "rm -rf '$tree'" EXIT
	for file in "${debs[@]}"; do
		note "unpacking $file"
		dpkg-deb -x "$file" "$tree"
	done
	vmlinuz=$(find_vmlinuz "$tree") || die "no boot/vmlinuz-* in ${debs[*]}"
	modules_dir=$(find_modules_dir "$tree") || die "no lib/modules/VERSION/kernel in ${debs[*]}"
	rm -rf "$kernel_dir"
	mkdir -p "$kernel_dir/modules"
	cp "$vmlinuz" "$kernel_dir/vmlinuz"

	declare -A module_path=() added=()
	local order=()
	while read -r name path; do
		module_path[$name]=$path
	done < <(list_modules "$modules_dir")

	add_module() {
		local name=${1//-/_} dep deps info words word part=
		[[ -z ${added[$name]:-} ]] || return 0
		added[$name]=1
		if [[ -z ${module_path[$name]:-} ]]; then
			# Built into the kernel: nothing to load.
			grep -Eq "/(${name}|${name//_/-})\.ko" "$modules_dir/modules.builtin" ||
				die "the kernel has no module $name"
			return 0
		fi
		info=$(module_content "${module_path[$name]}" | tr '\0' '\n' | grep -a -E '^(depends|softdep)=' || true)
		IFS=, read -ra deps <<<"$(sed -n 's/^depends=//p' <<<"$info")"
		# A soft dependency ("softdep=pre: crc32c") is one that the module
		# asks for at run time, often by an alias.
		read -ra words <<<"$(sed -n 's/^softdep=//p' <<<"$info")"
		for word in "${words[@]}"; do
			case $word in
			pre:) part=pre ;;
			*:) part=other ;;
			*)
				[[ $part == pre ]] || continue
				dep=${module_aliases[$word]:-$word}
				[[ -n ${module_path[${dep//-/_}]:-} ]] ||
					die "module $name needs $word first, which is no module's name: add the module to module_aliases in $0"
				deps+=("$dep")
				;;
			esac
		done
		for dep in "${deps[@]}"; do
			add_module "$dep"
		done
		module_content "${module_path[$name]}" >"$kernel_dir/modules/$name.ko"
		order+=("$name")
	}
	for name in "${modules[@]}"; do
		add_module "$name"
	done
	printf '%s\n' "${order[@]}" >"$kernel_dir/modules.load"
	rm -rf "$tree"
	trap - EXIT
}

# The list of modules lives in this script: unpack again when it changes.
if ! [[ -f $kernel_dir/modules.load && $kernel_dir/modules.load -nt scripts/vmtest.sh ]]; then
	extract_kernel
fi

# ---- the checks and what they run -------------------------------------------

# A check that execs a program the VM lacks would fail in the VM with a
# puzzling "not found"; say so here, before booting. Programs run through
# `sh -c` are not seen by this, nor are those of the lines marked
# [registry], which the VM leaves out (MYDOCKER_NO_REGISTRY=1 in
# vmtest-init.sh): it has no docker-registry and no skopeo.
missing_programs() {
	local known
	known=$(
		"$busybox" --list
		printf '%s\n' "${host_tools[@]##*/}" mydocker wait-for
	)
	awk 'FNR == 1 { script = 1 } /^-- .* --$/ { script = 0 }
		script && !/^[ \t]*(\[[^]]*\][ \t]*)*\[registry\]/ {
			sub(/^[ \t]*/, ""); while (sub(/^(\[[^]]*\]|!|\?)[ \t]*/, "")) {}
			if ($1 == "exec" && $2 ~ /^[A-Za-z0-9_.+-]+$/) print $2
		}' chapters/checks/testdata/*.txtar | sort -u | grep -vxF -f <(echo "$known") || true
}
missing=$(missing_programs)
[[ -z $missing ]] ||
	die "the checks run programs that the VM lacks (add them to host_tools in $0): ${missing//$'\n'/ }"

note "building the checks and mydocker"
# CGO_ENABLED=0: static binaries, as the VM has no libc for them. -s -w
# leave out the symbol tables (not the stack traces): a smaller initramfs.
CGO_ENABLED=0 go test -c -ldflags='-s -w' -o "$vm_dir/checks.test" ./chapters/checks
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$vm_dir/mydocker" ./mydocker

# ---- the initramfs -----------------------------------------------------------

# copy_with_libraries copies a dynamically linked host program to the same
# path in the tree $1, with the shared libraries and loader it needs.
copy_with_libraries() {
	local tree=$1 program=$2 file
	install -D -m 0755 "$program" "$tree$program"
	while IFS= read -r file; do
		install -D -m 0755 "$file" "$tree$file"
	done < <(ldd "$program" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

# newc_entry prints one entry of the "newc" cpio format with no data: the
# kernel wants /dev/console in the initramfs (it opens the console for /init
# before anything is mounted), and cpio can only archive a real device node,
# which only root can make.
newc_entry() {
	local name=$1 mode=$2 major=$3 minor=$4 namesize
	namesize=$((${#name} + 1))
	# magic, then ino mode uid gid nlink mtime filesize devmajor devminor
	# rdevmajor rdevminor namesize check, each 8 hex digits.
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$mode" 0 0 1 0 0 0 0 "$major" "$minor" "$namesize" 0
	printf '%s\0' "$name"
	# The 110-byte header and the name are padded to a multiple of 4 bytes.
	head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
}

note "building the initramfs"
tree=$vm_dir/initramfs
rm -rf "$tree"
mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,root,etc,newroot} \
	"$tree"/lib/modules/vmtest "$tree"/vm/checks "$tree"/vm/images/busybox
install -d -m 1777 "$tree/tmp"
install -m 0755 "$busybox" "$tree/bin/busybox"
while IFS= read -r applet; do
	[[ $applet == bin/busybox ]] || ln -s /bin/busybox "$tree/$applet"
done < <("$busybox" --list-full)
install -m 0755 scripts/vmtest-init.sh "$tree/init"
echo 'root:x:0:0:root:/root:/bin/sh' >"$tree/etc/passwd"
echo 'root:x:0:' >"$tree/etc/group"
for tool in "${host_tools[@]}"; do
	copy_with_libraries "$tree" "$tool"
done
cp "$kernel_dir"/modules/*.ko "$kernel_dir/modules.load" "$tree/lib/modules/vmtest/"

cp "$vm_dir/checks.test" "$vm_dir/mydocker" "$tree/vm/"
cp -r chapters/checks/testdata "$tree/vm/checks/"
cp -a "$image" "$tree/vm/images/busybox/rootfs"
# The image as a tarball too, for the checks of import (chapter 05 on).
cp "$image_tar" "$tree/vm/images/busybox/busybox.tar"
args=(-test.v -test.timeout "$((timeout > 60 ? timeout - 30 : timeout))s")
[[ -z $run_regex ]] || args+=(-test.run "$run_regex")
printf '%s\n' "${args[@]}" >"$tree/vm/args"

initrd=$vm_dir/initrd.img
{
	(cd "$tree" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
	newc_entry dev/console $((8#20600)) 5 1
	newc_entry 'TRAILER!!!' 0 0 0
} | gzip -1 >"$initrd"

# ---- the VM ------------------------------------------------------------------

append="console=ttyS0 panic=-1"
if ((debug)); then
	append+=" loglevel=7 vmtest.debug=1"
else
	# Only the kernel's critical messages: an OOM kill, which the cgroup
	# checks cause on purpose, must not land in the middle of their output.
	append+=" quiet loglevel=3"
fi
((shell == 0)) || append+=" vmtest.shell=1"

# -nodefaults and -nic none: no network device (and no other device that
# is not asked for); the kernel's console is the serial port, on stdio.
qemu=(qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nodefaults -nic none
	-display none -serial stdio -no-reboot
	-kernel "$kernel_dir/vmlinuz" -initrd "$initrd" -append "$append")
log=$vm_dir/console.log
note "booting $(basename "$deb" .deb) ($(du -k "$initrd" | cut -f1) KiB initramfs), timeout ${timeout}s"
start=$SECONDS
if ((shell)); then
	# The console is this terminal, to type into.
	status=0
	timeout --foreground "$timeout" "${qemu[@]}" || status=$?
	exit "$status"
fi
set +e
# The serial console ends lines with \r\n; keep plain lines.
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 | sed -u 's/\r$//' | tee "$log"
status=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - start))

result=$(grep -a '^VMTEST: ' "$log" | tail -n 1 || true)
if ((status == 124)); then
	echo "VMTEST: FAIL (timed out after ${timeout}s)"
	exit 1
elif [[ -z $result ]]; then
	echo "VMTEST: FAIL (the VM ended without a result, qemu exit code $status: run with --debug to see the boot)"
	exit 1
elif [[ $result != "VMTEST: PASS" ]]; then
	echo "vmtest: failed after ${elapsed}s; the console output is in $log" >&2
	exit 1
fi
note "passed in ${elapsed}s"
