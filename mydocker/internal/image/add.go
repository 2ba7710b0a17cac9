//chapter:images

package image

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/mydocker/internal/archive"
)

// Progress is told how the copy of each layer goes: status is
// "Already exists", "Downloading" (with bytes done of total, total -1 when
// unknown), "Download complete", "Extracting" or "Pull complete".
type Progress func(layer Digest, status string, done, total int64)

// A Source serves the blobs of an image that Add copies into the store: a
// repository of a registry, or the config that Import has just made.
type Source interface {
	// OpenBlob opens the blob that desc points to: the config, or a layer
	// as the manifest lists it, compressed or not.
	OpenBlob(ctx context.Context, desc Descriptor) (io.ReadCloser, error)
}

// maxConfigSize bounds the config that Add reads into memory; real ones
// are a few kilobytes.
const maxConfigSize = 8 << 20

// Add stores the image whose manifest is rawManifest, with the blobs of
// src, under the given names (none for an untagged image): it copies the
// blobs it does not have yet, unpacks every new layer once, and only then
// records the image in the index. If anything fails, what was copied for
// it is removed again.
func (s *Store) Add(ctx context.Context, rawManifest []byte, src Source, names []string, progress Progress) (*Image, error) {
	var added *Image
	err := s.change(func() (err error) {
		added, err = s.add(ctx, rawManifest, src, names, progress)
		return err
	})
	return added, err
}

// change calls fn with the writers' lock held, so that one command at a
// time changes the store, after removing what killed commands left. If fn
// fails, what it wrote goes again: every blob and layer that no image in
// the index refers to, but the layers that were here before, which an
// image or a running container may use. fn takes the index's lock only
// for the moment it adds its image (see lock).
func (s *Store) change(fn func() error) error {
	lock, err := s.lockWriters(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer lock.Close()
	// What an import or pull that was killed left is no use to anyone;
	// failing to remove it is no reason to stop this one, and the next
	// command tries again.
	_ = s.removeLeftovers()
	before, err := s.layerDirs()
	if err != nil {
		return err
	}
	if err := fn(); err != nil {
		s.collectGarbage(before)
		return err
	}
	return nil
}

// add is Add, with the store locked.
func (s *Store) add(ctx context.Context, rawManifest []byte, src Source, names []string, progress Progress) (*Image, error) {
	manifest, err := parseManifest(rawManifest)
	if err != nil {
		return nil, err
	}
	rawConfig, config, err := fetchConfig(ctx, src, manifest.Config)
	if err != nil {
		return nil, err
	}
	if config.OS != "" && config.OS != "linux" {
		return nil, fmt.Errorf("the image is for %s, and mydocker runs Linux images only", config.OS)
	}
	// Docker stores such an image with a warning; its programs then fail
	// with "exec format error" at every run. Refusing it says why, at once.
	if config.Architecture != "" && config.Architecture != runtime.GOARCH {
		return nil, fmt.Errorf("the image is built for the architecture %s, and this machine is %s: its programs cannot run here; use an image built for %s",
			config.Architecture, runtime.GOARCH, runtime.GOARCH)
	}
	if len(manifest.Layers) != len(config.RootFS.DiffIDs) {
		return nil, errors.New("the image is inconsistent: its manifest and config list different numbers of layers")
	}
	for i, layer := range manifest.Layers {
		if err := s.copyLayer(ctx, src, layer, progress); err != nil {
			return nil, err
		}
		if err := s.unpackLayer(ctx, layer.Digest, config.RootFS.DiffIDs[i], progress); err != nil {
			return nil, err
		}
	}
	manifestDigest := DigestOf(rawManifest)
	if err := s.writeBlob(manifest.Config.Digest, rawConfig); err != nil {
		return nil, err
	}
	if err := s.writeBlob(manifestDigest, rawManifest); err != nil {
		return nil, err
	}
	// tag commits the image: after it, Ctrl-C comes too late to stop the
	// pull or import, and before it, the image must not be stored.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// An OCI manifest may leave its media type out; Docker's may not.
	lock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := s.tag(manifestDigest, cmp.Or(manifest.MediaType, MediaTypeOCIManifest), manifest.Config.Digest, names); err != nil {
		return nil, err
	}
	return s.load(manifestDigest)
}

// parseManifest reads an image manifest, and refuses what mydocker cannot
// store before anything is downloaded: an index (from which the registry
// client picks one manifest), a descriptor without a valid digest or size,
// an artifact that is not a container image, a layer that unpackLayer
// cannot read.
func parseManifest(raw []byte) (*Manifest, error) {
	var manifest Manifest
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return nil, fmt.Errorf("read image manifest: %w", err)
	}
	if manifest.SchemaVersion != 2 || manifest.MediaType == MediaTypeOCIIndex || manifest.MediaType == MediaTypeDockerList {
		return nil, fmt.Errorf("read image manifest: not an image manifest of schema 2 (schemaVersion %d, mediaType %q)", manifest.SchemaVersion, manifest.MediaType)
	}
	if err := manifest.validate(); err != nil {
		return nil, fmt.Errorf("read image manifest: %w", err)
	}
	if t := manifest.Config.MediaType; t != MediaTypeDockerConfig && t != MediaTypeOCIConfig {
		return nil, fmt.Errorf("not a container image: its config has the media type %q", t)
	}
	for _, layer := range manifest.Layers {
		if err := checkLayerType(layer); err != nil {
			return nil, err
		}
	}
	return &manifest, nil
}

