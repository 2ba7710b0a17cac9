package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// writeOutputs writes the chapters below root: chapters/NN-slug/ and
// docs/diffs/NN-slug.diff for every chapter in the list. Each chapter
// directory is emptied first, so files that left the chapter disappear.
// Nothing else under chapters/ is touched.
func writeOutputs(root string, outputs []chapterOutput) error {
	for _, out := range outputs {
		dir := filepath.Join(root, chaptersDir, out.chapter.Dir())
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("removing the old chapter: %w", err)
		}
		if err := writeTree(dir, out.files); err != nil {
			return err
		}
	}
	diffs := filepath.Join(root, filepath.FromSlash(diffsDir))
	if err := os.MkdirAll(diffs, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", diffsDir, err)
	}
	for _, out := range outputs {
		name := filepath.Join(diffs, out.chapter.Dir()+".diff")
		if err := os.WriteFile(name, out.diff, 0o644); err != nil {
			return fmt.Errorf("writing the chapter diff: %w", err)
		}
	}
	return nil
}

// writeTree writes the files of t below dir, creating dir even when t is empty.
func writeTree(dir string, t tree) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	for _, name := range sortedNames(t) {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return fmt.Errorf("creating the directory of %s: %w", file, err)
		}
		if err := os.WriteFile(file, t[name], 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", file, err)
		}
	}
	return nil
}

// readTree reads every file below dir. A missing dir reads as no files.
func readTree(dir string) (tree, error) {
	t := tree{}
	err := filepath.WalkDir(dir, func(file string, entry fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && file == dir {
			return filepath.SkipDir
		}
		if err != nil || entry.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		t[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	return t, nil
}

// unifiedDiff returns the changes from the files in before to the files
// in after, as `diff -ruN` prints them, with paths a/... and b/... and
// without the file times diff puts on its "---" and "+++" lines, so that
// the same trees always give the same diff.
func unifiedDiff(before, after tree) ([]byte, error) {
	dir, err := os.MkdirTemp("", "chaptergen-diff-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for diff: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writeTree(filepath.Join(dir, "a"), before); err != nil {
		return nil, err
	}
	if err := writeTree(filepath.Join(dir, "b"), after); err != nil {
		return nil, err
	}

	cmd := exec.Command("diff", "-ruN", "a", "b")
	cmd.Dir = dir
	// LC_ALL=C: file order and messages do not depend on the language.
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// diff exits with status 1 when the trees differ, the usual case here.
	var exitErr *exec.ExitError
	if err != nil && !(errors.As(err, &exitErr) && exitErr.ExitCode() == 1) {
		return nil, fmt.Errorf("running diff -ruN: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return dropDiffTimes(out), nil
}

// dropDiffTimes removes the file times from the two header lines that
// follow each "diff -ruN a/x b/x" line, e.g. "--- a/x\t2025-01-02 ..."
// becomes "--- a/x". Lines of changed text start with ' ', '+', '-' or
// '\', never with "diff ", so the header lines cannot be mistaken.
func dropDiffTimes(out []byte) []byte {
	lines := strings.SplitAfter(string(out), "\n")
	headerLines := 0 // header lines still expected after a "diff " line
	for i, line := range lines {
		switch {
		case strings.HasPrefix(line, "diff "):
			headerLines = 2
		case headerLines > 0 && (strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "+++ ")):
			if name, _, hasTime := strings.Cut(line, "\t"); hasTime {
				lines[i] = name + "\n"
			}
			headerLines--
		default:
			headerLines = 0
		}
	}
	return []byte(strings.Join(lines, ""))
}

// chapterDirPattern matches generated names below chapters/ and docs/diffs/.
var chapterDirPattern = regexp.MustCompile(`^[0-9][0-9]-[a-z0-9-]+(\.diff)?$`)

// findStale generates the chapters into a temporary directory and compares
// them with the ones below root. It returns one line per file that differs:
// "stale: path", "missing: path" or "extra: path".
func findStale(root string, outputs []chapterOutput) ([]string, error) {
	tmp, err := os.MkdirTemp("", "chaptergen-check-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory to generate into: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := writeOutputs(tmp, outputs); err != nil {
		return nil, err
	}

	// The directories to compare: every generated one, plus old chapter
	// directories that are no longer in the list.
	dirs := []string{diffsDir}
	listed := map[string]bool{}
	for _, out := range outputs {
		dir := chaptersDir + "/" + out.chapter.Dir()
		dirs = append(dirs, dir)
		listed[dir] = true
	}
	entries, err := os.ReadDir(filepath.Join(root, chaptersDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s/: %w", chaptersDir, err)
	}
	for _, entry := range entries {
		dir := chaptersDir + "/" + entry.Name()
		if entry.IsDir() && chapterDirPattern.MatchString(entry.Name()) && !listed[dir] {
			dirs = append(dirs, dir)
		}
	}

	var problems []string
	for _, dir := range dirs {
		want, err := readTree(filepath.Join(tmp, filepath.FromSlash(dir)))
		if err != nil {
			return nil, err
		}
		have, err := readTree(filepath.Join(root, filepath.FromSlash(dir)))
		if err != nil {
			return nil, err
		}
		for name, data := range want {
			switch committed, ok := have[name]; {
			case !ok:
				problems = append(problems, "missing: "+dir+"/"+name)
			case !bytes.Equal(committed, data):
				problems = append(problems, "stale:   "+dir+"/"+name)
			}
		}
		for name := range have {
			if _, ok := want[name]; ok {
				continue
			}
			switch {
			case dir == diffsDir && !chapterDirPattern.MatchString(name):
				// docs/diffs/ may hold other documents; only chapter diffs are ours.
			case listed[dir]:
				// Regenerating empties the chapter directory, which removes it.
				problems = append(problems, "extra:   "+dir+"/"+name)
			default:
				// The diff or directory of a chapter that left chapters.txt:
				// chaptergen never deletes those on its own.
				problems = append(problems, "extra:   "+dir+"/"+name+" (not of a chapter in chapters.txt: delete it by hand)")
			}
		}
	}
	slices.SortFunc(problems, func(a, b string) int {
		return strings.Compare(problemPath(a), problemPath(b))
	})
	return problems, nil
}

// problemPath returns the path of a findStale line, to sort by.
func problemPath(problem string) string {
	_, path, _ := strings.Cut(problem, ":")
	return strings.TrimSpace(path)
}
