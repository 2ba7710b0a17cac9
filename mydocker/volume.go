//chapter:volumes

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/container"
	"github.com/mydocker/mydocker/mydocker/internal/volume"
)

func newVolumeCommand(global *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume COMMAND",
		Short: "Manage named volumes",
		Example: `  mydocker volume create data
  mydocker run -v data:/data busybox sh -c 'echo kept > /data/file'
  mydocker volume ls`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "create [NAME]",
			Short: "Create a volume (with a random name if none is given)",
			Args:  cobra.MaximumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				name := ""
				if len(args) == 1 {
					name = args[0]
				}
				v, err := volume.Create(global.root, name)
				if err != nil {
					return err
				}
				fmt.Println(v.Name)
				return nil
			},
		},
		&cobra.Command{
			Use:     "ls",
			Aliases: []string{"list"},
			Short:   "List volumes",
			Args:    cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				volumes, err := volume.List(global.root)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
				fmt.Fprintln(w, "DRIVER\tVOLUME NAME")
				for _, v := range volumes {
					fmt.Fprintf(w, "%s\t%s\n", v.Driver, v.Name)
				}
				return w.Flush()
			},
		},
		&cobra.Command{
			Use:   "inspect NAME [NAME...]",
			Short: "Show volumes in JSON",
			Args:  requireArgs(1, "the volume to show"),
			RunE: func(cmd *cobra.Command, args []string) error {
				var volumes []*volume.Volume
				for _, name := range args {
					v, err := volume.Get(global.root, name)
					if err != nil {
						return err
					}
					volumes = append(volumes, v)
				}
				out, err := json.MarshalIndent(volumes, "", "    ")
				if err != nil {
					return err
				}
				fmt.Println(string(out))
				return nil
			},
		},
		&cobra.Command{
			Use:     "rm NAME [NAME...]",
			Aliases: []string{"remove"},
			Short:   "Remove volumes and their data; a volume in use is refused",
			Args:    requireArgs(1, "the volume to remove"),
			RunE: func(cmd *cobra.Command, args []string) error {
				for _, name := range args {
					if err := removeVolume(global.root, name); err != nil {
						return err
					}
					fmt.Println(name)
				}
				return nil
			},
		},
	)
	return cmd
}

// removeVolume removes a volume unless a living container mounts it.
func removeVolume(root, name string) error {
	living, err := container.Living(root)
	if err != nil {
		return err
	}
	for _, c := range living {
		if slices.ContainsFunc(c.Spec.Mounts, func(m container.Mount) bool { return m.Volume == name }) {
			return fmt.Errorf("volume %s is in use by the running container %s: stop it first", name, container.ShortID(c.ID))
		}
	}
	return volume.Remove(root, name)
}
