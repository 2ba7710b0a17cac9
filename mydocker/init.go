//chapter:1

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/container"
)

// newInitCommand is the hidden command that `run` re-executes
// (/proc/self/exe init) as the first process inside the new namespaces.
func newInitCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "init",
		Short:  "Start a container from the inside (used by run; do not call it yourself)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// On success Init does not return: the user's command replaces it.
			err := container.Init()
			var reported *container.InitError
			if errors.As(err, &reported) {
				// The parent prints the error; init only ends with its code.
				os.Exit(reported.Code)
			}
			return fmt.Errorf("init: %w", err)
		},
	}
}
