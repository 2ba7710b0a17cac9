//chapter:images

package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// editJSON decodes data into a map, lets edit change it, and encodes it
// again: a manifest as a broken or hostile registry could serve it.
func editJSON(t *testing.T, data []byte, edit func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	edited, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return edited
}

// TestAddRefusesMissingDigests: a digest that is missing or null is not
// checked while decoding (UnmarshalText does not run), so each manifest
// and config is validated after. Without that, an empty digest named the
// blobs directory as the layer's blob, and an empty diff ID made
// <root>/layers/fs the layer.
func TestAddRefusesMissingDigests(t *testing.T) {
	layer := testTar(t)
	manifest, src := testImage(t, MediaTypeOCIConfig, MediaTypeOCILayer, layer, DigestOf(layer))
	firstLayer := func(m map[string]any) map[string]any { return m["layers"].([]any)[0].(map[string]any) }
	config := func(m map[string]any) map[string]any { return m["config"].(map[string]any) }
	for _, tt := range []struct {
		name    string
		edit    func(m map[string]any)
		message string
	}{
		{"a layer without a digest", func(m map[string]any) { delete(firstLayer(m), "digest") }, "layer 1: the digest is missing"},
		{"a layer whose digest is null", func(m map[string]any) { firstLayer(m)["digest"] = nil }, "layer 1: the digest is missing"},
		{"a layer of negative size", func(m map[string]any) { firstLayer(m)["size"] = -1 }, "has a negative size, -1"},
		{"a config without a digest", func(m map[string]any) { delete(config(m), "digest") }, "config: the digest is missing"},
	} {
		root := t.TempDir()
		store, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		src.opened = 0
		_, err = store.Add(context.Background(), editJSON(t, manifest, tt.edit), src, []string{"docker.io/library/x:latest"}, noProgress)
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("Add of a manifest with %s: error %v; want %q", tt.name, err, tt.message)
		}
		if src.opened != 0 {
			t.Errorf("Add of a manifest with %s: %d blobs opened; want none", tt.name, src.opened)
		}
		requireEmpty(t, root)
	}

	// A diff ID that is null, in a config that hashes right.
	rawConfig := []byte(`{"os":"linux","rootfs":{"type":"layers","diff_ids":[null]}}`)
	manifest = editJSON(t, manifest, func(m map[string]any) {
		config(m)["digest"] = string(DigestOf(rawConfig))
		config(m)["size"] = len(rawConfig)
	})
	src.blobs[DigestOf(rawConfig)] = rawConfig
	store, root := openStore(t)
	_, err := store.Add(context.Background(), manifest, src, []string{"docker.io/library/x:latest"}, noProgress)
	if err == nil || !strings.Contains(err.Error(), "diff ID 1: the digest is missing") {
		t.Errorf("Add of a config whose diff ID is null: error %v; want it refused", err)
	}
	requireEmpty(t, root)
}

func TestParseIndexRefusesAnEntryWithoutDigest(t *testing.T) {
	for _, entry := range []string{
		`{"mediaType":"` + MediaTypeOCIManifest + `","size":400}`,
		`{"mediaType":"` + MediaTypeOCIManifest + `","size":400,"digest":null}`,
	} {
		_, err := ParseIndex([]byte(`{"schemaVersion":2,"manifests":[` + entry + `]}`))
		if err == nil || !strings.Contains(err.Error(), "read image index: entry 1: the digest is missing") {
			t.Errorf("ParseIndex of %s: error %v; want it refused", entry, err)
		}
	}
}

// TestAddRefusesAnotherArchitecture: its programs would fail at every
// run with "exec format error". Only the config is read.
func TestAddRefusesAnotherArchitecture(t *testing.T) {
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	layer := testTar(t)
	rawConfig, err := json.Marshal(ConfigFile{Architecture: other, OS: "linux", RootFS: RootFS{Type: "layers", DiffIDs: []Digest{DigestOf(layer)}}})
	if err != nil {
		t.Fatal(err)
	}
	manifest, src := testImage(t, MediaTypeOCIConfig, MediaTypeOCILayer, layer, DigestOf(layer))
	manifest = editJSON(t, manifest, func(m map[string]any) {
		m["config"].(map[string]any)["digest"] = string(DigestOf(rawConfig))
		m["config"].(map[string]any)["size"] = len(rawConfig)
	})
	src.blobs[DigestOf(rawConfig)] = rawConfig
	store, root := openStore(t)
	_, err = store.Add(context.Background(), manifest, src, nil, noProgress)
	want := fmt.Sprintf("the image is built for the architecture %s, and this machine is %s: its programs cannot run here", other, runtime.GOARCH)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Add of an image for %s: error %v; want %q", other, err, want)
	}
	if src.opened != 1 {
		t.Errorf("Add of an image for %s: %d blobs opened; want the config only", other, src.opened)
	}
	requireEmpty(t, root)
}

