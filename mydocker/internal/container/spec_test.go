//chapter:1

package container

import (
	"regexp"
	"slices"
	"testing"
)

func TestNewSpec(t *testing.T) {
	a, b := NewSpec(), NewSpec()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.ID) {
		t.Errorf("ID %q is not 64 hex digits", a.ID)
	}
	if a.ID == b.ID {
		t.Error("two specs got the same ID")
	}
	if a.Hostname != a.ID[:12] {
		t.Errorf("default host name %q; want the short ID %q", a.Hostname, a.ID[:12])
	}
	env := a.Environ()
	for _, want := range []string{"PATH=" + defaultPath, "HOME=/root", "HOSTNAME=" + a.Hostname} {
		if !slices.Contains(env, want) {
			t.Errorf("environment %q lacks %q", env, want)
		}
	}
}
