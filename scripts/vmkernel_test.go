// Package scripts holds the tests of the shell functions in this directory
// that decide something: here, where the VM lane (vmtest.sh) finds its
// kernel on each distribution that make test supports.
package scripts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// layout is one distribution's kernel packages, as apt-cache describes
// them and as dpkg-deb unpacks them.
type layout struct {
	name string
	// depends answers `apt-cache depends META`: META -> its Depends lines.
	depends map[string][]string
	// known are the packages that `apt-cache show` finds.
	known []string
	// modulesDir is where the packages keep lib/modules/VERSION.
	modulesDir string
	// compress is how modules are compressed: "", "xz" or "zstd".
	compress string
	// wantPackages is what kernel_packages must print.
	wantPackages []string
}

var layouts = []layout{
	{
		name:         "debian-12",
		depends:      map[string][]string{"linux-image-amd64": {"linux-image-6.1.0-57-amd64"}},
		known:        []string{"linux-image-6.1.0-57-amd64"},
		modulesDir:   "lib/modules/6.1.0-57-amd64",
		wantPackages: []string{"linux-image-6.1.0-57-amd64"},
	},
	{
		name:         "debian-13",
		depends:      map[string][]string{"linux-image-amd64": {"linux-image-6.12.57+deb13-amd64"}},
		known:        []string{"linux-image-6.12.57+deb13-amd64"},
		modulesDir:   "usr/lib/modules/6.12.57+deb13-amd64",
		compress:     "xz",
		wantPackages: []string{"linux-image-6.12.57+deb13-amd64"},
	},
	{
		name: "ubuntu-22.04",
		depends: map[string][]string{"linux-image-generic": {
			"linux-image-5.15.0-127-generic", "linux-firmware", "intel-microcode"}},
		known: []string{"linux-image-5.15.0-127-generic", "linux-modules-5.15.0-127-generic",
			"linux-modules-extra-5.15.0-127-generic"},
		modulesDir: "lib/modules/5.15.0-127-generic",
		wantPackages: []string{"linux-image-5.15.0-127-generic", "linux-modules-5.15.0-127-generic",
			"linux-modules-extra-5.15.0-127-generic"},
	},
	{
		name: "ubuntu-24.04",
		depends: map[string][]string{"linux-image-generic": {
			"linux-image-6.8.0-90-generic", "linux-firmware"}},
		known:        []string{"linux-image-6.8.0-90-generic", "linux-modules-6.8.0-90-generic"},
		modulesDir:   "lib/modules/6.8.0-90-generic",
		compress:     "zstd",
		wantPackages: []string{"linux-image-6.8.0-90-generic", "linux-modules-6.8.0-90-generic"},
	},
}

// vmkernel runs one function of vmkernel.sh with args and returns what it
// printed; env is added to the environment.
func vmkernel(t *testing.T, env []string, function string, args ...string) string {
	t.Helper()
	script := `source "$VMKERNEL"; ` + function + ` "$@"`
	cmd := exec.Command("bash", append([]string{"-c", script, "vmkernel"}, args...)...)
	lib, err := filepath.Abs("vmkernel.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(append(os.Environ(), "VMKERNEL="+lib), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", function, args, err, stderr.String())
	}
	return string(out)
}

// fakeAptCache writes an apt-cache that answers `depends` and `show` as
// the layout's distribution does, and returns its path.
func fakeAptCache(t *testing.T, l layout) string {
	var script strings.Builder
	script.WriteString("#!/bin/sh\ncase \"$1 $2 $3\" in\n")
	for meta, deps := range l.depends {
		script.WriteString("\"depends " + meta + " \") printf '%s\\n' '" + meta + "'")
		for _, d := range deps {
			script.WriteString(" '  Depends: " + d + "'")
		}
		script.WriteString(" ;;\n")
	}
	for _, p := range l.known {
		script.WriteString("\"show --no-all-versions " + p + "\") echo 'Package: " + p + "' ;;\n")
	}
	// apt-cache's answer for a name it does not know.
	script.WriteString("*) echo 'E: No packages found' >&2; exit 100 ;;\nesac\n")
	path := filepath.Join(t.TempDir(), "apt-cache")
	if err := os.WriteFile(path, []byte(script.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKernelPackages(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			got := strings.Fields(vmkernel(t, []string{"VMTEST_APT_CACHE=" + fakeAptCache(t, l)}, "kernel_packages"))
			if strings.Join(got, " ") != strings.Join(l.wantPackages, " ") {
				t.Errorf("kernel_packages = %q, want %q", got, l.wantPackages)
			}
		})
	}
}

// unpacked makes the tree that dpkg-deb -x would make of the layout's
// packages: a kernel image and two modules, one of them with a dash in
// its file name, compressed as the distribution compresses them.
func unpacked(t *testing.T, l layout) (tree string, modules map[string]string) {
	tree = t.TempDir()
	version := filepath.Base(l.modulesDir)
	write := func(path, content string) {
		full := filepath.Join(tree, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("boot/vmlinuz-"+version, "kernel")
	write(filepath.Join(l.modulesDir, "modules.builtin"), "kernel/fs/ext4/ext4.ko\n")
	modules = map[string]string{
		"overlay":   "kernel/fs/overlayfs/overlay.ko",
		"nf_tables": "kernel/net/netfilter/nf-tables.ko",
	}
	for name, path := range modules {
		path = filepath.Join(l.modulesDir, path)
		write(path, "module "+name)
		if l.compress != "" {
			// Each replaces the file with path.xz or path.zst.
			args := []string{"-q", filepath.Join(tree, path)}
			if l.compress == "zstd" {
				args = append(args, "--rm") // xz removes it by default
			}
			if out, err := exec.Command(l.compress, args...).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", l.compress, err, out)
			}
		}
	}
	return tree, modules
}

func TestKernelLayout(t *testing.T) {
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			tree, modules := unpacked(t, l)
			if got, want := vmkernel(t, nil, "find_vmlinuz", tree), filepath.Join(tree, "boot/vmlinuz-"+filepath.Base(l.modulesDir))+"\n"; got != want {
				t.Errorf("find_vmlinuz = %q, want %q", got, want)
			}
			if got, want := vmkernel(t, nil, "find_modules_dir", tree), filepath.Join(tree, l.modulesDir)+"\n"; got != want {
				t.Errorf("find_modules_dir = %q, want %q", got, want)
			}
			found := map[string]string{}
			for line := range strings.Lines(vmkernel(t, nil, "list_modules", filepath.Join(tree, l.modulesDir))) {
				name, path, _ := strings.Cut(strings.TrimSpace(line), " ")
				found[name] = path
			}
			if len(found) != len(modules) {
				t.Errorf("list_modules found %v, want %d modules", found, len(modules))
			}
			for name := range modules {
				path, ok := found[name]
				if !ok {
					t.Errorf("list_modules did not find %s (found %v)", name, found)
					continue
				}
				if got := vmkernel(t, nil, "module_content", path); got != "module "+name {
					t.Errorf("module_content %s = %q, want %q", path, got, "module "+name)
				}
			}
		})
	}
}