// TestAddRefusesAConfigTooBig: the limit is said, and nothing read; the
// config is not "corrupt".
func TestAddRefusesAConfigTooBig(t *testing.T) {
	layer := testTar(t)
	manifest, src := testImage(t, MediaTypeOCIConfig, MediaTypeOCILayer, layer, DigestOf(layer))
	manifest = editJSON(t, manifest, func(m map[string]any) { m["config"].(map[string]any)["size"] = maxConfigSize + 1 })
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Add(context.Background(), manifest, src, nil, noProgress)
	if err == nil || !strings.Contains(err.Error(), "has 8388609 bytes, and mydocker reads configs of up to 8 MiB") {
		t.Errorf("Add of a config over the limit: error %v; want one that gives the limit", err)
	}
	if src.opened != 0 {
		t.Errorf("Add of a config over the limit: %d blobs opened; want none", src.opened)
	}
}

// failingSource serves a layer that breaks off after a few bytes, as a
// connection that is reset does.
type failingSource struct{ *memorySource }

func (f failingSource) OpenBlob(ctx context.Context, desc Descriptor) (io.ReadCloser, error) {
	rc, err := f.memorySource.OpenBlob(ctx, desc)
	if err != nil || desc.MediaType == MediaTypeOCIConfig {
		return rc, err
	}
	return io.NopCloser(io.MultiReader(io.LimitReader(rc, 10), errReader{errors.New("read tcp: connection reset by peer")})), nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// TestAddNamesTheLayerOnce: a download that fails says which layer, once,
// and does not call a network error a write.
func TestAddNamesTheLayerOnce(t *testing.T) {
	layer := testTar(t)
	manifest, src := testImage(t, MediaTypeOCIConfig, MediaTypeOCILayer, layer, DigestOf(layer))
	store, root := openStore(t)
	_, err := store.Add(context.Background(), manifest, failingSource{src}, nil, noProgress)
	want := "download layer " + string(DigestOf(layer)) + ": read tcp: connection reset by peer"
	if err == nil || err.Error() != want {
		t.Errorf("Add with a connection reset: error %v; want %q", err, want)
	}
	requireEmpty(t, root)
}

// TestAddStopsWhenCancelled: Ctrl-C while a layer unpacks, or after, stops
// Add before it records the image, and what it wrote goes.
func TestAddStopsWhenCancelled(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	layer := testTar(t)
	manifest, src := testImage(t, MediaTypeOCIConfig, MediaTypeOCILayer, layer, DigestOf(layer))
	for _, status := range []string{"Extracting", "Pull complete"} {
		root := t.TempDir()
		store, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		unpacked := false
		cancelAt := func(_ Digest, s string, _, _ int64) {
			if s == status {
				cancel()
			} else if s == "Pull complete" {
				unpacked = true
			}
		}
		_, err = store.Add(ctx, manifest, src, []string{"docker.io/library/x:latest"}, cancelAt)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Add cancelled at %q: error %v; want context.Canceled", status, err)
		}
		if unpacked {
			t.Errorf("Add cancelled at %q unpacked the layer to its end", status)
		}
		requireEmpty(t, root)
	}
}

