//chapter:final

package doctor

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// namespace is one namespace type and the chapter that first needs it.
type namespace struct {
	name     string  // its file in /proc/self/ns
	flag     uintptr // its clone(2) flag
	config   string  // the kernel option that builds it in
	chapter  string
	required bool // false: only a later, optional chapter uses it
}

var namespaces = []namespace{
	{"uts", unix.CLONE_NEWUTS, "CONFIG_UTS_NS", "chapter 1", true},
	{"ipc", unix.CLONE_NEWIPC, "CONFIG_IPC_NS", "chapter 2", true},
	{"pid", unix.CLONE_NEWPID, "CONFIG_PID_NS", "chapter 2", true},
	{"mnt", unix.CLONE_NEWNS, "(always built in)", "chapter 3", true},
	{"cgroup", unix.CLONE_NEWCGROUP, "CONFIG_CGROUPS", "chapter 4", true},
	{"net", unix.CLONE_NEWNET, "CONFIG_NET_NS", "chapter 10", true},
	// Rootless containers are a later, optional chapter: warn only.
	{"user", unix.CLONE_NEWUSER, "CONFIG_USER_NS", "the rootless chapter", false},
}

// checkNamespaces looks for each namespace type in /proc/self/ns (is it
// built into the kernel?) and then makes one (may this process use it?).
func checkNamespaces(c Config) []Result {
	var results []Result
	for _, ns := range namespaces {
		results = append(results, checkNamespace(c, ns))
	}
	return results
}

func checkNamespace(c Config, ns namespace) Result {
	r := Result{Check: "namespace " + ns.name, Status: OK, Doc: "namespaces"}
	bad := Fail
	if !ns.required {
		bad = Warn
	}
	if _, err := os.Lstat(filepath.Join(c.ProcDir, "self/ns", ns.name)); err != nil {
		r.Status = bad
		r.Detail = fmt.Sprintf("this kernel has no %s namespace (no /proc/self/ns/%s); %s needs it", ns.name, ns.name, ns.chapter)
		r.Fix = fmt.Sprintf("use a kernel built with %s, e.g. a distribution kernel or the VM (docs/vm.md)", ns.config)
		return r
	}
	if err := c.Unshare(ns.flag); err != nil {
		r.Status = bad
		r.Detail = fmt.Sprintf("cannot make one: %v; %s needs it", err, ns.chapter)
		r.Fix = namespaceFix(c, ns)
		return r
	}
	r.Detail = "works; needed from " + ns.chapter
	return r
}

// namespaceFix says why making a namespace may fail although the kernel
// has it.
func namespaceFix(c Config, ns namespace) string {
	if c.EUID() != 0 {
		return "run doctor (and mydocker) as root"
	}
	if ns.name == "user" {
		if max, err := readTrimmed(filepath.Join(c.ProcDir, "sys/user/max_user_namespaces")); err == nil && max == "0" {
			return "user namespaces are turned off: sysctl -w user.max_user_namespaces=15000"
		}
	}
	return "as root this fails inside a container (Docker, LXC) that forbids it: " +
		"run that container with --privileged, or use the VM (docs/vm.md)"
}
