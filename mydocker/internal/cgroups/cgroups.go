//chapter:cgroups

package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Root is where the host mounts its cgroup file systems.
const Root = "/sys/fs/cgroup"

// DefaultParent is the cgroup under which a container's cgroup is made
// when run is not given --cgroup-parent. mydocker keeps it once made, as
// Docker keeps its /docker: making it for every run would cost time.
const DefaultParent = "mydocker"

// madeMode is the mode of a parent cgroup that mydocker makes for
// --cgroup-parent. Its sticky bit, which a cgroup has no use for otherwise,
// says that mydocker made it: the run that removes the last container in
// it removes it too, and never removes a parent that was there before
// (see removeMadeParents). mkdir sets the bit with the directory, at once.
const madeMode = 0o755 | unix.S_ISVTX

// controllers are the ones a container is put under. v1 also needs
// cpuacct, the CPU time accounting that v2 keeps in the cpu controller.
var controllers = []string{"memory", "cpu", "cpuacct", "cpuset", "pids"}

// Cgroup is one container's control group: on v2 one directory, on v1 one
// directory in each controller's hierarchy.
type Cgroup struct {
	version int
	parent  string            // the cgroup parent, as --cgroup-parent gave it
	dirs    map[string]string // controller -> directory (on v2 all the same)
	mounts  map[string]string // v1: controller -> where its hierarchy is mounted
	roots   map[string]string // v1: controller -> the cgroup its mount point shows
	limits  Limits
}

// Version says which cgroup version the host uses: 2 when /sys/fs/cgroup is
// the unified hierarchy; otherwise 1, also in "hybrid" mode, where the
// controllers are v1 and a cgroup2 at /sys/fs/cgroup/unified holds none.
func Version() (int, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(Root, &fs); err != nil {
		return 0, fmt.Errorf("no cgroup file system at %s: %w", Root, err)
	}
	if fs.Type == unix.CGROUP2_SUPER_MAGIC {
		return 2, nil
	}
	return 1, nil
}

