//chapter:volumes

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mydocker/mydocker/mydocker/internal/container"
	"github.com/mydocker/mydocker/mydocker/internal/rootfs"
	"github.com/mydocker/mydocker/mydocker/internal/volume"
)

// mounts parses run's -v and --tmpfs flags into the container's mounts.
// Named volumes are created on first use, once every flag has been found
// valid, so that a bad flag leaves no volume behind.
func (o *runOptions) mounts(root string) ([]container.Mount, error) {
	var mounts []container.Mount
	for _, arg := range o.volumes {
		m, err := parseVolume(arg)
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, m)
	}
	for _, arg := range o.tmpfs {
		destination, options, _ := strings.Cut(arg, ":")
		if !filepath.IsAbs(destination) || filepath.Clean(destination) == "/" {
			return nil, fmt.Errorf("invalid --tmpfs %q: the path in the container must be absolute (and not / itself), e.g. --tmpfs /run", arg)
		}
		destination = filepath.Clean(destination)
		if reason := hiddenBySystemMount(destination, "a tmpfs"); reason != "" {
			return nil, fmt.Errorf("invalid --tmpfs %q: %s", arg, reason)
		}
		mounts = append(mounts, container.Mount{Type: "tmpfs", Destination: destination, Options: options})
	}
	for i, m := range mounts {
		if m.Type != "volume" {
			continue
		}
		v, err := volume.Create(root, m.Volume)
		if err != nil {
			return nil, err
		}
		mounts[i].Source = v.Mountpoint
	}
	return mounts, nil
}

// parseVolume reads one -v: /host/path:/container/path[:ro] binds a host
// directory; NAME:/container/path mounts the named volume NAME.
func parseVolume(arg string) (container.Mount, error) {
	parts := strings.Split(arg, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return container.Mount{}, fmt.Errorf("invalid volume %q: use -v /host/path:/path/in/container[:ro] or -v NAME:/path/in/container", arg)
	}
	m := container.Mount{Source: parts[0], Destination: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return m, fmt.Errorf("invalid volume %q: the mode after the second colon must be ro or rw", arg)
		}
	}
	if !filepath.IsAbs(m.Destination) {
		return m, fmt.Errorf("invalid volume %q: the path in the container must be absolute", arg)
	}
	m.Destination = filepath.Clean(m.Destination)
	if m.Destination == "/" {
		return m, fmt.Errorf("invalid volume %q: a volume cannot replace the container's root directory: mount it on a directory below /", arg)
	}
	if reason := hiddenBySystemMount(m.Destination, "a volume"); reason != "" {
		return m, fmt.Errorf("invalid volume %q: %s", arg, reason)
	}
	switch {
	case filepath.IsAbs(m.Source):
		m.Type = "bind"
		if _, err := os.Stat(m.Source); err != nil {
			return m, fmt.Errorf("invalid volume %q: %w", arg, err)
		}
	case strings.ContainsRune(m.Source, '/') || strings.HasPrefix(m.Source, "."):
		return m, fmt.Errorf("invalid volume %q: a host path must be absolute (e.g. $PWD/%s), and a volume name has no slash", arg, m.Source)
	default:
		if err := volume.CheckName(m.Source); err != nil {
			return m, err
		}
		m.Type, m.Volume, m.Source = "volume", m.Source, ""
	}
	return m, nil
}

// hiddenBySystemMount says why a mount (what) at destination would never be
// seen, or "" if it would. Every container gets its own /proc, /dev and
// /sys, which mydocker mounts after pivot_root, and so after the volumes
// (whose host paths can only be named before): they would cover a volume at
// or below them. Docker mounts the volumes last, and so allows e.g.
// -v /host:/dev/shm; mydocker refuses it rather than hide the volume
// without a word.
func hiddenBySystemMount(destination, what string) string {
	over, fstype := rootfs.SystemMountOver(destination)
	if over == "" {
		return ""
	}
	return fmt.Sprintf("the container gets its own %s (%s), mounted after the volumes, which would hide %s at %s: mount it outside /proc, /dev and /sys", over, fstype, what, destination)
}
