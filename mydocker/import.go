//chapter:images

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

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
			// Ctrl-C or SIGTERM stops the import, which then removes what
			// it wrote. stop makes the next one end mydocker at once, as an
			// uncaught signal does; the next import, pull or run removes what
			// that leaves.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
			defer stop()
			context.AfterFunc(ctx, stop)
			store, err := image.Open(global.root)
			if err != nil {
				return err
			}
			img, err := importTarball(ctx, store, args[0], names)
			if err != nil {
				return err
			}
			fmt.Println(img.ID)
			return nil
		},
	}
}

// importTarball stores the tarball (plain or gzip-compressed) at path, or
// on standard input for "-", as an image of one layer, unless ctx is
// cancelled first.
func importTarball(ctx context.Context, store *image.Store, path string, names []string) (*image.Image, error) {
	var in io.Reader = os.Stdin
	comment := "imported from standard input"
	if path != "-" {
		info, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("import: %s is not a file: give a tarball of a root filesystem", path)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in, comment = f, "imported from "+filepath.Base(path)
	}
	added, err := store.Import(ctx, in, comment, names)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("import %s: interrupted: nothing was stored", path)
	}
	if err != nil {
		// A broken tarball says "not a valid root filesystem tarball"
		// (image.ErrNotTarball); a full disk does not.
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	return added, nil
}