// New makes the cgroup parent/name and writes the limits into it. On v2 it
// first enables the controllers for the children of every ancestor.
func New(parent, name string, limits Limits) (_ *Cgroup, err error) {
	version, err := Version()
	if err != nil {
		return nil, err
	}
	c := &Cgroup{version: version, parent: parent, dirs: make(map[string]string), limits: limits}
	defer func() {
		if err != nil {
			c.Destroy() // whatever was made before the failure
		}
	}()
	if version == 2 {
		// The parent may vanish before the cgroup is made in it, when the
		// run of the last container in it removes it (removeMadeParents):
		// then it is made again.
		for attempt := 0; ; attempt++ {
			err = c.create2(parent, name)
			if !errors.Is(err, os.ErrNotExist) || attempt == maxAttempts {
				break
			}
		}
	} else {
		err = c.create1(parent, name)
	}
	if err != nil {
		return nil, err
	}
	settings := limits.v1Settings()
	if version == 2 {
		settings = limits.v2Settings()
	}
	for _, s := range settings {
		if s.file == "pids.max" {
			continue // see OpenPidsLimit
		}
		if err := c.set(s); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// OpenPidsLimit opens the cgroup's pids.max for writing, for the
// container's init to write the limit into as the very last step before it
// execs the command (container.Init). The caller opens it only when
// there is a limit to write.
//
// New cannot write it: the container's first process is mydocker's init, a
// Go program whose runtime threads count as pids too, and a low limit would
// stop the runtime itself from starting a thread. Nor can run write it
// once the command runs: a fork bomb would have a head start. init writes
// it after everything else, right before exec, which leaves one thread.
// The limit may be below what the cgroup holds at the write: the kernel
// then only refuses new processes.
func (c *Cgroup) OpenPidsLimit() (*os.File, error) {
	dir, ok := c.dirs["pids"]
	if !ok {
		return nil, errors.New("cannot set pids.max: the pids controller is not available on this host")
	}
	path := filepath.Join(dir, "pids.max")
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("set the pids limit: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	return os.NewFile(uintptr(fd), path), nil
}

// set writes one setting into the directory of its controller.
func (c *Cgroup) set(s setting) error {
	dir, ok := c.dirs[s.controller]
	if !ok {
		return fmt.Errorf("cannot set %s: the %s controller is not available on this host", s.file, s.controller)
	}
	err := writeFile(dir, s.file, s.value)
	if s.optional && errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Open finds the existing cgroup parent/name, to remove it. It fails with
// an error matching os.ErrNotExist when there is none, or no parent is
// given (a container whose config does not say).
func Open(parent, name string) (*Cgroup, error) {
	if parent == "" || name == "" {
		return nil, fmt.Errorf("cgroup %q/%q: %w", parent, name, os.ErrNotExist)
	}
	version, err := Version()
	if err != nil {
		return nil, err
	}
	c := &Cgroup{version: version, parent: parent, dirs: make(map[string]string)}
	mounts := map[string]string{"": Root}
	if version == 1 {
		if mounts, err = v1Mounts(); err != nil {
			return nil, err
		}
	}
	for controller, mount := range mounts {
		dir := filepath.Join(mount, parent, name)
		if _, err := os.Stat(dir); err == nil {
			c.dirs[controller] = dir
		}
	}
	if version == 2 {
		if dir, ok := c.dirs[""]; ok {
			for _, controller := range controllers {
				c.dirs[controller] = dir
			}
		}
	}
	if len(c.dirs) == 0 {
		return nil, fmt.Errorf("cgroup %s/%s: %w", parent, name, os.ErrNotExist)
	}
	return c, nil
}

// create1 makes the cgroup in each v1 controller's hierarchy.
func (c *Cgroup) create1(parent, name string) error {
	mounts, roots, err := v1MountsAndRoots()
	if err != nil {
		return err
	}
	c.mounts, c.roots = mounts, roots
	for _, controller := range controllers {
		mount, ok := mounts[controller]
		if !ok {
			continue // not on this host; New fails only if a limit needs it
		}
		dir := filepath.Join(mount, parent, name)
		if other, done := c.dirFor(dir); done {
			c.dirs[controller] = other // co-mounted, as in cpu,cpuacct
			continue
		}
		// The parent may vanish between the two steps, when the run of
		// the last container in it removes it (removeMadeParents): then
		// it is made again.
		for attempt := 0; ; attempt++ {
			err := makeParents(mount, parent, controller == "cpuset")
			if err == nil {
				if err = os.Mkdir(dir, 0o755); err != nil {
					err = fmt.Errorf("create cgroup: %w", err)
				}
			}
			if errors.Is(err, os.ErrNotExist) && attempt < maxAttempts {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		c.dirs[controller] = dir
		if controller == "cpuset" {
			if err := c.initCpuset(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// dirFor reports whether dir was already made for another controller.
func (c *Cgroup) dirFor(dir string) (string, bool) {
	for _, d := range c.dirs {
		if d == dir {
			return d, true
		}
	}
	return "", false
}

// maxAttempts is how often a cgroup is made again when its parent vanished
// meanwhile: each time, another run removed it as empty, which it is no
// longer once this run's cgroup is in it.
const maxAttempts = 10

// makeParents creates the parent cgroups under a v1 hierarchy's mount, one
// level at a time, as parentMode says.
//
// cpuset is special: a new v1 cpuset cgroup has no CPUs and no memory
// nodes, so each level copies its parent's before anything can go below
// it. A level made here also gets cgroup.clone_children, with which the
// kernel itself gives each new child its parent's CPUs and nodes: a
// container's start then need not copy them (two reads and two writes,
// about 0.1 ms).
func makeParents(mount, parent string, cpuset bool) error {
	dir := mount
	for _, part := range strings.Split(filepath.Clean(parent), "/") {
		if part == "" || part == "." {
			continue
		}
		up := dir
		dir = filepath.Join(dir, part)
		err := unix.Mkdir(dir, parentMode(parent))
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create cgroup parent: %w", &os.PathError{Op: "mkdir", Path: dir, Err: err})
		}
		if !cpuset {
			continue
		}
		made := err == nil
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			if err := inheritIfEmpty(up, dir, file); err != nil {
				return err
			}
		}
		if made {
			if err := writeFile(dir, "cgroup.clone_children", "1"); err != nil {
				return err
			}
		}
	}
	return nil
}

// parentMode is the mode of the levels of parent that mydocker makes:
// marked as its own (madeMode), unless parent is the default one, kept.
func parentMode(parent string) uint32 {
	if filepath.Clean(parent) == DefaultParent {
		return 0o755
	}
	return madeMode
}

// removeMadeParents removes, from the directory of the container's cgroup
// up, each parent that mydocker made (see madeMode) and that is empty now,
// and stops at the first that is not. A parent that holds another
// container's cgroup cannot be removed (EBUSY): that container's run will
// remove it. And a run that is about to make its cgroup in the parent
// removed here makes the parent again (see create1).
func removeMadeParents(dir, parent string) {
	if filepath.Clean(parent) == DefaultParent {
		return
	}
	for range strings.Count(filepath.Clean("/"+parent), "/") {
		dir = filepath.Dir(dir)
		var stat unix.Stat_t
		if unix.Stat(dir, &stat) != nil || stat.Mode&unix.S_ISVTX == 0 {
			return
		}
		if unix.Rmdir(dir) != nil {
			return
		}
	}
}

// initCpuset gives a new v1 cpuset cgroup its CPUs and memory nodes: the
// ones asked for, or else all of its parent's.
func (c *Cgroup) initCpuset(dir string) error {
	for file, want := range map[string]string{"cpuset.cpus": c.limits.CpusetCPUs, "cpuset.mems": c.limits.CpusetMems} {
		if want != "" {
			if err := writeFile(dir, file, want); err != nil {
				return err
			}
		} else if err := inheritIfEmpty(filepath.Dir(dir), dir, file); err != nil {
			return err
		}
	}
	return nil
}

// inheritIfEmpty copies file from the parent directory up when it is empty in dir.
func inheritIfEmpty(up, dir, file string) error {
	current, err := readFile(dir, file)
	if err != nil || current != "" {
		return err
	}
	value, err := readFile(up, file)
	if err != nil {
		return err
	}
	return writeFile(dir, file, value)
}

// create2 makes the cgroup in the unified hierarchy. Controllers are
// enabled top-down: a cgroup can use a controller only if its parent lists
// it in cgroup.subtree_control. The "no internal processes" rule says a
// cgroup other than the root that has processes cannot do that, so
// mydocker's parent cgroup holds only containers, never processes.
func (c *Cgroup) create2(parent, name string) error {
	dir := Root
	for _, part := range strings.Split(filepath.Clean(filepath.Join(parent, name)), "/") {
		if part == "" || part == "." {
			continue
		}
		if err := enableControllers(dir); err != nil {
			return err
		}
		dir = filepath.Join(dir, part)
		if dir == filepath.Join(Root, parent, name) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				return fmt.Errorf("create cgroup: %w", err)
			}
		} else if err := unix.Mkdir(dir, parentMode(parent)); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create cgroup parent: %w", &os.PathError{Op: "mkdir", Path: dir, Err: err})
		}
	}
	available, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("read cgroup controllers: %w", err)
	}
	for _, controller := range strings.Fields(string(available)) {
		c.dirs[controller] = dir
	}
	c.dirs["cpuacct"] = dir // v2 accounts CPU time in every cgroup (cpu.stat)
	return nil
}

// enableControllers turns on, for the children of dir, the controllers
// that mydocker uses and dir has.
func enableControllers(dir string) error {
	available, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return fmt.Errorf("read cgroup controllers: %w", err)
	}
	var enable []string
	for _, controller := range strings.Fields(string(available)) {
		if slices.Contains(controllers, controller) {
			enable = append(enable, "+"+controller)
		}
	}
	if len(enable) == 0 {
		return nil
	}
	err = writeFile(dir, "cgroup.subtree_control", strings.Join(enable, " "))
	if errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("%w (cgroup v2 allows no processes in a cgroup that hands controllers to its children: give --cgroup-parent a cgroup without processes of its own)", err)
	}
	return err
}

// v1Mounts maps each v1 controller to where its hierarchy is mounted, read
// from the mount table (the fourth field from the end names the file
// system type, "cgroup"; the last lists the controllers).
func v1Mounts() (map[string]string, error) {
	mounts, _, err := v1MountsAndRoots()
	return mounts, err
}

// v1MountsAndRoots is v1Mounts, and also the root of each mount: the
// cgroup of the hierarchy that its mount point shows, "/" unless the
// hierarchy is mounted from a cgroup below (as in a container).
func v1MountsAndRoots() (mounts, roots map[string]string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, nil, fmt.Errorf("read mount table: %w", err)
	}
	defer f.Close()
	mounts, roots = make(map[string]string), make(map[string]string)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		root, mountPoint, fsType, options, ok := parseMountinfo(scanner.Text())
		if !ok || fsType != "cgroup" {
			continue
		}
		for _, option := range strings.Split(options, ",") {
			if slices.Contains(controllers, option) {
				mounts[option], roots[option] = mountPoint, root
			}
		}
	}
	return mounts, roots, scanner.Err()
}

