//chapter:5

package image

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

// requireLookupIsIndex fails unless readLookup gives what decoding
// index.json gives.
func requireLookupIsIndex(t *testing.T, store *Store) {
	t.Helper()
	fromLookup, err := store.readLookup()
	if err != nil {
		t.Fatalf("readLookup: %v", err)
	}
	index, err := store.readIndex()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lines(fromLookup), lines(entriesOf(index)); !slices.Equal(got, want) {
		t.Errorf("readLookup gives\n%s\nwant, as index.json gives,\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// isCached says whether index.lookup is the cache of the index.json there.
func isCached(t *testing.T, store *Store) bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(store.dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, ok := store.cachedEntries(data)
	return ok
}

func TestLookupCacheGivesWhatIndexJSONGives(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !isCached(t, store) {
		t.Error("a new store has no index.lookup for its empty index.json")
	}
	requireLookupIsIndex(t, store)
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
	if !isCached(t, store) {
		t.Fatal("index.lookup is not the cache of index.json after writeIndex")
	}
	requireLookupIsIndex(t, store)
	if img, err := store.Lookup(old.ID.Hex()[:12]); err != nil || img.Manifest != old.Manifest {
		t.Errorf("Lookup by ID of an entry without one in the index: %v, %v", img, err)
	}
}

// TestLookupCacheWithAStaleStamp: a crash between the two writes of
// writeIndex leaves index.lookup made for an index.json that was never
// committed; an index.json edited by hand has no index.lookup made for
// it. Either way Lookup reads index.json.
func TestLookupCacheWithAStaleStamp(t *testing.T) {
	store, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	putImage(t, store, "a", "docker.io/library/a:latest")
	indexPath := filepath.Join(store.dir, "index.json")
	committed, err := os.ReadFile(indexPath)
	if err != nil {
		t.Fatal(err)
	}
	putImage(t, store, "b", "docker.io/library/b:latest")
	// The crash: index.lookup knows b, index.json does not.
	if err := atomicfile.Write(indexPath, committed, 0o600); err != nil {
		t.Fatal(err)
	}
	if isCached(t, store) {
		t.Fatal("index.lookup is taken as the cache of an index.json it was not made from")
	}
	requireLookupIsIndex(t, store)
	if _, err := store.Lookup("b"); err == nil {
		t.Error("Lookup found an image that index.json does not have")
	}
	if _, err := store.Lookup("a"); err != nil {
		t.Errorf("Lookup(a): %v", err)
	}

	// The edit by hand: index.json names an image that index.lookup does
	// not know.
	c := putImage(t, store, "c", "docker.io/library/c:latest")
	data, err := os.ReadFile(indexPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(data), `"manifests": [`, `"manifests": [
    {"mediaType": "`+MediaTypeOCIManifest+`", "size": 1, "digest": "`+string(c.Manifest)+`",
     "annotations": {"`+refAnnotation+`": "docker.io/library/edited:latest"}},`, 1)
	if err := atomicfile.Write(indexPath, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	requireLookupIsIndex(t, store)
	if img, err := store.Lookup("edited"); err != nil || img.Manifest != c.Manifest {
		t.Errorf("Lookup of a name added to index.json by hand: %v, %v", img, err)
	}
}

// TestLookupCacheThatIsMalformed: a line that does not read well makes
// the whole cache void. Stopping at it instead would lose the entries
// after it, and Lookup would not find those images.
func TestLookupCacheThatIsMalformed(t *testing.T) {
	for name, bad := range map[string]string{
		"two fields":      "sha256:" + strings.Repeat("a", 64) + " docker.io/library/x:latest",
		"four fields":     "sha256:" + strings.Repeat("a", 64) + " - docker.io/library/x:latest more",
		"an empty line":   "",
		"a bad digest":    "sha256:../../etc - docker.io/library/x:latest",
		"a bad ID":        "sha256:" + strings.Repeat("a", 64) + " sha256:zz docker.io/library/x:latest",
		"an empty digest": " - docker.io/library/x:latest",
		"a digest of md5": "md5:" + strings.Repeat("a", 32) + " - docker.io/library/x:latest",
		"no end of line":  "sha256:" + strings.Repeat("a", 64) + " - docker.io/libr",
		"an ID too short": "sha256:" + strings.Repeat("a", 64) + " sha256:abc -",
	} {
		t.Run(name, func(t *testing.T) {
			store, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			a := putImage(t, store, "a", "docker.io/library/a:latest")
			lookupPath := filepath.Join(store.dir, "index.lookup")
			table, err := os.ReadFile(lookupPath)
			if err != nil {
				t.Fatal(err)
			}
			stamp, lines, _ := strings.Cut(string(table), "\n")
			if name == "no end of line" {
				lines += bad // a last line cut short
			} else {
				lines = bad + "\n" + lines // before the entry of a
			}
			if err := os.WriteFile(lookupPath, []byte(stamp+"\n"+lines), 0o600); err != nil {
				t.Fatal(err)
			}
			if isCached(t, store) {
				t.Errorf("index.lookup with %s is taken as a cache", name)
			}
			requireLookupIsIndex(t, store)
			if img, err := store.Lookup("a"); err != nil || img.Manifest != a.Manifest {
				t.Errorf("Lookup(a) with %s in index.lookup: %v, %v", name, img, err)
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
	requireLookupIsIndex(t, store)
	if _, err := store.Lookup("b"); err == nil {
		t.Error("Lookup found an image from a line smuggled into a name")
	}
}
