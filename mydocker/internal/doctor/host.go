//chapter:final

package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// checkRoot: every chapter creates namespaces and mounts file systems,
// which needs root (CAP_SYS_ADMIN in the host's namespaces).
func checkRoot(c Config) []Result {
	uid := c.EUID()
	if uid == 0 {
		return []Result{{Check: "root", Status: OK, Detail: "running as root"}}
	}
	return []Result{{
		Check: "root", Status: Fail, Doc: "root",
		Detail: fmt.Sprintf("running as uid %d; every chapter needs root to create namespaces and mount file systems", uid),
		Fix:    "run it as root: sudo mydocker doctor (or sudo make doctor)",
	}}
}

// minKernel is the oldest kernel that has every namespace type mydocker
// uses: cgroup namespaces (chapter 4) arrived in Linux 4.6, after cgroup v2
// (4.5) and overlayfs (3.18).
var minKernel = [2]int{4, 6}

// checkKernel reads the kernel release, e.g. "6.8.0-31-generic".
func checkKernel(c Config) []Result {
	path := filepath.Join(c.ProcDir, "sys/kernel/osrelease")
	release, err := readTrimmed(path)
	if err != nil {
		return []Result{{Check: "kernel", Status: Warn, Doc: "kernel",
			Detail: fmt.Sprintf("cannot read the kernel version: %v", err),
			Fix:    "check that /proc is mounted (mount -t proc proc /proc)"}}
	}
	major, minor, ok := parseRelease(release)
	if !ok {
		return []Result{{Check: "kernel", Status: Warn, Doc: "kernel",
			Detail: fmt.Sprintf("%s: cannot tell the version from it", release),
			Fix:    fmt.Sprintf("make sure the kernel is %d.%d or newer (uname -r)", minKernel[0], minKernel[1])}}
	}
	want := fmt.Sprintf("%d.%d", minKernel[0], minKernel[1])
	if major < minKernel[0] || major == minKernel[0] && minor < minKernel[1] {
		return []Result{{Check: "kernel", Status: Fail, Doc: "kernel",
			Detail: fmt.Sprintf("%s is older than %s, the first with every namespace type mydocker uses", release, want),
			Fix:    "upgrade the kernel, or use the VM of this repository (docs/vm.md)"}}
	}
	return []Result{{Check: "kernel", Status: OK, Detail: fmt.Sprintf("%s (%s or newer needed)", release, want)}}
}

// parseRelease reads major and minor out of a release such as "6.18.44-fc".
func parseRelease(release string) (major, minor int, ok bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}

// checkImage: from chapter 3 on, containers run in the busybox root
// filesystem that `make image` builds.
func checkImage(c Config) []Result {
	dir := c.ImageDir
	where := dir
	if abs, err := filepath.Abs(dir); err == nil && abs != dir {
		where = fmt.Sprintf("%s (%s)", dir, abs)
	}
	fix := "build it from the repository root with: make image (or pass --image ROOTFS)"
	info, err := os.Stat(filepath.Join(dir, "bin/busybox"))
	if err != nil {
		return []Result{{Check: "image", Status: Fail, Doc: "image",
			Detail: fmt.Sprintf("no busybox image at %s (chapter 3 on run containers in it)", where),
			Fix:    fix}}
	}
	if !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
		return []Result{{Check: "image", Status: Fail, Doc: "image",
			Detail: fmt.Sprintf("%s/bin/busybox is not an executable file", where),
			Fix:    "rebuild it: rm -rf " + dir + " && make image"}}
	}
	if _, err := os.Lstat(filepath.Join(dir, "bin/sh")); err != nil {
		return []Result{{Check: "image", Status: Fail, Doc: "image",
			Detail: fmt.Sprintf("%s has no bin/sh", where),
			Fix:    "rebuild it: rm -rf " + dir + " && make image"}}
	}
	return []Result{{Check: "image", Status: OK, Detail: where + imageVersion(dir)}}
}

// imageVersion returns ", " and the image's PRETTY_NAME, or "".
func imageVersion(dir string) string {
	data, err := os.ReadFile(filepath.Join(dir, "etc/os-release"))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return ": " + strings.Trim(name, `"`)
		}
	}
	return ""
}
