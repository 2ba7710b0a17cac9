//chapter:5

package container

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
// /etc/passwd and /etc/group. The command gets that user's home directory
// as HOME, unless the image sets HOME. The groups are set first: once the
// user is not root, it may no longer change groups.
func switchUser(spec *Spec) error {
	u, err := lookupUser("/etc", spec.User)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(spec.Env, func(kv string) bool { return strings.HasPrefix(kv, "HOME=") }) {
		spec.Env = append(spec.Env, "HOME="+u.home)
	}
	if spec.User == "" {
		return nil // root, as mydocker run is
	}
	// Credentials belong to each thread in Linux; the syscall package's
	// versions change them on every thread of the Go runtime, so the thread
	// that will exec the command has them too.
	if err := syscall.Setgroups(u.groups); err != nil {
		return fmt.Errorf("set groups for user %s: %w", spec.User, err)
	}
	if err := syscall.Setgid(u.gid); err != nil {
		return fmt.Errorf("set group %d: %w", u.gid, err)
	}
	if err := syscall.Setuid(u.uid); err != nil {
		return fmt.Errorf("set user %d: %w", u.uid, err)
	}
	return nil
}

// execUser is who the command runs as.
type execUser struct {
	uid, gid int
	groups   []int  // the supplementary groups, gid first
	home     string // the home directory, for HOME
}

// lookupUser finds user ("name", "uid", "name:group" or "uid:gid"; empty
// for the default, root) in the files passwd and group of the directory
// etc, the way runc does it for Docker:
//   - a number that passwd does not list is still a user, with group 0 and
//     the home directory /; a name must be listed;
//   - a user that passwd lists also gets, as supplementary groups, the
//     groups whose line in group names it as a member, unless a group is
//     given after the colon.
func lookupUser(etc, user string) (execUser, error) {
	name, group, _ := strings.Cut(user, ":")
	if name == "" {
		name = "0"
	}
	u := execUser{home: "/"}
	entry, err := findEntry(filepath.Join(etc, "passwd"), name, 7)
	if uid, convErr := strconv.Atoi(name); err != nil {
		if convErr != nil {
			return execUser{}, fmt.Errorf("unable to find user %s: %w", name, err)
		}
		u.uid = uid // a number needs no entry; its group is then root's, as in Docker
	} else {
		u.uid, _ = strconv.Atoi(entry[2])
		u.gid, _ = strconv.Atoi(entry[3])
		if entry[5] != "" {
			u.home = entry[5]
		}
	}
	if group != "" {
		if u.gid, err = lookupGroup(filepath.Join(etc, "group"), group); err != nil {
			return execUser{}, err
		}
	}
	u.groups = []int{u.gid}
	// The default user, root, keeps the groups of mydocker run: switchUser
	// changes no credentials for it, so group is not read.
	if user != "" && group == "" && entry != nil {
		more, err := memberOf(filepath.Join(etc, "group"), entry[0])
		if err != nil {
			return execUser{}, fmt.Errorf("groups of user %s: %w", entry[0], err)
		}
		for _, gid := range more {
			if !slices.Contains(u.groups, gid) {
				u.groups = append(u.groups, gid)
			}
		}
	}
	return u, nil
}

// lookupGroup returns the gid of a group name or number, from the file path.
func lookupGroup(path, group string) (int, error) {
	if gid, err := strconv.Atoi(group); err == nil {
		return gid, nil
	}
	fields, err := findEntry(path, group, 4)
	if err != nil {
		return 0, fmt.Errorf("unable to find group %s: %w", group, err)
	}
	gid, _ := strconv.Atoi(fields[2])
	return gid, nil
}

// memberOf returns the gids of the groups of the file path whose member
// list (the fourth field, names separated by commas) has name. No file
// means no groups.
func memberOf(path, name string) ([]int, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var gids []int
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Split(scanner.Text(), ":")
		if len(fields) < 4 || !slices.Contains(strings.Split(fields[3], ","), name) {
			continue
		}
		if gid, err := strconv.Atoi(fields[2]); err == nil {
			gids = append(gids, gid)
		}
	}
	return gids, scanner.Err()
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
