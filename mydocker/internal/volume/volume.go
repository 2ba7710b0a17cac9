//chapter:volumes

// Package volume keeps named volumes: directories under the mydocker root
// whose data outlives the containers that mount them.
package volume

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mydocker/mydocker/mydocker/internal/rootdir"
)

// Volume is a named volume: <root>/volumes/<name>/_data holds its files.
type Volume struct {
	Name       string    `json:"Name"`
	Driver     string    `json:"Driver"`
	Mountpoint string    `json:"Mountpoint"`
	CreatedAt  time.Time `json:"CreatedAt"`
}

// validName says whether name follows Docker's rule for volume names: a
// letter or digit, then letters, digits and _ . - (checked by hand, as a
// regular expression would be compiled at every start of mydocker).
func validName(name string) bool {
	for i, r := range name {
		alnum := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !alnum && (i == 0 || !strings.ContainsRune("_.-", r)) {
			return false
		}
	}
	return name != ""
}

// ErrNotFound is the error for a volume that does not exist.
var ErrNotFound = errors.New("no such volume")

// CheckName says what is wrong with a volume name, if anything.
func CheckName(name string) error {
	if !validName(name) {
		return fmt.Errorf("invalid volume name %q: use letters, digits and _ . - (starting with a letter or digit); a path on the host must be absolute", name)
	}
	return nil
}

func dir(root, name string) string { return filepath.Join(root, "volumes", name) }

// Create makes a volume, or returns the one of that name. An empty name
// gets a random one, as docker volume create gives.
func Create(root, name string) (*Volume, error) {
	if name == "" {
		var b [32]byte
		rand.Read(b[:])
		name = hex.EncodeToString(b[:])
	}
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if err := rootdir.Make(root); err != nil {
		return nil, err
	}
	// A container's root may write anything into a volume, a setuid-root
	// program too: no other user of the host may reach it. The root is
	// closed to them (rootdir.Mode), and so are volumes/ and each volume,
	// in case someone opens the root. _data is the directory that the
	// container sees at the mount point: it has the usual mode, for the
	// container's users other than root.
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Join(root, "volumes"), 0o700},
		{dir(root, name), 0o700},
		{filepath.Join(dir(root, name), "_data"), 0o755},
	} {
		if err := os.Mkdir(d.path, d.mode); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create volume %s: %w", name, err)
		}
	}
	return Get(root, name)
}

// Get returns the volume of that name.
func Get(root, name string) (*Volume, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	info, err := os.Stat(dir(root, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("volume %s: %w: see mydocker volume ls", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("volume %s: %w", name, err)
	}
	return &Volume{Name: name, Driver: "local", Mountpoint: filepath.Join(dir(root, name), "_data"), CreatedAt: info.ModTime().UTC()}, nil
}

// List returns every volume, sorted by name.
func List(root string) ([]*Volume, error) {
	entries, err := os.ReadDir(filepath.Join(root, "volumes"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var volumes []*Volume
	for _, entry := range entries {
		if v, err := Get(root, entry.Name()); err == nil {
			volumes = append(volumes, v)
		}
	}
	slices.SortFunc(volumes, func(a, b *Volume) int { return strings.Compare(a.Name, b.Name) })
	return volumes, nil
}

// Remove deletes a volume and its data. The caller checks first that no
// container uses it.
func Remove(root, name string) error {
	if _, err := Get(root, name); err != nil {
		return err
	}
	if err := os.RemoveAll(dir(root, name)); err != nil {
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	return nil
}
