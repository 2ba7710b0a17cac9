package scripts

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestGoToolchainSum checks that go-toolchain.sum holds the hash of the Go
// that go.mod names, for each architecture that install-go.sh installs:
// after a change of go.mod's go line, scripts/go-toolchain-sum.sh writes it.
func TestGoToolchainSum(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindSubmatch(mod)
	if version == nil {
		t.Fatal("go.mod has no go line")
	}
	sums, err := os.ReadFile("go-toolchain.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		module := "v0.0.1-go" + string(version[1]) + ".linux-" + arch
		found := false
		for line := range strings.Lines(string(sums)) {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "golang.org/toolchain" && f[1] == module && strings.HasPrefix(f[2], "h1:") {
				found = true
			}
		}
		if !found {
			t.Errorf("go-toolchain.sum has no h1: hash of golang.org/toolchain %s: run scripts/go-toolchain-sum.sh", module)
		}
	}
}
