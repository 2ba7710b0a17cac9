//chapter:cgroups

package cgroups

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{"100": 100, "1b": 1, "4k": 4096, "256m": 256 << 20, "256M": 256 << 20,
		"1g": 1 << 30, "1.5g": 3 << 29, "2mb": 2 << 20, " 8 m ": 8 << 20, "1t": 1 << 40, "3bb": 3}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12x", "-5m", "m", "1.g", "1e9", ".5m", "1.2.3m", "5mm", "5 k b", "0x10"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded; want an error", in)
		}
	}
}

func TestParseMemory(t *testing.T) {
	tests := []struct {
		memory, swap  string
		mem, memSwap  int64
		wantErrSubstr string
	}{
		{"", "", 0, 0, ""},
		{"32m", "", 32 << 20, 0, ""}, // 0: the default, as much swap as memory
		{"32m", "32m", 32 << 20, 32 << 20, ""},
		{"32m", "-1", 32 << 20, -1, ""},
		{"12x", "", 0, 0, "use a number with an optional unit"},
		{"1m", "", 0, 0, "minimum is 6m"},
		{"32m", "16m", 0, 0, "less than the memory limit"},
		{"", "64m", 0, 0, "needs a memory limit"},
		{"2097152t", "", 1 << 61, 0, ""},
		// Twice this overflowed an int64 in the default memory+swap limit.
		{"5000000t", "", 0, 0, "the maximum is 2097152t"},
		{"2097153t", "", 0, 0, "the maximum is 2097152t"},
		{"8388608t", "", 0, 0, "too large"},
	}
	for _, tt := range tests {
		mem, memSwap, err := ParseMemory(tt.memory, tt.swap)
		if tt.wantErrSubstr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
				t.Errorf("ParseMemory(%q, %q) error %v; want one containing %q", tt.memory, tt.swap, err, tt.wantErrSubstr)
			}
			continue
		}
		if err != nil || mem != tt.mem || memSwap != tt.memSwap {
			t.Errorf("ParseMemory(%q, %q) = %d, %d, %v; want %d, %d", tt.memory, tt.swap, mem, memSwap, err, tt.mem, tt.memSwap)
		}
	}
}

func TestParseCPUs(t *testing.T) {
	if got, err := ParseCPUs("0.5", 2); err != nil || got != 0.5 {
		t.Errorf("ParseCPUs(0.5) = %v, %v", got, err)
	}
	for _, in := range []string{"-1", "abc", "3", "0.001", "NaN"} {
		if _, err := ParseCPUs(in, 2); err == nil {
			t.Errorf("ParseCPUs(%q) on a 2-CPU host succeeded; want an error", in)
		}
	}
	_, err := ParseCPUs("3", 2)
	if err == nil || !strings.Contains(err.Error(), "this host has 2 CPUs") {
		t.Errorf("too many CPUs: error %v should say how many the host has", err)
	}
}

func TestParseCPUSet(t *testing.T) {
	if got, err := ParseCPUSet("cpuset-cpus", "0-1", "0-3"); err != nil || got != "0-1" {
		t.Errorf("ParseCPUSet(0-1) = %q, %v", got, err)
	}
	for _, in := range []string{"9-", "1-0", "a", "", "0,,1", "0-2000000000"} {
		if _, err := ParseCPUSet("cpuset-cpus", in, "0-3"); err == nil {
			t.Errorf("ParseCPUSet(%q) succeeded; want an error", in)
		}
	}
	_, err := ParseCPUSet("cpuset-cpus", "0,9", "0-1")
	if err == nil || !strings.Contains(err.Error(), "9 does not exist on this host, which has 0-1") {
		t.Errorf("missing CPU: error %v", err)
	}
}

func TestParseLimitsOfCounts(t *testing.T) {
	if _, err := ParseCPUShares(1); err == nil {
		t.Error("cpu-shares 1 accepted")
	}
	// As in Docker, 0 or less is no limit.
	for in, want := range map[int64]int64{-1: 0, -5: 0, 0: 0, 1: 1, 4194304: 4194304} {
		if got, err := ParsePidsLimit(in); err != nil || got != want {
			t.Errorf("pids-limit %d = %d, %v; want %d", in, got, err, want)
		}
	}
	// More than pids.max takes was refused only after the command ran.
	for _, in := range []int64{4194305, 9223372036854775807} {
		if _, err := ParsePidsLimit(in); err == nil || !strings.Contains(err.Error(), "at most 4194304") {
			t.Errorf("pids-limit %d: error %v; want one that gives the largest", in, err)
		}
	}
}

