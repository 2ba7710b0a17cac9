#!/usr/bin/env bash
# Start latency of `mydocker run` against runc and crun, and against a floor
# of plain unshare + chroot: one hyperfine invocation, so the same machine at
# the same time, the same busybox root filesystem, the command /bin/true.
# `make bench` runs it and it writes bench/RESULTS.md; `make bench-smoke`
# (a step of `make test`) runs every command once and writes nothing.
#
# Usage: bench/bench.sh [--smoke]
# Environment:
#   MYDOCKER_BIN  the mydocker to measure (default build/bin/mydocker)
#   ROOTFS        the root filesystem (default build/images/busybox/rootfs)
#   BENCH_RUNS    timed runs of each command (default 200)
#   BENCH_WARMUP  untimed runs of each command before those (default 10)
#   GO            the go command (default go)
# Needs root, and hyperfine, runc and crun: scripts/deps.sh --with bench.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

smoke=false
case ${1:-} in
--smoke) smoke=true ;;
'') ;;
*)
	echo "usage: $0 [--smoke]" >&2
	exit 2
	;;
esac

bin=${MYDOCKER_BIN:-build/bin/mydocker}
rootfs=${ROOTFS:-build/images/busybox/rootfs}
runs=${BENCH_RUNS:-200}
warmup=${BENCH_WARMUP:-10}
go=${GO:-go}
results=bench/RESULTS.md
if $smoke; then
	runs=1
	warmup=0
fi

# The namespaces that every contender creates, in OCI's names. They are the
# ones mydocker run creates today (container.cloneFlags): no network
# namespace, because mydocker has none until chapter 10, and creating one
# costs time that mydocker does not spend. When mydocker gains a namespace,
# add it here: runc, crun and the floor then get it too.
namespaces=(pid ipc uts mount)

die() {
	echo "bench: $*" >&2
	exit 1
}

((EUID == 0)) || die "needs root to create namespaces: run it as root (sudo make bench)"
for tool in hyperfine runc crun unshare chroot "$go"; do
	command -v "$tool" >/dev/null || die "$tool not found: run bash scripts/deps.sh --with bench"
done
[[ -x $bin ]] || die "$bin not found: run make build"
[[ -x $rootfs/bin/true ]] || die "$rootfs/bin/true not found: run make image"
bin=$(realpath "$bin")
rootfs=$(realpath "$rootfs")

