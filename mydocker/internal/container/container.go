//chapter:uts

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/mydocker/internal/atomicfile"
	"github.com/mydocker/mydocker/mydocker/internal/cgroups"
	"github.com/mydocker/mydocker/mydocker/internal/rootdir"
)

// Container is a container as mydocker keeps it on disk: a directory
// <root>/containers/<id> that holds its spec as config.json.
//
// Until containers can run detached, a container lives only as long as its
// `mydocker run`, which holds a lock on the directory and removes it when the
// container exits. If mydocker run is killed before it can, the kernel drops
// the lock, and the next run removes the directory (RemoveAbandoned).
type Container struct {
	ID   string
	Dir  string
	Spec *Spec
	lock *os.File // the open directory, locked while the container lives
}

// Create makes the directory of a new container under the mydocker root.
func Create(root string, spec *Spec) (_ *Container, err error) {
	if root == "" {
		return nil, errors.New("the mydocker root is empty: give --root a directory (or unset MYDOCKER_ROOT)")
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("mydocker root %q: %w", root, err)
	}
	//chapter:images
	if err := rootdir.Make(root); err != nil {
		return nil, err
	}
	//chapter:end
	containers := filepath.Join(root, "containers")
	if err := os.MkdirAll(containers, 0o700); err != nil {
		return nil, fmt.Errorf("create the mydocker root: %w", err)
	}
	// The lock on containers/ keeps RemoveAbandoned away until the new
	// directory is locked: in between, it would look abandoned.
	all, err := lockDir(containers, unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	c, err := newLocked(containers, spec)
	all.Close()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Remove() // whatever was made before the failure
		}
	}()
	//chapter:images
	if spec.Overlay != nil {
		if err := c.makeOverlayDirs(); err != nil {
			return nil, err
		}
	}
	//chapter:end
	config, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("save container config: %w", err)
	}
	// Volatile: the container cannot outlive this run, nor this boot, and
	// RemoveAbandoned copes with a config.json it cannot read.
	if err := atomicfile.WriteVolatile(filepath.Join(c.Dir, "config.json"), config, 0o600); err != nil {
		return nil, fmt.Errorf("save container config: %w", err)
	}
	return c, nil
}

// newLocked makes the directory of a new container and locks it.
func newLocked(containers string, spec *Spec) (*Container, error) {
	c := &Container{ID: spec.ID, Dir: filepath.Join(containers, spec.ID), Spec: spec}
	if err := os.Mkdir(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create container directory: %w", err)
	}
	lock, err := lockDir(c.Dir, unix.LOCK_EX|unix.LOCK_NB)
	if err != nil {
		os.Remove(c.Dir)
		return nil, err
	}
	c.lock = lock
	return c, nil
}

// Remove deletes everything mydocker made for the container.
func (c *Container) Remove() error {
	//chapter:cgroups
	// Its cgroup, found by name: this works for a container whose run
	// died as well as for one that is ending normally.
	if cgroup, err := cgroups.Open(c.Spec.CgroupParent, c.ID); err == nil {
		if err := cgroup.Destroy(); err != nil {
			return fmt.Errorf("remove container %s: %w", ShortID(c.ID), err)
		}
	}
	//chapter:end
	err := os.RemoveAll(c.Dir)
	if c.lock != nil {
		c.lock.Close() // closing the last descriptor releases the lock
	}
	if err != nil {
		return fmt.Errorf("remove container %s: %w", ShortID(c.ID), err)
	}
	return nil
}

// RemoveAbandoned deletes the directories (and, from chapter 4 on, the
// cgroups) of containers whose mydocker run died without cleaning up, killed
// with SIGKILL say: nobody holds their lock any more. It tries the lock of
// every container, which takes a moment for each: run calls it while its own
// container's init starts, when it has nothing else to do. It returns how
// many it removed.
func RemoveAbandoned(root string) (removed int, err error) {
	containers := filepath.Join(root, "containers")
	all, err := lockDir(containers, unix.LOCK_EX)
	if err != nil {
		return 0, err
	}
	defer all.Close()
	entries, err := os.ReadDir(containers)
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	for _, entry := range entries {
		if !isID(entry.Name()) || !entry.IsDir() {
			continue // not a container's: never touch what mydocker did not make
		}
		dir := filepath.Join(containers, entry.Name())
		lock, err := lockDir(dir, unix.LOCK_EX|unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, os.ErrNotExist) {
			continue // its run is alive, or has just removed it
		}
		if err != nil {
			return removed, err
		}
		err = abandoned(dir).Remove()
		lock.Close()
		if err != nil {
			return removed, fmt.Errorf("remove abandoned container: %w", err)
		}
		removed++
	}
	return removed, nil
}

// Living returns the containers under root whose mydocker run is alive:
// those whose directory lock is held.
//
//chapter:images
func Living(root string) ([]*Container, error) {
	containers := filepath.Join(root, "containers")
	// Trying a container's lock takes it for a moment: with the lock on
	// containers/, never the moment a Create needs it (newLocked).
	all, err := lockDir(containers, unix.LOCK_EX)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer all.Close()
	entries, err := os.ReadDir(containers)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var living []*Container
	for _, entry := range entries {
		dir := filepath.Join(containers, entry.Name())
		lock, err := lockDir(dir, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			lock.Close() // nobody holds it: not alive
			continue
		}
		if errors.Is(err, unix.EWOULDBLOCK) {
			living = append(living, abandoned(dir))
		}
	}
	return living, nil
}

// abandoned loads what Remove needs of a container that nobody runs. A
// directory without a readable config.json (a crash inside Create) has
// nothing else to remove.
//
//chapter:end
func abandoned(dir string) *Container {
	c := &Container{ID: filepath.Base(dir), Dir: dir, Spec: &Spec{}}
	if data, err := os.ReadFile(filepath.Join(dir, "config.json")); err == nil {
		json.Unmarshal(data, c.Spec)
	}
	return c
}

// isID says whether name has the shape of a container ID: 64 hex digits.
func isID(name string) bool {
	return len(name) == 64 && strings.Trim(name, "0123456789abcdef") == ""
}

// lockDir opens a directory and takes an flock(2) on it. The lock lasts
// until the returned file is closed, or its process dies. (unix.Open rather
// than os.Open: each run tries the lock of every container's directory, and
// os.Open also offers each directory to Go's poller, which refuses it, five
// system calls more a directory.)
func lockDir(dir string, how int) (*os.File, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, &os.PathError{Op: "open", Path: dir, Err: err})
	}
	if err := unix.Flock(fd, how); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return os.NewFile(uintptr(fd), dir), nil
}
