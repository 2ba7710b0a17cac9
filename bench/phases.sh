#!/usr/bin/env bash
# Where the time of one `mydocker run IMAGE /bin/true` goes: runs it RUNS
# times under `perf record` with a few scheduler and system-call tracepoints
# (cheap, unlike strace, which stops the process at every system call), then
# prints the median time of each phase of the start, from the exec of
# mydocker to its exit. docs/performance.md explains the phases.
#
# Usage: bench/phases.sh [RUNS]   (default 50)
# Environment: MYDOCKER_BIN (default build/bin/mydocker), IMAGE_TAR (the
# image to import and run, default build/images/busybox/busybox.tar). Needs
# root and perf (Debian: linux-perf).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${1:-50}
bin=${MYDOCKER_BIN:-build/bin/mydocker}
tarball=${IMAGE_TAR:-build/images/busybox/busybox.tar}

die() {
	echo "phases: $*" >&2
	exit 1
}
((EUID == 0)) || die "needs root: run it as root"
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
command -v perf >/dev/null || die "perf not found: apt-get install linux-perf"
[[ -x $bin ]] || die "$bin not found: run make build"
[[ -f $tarball ]] || die "$tarball not found: run make image"
bin=$(realpath "$bin")

work=$(mktemp -d "${TMPDIR:-/tmp}/mydocker-phases.XXXXXX")
# From chapter 04 on, the containers' cgroups go under a parent cgroup of
# this script's own, removed at the end (mydocker keeps its parent cgroup).
parent=mdphases-${work##*.}
run_flags=()
run_help=$("$bin" run --help 2>&1 || true)
if [[ $run_help == *--cgroup-parent* ]]; then
	run_flags+=(--cgroup-parent "$parent")
fi
cleanup() {
	find /sys/fs/cgroup -maxdepth 6 -depth -type d -path "*/$parent*" -exec rmdir {} + 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# As bench.sh does, run a copy: its pages come into the page cache as an
# installed binary's do, not as the linker wrote them (docs/performance.md).
cp "$bin" "$work/mydocker"
bin=$work/mydocker
"$bin" --help >/dev/null 2>&1 || die "cannot run programs from $work (mounted noexec?): set TMPDIR to a directory that can"

# The boundaries of the phases, as the kernel sees them.
events=(
	sched:sched_process_exec sched:sched_process_fork sched:sched_process_exit
	syscalls:sys_enter_flock syscalls:sys_exit_renameat syscalls:sys_enter_clone
	syscalls:sys_enter_execve syscalls:sys_enter_read syscalls:sys_enter_mount
	syscalls:sys_exit_waitid
)
event_args=()
for e in "${events[@]}"; do
	event_args+=(-e "$e")
done

# The image, imported once, and one warm-up run, so that the binary and the
# layer are in the page cache, as they are in the benchmark.
"$bin" --root "$work/root" import "$tarball" mdphases >/dev/null
"$bin" --root "$work/root" run "${run_flags[@]}" mdphases /bin/true
# shellcheck disable=SC2016 # the loop's variables are the inner sh's
perf record --quiet -a "${event_args[@]}" -o "$work/perf.data" -- \
	sh -c 'n=$1; shift; i=0; while [ "$i" -lt "$n" ]; do "$@" || exit; i=$((i + 1)); done' \
	sh "$runs" "$bin" --root "$work/root" run "${run_flags[@]}" mdphases /bin/true 2>"$work/perf.log" ||
	die "perf record failed: $(cat "$work/perf.log")"

# perf script prints one event a line: comm pid/tid time: event: details.
# Per run: P is mydocker run (the exec of $bin) and C its container init
# (the child of P's clone with CLONE_NEWNS). Each phase ends at the next
# event of the list below; if the start path changes, so must the list.
perf script -i "$work/perf.data" -F comm,pid,tid,time,event,trace 2>/dev/null | awk -v bin="$bin" '
function add(phase, d) { took[phase, ++count[phase]] = d * 1000 }
function next_phase() { add(step, t - last); last = t; step++ }
# new_mount_ns says whether this clone asks for CLONE_NEWNS (0x00020000):
# the fifth hex digit from the right of clone_flags has its 2 bit set.
function new_mount_ns(   f, d) {
	f = $0; sub(/.*clone_flags: 0x/, "", f); sub(/,.*/, "", f)
	d = substr(f, length(f) - 4, 1)
	return d ~ /[2367abef]/
}
{
	split($2, id, "/"); pid = id[1]
	t = $3; sub(/:$/, "", t)
	ev = $4; sub(/:$/, "", ev)
}
ev == "sched:sched_process_exec" && index($0, "filename=" bin " ") {
	P = pid; C = ""; cloner = ""; start = last = t; step = 1; next
}
P == "" { next }
step == 1 && pid == P && ev == "syscalls:sys_enter_flock" { next_phase(); next }
step == 2 && pid == P && ev == "syscalls:sys_exit_renameat" { next_phase(); next }
step == 3 && pid == P && ev == "syscalls:sys_enter_clone" && new_mount_ns() { cloner = $2; next_phase(); next }
cloner != "" && $2 == cloner && ev == "sched:sched_process_fork" {
	C = $NF; sub(/.*=/, "", C); cloner = ""; next
}
step == 4 && pid == C && ev == "syscalls:sys_enter_execve" { next_phase(); next }
step == 5 && pid == C && ev == "syscalls:sys_enter_read" && /fd: 0x0*4,/ && /count: 0x0*1$/ { next_phase(); next }
step == 6 && pid == C && ev == "syscalls:sys_enter_mount" { next_phase(); next }
step == 7 && pid == C && ev == "syscalls:sys_enter_execve" { next_phase(); next }
step == 8 && pid == C && ev == "sched:sched_process_exit" && /group_dead=true/ { next_phase(); next }
step == 9 && pid == P && ev == "syscalls:sys_exit_waitid" { next_phase(); next }
step == 10 && pid == P && ev == "sched:sched_process_exit" && /group_dead=true/ {
	next_phase(); add(step, t - start); runs++; P = ""; next
}
END {
	name[1] = "mydocker starts: exec, Go runtime, package init, flags, image"
	name[2] = "container directory, overlay directories, config.json"
	name[3] = "cgroup made, a thread joins it; Go checks pidfd support"
	name[4] = "clone(2) into new namespaces, until the child calls exec"
	name[5] = "init starts: exec, Go runtime, reads its spec"
	name[6] = "init waits for the go-ahead"
	name[7] = "rootfs: private, overlay, pivot_root, /proc /dev /sys, devices"
	name[8] = "/bin/true: exec, run, exit"
	name[9] = "namespaces torn down, mydocker run wakes up"
	name[10] = "run cleans up: cgroup, container directory; waits for RemoveAbandoned; exits"
	name[11] = "total, from the exec of mydocker to its exit"
	if (runs == 0) {
		print "phases: no complete run in the trace: has the start path changed? (see the event list in bench/phases.sh)" > "/dev/stderr"
		exit 1
	}
	printf "%d runs of mydocker run IMAGE /bin/true; median of each phase:\n\n", runs
	for (p = 1; p <= 11; p++) {
		n = count[p]
		for (i = 1; i <= n; i++) v[i] = took[p, i]
		for (i = 2; i <= n; i++) { # insertion sort: mawk has no asort
			x = v[i]
			for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]
			v[j + 1] = x
		}
		if (p == 11) print ""
		printf "%6.2f ms  %s\n", (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2, name[p]
	}
	print "\nEach line is a median of its own, so the lines need not add up to the total."
}'
