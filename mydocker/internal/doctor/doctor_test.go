//chapter:final

package doctor

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeHost builds a healthy cgroup v2 host in a temporary directory: a
// /proc, a /sys, a cgroup root and a busybox image, with probes that all
// succeed. Tests break one thing at a time.
type fakeHost struct {
	t       *testing.T
	dir     string
	fsTypes map[string]int64 // path -> statfs type; others are ext4
	cfg     Config
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	dir := t.TempDir()
	h := &fakeHost{t: t, dir: dir, fsTypes: map[string]int64{}}
	h.cfg = Config{
		ProcDir:   filepath.Join(dir, "proc"),
		SysDir:    filepath.Join(dir, "sys"),
		CgroupDir: filepath.Join(dir, "sys/fs/cgroup"),
		RootDir:   filepath.Join(dir, "var/lib/mydocker"),
		ImageDir:  filepath.Join(dir, "image"),
		EUID:      func() int { return 0 },
		FSType: func(path string) (int64, error) {
			if t, ok := h.fsTypes[path]; ok {
				return t, nil
			}
			if _, err := os.Stat(path); err != nil {
				return 0, err
			}
			return unix.EXT4_SUPER_MAGIC, nil
		},
		Unshare:         func(uintptr) error { return nil },
		TryOverlay:      func(string) error { return nil },
		IptablesVersion: func() (string, error) { return "iptables v1.8.10 (nf_tables)", nil },
	}
	h.write("proc/sys/kernel/osrelease", "6.8.0-31-generic\n")
	for _, ns := range namespaces {
		h.write("proc/self/ns/"+ns.name, "")
	}
	h.write("proc/filesystems", "nodev\tsysfs\nnodev\tcgroup2\n\text4\nnodev\toverlay\n")
	h.write("proc/sys/net/ipv4/ip_forward", "1\n")
	h.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
	h.write("sys/fs/cgroup/cgroup.subtree_control", "cpuset cpu io memory pids\n")
	h.fsTypes[h.cfg.CgroupDir] = unix.CGROUP2_SUPER_MAGIC
	h.write("sys/module/apparmor/parameters/enabled", "Y\n")
	h.write("image/bin/busybox", "#!fake busybox")
	if err := os.Chmod(filepath.Join(dir, "image/bin/busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(dir, "image/bin/sh")); err != nil {
		t.Fatal(err)
	}
	h.write("image/etc/os-release", "PRETTY_NAME=\"mydocker busybox test image (BusyBox 1.35.0)\"\n")
	return h
}

// write creates the file rel (and its directories) under the fake host.
func (h *fakeHost) write(rel, content string) {
	h.t.Helper()
	path := filepath.Join(h.dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *fakeHost) remove(rel string) {
	h.t.Helper()
	if err := os.RemoveAll(filepath.Join(h.dir, rel)); err != nil {
		h.t.Fatal(err)
	}
}

// hybrid turns the fake host into one like this CI machine: v1
// controllers, each on its own hierarchy, and a cgroup2 at unified/.
func (h *fakeHost) hybrid() {
	h.remove("sys/fs/cgroup/cgroup.controllers")
	h.remove("sys/fs/cgroup/cgroup.subtree_control")
	h.fsTypes[h.cfg.CgroupDir] = unix.TMPFS_MAGIC
	h.write("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n")
	h.fsTypes[filepath.Join(h.cfg.CgroupDir, "unified")] = unix.CGROUP2_SUPER_MAGIC
	for _, name := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids"} {
		h.write("sys/fs/cgroup/"+name+"/tasks", "")
		h.fsTypes[filepath.Join(h.cfg.CgroupDir, name)] = unix.CGROUP_SUPER_MAGIC
	}
	h.write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"+
		"cpuset\t2\t1\t1\ncpu\t3\t1\t1\ncpuacct\t4\t1\t1\nmemory\t5\t40\t1\npids\t6\t1\t1\nhugetlb\t0\t1\t1\n")
}

// result returns the row of one check, failing the test if there is none.
func result(t *testing.T, results []Result, check string) Result {
	t.Helper()
	for _, r := range results {
		if r.Check == check {
			return r
		}
	}
	t.Fatalf("no %q among the results %+v", check, results)
	return Result{}
}

