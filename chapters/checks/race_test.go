package checks

// race-rmi, the command of the image checks (chapter 05) that races runs of
// an image against its removal.

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// raceScript is what each run of race-rmi runs: the root file system,
// listed before and after a pause, so that a layer that goes while the
// container runs shows too.
const raceScript = "echo /*; sleep 0.05; echo /bin/* | wc -w; echo /etc/*"

// cmdRaceRmi races runs of an image against rmi -f and import of it, many
// at once, but bounded in count and time:
//
//	race-rmi IMAGE TARBALL LOOPS RUNS
//
// LOOPS loops of RUNS runs each, while one loop removes the image with rmi
// -f and imports TARBALL as IMAGE again, until the runs are done. A third
// loop holds the lock of the root's containers/ for 200 ms at a time, as a
// busy machine stretches the moment between a run's finding the image and
// its recording the container. Every run must print the whole root file
// system, as a first run printed it, or fail with "no such image" (125);
// any other end fails the check, and a run that exits 0 with other output
// ran on a half-deleted root file system.
func cmdRaceRmi(bin string) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 4 {
			ts.Fatalf("usage: race-rmi IMAGE TARBALL LOOPS RUNS")
		}
		image, tarball := args[0], ts.MkAbs(args[1])
		loops, err1 := strconv.Atoi(args[2])
		runs, err2 := strconv.Atoi(args[3])
		if err := errors.Join(err1, err2); err != nil {
			ts.Fatalf("race-rmi: %v", err)
		}
		root := ts.Getenv("MYDOCKER_ROOT")
		mydocker := func(args ...string) (stdout, stderr string, code int) {
			cmd := exec.Command(bin, append([]string{"--root", root}, args...)...)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			var exitErr *exec.ExitError
			if errors.As(err, &exitErr) {
				code = exitErr.ExitCode()
			} else if err != nil {
				code = -1
				errOut.WriteString(err.Error())
			}
			return out.String(), errOut.String(), code
		}
		want, stderr, code := mydocker("run", image, "sh", "-c", raceScript)
		if code != 0 {
			ts.Fatalf("race-rmi: the first run failed with exit code %d: %s", code, stderr)
		}

		stop := make(chan struct{})
		stopped := func() bool {
			select {
			case <-stop:
				return true
			default:
				return false
			}
		}
		var helpers sync.WaitGroup
		var churnErr error
		helpers.Add(2)
		go func() { // rmi -f and import, again and again
			defer helpers.Done()
			for !stopped() {
				mydocker("rmi", "-f", image)
				if _, stderr, code := mydocker("import", tarball, image); code != 0 {
					churnErr = fmt.Errorf("import failed with exit code %d: %s", code, stderr)
					return
				}
			}
		}()
		go func() { // a busy machine: containers/ locked for 200 ms at a time
			defer helpers.Done()
			for !stopped() {
				fd, err := syscall.Open(filepath.Join(root, "containers"), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
				if err == nil {
					syscall.Flock(fd, syscall.LOCK_EX)
					time.Sleep(200 * time.Millisecond)
					syscall.Close(fd)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()

		var mu sync.Mutex
		var intact, gone int
		var bad []string
		var runners sync.WaitGroup
		for loop := range loops {
			runners.Add(1)
			go func() {
				defer runners.Done()
				for run := range runs {
					stdout, stderr, code := mydocker("run", image, "sh", "-c", raceScript)
					mu.Lock()
					switch {
					case code == 0 && stdout == want:
						intact++
					case code == 125 && strings.HasPrefix(stderr, `mydocker: image "`+image+`": no such image`):
						gone++
					default:
						bad = append(bad, fmt.Sprintf("run %d of loop %d: exit code %d\n%s%s", run+1, loop+1, code, stdout, stderr))
					}
					mu.Unlock()
				}
			}()
		}
		runners.Wait()
		close(stop)
		helpers.Wait()
		ts.Logf("race-rmi: %d runs intact, %d found no image, %d failed otherwise", intact, gone, len(bad))
		if churnErr != nil {
			ts.Fatalf("race-rmi: %v", churnErr)
		}
		if len(bad) > 0 {
			ts.Fatalf("race-rmi: %d of %d runs neither ran on the whole image nor found no image:\n%s", len(bad), loops*runs, strings.Join(bad, "\n"))
		}
	}
}
