//chapter:images

package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mydocker/mydocker/mydocker/internal/container"
	"github.com/mydocker/mydocker/mydocker/internal/image"
)

const runUsage = "run [OPTIONS] IMAGE [COMMAND] [ARG...]"

const runExample = `  mydocker run busybox sh
  mydocker run --hostname box 127.0.0.1:5000/busybox:latest ps
  mydocker run build/images/busybox/rootfs ls /    (a root filesystem directory still works)`

var runArgs = requireArgs(1, "the image (or a root filesystem directory) and the command to run")

// setCommand puts the command line of `run` into the spec. The first
// argument is an image of the store or, as in chapters 3 and 4, the path
// of a root filesystem; the rest is the command, which an image may give
// by default.
func setCommand(global *globalOptions, spec *container.Spec, args []string) error {
	if looksLikePath(args[0]) {
		return rootfsCommand(spec, args)
	}
	// Claim, and not Lookup: the image's layers stay on disk while this
	// run lives, even if rmi removes the image meanwhile. The claim ends
	// when mydocker run does.
	img, err := image.OpenExisting(global.root).Claim(args[0])
	if err != nil {
		return err
	}
	return fromImage(spec, img, args[0], args[1:])
}

// fromImage sets the spec up to run img: its layers under an overlay, its
// default command, environment, working directory and user.
func fromImage(spec *container.Spec, img *image.Image, name string, command []string) error {
	config := img.Config.Config
	// As in Docker: the entrypoint stays, and the command given replaces
	// the image's default command (Cmd).
	if len(command) == 0 {
		command = config.Cmd
	}
	spec.Args = append(slices.Clone(config.Entrypoint), command...)
	if len(spec.Args) == 0 {
		return fmt.Errorf("no command given, and image %s has no default command: say what to run, e.g. mydocker run %s sh", name, name)
	}
	spec.Image = string(img.ID)
	lower := slices.Clone(img.Layers)
	slices.Reverse(lower) // overlay wants the top layer first
	spec.Overlay = &container.Overlay{Lower: lower}
	// HOME comes from the image's environment or, without one there, from
	// the line of the image's user in the image's /etc/passwd, which init
	// reads (as in Docker: root's is /root, nobody's often /nonexistent).
	defaults := slices.DeleteFunc(slices.Clone(spec.Env), func(kv string) bool { return strings.HasPrefix(kv, "HOME=") })
	spec.Env = container.MergeEnv(defaults, config.Env)
	spec.Cwd = config.WorkingDir
	spec.User = config.User
	return nil
}

// looksLikePath says whether run's first argument names a directory rather
// than an image: it starts with / or ., or it has a slash and a directory
// of that name exists (an image name may have slashes too, as in
// 127.0.0.1:5000/busybox).
func looksLikePath(arg string) bool {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return true
	}
	if !strings.Contains(arg, "/") {
		return false
	}
	info, err := os.Stat(arg)
	return err == nil && info.IsDir()
}
