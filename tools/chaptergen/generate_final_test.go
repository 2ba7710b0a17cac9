package main

import (
	"strings"
	"testing"
)

func TestWithoutMarkersDropsFinalBlocks(t *testing.T) {
	src := strings.Join([]string{
		"package p", "", "var x = []int{", "\t1,", "\t//chapter:final", "\t2,", "\t//chapter:end",
		"\t//chapter:pid", "\t3,", "\t//chapter:end", "}", "",
	}, "\n")
	got, err := withoutMarkers([]byte(src), importRewrite{})
	if err != nil {
		t.Fatal(err)
	}
	want := "package p\n\nvar x = []int{\n\t1,\n\t3,\n}\n"
	if string(got) != want {
		t.Errorf("withoutMarkers:\n%s\nwant:\n%s", got, want)
	}
}
