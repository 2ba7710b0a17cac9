//chapter:images

package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mydocker/mydocker/mydocker/internal/atomicfile"
)

// lines writes entries one a line, to compare and show them.
func lines(entries []entry) []string {
	var lines []string
	for _, e := range entries {
		lines = append(lines, fmt.Sprintf("%s id=%s name=%s", e.manifest, e.id, e.name))
	}
	return lines
}

// cached returns every entry of index.lookup, and says whether Lookup
// believes it: whether its stamp is that of the index.json there, and
// every line reads well.
func cached(store *Store) ([]entry, bool) {
	table, ok := store.cachedLines()
	if !ok {
		return nil, false
	}
	entries, err := cachedEntries(table, "")
	return entries, err == nil
}

// requireCacheIsIndex fails unless index.lookup is believed and gives
// what decoding index.json gives.
func requireCacheIsIndex(t *testing.T, store *Store) {
	t.Helper()
	fromCache, ok := cached(store)
	if !ok {
		t.Fatal("index.lookup is not the cache of index.json")
	}
	index, err := store.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lines(fromCache), lines(entriesOf(index)); !slices.Equal(got, want) {
		t.Errorf("index.lookup gives\n%s\nwant, as index.json gives,\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// requireNotCached fails if Lookup would believe index.lookup.
func requireNotCached(t *testing.T, store *Store, why string) {
	t.Helper()
	if _, ok := cached(store); ok {
		t.Errorf("index.lookup is believed %s", why)
	}
}

// editLookup rewrites the entry lines of index.lookup with edit, and
// keeps its stamp: an edit by hand of index.lookup itself.
func editLookup(t *testing.T, store *Store, edit func(lines string) string) {
	t.Helper()
	path := filepath.Join(store.dir, "index.lookup")
	table, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stamp, lines, _ := strings.Cut(string(table), "\n")
	if err := os.WriteFile(path, []byte(stamp+"\n"+edit(lines)), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLookupCacheGivesWhatIndexJSONGives(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	requireCacheIsIndex(t, store) // a new store's, for its empty index.json
	putImage(t, store, "busybox", "docker.io/library/busybox:latest", "docker.io/library/busybox:copy")
	putImage(t, store, "app", "registry.lab/app:1")
	putImage(t, store, "untagged")
	old := putImage(t, store, "old", "docker.io/library/old:latest")
	// An entry written before mydocker recorded IDs in the index.
	index, err := store.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	for _, desc := range index.Manifests {
		if desc.Digest == old.Manifest {
			delete(desc.Annotations, idAnnotation)
		}
	}
	if err := store.writeIndex(index); err != nil {
		t.Fatal(err)
	}
	requireCacheIsIndex(t, store)
	if img, err := store.Lookup(old.ID.Hex()[:12]); err != nil || img.Manifest != old.Manifest {
		t.Errorf("Lookup by ID of an entry without one in the index: %v, %v", img, err)
	}
}

// TestLookupReadsTheCache: with a stamp that matches, Lookup takes names
// and IDs from index.lookup, not from index.json. An edit of index.lookup
// shows it: Lookup finds what the edit says.
func TestLookupReadsTheCache(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a := putImage(t, store, "a", "docker.io/library/a:latest", "docker.io/library/a:copy")
	putImage(t, store, "b", "docker.io/library/b:latest")
	madeUpID := "sha256:" + strings.Repeat("cafe", 16)
	editLookup(t, store, func(lines string) string {
		lines = strings.ReplaceAll(lines, " docker.io/library/a:copy\n", " docker.io/library/only-in-the-cache:latest\n")
		return strings.ReplaceAll(lines, " "+string(a.ID)+" ", " "+madeUpID+" ")
	})
	img, err := store.Lookup("only-in-the-cache")
	if err != nil || img.Manifest != a.Manifest {
		t.Fatalf("Lookup of a name in index.lookup: %v, %v", img, err)
	}
	if want := []string{"docker.io/library/a:latest", "docker.io/library/only-in-the-cache:latest"}; !slices.Equal(img.Names, want) {
		t.Errorf("Lookup(only-in-the-cache).Names = %v; want %v", img.Names, want)
	}
	if img, err := store.Lookup("cafecafe"); err != nil || img.Manifest != a.Manifest {
		t.Errorf("Lookup of an ID prefix in index.lookup: %v, %v", img, err)
	}
}

// TestLookupCacheWithAStaleStamp: whatever changed index.json since
// index.lookup was written, Lookup reads index.json.
func TestLookupCacheWithAStaleStamp(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	indexPath := filepath.Join(store.dir, "index.json")
	lookupPath := filepath.Join(store.dir, "index.lookup")
	putImage(t, store, "a", "docker.io/library/a:latest")
	lookupWithA, err := os.ReadFile(lookupPath)
	if err != nil {
		t.Fatal(err)
	}
	b := putImage(t, store, "b", "docker.io/library/b:latest")

	// writeIndex removes index.lookup before it commits index.json; were
	// the removal lost in a crash, the old stamp names an inode that the
	// new index.json cannot have, as both files existed at once.
	if err := os.WriteFile(lookupPath, lookupWithA, 0o600); err != nil {
		t.Fatal(err)
	}
	requireNotCached(t, store, "after a change it was not written for")
	if img, err := store.Lookup("b"); err != nil || img.Manifest != b.Manifest {
		t.Errorf("Lookup(b), which index.lookup does not have: %v, %v", img, err)
	}

	// index.json replaced by another program, by a rename: a new inode,
	// though the size and mtime are the same.
	putImage(t, store, "c", "docker.io/library/c:latest")
	before, err := os.Stat(indexPath)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(indexPath)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(data), "docker.io/library/c:latest", "docker.io/library/z:latest", 1)
	if err := atomicfile.Write(indexPath, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(indexPath, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	requireNotCached(t, store, "after index.json was replaced")
	if _, err := store.Lookup("c"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a name that index.lookup has and index.json has not: %v; want ErrNotFound", err)
	}
	if _, err := store.Lookup("z"); err != nil {
		t.Errorf("Lookup of a name that index.json has and index.lookup has not: %v", err)
	}

	// index.json written over in place, to the same size, by a program
	// that keeps its mtime (as touch -r, cp -p and rsync -t do). Only the
	// ctime, which no program can set, tells; it moves once the clock has
	// ticked since mydocker's write.
	putImage(t, store, "d", "docker.io/library/d:latest")
	if before, err = os.Stat(indexPath); err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(indexPath); err != nil {
		t.Fatal(err)
	}
	renamed = strings.Replace(string(data), "docker.io/library/d:latest", "docker.io/library/e:latest", 1)
	time.Sleep(50 * time.Millisecond)
	if err := os.WriteFile(indexPath, []byte(renamed), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(indexPath, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	if after, err := os.Stat(indexPath); err != nil || !os.SameFile(before, after) || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		t.Fatalf("the edit in place changed more than the contents and ctime: %v", err)
	}
	requireNotCached(t, store, "after index.json was written over in place")
	if _, err := store.Lookup("d"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a name edited out of index.json in place: %v; want ErrNotFound", err)
	}
	if _, err := store.Lookup("e"); err != nil {
		t.Errorf("Lookup of a name edited into index.json in place: %v", err)
	}

	// The next change writes index.lookup afresh.
	putImage(t, store, "f", "docker.io/library/f:latest")
	requireCacheIsIndex(t, store)
}

// TestLookupCacheOfAnOlderMydocker: an older mydocker stamped index.lookup
// with the sha256 digest of index.json. That is no stamp, and the file
// is not believed, even when the digest is right.
func TestLookupCacheOfAnOlderMydocker(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	putImage(t, store, "a", "docker.io/library/a:latest")
	b := putImage(t, store, "b", "docker.io/library/b:latest")
	indexData, err := os.ReadFile(filepath.Join(store.dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	editLookup(t, store, func(lines string) string {
		// b is missing from this old cache.
		var kept []string
		for line := range strings.Lines(lines) {
			if !strings.HasPrefix(line, string(b.Manifest)) {
				kept = append(kept, line)
			}
		}
		return strings.Join(kept, "")
	})
	table, err := os.ReadFile(filepath.Join(store.dir, "index.lookup"))
	if err != nil {
		t.Fatal(err)
	}
	_, lines, _ := strings.Cut(string(table), "\n")
	if err := os.WriteFile(filepath.Join(store.dir, "index.lookup"), []byte(string(DigestOf(indexData))+"\n"+lines), 0o600); err != nil {
		t.Fatal(err)
	}
	requireNotCached(t, store, "with the stamp of an older mydocker")
	if img, err := store.Lookup("b"); err != nil || img.Manifest != b.Manifest {
		t.Errorf("Lookup(b) with an older mydocker's index.lookup: %v, %v", img, err)
	}
}

// TestLookupCacheThatIsMalformed: a line of index.lookup that mydocker did
// not write (the stamp matches, so it was edited in by hand) is never
// used: the lines that Lookup needs are checked, and one that does not
// read well sends it to index.json. A digest becomes a path under blobs/,
// so a bad one would otherwise read a file outside the store.
func TestLookupCacheThatIsMalformed(t *testing.T) {
	x := " docker.io/library/x:latest"
	for name, bad := range map[string]string{
		"two fields":       "sha256:" + strings.Repeat("a", 64) + x,
		"four fields":      "sha256:" + strings.Repeat("a", 64) + " - more" + x,
		"an empty line":    "",
		"a climbing path":  "sha256:../../../../etc/passwd -" + x,
		"a bad ID":         "sha256:" + strings.Repeat("a", 64) + " sha256:zz" + x,
		"an empty digest":  " -" + x,
		"a digest of md5":  "md5:" + strings.Repeat("a", 32) + " -" + x,
		"no end of line":   "sha256:" + strings.Repeat("a", 64) + " -" + x,
		"an ID too short":  "sha256:" + strings.Repeat("a", 64) + " sha256:abc" + x,
		"a climbing ID":    "sha256:" + strings.Repeat("a", 64) + " sha256:../../x" + x,
		"an untagged line": "sha256:../../x sha256:" + strings.Repeat("a", 64) + " -",
	} {
		t.Run(name, func(t *testing.T) {
			store, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			a := putImage(t, store, "a", "docker.io/library/a:latest")
			editLookup(t, store, func(lines string) string {
				if name == "no end of line" {
					return lines + bad // a last line cut short
				}
				return bad + "\n" + lines // before the entry of a
			})
			requireNotCached(t, store, "with "+name)
			// A name in a good line: only that line is read.
			if img, err := store.Lookup("a"); err != nil || img.Manifest != a.Manifest {
				t.Errorf("Lookup(a) with %s in index.lookup: %v, %v", name, img, err)
			}
			// An ID prefix: every line is read, and index.json then.
			if img, err := store.Lookup(a.ID.Hex()[:12]); err != nil || img.Manifest != a.Manifest {
				t.Errorf("Lookup by ID of a with %s in index.lookup: %v, %v", name, img, err)
			}
			// The name of the bad line: index.json does not have it.
			if _, err := store.Lookup("x"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Lookup(x) with %s in index.lookup: %v; want ErrNotFound", name, err)
			}
		})
	}
}

// TestLookupCacheOfANameWithASpace: a name edited into index.json with a
// space cannot be written as a line; the store then has no cache.
func TestLookupCacheOfANameWithASpace(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	img := putImage(t, store, "a", "docker.io/library/a:latest")
	index, err := store.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	index.Manifests = append(index.Manifests, Descriptor{MediaType: MediaTypeOCIManifest, Digest: img.Manifest,
		Annotations: map[string]string{refAnnotation: "a name\nsha256:" + strings.Repeat("b", 64) + " - b"}})
	if err := store.writeIndex(index); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(store.dir, "index.lookup")); !os.IsNotExist(err) {
		t.Errorf("index.lookup for a name with a space and a newline: %v; want none", err)
	}
	if _, err := store.Lookup("b"); err == nil {
		t.Error("Lookup found an image from a line smuggled into a name")
	}
}
