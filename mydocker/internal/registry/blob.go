//chapter:images

package registry

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// OpenBlob GETs a blob: a config, or a layer as it was pushed
// (compressed). Reading it to the end fails unless it has the size and
// the digest that desc gives, so a blob changed on the way, or by the
// registry, is an error, not a layer.
func (r *Repository) OpenBlob(ctx context.Context, desc image.Descriptor) (io.ReadCloser, error) {
	resp, err := r.get(ctx, r.url+"/blobs/"+string(desc.Digest), "", r.blobLimit(desc.Digest))
	if err != nil {
		return nil, err
	}
	return &checkedBlob{body: resp.Body, want: desc, hash: sha256.New()}, nil
}

// checkedBlob hashes a blob as it is read, and turns its end into an
// error when the blob is not what its descriptor says.
type checkedBlob struct {
	body io.ReadCloser
	want image.Descriptor
	hash hash.Hash
	n    int64 // bytes read so far
}

func (b *checkedBlob) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	b.hash.Write(p[:n])
	b.n += int64(n)
	if b.n > b.want.Size {
		return n, fmt.Errorf("blob %s is longer than the %d bytes it should have", b.want.Digest, b.want.Size)
	}
	if err == io.EOF {
		if b.n != b.want.Size {
			return n, fmt.Errorf("blob %s has %d bytes, not %d", b.want.Digest, b.n, b.want.Size)
		}
		if got := "sha256:" + hex.EncodeToString(b.hash.Sum(nil)); got != string(b.want.Digest) {
			return n, fmt.Errorf("blob %s is corrupt: its contents hash to %s", b.want.Digest, got)
		}
	}
	return n, err
}

func (b *checkedBlob) Close() error { return b.body.Close() }
