//chapter:images

// Package overlay mounts a container's root filesystem as an overlay: the
// image's layers below, read-only and shared, and a directory of the
// container's own above, where every change goes.
package overlay

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount mounts an overlay at target. lower lists the image's layer
// directories with the top layer first (overlay's order); upper receives
// the container's writes, and work is a scratch directory that overlay
// needs on the same file system as upper.
//
// A file of a lower layer is copied up into upper the first time it is
// written, so the layers are never changed; a deleted file is marked in
// upper by a "whiteout", a character device 0/0 that hides it.
//
// A volatile overlay never flushes upper to disk. Without that, unmounting
// an overlay syncs the whole file system that holds upper (the host's root,
// often), which can cost more than the rest of a short container's exit.
// It suits only a container whose upper is removed when it ends: overlay
// leaves work/work/incompat/volatile behind, and refuses ever to mount that
// upper and work again. Linux before 5.10 does not know the option; there
// the overlay is mounted without it.
func Mount(lower []string, upper, work, target string, volatile bool) error {
	if len(lower) == 0 {
		return fmt.Errorf("mount overlay on %s: no lower layers", target)
	}
	options := Options(lower, upper, work)
	if len(options) > MaxOptions() {
		return fmt.Errorf("mount overlay on %s: the paths of its %d layers, upper and work directories make %d bytes of mount options, more than the kernel takes (%d): use a shorter --root", target, len(lower), len(options), MaxOptions())
	}
	if volatile {
		err := unix.Mount("overlay", target, "overlay", 0, options+",volatile")
		if !errors.Is(err, unix.EINVAL) {
			return mountError(target, err)
		}
	}
	return mountError(target, unix.Mount("overlay", target, "overlay", 0, options))
}

// Options are the mount options of an overlay. Overlay reads them as one
// string: a comma ends an option, a colon separates two lower layers, and
// a backslash makes the character after it plain. So each path has those
// three escaped, and a root such as /tmp/a,b:c works. (Linux 6.1 and 6.18
// read the escapes alike; 6.5, the first with overlay on the new mount API,
// lost the comma's, until commit c34706acf40b.)
func Options(lower []string, upper, work string) string {
	escaped := make([]string, len(lower))
	for i, dir := range lower {
		escaped[i] = escapePath(dir)
	}
	return "lowerdir=" + strings.Join(escaped, ":") + ",upperdir=" + escapePath(upper) + ",workdir=" + escapePath(work)
}

// MaxOptions is the most bytes of options that Mount passes: the kernel
// copies mount options into one page, and Mount may add ",volatile".
func MaxOptions() int {
	return os.Getpagesize() - 1 - len(",volatile")
}

// escapePath escapes what overlay's option parser reads as special.
func escapePath(path string) string {
	if !strings.ContainsAny(path, `\,:`) {
		return path
	}
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `:`, `\:`).Replace(path)
}

func mountError(target string, err error) error {
	if err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}
