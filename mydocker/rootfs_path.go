//chapter:3

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checkRootfs returns the absolute path of a root filesystem directory.
func checkRootfs(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("root filesystem %q: %w", path, err)
	}
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("root filesystem %q does not exist: give the path of a directory with the container's files (make image builds one in build/images/busybox/rootfs)", path)
	case err != nil:
		return "", fmt.Errorf("root filesystem %q: %w", path, err)
	case !info.IsDir():
		return "", fmt.Errorf("root filesystem %q is not a directory: give the path of a directory with the container's files", path)
	}
	return abs, nil
}
