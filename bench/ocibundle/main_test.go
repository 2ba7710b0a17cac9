package main

import (
	"encoding/json"
	"reflect"
	"testing"
)

// runcSpec is the shape of `runc spec` output, cut down to what matters here.
const runcSpec = `{
	"ociVersion": "1.0.2-dev",
	"process": {"terminal": true, "args": ["sh"], "noNewPrivileges": true},
	"root": {"path": "rootfs", "readonly": true},
	"hostname": "runc",
	"linux": {
		"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
		"maskedPaths": ["/proc/kcore"]
	}
}`

func TestEditConfig(t *testing.T) {
	out, err := editConfig([]byte(runcSpec), bundleOptions{
		rootfs:     "/images/busybox/rootfs",
		args:       []string{"/bin/true"},
		namespaces: []string{"pid", "ipc", "uts", "mount"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Process struct {
			Terminal        bool     `json:"terminal"`
			Args            []string `json:"args"`
			NoNewPrivileges bool     `json:"noNewPrivileges"`
		} `json:"process"`
		Root struct {
			Path     string `json:"path"`
			Readonly bool   `json:"readonly"`
		} `json:"root"`
		Hostname string `json:"hostname"`
		Linux    struct {
			Namespaces  []struct{ Type string } `json:"namespaces"`
			MaskedPaths []string                `json:"maskedPaths"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("edited config is not JSON: %v\n%s", err, out)
	}
	if got.Process.Terminal || !reflect.DeepEqual(got.Process.Args, []string{"/bin/true"}) {
		t.Errorf("process: terminal %v, args %q; want false, [/bin/true]", got.Process.Terminal, got.Process.Args)
	}
	if got.Root.Path != "/images/busybox/rootfs" || got.Root.Readonly {
		t.Errorf("root: %+v; want the rootfs path, writable", got.Root)
	}
	var types []string
	for _, ns := range got.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	if !reflect.DeepEqual(types, []string{"pid", "ipc", "uts", "mount"}) {
		t.Errorf("namespaces %q; want pid ipc uts mount (no network)", types)
	}
	// What the benchmark does not change stays as runc spec wrote it.
	if !got.Process.NoNewPrivileges || got.Hostname != "runc" || len(got.Linux.MaskedPaths) != 1 {
		t.Errorf("fields the edit should keep were lost:\n%s", out)
	}
}

func TestEditConfigRejectsUnknownNamespace(t *testing.T) {
	_, err := editConfig([]byte(runcSpec), bundleOptions{args: []string{"/bin/true"}, namespaces: []string{"net"}})
	if err == nil {
		t.Error(`namespace "net" accepted; the OCI name is "network"`)
	}
}
