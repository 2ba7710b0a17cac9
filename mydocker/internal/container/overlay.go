//chapter:images

package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mydocker/mydocker/mydocker/internal/overlay"
)

// Overlay is a root filesystem made of an image's layers and a writable
// layer of the container's own.
type Overlay struct {
	Lower    []string `json:"lower"`    // the image's layer directories, top first
	Upper    string   `json:"upper"`    // the container's changes: <container dir>/upper
	Work     string   `json:"work"`     // overlay's scratch directory: <container dir>/work
	Volatile bool     `json:"volatile"` // upper is never flushed to disk (see overlay.Mount)
}

// makeOverlayDirs creates the container's writable layer in its directory
// and points the spec's root filesystem at the mount point beside it.
func (c *Container) makeOverlayDirs() error {
	o := c.Spec.Overlay
	o.Upper = filepath.Join(c.Dir, "upper")
	o.Work = filepath.Join(c.Dir, "work")
	if err := checkOverlayOptions(o, filepath.Dir(filepath.Dir(c.Dir))); err != nil {
		return err
	}
	// Every container is removed when its run ends, and its upper with it.
	// (Containers that outlive their run, in chapter 07, will not be volatile.)
	o.Volatile = true
	c.Spec.Rootfs = filepath.Join(c.Dir, "rootfs")
	for _, dir := range []string{o.Upper, o.Work, c.Spec.Rootfs} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return fmt.Errorf("create container layer: %w", err)
		}
	}
	return nil
}

// checkOverlayOptions fails when the overlay's options would be longer than
// the kernel takes, before the upper and work directories are made, and
// says why, which overlay.Mount cannot: every path in them, the image's
// layers and the container's upper and work directories, starts with the
// mydocker root, so a long root is repeated in each.
func checkOverlayOptions(o *Overlay, root string) error {
	length := len(overlay.Options(o.Lower, o.Upper, o.Work))
	if length <= overlay.MaxOptions() {
		return nil
	}
	paths := len(o.Lower) + 2
	rootLength := len(overlay.Options([]string{root}, "", "")) - len("lowerdir=,upperdir=,workdir=")
	longest := rootLength - (length-overlay.MaxOptions()+paths-1)/paths
	if longest < len("/r") {
		return fmt.Errorf("the image has %d layers, too many for the overlay mount options: the kernel takes %d bytes, and each layer's path takes about %d; use an image with fewer layers", len(o.Lower), overlay.MaxOptions(), length/paths)
	}
	return fmt.Errorf("the mydocker root %q is too long for this image's overlay: its path (%d bytes) is in the mount options once for each of the image's %d layers and twice more, %d bytes in all, and the kernel takes %d; give --root a path of at most %d bytes", root, rootLength, len(o.Lower), length, overlay.MaxOptions(), longest)
}

// MergeEnv returns base with the variables of overrides added, replacing
// any of the same name: how an image's Env meets mydocker's defaults.
func MergeEnv(base, overrides []string) []string {
	merged := append([]string(nil), base...)
	for _, kv := range overrides {
		key, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range merged {
			if oldKey, _, _ := strings.Cut(old, "="); oldKey == key {
				merged[i] = kv
				replaced = true
			}
		}
		if !replaced {
			merged = append(merged, kv)
		}
	}
	return merged
}
