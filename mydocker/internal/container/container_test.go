//chapter:uts

package container

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCreateSavesTheSpecAndRemoveDeletesIt(t *testing.T) {
	root := t.TempDir()
	spec := NewSpec()
	spec.Args = []string{"sh", "-c", "echo hi"}
	c, err := Create(root, spec)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "containers", spec.ID, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var saved Spec
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.ID != spec.ID || len(saved.Args) != 3 || saved.Args[2] != "echo hi" {
		t.Errorf("saved spec %+v; want %+v", saved, spec)
	}
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("container directory still there after Remove: %v", err)
	}
}

func TestRemoveAbandonedRemovesAbandonedContainersOnly(t *testing.T) {
	root := t.TempDir()
	alive, err := Create(root, NewSpec())
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Remove()

	// An abandoned container: its directory exists, but no process holds
	// its lock, as after mydocker run was killed with SIGKILL.
	abandoned := filepath.Join(root, "containers", NewSpec().ID)
	if err := os.Mkdir(abandoned, 0o700); err != nil {
		t.Fatal(err)
	}
	// A lock held by another process keeps its container.
	heldDir := filepath.Join(root, "containers", NewSpec().ID)
	if err := os.Mkdir(heldDir, 0o700); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("flock", heldDir, "sleep", "30")
	if _, err := exec.LookPath("flock"); err == nil {
		if err := holder.Start(); err != nil {
			t.Fatal(err)
		}
		defer holder.Wait()
		defer holder.Process.Kill()
		waitForLock(t, heldDir)
	} else {
		heldDir = ""
	}

	if removed, err := RemoveAbandoned(root); err != nil || removed != 1 {
		t.Fatalf("RemoveAbandoned = %d, %v; want 1, nil", removed, err)
	}
	if _, err := os.Stat(abandoned); !os.IsNotExist(err) {
		t.Errorf("abandoned container directory was kept: %v", err)
	}
	for _, dir := range []string{alive.Dir, heldDir} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("a living container's directory was removed: %v", err)
		}
	}
}

// waitForLock waits until another process holds the lock on dir.
func waitForLock(t *testing.T, dir string) {
	t.Helper()
	for range 200 {
		probe, err := lockDir(dir, unix.LOCK_EX|unix.LOCK_NB)
		if err != nil {
			return // held by the other process
		}
		probe.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the other process never took the lock")
}
