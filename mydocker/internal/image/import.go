//chapter:5

package image

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"
)

// Import stores a root filesystem tarball, plain or gzip-compressed, as an
// image of one layer, as docker import does. It makes what a registry
// would serve (a layer blob, a config that lists the layer's diff ID, a
// manifest that lists both) and adds it like a pulled image. comment goes
// into the image's history, e.g. "imported from rootfs.tar".
func (s *Store) Import(ctx context.Context, r io.Reader, comment string, names []string) (*Image, error) {
	layer, err := s.writeLayer(r)
	if err != nil {
		return nil, err
	}
	defer os.Remove(layer.path)
	now := time.Now().UTC()
	config, err := json.Marshal(ConfigFile{
		Architecture: runtime.GOARCH,
		Created:      now,
		History:      []History{{Created: now, CreatedBy: "mydocker import", Comment: comment}},
		OS:           "linux",
		RootFS:       RootFS{Type: "layers", DiffIDs: []Digest{layer.diffID}},
	})
	if err != nil {
		return nil, err
	}
	manifest, err := json.Marshal(Manifest{
		SchemaVersion: 2,
		MediaType:     MediaTypeDockerManifest,
		Config:        Descriptor{MediaType: MediaTypeDockerConfig, Size: int64(len(config)), Digest: DigestOf(config)},
		Layers:        []Descriptor{layer.desc},
	})
	if err != nil {
		return nil, err
	}
	blobs := importedBlobs{config: config, layer: layer}
	return s.Add(ctx, manifest, blobs, names, func(Digest, string, int64, int64) {})
}

// importedLayer is the layer blob that Import writes to a temporary file.
type importedLayer struct {
	path   string
	desc   Descriptor // the blob's digest and size, as the manifest lists it
	diffID Digest     // the digest of the tar inside
}

// writeLayer copies a tarball to a temporary file of the store, gzipped
// unless it is already, hashing on the way both the tar (the diff ID) and
// the gzipped file (the blob's digest). One pass: standard input can be
// read only once.
func (s *Store) writeLayer(r io.Reader) (layer *importedLayer, err error) {
	tmp, err := os.CreateTemp(s.dir, ".tmp-import-")
	if err != nil {
		return nil, err
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	tarHash, blobHash := sha256.New(), sha256.New()
	blob := &countingWriter{w: io.MultiWriter(tmp, blobHash)}
	in := bufio.NewReader(r)
	switch compression(in) {
	case "gzip":
		// The blob is the input as it is; a gunzipped copy is only hashed.
		tarStream, err := gzip.NewReader(io.TeeReader(in, blob))
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(tarHash, tarStream); err != nil {
			return nil, err
		}
		if _, err := io.Copy(blob, in); err != nil { // anything after the gzip stream
			return nil, err
		}
	case "zstd":
		return nil, errZstd
	default:
		zw, err := gzip.NewWriterLevel(blob, gzip.BestSpeed) // fast: this tar is read once
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(zw, io.TeeReader(in, tarHash)); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	return &importedLayer{
		path:   tmp.Name(),
		desc:   Descriptor{MediaType: MediaTypeDockerLayer, Size: blob.n, Digest: sha256Digest(blobHash.Sum(nil))},
		diffID: sha256Digest(tarHash.Sum(nil)),
	}, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// importedBlobs is the Source of an imported image: its config, from
// memory, and its layer, from the temporary file.
type importedBlobs struct {
	config []byte
	layer  *importedLayer
}

func (b importedBlobs) OpenBlob(_ context.Context, desc Descriptor) (io.ReadCloser, error) {
	switch desc.Digest {
	case DigestOf(b.config):
		return io.NopCloser(bytes.NewReader(b.config)), nil
	case b.layer.desc.Digest:
		return os.Open(b.layer.path)
	}
	return nil, fmt.Errorf("blob %s: not part of the imported image", desc.Digest)
}
