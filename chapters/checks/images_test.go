package checks

// The commands that the image and volume checks (chapters 05 and 06) add to
// the scripts: hostile-tar, free-port and push-image, and the [registry]
// condition.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/rogpeppe/go-internal/testscript"
)

// registryTools are the programs that the [registry] checks run: Debian's
// docker-registry serves images on loopback, skopeo pushes to it.
var registryTools = []string{"docker-registry", "skopeo"}

// registryCondition says whether the checks that need a registry run:
// not where MYDOCKER_NO_REGISTRY=1 says there is none (the VM lane), and
// not when the tools are missing, which is a failure under MYDOCKER_E2E=1.
func registryCondition() (bool, error) {
	if os.Getenv("MYDOCKER_NO_REGISTRY") == "1" {
		return false, nil
	}
	for _, tool := range registryTools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("MYDOCKER_E2E") == "1" {
				return false, fmt.Errorf("%s not found: the image checks need docker-registry and skopeo: run scripts/deps.sh --with registry (or set MYDOCKER_NO_REGISTRY=1 to leave those checks out)", tool)
			}
			return false, nil
		}
	}
	return true, nil
}

// cmdHostileTar writes a layer tarball that attacks the host or is broken:
//
//	hostile-tar KIND FILE TARGET [BASE]
//
// TARGET is a directory of the host that the tarball tries to write into
// (or, for hardlink-escape, holds the file it tries to link to). The
// tarball starts with the entries of the tarball BASE, if given (the
// busybox image, so that a container of it has commands). KIND is one of
// these, or several joined by commas:
//
//	dotdot           a file named ../../../TARGET/dotdot
//	absolute         a file named TARGET/absolute, with its leading /
//	symlink-escape   symlinks to TARGET (absolute, and relative with ..),
//	                 then files written through them
//	hardlink-escape  a hard link to TARGET/host-file
//	truncated        a good tarball cut off in the middle of a file
//	cut-at-header    a good tarball without its end-of-archive marker
//	                 (two blocks of zeros), as if cut at an entry's boundary
//	cut-gzip         a good tarball, gzipped, without the gzip's last bytes
//	empty            no bytes at all
//	corrupt          a tar header whose checksum is wrong
//	corrupt-gzip     gzip's magic number, then garbage
//
// and these, which are not broken and must import:
//
//	xattr-symlink    a symlink "xattr-link" with a user.* extended attribute
//	lone-zero-block  ends the tarball with one block of zeros, not two
func cmdHostileTar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: hostile-tar KIND FILE TARGET [BASE]")
	}
	kinds, file, target := args[0], ts.MkAbs(args[1]), args[2]
	if !filepath.IsAbs(target) {
		ts.Fatalf("hostile-tar: TARGET %q must be an absolute path", target)
	}
	// A path from the layer's root back to the host's, deep enough for any root.
	up := strings.Repeat("../", 40)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if len(args) == 4 {
		copyEntries(ts, tw, ts.MkAbs(args[3]))
	}
	// Every tarball starts as a harmless layer would; the broken kinds then
	// spoil it.
	dir(ts, tw, "etc/")
	regular(ts, tw, "etc/harmless", "a harmless file\n")
	for _, kind := range strings.Split(kinds, ",") {
		switch kind {
		case "dotdot":
			regular(ts, tw, up+strings.TrimPrefix(target, "/")+"/dotdot", "written by dotdot\n")
		case "absolute":
			regular(ts, tw, target+"/absolute", "written by absolute\n")
		case "symlink-escape":
			symlink(ts, tw, "escape", target)
			regular(ts, tw, "escape/through-symlink", "written through a symlink\n")
			symlink(ts, tw, "up", up+strings.TrimPrefix(target, "/"))
			regular(ts, tw, "up/through-relative-symlink", "written through a relative symlink\n")
		case "hardlink-escape":
			check(ts, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: "stolen", Linkname: target + "/host-file"}))
		case "truncated":
			// A file of 64 KiB, of which the tarball keeps the first 10.
			regular(ts, tw, "big", strings.Repeat("x", 64<<10))
			check(ts, tw.Flush())
			buf.Truncate(10 << 10)
			writeFile(ts, file, buf.Bytes())
			return
		case "cut-at-header", "lone-zero-block":
			check(ts, tw.Flush()) // Close would write the two blocks of zeros
			if kind == "lone-zero-block" {
				buf.Write(make([]byte, 512))
			}
			writeFile(ts, file, buf.Bytes())
			return
		case "cut-gzip":
			check(ts, tw.Close())
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			_, err := zw.Write(buf.Bytes())
			check(ts, err)
			check(ts, zw.Close())
			writeFile(ts, file, gz.Bytes()[:gz.Len()-8]) // gzip's last 8 bytes: a checksum and the length
			return
		case "empty":
			writeFile(ts, file, nil)
			return
		case "xattr-symlink":
			check(ts, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "xattr-link", Linkname: "etc/harmless",
				PAXRecords: map[string]string{"SCHILY.xattr.user.comment": "made where symlinks have user attributes"}}))
		case "corrupt":
			check(ts, tw.Close())
			data := buf.Bytes()
			data[148] ^= 0xff // the first header's checksum field
			writeFile(ts, file, data)
			return
		case "corrupt-gzip":
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			check(ts, tw.Close())
			_, err := zw.Write(buf.Bytes())
			check(ts, err)
			check(ts, zw.Close())
			data := gz.Bytes()
			for i := 20; i < len(data); i++ { // keep the gzip header, spoil the rest
				data[i] ^= 0x5a
			}
			writeFile(ts, file, data)
			return
		default:
			ts.Fatalf("hostile-tar: unknown KIND %q", kind)
		}
	}
	check(ts, tw.Close())
	writeFile(ts, file, buf.Bytes())
}

