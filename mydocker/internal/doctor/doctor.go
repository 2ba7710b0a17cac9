//chapter:final

// Package doctor checks whether a host can run mydocker: root, the kernel,
// each namespace type, cgroups, overlayfs, iptables, the busybox test image
// and the security modules. Each check is a small function that returns
// Results; Run runs them all and Print shows them as a table.
//
// Everything doctor reads from the host comes through Config, so tests can
// point it at fake /proc and cgroup trees and force any check to fail.
package doctor

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"text/tabwriter"

	"golang.org/x/sys/unix"
)

// Status is how a check came out.
type Status int

const (
	OK   Status = iota // what mydocker needs is there
	Warn               // works, but something later or optional may not
	Fail               // a chapter cannot run here until this is fixed
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	default:
		return "FAIL"
	}
}

// Result is one row of doctor's table.
type Result struct {
	Check  string // what was checked, e.g. "namespace pid"
	Status Status
	Detail string // what was found
	Fix    string // what to do about a warn or FAIL
	Doc    string // the section of docs/troubleshooting.md that explains it
}

// TroubleshootingDoc is where every failure is explained at length.
const TroubleshootingDoc = "docs/troubleshooting.md"

// DefaultImage is where `make image` puts the busybox root filesystem,
// relative to the repository root.
const DefaultImage = "build/images/busybox/rootfs"

// Config says where doctor looks. The zero value checks the real host,
// with the mydocker root /var/lib/mydocker and DefaultImage.
type Config struct {
	ProcDir   string // /proc
	SysDir    string // /sys
	CgroupDir string // /sys/fs/cgroup
	RootDir   string // mydocker's state directory: overlay layers live under it
	ImageDir  string // the busybox root filesystem

	// The probes that act on the host rather than read a file.
	EUID            func() int                       // the effective user ID
	FSType          func(path string) (int64, error) // statfs(2) f_type of path
	Unshare         func(flag uintptr) error         // start a child in a new namespace of one type
	TryOverlay      func(dir string) error           // mount an overlay inside dir, use it, unmount it
	IptablesVersion func() (string, error)           // the output of `iptables --version`
}

// withDefaults fills the empty fields of c with the real host's.
func (c Config) withDefaults() Config {
	setString := func(field *string, value string) {
		if *field == "" {
			*field = value
		}
	}
	setString(&c.ProcDir, "/proc")
	setString(&c.SysDir, "/sys")
	setString(&c.CgroupDir, "/sys/fs/cgroup")
	setString(&c.RootDir, "/var/lib/mydocker")
	setString(&c.ImageDir, DefaultImage)
	if c.EUID == nil {
		c.EUID = os.Geteuid
	}
	if c.FSType == nil {
		c.FSType = statfsType
	}
	if c.Unshare == nil {
		c.Unshare = unshareInChild
	}
	if c.TryOverlay == nil {
		c.TryOverlay = tryOverlay
	}
	if c.IptablesVersion == nil {
		c.IptablesVersion = iptablesVersion
	}
	return c
}

// Run runs every check, in the order in which the chapters need them.
func Run(c Config) []Result {
	c = c.withDefaults()
	checks := []func(Config) []Result{
		checkRoot,
		checkKernel,
		checkNamespaces,
		checkCgroups,
		checkOverlay,
		checkImage,
		checkIptables,
		checkIPForward,
		checkSecurityModules,
	}
	var results []Result
	for _, check := range checks {
		results = append(results, check(c)...)
	}
	return results
}

// Failed reports whether any check failed; warnings do not count.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// Print writes the results as a table, a fix under each warn or FAIL, and a
// summary line.
func Print(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL / FIX")
	fails, warns := 0, 0
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Check, r.Status, r.Detail)
		if r.Status == OK {
			continue
		}
		if r.Status == Fail {
			fails++
		} else {
			warns++
		}
		if r.Fix != "" {
			fmt.Fprintf(tw, "\t\tfix: %s\n", r.Fix)
		}
		if r.Doc != "" {
			fmt.Fprintf(tw, "\t\tsee: %s#%s\n", TroubleshootingDoc, r.Doc)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var err error
	switch {
	case fails > 0:
		_, err = fmt.Fprintf(w, "\ndoctor: %d needed check(s) failed, %d warning(s): apply the fixes above (all are explained in %s)\n",
			fails, warns, TroubleshootingDoc)
	case warns > 0:
		_, err = fmt.Fprintf(w, "\ndoctor: everything needed is here; %d warning(s) concern later chapters or options\n", warns)
	default:
		_, err = fmt.Fprintln(w, "\ndoctor: everything needed is here")
	}
	return err
}

// statfsType returns the file system type (the f_type magic number) of path.
func statfsType(path string) (int64, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(path, &fs); err != nil {
		return 0, err
	}
	return int64(fs.Type), nil
}

// fsNames names the file system types that mydocker's users meet.
var fsNames = map[int64]string{
	unix.EXT4_SUPER_MAGIC:      "ext2/3/4",
	unix.XFS_SUPER_MAGIC:       "xfs",
	unix.BTRFS_SUPER_MAGIC:     "btrfs",
	unix.TMPFS_MAGIC:           "tmpfs",
	unix.OVERLAYFS_SUPER_MAGIC: "overlay",
	unix.NFS_SUPER_MAGIC:       "nfs",
	unix.V9FS_MAGIC:            "9p",
	unix.FUSE_SUPER_MAGIC:      "fuse (or virtiofs)",
	unix.CGROUP_SUPER_MAGIC:    "cgroup",
	unix.CGROUP2_SUPER_MAGIC:   "cgroup2",
	0x2fc12fc1:                 "zfs",
	0x786f4256:                 "vboxsf",
}

// fsName names a file system type, or shows its magic number.
func fsName(magic int64) string {
	if name, ok := fsNames[magic]; ok {
		return name
	}
	return fmt.Sprintf("type %#x", magic)
}

// unshareInChild starts `true` in a new namespace of one type. The kernel
// makes the namespace in clone(2), before the child runs anything, so a
// child that started proves that this host lets mydocker make one. A child
// is used rather than unshare(2) in this process because a Go program has
// many threads, and the kernel refuses a new user namespace to those.
func unshareInChild(flag uintptr) error {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: flag}
	return cmd.Run()
}

// iptablesVersion runs `iptables --version`.
func iptablesVersion() (string, error) {
	path, err := exec.LookPath("iptables")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w: %s", path, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// readTrimmed reads a small file such as a sysctl and trims the newline.
func readTrimmed(path string) (string, error) {
	data, err := os.ReadFile(path)
	return strings.TrimSpace(string(data)), err
}
