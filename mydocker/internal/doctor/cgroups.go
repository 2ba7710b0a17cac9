//chapter:final

package doctor

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// The cgroup layouts a host can have.
const (
	cgroupNone   = "none"
	cgroupV1     = "v1"     // one v1 hierarchy per controller
	cgroupHybrid = "hybrid" // v1 controllers, plus an (almost empty) cgroup2 at unified/
	cgroupV2     = "v2"     // one unified hierarchy holds every controller
)

// cgroupControllers are the controllers that chapter 4's flags use:
// --memory, --cpus, --cpuset-cpus and --pids-limit.
var cgroupControllers = []string{"cpu", "cpuset", "memory", "pids"}

// cgroupMode tells the layout from the file system types: cgroup2 on the
// cgroup root itself is v2; otherwise a cgroup2 at unified/ means hybrid.
func cgroupMode(c Config) (string, error) {
	rootType, err := c.FSType(c.CgroupDir)
	if err != nil {
		return cgroupNone, err
	}
	if rootType == unix.CGROUP2_SUPER_MAGIC {
		return cgroupV2, nil
	}
	if t, err := c.FSType(filepath.Join(c.CgroupDir, "unified")); err == nil && t == unix.CGROUP2_SUPER_MAGIC {
		return cgroupHybrid, nil
	}
	entries, err := os.ReadDir(c.CgroupDir)
	if err != nil {
		return cgroupNone, err
	}
	for _, e := range entries {
		if t, err := c.FSType(filepath.Join(c.CgroupDir, e.Name())); err == nil && t == unix.CGROUP_SUPER_MAGIC {
			return cgroupV1, nil
		}
	}
	return cgroupNone, nil
}

// checkCgroups reports the cgroup layout and then each controller.
func checkCgroups(c Config) []Result {
	mode, err := cgroupMode(c)
	if mode == cgroupNone {
		detail := fmt.Sprintf("no cgroup file system at %s", c.CgroupDir)
		if err != nil {
			detail += fmt.Sprintf(" (%v)", err)
		}
		return []Result{{Check: "cgroup mode", Status: Fail, Doc: "cgroup-mode",
			Detail: detail + "; chapter 4 needs one",
			Fix:    fmt.Sprintf("mount cgroup v2: mount -t cgroup2 cgroup2 %s (systemd does this at boot)", c.CgroupDir)}}
	}
	var results []Result
	switch mode {
	case cgroupV2:
		results = append(results, Result{Check: "cgroup mode", Status: OK,
			Detail: "v2: one unified hierarchy at " + c.CgroupDir})
		results = append(results, checkControllersV2(c)...)
	default:
		detail := "v1: one hierarchy per controller under " + c.CgroupDir
		if mode == cgroupHybrid {
			detail = "hybrid: v1 controllers under " + c.CgroupDir + ", cgroup2 at unified/ (mydocker uses the v1 ones)"
		}
		results = append(results, Result{Check: "cgroup mode", Status: OK, Detail: detail})
		// v1 accounts CPU time in cpuacct, a controller of its own.
		results = append(results, checkControllersV1(c, append(slices.Clone(cgroupControllers), "cpuacct"))...)
	}
	return results
}

// checkControllersV2: a v2 controller must be in the root's
// cgroup.controllers (the kernel has it and no v1 hierarchy holds it). A
// child cgroup can use it only once the root lists it in
// cgroup.subtree_control; mydocker writes that itself, so a controller
// missing there is only a warning.
func checkControllersV2(c Config) []Result {
	available, err := readFields(filepath.Join(c.CgroupDir, "cgroup.controllers"))
	if err != nil {
		return []Result{{Check: "cgroup controllers", Status: Fail, Doc: "cgroup-controllers",
			Detail: fmt.Sprintf("cannot read the available controllers: %v", err),
			Fix:    "check that cgroup2 is mounted at " + c.CgroupDir}}
	}
	delegated, _ := readFields(filepath.Join(c.CgroupDir, "cgroup.subtree_control"))
	var results []Result
	for _, name := range cgroupControllers {
		r := Result{Check: "cgroup " + name, Doc: "cgroup-controllers"}
		switch {
		case !slices.Contains(available, name):
			r.Status = Fail
			r.Detail = fmt.Sprintf("not in %s/cgroup.controllers; chapter 4 needs it", c.CgroupDir)
			r.Fix = "the kernel lacks it, or a v1 hierarchy holds it: boot with cgroup_no_v1=all, or use the VM (docs/vm.md)"
		case !slices.Contains(delegated, name):
			r.Status = Warn
			r.Detail = "available, but not enabled in cgroup.subtree_control of the root; mydocker enables it, which fails if that cgroup holds processes (as inside a container)"
			r.Fix = fmt.Sprintf("echo +%s > %s/cgroup.subtree_control", name, c.CgroupDir)
		default:
			r.Status = OK
			r.Detail = "v2, enabled for child cgroups (cgroup.subtree_control)"
		}
		results = append(results, r)
	}
	return results
}

// checkControllersV1 reads /proc/cgroups: a line per controller with its
// hierarchy ID (0 when no v1 hierarchy mounts it) and whether it is enabled.
func checkControllersV1(c Config, names []string) []Result {
	path := filepath.Join(c.ProcDir, "cgroups")
	table, err := readProcCgroups(path)
	if err != nil {
		return []Result{{Check: "cgroup controllers", Status: Fail, Doc: "cgroup-controllers",
			Detail: fmt.Sprintf("cannot read the controllers: %v", err),
			Fix:    "check that /proc is mounted (mount -t proc proc /proc)"}}
	}
	var results []Result
	for _, name := range names {
		r := Result{Check: "cgroup " + name, Doc: "cgroup-controllers"}
		ctl, ok := table[name]
		switch {
		case !ok:
			r.Status = Fail
			r.Detail = "this kernel has no such controller (not in /proc/cgroups); chapter 4 needs it"
			r.Fix = "use a kernel built with it, e.g. a distribution kernel or the VM (docs/vm.md)"
		case !ctl.enabled:
			r.Status = Fail
			r.Detail = "disabled (cgroup_disable= on the kernel command line?); chapter 4 needs it"
			r.Fix = "remove cgroup_disable=" + name + " from the kernel command line and reboot"
		case ctl.hierarchy == 0:
			r.Status = Fail
			r.Detail = "no v1 hierarchy mounts it; chapter 4 needs it"
			r.Fix = fmt.Sprintf("mkdir -p %s/%s && mount -t cgroup -o %s cgroup %s/%s", c.CgroupDir, name, name, c.CgroupDir, name)
		default:
			r.Status = OK
			r.Detail = fmt.Sprintf("v1, hierarchy %d", ctl.hierarchy)
		}
		results = append(results, r)
	}
	return results
}

// procCgroup is one line of /proc/cgroups.
type procCgroup struct {
	hierarchy int
	enabled   bool
}

// readProcCgroups parses /proc/cgroups:
// "#subsys_name hierarchy num_cgroups enabled", then one line per controller.
func readProcCgroups(path string) (map[string]procCgroup, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	table := make(map[string]procCgroup)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 4 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		var ctl procCgroup
		if _, err := fmt.Sscan(fields[1], &ctl.hierarchy); err != nil {
			return nil, fmt.Errorf("%s: bad hierarchy in %q", path, scanner.Text())
		}
		ctl.enabled = fields[3] == "1"
		table[fields[0]] = ctl
	}
	return table, scanner.Err()
}

// readFields reads a file of space-separated words, such as cgroup.controllers.
func readFields(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}
