//chapter:cgroups

// Package cgroups puts a container into control groups of its own and
// limits its memory, CPU time, CPUs and number of processes. It speaks both
// cgroup versions: v1, with one hierarchy per controller, and v2, with one
// unified hierarchy.
package cgroups

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Limits are a container's resource limits; a zero field means "no limit".
type Limits struct {
	Memory     int64   // bytes of memory
	MemorySwap int64   // bytes of memory plus swap; -1: unlimited swap; 0: as much swap as memory
	CPUs       float64 // CPUs' worth of time per period, e.g. 0.5
	CPUShares  int64   // relative weight (v1 cpu.shares; v2 cpu.weight is derived)
	CpusetCPUs string  // CPUs the container may run on, e.g. "0-1,3"
	CpusetMems string  // memory nodes it may allocate from
	PidsLimit  int64   // most processes (and threads) at once
}

// cpuPeriod is the CFS period, in microseconds, that --cpus is a share of.
const cpuPeriod = 100000

// minMemory is the smallest memory limit accepted; less is not enough even
// to start a process (Docker has the same floor).
const minMemory = 6 << 20

// maxMemory is the largest memory limit accepted, 2 EiB: far beyond any
// machine, and small enough that the default memory+swap limit, twice the
// memory limit, still fits in an int64 (5000000t did not, and reached the
// kernel as a negative number).
const maxMemory = 1 << 61

// maxPids is the largest pids limit that the kernel takes (PID_MAX_LIMIT,
// 4Mi processes on 64-bit machines); pids.max refuses more.
const maxPids = 4 << 20

// sizeUnits are the units of a size and their powers of two.
var sizeUnits = map[string]uint{"": 0, "b": 0, "k": 10, "m": 20, "g": 30, "t": 40}

// ParseSize parses a size such as 256m or 1.5g, in binary units (1k = 1024).
// (It reads the string by hand: a regular expression would be compiled when
// the program starts, and mydocker starts twice for every container.)
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	digits := strings.TrimLeft(t, "0123456789.")
	number := t[:len(t)-len(digits)]
	unit := strings.TrimSuffix(strings.TrimSpace(digits), "b") // 256m, 256mb and 256 mb mean the same
	shift, ok := sizeUnits[unit]
	whole, fraction, dotted := strings.Cut(number, ".")
	if !ok || whole == "" || (dotted && (fraction == "" || strings.Contains(fraction, "."))) {
		return 0, fmt.Errorf("%q is not a size: use a number with an optional unit b, k, m or g (e.g. 256m)", s)
	}
	n, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %w", s, err)
	}
	bytes := n * float64(uint64(1)<<shift)
	if bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(bytes), nil
}

// ParseMemory parses --memory and --memory-swap. swap may be empty, or -1
// for unlimited swap. When only memory is set, memSwap is 0: the container
// may swap as much as its memory limit, as in Docker, where the host
// accounts swap at all.
func ParseMemory(memory, swap string) (mem, memSwap int64, err error) {
	if memory != "" {
		if mem, err = ParseSize(memory); err != nil {
			return 0, 0, fmt.Errorf("invalid memory limit: %w", err)
		}
		if mem < minMemory {
			return 0, 0, fmt.Errorf("invalid memory limit %q: the minimum is 6m", memory)
		}
		if mem > maxMemory {
			return 0, 0, fmt.Errorf("invalid memory limit %q: the maximum is %dt (2 EiB); for no limit, leave -m out", memory, maxMemory>>40)
		}
	}
	switch swap {
	case "":
	case "-1":
		memSwap = -1
	default:
		if memSwap, err = ParseSize(swap); err != nil {
			return 0, 0, fmt.Errorf("invalid --memory-swap: %w", err)
		}
		if mem == 0 {
			return 0, 0, fmt.Errorf("--memory-swap %s needs a memory limit too: add -m", swap)
		}
		if memSwap < mem {
			return 0, 0, fmt.Errorf("--memory-swap %s is less than the memory limit: it counts memory plus swap, so make it at least %s (or -1 for unlimited swap)", swap, memory)
		}
	}
	return mem, memSwap, nil
}

