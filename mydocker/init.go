//chapter:uts

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/mydocker/mydocker/mydocker/internal/container"
)

// isInit says whether this process is a container's init. main asks before
// it builds the command line: init has no flags and no help, and skipping
// cobra shortens every container's start (docs/performance.md).
func isInit(args []string) bool {
	return len(args) == 2 && args[1] == container.InitArg
}

// runInit is the init process: it returns only on failure, with the exit
// code; on success the user's command has replaced it.
func runInit() int {
	err := container.Init()
	var reported *container.InitError
	if errors.As(err, &reported) {
		// The parent prints the error; init only ends with its code.
		return reported.Code
	}
	fmt.Fprintf(os.Stderr, "mydocker: init: %v\n", err)
	return 125
}