// TestSettingsMapping checks which files each cgroup version gets for the
// same flags: the part of cgroup v2 support that can be tested without a
// v2 host (the VM lane tests the rest).
func TestSettingsMapping(t *testing.T) {
	l := Limits{Memory: 32 << 20, MemorySwap: 64 << 20, CPUs: 0.5, CPUShares: 512,
		CpusetCPUs: "0", CpusetMems: "0", PidsLimit: 8}
	v1 := []string{
		"memory/memory.limit_in_bytes=33554432",
		"memory/memory.memsw.limit_in_bytes=67108864",
		"cpu/cpu.cfs_period_us=100000",
		"cpu/cpu.cfs_quota_us=50000",
		"cpu/cpu.shares=512",
		"pids/pids.max=8",
	}
	v2 := []string{
		"memory/memory.max=33554432",
		"memory/memory.swap.max=33554432", // swap alone: 64m - 32m
		"cpu/cpu.max=50000 100000",
		"cpu/cpu.weight=20",
		"cpuset/cpuset.cpus=0",
		"cpuset/cpuset.mems=0",
		"pids/pids.max=8",
	}
	if got := flatten(l.v1Settings()); !slices.Equal(got, v1) {
		t.Errorf("v1 settings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(v1, "\n"))
	}
	if got := flatten(l.v2Settings()); !slices.Equal(got, v2) {
		t.Errorf("v2 settings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(v2, "\n"))
	}
	defaultSwap := Limits{Memory: 32 << 20}
	if got := flatten(defaultSwap.v1Settings()); !slices.Contains(got, "memory/memory.memsw.limit_in_bytes=67108864") {
		t.Errorf("default swap on v1 gives %v; want memory plus swap of twice the memory", got)
	}
	if got := flatten(defaultSwap.v2Settings()); !slices.Contains(got, "memory/memory.swap.max=33554432") {
		t.Errorf("default swap on v2 gives %v; want swap as large as the memory", got)
	}
	unlimitedSwap := Limits{Memory: 32 << 20, MemorySwap: -1}
	if got := flatten(unlimitedSwap.v2Settings()); !slices.Contains(got, "memory/memory.swap.max=max") {
		t.Errorf("--memory-swap -1 on v2 gives %v; want memory.swap.max=max", got)
	}
	if got := flatten(Limits{}.v2Settings()); len(got) != 0 {
		t.Errorf("no limits give settings %v", got)
	}
}

func flatten(settings []setting) []string {
	var out []string
	for _, s := range settings {
		out = append(out, s.controller+"/"+s.file+"="+s.value)
	}
	return out
}

func TestWeightFromShares(t *testing.T) {
	for shares, want := range map[int64]int64{2: 1, 1024: 39, 262144: 10000} {
		if got := weightFromShares(shares); got != want {
			t.Errorf("weightFromShares(%d) = %d; want %d", shares, got, want)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	line := "35 24 0:30 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory"
	_, point, fsType, options, ok := parseMountinfo(line)
	if !ok || point != "/sys/fs/cgroup/memory" || fsType != "cgroup" || options != "rw,memory" {
		t.Errorf("parseMountinfo = %q, %q, %q, %v", point, fsType, options, ok)
	}
	if _, _, _, _, ok := parseMountinfo("garbage"); ok {
		t.Error("parseMountinfo accepted a line without fields")
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{32 << 20: "32MiB", 1 << 30: "1GiB", 1500: "1500B"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %s; want %s", n, got, want)
		}
	}
}

func TestDirOfStripsTheMountRoot(t *testing.T) {
	tests := []struct{ mount, root, path, want string }{
		{"/sys/fs/cgroup/memory", "/", "/user.slice", "/sys/fs/cgroup/memory/user.slice"},
		{"/sys/fs/cgroup/memory", "/", "/", "/sys/fs/cgroup/memory"},
		{"/sys/fs/cgroup/memory", "/docker/abc", "/docker/abc", "/sys/fs/cgroup/memory"},
		{"/sys/fs/cgroup/memory", "/docker/abc", "/docker/abc/x", "/sys/fs/cgroup/memory/x"},
	}
	for _, tt := range tests {
		if got, err := dirOf(tt.mount, tt.root, tt.path); err != nil || got != tt.want {
			t.Errorf("dirOf(%q, %q, %q) = %q, %v; want %q", tt.mount, tt.root, tt.path, got, err, tt.want)
		}
	}
	for _, path := range []string{"/docker/abcd", "/user.slice"} {
		if _, err := dirOf("/sys/fs/cgroup/memory", "/docker/abc", path); err == nil {
			t.Errorf("dirOf accepted %q outside the mount's root", path)
		}
	}
}

// removeMadeParents removes only the parents that mydocker made (the sticky
// bit), only while they are empty, and never above the parent given. A
// plain directory tree stands for the cgroup hierarchy.
func TestRemoveMadeParents(t *testing.T) {
	mount := t.TempDir()
	mkdir := func(path string, mode uint32) {
		t.Helper()
		if err := unix.Mkdir(filepath.Join(mount, path), mode); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("lab", 0o755) // there before: kept
	mkdir("lab/a", madeMode)
	mkdir("lab/a/b", madeMode)
	mkdir("lab/a/b/other", 0o755) // another container's cgroup
	mkdir("lab/a/b/mine", 0o755)

	// The container's own directory is gone when this runs.
	os.Remove(filepath.Join(mount, "lab/a/b/mine"))
	removeMadeParents(filepath.Join(mount, "lab/a/b/mine"), "lab/a/b")
	if _, err := os.Stat(filepath.Join(mount, "lab/a/b")); err != nil {
		t.Fatalf("a parent that holds another container's cgroup was removed: %v", err)
	}
	os.Remove(filepath.Join(mount, "lab/a/b/other"))
	removeMadeParents(filepath.Join(mount, "lab/a/b/other"), "lab/a/b")
	if _, err := os.Stat(filepath.Join(mount, "lab/a")); !os.IsNotExist(err) {
		t.Errorf("the parents that mydocker made are still there once empty (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(mount, "lab")); err != nil {
		t.Errorf("the parent that was there before was removed: %v", err)
	}

	// The default parent stays, even when it has the mark.
	mkdir(DefaultParent, madeMode)
	removeMadeParents(filepath.Join(mount, DefaultParent, "id"), DefaultParent)
	if _, err := os.Stat(filepath.Join(mount, DefaultParent)); err != nil {
		t.Errorf("the default parent was removed: %v", err)
	}
}
