#!/usr/bin/env bash
# Start latency of `mydocker run` against runc and crun, and against a floor
# of plain unshare + chroot: hyperfine over all four in rounds, so the same
# machine at the same time, the same busybox root filesystem, the command
# /bin/true; once one start at a time (a pause before each), as a user
# starts a container, and once back to back, as a loop does.
# Then two measurements of mydocker's image store (chapter 05): the same
# start with 0, 100 and 500 images and with 0 and 100 running containers in
# the store, and `mydocker import` of a 200 MB layer against `tar -x` of it.
# `make bench` runs it and it writes bench/RESULTS.md; `make bench-smoke`
# (a step of `make test`) runs every command once, with a small store and
# layer, and writes nothing.
#
# Usage: bench/bench.sh [--smoke]
# Environment:
#   MYDOCKER_BIN       the mydocker to measure (default build/bin/mydocker)
#   ROOTFS             the root filesystem (default build/images/busybox/rootfs)
#   BENCH_RUNS         timed runs of each start (default 200)
#   BENCH_ROUNDS       hyperfine invocations they are spread over, in
#                      turns with the other commands (default 10)
#   BENCH_WARMUP       untimed runs of each start before those (default 10)
#   BENCH_GAP          seconds of pause before each timed start, one start
#                      at a time (default 0.05)
#   BENCH_PREPARE      the untimed command run before each of those starts
#                      instead (default sleep $BENCH_GAP), to try other pauses
#   BENCH_UNPACK_RUNS  timed runs of each unpack of the layer (default 20)
#   BENCH_FRESH_FS     1 (default): all state on a fresh ext4 of its own;
#                      0: on the file system of TMPDIR, as it is
#   GO                 the go command (default go)
# Needs root, and hyperfine, jq, runc and crun: scripts/deps.sh --with bench.
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
rounds=${BENCH_ROUNDS:-10}
warmup=${BENCH_WARMUP:-10}
gap=${BENCH_GAP:-0.05}
unpack_runs=${BENCH_UNPACK_RUNS:-20}
go=${GO:-go}
results=bench/RESULTS.md

# The store sizes (the list of images starts at 0, the store that the
# others are compared with) and the layer's. Not 500 running containers:
# until chapter 07 a container lives only as long as its `mydocker run` in
# the foreground, so 500 of them would be 500 Go processes waiting.
store_images=(0 100 500)
store_containers=100
layer_mb=200
if $smoke; then
	runs=1
	rounds=1
	warmup=0
	unpack_runs=1
	store_images=(0 3)
	store_containers=1
	layer_mb=2
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
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]] || ((runs % rounds != 0)); then
	die "BENCH_RUNS ($runs) must be a multiple of BENCH_ROUNDS ($rounds)"
fi
if ! [[ $gap =~ ^[0-9]*\.?[0-9]+$ && $gap =~ [1-9] ]]; then
	die "BENCH_GAP ($gap) must be a number of seconds above 0, e.g. 0.05 (back to back is measured anyway)"
fi
for tool in hyperfine jq runc crun unshare chroot tar "$go"; do
	command -v "$tool" >/dev/null || die "$tool not found: run bash scripts/deps.sh --with bench"
done
[[ -x $bin ]] || die "$bin not found: run make build"
[[ -x $rootfs/bin/true ]] || die "$rootfs/bin/true not found: run make image"
bin=$(realpath "$bin")
rootfs=$(realpath "$rootfs")

