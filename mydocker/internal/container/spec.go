//chapter:1

// Package container starts containers: the parent side (Start, Resume,
// Wait) in mydocker run, and the child side (Init) inside the new namespaces.
package container

import (
	"crypto/rand"
	"encoding/hex"
)

// Spec is everything the init process needs to know to set up the
// container and start its command. The parent sends it to the child as JSON
// through a pipe, never in argv or the environment, where it would be
// visible to every process and limited in size.
type Spec struct {
	ID       string   `json:"id"`
	Args     []string `json:"args"` // the command and its arguments, exactly as given
	Env      []string `json:"env"`  // the command's environment, KEY=value
	Hostname string   `json:"hostname"`
	//chapter:3
	Rootfs string `json:"rootfs"` // absolute path of the root filesystem
	//chapter:end
	//chapter:4
	CgroupParent string `json:"cgroupParent"` // the container's cgroup is CgroupParent/ID
	//chapter:end
	//chapter:5
	Image   string   `json:"image,omitempty"`   // the ID of the image it runs, if any
	Overlay *Overlay `json:"overlay,omitempty"` // the layers of its root filesystem, if any
	Cwd     string   `json:"cwd,omitempty"`     // the command's working directory
	User    string   `json:"user,omitempty"`    // user[:group] to run the command as
	//chapter:end
	//chapter:6
	Mounts []Mount `json:"mounts,omitempty"` // volumes, bind mounts and tmpfs
	//chapter:end
}

// defaultPath is the PATH that a container's command gets, as Docker sets it.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// NewSpec returns the spec of a new container: a fresh ID, the ID's first
// twelve characters as its host name, and a minimal environment. The command
// does not inherit mydocker's own environment.
func NewSpec() *Spec {
	id := newID()
	return &Spec{
		ID:       id,
		Hostname: ShortID(id),
		Env:      []string{"PATH=" + defaultPath, "HOME=/root"},
	}
}

// newID returns 32 random bytes in hex, the shape of a Docker container ID.
func newID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // documented never to fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// ShortID is the first twelve characters of an ID, as Docker shows it.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Environ is the command's environment: the spec's, plus HOSTNAME as Docker sets it.
func (s *Spec) Environ() []string {
	return append([]string{"HOSTNAME=" + s.Hostname}, s.Env...)
}
