// Command chaptergen generates the chapters of the course from the final
// program in mydocker/.
//
// The Go files in mydocker/ carry marker lines that say in which chapter
// each file and each block of lines first appears. For every chapter in
// tools/chaptergen/chapters.txt, chaptergen keeps the lines that exist in
// that chapter, fixes the imports, and writes the result to
// chapters/NN-slug/, plus the change from the chapter before to
// docs/diffs/NN-slug.diff. See README.md for the marker language.
//
// Usage, from the repository root:
//
//	go run ./tools/chaptergen          # regenerate chapters/ and docs/diffs/
//	go run ./tools/chaptergen -check   # exit 1 if they are out of date
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// errStale is returned by -check when the committed chapters differ from
// freshly generated ones.
var errStale = errors.New("chapters/ is stale: run make chapters")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs chaptergen with the command-line arguments args and returns
// the exit code: 0 on success, 1 on failure, 2 on a usage mistake.
func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("chaptergen", flag.ContinueOnError)
	flags.SetOutput(stderr)
	root := flags.String("root", ".", "the repository root: the directory holding go.mod and mydocker/")
	check := flags.Bool("check", false, "write nothing; report files of chapters/ and docs/diffs/ that are out of date and exit 1 if any are")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "chaptergen: unexpected arguments %q\n", flags.Args())
		flags.Usage()
		return 2
	}

	var err error
	if *check {
		err = checkChapters(*root, stdout)
	} else {
		err = generateChapters(*root, stdout)
	}
	if err != nil {
		// errors.Join puts one problem on each line.
		for line := range strings.Lines(err.Error()) {
			fmt.Fprintf(stderr, "chaptergen: %s", strings.TrimSuffix(line, "\n")+"\n")
		}
		return 1
	}
	return 0
}

// generateChapters regenerates chapters/ and docs/diffs/ below root.
// Everything is generated and checked before anything is written.
func generateChapters(root string, stdout io.Writer) error {
	p, err := loadProject(root)
	if err != nil {
		return err
	}
	outputs, err := p.generate()
	if err != nil {
		return err
	}
	if err := writeOutputs(root, outputs); err != nil {
		return err
	}
	markers, lines := p.markerCount()
	fmt.Fprintf(stdout, "chaptergen: wrote %d chapters to %s/ and %s/ (%d marker lines in %d lines of Go, %.1f%%)\n",
		len(outputs), chaptersDir, diffsDir, markers, lines, 100*float64(markers)/float64(max(lines, 1)))
	return nil
}

// checkChapters reports every generated file below root that is out of
// date, and returns errStale if there is any.
func checkChapters(root string, stdout io.Writer) error {
	p, err := loadProject(root)
	if err != nil {
		return err
	}
	outputs, err := p.generate()
	if err != nil {
		return err
	}
	problems, err := findStale(root, outputs)
	if err != nil {
		return err
	}
	for _, problem := range problems {
		fmt.Fprintln(stdout, problem)
	}
	if len(problems) > 0 {
		return errStale
	}
	return nil
}

// markerCount returns how many marker lines the Go files of mydocker/
// have, and how many lines they have in all.
func (p *project) markerCount() (markers, lines int) {
	for _, f := range p.sources {
		if f.IsGo {
			markers += f.Markers
			lines += len(f.lines)
		}
	}
	return markers, lines
}
