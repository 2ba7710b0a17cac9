//chapter:5

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
	cmd.Flags().BoolVar(&insecure, "insecure", false, "use plain HTTP (always so for localhost, loopback and private addresses)")
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
	fmt.Printf("%s: Pulling from %s\n", ref.TagOrDigest(), ref.Repository)
	repo := registry.NewRepository(ref, insecure)
	manifest, digest, err := repo.Manifest(ctx, ref.TagOrDigest())
	if err != nil {
		return registryError(arg, err)
	}
	full := image.FullName(ref)
	if have, err := store.Lookup(full); err == nil && have.Manifest == digest {
		fmt.Printf("Digest: %s\nStatus: Image is up to date for %s\n", digest, image.ShortName(full))
		return nil
	}
	if _, err := store.Add(ctx, manifest, repo, []string{full}, newProgressPrinter()); err != nil {
		return registryError(arg, err)
	}
	fmt.Printf("Digest: %s\nStatus: Downloaded newer image for %s\n", digest, image.ShortName(full))
	return nil
}

// registryError words the registry's most common answers for a user.
func registryError(arg string, err error) error {
	var rerr *registry.Error
	if errors.As(err, &rerr) {
		switch {
		case rerr.HasCode("MANIFEST_UNKNOWN", "NAME_UNKNOWN"):
			return fmt.Errorf("pull %s: the registry has no such image: check the name and the tag", arg)
		case rerr.HasCode("UNAUTHORIZED", "DENIED"), rerr.Code == 401:
			return fmt.Errorf("pull %s: the registry wants a login, which mydocker does not support yet", arg)
		}
	}
	return fmt.Errorf("pull %s: %w", arg, err)
}

// newProgressPrinter shows each layer's progress as docker pull does: on a
// terminal one line per layer, rewritten in place; otherwise a line for
// each step.
func newProgressPrinter() image.Progress {
	_, err := unix.IoctlGetTermios(int(os.Stdout.Fd()), unix.TCGETS)
	terminal := err == nil
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
