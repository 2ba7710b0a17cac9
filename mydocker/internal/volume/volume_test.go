//chapter:volumes

package volume

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCreateListRemove(t *testing.T) {
	root := t.TempDir()
	v, err := Create(root, "data")
	if err != nil {
		t.Fatal(err)
	}
	if v.Mountpoint != filepath.Join(root, "volumes", "data", "_data") {
		t.Errorf("mount point %s", v.Mountpoint)
	}
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "kept"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Creating it again returns the same volume, data and all.
	if _, err := Create(root, "data"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(v.Mountpoint, "kept")); err != nil {
		t.Errorf("second create lost the data: %v", err)
	}
	random, err := Create(root, "")
	if err != nil || len(random.Name) != 64 {
		t.Errorf("create without a name = %+v, %v; want a random 64-digit name", random, err)
	}
	list, err := List(root)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %d volumes, %v; want 2", len(list), err)
	}
	if err := Remove(root, "data"); err != nil {
		t.Fatal(err)
	}
	if _, err := Get(root, "data"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove: %v; want ErrNotFound", err)
	}
}

func TestCheckName(t *testing.T) {
	for _, good := range []string{"data", "a1", "my_vol.2-x"} {
		if err := CheckName(good); err != nil {
			t.Errorf("CheckName(%q): %v", good, err)
		}
	}
	for _, bad := range []string{"", "a/b", "../x", ".hidden", "-x", "a b"} {
		if err := CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted", bad)
		}
	}
}

// TestCreateKeepsOtherUsersOut: a container may plant a setuid program in
// a volume, so no other user of the host may reach into one: the root
// (made by the volume's creation when it is the first thing made there),
// volumes/ and the volume are 0700; _data, the container's view, is not.
func TestCreateKeepsOtherUsersOut(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	v, err := Create(root, "data")
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]os.FileMode{
		root: 0o700, filepath.Join(root, "volumes"): 0o700, filepath.Join(root, "volumes", "data"): 0o700, v.Mountpoint: 0o755,
	} {
		info, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", dir, got, want)
		}
	}
}