# One directory, $work, holds all state: mydocker's roots, the --root of
# runc and of crun, the OCI bundle, hyperfine's exports. The random suffix
# of its temporary parent also names the runc and crun containers, so that
# a leftover is ours.
#
# $work is a fresh ext4 of its own (mkfs.ext4's defaults, as most Linux
# hosts have, journal included) in a file under TMPDIR, mounted through a
# loop device. Otherwise the results would depend on whatever file system
# holds TMPDIR: where RESULTS.md was first made, an ext4 without a journal,
# on which a new inode skips every inode freed in the last 35 seconds, so
# that starts run back to back, which make and remove the same directories,
# slowed down as freed inodes piled up (10 ms became 17 ms), and so did
# tar -x. BENCH_FRESH_FS=0 measures on TMPDIR's file system as it is.
fresh_fs=${BENCH_FRESH_FS:-1}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mydocker-bench.XXXXXX")
prefix=mdbench-${scratch##*.}
work=$scratch/fs
mkdir "$work"
# remove_scratch unmounts and removes it all; cleanup, below, calls it
# after the rest, and until then it runs alone if the script ends.
remove_scratch() {
	if mountpoint -q "$work"; then
		umount "$work" 2>/dev/null || umount --lazy "$work"
	fi
	rm -rf "$scratch"
}
trap remove_scratch EXIT
if [[ $fresh_fs == 1 ]]; then
	command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not found: apt-get install e2fsprogs (or BENCH_FRESH_FS=0)"
	truncate -s 4G "$scratch/fs.img" # sparse: it takes only what is written
	mkfs.ext4 -q -F "$scratch/fs.img"
	mount -o loop "$scratch/fs.img" "$work" || die "cannot mount a loop device (or BENCH_FRESH_FS=0)"
fi

# The three runtimes run from copies in $work/bin, made by cp as an install
# makes them, so that their executables come into the page cache the same
# way: as a binary just installed is, not as one paged in by exec after a
# reboot. For a Go binary of 10 MB that way matters: a file written with
# write(2) is cached in large folios, while the go build output (written by
# the linker through a memory mapping), like a file paged in by exec, is
# cached page by page, and each exec of it then maps its pages one by one:
# about 0.2 ms more for each of mydocker's two processes
# (docs/performance.md). crun, 0.5 MB, hardly notices.
mkdir "$work/bin"
cp "$bin" "$work/bin/mydocker"
cp "$(command -v runc)" "$work/bin/runc"
cp "$(command -v crun)" "$work/bin/crun"
bin=$work/bin/mydocker
runc=$work/bin/runc
crun=$work/bin/crun
"$bin" --help >/dev/null 2>&1 || die "cannot run programs from $work (mounted noexec?): set TMPDIR to a directory that can"

# crun 1.8 refuses hybrid cgroups (v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified): "cgroups in hybrid mode not supported". On such a
# host every contender runs in a private mount namespace in which a tmpfs
# hides that cgroup2 mount, so all four see the same /sys/fs/cgroup. The
# namespace ends with the command; the host's mounts are not touched.
hybrid_cgroups() {
	[[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == tmpfs &&
		$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null) == cgroup2fs ]]
}
# The prefix is an array rather than a function, so that a command started
# with it in the background (`"${bench_mounts[@]}" cmd &`) is one process
# whose PID is $!: unshare and sh exec the command in turn.
bench_mounts=()
if hybrid_cgroups; then
	# shellcheck disable=SC2016 # $@ is for the inner sh, not this shell
	bench_mounts=(unshare --mount --propagation private --
		sh -c 'mount -t tmpfs -o nosuid,nodev,noexec tmpfs /sys/fs/cgroup/unified && exec "$@"' sh)
fi
in_bench_mounts() {
	"${bench_mounts[@]}" "$@"
}

# Our cgroups: runc's and crun's are named after their containers
# ($prefix-runc-PID), mydocker's sit under the parent cgroup $prefix. runc
# nests some under the caller's own cgroup, so look a few levels deep.
our_cgroups() {
	find /sys/fs/cgroup -maxdepth 6 -depth -type d \( -name "$prefix" -o -name "$prefix-*" -o -path "*/$prefix/*" \) 2>/dev/null || true
}

