package main

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"strings"
)

// markerPrefix starts every marker line.
const markerPrefix = "//chapter:"

// ignoreConstraint is the build constraint that range-tagged files carry,
// so that the final build (mydocker/) skips them.
const ignoreConstraint = "//go:build ignore"

// finalOnly is the "chapter" of the lines in a //chapter:final block: later
// than every chapter, so no chapter has them, and only mydocker/ does.
const finalOnly = 1 << 30

// markerKind tells the four kinds of marker apart.
type markerKind int

const (
	markChapter markerKind = iota + 1 // //chapter:SLUG
	markEnd                           // //chapter:end
	markRange                         // //chapter:A..B
	markFinal                         // //chapter:final
)

// marker is one parsed marker line. Markers name chapters by slug, never by
// number, so that a chapter inserted in the middle of the course renumbers
// the chapters after it without a marker being touched.
type marker struct {
	kind     markerKind
	from, to string // the slug for markChapter; A and B for markRange
}

// parseMarker reports whether line is a marker line (a line holding only a
// marker, with any indentation) and which marker it holds. A line that
// starts with //chapter: but holds no valid marker is an error.
func parseMarker(line string) (m marker, isMarker bool, err error) {
	arg, ok := strings.CutPrefix(strings.TrimSpace(line), markerPrefix)
	if !ok {
		return marker{}, false, nil
	}
	m, ok = parseMarkerArg(arg)
	if !ok {
		return marker{}, true, fmt.Errorf("malformed marker %q: want //chapter:SLUG, //chapter:end, //chapter:A..B (two slugs) or //chapter:final, a chapter named by its slug in chapters.txt", strings.TrimSpace(line))
	}
	return m, true, nil
}

// parseMarkerArg parses what follows "//chapter:".
func parseMarkerArg(arg string) (marker, bool) {
	switch arg {
	case "end":
		return marker{kind: markEnd}, true
	case "final":
		return marker{kind: markFinal}, true
	}
	if a, b, isRange := strings.Cut(arg, ".."); isRange {
		return marker{kind: markRange, from: a, to: b}, isSlug(a) && isSlug(b)
	}
	return marker{kind: markChapter, from: arg}, isSlug(arg)
}

// isSlug says whether s can be a chapter's slug. A number cannot: markers
// name chapters, they do not count them.
func isSlug(s string) bool {
	return slugPattern.MatchString(s) && strings.Trim(s, "0123456789") != ""
}

// hasTrailingMarker reports whether a marker follows code on the same line,
// like `x := 1 //chapter:2`. Such a marker would silently do nothing.
func hasTrailingMarker(line string) bool {
	i := strings.Index(line, markerPrefix)
	if i <= 0 || strings.TrimSpace(line[:i]) == "" {
		return false
	}
	_, ok := parseMarkerArg(strings.TrimSpace(line[i+len(markerPrefix):]))
	return ok
}

// sourceFile is one file under mydocker/, with its chapter markers read.
type sourceFile struct {
	Path      string // slash-separated path below mydocker/, e.g. "internal/container/spec.go"
	IsGo      bool   // Go files are filtered by chapter; other files are copied as they are
	Data      []byte // the file's contents
	First     int    // the first chapter the file is in
	Last      int    // the last chapter the file is in
	FinalOnly bool   // tagged //chapter:final: in mydocker/ only, in no chapter
	Ranged    bool   // tagged //chapter:A..B: in chapters A to B, not in mydocker/'s build
	Markers   int    // how many marker lines the file has

	lines []sourceLine // the lines of a Go file
}

// sourceLine is one line of a Go source file.
type sourceLine struct {
	text  string
	num   int  // 1-based line number in the file
	since int  // the line is in chapters >= since (0: whenever the file is)
	drop  bool // a marker or the //go:build ignore of a range file: never written
}

// where returns "mydocker/<path>:<line>" for error messages, or only the
// path when line is 0.
func (f *sourceFile) where(line int) string {
	if line == 0 {
		return srcDir + "/" + f.Path
	}
	return fmt.Sprintf("%s/%s:%d", srcDir, f.Path, line)
}

