package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The places, relative to the repository root, that chaptergen reads and writes.
const (
	srcDir      = "mydocker"                      // the final program, with markers
	chaptersDir = "chapters"                      // chapters/NN-slug/ are generated
	diffsDir    = "docs/diffs"                    // docs/diffs/NN-slug.diff are generated
	chapterList = "tools/chaptergen/chapters.txt" // the list of chapters
)

// project is the repository chaptergen works on.
type project struct {
	root     string   // the repository root, holding go.mod
	module   string   // the module path from go.mod
	chapters Chapters // the chapters, from chapters.txt
	sources  []*sourceFile
}

// loadProject reads go.mod, the chapter list and every file under mydocker/,
// and checks the markers of the Go files.
func loadProject(root string) (*project, error) {
	module, err := readModulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	chapters, err := readChapters(filepath.Join(root, filepath.FromSlash(chapterList)), chapterList)
	if err != nil {
		return nil, err
	}
	p := &project{root: root, module: module, chapters: chapters}
	if err := p.loadSources(); err != nil {
		return nil, err
	}
	return p, nil
}

// loadSources reads every file under mydocker/.
func (p *project) loadSources() error {
	dir := filepath.Join(p.root, srcDir)
	var errs []error
	err := filepath.WalkDir(dir, func(file string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entry.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, file)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !entry.Type().IsRegular() {
			errs = append(errs, fmt.Errorf("%s/%s: not a regular file (symbolic links are not supported)", srcDir, rel))
			return nil
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if !isGoSource(rel) {
			p.sources = append(p.sources, &sourceFile{
				Path: rel, Data: data,
				First: p.chapters.First().Num, Last: p.chapters.Final().Num,
			})
			return nil
		}
		source, err := parseGoFile(rel, data, p.chapters)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		p.sources = append(p.sources, source)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading %s/: %w", srcDir, err)
	}
	return errors.Join(errs...)
}

// isGoSource reports whether the file at the slash path rel is Go source
// that chaptergen filters. Go files below a testdata directory are test
// input, which the go command ignores; they are copied as they are.
func isGoSource(rel string) bool {
	return strings.HasSuffix(rel, ".go") && !slices.Contains(strings.Split(rel, "/"), "testdata")
}

// tree is a set of files: contents by slash-separated path.
type tree map[string][]byte

// chapterOutput is what chaptergen writes for one chapter.
type chapterOutput struct {
	chapter Chapter
	files   tree   // the files of chapters/NN-slug/
	diff    []byte // docs/diffs/NN-slug.diff: the change from the chapter before
}

// generate builds every chapter in memory and checks the result.
// Nothing is written yet.
func (p *project) generate() ([]chapterOutput, error) {
	var (
		outputs []chapterOutput
		errs    []error
		broken  = map[string]bool{} // files that failed to render: reported once, by path
	)
	for _, c := range p.chapters {
		files := tree{}
		for _, f := range p.sources {
			if !f.InChapter(c.Num) || broken[f.Path] {
				continue
			}
			if !f.IsGo {
				files[f.Path] = f.Data
				continue
			}
			out, err := renderGo(f, c, p.module)
			if err != nil {
				errs = append(errs, err)
				broken[f.Path] = true
				continue
			}
			files[f.Path] = out
		}
		if len(broken) == 0 {
			// With a file missing, its package may seem missing too.
			errs = append(errs, p.checkLocalImports(c, files))
		}
		outputs = append(outputs, chapterOutput{chapter: c, files: files})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := p.checkFinal(outputs[len(outputs)-1]); err != nil {
		return nil, err
	}

	for i := range outputs {
		previous := tree{} // the first chapter starts from nothing
		if i > 0 {
			previous = p.movedTo(outputs[i-1], outputs[i].chapter)
		}
		diff, err := unifiedDiff(previous, outputs[i].files)
		if err != nil {
			return nil, fmt.Errorf("diffing chapter %s: %w", outputs[i].chapter.Dir(), err)
		}
		outputs[i].diff = diff
	}
	return outputs, nil
}

// movedTo returns the files of the chapter out as they would read in the
// directory of chapter c: with c's import paths. Every chapter imports its
// own packages, so without this each chapter's diff would be full of
// changed import lines that have nothing to do with the lesson.
func (p *project) movedTo(out chapterOutput, c Chapter) tree {
	from := `"` + newImportRewrite(p.module, out.chapter).to
	to := `"` + newImportRewrite(p.module, c).to
	moved := tree{}
	for name, data := range out.files {
		if isGoSource(name) {
			data = bytes.ReplaceAll(data, []byte(from+"/"), []byte(to+"/"))
			data = bytes.ReplaceAll(data, []byte(from+`"`), []byte(to+`"`))
		}
		moved[name] = data
	}
	return moved
}

// checkLocalImports checks that every mydocker/ package a chapter imports
// is in that chapter too. It is not when the imported package's files are
// tagged with a later chapter or with //chapter:final.
func (p *project) checkLocalImports(c Chapter, files tree) error {
	prefix := newImportRewrite(p.module, c).to + "/"

	// The directories that hold a package in this chapter.
	packages := map[string]bool{}
	for name := range files {
		if isGoSource(name) && !strings.HasSuffix(name, "_test.go") {
			packages[path.Dir(name)] = true
		}
	}

	var errs []error
	for _, f := range p.sources {
		out, ok := files[f.Path]
		if !f.IsGo || !ok {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f.Path, out, parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("%s: reading the imports of chapter %s: %w", f.where(0), c.Dir(), err)
		}
		for _, spec := range file.Imports {
			importPath, _ := strconv.Unquote(spec.Path.Value)
			dir, ok := strings.CutPrefix(importPath, prefix)
			if !ok || packages[dir] {
				continue
			}
			line := f.lineContaining(strconv.Quote(p.module + "/" + srcDir + "/" + dir))
			errs = append(errs, fmt.Errorf("%s: chapter %s imports %s/%s, which has no Go files in that chapter (are they tagged with a later chapter or //chapter:final?)",
				f.where(line), c.Dir(), srcDir, dir))
		}
	}
	return errors.Join(errs...)
}

// checkFinal checks that the final chapter is mydocker/ itself: every file
// except those tagged //chapter:final, and every line except the markers.
// It works from the raw source, not from the block filter, so a bug in
// the filter cannot hide a lost line.
func (p *project) checkFinal(final chapterOutput) error {
	dir := final.chapter.Dir()
	want := map[string]bool{}
	for _, f := range p.sources {
		if f.FinalOnly || f.Ranged {
			continue
		}
		want[f.Path] = true
		got, ok := final.files[f.Path]
		if !ok {
			return fmt.Errorf("%s: missing from the final chapter %s", f.where(0), dir)
		}
		expected := f.Data
		if f.IsGo {
			stripped, err := withoutMarkers(f.Data, newImportRewrite(p.module, final.chapter))
			if err != nil {
				return fmt.Errorf("%s: %w", f.where(0), err)
			}
			expected = append([]byte(generatedHeader(f.Path)), stripped...)
		}
		if line, gotLine, wantLine, differ := firstDifference(got, expected); differ {
			return fmt.Errorf("%s: the final chapter lost or changed a line: %s/%s/%s:%d is %q but should be %q",
				f.where(0), chaptersDir, dir, f.Path, line, gotLine, wantLine)
		}
	}
	for _, name := range sortedNames(final.files) {
		if !want[name] {
			return fmt.Errorf("the final chapter %s has %s, which is not a file of %s/", dir, name, srcDir)
		}
	}
	return nil
}

// withoutMarkers returns a Go source with every marker line and every
// //chapter:final block removed, its mydocker/ imports rewritten, and
// gofmt-ed: what the final chapter must hold.
func withoutMarkers(src []byte, r importRewrite) ([]byte, error) {
	var kept strings.Builder
	finalDepth := 0 // > 0 inside a //chapter:final block
	for line := range strings.Lines(string(src)) {
		m, isMarker, _ := parseMarker(line)
		switch {
		case !isMarker:
			if finalDepth == 0 {
				kept.WriteString(line)
			}
		case m.kind == markFinal:
			finalDepth++
		case finalDepth > 0 && m.kind == markChapter:
			finalDepth++
		case finalDepth > 0 && m.kind == markEnd:
			finalDepth--
		}
	}
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", kept.String(), parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parsing without markers: %w", err)
	}
	rewriteImports(file, r)
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, file); err != nil {
		return nil, fmt.Errorf("printing without markers: %w", err)
	}
	formatted, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting without markers: %w", err)
	}
	return formatted, nil
}

// firstDifference compares two texts line by line. It returns the 1-based
// number of the first line that differs and that line in each text.
// A text that has ended shows as "<end of file>".
func firstDifference(got, want []byte) (line int, gotLine, wantLine string, differ bool) {
	gotLines := strings.Split(string(got), "\n")
	wantLines := strings.Split(string(want), "\n")
	lineAt := func(lines []string, i int) string {
		if i < len(lines) {
			return lines[i]
		}
		return "<end of file>"
	}
	for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
		g, w := lineAt(gotLines, i), lineAt(wantLines, i)
		if g != w {
			return i + 1, g, w, true
		}
	}
	return 0, "", "", false
}

// sortedNames returns the paths of a tree in sorted order.
func sortedNames(t tree) []string {
	names := make([]string, 0, len(t))
	for name := range t {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
