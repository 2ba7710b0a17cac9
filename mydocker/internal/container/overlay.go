//chapter:5

package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
