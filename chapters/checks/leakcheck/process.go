package leakcheck

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// procRoot is where process information is read from.
const procRoot = "/proc"

// killTimeout bounds how long KillChildren keeps killing and reaping.
const killTimeout = 5 * time.Second

// BecomeSubreaper marks the current process as a child subreaper
// (prctl(PR_SET_CHILD_SUBREAPER, 1)): from then on, processes orphaned
// anywhere below it are reparented to it instead of to the host's init, so
// Children sees everything a test left running. Call it once, before the
// first test starts anything.
func BecomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("leakcheck: prctl(PR_SET_CHILD_SUBREAPER): %w", err)
	}
	return nil
}

// Children returns the living child processes of the current process,
// sorted by PID. It finds them by reading /proc/*/stat for a parent PID
// equal to os.Getpid().
//
// Children that are zombies are not returned; they are reaped instead
// (wait4 with WNOHANG). This is only safe when no os/exec.Cmd of this
// process is still to be waited for: reaping such a child first would make
// its Wait fail. The harness calls Children (through Take and
// KillChildren) between tests, after the test's commands have been waited
// for, so the zombies it finds are orphans reparented to this subreaper
// that nobody else will reap.
func Children() ([]Process, error) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("leakcheck: listing processes: %w", err)
	}
	me := os.Getpid()
	var kids []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue // not a process directory
		}
		st, err := readStat(pid)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
				continue // exited and reaped meanwhile
			}
			return nil, err
		}
		if st.ppid != me {
			continue
		}
		if st.state == 'Z' || st.state == 'X' {
			if err := reap(pid); err != nil {
				return nil, err
			}
			continue
		}
		cmdline, err := readCmdline(pid)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
				continue
			}
			return nil, err
		}
		if cmdline == "" {
			cmdline = "[" + st.comm + "]"
		}
		kids = append(kids, Process{PID: pid, Cmdline: cmdline, start: st.start})
	}
	slices.SortFunc(kids, func(a, b Process) int { return a.PID - b.PID })
	return kids, nil
}

// KillChildren sends SIGKILL to every living child process and reaps it,
// repeating until none is left, because killing a process can orphan its
// own children onto this subreaper. It gives up after a few seconds (a
// process stuck in uninterruptible sleep cannot die sooner), or at once if
// /proc cannot be read. The same
// caveat as for Children applies: no os/exec.Cmd may be waiting.
func KillChildren() {
	deadline := time.Now().Add(killTimeout)
	pause := time.Millisecond
	for {
		kids, err := Children() // also reaps the ones killed last round
		if err != nil || len(kids) == 0 {
			return
		}
		for _, k := range kids {
			// A child cannot be replaced by another process with its
			// PID until it is reaped, and only we reap it.
			_ = unix.Kill(k.PID, unix.SIGKILL)
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// reap collects the exit status of the zombie child pid without blocking.
func reap(pid int) error {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		switch {
		case err == nil, errors.Is(err, unix.ECHILD):
			return nil // reaped, or already reaped by someone else
		case errors.Is(err, unix.EINTR):
			continue
		default:
			return fmt.Errorf("leakcheck: reaping zombie %d: %w", pid, err)
		}
	}
}

// stat holds the fields of /proc/PID/stat that Children needs.
type stat struct {
	comm  string
	state byte
	ppid  int
	start uint64
}

// readStat reads and parses /proc/pid/stat.
func readStat(pid int) (stat, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", procRoot, pid))
	if err != nil {
		return stat{}, fmt.Errorf("leakcheck: reading stat of %d: %w", pid, err)
	}
	st, err := parseStat(data)
	if err != nil {
		return stat{}, fmt.Errorf("leakcheck: parsing stat of %d: %w", pid, err)
	}
	return st, nil
}

// parseStat parses the contents of a /proc/PID/stat file. The command name
// is in parentheses and may itself contain spaces and parentheses, so the
// fields after it are found from the last ')'.
func parseStat(data []byte) (stat, error) {
	open := bytes.IndexByte(data, '(')
	end := bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return stat{}, errors.New("no command name in parentheses")
	}
	// Fields after the name start at field 3 (state); starttime is 22.
	rest := strings.Fields(string(data[end+1:]))
	if len(rest) < 20 {
		return stat{}, fmt.Errorf("only %d fields after the command name", len(rest))
	}
	if len(rest[0]) != 1 {
		return stat{}, fmt.Errorf("bad state %q", rest[0])
	}
	ppid, err := strconv.Atoi(rest[1])
	if err != nil {
		return stat{}, fmt.Errorf("bad parent pid: %w", err)
	}
	start, err := strconv.ParseUint(rest[19], 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("bad start time: %w", err)
	}
	return stat{comm: string(data[open+1 : end]), state: rest[0][0], ppid: ppid, start: start}, nil
}

// readCmdline returns the arguments of pid joined by spaces. It is empty
// for kernel threads and for processes that are exiting.
func readCmdline(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("%s/%d/cmdline", procRoot, pid))
	if err != nil {
		return "", fmt.Errorf("leakcheck: reading command line of %d: %w", pid, err)
	}
	data = bytes.TrimRight(data, "\x00")
	return strings.ReplaceAll(string(data), "\x00", " "), nil
}
