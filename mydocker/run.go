//chapter:1

package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/container"
)

// runOptions holds the flags of `mydocker run`, named as Docker names them.
type runOptions struct {
	hostname    string
	stopTimeout int // seconds
}

func newRunCommand(global *globalOptions) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use:     runUsage,
		Short:   "Run a command in a new container",
		Example: runExample,
		Args:    runArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContainer(global, opts, args)
		},
	}
	flags := cmd.Flags()
	// Flags end at the first argument: in `run sh -c ls`, -c is the shell's.
	flags.SetInterspersed(false)
	flags.StringVar(&opts.hostname, "hostname", "", "container host name (default: the short container ID)")
	flags.IntVar(&opts.stopTimeout, "stop-timeout", int(container.DefaultStopTimeout/time.Second),
		"seconds to wait after forwarding SIGTERM before killing the container")
	return cmd
}

// runContainer is `mydocker run`: it prepares a container, starts its init
// process in new namespaces, and stays in the foreground until it exits.
func runContainer(global *globalOptions, opts *runOptions, args []string) error {
	if os.Geteuid() != 0 {
		return errors.New("run needs root to create namespaces: run it again as root (e.g. with sudo)")
	}
	spec := container.NewSpec()
	if opts.stopTimeout < 0 {
		return fmt.Errorf("invalid --stop-timeout %d: use 0 or more seconds", opts.stopTimeout)
	}
	if err := setCommand(spec, args); err != nil {
		return err
	}
	if opts.hostname != "" {
		spec.Hostname = opts.hostname
	}

	c, err := container.Create(global.root, spec)
	if err != nil {
		return err
	}
	defer c.Remove()

	proc, err := container.Start(spec, container.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	if err != nil {
		return err
	}
	stopForwarding := proc.ForwardSignals(time.Duration(opts.stopTimeout) * time.Second)
	defer stopForwarding()

	// The init process waits for this go-ahead, so anything that must be in
	// place before the user's command runs is done between Start and Resume.
	if err := proc.Resume(); err != nil {
		proc.Wait()
		return err
	}
	if code := proc.Wait(); code != 0 {
		return exitCode(code)
	}
	return nil
}
