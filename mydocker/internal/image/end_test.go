//chapter:images

package image

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/mydocker/mydocker/mydocker/internal/archive"
)

// TestAnArchiveWithoutItsEnd: a tarball to import without tar's
// end-of-archive marker was most likely cut short, and is refused, leaving
// nothing; a pulled layer without it is whole, as its digest proves (a few
// tools write layers so), and is stored.
func TestAnArchiveWithoutItsEnd(t *testing.T) {
	requireRoot(t, "unpack a layer with its owners")
	layer := testTar(t)
	unended := layer[:len(layer)-1024] // without the two blocks of zeros

	store, root := openStore(t)
	for _, input := range [][]byte{unended, nil} {
		_, err := store.Import(context.Background(), bytes.NewReader(input), "", []string{"docker.io/library/x:latest"})
		if !errors.Is(err, ErrNotTarball) || (!errors.Is(err, archive.ErrCutShort) && !errors.Is(err, archive.ErrEmpty)) {
			t.Errorf("Import of %d bytes without the end-of-archive marker: error %v; want the tarball's, cut short or empty", len(input), err)
		}
	}
	requireEmpty(t, root)

	manifest, src := testImage(t, MediaTypeOCIConfig, "application/vnd.oci.image.layer.v1.tar", unended, DigestOf(unended))
	if _, err := store.Add(context.Background(), manifest, src, []string{"example.com/app:1"}, noProgress); err != nil {
		t.Errorf("Add of a layer without the end-of-archive marker: %v", err)
	}
}
