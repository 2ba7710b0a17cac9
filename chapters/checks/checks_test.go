// Package checks holds black-box checks of mydocker, one testscript file per
// chapter in testdata/. They run against any mydocker binary: a chapter's
// generated program, the final one, or a learner's own build.
//
//	MYDOCKER_BIN      the binary to check (default: build ./mydocker)
//	MYDOCKER_CHAPTER  run the checks of chapters 1 to this one (default: all)
//	MYDOCKER_IMAGE    the busybox root filesystem (default: build/images/busybox/rootfs);
//	                  from chapter 05 on, also its tarball beside it (busybox.tar)
//	MYDOCKER_E2E=1    fail instead of skipping when the checks cannot run (make test sets it)
//	MYDOCKER_NO_REGISTRY=1  leave out the checks that need docker-registry and
//	                  skopeo (the VM lane has neither)
//
// After each chapter's checks, the host is compared with a snapshot taken
// before them: a mount, cgroup, link, firewall rule, process or file that a
// check left behind fails the test.
package checks

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mydocker/mydocker/chapters/checks/leakcheck"
)

// checkFile is one chapter's checks, testdata/NN-slug.txtar.
type checkFile struct {
	chapter int
	path    string
}

// asMarker, as the first argument, makes this test binary run the command
// in the rest of its arguments (after the second) with the credentials in
// the second: UID:GID:GROUPS, GROUPS the supplementary groups separated by
// commas (see runAs).
const asMarker = "mydocker-checks-as"

func TestMain(m *testing.M) {
	if len(os.Args) > 3 && os.Args[1] == asMarker {
		os.Exit(runAs(os.Args[2], os.Args[3:]))
	}
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
	image := rootfsImage(t)
	imageTar := filepath.Join(filepath.Dir(image), "busybox.tar")
	if _, err := os.Stat(imageTar); err != nil && last >= 5 {
		skipOrFail(t, fmt.Sprintf("no busybox tarball at %s for the image checks: run make image", imageTar))
	}
	// Checks call the binary under test as plain `mydocker`, also from sh.
	// It is copied into a directory that every user may enter, so that a
	// check can also run it as a user other than root.
	binDir, err := os.MkdirTemp("", "mydocker-checks-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	bin := filepath.Join(binDir, "mydocker")
	if err := copyExecutable(binary(t), bin); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(binDir, "wait-for"), []byte(waitFor), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(binDir, 0o755); err != nil {
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
					bin: bin, binDir: binDir, root: root, chapter: last, image: image, imageTar: imageTar,
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

// rootSkeleton are the directories mydocker makes in its root and keeps:
// from chapter 05 on, an empty image store (an OCI layout without images,
// and no layers) and, from 06, the directory of the volumes. The checks
// remove their images and volumes, and the leak check then sees any layer,
// blob or volume that was left behind.
var rootSkeleton = map[string]bool{
	"file: mydocker-root":       true, // the mark of a mydocker root (chapter 05 on)
	"file: containers":          true,
	"file: images":              true,
	"file: images/oci-layout":   true,
	"file: images/index.json":   true,
	"file: images/index.lookup": true, // index.json's lookup cache, kept with it
	"file: images/blobs":        true,
	"file: images/blobs/sha256": true,
	"file: layers":              true,
	"file: volumes":             true,
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

// waitFor is a command for the checks' shell lines: wait-for FILE TEXT
// waits until FILE holds TEXT, and fails after 30 seconds rather than
// hanging the test.
const waitFor = `#!/bin/sh
i=0
until grep -q "$2" "$1" 2>/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 300 ]; then
		echo "wait-for: $1 did not say $2 within 30 seconds" >&2
		exit 1
	fi
	sleep 0.1
done
`

// chapterEnv is what a check script sees of the binary under test.
type chapterEnv struct {
	bin, binDir, root, image string
	imageTar                 string // the busybox image as a tarball, for import
	chapter                  int    // the chapter of the binary under test
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
			env.Setenv("IMAGE_TAR", ce.imageTar)
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"mydocker": func(ts *testscript.TestScript, neg bool, args []string) {
				runMydocker(ts, neg, ce.bin, args, "")
			},
			// mydocker-as-nobody runs the binary as user and group 65534.
			"mydocker-as-nobody": func(ts *testscript.TestScript, neg bool, args []string) {
				runMydocker(ts, neg, ce.bin, args, "65534:65534:")
			},
			// mydocker-in-groups GIDS ARGS... runs the binary as root with
			// the supplementary groups GIDS (e.g. 4,27) and no others.
			"mydocker-in-groups": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 1 {
					ts.Fatalf("usage: mydocker-in-groups GID[,GID...] ARGS...")
				}
				runMydocker(ts, neg, ce.bin, args[1:], "0:0:"+args[0])
			},
			// as-nobody PROGRAM ARGS... runs any program as user and group
			// 65534, as a host user without privileges.
			"as-nobody": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) < 1 {
					ts.Fatalf("usage: as-nobody PROGRAM [ARG...]")
				}
				err := ts.Exec(os.Args[0], append([]string{asMarker, "65534:65534:"}, args...)...)
				if neg && err == nil {
					ts.Fatalf("%s succeeded as nobody, but the check expects it to fail", args[0])
				}
				if !neg && err != nil {
					ts.Fatalf("%s as nobody: %v", args[0], err)
				}
			},
			"status": cmdStatus,
			// The image checks' own (images_test.go).
			"hostile-tar": cmdHostileTar,
			"free-port":   cmdFreePort,
			"push-image":  cmdPushImage,
			"race-rmi":    cmdRaceRmi(ce.bin),
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
			// [registry] holds when docker-registry and skopeo can run.
			if cond == "registry" {
				return registryCondition()
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	}
}

// runMydocker runs the binary under test, drops empty arguments and keeps
// the exit code for the status command. A credential that is not empty
// (UID:GID:GROUPS, see runAs) runs it as that user.
func runMydocker(ts *testscript.TestScript, neg bool, bin string, args []string, credential string) {
	var kept []string
	for _, arg := range args {
		if arg != "" {
			kept = append(kept, arg)
		}
	}
	command := bin
	if credential != "" {
		// setpriv is not on every test host (the VM lane has busybox's,
		// which cannot set groups), so this test binary re-executes itself
		// to change user (see TestMain).
		command = os.Args[0]
		kept = append([]string{asMarker, credential, bin}, kept...)
	}
	err := ts.Exec(command, kept...)
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

// runAs runs a command with the credential UID:GID:GROUPS (GROUPS: the
// supplementary groups, separated by commas, or empty for none) and returns
// its exit code.
func runAs(credential string, command []string) int {
	cred, err := parseCredential(credential)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checks:", err)
		return 2
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "checks:", err)
		return 2
	}
	return 0
}

// parseCredential reads UID:GID:GROUPS.
func parseCredential(s string) (*syscall.Credential, error) {
	fields := strings.Split(s, ":")
	if len(fields) != 3 {
		return nil, fmt.Errorf("credential %q: want UID:GID:GROUPS", s)
	}
	numbers := []string{fields[0], fields[1]}
	if fields[2] != "" {
		numbers = append(numbers, strings.Split(fields[2], ",")...)
	}
	ids := []uint32{}
	for _, f := range numbers {
		id, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("credential %q: %w", s, err)
		}
		ids = append(ids, uint32(id))
	}
	// Groups empty, not nil: the child calls setgroups with none either way.
	return &syscall.Credential{Uid: ids[0], Gid: ids[1], Groups: ids[2:]}, nil
}

// copyExecutable copies the file at from to a new executable file at to.
func copyExecutable(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
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
