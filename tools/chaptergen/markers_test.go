package main

import (
	"strings"
	"testing"
)

// testChapters is the chapter list of the unit tests.
var testChapters = Chapters{
	{Num: 1, Slug: "uts", Title: "The UTS namespace"},
	{Num: 2, Slug: "pid", Title: "PID and IPC namespaces"},
	{Num: 3, Slug: "mount", Title: "Mount namespace and pivot_root"},
}

// lines joins its arguments as the lines of a file.
func lines(ls ...string) string {
	return strings.Join(ls, "\n") + "\n"
}

func TestChapterText(t *testing.T) {
	blocks := lines(
		"package p",
		"",
		"func f() {",
		"\tone()",
		"\t//chapter:pid",
		"\ttwo()",
		"\t//chapter:mount",
		"\tthree()",
		"\t//chapter:end",
		"\ttwoAgain()",
		"\t//chapter:end",
		"}",
	)
	ranged := lines(
		"//chapter:uts..pid",
		"//go:build ignore",
		"",
		"package p",
		"",
		"func f() {",
		"\tone()",
		"\t//chapter:pid",
		"\ttwo()",
		"\t//chapter:end",
		"}",
	)
	tests := []struct {
		name    string
		src     string
		chapter int
		want    string // "" when the file is not in the chapter
	}{
		{
			name:    "untagged file is in the first chapter",
			src:     lines("package p", "", "var x = 1"),
			chapter: 1,
			want:    lines("package p", "", "var x = 1"),
		},
		{
			name:    "file tag keeps the file out of earlier chapters",
			src:     lines("//chapter:pid", "", "package p"),
			chapter: 1,
			want:    "",
		},
		{
			name:    "file tag line is dropped",
			src:     lines("//chapter:pid", "", "// Package p is small.", "package p"),
			chapter: 2,
			want:    lines("", "// Package p is small.", "package p"),
		},
		{
			name:    "chapter 1 drops both blocks",
			src:     blocks,
			chapter: 1,
			want:    lines("package p", "", "func f() {", "\tone()", "}"),
		},
		{
			name:    "chapter 2 keeps the outer block only",
			src:     blocks,
			chapter: 2,
			want:    lines("package p", "", "func f() {", "\tone()", "\ttwo()", "\ttwoAgain()", "}"),
		},
		{
			name:    "chapter 3 keeps the nested block",
			src:     blocks,
			chapter: 3,
			want:    lines("package p", "", "func f() {", "\tone()", "\ttwo()", "\tthree()", "\ttwoAgain()", "}"),
		},
		{
			name:    "range file drops its tag and its build constraint",
			src:     ranged,
			chapter: 1,
			want:    lines("", "package p", "", "func f() {", "\tone()", "}"),
		},
		{
			name:    "range file keeps its blocks within the range",
			src:     ranged,
			chapter: 2,
			want:    lines("", "package p", "", "func f() {", "\tone()", "\ttwo()", "}"),
		},
		{
			name:    "range file is gone after its range",
			src:     ranged,
			chapter: 3,
			want:    "",
		},
		{
			name:    "a final block is in no chapter, not even the final one",
			src:     lines("package p", "", "var x = []int{", "\t1,", "\t//chapter:final", "\t2,", "\t//chapter:end", "}"),
			chapter: 3,
			want:    lines("package p", "", "var x = []int{", "\t1,", "}"),
		},
		{
			name:    "final file is in no chapter, not even the final one",
			src:     lines("//chapter:final", "", "package p"),
			chapter: 3,
			want:    "",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			f, err := parseGoFile("p.go", []byte(test.src), testChapters)
			if err != nil {
				t.Fatalf("parseGoFile: %v", err)
			}
			if !f.InChapter(test.chapter) {
				if test.want != "" {
					t.Fatalf("file is not in chapter %d, want it in", test.chapter)
				}
				return
			}
			if test.want == "" {
				t.Fatalf("file is in chapter %d, want it out", test.chapter)
			}
			got, _ := f.chapterText(test.chapter)
			if string(got) != test.want {
				t.Errorf("chapter %d text:\n%s\nwant:\n%s", test.chapter, got, test.want)
			}
		})
	}
}

func TestParseGoFileErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // a part of the error message
	}{
		{
			name: "unclosed block",
			src:  lines("package p", "", "//chapter:pid", "var x = 1"),
			want: "mydocker/p.go:3: block //chapter:pid is never closed",
		},
		{
			name: "stray end",
			src:  lines("package p", "", "var x = 1", "//chapter:end"),
			want: "mydocker/p.go:4: //chapter:end without an open //chapter:SLUG block",
		},
		{
			name: "end before the package clause",
			src:  lines("//chapter:end", "package p"),
			want: "mydocker/p.go:1: //chapter:end before the package clause",
		},
		{
			name: "unknown chapter in a block",
			src:  lines("package p", "//chapter:net", "//chapter:end"),
			want: `mydocker/p.go:2: chapter "net" is not in chapters.txt`,
		},
		{
			name: "unknown chapter in a file tag",
			src:  lines("//chapter:net", "package p"),
			want: `mydocker/p.go:1: chapter "net" is not in chapters.txt`,
		},
		{
			name: "block earlier than the file",
			src:  lines("//chapter:pid", "package p", "//chapter:uts", "//chapter:end"),
			want: "mydocker/p.go:3: block //chapter:uts is earlier than the file itself, which starts in chapter pid",
		},
		{
			name: "inner block earlier than the outer one",
			src:  lines("package p", "//chapter:mount", "//chapter:pid", "//chapter:end", "//chapter:end"),
			want: "mydocker/p.go:3: block //chapter:pid is nested in the block //chapter:mount of line 2",
		},
		{
			name: "malformed marker",
			src:  lines("package p", "//chapter:2"),
			want: `mydocker/p.go:2: malformed marker "//chapter:2"`,
		},
		{
			name: "marker after code",
			src:  lines("package p", "var x = 1 //chapter:pid"),
			want: "mydocker/p.go:2: a marker must be on a line of its own",
		},
		{
			name: "two file tags",
			src:  lines("//chapter:uts", "//chapter:pid", "package p"),
			want: "mydocker/p.go:2: second file tag (the first is on line 1)",
		},
		{
			name: "range without the build constraint",
			src:  lines("//chapter:uts..pid", "package p"),
			want: `mydocker/p.go:1: a //chapter:A..B file needs the line "//go:build ignore"`,
		},
		{
			name: "range that reaches the final chapter",
			src:  lines("//chapter:uts..mount", "//go:build ignore", "package p"),
			want: "mydocker/p.go:1: range //chapter:uts..mount must end before the final chapter mount",
		},
		{
			name: "range backwards",
			src:  lines("//chapter:pid..uts", "//go:build ignore", "package p"),
			want: "mydocker/p.go:1: range //chapter:pid..uts ends before it starts",
		},
		{
			name: "block after the range",
			src:  lines("//chapter:uts..pid", "//go:build ignore", "package p", "//chapter:mount", "//chapter:end"),
			want: "mydocker/p.go:4: block //chapter:mount is later than the file's range uts..pid",
		},
		{
			name: "build constraint ignore on a file without a range",
			src:  lines("//chapter:pid", "//go:build ignore", "", "package p"),
			want: `mydocker/p.go:2: only //chapter:A..B files may carry "//go:build ignore"`,
		},
		{
			name: "build constraint ignore on a final file",
			src:  lines("//chapter:final", "//go:build ignore", "", "package p"),
			want: `mydocker/p.go:2: only //chapter:A..B files may carry "//go:build ignore"`,
		},
		{
			name: "block in a final file",
			src:  lines("//chapter:final", "package p", "//chapter:pid", "//chapter:end"),
			want: "mydocker/p.go:3: a //chapter:final file is in no chapter",
		},
		{
			name: "file tag after the package clause",
			src:  lines("package p", "//chapter:uts..pid"),
			want: "mydocker/p.go:2: file tag //chapter:uts..pid must come before the package clause",
		},
		{
			name: "no package clause",
			src:  lines("//chapter:uts", "var x = 1"),
			want: "finding the package clause: mydocker/p.go:2:1: expected 'package'",
		},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := parseGoFile("p.go", []byte(test.src), testChapters)
			if err == nil {
				t.Fatalf("no error, want %q", test.want)
			}
			if !strings.Contains(err.Error(), test.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, test.want)
			}
		})
	}
}

func TestParseChapters(t *testing.T) {
	good := "# comment\n\n01 uts The UTS namespace\n02 pid PID and IPC namespaces\n"
	chapters, err := parseChapters("chapters.txt", []byte(good))
	if err != nil {
		t.Fatalf("parseChapters: %v", err)
	}
	if len(chapters) != 2 || chapters.Final().Dir() != "02-pid" || chapters[0].Title != "The UTS namespace" {
		t.Errorf("parseChapters = %+v", chapters)
	}

	tests := []struct {
		name, list, want string
	}{
		{"no title", "01 uts\n", `chapters.txt:1: want "NN slug Title words...", got "01 uts"`},
		{"one digit", "1 uts The UTS namespace\n", `chapters.txt:1: chapter number "1" is not two digits`},
		{"bad slug", "01 UTS The UTS namespace\n", `chapters.txt:1: slug "UTS" may only hold`},
		{"going down", "02 pid PID\n01 uts UTS\n", "chapters.txt:2: chapter 01 comes after chapter 02"},
		{"empty", "# nothing\n", "chapters.txt: no chapters listed"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			_, err := parseChapters("chapters.txt", []byte(test.list))
			if err == nil || !strings.Contains(err.Error(), test.want) {
				t.Errorf("error %v, want it to contain %q", err, test.want)
			}
		})
	}
}
