//chapter:images

package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// tag records the image in the index under each name, taking the names
// from the images that had them. An image that loses its last name stays,
// untagged ("<none>"), as Docker keeps it. With no names, the image is
// recorded untagged unless the index already has it. Each entry also
// gives the image's ID, the digest of its config.
func (s *Store) tag(manifestDigest Digest, mediaType string, id Digest, names []string) error {
	index, err := s.readIndex()
	if err != nil {
		return err
	}
	size, err := s.blobSize(manifestDigest)
	if err != nil {
		return err
	}
	entry := func(name string) Descriptor {
		desc := Descriptor{MediaType: mediaType, Size: size, Digest: manifestDigest,
			Annotations: map[string]string{idAnnotation: string(id)}}
		if name != "" {
			desc.Annotations[refAnnotation] = name
		}
		return desc
	}
	for _, name := range names {
		index.Manifests = withoutName(index.Manifests, name)
		index.Manifests = append(index.Manifests, entry(name))
	}
	// Drop an untagged entry of this image once it has a name; add one if
	// it has none at all.
	has := false
	for i := len(index.Manifests) - 1; i >= 0; i-- {
		desc := index.Manifests[i]
		if desc.Digest != manifestDigest {
			continue
		}
		if desc.Annotations[refAnnotation] == "" && len(names) > 0 {
			index.Manifests = slices.Delete(index.Manifests, i, i+1)
			continue
		}
		has = true
	}
	if !has {
		index.Manifests = append(index.Manifests, entry(""))
	}
	return s.writeIndex(index)
}

// withoutName removes name from the index entries. The image that had it
// keeps an untagged entry if that was its last name.
func withoutName(manifests []Descriptor, name string) []Descriptor {
	for i, desc := range manifests {
		if desc.Annotations[refAnnotation] != name {
			continue
		}
		manifests = slices.Delete(manifests, i, i+1)
		if !slices.ContainsFunc(manifests, func(d Descriptor) bool { return d.Digest == desc.Digest }) {
			delete(desc.Annotations, refAnnotation) // the entry is gone; its map is this one's alone
			manifests = append(manifests, desc)
		}
		return manifests
	}
	return manifests
}

func (s *Store) blobSize(digest Digest) (int64, error) {
	info, err := os.Stat(s.blobPath(digest))
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", digest, err)
	}
	return info.Size(), nil
}

// Removal says what Remove did, in the words of docker rmi.
type Removal struct {
	Untagged []string // names taken off
	Deleted  *Image   // the image deleted, if it was
}

