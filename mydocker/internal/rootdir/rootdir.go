//chapter:images

// Package rootdir makes the mydocker root, the directory that holds all of
// mydocker's state, and tells one from a directory that mydocker did not
// make. From chapter 5 on, mydocker deletes what it finds unused in its
// root (layers, blobs, leftovers of killed commands); pointed at the wrong
// directory by a mistyped --root, it would delete the user's files. So it
// marks each root it makes, and refuses a directory that is neither new,
// empty, marked, nor shaped like a root of an earlier mydocker.
package rootdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mydocker/mydocker/mydocker/internal/atomicfile"
)

// Mode is the mode of the root: only root may enter it. Everything under
// it (a volume that a container has filled with setuid programs, a layer's
// files) is then out of reach of every other user of the host, whatever
// the modes further down. Docker keeps its root 0710, so that the group of
// a remapped root user (user namespaces) may pass; mydocker has no such
// user yet, and lets no group in.
const Mode = 0o700

// MarkName is the file that marks a directory as a mydocker root.
const MarkName = "mydocker-root"

const markText = "This directory is a mydocker root: mydocker keeps its images, layers, containers and volumes here.\n" +
	"mydocker works only in a directory that has this file, or is new or empty. Do not put other files here.\n"

// Make makes the root dir with its mark, unless it is there already, and
// refuses a directory that is not a mydocker root (see Check). An existing
// root without a mark (new and empty, or made by a mydocker without marks)
// gets the mark and the mode of a root.
func Make(dir string) error {
	err := os.Mkdir(dir, Mode)
	if errors.Is(err, os.ErrNotExist) {
		// Its parents are the user's, and get the usual mode.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return fmt.Errorf("create the mydocker root: %w", err)
		}
		err = os.Mkdir(dir, Mode)
	}
	if err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create the mydocker root: %w", err)
	}
	if marked(dir) {
		return nil
	}
	if err := Check(dir); err != nil {
		return err
	}
	// The umask may have taken bits off, and an empty directory that the
	// user gave has a mode of its own: a root has Mode, exactly.
	if err := os.Chmod(dir, Mode); err != nil {
		return fmt.Errorf("create the mydocker root: %w", err)
	}
	return atomicfile.Write(filepath.Join(dir, MarkName), []byte(markText), 0o644)
}

func marked(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, MarkName))
	return err == nil
}

// Check says whether mydocker may work in dir, without changing anything:
// a directory that does not exist yet, an empty one, one with the mark,
// and a root made by a mydocker without marks (see legacyRoot) may be
// used. Anything else holds files that mydocker did not make, which it
// might delete: it is refused.
func Check(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case errors.Is(err, os.ErrPermission):
		// A user who may not look into the directory cannot delete
		// anything in it either; the command says what it needs.
		return nil
	case err != nil:
		return fmt.Errorf("mydocker root %s: %w", dir, err)
	case !info.IsDir():
		return fmt.Errorf("the mydocker root %s is not a directory: give a new or empty directory with --root (or MYDOCKER_ROOT)", dir)
	}
	if marked(dir) {
		return nil
	}
	stranger, err := legacyRoot(dir)
	if errors.Is(err, os.ErrPermission) {
		return nil // as above
	}
	if err != nil {
		return fmt.Errorf("mydocker root %s: %w", dir, err)
	}
	if stranger != "" {
		return fmt.Errorf("%s is not a mydocker root: it holds %s, which mydocker did not make (and it deletes what it does not use in its root): "+
			"give --root (or MYDOCKER_ROOT) a new or empty directory, or a root that mydocker made (the default is /var/lib/mydocker)",
			dir, filepath.Join(dir, stranger))
	}
	return nil
}

// legacyRoot looks at a root without a mark: empty, or made before
// mydocker marked its roots. Such a root holds only what mydocker makes:
// at its top containers/, images/, layers/ and volumes/ (and the
// temporary file of a mark being written); in containers/
// and layers/ names of 64 hex digits (and leftovers of killed commands,
// .unpack-*); in images/ an OCI layout; in volumes/ directories with a
// _data each. legacyRoot returns the first path (relative to dir) that
// does not fit, or "" when all do.
func legacyRoot(dir string) (string, error) {
	rules := []struct {
		path string
		fits func(name string, isDir bool) bool
	}{
		{".", func(name string, isDir bool) bool {
			return isDir && slices.Contains([]string{"containers", "images", "layers", "volumes"}, name) ||
				strings.HasPrefix(name, "."+MarkName+".tmp-") // a Make that was killed
		}},
		{"containers", func(name string, isDir bool) bool { return isDir && isHex64(name) }},
		{"layers", func(name string, isDir bool) bool {
			return isDir && (isHex64(name) || strings.HasPrefix(name, ".unpack-"))
		}},
		{"images", func(name string, isDir bool) bool {
			return slices.Contains([]string{"oci-layout", "index.json", "index.lookup", "blobs"}, name) ||
				strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
		}},
		{"images/blobs", func(name string, isDir bool) bool { return isDir && name == "sha256" }},
		{"images/blobs/sha256", func(name string, isDir bool) bool {
			return !isDir && (isHex64(name) || strings.HasPrefix(name, ".tmp-"))
		}},
		{"volumes", func(name string, isDir bool) bool { return isDir }},
	}
	for _, rule := range rules {
		entries, err := os.ReadDir(filepath.Join(dir, rule.path))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		for _, entry := range entries {
			if !rule.fits(entry.Name(), entry.IsDir()) {
				return filepath.Join(rule.path, entry.Name()), nil
			}
			if rule.path == "volumes" {
				// A volume holds its _data and nothing else.
				inside, err := os.ReadDir(filepath.Join(dir, "volumes", entry.Name()))
				if err != nil {
					return "", err
				}
				for _, e := range inside {
					if e.Name() != "_data" || !e.IsDir() {
						return filepath.Join("volumes", entry.Name(), e.Name()), nil
					}
				}
			}
		}
	}
	return "", nil
}

// isHex64 says whether name is 64 lower-case hex digits: a digest, a
// container's ID.
func isHex64(name string) bool {
	return len(name) == 64 && strings.Trim(name, "0123456789abcdef") == ""
}
