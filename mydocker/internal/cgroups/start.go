//chapter:cgroups

package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
)

// Start starts cmd with its process already inside the cgroup, instead of
// moving it in afterwards.
//
// Moving a running process (writing its PID to cgroup.procs) takes a lock
// of the kernel's whose write side waits for an RCU grace period: a few
// milliseconds on an idle machine, longer than all the rest of a container's
// start. A process that is born in its cgroup is never moved:
//
//   - cgroup v2: clone3(2) with CLONE_INTO_CGROUP puts the child straight
//     into the cgroup whose directory it is given (Linux 5.7 and later).
//   - cgroup v1 has no such flag, but a child starts in the cgroups of the
//     thread that forks it, and a thread that moves only itself (writes 0
//     to the tasks file) does not take the lock. So one thread, locked to
//     this goroutine, joins the cgroup, forks, and goes back.
func (c *Cgroup) Start(cmd *exec.Cmd) error {
	if c.version == 2 {
		return c.start2(cmd)
	}
	return c.start1(cmd)
}

func (c *Cgroup) start2(cmd *exec.Cmd) error {
	dir, err := os.Open(c.uniqueDirs()[0]) // on v2, the one directory
	if err != nil {
		return fmt.Errorf("open cgroup: %w", err)
	}
	defer dir.Close()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.UseCgroupFD = true
	cmd.SysProcAttr.CgroupFD = int(dir.Fd())
	return cmd.Start()
}

func (c *Cgroup) start1(cmd *exec.Cmd) error {
	done := make(chan error)
	go func() {
		// While this goroutine holds the thread, no other goroutine runs
		// on it, so nothing else happens inside the container's cgroup.
		runtime.LockOSThread()
		home, err := c.threadDirs()
		if err == nil {
			err = moveThread(c.uniqueDirs())
			if err == nil {
				err = cmd.Start()
			}
		}
		if back := moveThread(home); back != nil {
			// The thread could not leave: keep it locked, so that the
			// runtime ends it with this goroutine rather than reuse it.
			// Init, if it started, is killed: it must not run on (the end of
			// this thread would kill it anyway, through Pdeathsig).
			if err == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
			done <- errors.Join(err, back)
			return
		}
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}

// threadDirs returns, for each directory of the cgroup, the directory of
// the same hierarchy that the calling thread is in now.
func (c *Cgroup) threadDirs() ([]string, error) {
	f, err := os.Open("/proc/thread-self/cgroup")
	if err != nil {
		return nil, fmt.Errorf("read this thread's cgroups: %w", err)
	}
	defer f.Close()
	// Each line is ID:CONTROLLERS:PATH, e.g. 4:cpu,cpuacct:/user.slice.
	paths := make(map[string]string)
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.SplitN(scanner.Text(), ":", 3)
		if len(fields) != 3 {
			continue
		}
		for _, controller := range strings.Split(fields[1], ",") {
			paths[controller] = fields[2]
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read this thread's cgroups: %w", err)
	}
	var dirs []string
	for _, controller := range controllers {
		if _, ok := c.dirs[controller]; !ok {
			continue
		}
		path, ok := paths[controller]
		if !ok {
			return nil, fmt.Errorf("this thread is in no %s cgroup", controller)
		}
		home, err := dirOf(c.mounts[controller], c.roots[controller], path)
		if err != nil {
			return nil, fmt.Errorf("this thread's %s cgroup: %w", controller, err)
		}
		if !slices.Contains(dirs, home) {
			dirs = append(dirs, home) // once for co-mounted controllers
		}
	}
	return dirs, nil
}

// moveThread moves the calling thread, and only it, into each directory.
func moveThread(dirs []string) error {
	for _, dir := range dirs {
		if err := writeFile(dir, "tasks", "0"); err != nil {
			return err
		}
	}
	return nil
}

// dirOf is the directory of the cgroup path (as /proc/PID/cgroup names it,
// from the top of the hierarchy) under a mount of the hierarchy whose root
// is root ("/" unless the mount shows only a cgroup below, as in a
// container).
func dirOf(mount, root, path string) (string, error) {
	rel, ok := strings.CutPrefix(path, strings.TrimSuffix(root, "/"))
	if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) {
		return "", fmt.Errorf("%s is outside the part of the hierarchy mounted at %s (%s)", path, mount, root)
	}
	return filepath.Join(mount, rel), nil
}
