//chapter:final

package doctor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// mayWarn are the checks that may warn on a machine that runs every
// chapter up to the current one: what only chapter 10 or a rootless chapter
// needs, and notes that need no fix.
var mayWarn = map[string]bool{
	"iptables":       true, // chapter 10; make deps installs it
	"ip_forward":     true, // chapter 10, traffic beyond the host only
	"namespace user": true, // rootless chapter
	"selinux":        true, // a note, never a blocker
}

// TestThisHost runs the real checks, with no fakes, on the machine the
// tests run on: under `make test` that is a machine that must run every
// chapter, so nothing may fail.
func TestThisHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: doctor makes namespaces and mounts a test overlay (run make test as root)")
	}
	// The test runs in mydocker/internal/doctor; the image is at the repo root.
	image, err := filepath.Abs(filepath.Join("..", "..", "..", DefaultImage))
	if err != nil {
		t.Fatal(err)
	}
	results := Run(Config{ImageDir: image})
	var table bytes.Buffer
	if err := Print(&table, results); err != nil {
		t.Fatal(err)
	}
	t.Logf("mydocker doctor on this host:\n%s", table.String())
	for _, r := range results {
		if r.Status == Fail || r.Status == Warn && !mayWarn[r.Check] {
			t.Errorf("%s: %s: %s (fix: %s)", r.Check, r.Status, r.Detail, r.Fix)
		}
	}
}
