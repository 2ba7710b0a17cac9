//chapter:images

// Package image keeps container images: their blobs (manifests, configs,
// layers, compressed or not) in an OCI image layout, and every layer unpacked once
// into a directory that overlay can use as a lower layer for any number of
// containers.
package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/mydocker/internal/atomicfile"
	"github.com/mydocker/mydocker/mydocker/internal/rootdir"
)

// refAnnotation names an image in the layout's index.json, as the OCI
// image layout specification says.
const refAnnotation = "org.opencontainers.image.ref.name"

// idAnnotation gives, in index.json, the ID of the image an entry points
// to: the digest of its config, which is otherwise written only in its
// manifest. With it, Lookup finds an ID prefix in the index alone, without
// opening every manifest. The OCI layout allows annotations of one's own;
// an entry written before mydocker added this one has none, and its
// manifest is read instead.
const idAnnotation = "com.github.mydocker.image.id"

// Store is the image store under a mydocker root:
//
//	<root>/images/              an OCI image layout: oci-layout, index.json, blobs/sha256/...,
//	                            and index.lookup, mydocker's cache of index.json
//	<root>/layers/<diff ID>/fs  each layer unpacked, shared by all containers
type Store struct {
	dir    string // <root>/images
	layers string // <root>/layers
}

// Image is one image of the store.
type Image struct {
	Names    []string   // full names, e.g. docker.io/library/busybox:latest; none if untagged
	Manifest Digest     // digest of the manifest
	ID       Digest     // digest of the config: the image ID, as Docker shows it
	Config   ConfigFile // command, environment, working directory, user, history
	Layers   []string   // the unpacked layer directories, lowest first
	claims   []int      // the locked layer directories of Claim, until Release
}

// ShortID is the first twelve hex digits of the image ID, as Docker shows it.
func (img *Image) ShortID() string { return img.ID.Hex()[:12] }

// OpenExisting opens the store under root to find images in it, and makes
// nothing: a store that does not exist holds no image. (run finds its
// image while it may still be ended by a signal at any moment; it must
// not be half way through creating the store then. And a command that only
// reads, such as images, leaves a missing root missing.)
func OpenExisting(root string) *Store {
	return &Store{dir: filepath.Join(root, "images"), layers: filepath.Join(root, "layers")}
}

