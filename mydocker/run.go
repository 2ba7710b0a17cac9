//chapter:uts

package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mydocker/mydocker/mydocker/internal/cgroups"
	"github.com/mydocker/mydocker/mydocker/internal/container"
	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// maxHostname is the longest host name Linux accepts (HOST_NAME_MAX).
const maxHostname = 64

// runOptions holds the flags of `mydocker run`, named as Docker names them.
type runOptions struct {
	hostname    string
	stopTimeout int // seconds
	//chapter:cgroups
	memory, memorySwap, cpus string
	cpuShares, pidsLimit     int64
	cpusetCPUs, cpusetMems   string
	cgroupParent             string
	//chapter:end
	//chapter:volumes
	volumes, tmpfs []string
	//chapter:end
}

func newRunCommand(global *globalOptions) *cobra.Command {
	opts := &runOptions{}
	cmd := &cobra.Command{
		Use: runUsage,
		// The usage line already says [OPTIONS], as Docker's does.
		DisableFlagsInUseLine: true,
		Short:                 "Run a command in a new container",
		Example:               runExample,
		Args:                  runArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runContainer(global, opts, args)
		},
	}
	flags := cmd.Flags()
	// Flags end at the first argument: in `run sh -c ls`, -c is the shell's.
	flags.SetInterspersed(false)
	flags.StringVar(&opts.hostname, "hostname", "", "container host name (default: the short container ID)")
	flags.IntVar(&opts.stopTimeout, "stop-timeout", int(container.DefaultStopTimeout/time.Second),
		"seconds to wait after forwarding SIGTERM or SIGHUP before killing the container")
	//chapter:cgroups
	flags.StringVarP(&opts.memory, "memory", "m", "", "memory limit, e.g. 256m (units b, k, m, g)")
	flags.StringVar(&opts.memorySwap, "memory-swap", "", "memory plus swap limit; -1 for unlimited swap (default: twice --memory)")
	flags.StringVar(&opts.cpus, "cpus", "", "number of CPUs' worth of time, e.g. 0.5")
	flags.Int64Var(&opts.cpuShares, "cpu-shares", 0, "relative CPU weight (default 1024)")
	flags.StringVar(&opts.cpusetCPUs, "cpuset-cpus", "", "CPUs the container may use, e.g. 0-1,3")
	flags.StringVar(&opts.cpusetMems, "cpuset-mems", "", "memory nodes the container may use, e.g. 0")
	flags.Int64Var(&opts.pidsLimit, "pids-limit", 0, "most processes at once (-1 for no limit)")
	flags.StringVar(&opts.cgroupParent, "cgroup-parent", cgroups.DefaultParent, "cgroup under which the container's cgroup is made (one that mydocker makes goes when empty)")
	//chapter:end
	//chapter:volumes
	flags.StringArrayVarP(&opts.volumes, "volume", "v", nil, "bind mount a host directory or a named volume: /host:/path[:ro] or NAME:/path")
	flags.StringArrayVar(&opts.tmpfs, "tmpfs", nil, "mount a tmpfs at a path in the container: /path[:options]")
	//chapter:end
	return cmd
}

// runContainer is `mydocker run`: it prepares a container, starts its init
// process in new namespaces, and stays in the foreground until it exits.
func runContainer(global *globalOptions, opts *runOptions, args []string) error {
	if os.Geteuid() != 0 {
		return errors.New("run needs root to create namespaces: run it again as root (e.g. with sudo)")
	}
	// Catching signals makes Go start threads for them, which takes about
	// as long as reading the command line and finding the image: both
	// happen at once. Then, before run makes anything that a signal could
	// leave half made, it waits until they are caught.
	signalsCaught := make(chan chan os.Signal, 1)
	go func() { signalsCaught <- container.CatchSignals() }()
	spec := container.NewSpec()
	if opts.stopTimeout < 0 || opts.stopTimeout > math.MaxInt32 {
		return fmt.Errorf("invalid --stop-timeout %d: use 0 or more seconds (at most %d)", opts.stopTimeout, math.MaxInt32)
	}
	if len(opts.hostname) > maxHostname {
		return fmt.Errorf("invalid --hostname %q: a host name has at most %d characters", opts.hostname, maxHostname)
	}
	if err := setCommand(global, spec, args); err != nil {
		return err
	}
	//chapter:cgroups
	limits, err := opts.limits()
	if err != nil {
		return err
	}
	spec.CgroupParent = opts.cgroupParent
	spec.PidsLimit = limits.PidsLimit
	//chapter:end
	signals := <-signalsCaught
	//chapter:volumes
	mounts, err := opts.mounts(global.root)
	if err != nil {
		return err
	}
	spec.Mounts = mounts
	//chapter:end
	if opts.hostname != "" {
		spec.Hostname = opts.hostname
	}

	c, err := container.Create(global.root, spec)
	if err != nil {
		// What killed runs left behind may be the cause (a container's
		// upper directory can fill the disk): remove it, and try again.
		if removed, _ := container.RemoveAbandoned(global.root); removed == 0 {
			return err
		}
		if c, err = container.Create(global.root, spec); err != nil {
			return err
		}
	}
	defer warnIfFails(c.Remove)
	//chapter:cgroups
	// c.Remove removes the cgroup too.
	cgroup, err := cgroups.New(opts.cgroupParent, spec.ID, limits)
	if err != nil {
		return err
	}
	//chapter:end

	startOpts := container.StartOptions{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	//chapter:cgroups
	startOpts.Cgroup = cgroup
	//chapter:end
	proc, err := container.Start(spec, startOpts)
	if err != nil {
		return err
	}
	// While init starts, run has nothing to do but wait: a good moment to
	// remove what runs that were killed left behind.
	cleaned := make(chan error, 1)
	go func() {
		_, err := container.RemoveAbandoned(global.root)
		//chapter:images
		err = errors.Join(err, image.OpenExisting(global.root).RemoveLeftovers())
		//chapter:end
		cleaned <- err
	}()
	defer func() { warnIfFails(func() error { return <-cleaned }) }()
	stopForwarding := proc.ForwardSignals(signals, time.Duration(opts.stopTimeout)*time.Second)
	defer stopForwarding()

	// The init process waits for this go-ahead, so anything that must be in
	// place before the user's command runs is done between Start and Resume.
	if err := proc.Resume(); err != nil {
		proc.Wait()
		return err
	}
	code := proc.Wait()
	//chapter:cgroups
	reportOOM(cgroup, code)
	//chapter:end
	if code != 0 {
		return exitCode(code)
	}
	return nil
}

// warnIfFails runs a clean-up step and reports its failure; it is deferred,
// so it cannot change the exit code, but it must not fail silently.
func warnIfFails(cleanup func() error) {
	if err := cleanup(); err != nil {
		fmt.Fprintf(os.Stderr, "mydocker: %v\n", err)
	}
}
