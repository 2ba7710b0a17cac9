//chapter:uts

package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/mydocker/internal/overlay"
	"github.com/mydocker/mydocker/mydocker/internal/rootfs"
)

// InitError is a failure of the init process before the user's command
// started. The child sends it to the parent, which prints it, and both end
// with Code: 125 for a failed setup, 126 for a command that cannot be run,
// 127 for a command that does not exist (the codes Docker uses).
type InitError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *InitError) Error() string { return e.Message }

// ExitCode is the code mydocker ends with.
func (e *InitError) ExitCode() int { return e.Code }

// Init runs as the first process inside the container's new namespaces. It
// reads the spec, waits for the parent's go-ahead, sets the container up and
// replaces itself with the user's command, so that nothing of mydocker stays
// in the container. It returns only on failure.
func Init() error {
	spec, sync, err := openChannels()
	if err != nil {
		return err
	}
	if err := waitForParent(sync); err != nil {
		return err
	}
	if err := setup(spec); err != nil {
		return report(sync, 125, err)
	}
	path, err := lookPath(spec.Args[0], spec.Env)
	if err != nil {
		return report(sync, exitCodeFor(err), err)
	}
	if err := closeInheritedFiles(); err != nil {
		return report(sync, 125, err)
	}
	if err := armParentDeathSignal(sync); err != nil {
		return report(sync, 125, err)
	}
	//chapter:cgroups
	if err := limitPids(spec.PidsLimit); err != nil {
		return report(sync, 125, err)
	}
	//chapter:end
	// On success exec does not return; the sync socket is close-on-exec, so
	// the parent reads end-of-file and knows the command is running.
	err = unix.Exec(path, spec.Args, spec.Environ())
	return report(sync, exitCodeFor(err), fmt.Errorf("exec %q: %w", spec.Args[0], err))
}

// armParentDeathSignal makes the kernel kill the user's command if mydocker
// run dies. Start asked for that (Pdeathsig), but the kernel keeps the
// setting per thread, and clone gave it to init's first thread only. Init
// is a Go program with several threads, and when exec runs on another one,
// that thread becomes the process and the setting is gone; changing the
// user clears it too. So it is set again here, on the thread that will
// exec, which this goroutine keeps. A parent that died before this moment
// sent no signal; it holds its end of the sync socket until exec closes
// ours, so a hang-up there says that it is gone.
func armParentDeathSignal(sync *os.File) error {
	runtime.LockOSThread() // never unlocked: exec replaces the process
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set the parent-death signal: %w", err)
	}
	fds := []unix.PollFd{{Fd: int32(sync.Fd()), Events: unix.POLLRDHUP}}
	if _, err := unix.Poll(fds, 0); err != nil {
		return fmt.Errorf("check that mydocker run is alive: %w", err)
	}
	if fds[0].Revents&(unix.POLLHUP|unix.POLLRDHUP) != 0 {
		return errors.New("mydocker run died before the command started")
	}
	return nil
}

// setup prepares the container from the inside, one step after another.
// Any failure stops the start: the user's command never runs in a
// half-made container.
func setup(spec *Spec) error {
	if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
		return fmt.Errorf("set host name: %w", err)
	}
	//chapter:mount
	if err := rootfs.MakeMountsPrivate(); err != nil {
		return err
	}
	//chapter:end
	//chapter:images
	if o := spec.Overlay; o != nil {
		if err := overlay.Mount(o.Lower, o.Upper, o.Work, spec.Rootfs, o.Volatile); err != nil {
			return err
		}
	}
	//chapter:end
	//chapter:volumes
	if err := mountVolumes(spec.Rootfs, spec.Mounts, spec.Overlay != nil); err != nil {
		return err
	}
	//chapter:end
	//chapter:mount
	if err := rootfs.Setup(spec.Rootfs); err != nil {
		return err
	}
	//chapter:end
	//chapter:images
	if err := enterWorkingDir(spec.Cwd); err != nil {
		return err
	}
	if err := switchUser(spec); err != nil {
		return err
	}
	//chapter:end
	return nil
}

// openChannels reads the spec from its pipe and returns it with the sync socket.
func openChannels() (*Spec, *os.File, error) {
	var stat unix.Stat_t
	if err := unix.Fstat(specFD, &stat); err != nil || stat.Mode&unix.S_IFMT != unix.S_IFIFO {
		return nil, nil, errors.New("no spec pipe on fd 3: init is started by mydocker run, not by hand")
	}
	specPipe := os.NewFile(specFD, "spec")
	defer specPipe.Close()
	spec, err := readSpec(specPipe)
	if err != nil {
		return nil, nil, fmt.Errorf("read spec: %w", err)
	}
	if len(spec.Args) == 0 {
		return nil, nil, errors.New("the spec has no command")
	}
	// Go hands ExtraFiles to the child without close-on-exec; set it, so
	// that the user's command does not inherit the socket.
	unix.CloseOnExec(syncFD)
	return spec, os.NewFile(syncFD, "sync"), nil
}

// waitForParent blocks until the parent says go. End-of-file means the parent
// died before that, and the container must not start.
func waitForParent(sync *os.File) error {
	buf := make([]byte, 1)
	if _, err := io.ReadFull(sync, buf); err != nil {
		return fmt.Errorf("no go-ahead from mydocker run (it may have died): %w", err)
	}
	if buf[0] != goAhead {
		return fmt.Errorf("mydocker run sent %q instead of the go-ahead", buf[0])
	}
	return nil
}

// closeInheritedFiles marks every descriptor above stderr close-on-exec.
// Whatever called mydocker run may have left descriptors open without that
// flag, and the container's command must not inherit them: an open
// directory of the host's is a way out of the container's root.
func closeInheritedFiles() error {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list open files: %w", err)
	}
	for _, entry := range entries {
		if fd, err := strconv.Atoi(entry.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// report sends a failure to the parent and returns it as an *InitError.
func report(sync *os.File, code int, err error) error {
	initErr := &InitError{Code: code, Message: err.Error()}
	msg, _ := json.Marshal(initErr)
	if _, werr := sync.Write(msg); werr != nil {
		// Nobody is listening; say it here rather than lose it.
		fmt.Fprintf(os.Stderr, "mydocker init: %v\n", err)
	}
	return initErr
}

//chapter:cgroups

// limitPids writes the pids limit into the cgroup's pids.max, which the
// parent opened as fd 5 (see cgroups.OpenPidsLimit): the limit holds from
// the moment the command starts, and mydocker's own threads, which it
// may not leave room for, are already made.
func limitPids(limit int64) error {
	if limit <= 0 {
		return nil
	}
	defer unix.Close(pidsMaxFD)
	if _, err := unix.Write(pidsMaxFD, []byte(strconv.FormatInt(limit, 10))); err != nil {
		return fmt.Errorf("set the pids limit to %d: %w", limit, err)
	}
	return nil
}

//chapter:end