func TestHealthyFakeHostsPass(t *testing.T) {
	for name, setup := range map[string]func(*fakeHost){
		"v2":     func(*fakeHost) {},
		"hybrid": (*fakeHost).hybrid,
		"v1": func(h *fakeHost) {
			h.hybrid()
			h.remove("sys/fs/cgroup/unified")
			delete(h.fsTypes, filepath.Join(h.cfg.CgroupDir, "unified"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newFakeHost(t)
			setup(h)
			results := Run(h.cfg)
			for _, r := range results {
				if r.Status != OK {
					t.Errorf("%s: %s: %s (fix: %s)", r.Check, r.Status, r.Detail, r.Fix)
				}
			}
			if Failed(results) {
				t.Error("Failed reports a failure on a healthy host")
			}
			if mode := result(t, results, "cgroup mode"); !strings.HasPrefix(mode.Detail, name+":") {
				t.Errorf("cgroup mode detail %q; want it to start with %q", mode.Detail, name+":")
			}
		})
	}
}

// brokenHosts each break the fake host in one way and expect one check to say so.
var brokenHosts = []struct {
	name       string
	breakHost  func(h *fakeHost)
	check      string
	want       Status
	wantDetail string // a part of the detail
}{
	{"not root", func(h *fakeHost) { h.cfg.EUID = func() int { return 1000 } },
		"root", Fail, "uid 1000"},
	{"old kernel", func(h *fakeHost) { h.write("proc/sys/kernel/osrelease", "4.4.0-210-generic\n") },
		"kernel", Fail, "older than 4.6"},
	{"unreadable kernel version", func(h *fakeHost) { h.write("proc/sys/kernel/osrelease", "custom\n") },
		"kernel", Warn, "cannot tell"},
	{"kernel without pid namespaces", func(h *fakeHost) { h.remove("proc/self/ns/pid") },
		"namespace pid", Fail, "no /proc/self/ns/pid"},
	{"net namespace refused", func(h *fakeHost) {
		h.cfg.Unshare = func(flag uintptr) error {
			if flag == unix.CLONE_NEWNET {
				return unix.EPERM
			}
			return nil
		}
	}, "namespace net", Fail, "operation not permitted; chapter 10"},
	{"user namespaces only warn", func(h *fakeHost) {
		h.write("proc/sys/user/max_user_namespaces", "0\n")
		h.cfg.Unshare = func(flag uintptr) error {
			if flag == unix.CLONE_NEWUSER {
				return unix.ENOSPC
			}
			return nil
		}
	}, "namespace user", Warn, "rootless"},
	{"no cgroup file system", func(h *fakeHost) {
		h.fsTypes[h.cfg.CgroupDir] = unix.TMPFS_MAGIC
		h.remove("sys/fs/cgroup")
		h.write("sys/fs/cgroup/empty", "")
	}, "cgroup mode", Fail, "no cgroup file system"},
	{"v2 without memory", func(h *fakeHost) {
		h.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io pids\n")
	}, "cgroup memory", Fail, "not in"},
	{"v2 pids not delegated", func(h *fakeHost) {
		h.write("sys/fs/cgroup/cgroup.subtree_control", "cpuset cpu memory\n")
	}, "cgroup pids", Warn, "not enabled in cgroup.subtree_control"},
	{"v1 memory not mounted", func(h *fakeHost) {
		h.hybrid()
		h.write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"+
			"cpuset\t2\t1\t1\ncpu\t3\t1\t1\ncpuacct\t4\t1\t1\nmemory\t0\t1\t1\npids\t6\t1\t1\n")
	}, "cgroup memory", Fail, "no v1 hierarchy"},
	{"v1 cpuacct disabled", func(h *fakeHost) {
		h.hybrid()
		h.write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"+
			"cpuset\t2\t1\t1\ncpu\t3\t1\t1\ncpuacct\t0\t1\t0\nmemory\t5\t1\t1\npids\t6\t1\t1\n")
	}, "cgroup cpuacct", Fail, "disabled"},
	{"v1 pids missing", func(h *fakeHost) {
		h.hybrid()
		h.write("proc/cgroups", "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"+
			"cpuset\t2\t1\t1\ncpu\t3\t1\t1\ncpuacct\t4\t1\t1\nmemory\t5\t1\t1\n")
	}, "cgroup pids", Fail, "no such controller"},
	{"kernel without overlay", func(h *fakeHost) { h.write("proc/filesystems", "nodev\tsysfs\n\text4\n") },
		"overlay", Fail, "does not list overlay"},
	{"overlay on overlay", func(h *fakeHost) {
		// The root does not exist yet: doctor tests in its parent.
		h.fsTypes[filepath.Join(h.dir, "var/lib")] = unix.OVERLAYFS_SUPER_MAGIC
		h.write("var/lib/keep", "")
		h.cfg.TryOverlay = func(string) error { return unix.EINVAL }
	}, "overlay mount", Fail, "overlay on overlay"},
	{"no image", func(h *fakeHost) { h.remove("image") },
		"image", Fail, "no busybox image"},
	{"image without a shell", func(h *fakeHost) { h.remove("image/bin/sh") },
		"image", Fail, "no bin/sh"},
	{"no iptables", func(h *fakeHost) {
		h.cfg.IptablesVersion = func() (string, error) { return "", exec.ErrNotFound }
	}, "iptables", Warn, "not installed"},
	{"broken iptables", func(h *fakeHost) {
		h.cfg.IptablesVersion = func() (string, error) { return "", errors.New("exit status 1") }
	}, "iptables", Warn, "does not run"},
	{"legacy iptables", func(h *fakeHost) {
		h.cfg.IptablesVersion = func() (string, error) { return "iptables v1.8.9 (legacy)", nil }
	}, "iptables", OK, "legacy backend"},
	{"no forwarding", func(h *fakeHost) { h.write("proc/sys/net/ipv4/ip_forward", "0\n") },
		"ip_forward", Warn, "is 0"},
	{"selinux enforcing", func(h *fakeHost) { h.write("sys/fs/selinux/enforce", "1\n") },
		"selinux", Warn, "enforcing"},
	{"apparmor restricting user namespaces", func(h *fakeHost) {
		h.write("proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n")
	}, "apparmor", OK, "restricted"},
}

