#!/bin/sh
# /init of the VM test lane's initramfs (see scripts/vmtest.sh). It runs as
# PID 1 under busybox sh, in two stages:
#
#   1. On the initramfs itself: copy everything to a tmpfs and switch_root
#      there. The initramfs root ("rootfs") can never be unmounted, so
#      pivot_root(2) refuses to move it away, and chapter 03's pivot_root
#      would fail inside the VM. A tmpfs root behaves like a disk root.
#   2. On the tmpfs: mount what a distribution mounts (cgroup2 unified at
#      /sys/fs/cgroup), load the kernel modules the checks need, run the
#      checks, print "VMTEST: PASS" or "VMTEST: FAIL ..." and power off.
#
# Kernel command line options read here: vmtest.debug=1 (trace this script),
# vmtest.shell=1 (a shell on the console after the checks).

if [ "${1:-}" != stage2 ]; then
	mount -t tmpfs -o mode=0755 tmpfs /newroot
	for entry in /*; do
		[ "$entry" = /newroot ] || cp -a "$entry" /newroot/
	done
	# switch_root empties the initramfs (freeing its memory), makes
	# /newroot the root and runs /init there.
	exec switch_root /newroot /init stage2
fi

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

cmdline=
option() {
	case " $cmdline " in
	*" vmtest.$1=1 "*) return 0 ;;
	*) return 1 ;;
	esac
}

finish() {
	echo "VMTEST: $*"
	if option shell; then
		echo "vmtest: a shell in the VM; exit it to power off"
		setsid cttyhack sh -l
	fi
	# -f: no init to ask; the kernel powers off and qemu exits.
	poweroff -f
	echo o >/proc/sysrq-trigger
}
fail() { finish "FAIL ($*)"; }

mount -t proc proc /proc || fail "mount /proc"
cmdline=$(cat /proc/cmdline)
if option debug; then set -x; fi
read -r uptime _ </proc/uptime
echo "vmtest: /init started at ${uptime}s of uptime, kernel $(uname -r)"

# The mounts a distribution's init makes. cgroup2 alone at /sys/fs/cgroup is
# the unified hierarchy (what systemd.unified_cgroup_hierarchy=1 asks
# systemd for). No controller is enabled in the root's cgroup.subtree_control:
# mydocker must enable what it uses, as it must on any host without systemd.
mount -t sysfs sysfs /sys || fail "mount /sys"
mount -t cgroup2 cgroup2 /sys/fs/cgroup || fail "mount cgroup2 on /sys/fs/cgroup"
mount -t devtmpfs devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts || fail "mount /dev/pts"
mount -t tmpfs -o mode=1777 shm /dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o mode=0755 tmpfs /run || fail "mount /run"
# systemd makes every mount shared; so do we, so that a container that
# forgets to make its mounts private leaks them here as it would there.
mount --make-rshared / || fail "make / shared"
hostname vmtest
ip link set lo up || fail "bring up lo"

# The package has no modules.dep, so the host computed the load order.
while read -r module; do
	insmod "/lib/modules/vmtest/$module.ko" || fail "insmod $module"
done </lib/modules/vmtest/modules.load

# The checks' own arguments, one a line (so a -test.run regex needs no quoting).
set --
while IFS= read -r arg; do
	set -- "$@" "$arg"
done </vm/args

cd /vm/checks || fail "no /vm/checks"
read -r uptime _ </proc/uptime
echo "vmtest: running the checks at ${uptime}s of uptime: checks.test $*"
# The VM has no docker-registry and no skopeo (nor a network device to
# fetch them): MYDOCKER_NO_REGISTRY=1 leaves out the checks marked
# [registry], which the host's lane runs.
HOME=/root TMPDIR=/tmp MYDOCKER_E2E=1 MYDOCKER_NO_REGISTRY=1 \
	MYDOCKER_BIN=/vm/mydocker MYDOCKER_IMAGE=/vm/images/busybox/rootfs \
	/vm/checks.test "$@"
status=$?
read -r uptime _ </proc/uptime
echo "vmtest: the checks ended at ${uptime}s of uptime with exit code $status"
if [ "$status" -ne 0 ]; then
	echo "vmtest: the kernel's last messages:"
	dmesg | tail -n 30
	fail "the checks exited with $status"
fi
finish PASS
