// Package leakcheck proves that an end-to-end test left nothing behind on
// the host.
//
// The harness takes a Snapshot before a test and another after it, and
// reports every line of before.Leaks(after). A snapshot records the host's
// mount table, its cgroup directories, its network links, its firewall
// rules, the living children of the current process and the files under
// the mydocker root directory. Everything is compared as "present after but
// not before": things that disappear during a test are never reported.
//
// For the process check to be exact, the test process must call
// BecomeSubreaper once before starting anything, so that orphans (for
// example a container whose `mydocker run` was killed) are reparented to it
// rather than to the host's init. After reporting leaks the harness calls
// KillChildren so that the next test starts clean.
package leakcheck

import (
	"fmt"
	"slices"
	"strings"
)

// Options says what to look at.
type Options struct {
	// Root is the mydocker root directory the test used; every path
	// under it is compared. It may be empty, and it may not exist: in
	// both cases the file set is empty.
	Root string
	// IgnoreUnder lists paths relative to Root whose contents may
	// legitimately persist between tests, such as "images" or "layers".
	// The named path itself and everything below it are skipped.
	IgnoreUnder []string
}

// Mount is one line of the mount table.
type Mount struct {
	Point  string // where it is mounted
	FSType string // file system type, e.g. "overlay"
	Source string // mount source, e.g. "overlay" or "/dev/vda"
}

// String returns the mount point followed by the file system type in
// parentheses, e.g. "/var/lib/mydocker/containers/abc/merged (overlay)".
func (m Mount) String() string {
	return fmt.Sprintf("%s (%s)", m.Point, m.FSType)
}

// Rule is one normalised line of iptables-save or ip6tables-save output:
// a rule ("-A CHAIN ...") or a chain declaration (":CHAIN POLICY"),
// without packet counters.
type Rule struct {
	Family string // "iptables" or "ip6tables"
	Table  string // e.g. "nat" or "filter"
	Rule   string // e.g. "-A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE"
}

// String returns the rule followed by its table in parentheses, e.g.
// "-A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE (nat)".
func (r Rule) String() string {
	return fmt.Sprintf("%s (%s)", r.Rule, r.Table)
}

// Process is a living child process of the current process.
type Process struct {
	PID     int
	Cmdline string // arguments joined by spaces, or "[comm]" if empty
	// start is the start time in clock ticks after boot; together with
	// PID it tells a process from a later one that reused its PID.
	start uint64
}

// String returns the PID followed by the command line, e.g. "1234 sleep 100".
func (p Process) String() string {
	return fmt.Sprintf("%d %s", p.PID, p.Cmdline)
}

// Snapshot is the host state that a test could leak. The fields are
// exported so that snapshots can be built by hand; Take fills them all.
type Snapshot struct {
	Mounts    []Mount   // in mount table order; duplicates kept
	Cgroups   []string  // absolute paths of cgroup directories, sorted
	Links     []string  // network interface names, sorted
	Rules     []Rule    // firewall lines in dump order, without duplicates
	Processes []Process // living children, sorted by PID
	Files     []string  // slash-separated paths relative to Root, sorted
}

// Take records the current host state.
//
// Take reaps any zombie children it finds (see Children), so it must not
// run while an os/exec.Cmd of this process is still waiting to be reaped.
// Where iptables-save is installed Take needs root (CAP_NET_ADMIN): an
// unprivileged iptables-save fails, and so does Take, rather than report a
// firewall it could not read.
func Take(opts Options) (*Snapshot, error) {
	var s Snapshot
	var err error
	if s.Mounts, err = readMounts(mountinfoPath); err != nil {
		return nil, err
	}
	if s.Cgroups, err = listCgroups(cgroupRoot); err != nil {
		return nil, err
	}
	if s.Links, err = listLinks(netClassPath); err != nil {
		return nil, err
	}
	if s.Rules, err = readFirewall(); err != nil {
		return nil, err
	}
	if s.Processes, err = Children(); err != nil {
		return nil, err
	}
	if s.Files, err = listFiles(opts.Root, opts.IgnoreUnder); err != nil {
		return nil, err
	}
	return &s, nil
}

// Leaks lists what is in after but not in before, one human-readable line
// each, grouped in the order mounts, cgroups, links, firewall rules,
// processes, files; within a group the order is that of after. Examples:
//
//	mount: /var/lib/mydocker/containers/abc/merged (overlay)
//	cgroup: /sys/fs/cgroup/memory/mydocker/abc
//	link: veth1234
//	iptables: -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE (nat)
//	process: 1234 sleep 100
//	file: containers/abc/config.json
//
// Mounts are compared by mount point and file system type and counted: a
// mount stacked twice on the same point after the test, once before,
// gives one line. A nil before or after counts as an empty snapshot.
func (before *Snapshot) Leaks(after *Snapshot) []string {
	if before == nil {
		before = &Snapshot{}
	}
	if after == nil {
		return nil
	}
	var out []string

	type mountKey struct{ point, fstype string }
	counts := make(map[mountKey]int)
	for _, m := range before.Mounts {
		counts[mountKey{m.Point, m.FSType}]++
	}
	for _, m := range after.Mounts {
		k := mountKey{m.Point, m.FSType}
		if counts[k] > 0 {
			counts[k]--
			continue
		}
		out = append(out, "mount: "+m.String())
	}

	out = appendNew(out, "cgroup: ", before.Cgroups, after.Cgroups)
	out = appendNew(out, "link: ", before.Links, after.Links)

	rules := make(map[Rule]bool)
	for _, r := range before.Rules {
		rules[r] = true
	}
	for _, r := range after.Rules {
		if !rules[r] {
			out = append(out, r.Family+": "+r.String())
		}
	}

	type procKey struct {
		pid   int
		start uint64
	}
	procs := make(map[procKey]bool)
	for _, p := range before.Processes {
		procs[procKey{p.PID, p.start}] = true
	}
	for _, p := range after.Processes {
		if !procs[procKey{p.PID, p.start}] {
			out = append(out, "process: "+p.String())
		}
	}

	out = appendNew(out, "file: ", before.Files, after.Files)
	return out
}

// appendNew appends prefix+s to out for every s in after that is not in
// before.
func appendNew(out []string, prefix string, before, after []string) []string {
	seen := make(map[string]bool, len(before))
	for _, s := range before {
		seen[s] = true
	}
	for _, s := range after {
		if !seen[s] {
			out = append(out, prefix+s)
		}
	}
	return out
}

// sortedUnique sorts ss and removes duplicates.
func sortedUnique(ss []string) []string {
	slices.Sort(ss)
	return slices.Compact(ss)
}

// hasPathPrefix reports whether the slash-separated path p is dir or lies
// below it.
func hasPathPrefix(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}
