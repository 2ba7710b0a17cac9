//chapter:cgroups

package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"unicode/utf8"

	"github.com/mydocker/mydocker/mydocker/internal/cgroups"
)

// limits parses and checks the resource flags of run, before anything is
// made: a bad value is the user's error, reported with exit code 125.
func (o *runOptions) limits() (cgroups.Limits, error) {
	var l cgroups.Limits
	var err error
	if l.Memory, l.MemorySwap, err = cgroups.ParseMemory(o.memory, o.memorySwap); err != nil {
		return l, err
	}
	if o.cpus != "" {
		if l.CPUs, err = cgroups.ParseCPUs(o.cpus, runtime.NumCPU()); err != nil {
			return l, err
		}
	}
	if l.CPUShares, err = cgroups.ParseCPUShares(o.cpuShares); err != nil {
		return l, err
	}
	if l.PidsLimit, err = cgroups.ParsePidsLimit(o.pidsLimit); err != nil {
		return l, err
	}
	if o.cpusetCPUs != "" {
		if l.CpusetCPUs, err = cgroups.ParseCPUSet("cpuset-cpus", o.cpusetCPUs, hostList("/sys/devices/system/cpu/online")); err != nil {
			return l, err
		}
	}
	if o.cpusetMems != "" {
		if l.CpusetMems, err = cgroups.ParseCPUSet("cpuset-mems", o.cpusetMems, hostList("/sys/devices/system/node/online")); err != nil {
			return l, err
		}
	}
	if strings.Contains(o.cgroupParent, "..") || o.cgroupParent == "" {
		return l, fmt.Errorf("invalid --cgroup-parent %q: give a path below the cgroup root, e.g. mydocker or lab/mydocker", o.cgroupParent)
	}
	// The container's config.json, JSON text, records the parent, and the
	// clean-up after a killed run finds the cgroup by it: it must survive.
	if !utf8.ValidString(o.cgroupParent) {
		return l, fmt.Errorf("invalid --cgroup-parent %q: it is not UTF-8 text; give a name in UTF-8, e.g. lab/mydocker", o.cgroupParent)
	}
	return l, nil
}

// hostList reads the host's list of CPU or memory node IDs from sysfs. A
// kernel without NUMA support has no node list: then node 0 is all there is.
func hostList(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "0"
	}
	return strings.TrimSpace(string(data))
}

// reportOOM says so when the kernel killed processes of the container for
// want of memory, as `docker inspect` shows OOMKilled.
func reportOOM(cgroup *cgroups.Cgroup, code int) {
	kills := cgroup.OOMKills()
	if kills == 0 {
		return
	}
	limit := cgroups.FormatBytes(cgroup.MemoryLimit())
	if code == 128+9 {
		fmt.Fprintf(os.Stderr, "mydocker: container killed: out of memory (limit %s)\n", limit)
		return
	}
	fmt.Fprintf(os.Stderr, "mydocker: the kernel killed %d process(es) of the container: out of memory (limit %s)\n", kills, limit)
}
