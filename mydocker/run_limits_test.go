//chapter:cgroups

package main

import (
	"strings"
	"testing"
)

func TestLimitsCheckTheCgroupParent(t *testing.T) {
	for parent, want := range map[string]string{
		"lab/mydocker": "",
		"":             "give a path below the cgroup root",
		"../escape":    "give a path below the cgroup root",
		"lab\xe9":      "not UTF-8",
	} {
		_, err := (&runOptions{cgroupParent: parent}).limits()
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("--cgroup-parent %q: error %v; want %q", parent, err, want)
		}
	}
}
