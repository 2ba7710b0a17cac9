//chapter:images

package image

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"golang.org/x/sys/unix"

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
// that costs little to read: decoding index.json takes about 2.5 ms for
// 500 names, in every run. It has a line for each entry: the manifest's
// digest, the image ID or "-", the name or "-". Its first line is the
// stamp of the index.json it was made from (see indexStamp):
//
//	index.json ino=1835017 size=209315 mtime=1718000000123456789 ctime=1718000000127456789
//	sha256:3402...0989 sha256:fb8c...3a0c docker.io/library/busybox:latest
//
// index.json stays the store's truth, and index.lookup is believed only
// when its stamp is that of the index.json there now. writeIndex removes
// index.lookup, commits index.json, then writes index.lookup for it; so a
// crash in between, a failed write of the cache, a store of an older
// mydocker (whose first line is a digest) or an index.json changed by
// anything else leave no cache, or one whose stamp differs, and Lookup
// decodes index.json. docs/05-images.md goes through the cases, and the
// one it cannot see: a rewrite in place, of the same size, within one
// tick of the file system's clock of mydocker's own.

// indexStamp is the identity of index.json as stat(2) gives it, as make,
// git and rsync trust it: its inode, its size, and the times at which its
// contents (mtime) and its inode (ctime) last changed, in nanoseconds. A
// file renamed over index.json is another inode (rename does not cross
// file systems); a write into it moves ctime, which no system call sets
// back. (Not the device number: on btrfs, NFS or overlayfs it may change
// at the next boot, and every run would then decode index.json until the
// next change.)
func (s *Store) indexStamp() (string, error) {
	path := filepath.Join(s.dir, "index.json")
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", fmt.Errorf("read image index: stat %s: %w", path, err)
	}
	return fmt.Sprintf("index.json ino=%d size=%d mtime=%d ctime=%d",
		st.Ino, st.Size, st.Mtim.Nano(), st.Ctim.Nano()), nil
}

// writeLookup writes index.lookup for index, which writeIndex has just
// committed as index.json.
func (s *Store) writeLookup(index *Index) error {
	stamp, err := s.indexStamp()
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString(stamp + "\n")
	for _, e := range entriesOf(index) {
		id, name := cmp.Or(string(e.id), "-"), cmp.Or(e.name, "-")
		// A name that mydocker wrote has no space (it is a parsed
		// reference); one edited in by hand might. Such an index gets no
		// cache rather than a wrong one.
		if strings.ContainsFunc(id+name, unicode.IsSpace) {
			return nil
		}
		fmt.Fprintf(&b, "%s %s %s\n", e.manifest, id, name)
	}
	return atomicfile.Write(filepath.Join(s.dir, "index.lookup"), []byte(b.String()), 0o600)
}

