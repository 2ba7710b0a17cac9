//chapter:6

package container

import (
	"fmt"
	"os"
	"path/filepath"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
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
func mountVolumes(rootfs string, mounts []Mount) error {
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
		if err := makeMountPoint(m, target); err != nil {
			return fmt.Errorf("create mount point %s: %w", m.Destination, err)
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

// bindMount makes source visible at target. A read-only bind mount takes
// two steps: the kernel ignores MS_RDONLY when it creates a bind mount, so
// it is set by remounting.
func bindMount(source, target string, readOnly bool) error {
	if err := unix.Mount(source, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	if readOnly {
		return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
	}
	return nil
}
