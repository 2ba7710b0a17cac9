//chapter:images

package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// memorySource serves blobs from memory, as a registry would, and counts
// the blobs asked for.
type memorySource struct {
	blobs  map[Digest][]byte
	opened int
}

func (m *memorySource) OpenBlob(_ context.Context, desc Descriptor) (io.ReadCloser, error) {
	m.opened++
	data, ok := m.blobs[desc.Digest]
	if !ok {
		return nil, fmt.Errorf("no blob %s", desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// testTar is a layer of one file.
func testTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	content := "hello from the layer\n"
	if err := tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(content))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// testImage makes the manifest of an image with one layer, blob, whose
// tar hashes to diffID, and a source that serves its config and layer.
func testImage(t *testing.T, configType, layerType string, blob []byte, diffID Digest) ([]byte, *memorySource) {
	t.Helper()
	config, err := json.Marshal(ConfigFile{OS: "linux", RootFS: RootFS{Type: "layers", DiffIDs: []Digest{diffID}}})
	if err != nil {
		t.Fatal(err)
	}
	layer := Descriptor{MediaType: layerType, Size: int64(len(blob)), Digest: DigestOf(blob)}
	manifest, err := json.Marshal(Manifest{ // an OCI manifest need not say its media type
		SchemaVersion: 2,
		Config:        Descriptor{MediaType: configType, Size: int64(len(config)), Digest: DigestOf(config)},
		Layers:        []Descriptor{layer},
	})
	if err != nil {
		t.Fatal(err)
	}
	return manifest, &memorySource{blobs: map[Digest][]byte{DigestOf(config): config, layer.Digest: blob}}
}

func noProgress(Digest, string, int64, int64) {}

// requireEmpty fails unless the store holds no image, blob or layer,
// and no temporary file either.
func requireEmpty(t *testing.T, root string) {
	t.Helper()
	for _, dir := range []string{"images/blobs", "layers"} {
		filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				t.Errorf("left in the store: %s", path)
			}
			return nil
		})
	}
	entries, _ := os.ReadDir(filepath.Join(root, "images"))
	for _, e := range entries {
		if e.Name() != "blobs" && e.Name() != "index.json" && e.Name() != "index.lookup" && e.Name() != "oci-layout" {
			t.Errorf("left in the store: images/%s", e.Name())
		}
	}
}

func TestAddRefusesBeforeDownloading(t *testing.T) {
	layer := testTar(t)
	tests := []struct {
		configType, layerType, message string
	}{
		{MediaTypeOCIConfig, "application/vnd.oci.image.layer.v1.tar+zstd", "is compressed with zstd, which mydocker does not support"},
		{MediaTypeOCIConfig, "application/vnd.example.unknown", `has the media type "application/vnd.example.unknown"`},
		{"application/vnd.cncf.helm.config.v1+json", "application/vnd.oci.image.layer.v1.tar", "not a container image"},
	}
	for _, tt := range tests {
		root := t.TempDir()
		store, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		manifest, src := testImage(t, tt.configType, tt.layerType, layer, DigestOf(layer))
		_, err = store.Add(context.Background(), manifest, src, []string{"docker.io/library/x:latest"}, noProgress)
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("Add with config %s, layer %s: error %v; want %q", tt.configType, tt.layerType, err, tt.message)
		}
		if src.opened != 0 {
			t.Errorf("Add with config %s, layer %s: %d blobs opened; want none", tt.configType, tt.layerType, src.opened)
		}
		requireEmpty(t, root)
	}
}

func TestAddRefusesCorruptBlobs(t *testing.T) {
	layer := testTar(t)
	manifest, src := testImage(t, MediaTypeOCIConfig, "application/vnd.oci.image.layer.v1.tar", layer, DigestOf(layer))
	var m Manifest
	json.Unmarshal(manifest, &m)
	for _, tt := range []struct {
		blob    Digest
		message string
	}{
		{m.Layers[0].Digest, "download layer " + string(m.Layers[0].Digest) + ": the contents hash to sha256:"},
		{m.Config.Digest, "image config " + string(m.Config.Digest) + " is corrupt"},
	} {
		root := t.TempDir()
		store, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		good := src.blobs[tt.blob]
		src.blobs[tt.blob] = append(bytes.Clone(good), '!')
		_, err = store.Add(context.Background(), manifest, src, nil, noProgress)
		src.blobs[tt.blob] = good
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("Add with a corrupt blob: error %v; want %q", err, tt.message)
		}
		requireEmpty(t, root)
	}
}

