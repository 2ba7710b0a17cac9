//chapter:images

package rootdir

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mkfiles makes the files and (with a trailing /) directories under dir.
func mkfiles(t *testing.T, dir string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		name     string
		files    []string
		stranger string // "" when the root may be used
	}{
		{"empty", nil, ""},
		{"marked, whatever it holds", []string{MarkName, "notes.txt"}, ""},
		{"a store of chapters 01 to 04", []string{"containers/"}, ""},
		{"a store of chapter 06", []string{"containers/" + hex64 + "/", "images/oci-layout", "images/index.json",
			"images/index.lookup", "images/blobs/sha256/" + hex64, "images/blobs/sha256/.tmp-1", "layers/" + hex64 + "/fs/",
			"layers/.unpack-2/", "volumes/data/_data/etc/passwd"}, ""},
		{"a user's directory that looks like a store", []string{"layers/.git/", "layers/mydata/", "images/blobs/sha256/"}, "layers/.git"},
		{"a file of the user's", []string{"containers/", "notes.txt"}, "notes.txt"},
		{"a file in layers", []string{"layers/notes.txt"}, "layers/notes.txt"},
		{"a file beside a volume's data", []string{"volumes/data/_data/", "volumes/data/secret"}, "volumes/data/secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mkfiles(t, dir, tt.files...)
			err := Check(dir)
			if tt.stranger == "" && err != nil {
				t.Errorf("Check: %v", err)
			}
			if tt.stranger != "" && (err == nil || !strings.Contains(err.Error(), "holds "+filepath.Join(dir, tt.stranger)+",")) {
				t.Errorf("Check: %v; want a refusal that names %s", err, tt.stranger)
			}
		})
	}
}

// TestMake: a new root, and an empty or older one, get the mark and mode
// 0700 whatever the umask; a foreign directory is refused and unchanged.
func TestMake(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	parent := t.TempDir()
	for _, dir := range []string{filepath.Join(parent, "new", "root"), filepath.Join(parent, "empty"), filepath.Join(parent, "older")} {
		switch filepath.Base(dir) {
		case "older":
			mkfiles(t, dir, "containers/")
		case "empty":
			mkfiles(t, dir, "./")
		}
		if filepath.Base(dir) != "root" {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := Make(dir); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != Mode {
			t.Errorf("%s has mode %o, want %o", dir, info.Mode().Perm(), Mode)
		}
		if _, err := os.Stat(filepath.Join(dir, MarkName)); err != nil {
			t.Errorf("%s has no mark: %v", dir, err)
		}
	}
	foreign := filepath.Join(parent, "foreign")
	mkfiles(t, foreign, "notes.txt")
	if err := Make(foreign); err == nil {
		t.Error("Make of a directory with the user's files succeeded")
	}
	entries, _ := os.ReadDir(foreign)
	if len(entries) != 1 {
		t.Errorf("Make changed a foreign directory: %v", entries)
	}
}
