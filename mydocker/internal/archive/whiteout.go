//chapter:images

package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// A layer records deletions with OCI whiteouts, empty files with marked
// names; overlay records them its own way. Unpack converts one to the other.
const (
	// whiteoutPrefix marks a deletion: ".wh.NAME" deletes NAME from the
	// layers below.
	whiteoutPrefix = ".wh."
	// whiteoutMetaPrefix begins the names the whiteout scheme keeps for
	// itself.
	whiteoutMetaPrefix = ".wh..wh."
	// whiteoutOpaque in a directory hides everything the layers below have
	// in it.
	whiteoutOpaque = ".wh..wh..opq"
	// opaqueXattr is overlay's mark for such a directory.
	opaqueXattr = "trusted.overlay.opaque"
)

// isWhiteout reports whether the entry named name is an OCI whiteout.
func isWhiteout(name string) bool {
	return strings.HasPrefix(filepath.Base(name), whiteoutPrefix)
}

// inWhiteoutMetaDir reports whether name lies under a directory that the
// whiteout scheme keeps for itself, such as AUFS's hard-link directory
// .wh..wh.plnk. Its files mean nothing to overlay and are skipped.
func inWhiteoutMetaDir(name string) bool {
	for _, dir := range strings.Split(filepath.Dir(name), "/") {
		if strings.HasPrefix(dir, whiteoutMetaPrefix) {
			return true
		}
	}
	return false
}

// whiteout converts the OCI whiteout name into its overlay form.
func (u *unpacker) whiteout(hdr *tar.Header, name string) error {
	dir, base := filepath.Dir(name), filepath.Base(name)
	if base == whiteoutOpaque {
		return u.markOpaque(dir)
	}
	if strings.HasPrefix(base, whiteoutMetaPrefix) {
		return nil // AUFS bookkeeping such as .wh..wh.plnk: nothing for overlay
	}
	hidden := strings.TrimPrefix(base, whiteoutPrefix)
	// ".wh.." would delete the directory's parent, and the root with it.
	if hidden == "" || hidden == "." || hidden == ".." {
		return fmt.Errorf("whiteout %q names no file", base)
	}
	path, err := u.resolve(filepath.Join(dir, hidden))
	if err != nil {
		return err
	}
	// Overlay's whiteout: a character device with device number 0/0. It
	// replaces a file of the same name from this layer.
	if err := u.create(path, false, func() error { return unix.Mknod(path, unix.S_IFCHR, 0) }); err != nil {
		return fmt.Errorf("create whiteout %s: %w", path, err)
	}
	if err := os.Lchown(path, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("set owner of whiteout %s: %w", path, err)
	}
	return nil
}

// markOpaque marks the directory dir opaque, creating it if the layer has
// not yet.
func (u *unpacker) markOpaque(dir string) error {
	path, err := u.resolve(dir)
	if err != nil {
		return err
	}
	info, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir(path, 0o755); err != nil {
			return fmt.Errorf("create opaque directory: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("inspect opaque directory %s: %w", path, err)
	} else if !info.IsDir() {
		return fmt.Errorf("opaque marker in %s, which is not a directory", path)
	}
	if err := unix.Lsetxattr(path, opaqueXattr, []byte("y"), 0); err != nil {
		return fmt.Errorf("mark %s opaque: %w", path, err)
	}
	return nil
}