// checkLayerType accepts the layers that unpackLayer reads: tars, gzipped
// or not. Newer builders can compress with zstd, which mydocker does not
// support.
func checkLayerType(layer Descriptor) error {
	t := layer.MediaType
	switch {
	case strings.Contains(t, "zstd"):
		return fmt.Errorf("layer %s is compressed with zstd, which mydocker does not support: use an image with gzip layers", layer.Digest)
	case strings.HasSuffix(t, ".tar"), strings.HasSuffix(t, ".tar.gzip"), strings.HasSuffix(t, ".tar+gzip"):
		return nil
	}
	return fmt.Errorf("layer %s has the media type %q, which is not a layer that mydocker can unpack", layer.Digest, t)
}

// fetchConfig reads the image's config from src and checks it against its
// digest before trusting a word of it.
func fetchConfig(ctx context.Context, src Source, desc Descriptor) ([]byte, *ConfigFile, error) {
	if desc.Size > maxConfigSize {
		return nil, nil, fmt.Errorf("image config %s has %d bytes, and mydocker reads configs of up to %d MiB (real ones have a few kilobytes)",
			desc.Digest, desc.Size, maxConfigSize>>20)
	}
	rc, err := src.OpenBlob(ctx, desc)
	if err != nil {
		return nil, nil, fmt.Errorf("read image config: %w", err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxConfigSize))
	if err != nil {
		return nil, nil, fmt.Errorf("read image config: %w", err)
	}
	if got := DigestOf(raw); got != desc.Digest {
		return nil, nil, fmt.Errorf("image config %s is corrupt: its contents hash to %s", desc.Digest, got)
	}
	config, err := parseConfig(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("read image config %s: %w", desc.Digest, err)
	}
	return raw, config, nil
}

// layerDirs returns the directories of the layers unpacked so far. A name
// that starts with "." is no layer but an unpacking that a crash cut
// short (.unpack-*), which collectGarbage is to remove, not keep.
func (s *Store) layerDirs() (map[string]bool, error) {
	entries, err := os.ReadDir(s.layers)
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	dirs := map[string]bool{}
	for _, entry := range entries {
		if !strings.HasPrefix(entry.Name(), ".") {
			dirs[filepath.Join(s.layers, entry.Name(), "fs")] = true
		}
	}
	return dirs, nil
}

// copyLayer writes a layer's blob, as the manifest lists it, into the
// layout, unless it is there.
func (s *Store) copyLayer(ctx context.Context, src Source, layer Descriptor, progress Progress) error {
	if _, err := os.Stat(s.blobPath(layer.Digest)); err == nil {
		progress(layer.Digest, "Already exists", layer.Size, layer.Size)
		return nil
	}
	rc, err := src.OpenBlob(ctx, layer)
	if err != nil {
		return fmt.Errorf("download layer %s: %w", layer.Digest, err)
	}
	defer rc.Close()
	counter := &progressReader{r: rc, layer: layer.Digest, total: layer.Size, progress: progress}
	if err := s.writeBlobFrom(layer.Digest, counter); err != nil {
		return fmt.Errorf("download layer %s: %w", layer.Digest, err)
	}
	progress(layer.Digest, "Download complete", counter.done, layer.Size)
	return nil
}