func TestChecksReportWhatIsBroken(t *testing.T) {
	for _, tt := range brokenHosts {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost(t)
			tt.breakHost(h)
			results := Run(h.cfg)
			r := result(t, results, tt.check)
			if r.Status != tt.want || !strings.Contains(r.Detail, tt.wantDetail) {
				t.Fatalf("%s: %s %q; want %s with %q", r.Check, r.Status, r.Detail, tt.want, tt.wantDetail)
			}
			if r.Status != OK && (r.Fix == "" || r.Doc == "") {
				t.Errorf("%s is %s but says no fix (%q) or no doc section (%q)", r.Check, r.Status, r.Fix, r.Doc)
			}
			if got := Failed(results); got != (tt.want == Fail) {
				t.Errorf("Failed = %v; want %v", got, tt.want == Fail)
			}
		})
	}
}

// TestTroubleshootingHasEverySection: every doc section that a warning or a
// failure points to is a heading of docs/troubleshooting.md.
func TestTroubleshootingHasEverySection(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", TroubleshootingDoc))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if heading, ok := strings.CutPrefix(line, "## "); ok {
			anchors[githubAnchor(heading)] = true
		}
	}
	for _, tt := range brokenHosts {
		h := newFakeHost(t)
		tt.breakHost(h)
		for _, r := range Run(h.cfg) {
			if r.Status != OK && !anchors[r.Doc] {
				t.Errorf("%s (%s) points to %s#%s, which has no such heading", r.Check, tt.name, TroubleshootingDoc, r.Doc)
			}
		}
	}
}

// githubAnchor turns a heading into the anchor GitHub gives it: lower case,
// punctuation other than - and _ dropped, spaces turned into hyphens.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

func TestOverlayMountLeavesNothingBehind(t *testing.T) {
	h := newFakeHost(t)
	var tried string
	h.cfg.TryOverlay = func(dir string) error { tried = dir; return nil }
	h.write("var/lib/mydocker/images/keep", "")
	r := result(t, Run(h.cfg), "overlay mount")
	if r.Status != OK || filepath.Dir(tried) != h.cfg.RootDir {
		t.Fatalf("overlay mount %s %q in %q; want ok in the root %s", r.Status, r.Detail, tried, h.cfg.RootDir)
	}
	if _, err := os.Stat(tried); !os.IsNotExist(err) {
		t.Errorf("the test directory %s is still there: %v", tried, err)
	}
}

func TestPrintShowsFixesAndDocs(t *testing.T) {
	h := newFakeHost(t)
	h.remove("image")
	h.write("proc/sys/net/ipv4/ip_forward", "0\n")
	var out bytes.Buffer
	if err := Print(&out, Run(h.cfg)); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"CHECK", "STATUS", "DETAIL / FIX",
		"image", "FAIL", "fix: build it from the repository root with: make image",
		"see: docs/troubleshooting.md#image",
		"ip_forward", "warn",
		"doctor: 1 needed check(s) failed, 1 warning(s)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

func TestParseRelease(t *testing.T) {
	for release, want := range map[string][2]int{
		"6.18.44-fc-v782":   {6, 18},
		"5.15.0-91-generic": {5, 15},
		"4.19+":             {4, 19},
		"6.1":               {6, 1},
	} {
		major, minor, ok := parseRelease(release)
		if !ok || major != want[0] || minor != want[1] {
			t.Errorf("parseRelease(%q) = %d, %d, %v; want %d, %d", release, major, minor, ok, want[0], want[1])
		}
	}
	if _, _, ok := parseRelease("custom"); ok {
		t.Error(`parseRelease("custom") succeeded`)
	}
}

func TestExistingAncestor(t *testing.T) {
	dir := t.TempDir()
	if got := existingAncestor(filepath.Join(dir, "a/b/c")); got != dir {
		t.Errorf("existingAncestor = %q; want %q", got, dir)
	}
	if got := existingAncestor(dir); got != dir {
		t.Errorf("existingAncestor(an existing dir) = %q; want it", got)
	}
}