// parseMountinfo picks the root, mount point, file system type and super options
// out of one line of /proc/self/mountinfo (see proc(5)).
func parseMountinfo(line string) (root, mountPoint, fsType, options string, ok bool) {
	before, after, found := strings.Cut(line, " - ")
	fields, tail := strings.Fields(before), strings.Fields(after)
	if !found || len(fields) < 5 || len(tail) < 3 {
		return "", "", "", "", false
	}
	return fields[3], fields[4], tail[0], tail[2], true
}

// OOMKills is how many processes of the cgroup the kernel has killed for
// want of memory: the oom_kill counter of memory.events (v2) or
// memory.oom_control (v1).
func (c *Cgroup) OOMKills() int {
	dir, ok := c.dirs["memory"]
	if !ok {
		return 0
	}
	file := "memory.oom_control"
	if c.version == 2 {
		file = "memory.events"
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if value, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(value)
			return n
		}
	}
	return 0
}

// MemoryLimit is the memory limit, in bytes, or 0 when there is none.
func (c *Cgroup) MemoryLimit() int64 { return c.limits.Memory }

// Destroy kills any process still in the cgroup and removes its
// directories. A cgroup cannot be removed while it has processes, and
// dying ones take a moment to leave, so it tries for a while.
func (c *Cgroup) Destroy() error {
	var errs []error
	for _, dir := range c.uniqueDirs() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			// Usually the cgroup is empty by now, and rmdir is all it takes.
			err := unix.Rmdir(dir)
			if err == nil || errors.Is(err, unix.ENOENT) {
				removeMadeParents(dir, c.parent)
				break
			}
			killAll(dir)
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return errors.Join(errs...)
}

