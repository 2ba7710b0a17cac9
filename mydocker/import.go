//chapter:5

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

func newImportCommand(global *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|- [REPOSITORY[:TAG]]",
		Short: "Make an image of one layer from a root filesystem tarball",
		Example: `  mydocker import build/images/busybox/busybox.tar busybox
  gzip -c rootfs.tar | mydocker import - myimage:1.0`,
		Args:                  requireArgs(1, "the tarball to import (- for standard input) and, optionally, a name"),
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 2 {
				return fmt.Errorf("import takes a file and a name, not %d arguments", len(args))
			}
			var names []string
			if len(args) == 2 {
				ref, err := image.ParseReference(args[1])
				if err != nil {
					return err
				}
				names = []string{image.FullName(ref)}
			}
			store, err := image.Open(global.root)
			if err != nil {
				return err
			}
			img, err := importTarball(store, global.root, args[0], names)
			if err != nil {
				return err
			}
			fmt.Println(img.ID)
			return nil
		},
	}
}

// importTarball stores the tarball (plain or gzip-compressed) at path, or
// on standard input for "-", as an image of one layer.
func importTarball(store *image.Store, root, path string, names []string) (*image.Image, error) {
	// The tarball is read more than once (to hash it, then to unpack it),
	// so standard input is first copied to a file.
	if path == "-" {
		tmp, err := os.CreateTemp(filepath.Join(root, "images"), ".tmp-import-")
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		defer os.Remove(tmp.Name())
		defer tmp.Close()
		if _, err := io.Copy(tmp, os.Stdin); err != nil {
			return nil, fmt.Errorf("import: read standard input: %w", err)
		}
		path = tmp.Name()
	} else if info, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	} else if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("import: %s is not a file: give a tarball of a root filesystem", path)
	}
	layer, err := tarball.LayerFromFile(path, tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	config, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	config = config.DeepCopy()
	config.OS, config.Architecture = "linux", runtime.GOARCH
	config.Created = v1.Time{Time: time.Now().UTC()}
	config.History = []v1.History{{Created: config.Created, CreatedBy: "mydocker import", Comment: "imported from " + filepath.Base(path)}}
	if img, err = mutate.ConfigFile(img, config); err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	added, err := store.Add(img, names, func(v1.Hash, string, int64, int64) {})
	if err != nil {
		return nil, fmt.Errorf("import %s: not a valid root filesystem tarball: %w", path, err)
	}
	return added, nil
}
