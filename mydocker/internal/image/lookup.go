//chapter:5

package image

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/mydocker/mydocker/mydocker/internal/atomicfile"
)

// entry is what Lookup needs of an entry of index.json.
type entry struct {
	manifest Digest // the image's manifest
	id       Digest // the image ID; empty in an entry written before mydocker recorded it
	name     string // e.g. docker.io/library/busybox:latest; empty for an untagged image
}

// entriesOf gives the entries of an index as Lookup needs them.
func entriesOf(index *Index) []entry {
	entries := make([]entry, 0, len(index.Manifests))
	for _, desc := range index.Manifests {
		entries = append(entries, entry{manifest: desc.Digest, id: Digest(desc.Annotations[idAnnotation]), name: desc.Annotations[refAnnotation]})
	}
	return entries
}

// index.lookup is a cache of what Lookup needs of index.json, in a form
// that costs little to read. Decoding index.json, some 400 bytes of JSON
// a name, takes about 2.4 ms for 500 names, in every run; reading the
// same entries from index.lookup, a line each, 0.3 ms. Its first line is
// the digest of the index.json it was made from; then comes a line for
// each entry: the manifest's digest, the image ID or "-", the name or "-":
//
//	sha256:3402...0989 sha256:fb8c...3a0c docker.io/library/busybox:latest
//
// index.json stays the store's truth: the file that the OCI layout
// defines, that other tools read, and that every change commits.
// index.lookup is believed only when its first line is the digest of the
// index.json there now, and every line reads well. So it is safe whatever
// happens between the two writes: a crash there leaves index.lookup
// stamped with an index.json that was never committed; a store of an
// older mydocker has none; someone may edit index.json by hand. In each
// case the stamp differs, and Lookup decodes index.json, until the next
// change writes both again.

// writeLookup writes index.lookup for index, whose JSON is indexData.
func (s *Store) writeLookup(index *Index, indexData []byte) error {
	path := filepath.Join(s.dir, "index.lookup")
	var b strings.Builder
	b.WriteString(string(DigestOf(indexData)) + "\n")
	for _, e := range entriesOf(index) {
		id, name := cmp.Or(string(e.id), "-"), cmp.Or(e.name, "-")
		// A name that mydocker wrote has no space (it is a parsed
		// reference); one edited in by hand might. Such an index gets no
		// cache rather than a wrong one.
		if strings.ContainsFunc(id+name, unicode.IsSpace) {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("write image index: %w", err)
			}
			return nil
		}
		fmt.Fprintf(&b, "%s %s %s\n", e.manifest, id, name)
	}
	return atomicfile.Write(path, []byte(b.String()), 0o600)
}

// readLookup returns the entries of index.json: from index.lookup if it
// was made from the index.json there now and reads well, else from
// index.json itself.
func (s *Store) readLookup() ([]entry, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	if entries, ok := s.cachedEntries(data); ok {
		return entries, nil
	}
	index, err := ParseIndex(data)
	if err != nil {
		return nil, err
	}
	return entriesOf(index), nil
}

// cachedEntries reads index.lookup, and says whether it is the cache of
// indexData. A line that is not three fields (a digest, an ID or "-", a
// name or "-") and a newline makes it no cache at all, rather than one
// that stops there: an entry missed would be an image that Lookup cannot
// find.
func (s *Store) cachedEntries(indexData []byte) ([]entry, bool) {
	table, err := os.ReadFile(filepath.Join(s.dir, "index.lookup"))
	if err != nil {
		return nil, false
	}
	stamp, lines, ok := strings.Cut(string(table), "\n")
	if !ok || stamp != string(DigestOf(indexData)) {
		return nil, false
	}
	var entries []entry
	for line := range strings.Lines(lines) {
		line, complete := strings.CutSuffix(line, "\n")
		manifest, rest, ok1 := strings.Cut(line, " ")
		id, name, ok2 := strings.Cut(rest, " ")
		if !complete || !ok1 || !ok2 || name == "" || strings.Contains(name, " ") {
			return nil, false
		}
		if _, err := ParseDigest(manifest); err != nil {
			return nil, false
		}
		e := entry{manifest: Digest(manifest)}
		if id != "-" {
			if _, err := ParseDigest(id); err != nil {
				return nil, false
			}
			e.id = Digest(id)
		}
		if name != "-" {
			e.name = name
		}
		entries = append(entries, e)
	}
	return entries, true
}

// ErrNotFound is the error of Lookup for an image the store does not have.
var ErrNotFound = errors.New("no such image")

// Lookup finds an image by name (busybox, busybox:latest,
// docker.io/library/busybox:latest) or by a prefix of its ID. index.json
// gives every image's names and ID, so Lookup reads it (and its cache,
// index.lookup), then the manifest and config of the one image found:
// four files, whether the store holds one image or five hundred.
func (s *Store) Lookup(nameOrID string) (*Image, error) {
	entries, err := s.readLookup()
	if err != nil {
		return nil, err
	}
	manifestDigest, err := s.find(entries, nameOrID)
	if err != nil {
		return nil, err
	}
	img, err := s.load(manifestDigest)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.manifest == manifestDigest && e.name != "" {
			img.Names = append(img.Names, e.name)
		}
	}
	return img, nil
}

// find returns the digest of the manifest of the image that nameOrID
// names in the index.
func (s *Store) find(entries []entry, nameOrID string) (Digest, error) {
	// A name wins over an ID prefix, as in Docker: "f33e" may be both.
	ref, refErr := ParseReference(nameOrID)
	if refErr == nil {
		full := FullName(ref)
		for _, e := range entries {
			if e.name == full {
				return e.manifest, nil
			}
		}
	}
	if id := strings.TrimPrefix(nameOrID, "sha256:"); len(id) >= 4 && isHex(id) {
		found, err := s.findID(entries, id)
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
func (s *Store) findID(entries []entry, prefix string) ([]Digest, error) {
	var found []Digest
	seen := map[Digest]bool{} // an image with several names has an entry for each
	for _, e := range entries {
		if seen[e.manifest] {
			continue
		}
		seen[e.manifest] = true
		id, err := s.imageID(e)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(id.Hex(), prefix) {
			found = append(found, e.manifest)
		}
	}
	return found, nil
}

// imageID is the ID of the image that an entry points to: the entry's
// own or, in an entry written without one, the one its manifest names.
func (s *Store) imageID(e entry) (Digest, error) {
	if id, err := ParseDigest(string(e.id)); err == nil {
		return id, nil
	}
	manifest, err := s.readManifest(e.manifest)
	if err != nil {
		return "", err
	}
	return manifest.Config.Digest, nil
}
