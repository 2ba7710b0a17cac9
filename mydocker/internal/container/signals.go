//chapter:uts

package container

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// forwarded are the signals that mydocker run passes on to the container,
// as `docker run` does. SIGCHLD is the run's own business, and SIGURG is
// used by the Go runtime itself.
var forwarded = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCONT,
}

// DefaultStopTimeout is how long a container may take to exit after a
// SIGTERM or SIGHUP before it is killed; `docker stop` waits as long.
const DefaultStopTimeout = 10 * time.Second

// foregroundOfTerminal says whether mydocker run is in the foreground
// process group of its controlling terminal, where Ctrl-C sends SIGINT to
// every process of the group, the container's too.
func foregroundOfTerminal() bool {
	tty, err := os.Open("/dev/tty") // the controlling terminal, whatever stdin is
	if err != nil {
		return false
	}
	defer tty.Close()
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// interruptsToKill is how many SIGINTs (Ctrl-C) kill a container that ignores them.
const interruptsToKill = 3

// CatchSignals starts catching the signals that mydocker run forwards.
// Call it before anything is made for the container: a SIGTERM that comes
// while the container starts then waits to be forwarded, instead of
// killing mydocker run before it can clean up.
//
// The signals stay caught until mydocker exits. Go's runtime hands each
// signal it starts or stops catching to a thread of its own and waits for
// it (some 30 µs a signal here); undoing it all would cost as much again,
// just before the process ends anyway.
func CatchSignals() chan os.Signal {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, forwarded...)
	return signals
}

// ForwardSignals passes the signals that CatchSignals caught on to the
// container's init process, until the returned function is called.
//
// From chapter 2 on, the command is PID 1 of its namespace, and the kernel
// does not deliver a signal to a PID 1 that has no handler for it: `sleep`
// ignores SIGTERM there. So a SIGTERM or SIGHUP that has not ended the
// container within stopTimeout is followed by SIGKILL, and so is the third
// SIGINT.
func (p *Process) ForwardSignals(signals <-chan os.Signal, stopTimeout time.Duration) (stop func()) {
	done := make(chan struct{})
	fromTerminal := foregroundOfTerminal()
	go func() {
		interrupts := 0
		var killTimer *time.Timer
		for {
			select {
			case <-done:
				if killTimer != nil {
					killTimer.Stop()
				}
				return
			case sig := <-signals:
				// Ctrl-C and Ctrl-\ at a terminal already reached the
				// container, which shares mydocker run's process group.
				if !fromTerminal || (sig != syscall.SIGINT && sig != syscall.SIGQUIT) {
					p.cmd.Process.Signal(sig)
				}
				switch sig {
				case syscall.SIGINT:
					interrupts++
					if interrupts >= interruptsToKill {
						fmt.Fprintf(os.Stderr, "mydocker: interrupted %d times: killing the container\n", interrupts)
						p.Kill()
					}
				case syscall.SIGTERM, syscall.SIGHUP:
					if killTimer == nil {
						killTimer = time.AfterFunc(stopTimeout, p.Kill)
					}
				}
			}
		}
	}()
	return func() { close(done) }
}
