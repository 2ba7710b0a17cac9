//chapter:uts

// Package atomicfile writes files so that a reader, or a crash, never sees
// them half-written.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces the file at path with data: it writes a temporary file in
// the same directory, flushes it to disk and renames it over path. A rename
// within one file system is atomic, so path holds either the old or the new
// contents, never a mix.
func Write(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, true)
}

// WriteVolatile is Write without flushing the file to disk first, for state
// that describes processes, such as the config of a container that lives
// only as long as its mydocker run. The rename still means that no reader
// and no crash of a process ever sees half a file. Only a crash of the whole
// machine could leave one behind, and it ends those processes too: what
// then finds the file (the next run, cleaning up) must accept one it cannot
// read. The flush is what costs: on ext4 it waits for the disk, and removing
// a flushed file costs more as well, together about a millisecond.
func WriteVolatile(path string, data []byte, perm os.FileMode) error {
	return write(path, data, perm, false)
}

func write(path string, data []byte, perm os.FileMode, flush bool) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if flush {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
