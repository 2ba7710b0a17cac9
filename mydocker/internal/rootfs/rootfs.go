//chapter:mount

// Package rootfs turns a directory into a container's root filesystem. It
// runs inside the container's new mount namespace, in the init process,
// before the user's command starts.
package rootfs

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Setup makes dir the root of the current mount namespace and mounts the
// file systems a Linux program expects: /proc, /dev, /dev/pts, /dev/shm and
// /sys. Each step is a function of its own; the first failure stops the
// start. Call MakeMountsPrivate first.
func Setup(dir string) error {
	if err := bindOntoItself(dir); err != nil {
		return err
	}
	if err := pivotRoot(dir); err != nil {
		return err
	}
	// From here on, / is the container's root: every path below is inside it.
	for _, m := range systemMounts {
		if err := m.mount(); err != nil {
			return err
		}
	}
	if err := populateDev(); err != nil {
		return err
	}
	return nil
}

// MakeMountsPrivate stops mount events from crossing between the container
// and the host. A new mount namespace starts with a copy of the host's
// mounts, and on most systems (systemd) they are shared: without this, the
// bind mount of the root filesystem below would appear on the host too, and
// pivot_root(2) refuses to move a shared mount (EINVAL).
func MakeMountsPrivate() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	return nil
}

// bindOntoItself makes dir a mount point, which pivot_root(2) requires of
// the new root.
func bindOntoItself(dir string) error {
	if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind root filesystem %s onto itself: %w", dir, err)
	}
	return nil
}

// pivotRoot makes dir the root of the mount namespace and detaches the old
// root, so that no path inside the container leads to the host's files
// (unlike chroot(2), which changes only how one process resolves paths).
//
// pivot_root(".", ".") stacks the old root on top of the new one at the
// same place; unmounting "." then removes the old root and leaves the new
// one, so no directory for the old root is needed inside the rootfs.
func pivotRoot(dir string) error {
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("pivot_root: chdir %s: %w", dir, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root into %s: %w", dir, err)
	}
	// MNT_DETACH: processes may still hold the old root's mounts busy;
	// detach them now, and the kernel frees them when they are no longer used.
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the old root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return fmt.Errorf("chdir / after pivot_root: %w", err)
	}
	return nil
}

// systemMount is a file system that every container gets.
type systemMount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
	mode                   os.FileMode // of the mount point, if it must be made
}

// systemMounts are mounted in this order after pivot_root; /dev comes
// before the mounts inside it.
var systemMounts = []systemMount{
	// A proc of the container's own PID namespace: ps shows only its processes.
	{"proc", "/proc", "proc", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "", 0o555},
	// /dev is a fresh tmpfs with only the device nodes a container may use,
	// not the host's /dev with its disks.
	{"tmpfs", "/dev", "tmpfs", unix.MS_NOSUID | unix.MS_STRICTATIME, "mode=755,size=65536k", 0o755},
	// A devpts instance of its own (newinstance): the container's terminals
	// are numbered apart from the host's, and it cannot open the host's.
	{"devpts", "/dev/pts", "devpts", unix.MS_NOSUID | unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5", 0o755},
	{"shm", "/dev/shm", "tmpfs", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "mode=1777,size=65536k", 0o1777},
	// sysfs read-only: programs may read what the kernel tells them, but a
	// container must not change kernel settings for the whole host.
	{"sysfs", "/sys", "sysfs", unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, "", 0o555},
}

func (m systemMount) mount() error {
	if err := os.MkdirAll(m.target, m.mode); err != nil {
		return fmt.Errorf("create mount point %s: %w", m.target, err)
	}
	if err := unix.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
	}
	return nil
}

//chapter:volumes

// SystemMountOver returns the system mount at path or above it, such as
// /dev for /dev/shm, with its file system type; "" if there is none. The
// system mounts are made after pivot_root, so they cover whatever was
// mounted there before (a volume, in chapter 06).
func SystemMountOver(path string) (target, fstype string) {
	for _, m := range systemMounts {
		if path == m.target || strings.HasPrefix(path, m.target+"/") {
			return m.target, m.fstype
		}
	}
	return "", ""
}

//chapter:end
