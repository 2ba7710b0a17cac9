//chapter:images

package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mtime is the modification time of every entry the tests build.
var mtime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// entry is one tar entry to build: a header and, for a regular file, its
// contents.
type entry struct {
	hdr  tar.Header
	body string
}

// header returns a header owned by the user running the tests, so that
// Unpack's chown succeeds without root.
func header(name string, typeflag byte, mode int64) tar.Header {
	return tar.Header{
		Name:     name,
		Typeflag: typeflag,
		Mode:     mode,
		Uid:      os.Getuid(),
		Gid:      os.Getgid(),
		ModTime:  mtime,
	}
}

func file(name string, mode int64, body string) entry {
	return entry{hdr: header(name, tar.TypeReg, mode), body: body}
}

func dir(name string, mode int64) entry {
	return entry{hdr: header(name, tar.TypeDir, mode)}
}

func symlink(name, target string) entry {
	e := entry{hdr: header(name, tar.TypeSymlink, 0o777)}
	e.hdr.Linkname = target
	return e
}

func hardlink(name, target string) entry {
	e := entry{hdr: header(name, tar.TypeLink, 0o644)}
	e.hdr.Linkname = target
	return e
}

func fifo(name string) entry {
	return entry{hdr: header(name, tar.TypeFifo, 0o620)}
}

func device(name string, typeflag byte, major, minor int64) entry {
	e := entry{hdr: header(name, typeflag, 0o660)}
	e.hdr.Devmajor, e.hdr.Devminor = major, minor
	return e
}

// withXattr returns e carrying the extended attribute name=value.
func withXattr(e entry, name, value string) entry {
	e.hdr.PAXRecords = map[string]string{"SCHILY.xattr." + name: value}
	return e
}

// owned returns e owned by uid:gid.
func owned(e entry, uid, gid int) entry {
	e.hdr.Uid, e.hdr.Gid = uid, gid
	return e
}

// buildTar writes entries as a tar stream, in memory.
func buildTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatalf("write tar header %s: %v", hdr.Name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatalf("write tar entry %s: %v", hdr.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("close tar: %v", err)
	}
	return buf.Bytes()
}

// requireRoot skips a test that needs root, or fails it when MYDOCKER_E2E=1
// says the full suite must run.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("MYDOCKER_E2E") == "1" {
		t.Fatalf("needs root to %s, and MYDOCKER_E2E=1 forbids skipping", why)
	}
	t.Skipf("needs root to %s", why)
}

// sandbox is a parent directory holding the layer directory to unpack into
// and the targets an escape would aim at: a sentinel file and an "outside"
// directory with a secret.
type sandbox struct {
	parent, layer string
}

