//chapter:uts..pid
//go:build ignore

package main

import "github.com/mydocker/mydocker/mydocker/internal/container"

// In chapters 1 and 2 the container still sees the host's files, so every
// argument of `run` belongs to the command. Chapter 3 gives the container
// a root filesystem of its own, and `run` takes its path first.

const runUsage = "run [OPTIONS] COMMAND [ARG...]"

const runExample = `  mydocker run --hostname box hostname
  mydocker run sh -c 'echo "I am $(hostname), PID $$"'`

var runArgs = requireArgs(1, "the command to run")

// setCommand puts the command line of `run` into the spec. (The global
// options are for chapter 5, where images come from the mydocker root.)
func setCommand(_ *globalOptions, spec *container.Spec, args []string) error {
	spec.Args = args
	return nil
}
