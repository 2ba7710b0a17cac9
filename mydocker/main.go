//chapter:uts

// Command mydocker is a small container runtime, built chapter by chapter to
// show how containers work: namespaces, a root filesystem of its own, and (in
// later chapters) cgroups, images, volumes and networking.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/rootdir"
)

// defaultRoot is where mydocker keeps its state unless --root or
// MYDOCKER_ROOT says otherwise.
const defaultRoot = "/var/lib/mydocker"

// globalOptions are the flags that every command shares.
type globalOptions struct {
	root string // the mydocker root directory
}

func main() {
	if isInit(os.Args) {
		os.Exit(runInit())
	}
	os.Exit(execute(os.Args[1:]))
}

// execute runs the command line and returns the process's exit code:
// the container's own code, or 125 when mydocker itself failed (as Docker does).
func execute(args []string) int {
	cmd := newRootCommand()
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return 0
	}
	code := 125
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		code = coded.ExitCode()
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(os.Stderr, "mydocker: %s\n", msg)
	}
	return code
}

// exitCode ends mydocker with the container's exit code and prints nothing.
type exitCode int

func (e exitCode) Error() string { return "" }

// ExitCode is the code mydocker ends with.
func (e exitCode) ExitCode() int { return int(e) }

func newRootCommand() *cobra.Command {
	global := &globalOptions{}
	root := &cobra.Command{
		Use:   "mydocker",
		Short: "A small container runtime, built to learn how containers work",
		// Errors are printed once, by execute, in mydocker's own format.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(flagError)
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if global.root == "" {
			return errors.New("the mydocker root is empty: give --root a directory (or unset MYDOCKER_ROOT)")
		}
		//chapter:images
		// Before any command makes or removes anything: a directory that
		// mydocker did not make is refused (internal/rootdir says why).
		if err := rootdir.Check(global.root); err != nil {
			return err
		}
		//chapter:end
		return nil
	}
	root.PersistentFlags().StringVar(&global.root, "root", rootFromEnv(),
		"directory for mydocker's state (also $MYDOCKER_ROOT)")

	root.AddCommand(
		newRunCommand(global),
		//chapter:images
		newImagesCommand(global),
		newImportCommand(global),
		newPullCommand(global),
		newRmiCommand(global),
		//chapter:end
		//chapter:volumes
		newVolumeCommand(global),
		//chapter:end
		//chapter:final
		newDoctorCommand(global),
		//chapter:end
	)
	return root
}

// rootFromEnv returns $MYDOCKER_ROOT, or the default root when it is unset
// or empty (MYDOCKER_ROOT= is taken as unset, as a shell user means it).
func rootFromEnv() string {
	if dir := os.Getenv("MYDOCKER_ROOT"); dir != "" {
		return dir
	}
	return defaultRoot
}

// flagError turns cobra's flag errors into Docker-shaped ones that point at --help.
func flagError(cmd *cobra.Command, err error) error {
	return fmt.Errorf("%w\nSee '%s --help'.", err, cmd.CommandPath())
}

// requireArgs is a cobra.PositionalArgs that wants at least n arguments and
// says what they are for when they are missing.
func requireArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) >= n {
			return nil
		}
		return fmt.Errorf("%q requires at least %d argument(s): %s\nSee '%s --help'.",
			cmd.CommandPath(), n, what, cmd.CommandPath())
	}
}