func newSandbox(t *testing.T) sandbox {
	t.Helper()
	s := sandbox{parent: t.TempDir()}
	s.layer = filepath.Join(s.parent, "layer")
	for _, d := range []string{s.layer, filepath.Join(s.parent, "outside")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range map[string]string{"sentinel": "untouched\n", "outside/secret": "secret\n"} {
		if err := os.WriteFile(filepath.Join(s.parent, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// outsideLayer describes everything an escape could change: the sandbox
// outside the layer directory, the host's root directory and /etc/passwd.
func (s sandbox) outsideLayer(t *testing.T) map[string]string {
	t.Helper()
	seen := map[string]string{}
	err := filepath.WalkDir(s.parent, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == s.layer {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := fmt.Sprintf("%v %d", info.Mode(), info.Size())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			desc += " " + string(data)
		}
		seen[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	hostRoot, err := os.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range hostRoot {
		seen["/"+d.Name()] = "present"
	}
	if info, err := os.Lstat("/etc/passwd"); err == nil {
		seen["/etc/passwd"] = fmt.Sprintf("%v %d %v", info.Mode(), info.Size(), info.ModTime())
	}
	return seen
}

// readFile returns the contents of the layer's file name.
func (s sandbox) readFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.layer, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// wantFile fails t unless the layer's file name holds want.
func (s sandbox) wantFile(t *testing.T, name, want string) {
	t.Helper()
	if got := s.readFile(t, name); got != want {
		t.Errorf("layer's %s = %q, want %q", name, got, want)
	}
}

// lstat returns what is at the layer's name.
func (s sandbox) lstat(t *testing.T, name string) fs.FileInfo {
	t.Helper()
	info, err := os.Lstat(filepath.Join(s.layer, name))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// statT returns the kernel's view of the layer's name.
func (s sandbox) statT(t *testing.T, name string) *syscall.Stat_t {
	t.Helper()
	return s.lstat(t, name).Sys().(*syscall.Stat_t)
}

func TestUnpackTree(t *testing.T) {
	s := newSandbox(t)
	entries := []entry{
		dir("./", 0o755),
		dir("bin/", 0o755),
		file("bin/sh", 0o755, "#!shell\n"),
		file("bin/su", 0o4755, "setuid\n"),
		hardlink("bin/bash", "bin/sh"),
		dir("etc/", 0o755),
		file("etc/hostname", 0o644, "first\n"),
		symlink("etc/localtime", "/usr/share/zoneinfo/UTC"),
		withXattr(file("etc/xattr", 0o644, "x"), "user.mydocker", "yes"),
		// Linux refuses user.* attributes on anything but files and
		// directories: they are left out, and the entries made.
		withXattr(symlink("etc/xattr-link", "xattr"), "user.mydocker", "yes"),
		withXattr(fifo("etc/xattr-fifo"), "user.mydocker", "yes"),
		dir("root/", 0o700),
		dir("tmp/", 0o1777),
		fifo("run/initctl"), // run/ is not in the tar: created as tar does
		// Later entries replace earlier ones: a file over a file, and a
		// directory over a directory, which keeps its contents.
		file("etc/hostname", 0o600, "second\n"),
		dir("etc/", 0o750),
		// A file over a directory replaces it, and everything in it.
		dir("old/", 0o755),
		dir("old/sub/", 0o755),
		file("old", 0o644, "now a file\n"),
	}
	if os.Geteuid() == 0 {
		entries = append(entries,
			device("dev/null", tar.TypeChar, 1, 3),
			device("dev/loop0", tar.TypeBlock, 7, 0))
	}
	stats, err := Unpack(bytes.NewReader(buildTar(t, entries...)), s.layer)
	if err != nil {
		t.Fatal(err)
	}

	wantStats := Stats{Entries: len(entries), Files: 6, Bytes: int64(len("#!shell\nsetuid\nfirst\nxsecond\nnow a file\n")), Ended: true}
	if stats != wantStats {
		t.Errorf("stats = %+v, want %+v", stats, wantStats)
	}
	modes := map[string]fs.FileMode{
		".":            fs.ModeDir | 0o755,
		"bin/sh":       0o755,
		"bin/su":       fs.ModeSetuid | 0o755,
		"etc":          fs.ModeDir | 0o750,
		"etc/hostname": 0o600,
		"root":         fs.ModeDir | 0o700,
		"tmp":          fs.ModeDir | fs.ModeSticky | 0o777,
		"run/initctl":  fs.ModeNamedPipe | 0o620,
		"run":          fs.ModeDir | 0o755,
		"old":          0o644,
	}
	modes["etc/xattr-link"] = fs.ModeSymlink | 0o777
	modes["etc/xattr-fifo"] = fs.ModeNamedPipe | 0o620
	if os.Geteuid() == 0 {
		modes["dev/null"] = fs.ModeDevice | fs.ModeCharDevice | 0o660
		modes["dev/loop0"] = fs.ModeDevice | 0o660
	}
	for name, want := range modes {
		if got := s.lstat(t, name).Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", name, got, want)
		}
	}
	if got := s.readFile(t, "etc/hostname"); got != "second\n" {
		t.Errorf("etc/hostname = %q, want the later entry's %q", got, "second\n")
	}
	if got, err := os.Readlink(filepath.Join(s.layer, "etc/localtime")); err != nil || got != "/usr/share/zoneinfo/UTC" {
		t.Errorf("etc/localtime links to %q (%v), want /usr/share/zoneinfo/UTC", got, err)
	}
	if !os.SameFile(s.lstat(t, "bin/sh"), s.lstat(t, "bin/bash")) {
		t.Error("bin/bash is not a hard link to bin/sh")
	}
	if os.Geteuid() == 0 {
		if rdev := s.statT(t, "dev/null").Rdev; unix.Major(rdev) != 1 || unix.Minor(rdev) != 3 {
			t.Errorf("dev/null is device %d:%d, want 1:3", unix.Major(rdev), unix.Minor(rdev))
		}
	}
	// Directories too: their times are set after their contents are written.
	for _, name := range []string{".", "bin", "bin/su", "etc", "etc/hostname", "etc/localtime", "run/initctl"} {
		if got := s.lstat(t, name).ModTime(); !got.Equal(mtime) {
			t.Errorf("mtime of %s = %v, want %v", name, got, mtime)
		}
	}
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(filepath.Join(s.layer, "etc/xattr"), "user.mydocker", buf)
	switch {
	case errors.Is(err, unix.EOPNOTSUPP):
		t.Log("file system has no user xattrs; not checked")
	case err != nil:
		t.Errorf("read xattr of etc/xattr: %v", err)
	case string(buf[:n]) != "yes":
		t.Errorf("xattr user.mydocker of etc/xattr = %q, want %q", buf[:n], "yes")
	}
}

func TestUnpackOwnership(t *testing.T) {
	requireRoot(t, "chown files to other users")
	s := newSandbox(t)
	_, err := Unpack(bytes.NewReader(buildTar(t,
		owned(dir("home/", 0o755), 0, 0),
		owned(dir("home/user/", 0o700), 1000, 1000),
		owned(file("home/user/su", 0o4755, "setuid"), 1234, 5678),
		owned(file("home/user/sg", 0o2755, "setgid"), 1234, 5678),
		owned(symlink("home/user/link", "su"), 7, 8),
		owned(fifo("home/user/fifo"), 9, 10),
	)), s.layer)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]uint32{
		"home/user":      {1000, 1000},
		"home/user/su":   {1234, 5678},
		"home/user/sg":   {1234, 5678},
		"home/user/link": {7, 8},
		"home/user/fifo": {9, 10},
	} {
		st := s.statT(t, name)
		if got := [2]uint32{st.Uid, st.Gid}; got != want {
			t.Errorf("owner of %s = %d:%d, want %d:%d", name, got[0], got[1], want[0], want[1])
		}
	}
	// chown clears setuid and setgid; Unpack sets the mode after it.
	for name, want := range map[string]fs.FileMode{"home/user/su": fs.ModeSetuid | 0o755, "home/user/sg": fs.ModeSetgid | 0o755} {
		if got := s.lstat(t, name).Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", name, got, want)
		}
	}
}

// TestUnpackHostile unpacks tars that try to write outside the layer. Each
// attack aims at the sandbox's files, never the host's, so that a broken
// Unpack, run as root, damages nothing but the test's own directory.
func TestUnpackHostile(t *testing.T) {
	tests := []struct {
		name    string
		root    string // why the case needs root, if it does
		entries func(s sandbox) []entry
		wantErr string // a part of the error; "" if the tar must unpack
		check   func(t *testing.T, s sandbox)
	}{
		{
			name:    "dot-dot name",
			entries: func(sandbox) []entry { return []entry{file("../sentinel", 0o644, "overwritten\n")} },
			wantErr: `entry "../sentinel": name "../sentinel" climbs out of the layer`,
		},
		{
			name: "dot-dot in the middle of a name",
			entries: func(sandbox) []entry {
				return []entry{dir("a/", 0o755), file("a/../../sentinel", 0o644, "overwritten\n")}
			},
			wantErr: `entry "a/../../sentinel": name "a/../../sentinel" climbs out`,
		},
		{
			// Unpack's choice, tar's too: a leading "/" is dropped, so an
			// absolute name such as /etc/passwd means the layer's own.
			name: "absolute name lands inside the layer",
			entries: func(s sandbox) []entry {
				return []entry{file(filepath.Join(s.parent, "sentinel"), 0o644, "overwritten\n")}
			},
			check: func(t *testing.T, s sandbox) { s.wantFile(t, filepath.Join(s.parent, "sentinel"), "overwritten\n") },
		},
		{
			name: "write through a symlink to /",
			entries: func(s sandbox) []entry {
				return []entry{symlink("evil", "/"), file(filepath.Join("evil", s.parent, "sentinel"), 0o644, "overwritten\n")}
			},
			check: func(t *testing.T, s sandbox) {
				s.wantFile(t, filepath.Join(s.parent, "sentinel"), "overwritten\n")
				if s.lstat(t, "evil").Mode()&fs.ModeSymlink == 0 {
					t.Error("evil is no longer a symlink")
				}
			},
		},
		{
			name: "write through a symlink to ..",
			entries: func(sandbox) []entry {
				return []entry{symlink("evil", ".."), file("evil/sentinel", 0o644, "overwritten\n")}
			},
			check: func(t *testing.T, s sandbox) { s.wantFile(t, "sentinel", "overwritten\n") },
		},
		{
			name: "write through a symlink to ../..",
			entries: func(sandbox) []entry {
				return []entry{dir("a/", 0o755), symlink("a/evil", "../.."), file("a/evil/sentinel", 0o644, "overwritten\n")}
			},
			check: func(t *testing.T, s sandbox) { s.wantFile(t, "sentinel", "overwritten\n") },
		},
		{
			name: "write through an absolute symlink to the directory above",
			entries: func(s sandbox) []entry {
				return []entry{symlink("evil", s.parent), file("evil/sentinel", 0o644, "overwritten\n")}
			},
			check: func(t *testing.T, s sandbox) { s.wantFile(t, filepath.Join(s.parent, "sentinel"), "overwritten\n") },
		},
		{
			name: "write through a chain of symlinks",
			entries: func(sandbox) []entry {
				return []entry{
					dir("d/", 0o755), symlink("d/a", "b"), symlink("d/b", "../.."),
					file("d/a/sentinel", 0o644, "overwritten\n"),
				}
			},
			check: func(t *testing.T, s sandbox) { s.wantFile(t, "sentinel", "overwritten\n") },
		},
		{
			name: "directory replaced by a symlink, then written through",
			entries: func(s sandbox) []entry {
				return []entry{
					dir("a/", 0o755), file("a/x", 0o644, "x"),
					symlink("a", s.parent), file("a/sentinel", 0o644, "overwritten\n"),
				}
			},
			check: func(t *testing.T, s sandbox) { s.wantFile(t, filepath.Join(s.parent, "sentinel"), "overwritten\n") },
		},
		{
			// Making the link changes nothing; a later write through it would.
			name:    "hard link to /etc/passwd",
			entries: func(sandbox) []entry { return []entry{hardlink("pw", "/etc/passwd")} },
			wantErr: `entry "pw": hard link target "/etc/passwd" is not in the layer`,
		},
		{
			name:    "hard link to ../outside",
			entries: func(sandbox) []entry { return []entry{hardlink("secret", "../outside/secret")} },
			wantErr: `entry "secret": hard link target: name "../outside/secret" climbs out`,
		},
		{
			name: "hard link through a symlink to the directory above",
			entries: func(s sandbox) []entry {
				return []entry{symlink("evil", s.parent), hardlink("secret", "evil/outside/secret")}
			},
			wantErr: `entry "secret": hard link target "evil/outside/secret" is not in the layer`,
		},
		{
			name: "write through a hard link to a symlink to a file outside",
			entries: func(s sandbox) []entry {
				return []entry{
					symlink("evil", filepath.Join(s.parent, "outside/secret")), hardlink("secret", "evil"),
					file("secret", 0o644, "overwritten\n"),
				}
			},
			check: func(t *testing.T, s sandbox) { s.wantFile(t, "secret", "overwritten\n") },
		},
		{
			name:    "hard link to a directory",
			entries: func(sandbox) []entry { return []entry{dir("d/", 0o755), hardlink("loop", "d")} },
			wantErr: `entry "loop": hard link target "d" is a directory`,
		},
		{
			name: "file replaces a symlink of its name",
			entries: func(s sandbox) []entry {
				return []entry{symlink("f", filepath.Join(s.parent, "outside/secret")), file("f", 0o644, "new\n")}
			},
			check: func(t *testing.T, s sandbox) {
				if info := s.lstat(t, "f"); !info.Mode().IsRegular() {
					t.Errorf("f is %v, want a regular file", info.Mode())
				}
				if got := s.readFile(t, "f"); got != "new\n" {
					t.Errorf("f = %q, want %q", got, "new\n")
				}
			},
		},
		{
			name: "directory replaces a symlink of its name",
			entries: func(s sandbox) []entry {
				return []entry{symlink("d", filepath.Join(s.parent, "outside")), dir("d/", 0o755), file("d/x", 0o644, "x")}
			},
			check: func(t *testing.T, s sandbox) {
				if !s.lstat(t, "d").IsDir() {
					t.Error("d is not a directory")
				}
				s.lstat(t, "d/x")
			},
		},
		{
			name: "file replaces a hard link of its name",
			entries: func(sandbox) []entry {
				return []entry{file("y", 0o644, "original\n"), hardlink("x", "y"), file("x", 0o644, "new\n")}
			},
			check: func(t *testing.T, s sandbox) {
				if got := s.readFile(t, "y"); got != "original\n" {
					t.Errorf("y = %q, want %q: the write went through the hard link", got, "original\n")
				}
			},
		},
		{
			name: "whiteout through a symlink to the directory above",
			root: "create whiteout devices",
			entries: func(s sandbox) []entry {
				return []entry{symlink("evil", s.parent), file("evil/.wh.sentinel", 0o644, "")}
			},
			check: func(t *testing.T, s sandbox) {
				if info := s.lstat(t, filepath.Join(s.parent, "sentinel")); info.Mode()&fs.ModeCharDevice == 0 {
					t.Errorf("layer's copy of the parent's sentinel is %v, want a whiteout", info.Mode())
				}
			},
		},
		{
			name: "opaque marker through a symlink to the directory above",
			root: "set trusted.* xattrs",
			entries: func(s sandbox) []entry {
				return []entry{symlink("evil", s.parent), file("evil/outside/.wh..wh..opq", 0o644, "")}
			},
			check: func(t *testing.T, s sandbox) {
				buf := make([]byte, 8)
				if _, err := unix.Lgetxattr(filepath.Join(s.parent, "outside"), opaqueXattr, buf); !errors.Is(err, unix.ENODATA) {
					t.Errorf("the sandbox's own outside directory has %s (%v), want none", opaqueXattr, err)
				}
				if _, err := unix.Lgetxattr(filepath.Join(s.layer, s.parent, "outside"), opaqueXattr, buf); err != nil {
					t.Errorf("layer's copy of outside: %v, want it marked opaque", err)
				}
			},
		},
		{
			name:    "file stands for the root",
			entries: func(sandbox) []entry { return []entry{file(".", 0o644, "x")} },
			wantErr: `only a directory can stand for the layer's root`,
		},
		{
			name:    "whiteout of the parent directory",
			entries: func(sandbox) []entry { return []entry{dir("a/", 0o755), file("a/.wh...", 0o644, "")} },
			wantErr: `entry "a/.wh...": whiteout ".wh..." names no file`,
		},
		{
			name: "overlay xattr from the layer",
			entries: func(sandbox) []entry {
				return []entry{withXattr(dir("d/", 0o755), "trusted.overlay.redirect", "/etc")}
			},
			wantErr: `extended attribute trusted.overlay.redirect belongs to overlay`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.root != "" {
				requireRoot(t, tt.root)
			}
			s := newSandbox(t)
			before := s.outsideLayer(t)
			_, err := Unpack(bytes.NewReader(buildTar(t, tt.entries(s)...)), s.layer)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Unpack: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Unpack succeeded, want an error containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Fatalf("Unpack: %v\nwant an error containing %q", err, tt.wantErr)
			}
			if after := s.outsideLayer(t); !reflect.DeepEqual(before, after) {
				t.Errorf("Unpack changed files outside the layer:\nbefore %v\nafter  %v", before, after)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestUnpackWhiteouts(t *testing.T) {
	requireRoot(t, "create whiteout devices and trusted.* xattrs")
	s := newSandbox(t)
	stats, err := Unpack(bytes.NewReader(buildTar(t,
		file(".wh.gone", 0o644, ""),
		dir("a/", 0o755),
		file("a/.wh.old", 0o644, ""),
		file("b/x", 0o644, "replaced by its whiteout"),
		file("b/.wh.x", 0o644, ""),
		file("c/.wh..wh..opq", 0o644, ""), // c is not in the tar: created
		dir("d/", 0o755),
		file("d/.wh..wh..opq", 0o644, ""),
		file("d/new", 0o644, "new"),
		dir(".wh..wh.plnk/", 0o700), // AUFS bookkeeping: skipped
		file(".wh..wh.plnk/123.456", 0o644, "aufs"),
	)), s.layer)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Entries != 11 {
		t.Errorf("stats.Entries = %d, want 11", stats.Entries)
	}
	for _, name := range []string{"gone", "a/old", "b/x"} {
		info := s.lstat(t, name)
		rdev := s.statT(t, name).Rdev
		if info.Mode()&fs.ModeCharDevice == 0 || rdev != 0 {
			t.Errorf("%s is %v, device %d:%d; want overlay's whiteout, a character device 0/0", name, info.Mode(), unix.Major(rdev), unix.Minor(rdev))
		}
	}
	for _, name := range []string{"c", "d"} {
		buf := make([]byte, 8)
		n, err := unix.Lgetxattr(filepath.Join(s.layer, name), "trusted.overlay.opaque", buf)
		if err != nil || string(buf[:n]) != "y" {
			t.Errorf("%s: trusted.overlay.opaque = %q (%v), want %q", name, buf[:n], err, "y")
		}
	}
	err = filepath.WalkDir(s.layer, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".wh.") {
			t.Errorf("%s left in the layer", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("overlay hides what they delete", func(t *testing.T) {
		lower := filepath.Join(s.parent, "lower")
		for _, name := range []string{"gone", "a/old", "a/kept", "b/x", "c/y", "d/z", "e/f"} {
			path := filepath.Join(lower, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		merged := filepath.Join(s.parent, "merged")
		if err := os.Mkdir(merged, 0o755); err != nil {
			t.Fatal(err)
		}
		// Two lower layers and no upper make a read-only overlay.
		if err := unix.Mount("overlay", merged, "overlay", unix.MS_RDONLY, "lowerdir="+s.layer+":"+lower); err != nil {
			if os.Getenv("MYDOCKER_E2E") == "1" {
				t.Fatalf("mount overlay: %v", err)
			}
			t.Skipf("cannot mount overlay here: %v", err)
		}
		t.Cleanup(func() { unix.Unmount(merged, unix.MNT_DETACH) })
		for name, want := range map[string]bool{
			"gone": false, "a/old": false, "a/kept": true, "b/x": false,
			"c/y": false, "d/z": false, "d/new": true, "e/f": true,
		} {
			_, err := os.Lstat(filepath.Join(merged, name))
			if got := err == nil; got != want {
				t.Errorf("%s visible in the overlay = %v, want %v (%v)", name, got, want, err)
			}
		}
	})
}

func TestUnpackBrokenStreams(t *testing.T) {
	valid := buildTar(t, file("big", 0o644, strings.Repeat("x", 4096)), file("small", 0o644, "x"))
	corrupt := bytes.Clone(valid)
	corrupt[0] ^= 0xff // the name changes and the checksum no longer matches
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"truncated in a file's contents", valid[:512+1000], ErrCutShort},
		{"truncated in a header", valid[:512+4096+100], ErrCutShort},
		{"corrupt header", corrupt, tar.ErrHeader},
		// A gzip stream cut after the tar's end, in its checksum.
		{"truncated after the end", nil, ErrCutShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tt.data)
			if tt.data == nil {
				r = io.MultiReader(bytes.NewReader(valid), failingReader{io.ErrUnexpectedEOF})
			}
			_, err := Unpack(r, t.TempDir())
			if !errors.Is(err, tt.want) {
				t.Errorf("Unpack: %v, want %v", err, tt.want)
			}
			if errors.Is(err, ErrCutShort) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("Unpack: %v, want io.ErrUnexpectedEOF in the chain too", err)
			}
		})
	}
}

// failingReader fails every read with its error.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// TestUnpackEndOfArchive: Go's tar reader takes an archive cut at an
// entry's boundary as whole; Unpack says whether the end-of-archive marker
// was there, and CheckEnded refuses an archive without it.
func TestUnpackEndOfArchive(t *testing.T) {
	// buildTar ends with the marker, two blocks of zeros, as tar.Writer
	// writes it.
	valid := buildTar(t, file("a", 0o644, "abc"), withXattr(file("b", 0o644, "b"), "user.x", "y"))
	marker := len(valid) - 2*blockSize
	zeros := buildTar(t, file("zeros", 0o644, strings.Repeat("\x00", 4096)))
	tests := []struct {
		name    string
		data    []byte
		entries int
		want    error // CheckEnded's; nil if the archive is whole
	}{
		{"the marker", valid, 2, nil},
		{"one block of zeros, as GNU tar accepts", valid[:marker+blockSize], 2, nil},
		{"padded to a record of 10 KiB, as GNU tar writes", append(bytes.Clone(valid), make([]byte, 10240)...), 2, nil},
		{"only the marker", make([]byte, 2*blockSize), 0, nil},
		{"no marker", valid[:marker], 2, ErrCutShort},
		{"no marker after contents of zeros", zeros[:blockSize+4096], 1, ErrCutShort},
		{"cut after the first entry", valid[:2*blockSize], 1, ErrCutShort},
		// Go's tar reader takes a stream that stops in an entry's
		// padding as ended.
		{"cut after a file's contents, before its padding", valid[:blockSize+3], 1, ErrCutShort},
		{"cut in a file's padding", valid[:blockSize+100], 1, ErrCutShort},
		// b's PAX header and its records: two blocks, as long as the
		// marker, but not zeros.
		{"cut after a PAX header", valid[:4*blockSize], 1, ErrCutShort},
		{"empty", nil, 0, ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats, err := Unpack(bytes.NewReader(tt.data), t.TempDir())
			if err != nil {
				t.Fatalf("Unpack: %v", err)
			}
			if stats.Entries != tt.entries {
				t.Errorf("%d entries, want %d", stats.Entries, tt.entries)
			}
			if stats.Ended != (tt.want == nil) {
				t.Errorf("Ended = %v, want %v", stats.Ended, tt.want == nil)
			}
			if err := stats.CheckEnded(); !errors.Is(err, tt.want) {
				t.Errorf("CheckEnded: %v, want %v", err, tt.want)
			}
		})
	}
	stats := Stats{Entries: 6}
	if err := stats.CheckEnded(); err == nil || !strings.Contains(err.Error(), "stops after 6 entries, without tar's end-of-archive marker") {
		t.Errorf("CheckEnded of an archive cut after 6 entries: %v, want one that counts them and names the marker", err)
	}
}

func TestUnpackNeedsEmptyDirectory(t *testing.T) {
	layer := t.TempDir()
	if err := os.WriteFile(filepath.Join(layer, "old"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tarball := buildTar(t, file("new", 0o644, "x"))
	if _, err := Unpack(bytes.NewReader(tarball), layer); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Unpack into a non-empty directory: %v, want a \"not empty\" error", err)
	}
	if _, err := Unpack(bytes.NewReader(tarball), filepath.Join(layer, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Unpack into a missing directory: %v, want fs.ErrNotExist", err)
	}
}
