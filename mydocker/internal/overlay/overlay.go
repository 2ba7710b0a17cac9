//chapter:5

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
	options := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), upper, work)
	// The kernel reads mount options from one page.
	if len(options)+len(",volatile") >= os.Getpagesize() {
		return fmt.Errorf("mount overlay on %s: %d layers make the options longer than the kernel accepts (%d bytes)", target, len(lower), os.Getpagesize())
	}
	if volatile {
		err := unix.Mount("overlay", target, "overlay", 0, options+",volatile")
		if !errors.Is(err, unix.EINVAL) {
			return mountError(target, err)
		}
	}
	return mountError(target, unix.Mount("overlay", target, "overlay", 0, options))
}

func mountError(target string, err error) error {
	if err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}
