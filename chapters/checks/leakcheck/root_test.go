package leakcheck

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// skipUnless skips t with reason when ok is false, except under
// MYDOCKER_E2E=1, where a test that cannot run is a failure.
func skipUnless(t *testing.T, ok bool, reason string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("MYDOCKER_E2E") == "1" {
		t.Fatalf("%s (MYDOCKER_E2E=1: not skipping)", reason)
	}
	t.Skip(reason)
}

// needRoot skips t unless it runs as root (see skipUnless).
func needRoot(t *testing.T) {
	t.Helper()
	skipUnless(t, os.Geteuid() == 0, "needs root")
}

// take is Take that fails the test on error.
func take(t *testing.T, opts Options) *Snapshot {
	t.Helper()
	s, err := Take(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// count returns how many times s occurs in ss.
func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// hostNoise reports whether a leak line may come from the host rather than
// from the test: cgroup directories come and go with unrelated processes
// (on this machine, memory:/process_api/<id>).
func hostNoise(line string) bool {
	return strings.HasPrefix(line, "cgroup: ") && !strings.Contains(line, "mdtest")
}

// ownLeaks returns leaks without host noise.
func ownLeaks(leaks []string) []string {
	return slices.DeleteFunc(slices.Clone(leaks), hostNoise)
}

func TestTakeTwiceNoLeaks(t *testing.T) {
	needRoot(t)
	opts := Options{Root: t.TempDir()}
	before := take(t, opts)
	after := take(t, opts)
	leaks := before.Leaks(after)
	for _, l := range leaks {
		if hostNoise(l) {
			t.Logf("host noise (ignored): %s", l)
		}
	}
	if own := ownLeaks(leaks); len(own) != 0 {
		t.Errorf("two snapshots in a row differ: %q", own)
	}
	if len(after.Mounts) == 0 || len(after.Links) == 0 {
		t.Errorf("snapshot looks empty: %d mounts, %d links", len(after.Mounts), len(after.Links))
	}
}

func TestTakeFilesAndProcesses(t *testing.T) {
	needRoot(t) // Take runs iptables-save, which needs root where installed
	if err := BecomeSubreaper(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(KillChildren)
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	opts := Options{Root: root, IgnoreUnder: []string{"images"}}
	before := take(t, opts)
	for _, p := range []string{"images/busybox.tar", "containers/abc/config.json"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := exec.Command("sh", "-c", "sleep 31 &").Run(); err != nil {
		t.Fatal(err)
	}
	after := take(t, opts)
	leaks := ownLeaks(before.Leaks(after))
	var procs []string
	for _, l := range leaks {
		if strings.HasPrefix(l, "process: ") {
			procs = append(procs, l)
		}
	}
	if len(procs) != 1 || !strings.HasSuffix(procs[0], " sleep 31") {
		t.Errorf("process leaks = %q, want one sleep 31", procs)
	}
	for _, want := range []string{"file: containers", "file: containers/abc", "file: containers/abc/config.json"} {
		if !slices.Contains(leaks, want) {
			t.Errorf("leaks %q lack %q", leaks, want)
		}
	}
	if len(leaks) != 4 {
		t.Errorf("leaks = %q, want 3 files and 1 process", leaks)
	}
	KillChildren()
	if l := ownLeaks(before.Leaks(take(t, opts))); len(l) != 3 {
		t.Errorf("after KillChildren leaks = %q, want only the 3 files", l)
	}
}

func TestMountLeak(t *testing.T) {
	needRoot(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for {
			if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
				if !errors.Is(err, unix.EINVAL) {
					t.Errorf("unmount %s: %v", dir, err)
				}
				return
			}
		}
	})
	before := take(t, Options{})
	// Mount twice on the same point: a stacked mount counts twice.
	for i := range 2 {
		if err := unix.Mount("mdtest-leak", dir, "tmpfs", 0, "size=64k"); err != nil {
			t.Fatalf("mount tmpfs #%d on %s: %v", i+1, dir, err)
		}
	}
	after := take(t, Options{})
	leaks := ownLeaks(before.Leaks(after))
	want := fmt.Sprintf("mount: %s (tmpfs)", dir)
	if n := count(leaks, want); n != 2 || len(leaks) != 2 {
		t.Errorf("leaks = %q, want %q twice and nothing else", leaks, want)
	}
	for range 2 {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Fatalf("unmount %s: %v", dir, err)
		}
	}
	if l := ownLeaks(before.Leaks(take(t, Options{}))); len(l) != 0 {
		t.Errorf("leaks after unmounting: %q", l)
	}
}

func TestLinkLeak(t *testing.T) {
	needRoot(t)
	ipCmd, ok := findCommand("ip")
	skipUnless(t, ok, "needs the ip command")
	const name, peer = "mdtest-leak0", "mdtest-leak1"
	ip := func(args ...string) error {
		out, err := exec.Command(ipCmd, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(netClassPath, name)); err == nil {
		t.Logf("removing stale %s", name)
		if err := ip("link", "del", name); err != nil {
			t.Fatal(err)
		}
	}
	before := take(t, Options{})
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(netClassPath, name)); err == nil {
			if err := ip("link", "del", name); err != nil {
				t.Error(err)
			}
		}
	})
	want := []string{"link: " + name}
	if err := ip("link", "add", name, "type", "dummy"); err != nil {
		// Some kernels lack the dummy driver; a veth pair (which
		// mydocker needs anyway) is just as inert while it is down.
		t.Logf("%v; trying a veth pair", err)
		if err := ip("link", "add", name, "type", "veth", "peer", "name", peer); err != nil {
			t.Fatal(err)
		}
		want = append(want, "link: "+peer)
	}
	leaks := ownLeaks(before.Leaks(take(t, Options{})))
	if !slices.Equal(leaks, want) {
		t.Errorf("leaks = %q, want %q", leaks, want)
	}
	if err := ip("link", "del", name); err != nil {
		t.Fatal(err)
	}
	if l := ownLeaks(before.Leaks(take(t, Options{}))); len(l) != 0 {
		t.Errorf("leaks after deleting the link: %q", l)
	}
}