// killAll sends SIGKILL to every process in the cgroup directory dir.
func killAll(dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for _, field := range strings.Fields(string(data)) {
		// On v1 a process is listed when any one of its threads is in the
		// cgroup, so mydocker could find itself here if the thread that
		// started init failed to leave (see Start): never kill ourselves.
		if pid, err := strconv.Atoi(field); err == nil && pid != os.Getpid() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// uniqueDirs lists the cgroup's directories, each once.
func (c *Cgroup) uniqueDirs() []string {
	var dirs []string
	for _, controller := range controllers {
		dir, ok := c.dirs[controller]
		if ok && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}

// readFile reads the value of a small control file, such as cpuset.cpus,
// without its line end. (Like writeFile, it does without os.File.)
func readFile(dir, file string) (string, error) {
	path := filepath.Join(dir, file)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("read cgroup file: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	var value []byte
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			return "", fmt.Errorf("read cgroup file: %w", &os.PathError{Op: "read", Path: path, Err: err})
		}
		if n == 0 {
			return strings.TrimSpace(string(value)), nil
		}
		value = append(value, buf[:n]...)
	}
}

// writeFile writes one value to a control file, with one write(2): the
// kernel reads a value from a single write. The error says which file
// refused what, as the kernel checks the value only then. (open, write and
// close without os.File: for a control file, Go's file also registers with
// its poller, which costs more than the write itself.)
func writeFile(dir, file, value string) error {
	path := filepath.Join(dir, file)
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("set %s to %q: %w", path, value, &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(value)); err != nil {
		return fmt.Errorf("set %s to %q: %w", path, value, &os.PathError{Op: "write", Path: path, Err: err})
	}
	return nil
}