# One temporary directory holds all state: mydocker's root, the --root of
# runc and of crun, the OCI bundle, hyperfine's export. Its random suffix
# also names the runc and crun containers, so that a leftover is ours.
work=$(mktemp -d "${TMPDIR:-/tmp}/mydocker-bench.XXXXXX")
prefix=mdbench-${work##*.}

# crun 1.8 refuses hybrid cgroups (v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified): "cgroups in hybrid mode not supported". On such a
# host every contender runs in a private mount namespace in which a tmpfs
# hides that cgroup2 mount, so all four see the same /sys/fs/cgroup. The
# namespace ends with the command; the host's mounts are not touched.
hybrid_cgroups() {
	[[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == tmpfs &&
		$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]
}
in_bench_mounts() {
	if hybrid_cgroups; then
		# shellcheck disable=SC2016 # $@ is for the inner sh, not this shell
		unshare --mount --propagation private -- \
			sh -c 'mount -t tmpfs -o nosuid,nodev,noexec tmpfs /sys/fs/cgroup/unified && exec "$@"' sh "$@"
	else
		"$@"
	fi
}

# Our cgroups: runc's and crun's are named after their containers
# ($prefix-runc-PID), mydocker's sit under the parent cgroup $prefix. runc
# nests some under the caller's own cgroup, so look a few levels deep.
our_cgroups() {
	find /sys/fs/cgroup -maxdepth 6 -depth -type d \( -name "$prefix" -o -name "$prefix-*" -o -path "*/$prefix/*" \) 2>/dev/null || true
}

# leftovers prints what the benchmark left behind: containers in the state
# of runc or crun, cgroups (but the parent cgroup $prefix, which mydocker
# keeps as it keeps its root directory), directories of mydocker containers.
leftovers() {
	runc --root "$work/runc" list -q
	in_bench_mounts crun --root "$work/crun" list -q
	our_cgroups | grep -v "/$prefix\$" || true
	if [[ -d $work/mydocker/containers ]]; then
		find "$work/mydocker/containers" -mindepth 1 -maxdepth 1
	fi
}

remove_leftovers() {
	local id
	for id in $(runc --root "$work/runc" list -q); do
		runc --root "$work/runc" delete --force "$id"
	done
	for id in $(in_bench_mounts crun --root "$work/crun" list -q); do
		in_bench_mounts crun --root "$work/crun" delete --force "$id"
	done
	# A cgroup directory goes with rmdir, deepest first, once it is empty.
	our_cgroups | xargs -r rmdir
}

cleanup() {
	remove_leftovers >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# ---- the contenders ---------------------------------------------------------

# hyperfine runs each command with sh -c (and subtracts the time sh itself
# takes), so each command is one line of shell, its paths quoted.
quote() {
	local q
	printf -v q '%q ' "$@"
	echo "${q% }"
}

# mydocker runs an image, as a Docker user would: busybox.tar (which make
# image builds from the same rootfs) imported into mydocker's store, so its
# start includes the image lookup and the overlay mount and their removal.
# runc, crun and the floor run the rootfs directory itself. From chapter 07
# on, when run keeps a container unless told otherwise, this is run --rm.
#
# From chapter 04 on, its cgroups go under a parent cgroup of this run's
# own, so that a leftover is found and the parent removed afterwards.
tarball=$(dirname "$rootfs")/busybox.tar
[[ -f $tarball ]] || die "$tarball not found: run make image"
"$bin" --root "$work/mydocker" import "$tarball" mdbench >/dev/null
run_flags=()
run_help=$("$bin" run --help 2>&1 || true)
if [[ $run_help == *--cgroup-parent* ]]; then
	run_flags+=(--cgroup-parent "$prefix")
fi
mydocker_cmd=$(quote "$bin" --root "$work/mydocker" run "${run_flags[@]}" mdbench /bin/true)

# runc and crun: an OCI bundle made by `runc spec` and then given the same
# rootfs, command and namespaces (bench/ocibundle says what it changes).
# Each run gets its own container name ($$ is the PID of hyperfine's sh):
# `run` deletes its container when it exits, but a unique name keeps one
# failed run from failing all the runs after it.
mkdir "$work/bundle"
runc spec --bundle "$work/bundle"
"$go" run ./bench/ocibundle -bundle "$work/bundle" -rootfs "$rootfs" \
	-namespaces "$(IFS=,; echo "${namespaces[*]}")" -- /bin/true
runc_cmd="$(quote runc --root "$work/runc" run --bundle "$work/bundle") $prefix-runc-\$\$"
crun_cmd="$(quote crun --root "$work/crun" run --bundle "$work/bundle") $prefix-crun-\$\$"

# The floor: the same namespaces from unshare(1), chroot instead of
# pivot_root, and no /dev, /sys or cgroup setup. --fork because a new PID
# namespace applies to children only; --mount-proc gives it its own /proc.
floor=(unshare --fork)
for ns in "${namespaces[@]}"; do
	case $ns in
	pid) floor+=(--pid) ;;
	mount) floor+=(--mount) ;;
	uts) floor+=(--uts) ;;
	ipc) floor+=(--ipc) ;;
	network) floor+=(--net) ;;
	cgroup) floor+=(--cgroup) ;;
	*) die "no unshare flag for the namespace $ns" ;;
	esac
done
floor+=(--mount-proc chroot "$rootfs" /bin/true)
floor_cmd=$(quote "${floor[@]}")

names=(mydocker runc crun floor)
commands=("$mydocker_cmd" "$runc_cmd" "$crun_cmd" "$floor_cmd")

# ---- measure ----------------------------------------------------------------

load=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine_args=(--shell sh --warmup "$warmup" --runs "$runs" --export-csv "$work/times.csv")
if $smoke; then
	hyperfine_args+=(--style basic)
fi
for i in "${!names[@]}"; do
	hyperfine_args+=(--command-name "${names[i]}" "${commands[i]}")
done
# hyperfine fails when a command exits with anything but 0, and so does this.
in_bench_mounts hyperfine "${hyperfine_args[@]}"

left=$(leftovers)
if [[ -n $left ]]; then
	echo "bench: left behind after the runs (removed now):" >&2
	echo "$left" >&2
	exit 1
fi

# ---- report -----------------------------------------------------------------

# The tables, from hyperfine's CSV (name, mean, stddev, median, user,
# system, min, max; seconds). Ratios are of medians: a few slow runs when
# the machine is busy move the mean, not the median.
tables() {
	awk -F, -v what="$1" '
	NR == 1 { next }
	{
		name[++n] = $1; mean[$1] = $2 * 1000; sd[$1] = $3 * 1000
		med[$1] = $4 * 1000; lo[$1] = $7 * 1000; hi[$1] = $8 * 1000
	}
	function status(ok) { return ok ? "**met**" : "**not met**" }
	END {
		if (what == "times") {
			print "| command | median | min | max | mean ± σ |"
			print "|---------|-------:|----:|----:|---------:|"
			for (i = 1; i <= n; i++) {
				c = name[i]
				printf "| %s | %.1f ms | %.1f ms | %.1f ms | %.1f ± %.1f ms |\n", c, med[c], lo[c], hi[c], mean[c], sd[c]
			}
		} else if (what == "ratios") {
			print "| command | × runc | × crun | × floor |"
			print "|---------|-------:|-------:|--------:|"
			for (i = 1; i <= n; i++) {
				c = name[i]
				printf "| %s | %.2f | %.2f | %.2f |\n", c, med[c] / med["runc"], med[c] / med["crun"], med[c] / med["floor"]
			}
		} else if (what == "targets") {
			r = med["mydocker"] / med["runc"]
			c = med["mydocker"] / med["crun"]
			print "| target | measured | status |"
			print "|--------|---------:|--------|"
			printf "| mydocker ≤ 0.5 × runc | %.2f × runc | %s |\n", r, status(r <= 0.5)
			printf "| mydocker ≤ 1.0 × crun | %.2f × crun | %s |\n", c, status(c <= 1.0)
		}
	}' "$work/times.csv"
}