// InChapter reports whether the file is part of chapter c.
func (f *sourceFile) InChapter(c int) bool {
	return !f.FinalOnly && f.First <= c && c <= f.Last
}

// chapterText returns the Go file as it reads in chapter c: without the
// lines of later chapters' blocks and without marker lines. lineNums holds
// the source line number of each line returned, for error messages.
func (f *sourceFile) chapterText(c int) (text []byte, lineNums []int) {
	var b strings.Builder
	for _, line := range f.lines {
		if line.drop || line.since > c {
			continue
		}
		b.WriteString(line.text)
		b.WriteByte('\n')
		lineNums = append(lineNums, line.num)
	}
	return []byte(b.String()), lineNums
}

// lineContaining returns the number of the first line that contains s,
// or 0 if none does.
func (f *sourceFile) lineContaining(s string) int {
	for _, line := range f.lines {
		if strings.Contains(line.text, s) {
			return line.num
		}
	}
	return 0
}

// openBlock is a //chapter:SLUG block that has not been closed yet.
type openBlock struct {
	chapter int // N
	since   int // the largest N of this block and the blocks around it
	line    int // line number of the //chapter:SLUG line
}

// markerReader keeps what parseGoFile has learnt about a file so far.
type markerReader struct {
	f          *sourceFile
	chapters   Chapters
	errs       []error
	tagLine    int // line of the file tag, if any
	ignoreLine int // line of //go:build ignore, if any
	blocks     []openBlock
}

// parseGoFile reads the markers of a Go file and checks them against the
// rules of the marker language. It reports every problem it finds, each
// as "mydocker/<path>:<line>: what is wrong".
func parseGoFile(path string, data []byte, chapters Chapters) (*sourceFile, error) {
	f := &sourceFile{
		Path:  path,
		IsGo:  true,
		Data:  data,
		First: chapters.First().Num,
		Last:  chapters.Final().Num,
	}

	// Markers before the package clause tag the whole file; markers
	// after it open and close blocks. Ask the Go parser where it is.
	fset := token.NewFileSet()
	clause, err := parser.ParseFile(fset, f.where(0), data, parser.PackageClauseOnly)
	if err != nil {
		return nil, fmt.Errorf("finding the package clause: %w", err)
	}
	packageLine := fset.Position(clause.Package).Line

	r := &markerReader{f: f, chapters: chapters}
	text := strings.TrimSuffix(string(data), "\n")
	for i, lineText := range strings.Split(text, "\n") {
		line := sourceLine{text: strings.TrimSuffix(lineText, "\r"), num: i + 1}
		if len(r.blocks) > 0 {
			line.since = r.blocks[len(r.blocks)-1].since
		}
		inHeader := line.num < packageLine

		m, isMarker, err := parseMarker(line.text)
		switch {
		case err != nil:
			r.fail(line.num, "%v", err)
		case !isMarker:
			if inHeader && strings.TrimSpace(line.text) == ignoreConstraint {
				r.ignoreLine = line.num
			}
			if hasTrailingMarker(line.text) {
				r.fail(line.num, "a marker must be on a line of its own, not after code")
			}
		case inHeader:
			r.fileTag(line.num, m)
		case m.kind == markChapter:
			r.openBlock(line.num, r.number(line.num, m.from), line.since)
		case m.kind == markEnd:
			r.closeBlock(line.num)
		case m.kind == markFinal:
			r.openFinalBlock(line.num)
		default:
			r.fail(line.num, "file tag %s must come before the package clause", strings.TrimSpace(line.text))
		}

		if isMarker {
			line.drop = true
			f.Markers++
		}
		f.lines = append(f.lines, line)
	}
	r.finish()
	if len(r.errs) > 0 {
		return nil, errors.Join(r.errs...)
	}
	return f, nil
}

// fail records a problem on a line.
func (r *markerReader) fail(line int, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", r.f.where(line), fmt.Sprintf(format, args...)))
}