// Open opens the store under root, creating it (and the root, with its
// mark) when it is missing.
func Open(root string) (*Store, error) {
	if err := rootdir.Make(root); err != nil {
		return nil, err
	}
	s := OpenExisting(root)
	for _, dir := range []string{s.dir, s.layers} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create image store: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.dir, "index.json")); errors.Is(err, os.ErrNotExist) {
		if err := s.create(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// create writes the layout's files into an empty store. It takes the lock
// and looks again: another mydocker may have created the store meanwhile,
// and added an image that an empty index.json would take away.
func (s *Store) create() error {
	lock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer lock.Close()
	if _, err := os.Stat(filepath.Join(s.dir, "index.json")); err == nil {
		return nil
	}
	if err := atomicfile.Write(filepath.Join(s.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o600); err != nil {
		return err
	}
	return s.writeIndex(&Index{SchemaVersion: 2, MediaType: MediaTypeOCIIndex, Manifests: []Descriptor{}})
}

// The store has two locks, each an flock(2) on one of its directories:
//
//   - lock, on images/, guards the index: shared (unix.LOCK_SH) for a
//     command that reads it, so that it never sees a change half made;
//     exclusive (unix.LOCK_EX) for the moment a command changes the index
//     or deletes what it no longer lists.
//   - lockWriters, on layers/, makes commands that change the store take
//     turns: an import or a pull holds it exclusive from start to end.
//
// So a pull that downloads for a minute holds images/ only for the moment
// it adds its image to the index, and run and images never wait for it.
// A command that takes both takes lockWriters first.
//
// With unix.LOCK_NB neither waits; both then fail with EWOULDBLOCK. A lock
// is released when the returned file is closed. (A missing store fails
// with an error that wraps os.ErrNotExist.)
func (s *Store) lock(how int) (*os.File, error) {
	fd, err := flock(s.dir, how)
	if err != nil {
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	return os.NewFile(uintptr(fd), s.dir), nil
}

// lockWriters takes the writers' lock (see lock).
func (s *Store) lockWriters(how int) (*os.File, error) {
	fd, err := flock(s.layers, how)
	if err != nil {
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	return os.NewFile(uintptr(fd), s.layers), nil
}

// flock opens path and takes an flock(2) on it, of the kind how says. The
// lock lasts until the descriptor returned is closed, or this process ends.
// (unix.Open rather than os.Open: run takes these locks as it starts, and
// os.Open also offers the descriptor to Go's poller, which refuses a
// directory, for a few system calls more.)
func flock(path string, how int) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.Flock(fd, how); err != nil {
		unix.Close(fd)
		return -1, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	return fd, nil
}

func (s *Store) readIndex() (*Index, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	return ParseIndex(data)
}

// writeIndex replaces index.json atomically: the commit point of every
// change, so that a crash leaves the old index or the new, never half.
// Around it, it keeps index.lookup, the cache of index.json that Lookup
// reads: it removes it before, and writes it after, stamped with the new
// index.json (lookup.go says why in that order).
func (s *Store) writeIndex(index *Index) error {
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	if err := s.removeLookup(); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(s.dir, "index.json"), data, 0o600); err != nil {
		return err
	}
	// The change is made. Without index.lookup, Lookup reads index.json:
	// slower, never wrong; so a failure here is not the command's.
	_ = s.writeLookup(index)
	return nil
}

// List returns every image of the store, newest first; none for a store
// that does not exist.
func (s *Store) List() ([]*Image, error) {
	lock, err := s.lock(unix.LOCK_SH)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	index, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var images []*Image
	byManifest := map[Digest]*Image{}
	for _, desc := range index.Manifests {
		img, ok := byManifest[desc.Digest]
		if !ok {
			if img, err = s.load(desc.Digest); err != nil {
				return nil, err
			}
			byManifest[desc.Digest] = img
			images = append(images, img)
		}
		if name := desc.Annotations[refAnnotation]; name != "" {
			img.Names = append(img.Names, name)
		}
	}
	slices.SortStableFunc(images, func(a, b *Image) int { return b.Created().Compare(a.Created()) })
	return images, nil
}

// load reads one image's manifest and config from the blobs.
func (s *Store) load(manifestDigest Digest) (*Image, error) {
	manifest, err := s.readManifest(manifestDigest)
	if err != nil {
		return nil, err
	}
	config, err := s.readConfig(manifest.Config.Digest)
	if err != nil {
		return nil, err
	}
	img := &Image{Manifest: manifestDigest, ID: manifest.Config.Digest, Config: *config}
	for _, diffID := range config.RootFS.DiffIDs {
		img.Layers = append(img.Layers, s.layerDir(diffID))
	}
	return img, nil
}

// readManifest reads a manifest from the blobs. Add checked it before
// storing it; it is checked again, as a file may have been edited since.
func (s *Store) readManifest(digest Digest) (*Manifest, error) {
	data, err := os.ReadFile(s.blobPath(digest))
	if err != nil {
		return nil, fmt.Errorf("read image manifest %s: %w", digest, err)
	}
	var manifest Manifest
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, fmt.Errorf("read image manifest %s: %w", digest, err)
	}
	if err := manifest.validate(); err != nil {
		return nil, fmt.Errorf("read image manifest %s: %w", digest, err)
	}
	return &manifest, nil
}

// readConfig reads an image config from the blobs.
func (s *Store) readConfig(digest Digest) (*ConfigFile, error) {
	data, err := os.ReadFile(s.blobPath(digest))
	if err != nil {
		return nil, fmt.Errorf("read image config %s: %w", digest, err)
	}
	config, err := parseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("read image config %s: %w", digest, err)
	}
	return config, nil
}

// layerDir is where the layer with this diff ID is unpacked.
func (s *Store) layerDir(diffID Digest) string {
	return filepath.Join(s.layers, diffID.Hex(), "fs")
}

// Size is the number of bytes in the image's unpacked layers. Only images
// shows it: it takes a file a layer, which Lookup does not open, since run
// has no use for sizes.
func (s *Store) Size(img *Image) int64 {
	var size int64
	for _, diffID := range img.Config.RootFS.DiffIDs {
		size += s.layerSize(diffID)
	}
	return size
}

// layerSize is the size of an unpacked layer, recorded when it was unpacked.
func (s *Store) layerSize(diffID Digest) int64 {
	var size int64
	data, err := os.ReadFile(filepath.Join(s.layers, diffID.Hex(), "size"))
	if err == nil {
		fmt.Sscan(string(data), &size)
	}
	return size
}

// Created is when the image was made, or the zero time if it does not say.
func (img *Image) Created() time.Time { return img.Config.Created }
