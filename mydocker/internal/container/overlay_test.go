//chapter:images

package container

import (
	"fmt"
	"slices"
	"strings"
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

// A long mydocker root is in every path of the overlay's options, which
// the kernel takes up to one page: the error names the root and says how
// long it may be, and that length fits.
func TestCheckOverlayOptions(t *testing.T) {
	layers := func(root string, n int) *Overlay {
		o := &Overlay{Upper: root + "/containers/" + strings.Repeat("c", 64) + "/upper", Work: root + "/containers/" + strings.Repeat("c", 64) + "/work"}
		for range n {
			o.Lower = append(o.Lower, root+"/layers/"+strings.Repeat("l", 64)+"/fs")
		}
		return o
	}
	if err := checkOverlayOptions(layers("/var/lib/mydocker", 3), "/var/lib/mydocker"); err != nil {
		t.Errorf("a usual root: %v", err)
	}
	long := "/" + strings.Repeat("d", 1500)
	err := checkOverlayOptions(layers(long, 1), long)
	if err == nil || !strings.Contains(err.Error(), "give --root a path of at most") {
		t.Fatalf("a root of 1501 bytes: error %v; want one that asks for a shorter --root", err)
	}
	var most int
	fmt.Sscanf(err.Error()[strings.LastIndex(err.Error(), "at most ")+len("at most "):], "%d", &most)
	if short := "/" + strings.Repeat("d", most-1); checkOverlayOptions(layers(short, 1), short) != nil {
		t.Errorf("a root of %d bytes, as the error allows, is still too long", most)
	}
	if short := "/" + strings.Repeat("d", most); checkOverlayOptions(layers(short, 1), short) == nil {
		t.Errorf("a root of %d bytes, one more than the error allows, fits: the error is not exact", most+1)
	}
	if err := checkOverlayOptions(layers("/r", 60), "/r"); err == nil || !strings.Contains(err.Error(), "fewer layers") {
		t.Errorf("60 layers: error %v; want one about the number of layers", err)
	}
}
