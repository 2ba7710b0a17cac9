// Package checks holds black-box checks of mydocker, one testscript file per
// chapter in testdata/. They run against any mydocker binary: a chapter's
// generated program, the final one, or a learner's own build.
//
//	MYDOCKER_BIN      the binary to check (default: build ./mydocker)
//	MYDOCKER_CHAPTER  run the checks of chapters 1 to this one (default: all)
//	MYDOCKER_IMAGE    the busybox root filesystem (default: build/images/busybox/rootfs)
//	MYDOCKER_E2E=1    fail instead of skipping when the checks cannot run (make test sets it)
//
// After each chapter's checks, the host is compared with a snapshot taken
// before them: a mount, cgroup, link, firewall rule, process or file that a
// check left behind fails the test.
package checks

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mydocker/mydocker/chapters/checks/leakcheck"
)

// checkFile is one chapter's checks, testdata/NN-slug.txtar.
type checkFile struct {
	chapter int
	path    string
}

func TestMain(m *testing.M) {
	// Orphans that a check leaves behind are re-parented to this process,
	// where the leak check finds them.
	if err := leakcheck.BecomeSubreaper(); err != nil {
		fmt.Fprintln(os.Stderr, "checks:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestChapters(t *testing.T) {
	if os.Geteuid() != 0 {
		skipOrFail(t, "the checks start real containers and need root: run them as root (make check)")
	}
	files, err := chapterFiles()
	if err != nil {
		t.Fatal(err)
	}
	last := files[len(files)-1].chapter
	if env := os.Getenv("MYDOCKER_CHAPTER"); env != "" {
		if last, err = strconv.Atoi(env); err != nil || last < 1 {
			t.Fatalf("MYDOCKER_CHAPTER=%q: want a chapter number such as 3", env)
		}
	}
	bin := binary(t)
	image := rootfsImage(t)
	binDir := t.TempDir()
	// Checks call the binary under test as plain `mydocker`, also from sh.
	if err := os.Symlink(bin, filepath.Join(binDir, "mydocker")); err != nil {
		t.Fatal(err)
	}

	for _, f := range files {
		if f.chapter > last {
			continue
		}
		// One chapter at a time (testscript runs files in parallel), so
		// that the leak check sees only what this chapter's checks did.
		t.Run(strings.TrimSuffix(filepath.Base(f.path), ".txtar"), func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			opts := leakcheck.Options{Root: root}
			before, err := leakcheck.Take(opts)
			if err != nil {
				t.Fatal(err)
			}
			// testscript runs the script as a parallel subtest; t.Run
			// returns only when it has finished.
			t.Run("script", func(t *testing.T) {
				testscript.Run(t, params(f.path, chapterEnv{
					bin: bin, binDir: binDir, root: root, chapter: last, image: image,
				}))
			})
			after, err := leakcheck.Take(opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, leak := range before.Leaks(after) {
				if !ignoredLeak(leak) {
					t.Errorf("left behind: %s", leak)
				}
			}
			leakcheck.KillChildren()
		})
	}
}

// rootSkeleton are the directories mydocker makes in its root and keeps.
var rootSkeleton = map[string]bool{
	"file: containers": true,
}

// ignoredLeak says whether a new thing on the host is not the checks' doing:
// the directories mydocker keeps in its root and its parent cgroup
// "mydocker", and cgroups that the host
// makes for its own processes while the checks run (the checks' cgroups all
// have "mydocker" in their path).
func ignoredLeak(leak string) bool {
	if cgroup, ok := strings.CutPrefix(leak, "cgroup: "); ok {
		// mydocker keeps its parent cgroup, as it keeps its root directory.
		return !strings.Contains(cgroup, "mydocker") || filepath.Base(cgroup) == "mydocker"
	}
	return rootSkeleton[leak]
}

// chapterEnv is what a check script sees of the binary under test.
type chapterEnv struct {
	bin, binDir, root, image string
	chapter                  int // the chapter of the binary under test
}

func params(file string, ce chapterEnv) testscript.Params {
	return testscript.Params{
		Files: []string{file},
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", ce.binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("MYDOCKER_ROOT", ce.root)
			env.Setenv("CHAPTER", strconv.Itoa(ce.chapter))
			// Until chapter 3 a container sees the host's files, and `run`
			// takes no root filesystem: $IMAGE is empty, and the mydocker
			// command below drops empty arguments.
			if ce.chapter >= 3 {
				env.Setenv("IMAGE", ce.image)
			} else {
				env.Setenv("IMAGE", "")
			}
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"mydocker": func(ts *testscript.TestScript, neg bool, args []string) {
				runMydocker(ts, neg, ce.bin, args)
			},
			"status": cmdStatus,
		},
		Condition: func(cond string) (bool, error) {
			// [chapter:N] holds when the binary under test is from chapter N or later.
			if n, ok := strings.CutPrefix(cond, "chapter:"); ok {
				want, err := strconv.Atoi(n)
				if err != nil {
					return false, fmt.Errorf("condition %q: want [chapter:N]", cond)
				}
				return ce.chapter >= want, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	}
}

// runMydocker runs the binary under test, drops empty arguments and keeps
// the exit code for the status command.
func runMydocker(ts *testscript.TestScript, neg bool, bin string, args []string) {
	var kept []string
	for _, arg := range args {
		if arg != "" {
			kept = append(kept, arg)
		}
	}
	err := ts.Exec(bin, kept...)
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		ts.Fatalf("mydocker: %v", err)
	}
	ts.Setenv("STATUS", strconv.Itoa(code))
	switch {
	case neg && code == 0:
		ts.Fatalf("mydocker succeeded, but the check expects it to fail")
	case !neg && code != 0:
		ts.Fatalf("mydocker failed with exit code %d", code)
	}
}

// cmdStatus checks the exit code of the last mydocker command: status N.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: status CODE")
	}
	if got := ts.Getenv("STATUS"); got != args[0] {
		ts.Fatalf("mydocker exited with %s, want %s", got, args[0])
	}
}