// TestImportStopsReadingAfterTheTarWhenCancelled: the zeros after a tar
// are read to their end, which standard input may never reach.
func TestImportStopsReadingAfterTheTarWhenCancelled(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	store, root := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	endless := io.MultiReader(bytes.NewReader(testTar(t)), zeros{})
	done := make(chan error, 1)
	go func() {
		_, err := store.Import(ctx, endless, "", nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrNotTarball) {
			t.Errorf("Import of endless zeros, cancelled: error %v; want the context's, not the tarball's", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Import of endless zeros goes on after its context is done")
	}
	requireEmpty(t, root)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestTarballErrorBlamesTheTarballOnly(t *testing.T) {
	for _, err := range []error{
		&fs.PathError{Op: "write", Path: "/var/lib/mydocker/layers/x", Err: unix.ENOSPC},
		fmt.Errorf("unpack layer: %w", &fs.PathError{Op: "open", Path: "x", Err: unix.EIO}),
		context.Canceled,
	} {
		if errors.Is(tarballError(err), ErrNotTarball) {
			t.Errorf("tarballError(%v) blames the tarball", err)
		}
	}
	for _, err := range []error{io.ErrUnexpectedEOF, errZstd, errors.New(`name "../x" climbs out of the layer with ".."`)} {
		if !errors.Is(tarballError(err), ErrNotTarball) {
			t.Errorf("tarballError(%v) does not blame the tarball", err)
		}
	}
}

// TestCollectGarbageRemovesCrashLeftovers: what a killed pull or import
// leaves (a temporary blob, an unpacking, a temporary index.json or
// index.lookup) goes with the next rmi...
func TestCollectGarbageRemovesCrashLeftovers(t *testing.T) {
	store, root := openStore(t)
	kept := putImage(t, store, "kept", "docker.io/library/kept:latest")
	putImage(t, store, "gone", "docker.io/library/gone:latest")
	leftovers := plantLeftovers(t, root)
	if _, err := store.Remove("gone"); err != nil {
		t.Fatal(err)
	}
	for _, path := range leftovers {
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("left after rmi: %s", path)
		}
	}
	if img, err := store.Lookup("kept"); err != nil || img.ID != kept.ID {
		t.Errorf("Lookup(kept) after rmi: %v, %v", img, err)
	}
}

// ...and with a pull that fails: an unpacking is no layer that was there
// before, to be kept.
func TestFailedAddRemovesCrashLeftovers(t *testing.T) {
	layer := testTar(t)
	manifest, src := testImage(t, MediaTypeOCIConfig, MediaTypeOCILayer, layer, DigestOf(layer))
	store, root := openStore(t)
	plantLeftovers(t, root)
	if _, err := store.Add(context.Background(), manifest, failingSource{src}, nil, noProgress); err == nil {
		t.Fatal("Add with a connection reset succeeded")
	}
	requireEmpty(t, root)
}

// plantLeftovers makes what a mydocker killed at the wrong moment leaves
// in the store under root, and returns their paths.
func plantLeftovers(t *testing.T, root string) []string {
	t.Helper()
	blobs := filepath.Join(root, "images", "blobs", "sha256")
	unpacking := filepath.Join(root, "layers", ".unpack-123")
	for _, dir := range []string{blobs, filepath.Join(unpacking, "fs", "etc")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{
		filepath.Join(blobs, ".tmp-456"),
		filepath.Join(unpacking, "fs", "etc", "passwd"),
		filepath.Join(root, "images", ".index.json.tmp-789"),
		filepath.Join(root, "images", ".index.lookup.tmp-1011"),
	}
	for _, path := range files {
		if err := os.WriteFile(path, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return append(files, unpacking)
}

// TestLeftoversGoWithTheNextImport: a killed import's leftovers go with
// the next import that succeeds too, not only with one that fails.
func TestLeftoversGoWithTheNextImport(t *testing.T) {
	store, root := openStore(t)
	leftovers := plantLeftovers(t, root)
	if _, err := store.Import(context.Background(), bytes.NewReader(testTar(t)), "test", nil); err != nil {
		t.Fatal(err)
	}
	for _, path := range leftovers {
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("left after an import: %s", path)
		}
	}
}

// TestRemoveLeftoversLeavesWhatIsInUse: run's RemoveLeftovers removes the
// leftovers, but not while an import holds the writers' lock (it may be
// writing them), and not a leftover that another run is removing (locked).
func TestRemoveLeftoversLeavesWhatIsInUse(t *testing.T) {
	store, root := openStore(t)
	leftovers := plantLeftovers(t, root)
	lock, err := store.lockWriters(unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RemoveLeftovers(); err != nil {
		t.Fatal(err)
	}
	lock.Close()
	for _, path := range leftovers {
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("removed while an import held the lock: %s", path)
		}
	}
	unpacking := filepath.Join(root, "layers", ".unpack-123")
	fd, err := flock(unpacking, unix.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RemoveLeftovers(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(unpacking); err != nil {
		t.Errorf("removed while another held its lock: %s", unpacking)
	}
	unix.Close(fd)
	if err := store.RemoveLeftovers(); err != nil {
		t.Fatal(err)
	}
	for _, path := range leftovers {
		if _, err := os.Lstat(path); !os.IsNotExist(err) {
			t.Errorf("left: %s", path)
		}
	}
}

// TestClaimedLayersOutliveTheImage: rmi deletes no layer that a run has
// claimed; once the claim ends, the next rmi deletes it.
func TestClaimedLayersOutliveTheImage(t *testing.T) {
	store, root := openStore(t)
	if _, err := store.Import(context.Background(), bytes.NewReader(testTar(t)), "test", []string{"docker.io/library/claimed:latest"}); err != nil {
		t.Fatal(err)
	}
	img, err := store.Claim("claimed")
	if err != nil {
		t.Fatal(err)
	}
	putImage(t, store, "other", "docker.io/library/other:latest")
	if _, err := store.Remove("claimed"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Lookup("claimed"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup after rmi: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(img.Layers[0]); err != nil {
		t.Fatalf("rmi deleted a claimed layer: %v", err)
	}
	img.Release()
	if _, err := store.Remove("other"); err != nil {
		t.Fatal(err)
	}
	requireEmpty(t, root)
}

// TestClaimOfAMissingImageMakesNothing: run of an image in a root that
// has no store says "no such image" and creates nothing.
func TestClaimOfAMissingImageMakesNothing(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	store := OpenExisting(root)
	if _, err := store.Claim("busybox"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Claim: %v, want ErrNotFound", err)
	}
	if _, err := store.Remove("busybox"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove: %v, want ErrNotFound", err)
	}
	if images, err := store.List(); err != nil || len(images) != 0 {
		t.Errorf("List: %v, %v; want no images", images, err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("the root was made: %v", err)
	}
}

// TestClaimRacesRemove: runs that claim an image while another goroutine
// removes and imports it again either find no image or get every layer,
// whole, until they release it.
func TestClaimRacesRemove(t *testing.T) {
	store, _ := openStore(t)
	tarball := testTar(t)
	name := "docker.io/library/raced:latest"
	importIt := func() {
		if _, err := store.Import(context.Background(), bytes.NewReader(tarball), "test", []string{name}); err != nil {
			t.Error(err)
		}
	}
	importIt()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			if _, err := store.Remove("raced"); err != nil && !errors.Is(err, ErrNotFound) {
				t.Error(err)
			}
			importIt()
		}
	}()
	for claims := 0; ; claims++ {
		select {
		case <-done:
			if claims == 0 {
				t.Error("no claim ran")
			}
			return
		default:
		}
		img, err := store.Claim("raced")
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		// The layer holds a file that testTar writes; it stays while claimed.
		for range 3 {
			if data, err := os.ReadFile(filepath.Join(img.Layers[0], "hello")); err != nil || len(data) == 0 {
				t.Fatalf("a claimed layer went: %q, %v", data, err)
			}
			runtime.Gosched()
		}
		img.Release()
	}
}

// TestReadersDoNotWaitForAnImport: while an import reads its tarball (here
// from a pipe that stays silent), run can still find and claim an image,
// images can list them, and rmi waits for its turn.
func TestReadersDoNotWaitForAnImport(t *testing.T) {
	store, _ := openStore(t)
	if _, err := store.Import(context.Background(), bytes.NewReader(testTar(t)), "test", []string{"docker.io/library/first:latest"}); err != nil {
		t.Fatal(err)
	}
	tarball, feed := io.Pipe()
	// However the test ends, the import then ends too.
	t.Cleanup(func() { feed.CloseWithError(errors.New("the test is over")) })
	imported := make(chan error, 1)
	go func() {
		_, err := store.Import(context.Background(), tarball, "test", []string{"docker.io/library/second:latest"})
		imported <- err
	}()
	// The import holds the writers' lock once its leftovers are gone; wait
	// for that, at most a few seconds.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		lock, err := store.lockWriters(unix.LOCK_SH | unix.LOCK_NB)
		if errors.Is(err, unix.EWOULDBLOCK) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lock.Close()
		if time.Now().After(deadline) {
			t.Fatal("the import never took the writers' lock")
		}
	}
	done := make(chan error, 1)
	go func() {
		img, err := store.Claim("first")
		if err == nil {
			img.Release()
			_, err = store.List()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Claim or List waited for an import that was still reading its tarball")
	}
	if _, err := feed.Write(testTar(t)); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	if _, err := store.Lookup("second"); err != nil {
		t.Fatal(err)
	}
}
