//chapter:volumes

package container

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/mydocker/internal/rootfs"
)

// Mount is a file system that run puts into the container: a host
// directory, a named volume, or a tmpfs.
type Mount struct {
	Type        string `json:"type"`             // "bind", "volume" or "tmpfs"
	Source      string `json:"source,omitempty"` // the host directory (bind and volume)
	Destination string `json:"destination"`      // where it appears in the container
	ReadOnly    bool   `json:"readOnly,omitempty"`
	Volume      string `json:"volume,omitempty"`  // the volume's name (volume)
	Options     string `json:"options,omitempty"` // mount options (tmpfs), e.g. size=64m
}

// mountVolumes mounts each of mounts into the root filesystem at rootfs,
// before pivot_root, while the host's directories can still be named.
// makeMountPoints says whether a missing mount point may be created: yes in
// an image's container, where it goes into the container's own layer; never
// in a root filesystem directory, which is the user's and stays unchanged.
func mountVolumes(rootfs string, mounts []Mount, makeMountPoints bool) error {
	for _, m := range mounts {
		// The destination is resolved inside the root filesystem as if
		// rootfs were /: a symbolic link in the image such as
		// /data -> / or -> ../../.. cannot make the mount land on the
		// host (the attack behind CVE-2021-30465 in runc, among others).
		target, err := securejoin.SecureJoin(rootfs, m.Destination)
		if err != nil {
			return fmt.Errorf("volume %s: %w", m.Destination, err)
		}
		// "/", or a link to it, would put the volume over the whole root
		// filesystem, and the system mounts into the volume's directory.
		if target == filepath.Clean(rootfs) {
			return fmt.Errorf("volume %s: the path resolves to the container's root directory, which a volume cannot replace: mount it on a directory below /", m.Destination)
		}
		// run refuses /proc, /dev and /sys as destinations; a symbolic link
		// in the image can still lead there.
		if err := checkNotHidden(rootfs, target); err != nil {
			return fmt.Errorf("volume %s: %w", m.Destination, err)
		}
		if makeMountPoints {
			if err := makeMountPoint(m, target); err != nil {
				return fmt.Errorf("create mount point %s: %w", m.Destination, err)
			}
		} else if err := checkMountPoint(m, target); err != nil {
			return fmt.Errorf("volume %s: %w", m.Destination, err)
		}
		switch m.Type {
		case "tmpfs":
			err = unix.Mount("tmpfs", target, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, m.Options)
			if err != nil {
				return fmt.Errorf("mount a tmpfs on %s: %w", m.Destination, err)
			}
		default:
			if err = bindMount(m.Source, target, m.ReadOnly); err != nil {
				return fmt.Errorf("mount %s on %s: %w", m.Source, m.Destination, err)
			}
		}
	}
	return nil
}

// checkNotHidden refuses a target that one of the system mounts would
// cover: they are mounted after the volumes, and the container would
// never see the volume.
func checkNotHidden(rootDir, target string) error {
	rel, err := filepath.Rel(rootDir, target)
	if err != nil {
		return err
	}
	inside := "/" + rel
	if over, fstype := rootfs.SystemMountOver(inside); over != "" {
		return fmt.Errorf("the path resolves to %s in the container, which gets its own %s (%s), mounted after the volumes and hiding the volume: mount it outside /proc, /dev and /sys", inside, over, fstype)
	}
	return nil
}

