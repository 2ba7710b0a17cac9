//chapter:uts

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
	//chapter:cgroups

	"github.com/mydocker/mydocker/mydocker/internal/cgroups"
	//chapter:end
)

// The init process finds its two channels to the parent at fixed file
// descriptors, right after stdin, stdout and stderr.
const (
	specFD = 3 // a pipe: the parent writes the spec as JSON, then closes it
	syncFD = 4 // a socket: the parent says "go"; the child reports a failure, or exec closes it
	//chapter:cgroups
	pidsMaxFD = 5 // the cgroup's pids.max, open for writing, when there is a pids limit
	//chapter:end
)

// goAhead is the byte the parent sends when the child may go on.
const goAhead = 'g'

// InitArg is the argument with which Start re-executes mydocker
// (/proc/self/exe init): mydocker's main runs Init when it sees it.
const InitArg = "init"

// StartOptions say where the container's standard streams go and, from
// chapter 4 on, which cgroup its init process starts in.
type StartOptions struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	//chapter:cgroups
	Cgroup *cgroups.Cgroup // init is born in it (see cgroups.Cgroup.Start)
	//chapter:end
}

// Process is a container's init process, seen from mydocker run.
type Process struct {
	cmd  *exec.Cmd
	sync *os.File // the parent's end of the sync socket
}

// cloneFlags are the namespaces that a container gets: each flag asks
// clone(2) for a new namespace of one kind instead of sharing the parent's.
func cloneFlags() uintptr {
	flags := unix.CLONE_NEWUTS // its own host name
	//chapter:pid
	flags |= unix.CLONE_NEWPID | unix.CLONE_NEWIPC // its own process IDs and System V IPC
	//chapter:end
	//chapter:mount
	flags |= unix.CLONE_NEWNS // its own mount table
	//chapter:end
	return uintptr(flags)
}

// Start re-executes mydocker as `init` in new namespaces and sends it the
// spec. The child then waits until Resume lets it go on.
func Start(spec *Spec, opts StartOptions) (*Process, error) {
	specRead, specWrite, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("spec pipe: %w", err)
	}
	defer specRead.Close()
	defer specWrite.Close()
	syncParent, syncChild, err := socketPair()
	if err != nil {
		return nil, err
	}
	defer syncChild.Close()

	// /proc/self/exe is this very binary, whatever its name and path.
	cmd := exec.Command("/proc/self/exe", InitArg)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	cmd.ExtraFiles = []*os.File{specRead, syncChild} // become fds 3 and 4
	//chapter:cgroups
	if spec.PidsLimit > 0 && opts.Cgroup != nil {
		pidsMax, err := opts.Cgroup.OpenPidsLimit()
		if err != nil {
			syncParent.Close()
			return nil, err
		}
		defer pidsMax.Close()
		cmd.ExtraFiles = append(cmd.ExtraFiles, pidsMax) // becomes fd 5
	}
	//chapter:end
	cmd.Env = []string{} // init needs nothing from mydocker's environment
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: cloneFlags(),
		// If mydocker run dies, the kernel kills the container's init.
		Pdeathsig: syscall.SIGKILL,
	}
	start := cmd.Start
	//chapter:cgroups
	if opts.Cgroup != nil {
		start = func() error { return opts.Cgroup.Start(cmd) }
	}
	//chapter:end
	if err := start(); err != nil {
		syncParent.Close()
		return nil, fmt.Errorf("start container init: %w", err)
	}
	p := &Process{cmd: cmd, sync: syncParent}

	// The child has its own copies of its ends now; closing ours makes
	// reads see end-of-file when the child is gone.
	specRead.Close()
	syncChild.Close()
	if err := writeSpec(specWrite, spec); err != nil {
		p.Kill()
		p.Wait()
		return nil, fmt.Errorf("send spec to container init: %w", err)
	}
	return p, nil
}

// socketPair returns two connected Unix sockets, one for each side.
func socketPair() (parent, child *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sync socket: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "sync-parent"), os.NewFile(uintptr(fds[1]), "sync-child"), nil
}

// Pid is the init process's PID as the host sees it.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Resume lets the init process go on and waits until it has either started
// the user's command (exec closes its end of the sync socket) or failed, in
// which case the error is the child's report, with its exit code.
func (p *Process) Resume() error {
	defer p.sync.Close()
	if _, err := p.sync.Write([]byte{goAhead}); err != nil {
		return fmt.Errorf("resume container init: %w", err)
	}
	report, err := io.ReadAll(p.sync)
	if err != nil {
		return fmt.Errorf("container init died before starting the command: %w", err)
	}
	if len(report) == 0 {
		return nil // exec succeeded
	}
	initErr := &InitError{}
	if err := json.Unmarshal(report, initErr); err != nil {
		return fmt.Errorf("container init sent a report mydocker cannot read (%q): %w", report, err)
	}
	return initErr
}

// Kill ends the container's init process and so, from chapter 2 on, every
// process in its PID namespace.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
}

// Wait waits for the init process to exit and returns its exit code the way
// Docker reports it: the command's own code, or 128+N when signal N killed it.
func (p *Process) Wait() int {
	err := p.cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return 125 // never started, or already waited for
	}
	return ExitCode(p.cmd.ProcessState.Sys().(syscall.WaitStatus))
}

// ExitCode turns a wait status into a shell-style exit code.
func ExitCode(status syscall.WaitStatus) int {
	if status.Signaled() {
		return 128 + int(status.Signal())
	}
	return status.ExitStatus()
}