func TestAddUnpacksAndNames(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	store, _ := openStore(t)
	layer := testTar(t)
	manifest, src := testImage(t, MediaTypeOCIConfig, "application/vnd.oci.image.layer.v1.tar", layer, DigestOf(layer))
	if _, err := store.Add(context.Background(), manifest, src, []string{"example.com/app:1"}, noProgress); err != nil {
		t.Fatalf("Add: %v", err)
	}
	img, err := store.Lookup("example.com/app:1")
	if err != nil || img.Manifest != DigestOf(manifest) {
		t.Fatalf("Lookup after Add: %v, %v; want the manifest %s", img, err, DigestOf(manifest))
	}
	if data, err := os.ReadFile(filepath.Join(img.Layers[0], "hello")); err != nil || string(data) != "hello from the layer\n" {
		t.Errorf("unpacked layer: %q, %v", data, err)
	}
	index, err := store.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	if got := index.Manifests[0].MediaType; got != MediaTypeOCIManifest {
		t.Errorf("index entry's media type %q; want %s, as the manifest has none", got, MediaTypeOCIManifest)
	}
}

func TestImportPlainAndGzippedShareTheLayer(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	store, root := openStore(t)
	layer := testTar(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(layer)
	zw.Close()

	plain, err := store.Import(context.Background(), bytes.NewReader(layer), "imported from test.tar", []string{"docker.io/library/plain:latest"})
	if err != nil {
		t.Fatalf("Import of a tar: %v", err)
	}
	gzipped, err := store.Import(context.Background(), bytes.NewReader(gz.Bytes()), "imported from test.tar.gz", []string{"docker.io/library/gzipped:latest"})
	if err != nil {
		t.Fatalf("Import of a gzipped tar: %v", err)
	}
	config := plain.Config
	if config.OS != "linux" || config.Architecture != runtime.GOARCH || config.Created.IsZero() ||
		len(config.History) != 1 || config.History[0].CreatedBy != "mydocker import" || config.History[0].Comment != "imported from test.tar" {
		t.Errorf("config %+v; want linux/%s, a time, and the history of an import", config, runtime.GOARCH)
	}
	if config.RootFS.DiffIDs[0] != DigestOf(layer) || gzipped.Config.RootFS.DiffIDs[0] != DigestOf(layer) {
		t.Errorf("diff IDs %v and %v; want both %s, the tar's digest", config.RootFS.DiffIDs, gzipped.Config.RootFS.DiffIDs, DigestOf(layer))
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "layers")); len(entries) != 1 {
		t.Errorf("%d layer directories; want 1, shared", len(entries))
	}
	for _, img := range []*Image{plain, gzipped} {
		manifest, err := store.readManifest(img.Manifest)
		if err != nil {
			t.Fatal(err)
		}
		if manifest.MediaType != MediaTypeOCIManifest || manifest.Config.MediaType != MediaTypeOCIConfig || manifest.Layers[0].MediaType != MediaTypeOCILayer {
			t.Errorf("manifest media types %s, %s, %s; want OCI's, with an uncompressed layer", manifest.MediaType, manifest.Config.MediaType, manifest.Layers[0].MediaType)
		}
		// The blob is the tar itself, gunzipped if need be: its digest is
		// the sha256 of the tar, which is also its diff ID.
		desc := manifest.Layers[0]
		if desc.Digest != DigestOf(layer) || desc.Size != int64(len(layer)) {
			t.Errorf("layer blob %s of %d bytes; want %s, the tar's digest, and %d bytes", desc.Digest, desc.Size, DigestOf(layer), len(layer))
		}
		if blob, err := os.ReadFile(store.blobPath(desc.Digest)); err != nil || !bytes.Equal(blob, layer) {
			t.Errorf("the layer blob is not the tar: %v", err)
		}
	}
}

// TestImportHashesTheWholeTar: the zero blocks after the last entry, and
// any padding after them, are part of the tar and of its digest.
func TestImportHashesTheWholeTar(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	padded := append(testTar(t), make([]byte, 10240)...) // tar pads to a record of 10 KiB
	img, err := store.Import(context.Background(), bytes.NewReader(padded), "", nil)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if got := img.Config.RootFS.DiffIDs[0]; got != DigestOf(padded) {
		t.Errorf("diff ID %s; want %s, the digest of all the input", got, DigestOf(padded))
	}
}

func TestImportUnpacksALayerOnce(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	store, root := openStore(t)
	layer := testTar(t)
	first, err := store.Import(context.Background(), bytes.NewReader(layer), "", []string{"docker.io/library/first:latest"})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	hello := filepath.Join(first.Layers[0], "hello")
	before, err := os.Stat(hello)
	if err != nil {
		t.Fatal(err)
	}
	second, err := store.Import(context.Background(), bytes.NewReader(layer), "", []string{"docker.io/library/second:latest"})
	if err != nil {
		t.Fatalf("second Import: %v", err)
	}
	// The second unpacking was thrown away: the first layer's files are
	// the ones that stay, which containers may be using.
	after, err := os.Stat(hello)
	if err != nil || !os.SameFile(before, after) || second.Layers[0] != first.Layers[0] {
		t.Errorf("the second import replaced the layer: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "layers")); len(entries) != 1 {
		t.Errorf("%d entries in layers; want the one layer", len(entries))
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "images", "blobs", "sha256")); len(entries) != 5 {
		t.Errorf("%d blobs; want 5: one layer, and a config and a manifest for each image", len(entries))
	}
}

