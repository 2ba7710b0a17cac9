//chapter:uts

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// errNotFound means that no file of that name exists in the PATH.
var errNotFound = errors.New("executable file not found in $PATH")

// lookPath finds a command the way a shell does: a name with a slash is a
// path; any other name is looked up in the directories of PATH from env.
// It runs inside the container, so the paths are the container's.
func lookPath(name string, env []string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("exec %q: %w", name, errNotFound)
	}
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", fmt.Errorf("exec %q: %w", name, err)
		}
		return name, nil
	}
	var firstErr error
	for _, dir := range filepath.SplitList(pathFrom(env)) {
		if dir == "" {
			dir = "." // an empty entry means the current directory
		}
		path := filepath.Join(dir, name)
		err := checkExecutable(path)
		if err == nil {
			return path, nil
		}
		if firstErr == nil && !errors.Is(err, fs.ErrNotExist) {
			firstErr = err // found, but not runnable: keep looking, remember why
		}
	}
	if firstErr != nil {
		return "", fmt.Errorf("exec %q: %w", name, firstErr)
	}
	return "", fmt.Errorf("exec %q: %w", name, errNotFound)
}

// checkExecutable says whether path is a file that may be executed.
func checkExecutable(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if info.IsDir() {
		return fmt.Errorf("%s is a directory: %w", path, unix.EACCES)
	}
	if info.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s: %w", path, unix.EACCES)
	}
	return nil
}

// pathFrom returns the value of PATH in env, or the default.
func pathFrom(env []string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if value, ok := strings.CutPrefix(env[i], "PATH="); ok {
			return value
		}
	}
	return defaultPath
}

// exitCodeFor maps a failure to start the command to Docker's exit codes.
func exitCodeFor(err error) int {
	if errors.Is(err, errNotFound) || errors.Is(err, fs.ErrNotExist) {
		return 127
	}
	return 126
}