// makeMountPoint creates what a mount needs at target: a directory, or an
// empty file when a single file is bound.
func makeMountPoint(m Mount, target string) error {
	if m.Type == "bind" {
		if info, err := os.Stat(m.Source); err == nil && !info.IsDir() {
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			// O_NOFOLLOW: a symbolic link put there since the secure join
			// must not make this create a file elsewhere.
			f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY|unix.O_NOFOLLOW, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
	}
	return os.MkdirAll(target, 0o755)
}

// checkMountPoint is makeMountPoint for a root filesystem directory: the
// mount point must be there already. Creating it would change the user's
// directory, and removing it afterwards is not enough: after a crash, or a
// kill -9, nothing would.
func checkMountPoint(m Mount, target string) error {
	_, err := os.Lstat(target)
	if errors.Is(err, os.ErrNotExist) {
		create := "mkdir " + target
		if info, err := os.Stat(m.Source); m.Type == "bind" && err == nil && !info.IsDir() {
			create = "touch " + target // a single file is bound
		}
		return fmt.Errorf("%s does not exist, and mydocker never writes into a root filesystem directory: create the mount point (%s) or run an image", target, create)
	}
	return err
}

// bindMount makes source, and every mount below it, visible at target:
// MS_REC, as Docker's -v (a plain MS_BIND would show the directories that
// the mounts below the source cover, not what is mounted there).
func bindMount(source, target string, readOnly bool) error {
	if err := unix.Mount(source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if readOnly {
		return makeReadOnly(target)
	}
	return nil
}

// makeReadOnly makes the mount at target, and every mount below it,
// read-only. The kernel ignores MS_RDONLY when it creates a bind mount, so
// read-only is a second step, and it must reach the mounts that MS_REC
// copied too: else a file system mounted below the source stays writable.
func makeReadOnly(target string) error {
	// mount_setattr(2) (Linux 5.12) changes a whole tree of mounts at
	// once (AT_RECURSIVE), and only the attribute it is given: nosuid,
	// nodev and noexec stay as they were.
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, &attr)
	if !errors.Is(err, unix.ENOSYS) {
		return err
	}
	// An older kernel: remount each mount of the tree, one by one.
	return remountTreeReadOnly(target)
}

// remountTreeReadOnly remounts read-only each mount at or below target, as
// /proc/thread-self/mountinfo lists them.
func remountTreeReadOnly(target string) error {
	// mountinfo names mount points without symbolic links: a root
	// filesystem given as /link/rootfs is mounted at /real/rootfs there.
	target, err := filepath.EvalSymlinks(target)
	if err != nil {
		return err
	}
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return err
	}
	defer f.Close()
	mountPoints, err := mountPointsBelow(f, target)
	if err != nil {
		return err
	}
	// The bind just made is there, unless the paths do not match: then
	// nothing would be made read-only, without a word.
	if len(mountPoints) == 0 {
		return fmt.Errorf("remount %s read-only: not in the mount table", target)
	}
	for _, p := range mountPoints {
		if err := remountReadOnly(p); err != nil {
			return fmt.Errorf("remount %s read-only: %w", p, err)
		}
	}
	return nil
}

// remountReadOnly makes the one mount at path read-only. A remount sets
// all the mount's flags at once and clears those it is not given, so the
// flags nosuid, nodev and noexec that the mount has (statfs(2) reports
// them, with the same values as MS_NOSUID, MS_NODEV and MS_NOEXEC) are
// given again: read-only must not lift them (in a user namespace the
// kernel refuses to: EPERM). The atime flags are kept by the kernel.
func remountReadOnly(path string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return err
	}
	kept := uintptr(st.Flags) & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	return unix.Mount("", path, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|kept, "")
}

// mountPointsBelow returns the mount points at or below target in a
// mountinfo file (proc_pid_mountinfo(5)), in its order: a mount before
// the mounts on top of it.
func mountPointsBelow(mountinfo io.Reader, target string) ([]string, error) {
	var points []string
	lines := bufio.NewScanner(mountinfo)
	for lines.Scan() {
		// ID, parent ID, major:minor, root, mount point, ...
		fields := strings.Fields(lines.Text())
		if len(fields) < 5 {
			return nil, fmt.Errorf("read mountinfo: short line %q", lines.Text())
		}
		point := unescapeMountinfo(fields[4])
		if point == target || strings.HasPrefix(point, target+"/") {
			points = append(points, point)
		}
	}
	if err := lines.Err(); err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	return points, nil
}

// unescapeMountinfo undoes the kernel's escapes in a path of mountinfo:
// space, tab, newline and backslash are written as \ and three octal
// digits (\040 for a space).
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
