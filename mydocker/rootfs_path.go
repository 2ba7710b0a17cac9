//chapter:mount

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mydocker/mydocker/mydocker/internal/container"
)

// rootfsCommand puts "ROOTFS COMMAND [ARG...]" into the spec: first the
// root filesystem directory, then the command.
func rootfsCommand(spec *container.Spec, args []string) error {
	rootfs, err := checkRootfs(args[0])
	if err != nil {
		return err
	}
	if len(args) < 2 {
		return fmt.Errorf("no command given: say what to run after the root filesystem, e.g. mydocker run %s sh", args[0])
	}
	spec.Rootfs = rootfs
	spec.Args = args[1:]
	return nil
}

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
