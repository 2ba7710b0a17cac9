//chapter:images

package container

import (
	"errors"
	"fmt"
	"io"
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
// /etc/passwd and /etc/group; no user means root, looked up the same way.
// The command gets that user's home directory as HOME, unless the image
// sets HOME (to something not empty). The groups are set first: once the
// user is not root, it may no longer change groups.
func switchUser(spec *Spec) error {
	who := spec.User
	if who == "" {
		who = "root"
	}
	u, err := lookupUser("/etc", spec.User)
	if err != nil {
		return fmt.Errorf("user %s: %w", who, err)
	}
	spec.Env = withHome(spec.Env, u.home)
	// Credentials belong to each thread in Linux; the syscall package's
	// versions change them on every thread of the Go runtime, so the thread
	// that will exec the command has them too. That stops every thread
	// each time, so what is already right is left alone: root, as
	// mydocker run is, usually needs nothing. The kernel keeps groups
	// sorted; real, effective and saved IDs must all be right.
	groups, err := unix.Getgroups()
	if err != nil || !slices.Equal(groups, slices.Sorted(slices.Values(u.groups))) {
		if err := syscall.Setgroups(u.groups); err != nil {
			return fmt.Errorf("set the groups of user %s: %w", who, err)
		}
	}
	if r, e, saved := unix.Getresgid(); r != u.gid || e != u.gid || saved != u.gid {
		if err := syscall.Setgid(u.gid); err != nil {
			return fmt.Errorf("set the group of user %s to %d: %w", who, u.gid, err)
		}
	}
	if r, e, saved := unix.Getresuid(); r != u.uid || e != u.uid || saved != u.uid {
		if err := syscall.Setuid(u.uid); err != nil {
			return fmt.Errorf("become user %s (%d): %w", who, u.uid, err)
		}
	}
	return nil
}

// withHome returns env with HOME=home, unless env has a HOME that is not
// empty (an empty one is replaced, as runc does).
func withHome(env []string, home string) []string {
	for _, kv := range env {
		if value, ok := strings.CutPrefix(kv, "HOME="); ok && value != "" {
			return env
		}
	}
	return MergeEnv(env, []string{"HOME=" + home})
}

// execUser is who the command runs as.
type execUser struct {
	uid, gid int
	groups   []int  // the supplementary groups, gid first
	home     string // the home directory, for HOME
}

// lookupUser finds user ("name", "uid", "name:group" or "uid:gid"; empty
// for root) in the files passwd and group of the directory etc, the way
// runc does it for Docker:
//   - a number is a uid (or gid): it matches the line of that number, never
//     a name; a number that passwd does not list is still a user, with
//     group 0 and the home directory /; a name must be listed;
//   - a user that passwd lists also gets, as supplementary groups, the
//     groups whose line in group names it as a member, unless a group is
//     given after the colon.
//
// An empty home directory in passwd gives /, where runc would leave HOME
// empty.
func lookupUser(etc, user string) (execUser, error) {
	name, group, _ := strings.Cut(user, ":")
	if name == "" {
		name = "0"
	}
	uid, isNumber, err := parseID(name)
	if err != nil {
		return execUser{}, err
	}
	u := execUser{uid: uid, home: "/"}
	passwd := filepath.Join(etc, "passwd")
	entry, err := findEntry(passwd, name)
	switch {
	case err != nil:
		return execUser{}, err
	case entry != nil:
		if u.uid, err = idField(passwd, entry[0], "uid", entry[2]); err != nil {
			return execUser{}, err
		}
		if u.gid, err = idField(passwd, entry[0], "gid", entry[3]); err != nil {
			return execUser{}, err
		}
		if entry[5] != "" {
			u.home = entry[5]
		}
	case !isNumber:
		return execUser{}, errors.New("the container's /etc/passwd has no line for it: give a user that it lists, or a uid")
	}
	if group != "" {
		if u.gid, err = lookupGroup(filepath.Join(etc, "group"), group); err != nil {
			return execUser{}, err
		}
	}
	u.groups = []int{u.gid}
	if group == "" && entry != nil {
		more, err := memberOf(filepath.Join(etc, "group"), entry[0])
		if err != nil {
			return execUser{}, err
		}
		for _, gid := range more {
			if !slices.Contains(u.groups, gid) {
				u.groups = append(u.groups, gid)
			}
		}
	}
	return u, nil
}

// lookupGroup returns the gid of a group name or number, from the file
// path; a number needs no line there.
func lookupGroup(path, group string) (int, error) {
	gid, isNumber, err := parseID(group)
	if err != nil {
		return 0, err
	}
	fields, err := findEntry(path, group)
	switch {
	case err != nil:
		return 0, err
	case fields != nil:
		if gid, err = idField(path, fields[0], "gid", fields[2]); err != nil {
			return 0, err
		}
	case !isNumber:
		return 0, fmt.Errorf("the container's /etc/group has no group %s: give a group that it lists, or a gid", group)
	}
	return gid, nil
}

// maxID is the largest uid or gid that runc and Docker accept.
const maxID = 1<<31 - 1

// parseID says whether s is a number, and returns it if it is one that can
// be a uid or gid.
func parseID(s string) (id int, isNumber bool, err error) {
	id, convErr := strconv.Atoi(s)
	if convErr != nil {
		if errors.Is(convErr, strconv.ErrRange) {
			return 0, true, fmt.Errorf("%s is out of range: IDs go from 0 to %d", s, maxID)
		}
		return 0, false, nil
	}
	if id < 0 || id > maxID {
		return 0, true, fmt.Errorf("%s is out of range: IDs go from 0 to %d", s, maxID)
	}
	return id, true, nil
}

// idField reads the ID in the field what of the line of name in path: a
// number from 0 to maxID, or 0 when the field is empty. Anything else is an
// error of the image, not a number to cut down to 32 bits.
func idField(path, name, what, value string) (int, error) {
	if value == "" {
		return 0, nil
	}
	if id, isNumber, err := parseID(value); err == nil && isNumber {
		return id, nil
	}
	return 0, fmt.Errorf("the container's %s gives %s the %s %q, which is not a number from 0 to %d: fix that line of the image's file", path, name, what, value, maxID)
}

// findEntry returns the fields of the first line of path (a passwd or
// group file) that is key's, or nil if none is: a number matches the
// line's ID (the third field), a name its first field. The callers have
// checked that a number is in range (parseID).
func findEntry(path, key string) ([]string, error) {
	id, isNumber, _ := parseID(key)
	lines, err := readEntries(path)
	if err != nil {
		return nil, err
	}
	for _, fields := range lines {
		if isNumber {
			if lineID, ok, err := parseID(fields[2]); err == nil && ok && lineID == id {
				return fields, nil
			}
		} else if fields[0] == key {
			return fields, nil
		}
	}
	return nil, nil
}

// memberOf returns the gids of the groups of the file path whose member
// list (the fourth field, names separated by commas) has name.
func memberOf(path, name string) ([]int, error) {
	lines, err := readEntries(path)
	if err != nil {
		return nil, err
	}
	var gids []int
	for _, fields := range lines {
		if slices.Contains(strings.Split(fields[3], ","), name) {
			gid, err := idField(path, fields[0], "gid", fields[2])
			if err != nil {
				return nil, err
			}
			gids = append(gids, gid)
		}
	}
	return gids, nil
}

// readEntries returns the lines of path (a passwd or group file), each
// split at its colons and padded with empty fields to seven, so that a
// short line, which runc accepts, reads as one with empty fields. Lines
// without an ID (fewer than three fields) are left out, and a missing file
// has no lines.
func readEntries(path string) ([][]string, error) {
	data, err := readImageFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lines [][]string
	for line := range strings.Lines(string(data)) {
		fields := strings.Split(strings.TrimRight(line, "\r\n"), ":")
		if len(fields) < 3 {
			continue
		}
		for len(fields) < 7 {
			fields = append(fields, "")
		}
		lines = append(lines, fields)
	}
	return lines, nil
}

// maxEntriesSize is the largest passwd or group file that is read. Real
// ones are a few kilobytes; a bigger one is an image's mistake or attack.
const maxEntriesSize = 4 << 20

// readImageFile reads a small regular file of the image. It runs after
// pivot_root, so every path, also a symbolic link's target, resolves
// inside the container. The image decides what the file is, and it could
// make /etc/passwd a FIFO (reading it would wait forever) or a link to
// /dev/zero (it never ends): so the file is opened with O_PATH, which
// opens nothing but the name, and only a regular file is then opened for
// reading, through /proc/self/fd, the very inode that was checked.
func readImageFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("read the container's %s: %w", path, &fs.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	var stat unix.Stat_t
	if err := unix.Fstat(fd, &stat); err != nil {
		return nil, fmt.Errorf("read the container's %s: %w", path, &fs.PathError{Op: "stat", Path: path, Err: err})
	}
	if stat.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, fmt.Errorf("the container's %s is %s, not a regular file: mydocker reads users and groups only from a regular file; fix the image", path, fileKind(stat.Mode))
	}
	tooBig := func() error {
		return fmt.Errorf("the container's %s is larger than %d MiB, more than mydocker reads: fix the image", path, maxEntriesSize>>20)
	}
	if stat.Size > maxEntriesSize {
		return nil, tooBig()
	}
	f, err := os.Open("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return nil, fmt.Errorf("read the container's %s: %w", path, err)
	}
	defer f.Close()
	// The size was checked, but a file can grow: read one byte more than
	// the limit, to know.
	data, err := io.ReadAll(io.LimitReader(f, maxEntriesSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the container's %s: %w", path, err)
	}
	if len(data) > maxEntriesSize {
		return nil, tooBig()
	}
	return data, nil
}

// fileKind names the type of file that mode says.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFCHR:
		return "a character device"
	case unix.S_IFBLK:
		return "a block device"
	case unix.S_IFSOCK:
		return "a socket"
	}
	return "of an unknown type"
}
