//chapter:uts

package container

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	runnable := write("runnable", 0o755)
	write("notexec", 0o644)
	env := []string{"PATH=/nonexistent:" + dir}

	tests := []struct {
		name     string
		want     string // the path found; empty when it fails
		wantCode int    // the exit code of the failure
	}{
		{"runnable", runnable, 0},
		{runnable, runnable, 0},
		{"missing", "", 127},
		{"", "", 127},
		{filepath.Join(dir, "missing"), "", 127},
		{"notexec", "", 126},
		{dir, "", 126}, // a directory
	}
	for _, tt := range tests {
		got, err := lookPath(tt.name, env)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("lookPath(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("lookPath(%q) = %q; want an error", tt.name, got)
			continue
		}
		if code := exitCodeFor(err); code != tt.wantCode {
			t.Errorf("lookPath(%q): exit code %d for %v; want %d", tt.name, code, err, tt.wantCode)
		}
	}
}

func TestPathFromFallsBackToDefault(t *testing.T) {
	if got := pathFrom([]string{"HOME=/root"}); got != defaultPath {
		t.Errorf("pathFrom without PATH = %q; want the default", got)
	}
	if got := pathFrom([]string{"PATH=/a", "PATH=/b"}); got != "/b" {
		t.Errorf("pathFrom uses %q; want the last PATH, /b", got)
	}
}

func TestExitCodeFollowsDocker(t *testing.T) {
	tests := []struct {
		status syscall.WaitStatus
		want   int
	}{
		{0, 0},
		{3 << 8, 3},                        // exit(3)
		{syscall.WaitStatus(9), 128 + 9},   // killed by SIGKILL
		{syscall.WaitStatus(15), 128 + 15}, // killed by SIGTERM
	}
	for _, tt := range tests {
		if got := ExitCode(tt.status); got != tt.want {
			t.Errorf("ExitCode(%#x) = %d; want %d", uint32(tt.status), got, tt.want)
		}
	}
}