// copyEntries writes the entries of the tarball at path to tw.
func copyEntries(ts *testscript.TestScript, tw *tar.Writer, path string) {
	f, err := os.Open(path)
	check(ts, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		check(ts, err)
		check(ts, tw.WriteHeader(hdr))
		_, err = io.Copy(tw, tr)
		check(ts, err)
	}
}

func dir(ts *testscript.TestScript, tw *tar.Writer, name string) {
	check(ts, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}))
}

func regular(ts *testscript.TestScript, tw *tar.Writer, name, content string) {
	check(ts, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(content))}))
	_, err := tw.Write([]byte(content))
	check(ts, err)
}

func symlink(ts *testscript.TestScript, tw *tar.Writer, name, target string) {
	check(ts, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target}))
}

func writeFile(ts *testscript.TestScript, file string, data []byte) {
	check(ts, os.WriteFile(file, data, 0o644))
}

func check(ts *testscript.TestScript, err error) {
	if err != nil {
		ts.Fatalf("%v", err)
	}
}

// cmdFreePort sets an environment variable to a TCP port of 127.0.0.1
// that nothing listens on: free-port VAR.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: free-port VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(ts, err)
	port := l.Addr().(*net.TCPAddr).Port
	check(ts, l.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

// cmdPushImage pushes an image with a config of its own to a registry:
//
//	push-image LAYER REF CONFIG
//
// The image has one layer, the tarball LAYER, and the container settings
// (Entrypoint, Cmd, Env, WorkingDir, User, ...) of the JSON file CONFIG,
// an image config's "config" object. skopeo cannot set those; this is what
// a Dockerfile's ENTRYPOINT, CMD, ENV, WORKDIR and USER would make.
func cmdPushImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: push-image LAYER REF CONFIG")
	}
	layer, err := tarball.LayerFromFile(ts.MkAbs(args[0]))
	check(ts, err)
	img, err := mutate.AppendLayers(empty.Image, layer)
	check(ts, err)
	var config v1.Config
	check(ts, json.Unmarshal([]byte(ts.ReadFile(args[2])), &config))
	img, err = mutate.Config(img, config)
	check(ts, err)
	file, err := img.ConfigFile()
	check(ts, err)
	file = file.DeepCopy()
	file.OS, file.Architecture = "linux", runtime.GOARCH
	img, err = mutate.ConfigFile(img, file)
	check(ts, err)
	ref, err := name.ParseReference(args[1], name.Insecure)
	check(ts, err)
	check(ts, remote.Write(ref, img))
}
