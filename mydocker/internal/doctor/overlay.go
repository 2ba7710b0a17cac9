//chapter:final

package doctor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// checkOverlay: from chapter 5, a container's root is an overlay of image
// layers with a writable layer on top, all kept under mydocker's root
// directory. The kernel must know overlay, and an overlay must mount on the
// file system that holds that directory: overlay cannot use another
// overlay as its upper layer, which is what happens in Docker-in-Docker
// when the container's own root is overlay.
func checkOverlay(c Config) []Result {
	known, err := hasFilesystem(filepath.Join(c.ProcDir, "filesystems"), "overlay")
	if err != nil || !known {
		detail := "the kernel does not list overlay in /proc/filesystems; chapter 5 needs it"
		if err != nil {
			detail = fmt.Sprintf("cannot read /proc/filesystems: %v", err)
		}
		return []Result{{Check: "overlay", Status: Fail, Doc: "overlay", Detail: detail,
			Fix: "load it: modprobe overlay (and add overlay to /etc/modules-load.d/overlay.conf)"}}
	}
	results := []Result{{Check: "overlay", Status: OK, Detail: "the kernel has overlayfs"}}
	return append(results, checkOverlayMount(c))
}

// checkOverlayMount mounts a test overlay in a temporary directory next to
// mydocker's root (in the nearest directory that exists, so that doctor
// does not create the root itself).
func checkOverlayMount(c Config) Result {
	r := Result{Check: "overlay mount", Doc: "overlay-mount"}
	parent := existingAncestor(c.RootDir)
	where := parent
	if t, err := c.FSType(parent); err == nil {
		where = fmt.Sprintf("%s (%s)", parent, fsName(t))
		if t == unix.OVERLAYFS_SUPER_MAGIC {
			where += ", itself an overlay: overlay on overlay, as in Docker-in-Docker"
		}
	}
	dir, err := os.MkdirTemp(parent, ".mydocker-doctor-")
	if err != nil {
		r.Status = Fail
		r.Detail = fmt.Sprintf("cannot make a test directory in %s: %v", where, err)
		r.Fix = overlayFix(c)
		return r
	}
	defer os.RemoveAll(dir)
	if err := c.TryOverlay(dir); err != nil {
		r.Status = Fail
		r.Detail = fmt.Sprintf("a test overlay in %s failed: %v", where, err)
		r.Fix = overlayFix(c)
		return r
	}
	r.Status = OK
	r.Detail = "a test overlay in " + where + " works"
	return r
}

// overlayFix says what to do when the test overlay failed.
func overlayFix(c Config) string {
	if c.EUID() != 0 {
		return "run doctor as root"
	}
	return fmt.Sprintf("keep mydocker's root on ext4, xfs or tmpfs: mount a volume at %s "+
		"(in Docker: docker run -v mydocker:%s ...), or use --root DIR on such a file system", c.RootDir, c.RootDir)
}

// existingAncestor returns dir or its nearest ancestor that is a directory.
func existingAncestor(dir string) string {
	dir = filepath.Clean(dir)
	for {
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			return dir
		}
		dir = up
	}
}

// hasFilesystem reports whether /proc/filesystems lists name, in lines
// such as "nodev\toverlay" or "\text4".
func hasFilesystem(path, name string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) > 0 && fields[len(fields)-1] == name {
			return true, nil
		}
	}
	return false, scanner.Err()
}

// tryOverlay mounts an overlay of dir/lower and dir/upper on dir/merged,
// writes through it and checks that the write landed in the upper layer
// only (copy-up, which chapter 5 relies on to keep images unchanged).
func tryOverlay(dir string) (err error) {
	lower, upper := filepath.Join(dir, "lower"), filepath.Join(dir, "upper")
	work, merged := filepath.Join(dir, "work"), filepath.Join(dir, "merged")
	for _, d := range []string{lower, upper, work, merged} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(lower, "file"), []byte("lower"), 0o600); err != nil {
		return err
	}
	options := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work)
	if err := unix.Mount("overlay", merged, "overlay", 0, options); err != nil {
		return fmt.Errorf("mount -t overlay: %w", err)
	}
	defer func() {
		if uerr := unix.Unmount(merged, 0); uerr != nil {
			// Busy (something looked in): detach it rather than leave it.
			if derr := unix.Unmount(merged, unix.MNT_DETACH); derr != nil && err == nil {
				err = fmt.Errorf("unmount the test overlay %s: %w", merged, derr)
			}
		}
	}()
	if err := os.WriteFile(filepath.Join(merged, "file"), []byte("upper"), 0o600); err != nil {
		return fmt.Errorf("write through the overlay: %w", err)
	}
	inUpper, err := os.ReadFile(filepath.Join(upper, "file"))
	if err != nil || string(inUpper) != "upper" {
		return errors.New("a write through the overlay did not reach the upper layer")
	}
	if inLower, err := os.ReadFile(filepath.Join(lower, "file")); err != nil || string(inLower) != "lower" {
		return errors.New("a write through the overlay changed the lower layer")
	}
	return nil
}