// number returns the number of the chapter whose slug is slug, and records
// a problem if there is none.
func (r *markerReader) number(line int, slug string) int {
	c, ok := r.chapters.BySlug(slug)
	if !ok {
		r.fail(line, "chapter %q is not in chapters.txt", slug)
	}
	return c.Num
}

// fileTag reads a marker before the package clause: the file's tag.
func (r *markerReader) fileTag(line int, m marker) {
	final := r.chapters.Final().Num
	switch {
	case m.kind == markEnd:
		r.fail(line, "//chapter:end before the package clause: blocks start after it")
		return
	case r.tagLine != 0:
		r.fail(line, "second file tag (the first is on line %d): a file has at most one", r.tagLine)
		return
	}
	r.tagLine = line
	switch m.kind {
	case markChapter:
		r.f.First = r.number(line, m.from)
	case markRange:
		from, to := r.number(line, m.from), r.number(line, m.to)
		if from > to {
			r.fail(line, "range //chapter:%s..%s ends before it starts", m.from, m.to)
		}
		if to >= final {
			r.fail(line, "range //chapter:%s..%s must end before the final chapter %s (a file that reaches the final chapter needs no range)", m.from, m.to, r.chapters.Final().Slug)
		}
		r.f.Ranged, r.f.First, r.f.Last = true, from, to
	case markFinal:
		r.f.FinalOnly = true
	}
}

// openBlock reads a //chapter:SLUG line after the package clause. since is
// the chapter of the blocks around it (0 if none).
func (r *markerReader) openBlock(line, n, since int) {
	name := r.chapters.Name
	switch {
	case n == 0:
		// not a chapter: already reported
	case r.f.FinalOnly:
		r.fail(line, "a //chapter:final file is in no chapter, so it may not hold //chapter:SLUG blocks")
	case n < r.f.First:
		r.fail(line, "block //chapter:%s is earlier than the file itself, which starts in chapter %s", name(n), name(r.f.First))
	case r.f.Ranged && n > r.f.Last:
		r.fail(line, "block //chapter:%s is later than the file's range %s..%s", name(n), name(r.f.First), name(r.f.Last))
	case len(r.blocks) > 0 && n < r.blocks[len(r.blocks)-1].chapter:
		outer := r.blocks[len(r.blocks)-1]
		r.fail(line, "block //chapter:%s is nested in the block //chapter:%s of line %d: an inner block may not be earlier", name(n), name(outer.chapter), outer.line)
	}
	r.blocks = append(r.blocks, openBlock{chapter: n, since: max(n, since), line: line})
}

// openFinalBlock reads a //chapter:final line after the package clause: a
// block of lines that only mydocker/ has, such as the registration of a
// command that is no chapter's lesson.
func (r *markerReader) openFinalBlock(line int) {
	if r.f.FinalOnly || r.f.Ranged {
		r.fail(line, "a //chapter:final block belongs in a file that reaches mydocker/ and is in chapters too")
	}
	r.blocks = append(r.blocks, openBlock{chapter: finalOnly, since: finalOnly, line: line})
}

// closeBlock reads a //chapter:end line.
func (r *markerReader) closeBlock(line int) {
	if len(r.blocks) == 0 {
		r.fail(line, "//chapter:end without an open //chapter:SLUG block")
		return
	}
	r.blocks = r.blocks[:len(r.blocks)-1]
}

// finish checks what can only be checked at the end of the file: open
// blocks and the //go:build ignore line.
func (r *markerReader) finish() {
	for _, b := range r.blocks {
		r.fail(b.line, "block //chapter:%s is never closed: add a //chapter:end line", r.chapters.Name(b.chapter))
	}
	switch {
	case r.f.Ranged && r.ignoreLine == 0:
		r.fail(r.tagLine, "a //chapter:A..B file needs the line %q before the package clause, so that mydocker/ does not build it", ignoreConstraint)
	case r.f.Ranged:
		r.f.lines[r.ignoreLine-1].drop = true
	case r.ignoreLine != 0:
		r.fail(r.ignoreLine, "only //chapter:A..B files may carry %q: any other file is part of mydocker/'s build", ignoreConstraint)
	}
}
