// Command ocibundle turns the config.json that `runc spec` writes into the
// OCI bundle that bench/bench.sh gives runc and crun, so that they start the
// same container as mydocker run: the same root filesystem, the same
// command, no terminal, and the same namespaces.
//
// Everything else in the config stays as `runc spec` made it (capabilities,
// masked paths, mqueue and cgroup mounts, ...): that is what runc and crun
// do for a container by default, and part of what the benchmark measures.
//
// Usage, after `runc spec --bundle DIR`:
//
//	go run ./bench/ocibundle -bundle DIR -rootfs ROOTFS -namespaces pid,ipc,uts,mount -- /bin/true
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ociNamespaces are the namespace types of the OCI runtime spec.
var ociNamespaces = []string{"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"}

// bundleOptions are what the benchmark changes in the generated config.
type bundleOptions struct {
	rootfs     string   // absolute path of the root filesystem
	args       []string // the container's command
	namespaces []string // OCI namespace types, in order
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "ocibundle: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("ocibundle", flag.ContinueOnError)
	bundle := flags.String("bundle", "", "the bundle directory that holds config.json (from runc spec)")
	rootfs := flags.String("rootfs", "", "the container's root filesystem")
	namespaces := flags.String("namespaces", "", "comma-separated OCI namespace types, e.g. pid,ipc,uts,mount")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *bundle == "" || *rootfs == "" || flags.NArg() == 0 {
		return errors.New("usage: ocibundle -bundle DIR -rootfs DIR [-namespaces LIST] -- COMMAND [ARG...]")
	}
	abs, err := filepath.Abs(*rootfs)
	if err != nil {
		return fmt.Errorf("rootfs %q: %w", *rootfs, err)
	}
	opts := bundleOptions{rootfs: abs, args: flags.Args()}
	if *namespaces != "" {
		opts.namespaces = strings.Split(*namespaces, ",")
	}

	path := filepath.Join(*bundle, "config.json")
	config, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	config, err = editConfig(config, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, config, 0o644)
}

// editConfig applies opts to an OCI config. It decodes into maps rather
// than into the runtime-spec types so that every field it does not touch
// is written back exactly as runc spec made it.
func editConfig(data []byte, opts bundleOptions) ([]byte, error) {
	var config map[string]any
	if err := json.Unmarshal(data, &config); err != nil {
		return nil, fmt.Errorf("not an OCI config: %w", err)
	}
	process, ok1 := config["process"].(map[string]any)
	root, ok2 := config["root"].(map[string]any)
	linux, ok3 := config["linux"].(map[string]any)
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.New("not an OCI config from runc spec: no process, root or linux object")
	}

	process["args"] = opts.args
	// Without a terminal the container's stdio are runc's own, as they are
	// mydocker run's.
	process["terminal"] = false
	root["path"] = opts.rootfs
	// mydocker's root filesystem is writable; a read-only root would cost
	// runc and crun an extra remount that mydocker does not do.
	root["readonly"] = false

	var namespaces []any
	for _, ns := range opts.namespaces {
		if !slices.Contains(ociNamespaces, ns) {
			return nil, fmt.Errorf("unknown namespace type %q: use one of %s", ns, strings.Join(ociNamespaces, ", "))
		}
		namespaces = append(namespaces, map[string]any{"type": ns})
	}
	linux["namespaces"] = namespaces

	out, err := json.MarshalIndent(config, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}