// chapterFiles lists testdata/NN-*.txtar in chapter order.
func chapterFiles() ([]checkFile, error) {
	paths, err := filepath.Glob("testdata/[0-9][0-9]-*.txtar")
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no check files in testdata (%v)", err)
	}
	numbered := regexp.MustCompile(`^(\d\d)-`)
	var files []checkFile
	for _, p := range paths {
		n, _ := strconv.Atoi(numbered.FindStringSubmatch(filepath.Base(p))[1])
		files = append(files, checkFile{chapter: n, path: p})
	}
	return files, nil
}

// binary returns the binary to check: $MYDOCKER_BIN, or a fresh build of ./mydocker.
func binary(t *testing.T) string {
	if bin := os.Getenv("MYDOCKER_BIN"); bin != "" {
		abs, err := filepath.Abs(bin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(abs); err != nil {
			t.Fatalf("MYDOCKER_BIN: %v", err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "mydocker")
	build := exec.Command("go", "build", "-o", bin, "./mydocker")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build mydocker: %v\n%s", err, out)
	}
	return bin
}

// rootfsImage returns the busybox root filesystem that the checks run in.
func rootfsImage(t *testing.T) string {
	image := os.Getenv("MYDOCKER_IMAGE")
	if image == "" {
		image = filepath.Join(repoRoot(t), "build", "images", "busybox", "rootfs")
	}
	image, err := filepath.Abs(image)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(image, "bin", "busybox")); err != nil {
		skipOrFail(t, fmt.Sprintf("no busybox root filesystem at %s: run make image", image))
	}
	return image
}

// repoRoot finds the directory that holds go.mod.
func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// skipOrFail skips the test, or fails it when MYDOCKER_E2E=1 (under make
// test a skipped end-to-end check counts as a failure).
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("MYDOCKER_E2E") == "1" {
		t.Fatal(why)
	}
	t.Skip(why)
}
