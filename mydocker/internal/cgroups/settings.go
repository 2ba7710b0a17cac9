//chapter:cgroups

package cgroups

import "strconv"

// setting is one value written to one control file of a controller.
type setting struct {
	controller string // the controller the file belongs to, e.g. "memory"
	file       string // e.g. "memory.max"
	value      string
	optional   bool // skipped where the host lacks the file (swap accounting off)
}

// v1Settings are the control files of cgroup v1 that express limits, in
// the order they must be written: on v1 the memory+swap limit may never be
// below the memory limit, so memory comes first.
func (l Limits) v1Settings() []setting {
	var s []setting
	if l.Memory > 0 {
		s = append(s, setting{"memory", "memory.limit_in_bytes", strconv.FormatInt(l.Memory, 10), false})
	}
	switch {
	case l.MemorySwap != 0:
		s = append(s, setting{"memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(l.MemorySwap, 10), false})
	case l.Memory > 0:
		s = append(s, setting{"memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(2*l.Memory, 10), true})
	}
	if l.CPUs > 0 {
		s = append(s,
			setting{"cpu", "cpu.cfs_period_us", strconv.Itoa(cpuPeriod), false},
			setting{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(l.cpuQuota(), 10), false})
	}
	if l.CPUShares > 0 {
		s = append(s, setting{"cpu", "cpu.shares", strconv.FormatInt(l.CPUShares, 10), false})
	}
	if l.PidsLimit > 0 {
		s = append(s, setting{"pids", "pids.max", strconv.FormatInt(l.PidsLimit, 10), false})
	}
	// cpuset.cpus and cpuset.mems are always written on v1, when the
	// cgroup is made: a new v1 cpuset cgroup starts with none, and no
	// process can join it until it has some.
	return s
}

// v2Settings are the control files of cgroup v2 that express limits.
func (l Limits) v2Settings() []setting {
	var s []setting
	if l.Memory > 0 {
		s = append(s, setting{"memory", "memory.max", strconv.FormatInt(l.Memory, 10), false})
	}
	// v2 limits swap alone, not memory plus swap as v1 and Docker's flag do.
	switch {
	case l.MemorySwap < 0:
		s = append(s, setting{"memory", "memory.swap.max", "max", false})
	case l.MemorySwap > 0:
		s = append(s, setting{"memory", "memory.swap.max", strconv.FormatInt(l.MemorySwap-l.Memory, 10), false})
	case l.Memory > 0:
		s = append(s, setting{"memory", "memory.swap.max", strconv.FormatInt(l.Memory, 10), true})
	}
	if l.CPUs > 0 {
		// One file holds both: "QUOTA PERIOD", in microseconds.
		s = append(s, setting{"cpu", "cpu.max", strconv.FormatInt(l.cpuQuota(), 10) + " " + strconv.Itoa(cpuPeriod), false})
	}
	if l.CPUShares > 0 {
		s = append(s, setting{"cpu", "cpu.weight", strconv.FormatInt(weightFromShares(l.CPUShares), 10), false})
	}
	if l.CpusetCPUs != "" {
		s = append(s, setting{"cpuset", "cpuset.cpus", l.CpusetCPUs, false})
	}
	if l.CpusetMems != "" {
		s = append(s, setting{"cpuset", "cpuset.mems", l.CpusetMems, false})
	}
	if l.PidsLimit > 0 {
		s = append(s, setting{"pids", "pids.max", strconv.FormatInt(l.PidsLimit, 10), false})
	}
	return s
}

// cpuQuota is the CPU time, in microseconds, the container may use in each
// period of cpuPeriod: --cpus 0.5 is 50000 of every 100000.
func (l Limits) cpuQuota() int64 {
	return int64(l.CPUs*cpuPeriod + 0.5)
}