// unpackLayer unpacks a layer into <root>/layers/<diff ID>/fs unless that
// exists: each layer is unpacked once, whatever number of images and
// containers use it. The diff ID is the digest of the uncompressed tar,
// checked here as it is read. Cancelling ctx (Ctrl-C) stops it.
func (s *Store) unpackLayer(ctx context.Context, digest, diffID Digest, progress Progress) error {
	if _, err := os.Stat(filepath.Join(s.layers, diffID.Hex())); err == nil {
		return nil
	}
	progress(digest, "Extracting", 0, -1)
	tmp, err := s.newUnpackDir()
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	defer os.RemoveAll(tmp)
	blob, err := os.Open(s.blobPath(digest))
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	defer blob.Close()
	tarStream, err := decompress(contextReader{ctx: ctx, r: blob})
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	hash := sha256.New()
	stats, err := unpackAll(io.TeeReader(tarStream, hash), tmp)
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	if got := sha256Digest(hash.Sum(nil)); got != diffID {
		return fmt.Errorf("layer %s is corrupt: its contents hash to %s, not to its diff ID %s", digest, got, diffID)
	}
	if err := s.placeLayer(tmp, diffID, stats.Bytes); err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	progress(digest, "Pull complete", stats.Bytes, stats.Bytes)
	return nil
}

// newUnpackDir makes a temporary directory beside the layers, with an
// empty fs in it, to unpack a layer into. The layer is renamed into place
// when complete, so that a layer directory is either complete or absent;
// the caller removes the temporary directory in any case.
func (s *Store) newUnpackDir() (string, error) {
	tmp, err := os.MkdirTemp(s.layers, ".unpack-")
	if err != nil {
		return "", err
	}
	if err := os.Mkdir(filepath.Join(tmp, "fs"), 0o755); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// unpackAll unpacks the tar stream r into tmp/fs, and reads r to its
// end: the zero blocks after the tar's last entry are part of the tar, and
// of its digest, which whoever reads r through a hash computes. That end
// may be far (standard input may send zeros for ever), so r should stop
// when the user cancels: a contextReader, under any gzip reader.
func unpackAll(r io.Reader, tmp string) (archive.Stats, error) {
	stats, err := archive.Unpack(r, filepath.Join(tmp, "fs"))
	if err != nil {
		return stats, err
	}
	_, err = io.Copy(io.Discard, r)
	return stats, err
}

// placeLayer records the size of the layer unpacked in tmp and renames tmp
// to the layer's place, <root>/layers/<diff ID>. If a layer of that diff
// ID is there already, it stays, and tmp is left for the caller to remove:
// containers may be using that directory.
func (s *Store) placeLayer(tmp string, diffID Digest, size int64) error {
	final := filepath.Join(s.layers, diffID.Hex())
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	if err := os.WriteFile(filepath.Join(tmp, "size"), []byte(strconv.FormatInt(size, 10)), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

// decompress returns the tar inside a layer blob, gunzipped if need be.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	switch compression(br) {
	case "gzip":
		return gzip.NewReader(br)
	case "zstd":
		return nil, errZstd
	}
	return br, nil
}

// compression says how a layer is compressed, from its first bytes, its
// magic number: gzip's is 1f 8b, zstd's 28 b5 2f fd; a plain tar has none.
func compression(br *bufio.Reader) string {
	magic, _ := br.Peek(4) // a shorter input is no gzip, and fails as a tar
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	}
	return ""
}

var errZstd = errors.New("it is compressed with zstd, which mydocker does not support: use gzip")

// writeBlob writes a small blob, such as a manifest or a config.
func (s *Store) writeBlob(digest Digest, data []byte) error {
	if err := s.writeBlobFrom(digest, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	return nil
}

// writeBlobFrom copies r into the blob of that digest: into a temporary
// file first, renamed into place only when its contents hash to the
// digest. A blob in the store is therefore always whole and right, even
// after a pull that was killed half-way. The caller names the blob in its
// errors, and says what r is; an error of the file system names the file.
func (s *Store) writeBlobFrom(digest Digest, r io.Reader) error {
	final := s.blobPath(digest)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	defer tmp.Close()
	hash := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, hash), r); err != nil {
		return err
	}
	if got := sha256Digest(hash.Sum(nil)); got != digest {
		return fmt.Errorf("the contents hash to %s, not to the digest", got)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), final)
}

func (s *Store) blobPath(digest Digest) string {
	return filepath.Join(s.dir, "blobs", "sha256", digest.Hex())
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r        io.Reader
	layer    Digest
	done     int64
	total    int64
	progress Progress
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	p.progress(p.layer, "Downloading", p.done, p.total)
	return n, err
}

// contextReader reads from r until ctx is done, so that a long unpack or
// import stops soon after Ctrl-C.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
