package leakcheck

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Where the host state is read from.
const (
	mountinfoPath = "/proc/self/mountinfo"
	cgroupRoot    = "/sys/fs/cgroup"
	netClassPath  = "/sys/class/net"
)

// readMounts reads a mountinfo file (see proc(5)) and returns its mounts in
// file order.
func readMounts(path string) ([]Mount, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("leakcheck: reading mount table: %w", err)
	}
	return parseMountinfo(string(data))
}

// parseMountinfo parses the text of a mountinfo file. Each line reads
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw
//
// with a variable number of optional fields ended by a lone "-".
func parseMountinfo(text string) ([]Mount, error) {
	var mounts []Mount
	for i, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		sep := -1
		for j := 6; j < len(fields); j++ {
			if fields[j] == "-" {
				sep = j
				break
			}
		}
		if len(fields) < 6 || sep < 0 || sep+2 >= len(fields) {
			return nil, fmt.Errorf("leakcheck: mountinfo line %d: malformed: %q", i+1, line)
		}
		mounts = append(mounts, Mount{
			Point:  unescapeOctal(fields[4]),
			FSType: unescapeOctal(fields[sep+1]),
			Source: unescapeOctal(fields[sep+2]),
		})
	}
	return mounts, nil
}

// unescapeOctal undoes the kernel's escaping of space, tab, newline and
// backslash as "\040", "\011", "\012" and "\134".
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isOctal reports whether c is an octal digit.
func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// listCgroups returns the absolute path of every directory below root,
// root itself excluded. Directories that cannot be read, or that vanish
// during the walk, are skipped; a missing root gives an empty list.
// Symbolic links (such as cpu -> cpu,cpuacct on some v1 hosts) are not
// followed, so each cgroup is listed once under its real path.
func listCgroups(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if path != root {
			dirs = append(dirs, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("leakcheck: walking cgroups under %s: %w", root, err)
	}
	return sortedUnique(dirs), nil
}

// listLinks returns the names of the network interfaces in dir, normally
// /sys/class/net. A missing dir gives an empty list.
func listLinks(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("leakcheck: listing network links: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return sortedUnique(names), nil
}

// listFiles returns every path under root, relative to it and
// slash-separated, except those at or below one of ignore (relative to
// root). Directories are listed as well as files; symbolic links are listed
// but not followed. A root that is empty or does not exist gives an empty
// list.
func listFiles(root string, ignore []string) ([]string, error) {
	if root == "" {
		return nil, nil
	}
	// Walk the real directory if root is a symbolic link to one.
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	} else if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else {
		return nil, fmt.Errorf("leakcheck: resolving %s: %w", root, err)
	}
	skip := make([]string, 0, len(ignore))
	for _, ig := range ignore {
		skip = append(skip, filepath.ToSlash(filepath.Clean(ig)))
	}
	ignored := func(rel string) bool {
		for _, s := range skip {
			if s == "." || hasPathPrefix(rel, s) {
				return true
			}
		}
		return false
	}

	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if path == root {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		rel, relErr := filepath.Rel(root, path)
		if relErr != nil {
			return relErr
		}
		rel = filepath.ToSlash(rel)
		if ignored(rel) {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while we walked
			}
			return err
		}
		files = append(files, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("leakcheck: listing files under %s: %w", root, err)
	}
	return sortedUnique(files), nil
}
