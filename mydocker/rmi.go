//chapter:images

package main

import (
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/container"
	"github.com/mydocker/mydocker/mydocker/internal/image"
)

func newRmiCommand(global *globalOptions) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove images",
		Example: `  mydocker rmi busybox
  mydocker rmi -f 3f57d9401f8d`,
		Args:                  requireArgs(1, "the image to remove"),
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Removing from a store that does not exist finds no image,
			// and makes no store.
			store := image.OpenExisting(global.root)
			for _, arg := range args {
				if err := removeImage(global, store, arg, force); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove the image even if a container uses it")
	return cmd
}

// removeImage removes one image, unless a living container uses it and
// force is not set. With force, the layers that containers use stay on
// disk until the next removal after they have exited. (A container that is
// starting at this very moment is not living yet, and its image goes even
// without force; but its layers stay, as it claimed them.)
func removeImage(global *globalOptions, store *image.Store, arg string, force bool) error {
	img, err := store.Lookup(arg)
	if err != nil {
		return err
	}
	living, err := container.Living(global.root)
	if err != nil {
		return err
	}
	// Taking one of several names off an image deletes nothing: no container minds.
	untagOnly := false
	if ref, err := image.ParseReference(arg); err == nil && len(img.Names) > 1 {
		untagOnly = slices.Contains(img.Names, image.FullName(ref))
	}
	for _, c := range living {
		if c.Spec.Image == string(img.ID) && !force && !untagOnly {
			return fmt.Errorf("image %s is used by the running container %s: stop it first, or use rmi -f", arg, container.ShortID(c.ID))
		}
	}
	// The layers of the containers that run stay: each run claims them.
	removal, err := store.Remove(arg)
	if err != nil {
		return err
	}
	for _, name := range removal.Untagged {
		fmt.Printf("Untagged: %s\n", image.ShortName(name))
	}
	if removal.Deleted != nil {
		fmt.Printf("Deleted: %s\n", removal.Deleted.ID)
	}
	return nil
}
