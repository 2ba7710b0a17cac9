//chapter:mount

package rootfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// device is a character device node in the container's /dev.
type device struct {
	path         string
	major, minor uint32
}

// devices are the nodes every container gets (see the kernel's
// Documentation/admin-guide/devices.txt for the numbers). Disks and other
// hardware are left out on purpose.
var devices = []device{
	{"/dev/null", 1, 3},
	{"/dev/zero", 1, 5},
	{"/dev/full", 1, 7},
	{"/dev/random", 1, 8},
	{"/dev/urandom", 1, 9},
	{"/dev/tty", 5, 0},
}

// devLinks are the symbolic links that programs expect in /dev.
var devLinks = map[string]string{
	"/dev/fd":     "/proc/self/fd",
	"/dev/stdin":  "/proc/self/fd/0",
	"/dev/stdout": "/proc/self/fd/1",
	"/dev/stderr": "/proc/self/fd/2",
	"/dev/ptmx":   "pts/ptmx", // the ptmx of the container's own devpts
}

// populateDev creates the device nodes and links in the fresh /dev tmpfs.
func populateDev() error {
	// The umask would take permissions away from the nodes: everyone may
	// read and write /dev/null.
	oldMask := unix.Umask(0)
	defer unix.Umask(oldMask)
	for _, d := range devices {
		dev := int(unix.Mkdev(d.major, d.minor))
		if err := unix.Mknod(d.path, unix.S_IFCHR|0o666, dev); err != nil {
			return fmt.Errorf("create device %s: %w", d.path, err)
		}
	}
	for link, target := range devLinks {
		if err := os.Symlink(target, link); err != nil {
			return fmt.Errorf("create link %s: %w", link, err)
		}
	}
	return nil
}