// removeLookup removes index.lookup, before writeIndex commits another
// index.json: then an index.lookup, when there is one, was made after the
// last index.json that mydocker committed, never before.
func (s *Store) removeLookup() error {
	err := os.Remove(filepath.Join(s.dir, "index.lookup"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("write image index: %w", err)
	}
	return nil
}

// cachedLines returns the entry lines of index.lookup, if it is the cache
// of the index.json there now: if its first line is that index.json's
// stamp.
func (s *Store) cachedLines() ([]byte, bool) {
	stamp, err := s.indexStamp()
	if err != nil {
		return nil, false
	}
	table, err := os.ReadFile(filepath.Join(s.dir, "index.lookup"))
	if err != nil {
		return nil, false
	}
	first, lines, ok := bytes.Cut(table, []byte("\n"))
	if !ok || string(first) != stamp {
		return nil, false
	}
	return lines, true
}

// cachedEntries parses the lines of index.lookup that Lookup(nameOrID)
// needs: for a name that the store has, the common case, the lines of
// that one image (the first line that ends with the name, and the others
// of its manifest); for an ID prefix, or a name the store lacks, all.
// Parsing all 500 lines and checking their 1,000 digests took longer than
// the rest of Lookup. Every line parsed is checked before it is used, as
// a digest becomes a path under blobs/ (sha256:../../x would climb out),
// and a line that mydocker did not write sends Lookup to index.json.
func cachedEntries(lines []byte, nameOrID string) ([]entry, error) {
	needed := lines
	if ref, err := ParseReference(nameOrID); err == nil {
		if line := firstLineEnding(lines, " "+FullName(ref)+"\n"); line != nil {
			manifest, _, _ := bytes.Cut(line, []byte(" "))
			needed = linesStarting(lines, string(manifest)+" ")
		}
	}
	return parseEntries(string(needed))
}

// firstLineEnding returns the first of lines that ends with end, or nil.
func firstLineEnding(lines []byte, end string) []byte {
	suffix := []byte(end)
	for line := range bytes.Lines(lines) {
		if bytes.HasSuffix(line, suffix) {
			return line
		}
	}
	return nil
}

// linesStarting returns the lines that start with start.
func linesStarting(lines []byte, start string) []byte {
	prefix := []byte(start)
	var found []byte
	for line := range bytes.Lines(lines) {
		if bytes.HasPrefix(line, prefix) {
			found = append(found, line...)
		}
	}
	return found
}

// errBadLine is the error of parseEntries for a line of index.lookup that
// mydocker did not write, edited in by hand.
var errBadLine = errors.New("bad line in index.lookup")

// parseEntries parses lines of index.lookup, each three fields (a
// manifest's digest, an ID or "-", a name or "-") and a newline, and
// checks the digests: a line that mydocker did not write is an error.
func parseEntries(lines string) ([]entry, error) {
	var entries []entry
	for line := range strings.Lines(lines) {
		line, complete := strings.CutSuffix(line, "\n")
		manifest, rest, ok1 := strings.Cut(line, " ")
		id, name, ok2 := strings.Cut(rest, " ")
		if !complete || !ok1 || !ok2 || name == "" || strings.Contains(name, " ") {
			return nil, fmt.Errorf("%w: %q", errBadLine, line)
		}
		if _, err := ParseDigest(manifest); err != nil {
			return nil, fmt.Errorf("%w: %w", errBadLine, err)
		}
		e := entry{manifest: Digest(manifest)}
		if id != "-" {
			if _, err := ParseDigest(id); err != nil {
				return nil, fmt.Errorf("%w: %w", errBadLine, err)
			}
			e.id = Digest(id)
		}
		if name != "-" {
			e.name = name
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// ErrNotFound is the error of Lookup for an image the store does not have.
var ErrNotFound = errors.New("no such image")

// Lookup finds an image by name (busybox, busybox:latest,
// docker.io/library/busybox:latest) or by a prefix of its ID, with the
// store's lock shared, so that it never sees an image half removed: a
// command that removes one holds the lock exclusive. A store that does not
// exist has no images.
func (s *Store) Lookup(nameOrID string) (*Image, error) {
	lock, err := s.lock(unix.LOCK_SH)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		defer lock.Close()
	}
	return s.lookup(nameOrID)
}

// Claim finds an image as Lookup does, for a container that this process
// is about to run, and claims the image's layers for it: it takes a shared
// lock on each layer's directory. collectGarbage deletes no layer that
// someone has locked, so the layers stay until the claim ends: when this
// process ends, however it ends (the kernel drops an flock(2) lock with the
// last descriptor of the file, and these are closed at exec, so the
// container holds none), or at Release.
//
// Finding and claiming happen under the store's shared lock, and rmi
// collects garbage under the exclusive one. So a run that starts while rmi
// removes its image either claims the layers first, and then rmi leaves
// them alone, or comes after, and finds no image (ErrNotFound). Without
// that, run could mount a layer that rmi was deleting, and its command
// would run on a root file system with holes in it.
func (s *Store) Claim(nameOrID string) (*Image, error) {
	lock, err := s.lock(unix.LOCK_SH)
	if errors.Is(err, os.ErrNotExist) {
		return s.lookup(nameOrID) // no store: no such image
	}
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	img, err := s.lookup(nameOrID)
	if err != nil {
		return nil, err
	}
	for _, layer := range img.Layers {
		fd, err := flock(filepath.Dir(layer), unix.LOCK_SH)
		if err != nil {
			img.Release()
			return nil, fmt.Errorf("image %s: a layer is missing from the store: %w", nameOrID, err)
		}
		img.claims = append(img.claims, fd)
	}
	return img, nil
}

// Release ends the claim on the image's layers before the process ends.
func (img *Image) Release() {
	for _, fd := range img.claims {
		unix.Close(fd)
	}
	img.claims = nil
}

// lookup is Lookup, for a caller that holds the store's lock (or knows
// there is no store). index.json gives every image's names and ID, so
// lookup reads it, or rather its cache, index.lookup (after a stat of
// index.json), then the manifest and config of the one image found: three
// files, whether the store holds one image or five hundred.
func (s *Store) lookup(nameOrID string) (*Image, error) {
	if lines, ok := s.cachedLines(); ok {
		entries, err := cachedEntries(lines, nameOrID)
		if err == nil {
			return s.lookupIn(entries, nameOrID)
		}
		// index.lookup was edited by hand: believe index.json instead.
	}
	index, err := s.readIndex()
	if errors.Is(err, os.ErrNotExist) {
		index = &Index{} // a store not yet created (OpenExisting): no images
	} else if err != nil {
		return nil, err
	}
	return s.lookupIn(entriesOf(index), nameOrID)
}

// lookupIn finds the image that nameOrID names in entries, and loads it.
func (s *Store) lookupIn(entries []entry, nameOrID string) (*Image, error) {
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
