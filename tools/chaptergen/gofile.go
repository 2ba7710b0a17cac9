package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/scanner"
	"go/token"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/ast/astutil"
)

// importRewrite turns import paths of mydocker/ packages into the import
// paths of the same packages in a chapter directory.
type importRewrite struct {
	from string // e.g. "github.com/mydocker/mydocker/mydocker"
	to   string // e.g. "github.com/mydocker/mydocker/chapters/02-pid"
}

// newImportRewrite returns the rewrite for chapter c of the module.
func newImportRewrite(module string, c Chapter) importRewrite {
	return importRewrite{
		from: module + "/" + srcDir,
		to:   module + "/" + chaptersDir + "/" + c.Dir(),
	}
}

// rewrite returns the chapter's import path for path, and whether path
// belongs to mydocker/ at all.
func (r importRewrite) rewrite(path string) (string, bool) {
	if path == r.from {
		return r.to, true
	}
	if rest, ok := strings.CutPrefix(path, r.from+"/"); ok {
		return r.to + "/" + rest, true
	}
	return path, false
}

// rewriteImports changes the file's imports of mydocker/ packages to
// import the chapter's copies instead. Only import declarations change:
// the same text in a string or a comment stays as it is.
func rewriteImports(file *ast.File, r importRewrite) {
	for _, spec := range file.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		if newPath, ok := r.rewrite(path); ok {
			spec.Path.Value = strconv.Quote(newPath)
		}
	}
}

// dropUnusedImports deletes the imports that the chapter's version of a
// file no longer uses because the code that used them comes in a later
// chapter. Go refuses to build a file with an unused import.
//
// We do not use golang.org/x/tools/imports (goimports) for this. Besides
// deleting, it adds an import for any name it can find in the standard
// library or the module cache: when a block mistake leaves a chapter using
// a package whose import line was cut away, it would quietly add an import
// (for rand.Int it picks crypto/rand) instead of letting the build fail.
// It also runs the go command and walks the module cache, and it needs
// golang.org/x/mod and golang.org/x/sync in go.mod.
//
// A chapter never needs an import that mydocker/ lacks: it only loses
// code. So we only delete, and only an import that the complete file (as
// it reads in its last chapter) uses but the chapter's version does not.
// If our guess of a package's name is wrong, the complete file shows no
// use of that name and the import is kept: the chapter's build will then
// say so, and an explicit import name fixes it.
func dropUnusedImports(fset *token.FileSet, chapter, complete *ast.File) {
	// Clone: DeleteNamedImport changes chapter.Imports as we go.
	for _, spec := range slices.Clone(chapter.Imports) {
		name := importName(spec)
		if name == "_" || name == "." {
			continue // used for side effects or without a name: keep it
		}
		if usesName(complete, name) && !usesName(chapter, name) {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				continue
			}
			explicitName := ""
			if spec.Name != nil {
				explicitName = spec.Name.Name
			}
			astutil.DeleteNamedImport(fset, chapter, explicitName, path)
		}
	}
}

// importName returns the name under which a file refers to an import:
// its explicit name, or else a guess from the import path.
func importName(spec *ast.ImportSpec) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	path, err := strconv.Unquote(spec.Path.Value)
	if err != nil {
		return ""
	}
	return guessPackageName(path)
}

// guessPackageName guesses a package's name from its import path the way
// people name packages: the last path element ("os/exec" is exec), skipping
// a major version ("math/rand/v2" is rand) and a ".vN" suffix
// ("gopkg.in/yaml.v3" is yaml).
func guessPackageName(path string) string {
	elems := strings.Split(path, "/")
	name := elems[len(elems)-1]
	if len(elems) > 1 && isMajorVersion(name) {
		name = elems[len(elems)-2]
	}
	name, _, _ = strings.Cut(name, ".")
	return name
}

// isMajorVersion reports whether elem is a major version suffix like "v2".
func isMajorVersion(elem string) bool {
	digits, ok := strings.CutPrefix(elem, "v")
	return ok && digits != "" && strings.Trim(digits, "0123456789") == ""
}

// usesName reports whether the file refers to something in a package
// called name, as in name.Func or name.Type. It does not notice a local
// variable that hides the package name; at worst that keeps an import.
func usesName(file *ast.File, name string) bool {
	used := false
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == name {
				used = true
			}
		}
		return !used
	})
	return used
}

// generatedHeader returns the comment that starts every generated Go file.
// The first line follows Go's convention for generated code (see
// https://go.dev/s/generatedcode). The blank line after it keeps the
// header out of a package doc comment that follows.
func generatedHeader(path string) string {
	return "// Code generated by chaptergen from " + srcDir + "/" + path + "; DO NOT EDIT.\n" +
		"// To change this file, edit " + srcDir + "/" + path + " and run `make chapters`.\n" +
		"\n"
}

// renderGo returns the Go file f as it is written into chapter c: later
// chapters' blocks and the markers removed, imports fixed, gofmt-ed, and
// with the generated-code header on top.
func renderGo(f *sourceFile, c Chapter, module string) ([]byte, error) {
	text, lineNums := f.chapterText(c.Num)
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, f.Path, text, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, chapterParseError(f, c, err, lineNums)
	}
	completeText, _ := f.chapterText(f.Last)
	complete, err := parser.ParseFile(token.NewFileSet(), f.Path, completeText, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing the complete file: %w", f.where(0), err)
	}

	dropUnusedImports(fset, file, complete)
	rewriteImports(file, newImportRewrite(module, c))

	var buf bytes.Buffer
	if err := format.Node(&buf, fset, file); err != nil {
		return nil, fmt.Errorf("%s: printing chapter %s: %w", f.where(0), c.Dir(), err)
	}
	// Printing an edited syntax tree can leave odd blank lines where an
	// import was; a second pass through gofmt settles them.
	formatted, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: formatting chapter %s: %w", f.where(0), c.Dir(), err)
	}
	return append([]byte(generatedHeader(f.Path)), formatted...), nil
}

// chapterParseError explains that chapter c's version of f is not valid
// Go, which happens when a block starts or ends in the middle of a
// statement. It points at the source line, not the line in the chapter.
func chapterParseError(f *sourceFile, c Chapter, err error, lineNums []int) error {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 || len(lineNums) == 0 {
		return fmt.Errorf("%s: chapter %s is not valid Go: %w", f.where(0), c.Dir(), err)
	}
	first := list[0]
	// Line numbers past the end (an error at end of file) point at the
	// last line the chapter kept.
	i := min(max(first.Pos.Line, 1), len(lineNums)) - 1
	return fmt.Errorf("%s: chapter %s is not valid Go here (does a //chapter: block cut a statement in two?): %s",
		f.where(lineNums[i]), c.Dir(), first.Msg)
}
