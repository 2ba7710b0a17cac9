//chapter:5

package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/mydocker/mydocker/mydocker/internal/archive"
)

// Progress is told how the copy of each layer goes: status is
// "Already exists", "Downloading" (with bytes done of total, total -1 when
// unknown), "Download complete", "Extracting" or "Pull complete".
type Progress func(layer v1.Hash, status string, done, total int64)

// Add stores an image under the given names (none for an untagged image):
// it copies the blobs it does not have yet, unpacks every new layer once,
// and only then records the image in the index. If anything fails, what
// was copied for it is removed again.
func (s *Store) Add(img v1.Image, names []string, progress Progress) (added *Image, err error) {
	lock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	// If Add fails, what it copied goes again; layers that were here
	// before stay, whether an image or a running container uses them.
	before, err := s.layerDirs()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.collectGarbage(before)
		}
	}()

	manifest, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("read image manifest: %w", err)
	}
	config, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("read image config: %w", err)
	}
	if config.OS != "" && config.OS != "linux" {
		return nil, fmt.Errorf("the image is for %s, and mydocker runs Linux images only", config.OS)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("read image layers: %w", err)
	}
	if len(layers) != len(config.RootFS.DiffIDs) || len(layers) != len(manifest.Layers) {
		return nil, errors.New("the image is inconsistent: its manifest and config list different numbers of layers")
	}
	for i, layer := range layers {
		digest, diffID := manifest.Layers[i].Digest, config.RootFS.DiffIDs[i]
		if err := s.copyLayer(layer, digest, manifest.Layers[i].Size, progress); err != nil {
			return nil, err
		}
		if err := s.unpackLayer(digest, diffID, progress); err != nil {
			return nil, err
		}
	}
	manifestDigest, err := s.writeMetadata(img, manifest)
	if err != nil {
		return nil, err
	}
	if err := s.tag(manifestDigest, manifest.MediaType, names); err != nil {
		return nil, err
	}
	return s.load(manifestDigest)
}

// layerDirs returns the directories of the layers unpacked so far.
func (s *Store) layerDirs() (map[string]bool, error) {
	entries, err := os.ReadDir(s.layers)
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	dirs := map[string]bool{}
	for _, entry := range entries {
		dirs[filepath.Join(s.layers, entry.Name(), "fs")] = true
	}
	return dirs, nil
}

// copyLayer writes a layer's compressed blob into the layout, unless it is there.
func (s *Store) copyLayer(layer v1.Layer, digest v1.Hash, size int64, progress Progress) error {
	if _, err := os.Stat(s.blobPath(digest)); err == nil {
		progress(digest, "Already exists", size, size)
		return nil
	}
	rc, err := layer.Compressed()
	if err != nil {
		return fmt.Errorf("download layer %s: %w", digest, err)
	}
	defer rc.Close()
	counter := &progressReader{r: rc, layer: digest, total: size, progress: progress}
	if err := s.writeBlobFrom(digest, counter); err != nil {
		return fmt.Errorf("download layer %s: %w", digest, err)
	}
	progress(digest, "Download complete", counter.done, size)
	return nil
}

// unpackLayer unpacks a layer into <root>/layers/<diff ID>/fs unless that
// exists: each layer is unpacked once, whatever number of images and
// containers use it. The diff ID is the digest of the uncompressed tar,
// checked here as it is read.
func (s *Store) unpackLayer(digest, diffID v1.Hash, progress Progress) error {
	final := filepath.Join(s.layers, diffID.Hex)
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	progress(digest, "Extracting", 0, -1)
	// Unpack beside the final place and rename, so that a layer directory
	// is either complete or absent.
	tmp, err := os.MkdirTemp(s.layers, ".unpack-")
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Mkdir(filepath.Join(tmp, "fs"), 0o755); err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	blob, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return os.Open(s.blobPath(digest)) })
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	rc, err := blob.Uncompressed() // gzip and zstd are recognised by their magic bytes
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	defer rc.Close()
	hash := sha256.New()
	tee := io.TeeReader(rc, hash)
	stats, err := archive.Unpack(tee, filepath.Join(tmp, "fs"))
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	if _, err := io.Copy(io.Discard, tee); err != nil { // the tar's end padding counts too
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != diffID.Hex {
		return fmt.Errorf("layer %s is corrupt: its contents hash to sha256:%s, not to its diff ID %s", digest, got, diffID)
	}
	if err := os.WriteFile(filepath.Join(tmp, "size"), []byte(strconv.FormatInt(stats.Bytes, 10)), 0o600); err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("unpack layer %s: %w", digest, err)
	}
	progress(digest, "Pull complete", stats.Bytes, stats.Bytes)
	return nil
}

// writeMetadata writes the config and the manifest blobs and returns the
// manifest's digest.
func (s *Store) writeMetadata(img v1.Image, manifest *v1.Manifest) (v1.Hash, error) {
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read image config: %w", err)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read image manifest: %w", err)
	}
	manifestDigest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("read image digest: %w", err)
	}
	for digest, data := range map[v1.Hash][]byte{manifest.Config.Digest: rawConfig, manifestDigest: rawManifest} {
		if err := s.writeBlob(digest, data); err != nil {
			return v1.Hash{}, err
		}
	}
	return manifestDigest, nil
}

// writeBlob writes a small blob, such as a manifest or a config.
func (s *Store) writeBlob(digest v1.Hash, data []byte) error {
	return s.writeBlobFrom(digest, bytes.NewReader(data))
}

// writeBlobFrom copies r into the blob of that digest: into a temporary
// file first, renamed into place only when its contents hash to the
// digest. A blob in the store is therefore always whole and right, even
// after a pull that was killed half-way.
func (s *Store) writeBlobFrom(digest v1.Hash, r io.Reader) error {
	final := s.blobPath(digest)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".tmp-")
	if err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	defer tmp.Close()
	hash := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, hash), r); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != digest.Hex {
		return fmt.Errorf("blob %s is corrupt: its contents hash to sha256:%s", digest, got)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("write blob %s: %w", digest, err)
	}
	return nil
}

func (s *Store) blobPath(digest v1.Hash) string {
	return filepath.Join(s.dir, "blobs", digest.Algorithm, digest.Hex)
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r        io.Reader
	layer    v1.Hash
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