func TestImportLeavesNothingWhenItFails(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	layer := testTar(t)
	var escape bytes.Buffer
	tw := tar.NewWriter(&escape)
	tw.WriteHeader(&tar.Header{Name: "ok", Mode: 0o644, Size: 2})
	tw.Write([]byte("ok"))
	tw.WriteHeader(&tar.Header{Name: "../../escape", Mode: 0o644})
	tw.Close()
	var corruptGzip bytes.Buffer
	zw := gzip.NewWriter(&corruptGzip)
	zw.Write(layer)
	zw.Close()
	corruptGzip.Bytes()[corruptGzip.Len()-5]++ // the CRC at the end: the tar itself reads well
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name    string
		ctx     context.Context
		input   []byte
		message string
	}{
		{"an entry that climbs out", context.Background(), escape.Bytes(), "climbs out of the layer"},
		{"a truncated tar", context.Background(), layer[:520], "unexpected EOF"},
		{"a gzip stream with a wrong checksum", context.Background(), corruptGzip.Bytes(), "invalid checksum"},
		{"a cancelled import", cancelled, layer, "context canceled"},
	} {
		root := t.TempDir()
		store, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.Import(tt.ctx, bytes.NewReader(tt.input), "", []string{"docker.io/library/x:latest"})
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("Import of %s: error %v; want %q", tt.name, err, tt.message)
		}
		requireEmpty(t, root)
	}
}

func TestImportRefusesZstd(t *testing.T) {
	store, root := openStore(t)
	zstd := []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0}
	_, err := store.Import(context.Background(), bytes.NewReader(zstd), "", nil)
	if err == nil || !strings.Contains(err.Error(), "zstd, which mydocker does not support") {
		t.Errorf("Import of zstd: error %v; want one that says zstd is not supported", err)
	}
	requireEmpty(t, root)
}

// openStore opens a new, empty store in a directory of the test's own.
func openStore(t *testing.T) (store *Store, root string) {
	t.Helper()
	root = t.TempDir()
	store, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	return store, root
}

// requireRoot skips a test that needs root, or fails it when MYDOCKER_E2E=1
// says the full suite must run.
func requireRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("MYDOCKER_E2E") == "1" {
		t.Fatalf("needs root to %s, and MYDOCKER_E2E=1 forbids skipping", why)
	}
	t.Skipf("needs root to %s", why)
}