if $smoke; then
	echo "bench-smoke: every command ran once and exited 0; one run says nothing about speed:"
	tables times
	exit 0
fi

# Shown in RESULTS.md without this run's temporary paths and names.
shown() {
	local cmd=${1//$work/\$WORK}
	cmd=${cmd//$prefix/mdbench-XXXXXX}
	echo "${cmd//$PWD\//}"
}

rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- mydocker 2>/dev/null) ]]; then
	rev+=" with uncommitted changes in mydocker/"
fi
build=$("$go" version -m "$bin" | awk '$1 == "build" && $2 ~ /^CGO_ENABLED=/ { print $2 }')
memory=$(awk '$1 == "MemTotal:" { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(awk -F': ' '$1 ~ /^model name/ { print $2; exit }' /proc/cpuinfo)
if hybrid_cgroups; then
	cgroups="hybrid (v1 controllers, cgroup2 at /sys/fs/cgroup/unified); every command ran in a private mount namespace with a tmpfs over /sys/fs/cgroup/unified, which crun 1.8 needs"
else
	cgroups=$(stat -f -c %T /sys/fs/cgroup)
fi

{
	cat <<EOF
# Start latency: mydocker against runc and crun

Written by \`make bench\` (bench/bench.sh) from one run; do not edit by hand.
What the numbers mean and where mydocker's time goes: [docs/performance.md](../docs/performance.md).

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(nproc) CPUs ($cpu), $memory memory, kernel $(uname -r), load average $load at the start
- cgroups: $cgroups
- mydocker: git $rev, built by $("$go" version "$bin" | awk '{ print $2 }') with ${build:-CGO_ENABLED unknown}
- runc: $(runc --version | awk 'NR == 1 { print $3 }'); crun: $(crun --version | awk 'NR == 1 { print $3 }'); hyperfine: $(hyperfine --version | awk '{ print $2 }')

## What ran

One \`hyperfine --warmup $warmup --runs $runs\` over four commands. Each starts a container of
\`$(shown "$rootfs")\` that runs \`/bin/true\`, with the namespaces ${namespaces[*]} (no network
namespace: mydocker has none yet). \$WORK is a temporary directory, removed afterwards.

| command | what it runs |
|---------|--------------|
EOF
	for i in "${!names[@]}"; do
		echo "| ${names[i]} | \`$(shown "${commands[i]}")\` |"
	done
	cat <<EOF

runc and crun run an OCI bundle from \`runc spec\` with the same root filesystem (writable),
command, no terminal and the namespaces above (bench/ocibundle); the rest of runc's default
config stays (capabilities, masked paths, more mounts, a cgroup per container). The floor is
the kernel's part alone: namespaces and chroot, no cgroup, no /dev or /sys.

## Results

Wall-clock time from start to exit, hyperfine's \`sh -c\` subtracted.

$(tables times)

Each median divided by that of runc, crun and the floor:

$(tables ratios)

## Targets

$(tables targets)

## Not measurable until chapter 05

These need images, which chapter 05 brings; bench/bench.sh has the place for them.

- Start latency with 0, 100 and 500 containers and images in mydocker's store: not measurable until chapter 05.
- Unpacking a 200 MB layer against \`tar -x\` of the same tarball: not measurable until chapter 05.
EOF
} >"$work/RESULTS.md"

# Chapter 05: the store and unpack benchmarks go here, each one more
# hyperfine invocation whose tables replace the placeholder above:
#   - store size: `hyperfine --parameter-list n 0,100,500 --setup '...'`,
#     where the setup imports busybox.tar under n names (and creates n
#     stopped containers), then `mydocker run --rm busybox /bin/true`;
#   - unpack: a 200 MB layer tarball made here from random files, then
#     `mydocker import LAYER.tar` against `tar -x -f LAYER.tar -C DIR`,
#     with --prepare removing what the previous run unpacked.

mv "$work/RESULTS.md" "$results"
echo "bench: wrote $results"
