//chapter:mount..cgroups
//go:build ignore

package main

import (
	"github.com/mydocker/mydocker/mydocker/internal/container"
)

const runUsage = "run [OPTIONS] ROOTFS COMMAND [ARG...]"

const runExample = `  mydocker run build/images/busybox/rootfs sh
  mydocker run --hostname box build/images/busybox/rootfs ps`

var runArgs = requireArgs(1, "the container's root filesystem and the command to run")

// setCommand puts the command line of `run` into the spec: first the root
// filesystem, then the command. (Chapter 5 replaces the root filesystem
// with an image, and a path still works.)
func setCommand(_ *globalOptions, spec *container.Spec, args []string) error {
	return rootfsCommand(spec, args)
}
