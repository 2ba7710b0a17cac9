//chapter:5

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
		if e.Name() != "blobs" && e.Name() != "index.json" && e.Name() != "oci-layout" {
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
		{m.Layers[0].Digest, "download layer " + string(m.Layers[0].Digest) + ": blob " + string(m.Layers[0].Digest) + " is corrupt"},
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
	root := t.TempDir()
	store, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
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
	root := t.TempDir()
	store, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
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
	manifest, err := store.readManifest(plain.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	if manifest.MediaType != MediaTypeDockerManifest || manifest.Config.MediaType != MediaTypeDockerConfig || manifest.Layers[0].MediaType != MediaTypeDockerLayer {
		t.Errorf("manifest media types %s, %s, %s; want Docker's", manifest.MediaType, manifest.Config.MediaType, manifest.Layers[0].MediaType)
	}
	blob, err := os.ReadFile(store.blobPath(manifest.Layers[0].Digest))
	if err != nil || !bytes.HasPrefix(blob, []byte{0x1f, 0x8b}) {
		t.Errorf("the layer blob of a plain tar is not gzipped: %v", err)
	}
}

func TestImportRefusesZstd(t *testing.T) {
	root := t.TempDir()
	store, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	zstd := []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0}
	_, err = store.Import(context.Background(), bytes.NewReader(zstd), "", nil)
	if err == nil || !strings.Contains(err.Error(), "zstd, which mydocker does not support") {
		t.Errorf("Import of zstd: error %v; want one that says zstd is not supported", err)
	}
	requireEmpty(t, root)
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
