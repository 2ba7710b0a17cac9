//chapter:1

package container

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mydocker/mydocker/mydocker/internal/atomicfile"
)

// Container is a container as mydocker keeps it on disk: a directory
// <root>/containers/<id> that holds its spec as config.json.
//
// Until containers can run detached, a container lives only as long as its
// `mydocker run`, which removes the directory when the container exits.
type Container struct {
	ID   string
	Dir  string
	Spec *Spec
}

// Create makes the directory of a new container under the mydocker root.
func Create(root string, spec *Spec) (*Container, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("mydocker root %q: %w", root, err)
	}
	containers := filepath.Join(root, "containers")
	if err := os.MkdirAll(containers, 0o700); err != nil {
		return nil, fmt.Errorf("create the mydocker root: %w", err)
	}
	c := &Container{ID: spec.ID, Dir: filepath.Join(containers, spec.ID), Spec: spec}
	if err := os.Mkdir(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create container directory: %w", err)
	}
	config, err := json.MarshalIndent(spec, "", "  ")
	if err == nil {
		err = atomicfile.Write(filepath.Join(c.Dir, "config.json"), config, 0o600)
	}
	if err != nil {
		c.Remove()
		return nil, fmt.Errorf("save container config: %w", err)
	}
	return c, nil
}

// Remove deletes everything mydocker made for the container.
func (c *Container) Remove() error {
	if err := os.RemoveAll(c.Dir); err != nil {
		return fmt.Errorf("remove container %s: %w", ShortID(c.ID), err)
	}
	return nil
}
