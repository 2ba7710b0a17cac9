//chapter:volumes

package container

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountPointsBelow(t *testing.T) {
	mountinfo := `22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 0:30 / /v rw shared:2 - ext4 /dev/vda rw
31 30 0:31 / /v/sub rw - tmpfs tmpfs rw
32 30 0:32 / /v/with\040space rw - tmpfs tmpfs rw
33 22 0:33 / /vv rw - tmpfs tmpfs rw
34 30 0:34 / /v/back\134slash rw - tmpfs tmpfs rw
`
	got, err := mountPointsBelow(strings.NewReader(mountinfo), "/v")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/v", "/v/sub", "/v/with space", `/v/back\slash`}
	if !slices.Equal(got, want) {
		t.Errorf("mountPointsBelow(/v) = %q; want %q", got, want)
	}
	if _, err := mountPointsBelow(strings.NewReader("22 1 0:21\n"), "/v"); err == nil {
		t.Error("a short line gave no error")
	}
}

func TestCheckNotHidden(t *testing.T) {
	for target, hidden := range map[string]bool{
		"/r/proc": true, "/r/dev/shm": true, "/r/sys/x": true,
		"/r/data": false, "/r/devices": false, "/r/srv/proc": false,
	} {
		err := checkNotHidden("/r", target)
		if (err != nil) != hidden {
			t.Errorf("checkNotHidden(/r, %s) = %v; want hidden %v", target, err, hidden)
		}
	}
}

func TestCheckMountPoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkMountPoint(Mount{Type: "bind", Source: dir}, dir); err != nil {
		t.Errorf("an existing mount point: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	err := checkMountPoint(Mount{Type: "bind", Source: dir}, missing)
	if err == nil || !strings.Contains(err.Error(), "(mkdir "+missing+")") {
		t.Errorf("a missing directory: %v; want the hint mkdir", err)
	}
	err = checkMountPoint(Mount{Type: "bind", Source: file}, missing)
	if err == nil || !strings.Contains(err.Error(), "(touch "+missing+")") {
		t.Errorf("a missing file: %v; want the hint touch", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("checkMountPoint created the mount point")
	}
}

// TestMakeReadOnly mounts a tree (a tmpfs with a nosuid,nodev,noexec tmpfs
// below it) in a mount namespace of its own, and makes it read-only with
// mount_setattr and with the remounts of older kernels.
func TestMakeReadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounts need root")
	}
	for name, readOnly := range map[string]func(string) error{
		"mount_setattr": makeReadOnly,
		"remounts":      remountTreeReadOnly,
	} {
		t.Run(name, func(t *testing.T) {
			// The tree is reached through a symbolic link, as a root
			// filesystem given by a path with a link in it is.
			dir := t.TempDir()
			top := filepath.Join(dir, "top")
			sub := filepath.Join(top, "sub")
			link := filepath.Join(dir, "link")
			if err := os.Mkdir(top, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("top", link); err != nil {
				t.Fatal(err)
			}
			errs := make(chan error, 1)
			// A thread of its own in a new mount namespace, so that
			// nothing is mounted on the host; it is never unlocked, so
			// Go ends the thread with the goroutine.
			go func() {
				runtime.LockOSThread()
				errs <- inNewMountNamespace(func() error {
					return readOnlyTree(top, sub, link, readOnly)
				})
			}()
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func inNewMountNamespace(f func() error) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return err
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return err
	}
	return f()
}

// readOnlyTree mounts a tmpfs at top and a nosuid,nodev,noexec one at sub,
// calls readOnly(link), link a symbolic link to top, and checks the flags
// of both.
func readOnlyTree(top, sub, link string, readOnly func(string) error) error {
	if err := unix.Mount("tmpfs", top, "tmpfs", 0, "size=1m"); err != nil {
		return err
	}
	if err := os.Mkdir(sub, 0o755); err != nil {
		return err
	}
	const noSUIDDevExec = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	if err := unix.Mount("tmpfs", sub, "tmpfs", noSUIDDevExec, "size=1m"); err != nil {
		return err
	}
	if err := readOnly(link); err != nil {
		return err
	}
	for path, want := range map[string]int64{top: unix.ST_RDONLY, sub: unix.ST_RDONLY | noSUIDDevExec} {
		var st unix.Statfs_t
		if err := unix.Statfs(path, &st); err != nil {
			return err
		}
		if got := st.Flags & (unix.ST_RDONLY | noSUIDDevExec); got != want {
			return fmt.Errorf("statfs flags of %s: %#x; want %#x (ro 0x1, nosuid 0x2, nodev 0x4, noexec 0x8)", path, got, want)
		}
		if err := os.WriteFile(filepath.Join(path, "f"), nil, 0o644); err == nil {
			return fmt.Errorf("a file could be written in %s", path)
		}
	}
	return nil
}