# leftovers prints what the benchmark left behind: containers in the state
# of runc or crun, cgroups (but the parent cgroup $prefix, which mydocker
# keeps as it keeps its root directory), directories of mydocker containers
# in any of its roots ($work/mydocker*).
leftovers() {
	local root
	runc --root "$work/runc" list -q
	in_bench_mounts crun --root "$work/crun" list -q
	our_cgroups | grep -v "/$prefix\$" || true
	for root in "$work"/mydocker*; do
		if [[ -d $root/containers ]]; then
			find "$root/containers" -mindepth 1 -maxdepth 1
		fi
	done
}

# check_leftovers fails the benchmark if a measurement left anything behind.
check_leftovers() {
	local left
	left=$(leftovers)
	if [[ -n $left ]]; then
		echo "bench: left behind by $1 (removed now):" >&2
		echo "$left" >&2
		exit 1
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

# The PIDs of the `mydocker run`s kept running in the background while the
# store is measured with running containers.
container_pids=()

# stop_containers stops them as Docker's users stop a foreground run: with
# SIGTERM, which mydocker run forwards to the container and follows with
# SIGKILL after --stop-timeout (0 here: sleep, as PID 1 of its namespace,
# ignores SIGTERM), and then removes the container.
stop_containers() {
	((${#container_pids[@]} > 0)) || return 0
	kill -TERM "${container_pids[@]}" 2>/dev/null || true
	wait "${container_pids[@]}" 2>/dev/null || true
	container_pids=()
}

cleanup() {
	stop_containers
	remove_leftovers >/dev/null 2>&1 || true
	remove_scratch
}
trap cleanup EXIT
# Without these, a SIGTERM would run cleanup at once, while hyperfine goes on
# starting containers in a root that is being removed. Trapped, the signal
# waits for the command that runs (hyperfine) to end, then exits through
# cleanup. Ctrl-C reaches hyperfine too, so that wait is short.
trap 'exit 130' INT
trap 'exit 143' TERM

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
runc_cmd="$(quote "$runc" --root "$work/runc" run --bundle "$work/bundle") $prefix-runc-\$\$"
crun_cmd="$(quote "$crun" --root "$work/crun" run --bundle "$work/bundle") $prefix-crun-\$\$"

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

# The speed of a shared machine drifts from one second to the next: here an
# empty Go program took from 1.26 to 1.75 ms, second by second, within one
# minute. One hyperfine invocation makes all the runs of one command, then
# all of the next (200 starts of mydocker take 2 s, of runc 4 s), so one
# command may land in a slow stretch and the next in a fast one: the ratio
# of mydocker's median to crun's went from 0.7 to 1.5 between invocations.
# So each measurement is $rounds hyperfine invocations over the same
# commands, $runs / $rounds runs of each in every one, and a command's
# median, min, max, mean and σ are those of all its runs together: every
# command meets the same drift. Each run is preceded by the untimed
# hyperfine options in the array $prepare, if any.
prepare=()
measure() {
	local csv=$1 round args=() shown=()
	shift
	while (($# > 0)); do
		args+=(--command-name "$1" "$2")
		shown+=("$1")
		shift 2
	done
	: >"$work/runs.tsv"
	for ((round = 1; round <= rounds; round++)); do
		echo "bench: round $round of $rounds: $(IFS=,; echo "${shown[*]}")"
		# hyperfine fails when a command exits with anything but 0, and
		# so does this. Its report of each round is in round.log.
		in_bench_mounts hyperfine "${hyperfine_common[@]}" "${prepare[@]}" --runs "$((runs / rounds))" \
			--warmup "$((round == 1 ? warmup : 2))" --export-json "$work/round.json" \
			"${args[@]}" >"$work/round.log" 2>&1 || die "hyperfine failed: $(cat "$work/round.log")"
		jq -r '.results[] | .command as $name | .times[] | "\($name)\t\(.)"' "$work/round.json" >>"$work/runs.tsv"
	done
	stats <"$work/runs.tsv" >"$csv"
}

# stats reads lines of NAME, a tab and a time in seconds, and prints for
# each name, in the order of its first line, a line of the CSV that
# hyperfine's --export-csv writes: command,mean,stddev,median,user,system,
# min,max (user and system left empty).
stats() {
	awk -F'\t' '
	!($1 in count) { order[++n] = $1 }
	{ t[$1, ++count[$1]] = $2 }
	END {
		print "command,mean,stddev,median,user,system,min,max"
		for (i = 1; i <= n; i++) {
			c = order[i]
			m = count[c]
			sum = 0
			for (j = 1; j <= m; j++) {
				v[j] = t[c, j]
				sum += v[j]
			}
			for (j = 2; j <= m; j++) { # insertion sort: mawk has no asort
				x = v[j]
				for (k = j - 1; k >= 1 && v[k] > x; k--) v[k + 1] = v[k]
				v[k + 1] = x
			}
			mean = sum / m
			ss = 0
			for (j = 1; j <= m; j++) ss += (v[j] - mean) ^ 2
			sd = m > 1 ? sqrt(ss / (m - 1)) : 0
			med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
			printf "%s,%.9f,%.9f,%.9f,,,%.9f,%.9f\n", c, mean, sd, med, v[1], v[m]
		}
	}'
}

load=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine_common=(--shell sh --style basic)
measure_args=()
for i in "${!names[@]}"; do
	measure_args+=("${names[i]}" "${commands[i]}")
done

# One start at a time, and back to back. They differ for runtimes that
# move their container's process into its cgroups (runc and crun write
# its PID to cgroup.procs; mydocker's init is born in them): the kernel's
# lock for such a move waits for an RCU grace period, unless another move
# took that lock a moment before, as the previous run's did when runs
# follow each other within milliseconds. A user who starts one container
# on a quiet host waits for the whole period; a loop of starts does not.
# So the first measurement pauses $gap s before each run (an untimed
# --prepare, the same for every command), which lets the period lapse,
# and the second runs them back to back. The first two targets are judged
# on the first; both are reported (docs/performance.md says why, with the
# numbers).
prepare=(--prepare "${BENCH_PREPARE:-sleep $gap}")
measure "$work/times.csv" "${measure_args[@]}"
prepare=()
measure "$work/times-loop.csv" "${measure_args[@]}"

check_leftovers "the start latency runs"

# ---- a full store -----------------------------------------------------------

# The start of mydocker above, from stores that hold more. Every `run` finds
# its image in the store's index and looks at every container directory, to
# remove those whose run died (RemoveAbandoned in internal/container, while
# init starts), so both may cost more as the store grows.
#
# Each store has a root of its own, $work/mydocker-images-N: busybox.tar as
# mdbench, as above, and N more images of one small file each. The files
# differ, so each image brings its own manifest, config and layer; N names
# for one image would add only N lines to the index.
fill_store() {
	local root=$1 n=$2 i
	"$bin" --root "$root" import "$tarball" mdbench >/dev/null
	mkdir -p "$work/filler"
	for ((i = 1; i <= n; i++)); do
		echo "$i" >"$work/filler/id"
		tar -C "$work/filler" -cf - id | "$bin" --root "$root" import - "filler-$i" >/dev/null
	done
}

# Filling the stores is not timed: it is done before hyperfine starts.
store_args=()
for n in "${store_images[@]}"; do
	fill_store "$work/mydocker-images-$n" "$n"
	store_args+=("$n images" "$(quote "$bin" --root "$work/mydocker-images-$n" run "${run_flags[@]}" mdbench /bin/true)")
done
measure "$work/store-images.csv" "${store_args[@]}"

# Running containers. Until chapter 07 a container exists only while its
# `mydocker run` runs, so these are `mydocker run mdbench sleep 1000` in the
# background, started as the measured runs are (the same cgroup parent; on
# a hybrid host, the same mount namespace setup). Standard output and error
# go to a log, shown if one fails.
start_containers() {
	local root=$1 n=$2 i pid pids ready deadline=$((SECONDS + 60))
	for ((i = 0; i < n; i++)); do
		"${bench_mounts[@]}" "$bin" --root "$root" run --stop-timeout 0 "${run_flags[@]}" mdbench sleep 1000 \
			</dev/null >>"$work/containers.log" 2>&1 &
		container_pids+=("$!")
	done
	# A container is up when its sleep runs, as the child of its mydocker
	# run. A run that failed is gone: bash reaps it at once.
	pids=$(IFS=,; echo "${container_pids[*]}")
	while ((n > 0)); do
		ready=$(pgrep -c -x -P "$pids" sleep || true)
		((ready < n)) || break
		for pid in "${container_pids[@]}"; do
			kill -0 "$pid" 2>/dev/null || die "a background container exited: $(cat "$work/containers.log")"
		done
		((SECONDS < deadline)) || die "only $ready of $n background containers started in 60 s: $(cat "$work/containers.log")"
		sleep 0.1
	done
}

# They run in a root of their own, $work/mydocker-containers, which holds
# mdbench alone, as the store of 0 images does. One measurement (in rounds)
# takes the start from both stores while they run: two, one before
# starting them and one after, would differ by the drift of a busy
# machine, which can be more than what is measured. Starting and stopping
# them is not timed.
"$bin" --root "$work/mydocker-containers" import "$tarball" mdbench >/dev/null
start_containers "$work/mydocker-containers" "$store_containers"
measure "$work/store-containers.csv" \
	"0 running" "$(quote "$bin" --root "$work/mydocker-images-0" run "${run_flags[@]}" mdbench /bin/true)" \
	"$store_containers running" "$(quote "$bin" --root "$work/mydocker-containers" run "${run_flags[@]}" mdbench /bin/true)"
stop_containers
check_leftovers "the store runs"

# ---- unpacking a layer ------------------------------------------------------

# A layer tarball of $layer_mb MB of files, made here: sizes from 100 B to
# 2 MB spread evenly on a log scale, so that, as in an image, most files
# are small (half under 14 KB) and most bytes are in the few big ones;
# random bytes, so that the blob mydocker makes of it cannot compress them
# away; 32 directories. srand(1) makes the sizes the same in every run.
make_layer() {
	local dir=$work/layer path size
	mkdir "$dir"
	awk -v total="$((layer_mb * 1000 * 1000))" 'BEGIN {
		srand(1); lo = log(100); hi = log(2 * 1024 * 1024)
		for (n = 1; sum < total; n++) {
			size = int(exp(lo + rand() * (hi - lo)))
			if (sum + size > total) size = total - sum
			sum += size
			printf "d%02d/f%04d %d\n", n % 32, n, size
		}
	}' | while read -r path size; do
		mkdir -p "$dir/${path%/*}"
		head -c "$size" /dev/urandom >"$dir/$path"
	done
	tar -C "$dir" -cf "$work/layer.tar" .
	rm -rf "$dir"
}

# mydocker import of the layer against tar -x of it. --prepare, untimed,
# removes what the run before made: the image (rmi also removes its blob
# and unpacked layer, which nothing else uses) or tar's directory; then
# sync, so that no run pays for writing back what the one before wrote.
# The first import, before hyperfine, leaves an image for the first rmi,
# and reads the tarball into the page cache for both.
make_layer
layer_files=$(tar -tf "$work/layer.tar" | grep -vc '/$')
unpack_root=$work/mydocker-unpack
unpack_warmup=1
if $smoke; then
	unpack_warmup=0
fi
"$bin" --root "$unpack_root" import "$work/layer.tar" mdbench-layer >/dev/null
mkdir "$work/untar"
import_cmd=$(quote "$bin" --root "$unpack_root" import "$work/layer.tar" mdbench-layer)
tar_cmd=$(quote tar -xf "$work/layer.tar" -C "$work/untar")
hyperfine "${hyperfine_common[@]}" --warmup "$unpack_warmup" --runs "$unpack_runs" --export-csv "$work/unpack.csv" \
	--prepare "$(quote "$bin" --root "$unpack_root" rmi mdbench-layer) >/dev/null && sync" \
	--command-name "mydocker import" "$import_cmd" \
	--prepare "$(quote rm -rf "$work/untar") && $(quote mkdir "$work/untar") && sync" \
	--command-name "tar -x" "$tar_cmd"

# rmi of the last image must leave no blob and no layer behind.
"$bin" --root "$unpack_root" rmi mdbench-layer >/dev/null
left=$(find "$unpack_root/layers" "$unpack_root/images/blobs" -mindepth 1 -not -type d)
[[ -z $left ]] || die "rmi left the layer behind: $left"

# ---- report -----------------------------------------------------------------

# tables WHAT CSV: the table WHAT (times or ratios) of the
# measurement in CSV, as hyperfine writes it (name, mean, stddev, median,
# user, system, min, max; seconds). Ratios are of medians: a few slow runs
# when the machine is busy move the mean, not the median.
tables() {
	awk -F, -v what="$1" '
	NR == 1 { next }
	{
		name[++n] = $1; mean[$1] = $2 * 1000; sd[$1] = $3 * 1000
		med[$1] = $4 * 1000; lo[$1] = $7 * 1000; hi[$1] = $8 * 1000
	}
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
		}
	}' "$2"
}

# times_table HEADING UNIT BASE CSV...: a row for each command in the CSVs
# of the store and unpack measurements, times in UNIT (ms or s), and each
# median divided by that of the command named BASE.
times_table() {
	local heading=$1 unit=$2 base=$3
	shift 3
	awk -F, -v heading="$heading" -v unit="$unit" -v base="$base" '
	FNR == 1 { next }
	{
		f = unit == "ms" ? 1000 : 1
		name[++n] = $1; mean[$1] = $2 * f; sd[$1] = $3 * f
		med[$1] = $4 * f; lo[$1] = $7 * f; hi[$1] = $8 * f
	}
	END {
		d = unit == "ms" ? "%.1f" : "%.2f" # the digits of each time
		printf "| %s | median | min | max | mean ± σ | × %s |\n", heading, base
		print "|---|-------:|----:|----:|---------:|-------:|"
		for (i = 1; i <= n; i++) {
			c = name[i]
			printf "| %s | " d " %s | " d " %s | " d " %s | " d " ± " d " %s | %.2f |\n",
				c, med[c], unit, lo[c], unit, hi[c], unit, mean[c], sd[c], unit, med[c] / med[base]
		}
	}' "$@"
}

# median_ratio A B CSV...: the median of command A divided by that of B.
median_ratio() {
	local a=$1 b=$2
	shift 2
	awk -F, -v a="$a" -v b="$b" 'FNR > 1 { med[$1] = $4 } END { printf "%.4f\n", med[a] / med[b] }' "$@"
}

# target_row TARGET RATIO LIMIT WHAT: a row of the targets table.
target_row() {
	awk -v target="$1" -v r="$2" -v limit="$3" -v what="$4" 'BEGIN {
		printf "| %s | %.2f × %s | %s |\n", target, r, what, r <= limit ? "**met**" : "**not met**"
	}'
}

store_csvs=("$work/store-images.csv" "$work/store-containers.csv")
images_ratio=$(median_ratio "${store_images[-1]} images" "0 images" "${store_csvs[@]}")
containers_ratio=$(median_ratio "$store_containers running" "0 running" "${store_csvs[@]}")
noise_ratio=$(median_ratio "0 running" "0 images" "${store_csvs[@]}")
unpack_ratio=$(median_ratio "mydocker import" "tar -x" "$work/unpack.csv")
one_runc=$(median_ratio mydocker runc "$work/times.csv")
one_crun=$(median_ratio mydocker crun "$work/times.csv")
loop_runc=$(median_ratio mydocker runc "$work/times-loop.csv")
loop_crun=$(median_ratio mydocker crun "$work/times-loop.csv")
layer_bytes=$(stat -c %s "$work/layer.tar")

if $smoke; then
	echo "bench-smoke: every command ran once and exited 0, one start at a time and back to back; one run says nothing about speed:"
	tables times "$work/times.csv"
	echo
	tables times "$work/times-loop.csv"
	echo
	echo "bench-smoke: a small store (${store_images[0]} and ${store_images[-1]} images, 0 and $store_containers" \
		"running containers) and a $layer_mb MB layer of $layer_files files, each command once; rmi left no blob" \
		"and no layer:"
	times_table store ms "0 images" "${store_csvs[@]}"
	echo
	times_table unpack ms "tar -x" "$work/unpack.csv"
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
if [[ $fresh_fs == 1 ]]; then
	fs_shown="every command's state (\$WORK) on a fresh ext4 of 4 GB (mkfs.ext4 defaults) in a loop device, its file in ${TMPDIR:-/tmp}"
else
	fs_shown="every command's state (\$WORK) in ${TMPDIR:-/tmp}, on $(stat -f -c %T "$work")"
fi

{
	cat <<EOF
# Benchmarks: mydocker's start against runc and crun, a full store, unpacking a layer

Written by \`make bench\` (bench/bench.sh) from one run; do not edit by hand.
What the numbers mean and where mydocker's time goes: [docs/performance.md](../docs/performance.md).

- Date: $(date -u '+%Y-%m-%d %H:%M UTC')
- Machine: $(nproc) CPUs ($cpu), $memory memory, kernel $(uname -r), load average $load at the start
- cgroups: $cgroups
- State: $fs_shown
- mydocker: git $rev, built by $("$go" version "$bin" | awk '{ print $2 }') with ${build:-CGO_ENABLED unknown}
- runc: $(runc --version | awk 'NR == 1 { print $3 }'); crun: $(crun --version | awk 'NR == 1 { print $3 }'); hyperfine: $(hyperfine --version | awk '{ print $2 }'); tar: $(tar --version | awk 'NR == 1 { print $NF }')

## What ran

Two measurements of four commands, each in $rounds rounds of \`hyperfine --runs $((runs / rounds))\` over the four
(the first round with \`--warmup $warmup\`, the others with \`--warmup 2\`), so $runs runs of each, spread over the
whole measurement: the speed of a shared machine drifts from one second to the next, and a command whose
$runs runs were made in one stretch would meet a drift of its own. Each command's figures are those of all
its runs. The first measurement takes one start at a time: before each run, hyperfine pauses
(\`--prepare 'sleep $gap'\`, not timed). The second runs them back to back. Each command starts a container of
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

### One start at a time

A pause of $gap s before each run, as when a user starts a container: the targets below are these.

$(tables times "$work/times.csv")

Each median divided by that of runc, crun and the floor:

$(tables ratios "$work/times.csv")

### Back to back

The same commands without the pause, as a loop of starts runs them:

$(tables times "$work/times-loop.csv")

$(tables ratios "$work/times-loop.csv")

runc and crun move their container's process into its cgroups (a write of its PID to
\`cgroup.procs\`), and the kernel's lock for that waits for an RCU grace period, unless a move
took the lock a moment before: back to back, each run profits from the one before, one start
at a time it does not. mydocker's init is born in its cgroups, so no process is moved with that
lock (on cgroup v1 the thread that forks moves itself, which does not take it). Why the targets
are judged one start at a time: [docs/performance.md](../docs/performance.md#one-start-at-a-time-and-back-to-back).

## A full store

The start of mydocker above (back to back), from stores that hold more. Each store has a root of its own,
\`\$WORK/mydocker-images-N\`: busybox.tar imported as mdbench, and N more images of one small
file each, all different, so N more manifests, configs and layers (N names for one image would
add only N lines to the index). The stores are filled before hyperfine starts. $rounds rounds of
hyperfine as above over the ${#store_images[@]} stores, each command
\`$(shown "$(quote "$bin" --root "$work/mydocker-images-N" run "${run_flags[@]}" mdbench /bin/true)")\`:

$(times_table "images in the store" ms "0 images" "$work/store-images.csv")

Running containers: until chapter 07 a container exists only while its \`mydocker run\` runs, so
these are $store_containers \`mydocker run --stop-timeout 0 mdbench sleep 1000\` in the background, in a root
of their own that holds mdbench alone, started before hyperfine and stopped after it (SIGTERM;
each run removes its container). While they run, $rounds rounds of hyperfine as above measure the start from the store of 0 images above ("0 running") and from theirs
("$store_containers running"), all under the same cgroup parent. Not 500: that would be 500 Go processes
waiting in the foreground; detached containers (chapter 07) make it possible.

$(times_table "running containers" ms "0 running" "$work/store-containers.csv")

"0 images" and "0 running" are the same command on the same store, measured twice (the second
time while the containers ran): its median is $(printf %.2f "$noise_ratio") × the first. Part of that is the drift
between two measurements on this machine, part the load of the $store_containers waiting \`mydocker run\`s. The
targets are about what the store's contents cost a start, so each compares medians of one
measurement, in which drift and load are the same for both commands.
"Flat", in the targets below, is a median at most 1.1 × that of the store of 0 images in the
same measurement: room for the noise, and tight enough that a cost which grows with the store
shows.

## Unpacking a layer

\`mydocker import\` of a layer tarball against \`tar -x\` of the same tarball. The script makes the
tarball in \$WORK: $layer_files files of random bytes (so that nothing compresses them away) in
32 directories, $((layer_bytes / 1000000)) MB in all ($layer_bytes bytes), their sizes from 100 B to
2 MB spread evenly on a log scale (half under 14 KB, most bytes in the big ones). One
\`hyperfine --warmup $unpack_warmup --runs $unpack_runs\`, the tarball in the page cache; before
each run an untimed \`--prepare\` removes what the run before made, and syncs, so that no run
pays for writing back what the one before wrote:

| command | what it runs | prepared by |
|---------|--------------|-------------|
| mydocker import | \`$(shown "$import_cmd")\` | \`mydocker rmi mdbench-layer && sync\` |
| tar -x | \`$(shown "$tar_cmd")\` | \`rm -rf \$WORK/untar && mkdir \$WORK/untar && sync\` |

$(times_table "command" s "tar -x" "$work/unpack.csv")

They do not do the same work: besides unpacking, import hashes the tarball (its digest, and its
diff ID, checked as it unpacks) and keeps it as a blob of the image layout, with a manifest, a
config and the index: the image as OCI describes it, while \`run\` uses the unpacked layer. tar -x
only unpacks. The target counts all of it, as a user waits for all of it. \`rmi\` removed the
blob and the unpacked layer each time (checked after the last run: nothing was left under the
root's blobs and layers).

## Targets

| target | measured | status |
|--------|---------:|--------|
$(target_row "mydocker ≤ 0.5 × runc, one start at a time" "$one_runc" 0.5 runc)
$(target_row "mydocker ≤ 1.0 × crun, one start at a time" "$one_crun" 1.0 crun)
$(target_row "the same back to back: mydocker ≤ 0.5 × runc" "$loop_runc" 0.5 runc)
$(target_row "the same back to back: mydocker ≤ 1.0 × crun" "$loop_crun" 1.0 crun)
$(target_row "start latency with ${store_images[-1]} images ≤ 1.1 × with 0" "$images_ratio" 1.1 "with 0")
$(target_row "start latency with $store_containers running containers ≤ 1.1 × with 0" "$containers_ratio" 1.1 "with 0")
$(target_row "import of a $layer_mb MB layer ≤ 1.5 × tar -x" "$unpack_ratio" 1.5 "tar -x")

The targets against runc and crun are judged one start at a time, as a user starts a
container; back to back, a loop of starts, is shown in the same terms for comparison. Where the
two differ, it is mostly the kernel's lock for moving a process between cgroups
([docs/performance.md](../docs/performance.md#one-start-at-a-time-and-back-to-back)).
EOF
} >"$work/RESULTS.md"

mv "$work/RESULTS.md" "$results"
echo "bench: wrote $results"
