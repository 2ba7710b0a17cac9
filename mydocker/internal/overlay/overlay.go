//chapter:5

// Package overlay mounts a container's root filesystem as an overlay: the
// image's layers below, read-only and shared, and a directory of the
// container's own above, where every change goes.
package overlay

import (
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
func Mount(lower []string, upper, work, target string) error {
	if len(lower) == 0 {
		return fmt.Errorf("mount overlay on %s: no lower layers", target)
	}
	options := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), upper, work)
	// The kernel reads mount options from one page.
	if len(options) >= os.Getpagesize() {
		return fmt.Errorf("mount overlay on %s: %d layers make the options longer than the kernel accepts (%d bytes)", target, len(lower), os.Getpagesize())
	}
	if err := unix.Mount("overlay", target, "overlay", 0, options); err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}