// ParseCPUs parses --cpus, a decimal number of CPUs no larger than online.
func ParseCPUs(s string, online int) (float64, error) {
	cpus, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(cpus) || math.IsInf(cpus, 0) {
		return 0, fmt.Errorf("invalid --cpus %q: use a decimal number of CPUs, e.g. 0.5", s)
	}
	if cpus < 0 {
		return 0, fmt.Errorf("invalid --cpus %s: it cannot be negative", s)
	}
	if cpus > float64(online) {
		return 0, fmt.Errorf("invalid --cpus %s: this host has %d CPUs, so use at most %d", s, online, online)
	}
	if cpus > 0 && cpus*cpuPeriod < 1000 {
		return 0, fmt.Errorf("invalid --cpus %s: the smallest is 0.01", s)
	}
	return cpus, nil
}

// ParseCPUShares checks --cpu-shares against the range the kernel accepts.
func ParseCPUShares(shares int64) (int64, error) {
	if shares != 0 && (shares < 2 || shares > 262144) {
		return 0, fmt.Errorf("invalid --cpu-shares %d: use a weight from 2 to 262144 (the default is 1024)", shares)
	}
	return shares, nil
}

// ParsePidsLimit checks --pids-limit: a positive number up to maxPids, or
// 0 or less for none, as in Docker.
func ParsePidsLimit(limit int64) (int64, error) {
	if limit > maxPids {
		return 0, fmt.Errorf("invalid --pids-limit %d: the kernel counts at most %d processes; give a number up to that, or -1 for no limit", limit, maxPids)
	}
	return max(limit, 0), nil
}

// ParseCPUSet checks a list such as "0-2,5" (for --cpuset-cpus or
// --cpuset-mems) against the IDs that exist, given in the same format.
func ParseCPUSet(flag, list, available string) (string, error) {
	want, err := parseIDList(list)
	if err != nil {
		return "", fmt.Errorf("invalid --%s %q: %v; use numbers and ranges such as 0-2,4", flag, list, err)
	}
	have, err := parseIDList(available)
	if err != nil {
		return "", fmt.Errorf("read the host's %s: %w", flag, err)
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if !have[id] {
			return "", fmt.Errorf("invalid --%s %q: %d does not exist on this host, which has %s", flag, list, id, available)
		}
	}
	return list, nil
}

// maxID is above any CPU or memory node number the kernel allows (its
// NR_CPUS is at most 8192), so that "0-2000000000" is refused, not expanded.
const maxID = 1 << 16

// parseIDList parses the kernel's list format ("0-3,7") into a set.
func parseIDList(list string) (map[int]bool, error) {
	ids := make(map[int]bool)
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err := strconv.Atoi(first)
		if err != nil || lo < 0 {
			return nil, fmt.Errorf("%q is not a number or range", part)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(last); err != nil || hi < lo {
				return nil, fmt.Errorf("%q is not a range from low to high", part)
			}
		}
		if hi >= maxID {
			return nil, fmt.Errorf("%d is beyond any CPU or memory node number", hi)
		}
		for id := lo; id <= hi; id++ {
			ids[id] = true
		}
	}
	return ids, nil
}

// weightFromShares maps v1 cpu.shares (2..262144, default 1024) onto v2
// cpu.weight (1..10000, default 100) linearly, as runc and crun do.
func weightFromShares(shares int64) int64 {
	return 1 + ((shares-2)*9999)/262142
}

// FormatBytes prints a byte count the way a person reads it, e.g. 32MiB.
func FormatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && n%1024 == 0 && i < len(units)-1 {
		n /= 1024
		i++
	}
	return fmt.Sprintf("%d%s", n, units[i])
}
