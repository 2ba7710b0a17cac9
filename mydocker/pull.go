//chapter:images

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/mydocker/internal/image"
	"github.com/mydocker/mydocker/mydocker/internal/registry"
)

func newPullCommand(global *globalOptions) *cobra.Command {
	var insecure bool
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Example: `  mydocker pull busybox                         (docker.io/library/busybox:latest)
  mydocker pull 127.0.0.1:5000/busybox:latest   (plain HTTP: a registry on this machine)
  mydocker pull --insecure registry.lab:5000/app`,
		Args:                  requireArgs(1, "the name of the image to pull"),
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("pull takes one image name, not %d", len(args))
			}
			return pull(global, args[0], insecure)
		},
	}
	cmd.Flags().BoolVar(&insecure, "insecure", false,
		"allow plain HTTP to any host: the registry, its redirects, its token service (without it: only localhost and loopback addresses)")
	return cmd
}

// pull downloads an image for this machine's architecture and stores it.
func pull(global *globalOptions, arg string, insecure bool) error {
	ref, err := image.ParseReference(arg)
	if err != nil {
		return err
	}
	store, err := image.Open(global.root)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, unix.SIGTERM)
	defer stop()
	// The first Ctrl-C cancels the pull, which then cleans up; stop makes
	// the next one end mydocker at once, as an uncaught signal does.
	context.AfterFunc(ctx, stop)
	fmt.Printf("%s: Pulling from %s\n", ref.TagOrDigest(), ref.Repository)
	repo := registry.NewRepository(ref, insecure)
	manifest, digest, err := repo.Manifest(ctx, ref.TagOrDigest())
	if err != nil {
		return registryError(ctx, arg, err)
	}
	full := image.FullName(ref)
	if have, err := store.Lookup(full); err == nil && have.Manifest == digest {
		fmt.Printf("Digest: %s\nStatus: Image is up to date for %s\n", digest, image.ShortName(full))
		return nil
	}
	terminal := isTerminal(os.Stdout)
	if _, err := store.Add(ctx, manifest, repo, []string{full}, newProgressPrinter(terminal)); err != nil {
		if terminal {
			fmt.Print("\r\033[K") // the error gets a line of its own, not the end of a progress line
		}
		return registryError(ctx, arg, err)
	}
	fmt.Printf("Digest: %s\nStatus: Downloaded newer image for %s\n", digest, image.ShortName(full))
	return nil
}

// registryError words the registry's most common answers for a user.
func registryError(ctx context.Context, arg string, err error) error {
	if ctx.Err() != nil {
		// Whatever failed (a download, a file being written), the
		// signal is why; the chain of steps it cut short is noise.
		return fmt.Errorf("pull %s: %w", arg, context.Cause(ctx))
	}
	var rerr *registry.Error
	if errors.As(err, &rerr) {
		switch {
		case rerr.HasCode("MANIFEST_UNKNOWN", "NAME_UNKNOWN"):
			return fmt.Errorf("pull %s: the registry has no such image: check the name and the tag", arg)
		case rerr.HasCode("TOOMANYREQUESTS"), rerr.StatusCode == 429:
			return fmt.Errorf("pull %s: the registry limits anonymous pulls: wait and try again", arg)
		case rerr.HasCode("UNAUTHORIZED", "DENIED"), rerr.StatusCode == 401:
			return fmt.Errorf("pull %s: the registry refused access: check the name (Docker Hub answers so for an image "+
				"that does not exist); a private image needs a login, which mydocker does not support yet", arg)
		}
	}
	return fmt.Errorf("pull %s: %w", arg, err)
}

// isTerminal says whether f is a terminal, where progress lines are
// rewritten in place.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// newProgressPrinter shows each layer's progress as docker pull does: on a
// terminal one line per layer, rewritten in place; otherwise a line for
// each step.
func newProgressPrinter(terminal bool) image.Progress {
	last := map[image.Digest]time.Time{}
	return func(layer image.Digest, status string, done, total int64) {
		id := layer.Hex()[:12]
		if status == "Downloading" {
			if !terminal || time.Since(last[layer]) < 100*time.Millisecond {
				return
			}
			last[layer] = time.Now()
			fmt.Printf("\r%s: Downloading %s/%s ", id, humanSize(done), humanSize(total))
			return
		}
		if terminal {
			fmt.Print("\r\033[K")
		}
		switch status {
		case "Download complete", "Already exists":
			fmt.Printf("%s: %s (%s)\n", id, status, humanSize(done))
		case "Pull complete":
			fmt.Printf("%s: Pull complete (%s unpacked)\n", id, humanSize(done))
		default:
			fmt.Printf("%s: %s\n", id, status)
		}
	}
}
