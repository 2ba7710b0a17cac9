//chapter:images

package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotTarball is in the chain of an Import error that lies in the
// tarball rather than in the machine: a broken tar or gzip stream, or an
// entry that a layer may not hold.
var ErrNotTarball = errors.New("not a valid root filesystem tarball")

// Import stores a root filesystem tarball, plain or gzip-compressed, as an
// image of one layer, as docker import does. It makes what a registry
// would serve (a layer blob, a config that lists the layer's diff ID, a
// manifest that lists both) and adds it like a pulled image. comment goes
// into the image's history, e.g. "imported from rootfs.tar". Cancelling
// ctx (Ctrl-C) stops it, and it leaves nothing behind. An error that lies
// in the tarball wraps ErrNotTarball.
func (s *Store) Import(ctx context.Context, r io.Reader, comment string, names []string) (*Image, error) {
	var added *Image
	err := s.change(func() error {
		layer, err := s.importLayer(ctx, r)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		config, err := json.Marshal(ConfigFile{
			Architecture: runtime.GOARCH,
			Created:      now,
			History:      []History{{Created: now, CreatedBy: "mydocker import", Comment: comment}},
			OS:           "linux",
			RootFS:       RootFS{Type: "layers", DiffIDs: []Digest{layer.Digest}},
		})
		if err != nil {
			return err
		}
		manifest, err := json.Marshal(Manifest{
			SchemaVersion: 2,
			MediaType:     MediaTypeOCIManifest,
			Config:        Descriptor{MediaType: MediaTypeOCIConfig, Size: int64(len(config)), Digest: DigestOf(config)},
			Layers:        []Descriptor{layer},
		})
		if err != nil {
			return err
		}
		// add finds the layer's blob and directory in place, and writes
		// the config, the manifest and the names.
		added, err = s.add(ctx, manifest, importedConfig(config), names, func(Digest, string, int64, int64) {})
		return err
	})
	return added, err
}

// importLayer stores a tarball as a layer in one pass: it reads it once
// (gunzipped first if it is gzipped; standard input can be read only
// once) and hands the tar stream at the same time to Unpack, which writes
// the files into a temporary layer directory, and to storeBlob, which
// hashes it and writes it to a temporary blob file. The blob is the tar
// itself, uncompressed, so its digest is its diff ID: one hash names both.
// Only once that digest is known are the blob and the directory renamed
// into place; a layer that the store has already stays as it is, and this
// unpacking of it goes.
func (s *Store) importLayer(ctx context.Context, r io.Reader) (Descriptor, error) {
	tarStream, err := decompress(contextReader{ctx: ctx, r: r})
	if err != nil {
		return Descriptor{}, tarballError(err)
	}
	blobs := filepath.Join(s.dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o700); err != nil {
		return Descriptor{}, fmt.Errorf("write layer: %w", err)
	}
	blob, err := os.CreateTemp(blobs, ".tmp-")
	if err != nil {
		return Descriptor{}, fmt.Errorf("write layer: %w", err)
	}
	defer os.Remove(blob.Name()) // fails harmlessly once renamed
	defer blob.Close()
	tmp, err := s.newUnpackDir()
	if err != nil {
		return Descriptor{}, fmt.Errorf("unpack layer: %w", err)
	}
	defer os.RemoveAll(tmp) // empty once renamed

	// Unpack writes the files in this goroutine while storeBlob, in
	// another, hashes the stream and writes the blob: with two CPUs, the
	// hash costs no time. A pipe joins them; a TeeReader copies into it
	// what Unpack reads.
	pr, pw := io.Pipe()
	stored := make(chan storedBlob, 1)
	go func() { stored <- storeBlob(pr, blob) }()
	stats, unpackErr := unpackAll(io.TeeReader(tarStream, pw), tmp)
	if unpackErr == nil {
		// No digest vouches for a tarball, as one does for a pulled
		// layer: one without tar's end-of-archive marker was most
		// likely cut short, and is refused.
		unpackErr = stats.CheckEnded()
	}
	pw.CloseWithError(unpackErr) // storeBlob sees the end of the stream, or the error
	result := <-stored
	switch {
	case result.err != nil && !errors.Is(result.err, unpackErr):
		// storeBlob failed first (the unpack then failed on the pipe),
		// or alone; if the unpack failed first, storeBlob read its error.
		return Descriptor{}, fmt.Errorf("write layer: %w", result.err)
	case unpackErr != nil:
		return Descriptor{}, tarballError(fmt.Errorf("unpack layer: %w", unpackErr))
	}
	digest := result.digest
	// A blob of that digest has the same bytes: replacing it changes nothing.
	if err := os.Rename(blob.Name(), s.blobPath(digest)); err != nil {
		return Descriptor{}, fmt.Errorf("write layer %s: %w", digest, err)
	}
	if err := s.placeLayer(tmp, digest, stats.Bytes); err != nil {
		return Descriptor{}, fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	return Descriptor{MediaType: MediaTypeOCILayer, Size: result.size, Digest: digest}, nil
}

// storedBlob is what storeBlob wrote.
type storedBlob struct {
	digest Digest
	size   int64
	err    error
}

// storeBlob copies the pipe into the blob file and hashes it on the way.
// If that fails, the pipe fails too, and so does the Unpack that feeds it.
func storeBlob(pr *io.PipeReader, blob *os.File) storedBlob {
	hash := sha256.New()
	// Read in pieces as big as Unpack's, so that one read takes all that
	// one write of the pipe gives, and the writer goes back to its work.
	size, err := io.CopyBuffer(io.MultiWriter(blob, hash), pr, make([]byte, 1<<20))
	if err == nil {
		err = blob.Close()
	}
	pr.CloseWithError(err)
	return storedBlob{digest: sha256Digest(hash.Sum(nil)), size: size, err: err}
}

// tarballError marks an error of reading and unpacking the tarball as
// the tarball's (ErrNotTarball), unless the machine or the user caused
// it: a full disk, an I/O error, a refused permission, Ctrl-C. Those the
// user fixes elsewhere, and "not a valid tarball" would send them to
// look at a good one.
func tarballError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, errno := range []unix.Errno{unix.ENOSPC, unix.EDQUOT, unix.EIO, unix.EROFS, unix.ENOMEM,
		unix.EMFILE, unix.ENFILE, unix.EACCES, unix.EPERM} {
		if errors.Is(err, errno) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrNotTarball, err)
}

// importedConfig is the Source of an imported image: it serves the
// config, from memory. The layer is in the store already.
type importedConfig []byte

func (c importedConfig) OpenBlob(_ context.Context, desc Descriptor) (io.ReadCloser, error) {
	if desc.Digest != DigestOf(c) {
		return nil, fmt.Errorf("blob %s: not part of the imported image", desc.Digest)
	}
	return io.NopCloser(bytes.NewReader(c)), nil
}