// Remove takes a name off an image, and deletes the image when that was
// its last name or when it is given by ID. Layers that a container claims
// (see Claim) stay on disk even when no image needs them any more; a
// later Remove deletes them, once their containers have exited.
func (s *Store) Remove(nameOrID string) (*Removal, error) {
	writers, err := s.lockWriters(unix.LOCK_EX)
	if errors.Is(err, os.ErrNotExist) {
		_, err := s.lookup(nameOrID) // no store: no such image (or a bad name)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	defer writers.Close()
	lock, err := s.lock(unix.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	img, err := s.lookup(nameOrID)
	if err != nil {
		return nil, err
	}
	index, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	removal := &Removal{}
	byName := ""
	if ref, err := ParseReference(nameOrID); err == nil && slices.Contains(img.Names, FullName(ref)) {
		byName = FullName(ref)
	}
	if byName != "" && len(img.Names) > 1 {
		index.Manifests = slices.DeleteFunc(index.Manifests, func(d Descriptor) bool {
			return d.Annotations[refAnnotation] == byName
		})
		removal.Untagged = []string{byName}
	} else {
		index.Manifests = slices.DeleteFunc(index.Manifests, func(d Descriptor) bool { return d.Digest == img.Manifest })
		removal.Untagged = img.Names
		removal.Deleted = img
	}
	if err := s.writeIndex(index); err != nil {
		return nil, err
	}
	return removal, s.collectGarbage(nil)
}

// collectGarbage deletes the blobs and the unpacked layers that no image
// in the index refers to, except the layer directories in keepLayers and
// those that a container claims (see Claim), and what commands that were
// killed left (removeLeftovers). The caller holds the writers' lock. What
// the index lists stays, so a run that claims an image meanwhile loses
// nothing; rmi, which takes images out of the index, holds the index's
// lock too.
func (s *Store) collectGarbage(keepLayers map[string]bool) error {
	index, err := s.readIndex()
	if err != nil {
		return err
	}
	keepBlobs := map[string]bool{}
	keepDiffIDs := map[string]bool{}
	for _, desc := range index.Manifests {
		if keepBlobs[desc.Digest.Hex()] {
			continue // an image with several names has an entry for each
		}
		keepBlobs[desc.Digest.Hex()] = true
		manifest, err := s.readManifest(desc.Digest)
		if err != nil {
			return err
		}
		keepBlobs[manifest.Config.Digest.Hex()] = true
		for _, layer := range manifest.Layers {
			keepBlobs[layer.Digest.Hex()] = true
		}
		config, err := s.readConfig(manifest.Config.Digest)
		if err != nil {
			return err
		}
		for _, diffID := range config.RootFS.DiffIDs {
			keepDiffIDs[diffID.Hex()] = true
		}
	}
	for dir := range keepLayers {
		keepDiffIDs[filepath.Base(filepath.Dir(dir))] = true
	}
	if err := s.removeLeftovers(); err != nil {
		return err
	}
	if err := removeUnlisted(filepath.Join(s.dir, "blobs", "sha256"), keepBlobs); err != nil {
		return err
	}
	return removeUnlisted(s.layers, keepDiffIDs)
}

// removeUnlisted removes every entry of dir whose name is not in keep,
// but a directory that someone holds a lock on: a layer that a container
// claims.
func removeUnlisted(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("clean %s: %w", dir, err)
	}
	for _, entry := range entries {
		if keep[entry.Name()] {
			continue
		}
		if err := removeUnlocked(filepath.Join(dir, entry.Name()), entry.IsDir()); err != nil {
			return fmt.Errorf("clean %s: %w", dir, err)
		}
	}
	return nil
}

// removeUnlocked removes path, a file or (isDir) a directory and all in
// it, unless another holds a lock on the directory. It takes the lock
// itself, exclusive, while it removes, so that no two commands remove the
// same directory at once.
func removeUnlocked(path string, isDir bool) error {
	if !isDir {
		err := os.Remove(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	fd, err := flock(path, unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, os.ErrNotExist) {
		return nil // in use, or removed by another meanwhile
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return os.RemoveAll(path)
}

// RemoveLeftovers removes what commands that were killed left in the
// store (see removeLeftovers), unless a command is changing the store at
// this moment: run calls it while its container starts, and must not wait
// for an import.
func (s *Store) RemoveLeftovers() error {
	lock, err := s.lockWriters(unix.LOCK_SH | unix.LOCK_NB)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.EWOULDBLOCK) {
		return nil // no store; or an import or pull at work, which removes them itself
	}
	if err != nil {
		return err
	}
	defer lock.Close()
	return s.removeLeftovers()
}

// removeLeftovers removes the temporary files and directories of an import
// or pull that was killed half-way (kill -9, or a second Ctrl-C, which
// ends mydocker at once): unpackings (layers/.unpack-*), blobs
// (blobs/sha256/.tmp-*) and the temporary files of index.json and
// index.lookup (images/.index.json.tmp-*). Only a command that holds the
// writers' lock exclusive writes them, and the caller holds that lock,
// shared or exclusive: nobody is writing them now, and they are abandoned. (Two
// runs may both hold the shared lock and remove them at once:
// removeUnlocked keeps them from removing the same.)
func (s *Store) removeLeftovers() error {
	for _, dir := range []string{s.dir, filepath.Join(s.dir, "blobs", "sha256"), s.layers} {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("clean %s: %w", dir, err)
		}
		for _, entry := range entries {
			name := entry.Name()
			if !strings.HasPrefix(name, ".") || !strings.Contains(name, ".tmp-") && !strings.HasPrefix(name, ".unpack-") {
				continue
			}
			if err := removeUnlocked(filepath.Join(dir, name), entry.IsDir()); err != nil {
				return fmt.Errorf("clean %s: %w", dir, err)
			}
		}
	}
	return nil
}