// putImage records an image in the store without unpacking anything: its
// config (made different by comment), its manifest and its names. Lookup
// needs no more.
func putImage(t *testing.T, store *Store, comment string, names ...string) *Image {
	t.Helper()
	config, err := json.Marshal(ConfigFile{OS: "linux", History: []History{{Comment: comment}}})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeOCIManifest,
		Config:        Descriptor{MediaType: MediaTypeOCIConfig, Size: int64(len(config)), Digest: DigestOf(config)},
		Layers:        []Descriptor{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.writeBlob(DigestOf(config), config); err != nil {
		t.Fatal(err)
	}
	if err := store.writeBlob(DigestOf(manifest), manifest); err != nil {
		t.Fatal(err)
	}
	if err := store.tag(DigestOf(manifest), MediaTypeOCIManifest, DigestOf(config), names); err != nil {
		t.Fatal(err)
	}
	return &Image{Manifest: DigestOf(manifest), ID: DigestOf(config)}
}

// withoutIDs rewrites index.json as mydocker wrote it before it recorded
// image IDs there.
func withoutIDs(t *testing.T, store *Store) {
	t.Helper()
	index, err := store.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	for _, desc := range index.Manifests {
		delete(desc.Annotations, idAnnotation)
	}
	if err := store.writeIndex(index); err != nil {
		t.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	for _, old := range []bool{false, true} {
		store, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		busybox := putImage(t, store, "busybox", "docker.io/library/busybox:latest", "docker.io/library/busybox:copy")
		app := putImage(t, store, "app", "registry.lab/app:1")
		untagged := putImage(t, store, "untagged")
		// An image whose name is the start of another's ID.
		prefix := app.ID.Hex()[:6]
		named := putImage(t, store, "named", "docker.io/library/"+prefix+":latest")
		if old {
			withoutIDs(t, store)
		}
		for _, tt := range []struct {
			nameOrID string
			want     *Image
		}{
			{"busybox", busybox},
			{"busybox:copy", busybox},
			{"docker.io/library/busybox:latest", busybox},
			{"registry.lab/app:1", app},
			{untagged.ID.Hex()[:12], untagged},
			{string(untagged.ID), untagged},
			{"sha256:" + app.ID.Hex()[:4], app},
			{prefix, named},         // a name wins over an ID prefix...
			{app.ID.Hex()[:7], app}, // ...and a longer prefix is no name
		} {
			img, err := store.Lookup(tt.nameOrID)
			if err != nil {
				t.Errorf("Lookup(%q) (old index %v): %v", tt.nameOrID, old, err)
				continue
			}
			if img.Manifest != tt.want.Manifest || img.ID != tt.want.ID {
				t.Errorf("Lookup(%q) (old index %v) = image %s; want %s", tt.nameOrID, old, img.ID, tt.want.ID)
			}
		}
		img, err := store.Lookup("busybox")
		if err != nil || !slices.Equal(img.Names, []string{"docker.io/library/busybox:latest", "docker.io/library/busybox:copy"}) {
			t.Errorf("Lookup(busybox).Names = %v, %v; want both its names", img.Names, err)
		}
		for nameOrID, message := range map[string]string{
			"nothing":  `image "nothing": no such image: see the images here with mydocker images`,
			"abc":      `image "abc": no such image`, // too short to be an ID prefix
			"BAD NAME": `invalid image name "BAD NAME"`,
		} {
			if _, err := store.Lookup(nameOrID); err == nil || !strings.Contains(err.Error(), message) {
				t.Errorf("Lookup(%q) (old index %v): error %v; want %q", nameOrID, old, err, message)
			}
		}
	}
}

func TestLookupByIDPrefixThatIsAmbiguous(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// Find two comments that give configs whose IDs share their first four
	// hex digits (a few hundred tries, by the birthday paradox), and store
	// those two images.
	firstWith := map[string]string{} // ID prefix -> the comment that gave it
	for i := 0; ; i++ {
		comment := fmt.Sprint(i)
		config, err := json.Marshal(ConfigFile{OS: "linux", History: []History{{Comment: comment}}})
		if err != nil {
			t.Fatal(err)
		}
		prefix := DigestOf(config).Hex()[:4]
		if other, ok := firstWith[prefix]; ok {
			putImage(t, store, other)
			putImage(t, store, comment)
			_, err := store.Lookup(prefix)
			if err == nil || !strings.Contains(err.Error(), `image ID "`+prefix+`" is ambiguous: give more of it`) {
				t.Errorf("Lookup of an ID prefix of two images: error %v; want it ambiguous", err)
			}
			return
		}
		firstWith[prefix] = comment
	}
}

// TestLookupReadsOneImage: with the IDs in index.json, Lookup opens the
// manifest and config of the image it finds, and no other image's.
func TestLookupReadsOneImage(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wanted := putImage(t, store, "wanted", "docker.io/library/wanted:latest")
	other := putImage(t, store, "other", "docker.io/library/other:latest")
	if err := os.Remove(store.blobPath(other.Manifest)); err != nil {
		t.Fatal(err)
	}
	for _, nameOrID := range []string{"wanted", wanted.ID.Hex()[:12]} {
		if img, err := store.Lookup(nameOrID); err != nil || img.ID != wanted.ID {
			t.Errorf("Lookup(%q) with another image's manifest gone: %v, %v; want the image, unbothered", nameOrID, img, err)
		}
	}
	// An index written before the IDs were in it needs every manifest to
	// find an ID, and says so when one is missing.
	withoutIDs(t, store)
	if _, err := store.Lookup(wanted.ID.Hex()[:12]); err == nil || !strings.Contains(err.Error(), "read image manifest "+string(other.Manifest)) {
		t.Errorf("Lookup by ID in an old index with a manifest gone: error %v; want one that names it", err)
	}
	if img, err := store.Lookup("wanted"); err != nil || img.ID != wanted.ID {
		t.Errorf("Lookup by name in an old index: %v, %v", img, err)
	}
}

// TestStoreBlobFailureStopsTheUnpack: when the blob cannot be written, the
// pipe fails, and so does whatever feeds it, instead of waiting forever.
func TestStoreBlobFailureStopsTheUnpack(t *testing.T) {
	blob, err := os.CreateTemp(t.TempDir(), "blob")
	if err != nil {
		t.Fatal(err)
	}
	blob.Close() // every write fails
	pr, pw := io.Pipe()
	stored := make(chan storedBlob, 1)
	go func() { stored <- storeBlob(pr, blob) }()
	var writeErr error
	for range 10 { // the first write may be read before the blob fails
		if _, writeErr = pw.Write([]byte("data")); writeErr != nil {
			break
		}
	}
	if writeErr == nil {
		t.Error("writes to the pipe still succeed after the blob failed")
	}
	if result := <-stored; result.err == nil {
		t.Error("storeBlob into a closed file succeeded")
	}
}
