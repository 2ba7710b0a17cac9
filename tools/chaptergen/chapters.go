package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Chapter is one line of chapters.txt: one numbered step of the course.
type Chapter struct {
	Num   int    // chapter number, e.g. 2
	Slug  string // short name for directory names, e.g. "pid"
	Title string // title for people, e.g. "PID and IPC namespaces"
}

// Dir returns the name of the chapter's directory, e.g. "02-pid".
func (c Chapter) Dir() string {
	return fmt.Sprintf("%02d-%s", c.Num, c.Slug)
}

// Chapters is the list of chapters in course order.
// The last one is the final chapter, whose code is mydocker/ itself.
type Chapters []Chapter

// First returns the first chapter of the course.
func (cs Chapters) First() Chapter {
	return cs[0]
}

// Final returns the last chapter of the course.
func (cs Chapters) Final() Chapter {
	return cs[len(cs)-1]
}

// Has reports whether a chapter with number num is in the list.
func (cs Chapters) Has(num int) bool {
	for _, c := range cs {
		if c.Num == num {
			return true
		}
	}
	return false
}

// BySlug returns the chapter whose slug is slug.
func (cs Chapters) BySlug(slug string) (Chapter, bool) {
	for _, c := range cs {
		if c.Slug == slug {
			return c, true
		}
	}
	return Chapter{}, false
}

// Name returns the slug of the chapter numbered num, as markers name it:
// "final" for the lines that only mydocker/ has.
func (cs Chapters) Name(num int) string {
	if num == finalOnly {
		return "final"
	}
	for _, c := range cs {
		if c.Num == num {
			return c.Slug
		}
	}
	return strconv.Itoa(num)
}

// slugPattern is what a chapter slug may look like: lower-case words
// joined by dashes, so that it is safe in directory and file names.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// readChapters reads the chapter list from the file at path.
// name is the path to show in error messages.
func readChapters(path, name string) (Chapters, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the chapter list: %w", err)
	}
	return parseChapters(name, data)
}

// parseChapters parses a chapter list: one chapter a line, written as
// "NN slug Title words...". Blank lines and lines starting with # are
// ignored. Chapter numbers have two digits and must go up.
func parseChapters(name string, data []byte) (Chapters, error) {
	var chapters Chapters
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for lineNum := 1; scanner.Scan(); lineNum++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 3 {
			return nil, fmt.Errorf("%s:%d: want \"NN slug Title words...\", got %q", name, lineNum, line)
		}
		num, err := strconv.Atoi(fields[0])
		if err != nil || len(fields[0]) != 2 || num < 0 {
			return nil, fmt.Errorf("%s:%d: chapter number %q is not two digits like 01", name, lineNum, fields[0])
		}
		if !slugPattern.MatchString(fields[1]) {
			return nil, fmt.Errorf("%s:%d: slug %q may only hold lower-case letters, digits and dashes", name, lineNum, fields[1])
		}
		if n := len(chapters); n > 0 && num <= chapters[n-1].Num {
			return nil, fmt.Errorf("%s:%d: chapter %02d comes after chapter %02d: numbers must go up", name, lineNum, num, chapters[n-1].Num)
		}
		chapters = append(chapters, Chapter{
			Num:   num,
			Slug:  fields[1],
			Title: strings.Join(fields[2:], " "),
		})
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(chapters) == 0 {
		return nil, fmt.Errorf("%s: no chapters listed", name)
	}
	return chapters, nil
}

// readModulePath returns the module path declared in the go.mod file at path.
func readModulePath(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the module path: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		line, _, _ = strings.Cut(line, "//")
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		module := strings.TrimSpace(rest)
		if unquoted, err := strconv.Unquote(module); err == nil {
			module = unquoted
		}
		if module != "" {
			return module, nil
		}
	}
	return "", fmt.Errorf("%s has no module line", path)
}
