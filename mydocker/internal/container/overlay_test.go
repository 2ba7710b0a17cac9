//chapter:5

package container

import (
	"slices"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	base := []string{"PATH=/bin", "HOME=/root"}
	got := MergeEnv(base, []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"})
	want := []string{"PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8"}
	if !slices.Equal(got, want) {
		t.Errorf("MergeEnv = %q; want %q", got, want)
	}
	if !slices.Equal(base, []string{"PATH=/bin", "HOME=/root"}) {
		t.Errorf("MergeEnv changed its base: %q", base)
	}
}
