//chapter:5

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
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mydocker/mydocker/mydocker/internal/atomicfile"
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
//	<root>/images/             an OCI image layout: oci-layout, index.json, blobs/sha256/...
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
}

// ShortID is the first twelve hex digits of the image ID, as Docker shows it.
func (img *Image) ShortID() string { return img.ID.Hex()[:12] }

// Open opens the store under root, creating it when it is missing.
func Open(root string) (*Store, error) {
	s := &Store{
		dir:    filepath.Join(root, "images"),
		layers: filepath.Join(root, "layers"),
	}
	for _, dir := range []string{s.dir, s.layers} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create image store: %w", err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.dir, "index.json")); errors.Is(err, os.ErrNotExist) {
		if err := atomicfile.Write(filepath.Join(s.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o600); err != nil {
			return nil, err
		}
		if err := s.writeIndex(&Index{SchemaVersion: 2, MediaType: MediaTypeOCIIndex, Manifests: []Descriptor{}}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// lock takes the store's lock, so that one command at a time changes it.
// It is released when the returned file is closed.
func (s *Store) lock() (*os.File, error) {
	f, err := os.Open(s.dir)
	if err != nil {
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock image store: %w", err)
	}
	return f, nil
}

func (s *Store) readIndex() (*Index, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	var index Index
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	return &index, nil
}

// writeIndex replaces index.json atomically: the commit point of every
// change, so that a crash leaves the old index or the new, never half.
func (s *Store) writeIndex(index *Index) error {
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	return atomicfile.Write(filepath.Join(s.dir, "index.json"), data, 0o600)
}

// List returns every image of the store, newest first.
func (s *Store) List() ([]*Image, error) {
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
	var config ConfigFile
	if err := s.readJSON(manifest.Config.Digest, &config); err != nil {
		return nil, fmt.Errorf("read image config %s: %w", manifest.Config.Digest, err)
	}
	img := &Image{Manifest: manifestDigest, ID: manifest.Config.Digest, Config: config}
	for _, diffID := range config.RootFS.DiffIDs {
		img.Layers = append(img.Layers, s.layerDir(diffID))
	}
	return img, nil
}

func (s *Store) readManifest(digest Digest) (*Manifest, error) {
	var manifest Manifest
	if err := s.readJSON(digest, &manifest); err != nil {
		return nil, fmt.Errorf("read image manifest %s: %w", digest, err)
	}
	return &manifest, nil
}

// readJSON reads the blob of that digest, a manifest or a config, into v.
func (s *Store) readJSON(digest Digest, v any) error {
	data, err := os.ReadFile(s.blobPath(digest))
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// ErrNotFound is the error of Lookup for an image the store does not have.
var ErrNotFound = errors.New("no such image")

// Lookup finds an image by name (busybox, busybox:latest,
// docker.io/library/busybox:latest) or by a prefix of its ID. index.json
// gives every image's names and ID, so Lookup reads it, then the manifest
// and config of the one image found: three files, whether the store holds
// one image or five hundred.
func (s *Store) Lookup(nameOrID string) (*Image, error) {
	index, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	manifestDigest, err := s.find(index, nameOrID)
	if err != nil {
		return nil, err
	}
	img, err := s.load(manifestDigest)
	if err != nil {
		return nil, err
	}
	for _, desc := range index.Manifests {
		if name := desc.Annotations[refAnnotation]; desc.Digest == manifestDigest && name != "" {
			img.Names = append(img.Names, name)
		}
	}
	return img, nil
}

// find returns the digest of the manifest of the image that nameOrID
// names in the index.
func (s *Store) find(index *Index, nameOrID string) (Digest, error) {
	// A name wins over an ID prefix, as in Docker: "f33e" may be both.
	ref, refErr := ParseReference(nameOrID)
	if refErr == nil {
		full := FullName(ref)
		for _, desc := range index.Manifests {
			if desc.Annotations[refAnnotation] == full {
				return desc.Digest, nil
			}
		}
	}
	if id := strings.TrimPrefix(nameOrID, "sha256:"); len(id) >= 4 && isHex(id) {
		found, err := s.findID(index, id)
		if err != nil {
			return "", err
		}
		if len(found) == 1 {
			return found[0], nil
		}
		if len(found) > 1 {
			return "", fmt.Errorf("image ID %q is ambiguous: give more of it", nameOrID)
		}
	}
	if refErr != nil {
		return "", refErr
	}
	return "", fmt.Errorf("image %q: %w: see the images here with mydocker images, or get it with mydocker pull or mydocker import", nameOrID, ErrNotFound)
}

// findID returns the manifests of the images whose ID starts with prefix.
func (s *Store) findID(index *Index, prefix string) ([]Digest, error) {
	var found []Digest
	seen := map[Digest]bool{} // an image with several names has an entry for each
	for _, desc := range index.Manifests {
		if seen[desc.Digest] {
			continue
		}
		seen[desc.Digest] = true
		id, err := s.imageID(desc)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(id.Hex(), prefix) {
			found = append(found, desc.Digest)
		}
	}
	return found, nil
}

// imageID is the ID of the image that an entry of the index points to:
// from the entry's annotation or, in an entry written without one, from
// the image's manifest.
func (s *Store) imageID(desc Descriptor) (Digest, error) {
	if id, err := ParseDigest(desc.Annotations[idAnnotation]); err == nil {
		return id, nil
	}
	manifest, err := s.readManifest(desc.Digest)
	if err != nil {
		return "", err
	}
	return manifest.Config.Digest, nil
}

func isHex(s string) bool {
	return strings.Trim(s, "0123456789abcdef") == ""
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