// TestFirewallLeak adds rules in a network namespace of its own, so that
// nothing is added to the host's firewall, and checks that they show up as
// leaks while the built-in chains of the tables they create do not.
func TestFirewallLeak(t *testing.T) {
	needRoot(t)
	iptables, ok4 := findCommand("iptables")
	ip6tables, ok6 := findCommand("ip6tables")
	skipUnless(t, ok4 && ok6, "needs iptables and ip6tables")
	run := func(path string, args ...string) error {
		out, err := exec.Command(path, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %w: %s", path, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	type result struct {
		before, after []Rule
		err           error
	}
	done := make(chan result)
	go func() {
		var r result
		defer func() { done <- r }()
		// The thread never returns to the host namespace: it stays
		// locked, so the runtime ends it when this goroutine exits.
		runtime.LockOSThread()
		if r.err = unix.Unshare(unix.CLONE_NEWNET); r.err != nil {
			r.err = fmt.Errorf("unshare(CLONE_NEWNET): %w", r.err)
			return
		}
		if r.before, r.err = readFirewall(); r.err != nil {
			return
		}
		for _, c := range [][]string{
			{iptables, "-N", "MDTEST-LEAK"},
			{iptables, "-A", "MDTEST-LEAK", "-s", "10.254.253.0/24", "-j", "RETURN"},
			{iptables, "-t", "nat", "-A", "POSTROUTING", "-s", "10.254.253.0/24", "-j", "MASQUERADE"},
			{ip6tables, "-N", "MDTEST-LEAK6"},
		} {
			if r.err = run(c[0], c[1:]...); r.err != nil {
				return
			}
		}
		r.after, r.err = readFirewall()
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	leaks := (&Snapshot{Rules: r.before}).Leaks(&Snapshot{Rules: r.after})
	want := []string{
		"iptables: :MDTEST-LEAK - (filter)",
		"iptables: -A MDTEST-LEAK -s 10.254.253.0/24 -j RETURN (filter)",
		"iptables: -A POSTROUTING -s 10.254.253.0/24 -j MASQUERADE (nat)",
		"ip6tables: :MDTEST-LEAK6 - (filter)",
	}
	if !slices.Equal(leaks, want) {
		t.Errorf("leaks = %q, want %q", leaks, want)
	}
}

func TestCgroupLeak(t *testing.T) {
	needRoot(t)
	parent := testCgroupParent()
	skipUnless(t, parent != "", "no cgroup hierarchy found under "+cgroupRoot)
	dir := filepath.Join(parent, fmt.Sprintf("mdtest-leak-%d", os.Getpid()))
	sub := filepath.Join(dir, "sub")
	before := take(t, Options{})
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, d := range []string{sub, dir} {
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Error(err)
			}
		}
	})
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	leaks := ownLeaks(before.Leaks(take(t, Options{})))
	want := []string{"cgroup: " + dir, "cgroup: " + sub}
	if !slices.Equal(leaks, want) {
		t.Errorf("leaks = %q, want %q", leaks, want)
	}
}

// testCgroupParent returns a directory in which a test cgroup can be
// created: the root of a v2 host's single tree, or a v1 controller.
func testCgroupParent() string {
	var fs unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &fs); err == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
		return cgroupRoot
	}
	for _, c := range []string{"memory", "pids", "unified"} {
		p := filepath.Join(cgroupRoot, c)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p
		}
	}
	return ""
}

// TestTimings logs how long each part of a snapshot takes.
func TestTimings(t *testing.T) {
	timeIt := func(what string, f func() error) {
		const runs = 20
		start := time.Now()
		for range runs {
			if err := f(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		t.Logf("%-9s %v per call", what, time.Since(start)/runs)
	}
	n := 0
	timeIt("mounts", func() error { _, err := readMounts(mountinfoPath); return err })
	timeIt("cgroups", func() error { d, err := listCgroups(cgroupRoot); n = len(d); return err })
	t.Logf("%d cgroup directories", n)
	timeIt("links", func() error { _, err := listLinks(netClassPath); return err })
	timeIt("children", func() error { _, err := Children(); return err })
	if os.Geteuid() == 0 {
		timeIt("firewall", func() error { _, err := readFirewall(); return err })
		timeIt("Take", func() error { _, err := Take(Options{Root: t.TempDir()}); return err })
	}
}
