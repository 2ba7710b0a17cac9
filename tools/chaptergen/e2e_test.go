package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyFixture copies the two-chapter module in testdata/tiny to a
// temporary directory and returns that directory.
func copyFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(filepath.Join("testdata", "tiny"))); err != nil {
		t.Fatalf("copying the fixture: %v", err)
	}
	return root
}

// runChaptergen runs chaptergen with args and returns its exit code and output.
func runChaptergen(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// goCommand runs the go command in dir without the network and returns
// its combined output.
func goCommand(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// readFile returns the contents of the slash path name below root.
func readFile(t *testing.T, root, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// writeFile writes the slash path name below root.
func writeFile(t *testing.T, root, name, data string) {
	t.Helper()
	file := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	root := copyFixture(t)
	writeFile(t, root, "chapters/checks/README.txt", "hand-written, must survive\n")

	code, stdout, stderr := runChaptergen(t, "-root", root)
	if code != 0 {
		t.Fatalf("chaptergen exited with %d:\n%s%s", code, stdout, stderr)
	}

	// Which file is in which chapter.
	files := []struct {
		name string
		in   bool
	}{
		{"chapters/01-hello/main.go", true},
		{"chapters/01-hello/message_early.go", true},
		{"chapters/01-hello/message.go", false},
		{"chapters/01-hello/internal/greet/greet.go", false},
		{"chapters/01-hello/doctor.go", false},
		{"chapters/01-hello/testdata/hello.txt", true},
		{"chapters/02-greet/main.go", true},
		{"chapters/02-greet/message_early.go", false},
		{"chapters/02-greet/message.go", true},
		{"chapters/02-greet/internal/greet/greet.go", true},
		{"chapters/02-greet/internal/greet/greet_test.go", true},
		{"chapters/02-greet/doctor.go", false},
		{"chapters/02-greet/testdata/hello.txt", true},
		{"chapters/checks/README.txt", true},
		{"docs/diffs/01-hello.diff", true},
		{"docs/diffs/02-greet.diff", true},
	}
	for _, file := range files {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(file.name)))
		if exists := err == nil; exists != file.in {
			t.Errorf("%s exists: %v, want %v", file.name, exists, file.in)
		}
	}

	// Chapter 1 lost the block that used os and strings, and their imports.
	main1 := readFile(t, root, "chapters/01-hello/main.go")
	if strings.Contains(main1, `"os"`) || strings.Contains(main1, "//chapter:") {
		t.Errorf("chapter 1 main.go still has an unused import or a marker:\n%s", main1)
	}
	message2 := readFile(t, root, "chapters/02-greet/message.go")
	if !strings.Contains(message2, `"example.com/tiny/chapters/02-greet/internal/greet"`) {
		t.Errorf("chapter 2 message.go does not import its own chapter's package:\n%s", message2)
	}

	// The diff of chapter 2 shows the lesson without time stamps, and
	// without the import path change every chapter has.
	diff2 := readFile(t, root, "docs/diffs/02-greet.diff")
	for _, want := range []string{"--- a/message_early.go\n", "+++ b/message.go\n", "+\tif len(os.Args) > 1 {\n"} {
		if !strings.Contains(diff2, want) {
			t.Errorf("02-greet.diff lacks %q:\n%s", want, diff2)
		}
	}
	if strings.Contains(diff2, "01-hello") {
		t.Errorf("02-greet.diff mentions chapter 1's import paths:\n%s", diff2)
	}

	// Every chapter builds, passes vet and does what its lesson says.
	goCommand(t, root, "vet", "./...")
	if out := goCommand(t, root, "run", "./chapters/01-hello", "bob"); out != "hello, world\n" {
		t.Errorf("chapter 1 says %q, want %q", out, "hello, world\n")
	}
	if out := goCommand(t, root, "run", "./chapters/02-greet", "bob"); out != "hello, bob\n" {
		t.Errorf("chapter 2 says %q, want %q", out, "hello, bob\n")
	}

	// Freshly generated chapters pass -check.
	if code, stdout, stderr := runChaptergen(t, "-root", root, "-check"); code != 0 {
		t.Fatalf("-check exited with %d right after generating:\n%s%s", code, stdout, stderr)
	}

	// -check finds every kind of stale file.
	writeFile(t, root, "chapters/01-hello/main.go", main1+"// edited by hand\n")
	writeFile(t, root, "chapters/02-greet/old.go", "package main\n")
	writeFile(t, root, "chapters/07-gone/main.go", "package main\n")
	if err := os.Remove(filepath.Join(root, "docs", "diffs", "02-greet.diff")); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runChaptergen(t, "-root", root, "-check")
	if code != 1 {
		t.Errorf("-check exited with %d, want 1", code)
	}
	for _, want := range []string{
		"stale:   chapters/01-hello/main.go\n",
		"extra:   chapters/02-greet/old.go\n",
		"extra:   chapters/07-gone/main.go (not of a chapter in chapters.txt: delete it by hand)\n",
		"missing: docs/diffs/02-greet.diff\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("-check output lacks %q:\n%s", want, stdout)
		}
	}
	if want := "chaptergen: chapters/ is stale: run make chapters\n"; stderr != want {
		t.Errorf("-check error output %q, want %q", stderr, want)
	}
}

func TestLocalImportOfLaterChapter(t *testing.T) {
	root := copyFixture(t)
	// Without its tag, message.go is in chapter 1, but the package it
	// imports only comes in chapter 2.
	message := readFile(t, root, "mydocker/message.go")
	writeFile(t, root, "mydocker/message.go", strings.Replace(message, "//chapter:greet\n", "", 1))

	code, _, stderr := runChaptergen(t, "-root", root)
	want := "chaptergen: mydocker/message.go:4: chapter 01-hello imports mydocker/internal/greet, which has no Go files in that chapter"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit code %d, error output:\n%s\nwant 1 and %q", code, stderr, want)
	}
	if _, err := os.Stat(filepath.Join(root, "chapters")); err == nil {
		t.Errorf("chaptergen wrote chapters/ although the check failed")
	}
}

func TestFinalChapterMustMatchSource(t *testing.T) {
	p, err := loadProject(copyFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	outputs, err := p.generate()
	if err != nil {
		t.Fatal(err)
	}
	final := outputs[len(outputs)-1]
	if err := p.checkFinal(final); err != nil {
		t.Fatalf("checkFinal on a correct final chapter: %v", err)
	}

	// Lose a line, as a faulty block filter might.
	main := string(final.files["main.go"])
	final.files["main.go"] = []byte(strings.Replace(main, "\tname := \"world\"\n", "", 1))
	err = p.checkFinal(final)
	want := `mydocker/main.go: the final chapter lost or changed a line: chapters/02-greet/main.go:14 is "\tif len(os.Args) > 1 {" but should be "\tname := \"world\""`
	if err == nil || err.Error() != want {
		t.Errorf("checkFinal error:\n%v\nwant:\n%s", err, want)
	}
}
