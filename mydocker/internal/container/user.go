//chapter:5

package container

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// enterWorkingDir changes to the image's working directory, creating it
// if the image lacks it, as Docker does. It runs after pivot_root, so the
// path is the container's.
func enterWorkingDir(dir string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("working directory %s: %w", dir, err)
	}
	if err := unix.Chdir(dir); err != nil {
		return fmt.Errorf("working directory %s: %w", dir, err)
	}
	return nil
}

// switchUser makes the process the image's user: "name", "uid",
// "name:group" or "uid:gid", with names looked up in the container's own
// /etc/passwd and /etc/group. The group is set first: once the user is
// not root, it may no longer change groups.
func switchUser(user string) error {
	if user == "" {
		return nil
	}
	name, group, _ := strings.Cut(user, ":")
	uid, gid, err := lookupUser(name)
	if err != nil {
		return err
	}
	if group != "" {
		if gid, err = lookupGroup(group); err != nil {
			return err
		}
	}
	// Credentials belong to each thread in Linux; the syscall package's
	// versions change them on every thread of the Go runtime, so the thread
	// that will exec the command has them too.
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("set groups for user %s: %w", user, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("set group %d: %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("set user %d: %w", uid, err)
	}
	return nil
}

// lookupUser returns the uid and the primary gid of a user name or number.
func lookupUser(name string) (uid, gid int, err error) {
	fields, err := findEntry("/etc/passwd", name, 7)
	if uid, convErr := strconv.Atoi(name); convErr == nil {
		if err != nil {
			return uid, 0, nil // a number needs no entry; its group is then root's, as in Docker
		}
		gid, _ := strconv.Atoi(fields[3])
		return uid, gid, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("unable to find user %s: %w", name, err)
	}
	uid, _ = strconv.Atoi(fields[2])
	gid, _ = strconv.Atoi(fields[3])
	return uid, gid, nil
}

// lookupGroup returns the gid of a group name or number.
func lookupGroup(group string) (int, error) {
	if gid, err := strconv.Atoi(group); err == nil {
		return gid, nil
	}
	fields, err := findEntry("/etc/group", group, 4)
	if err != nil {
		return 0, fmt.Errorf("unable to find group %s: %w", group, err)
	}
	gid, _ := strconv.Atoi(fields[2])
	return gid, nil
}

// errNoEntry means that a name is in neither field 0 nor field 2 of a file.
var errNoEntry = errors.New("no matching entries in the container's file")

// findEntry returns the colon-separated fields of the line of path whose
// name (field 0) or number (field 2) is key.
func findEntry(path, key string, fieldCount int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Split(scanner.Text(), ":")
		if len(fields) >= fieldCount && (fields[0] == key || fields[2] == key) {
			if _, err := strconv.Atoi(fields[2]); err == nil {
				return fields, nil
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w %s", errNoEntry, path)
}
