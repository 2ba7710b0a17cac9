//chapter:images

package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/mydocker/mydocker/mydocker/internal/image"
)

// acceptManifests is the Accept header of a manifest request: an index of
// images per platform, OCI's or Docker's (a "manifest list"), or one
// image's manifest, OCI's or Docker's (schema 2). A registry converts
// nothing: it sends what the image was pushed as.
const acceptManifests = image.MediaTypeOCIIndex + ", " + image.MediaTypeDockerList + ", " +
	image.MediaTypeOCIManifest + ", " + image.MediaTypeDockerManifest

// maxManifestSize is the largest manifest that registries must accept,
// and so the most that Manifest reads into memory.
const maxManifestSize = 4 << 20

// Manifest fetches the manifest of an image by tag or digest. If it is an
// index, Manifest picks the image for this machine's platform and fetches
// that manifest by its digest. It returns the manifest and its digest.
func (r *Repository) Manifest(ctx context.Context, tagOrDigest string) ([]byte, image.Digest, error) {
	data, mediaType, err := r.fetchManifest(ctx, tagOrDigest)
	if err != nil {
		return nil, "", err
	}
	if isIndex(mediaType) {
		desc, err := choosePlatform(data, hostPlatform())
		if err != nil {
			return nil, "", err
		}
		if data, mediaType, err = r.fetchManifest(ctx, string(desc.Digest)); err != nil {
			return nil, "", err
		}
		if isIndex(mediaType) {
			return nil, "", errors.New("the registry's index points to another index, which mydocker does not follow")
		}
	}
	return data, image.DigestOf(data), nil
}

// fetchManifest GETs one manifest, and returns it with its media type. A
// manifest asked for by digest must hash to that digest: what a digest
// pins cannot be changed, by the registry or by anyone on the way.
func (r *Repository) fetchManifest(ctx context.Context, tagOrDigest string) ([]byte, string, error) {
	resp, err := r.get(ctx, r.url+"/manifests/"+tagOrDigest, acceptManifests, r.documentLimit("the manifest"))
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("read manifest %s: %w", tagOrDigest, err)
	}
	if len(data) > maxManifestSize {
		return nil, "", fmt.Errorf("manifest %s is larger than %d bytes", tagOrDigest, maxManifestSize)
	}
	if want, err := image.ParseDigest(tagOrDigest); err == nil {
		if got := image.DigestOf(data); got != want {
			return nil, "", fmt.Errorf("manifest %s is corrupt: its contents hash to %s", want, got)
		}
	}
	return data, mediaType(data, resp.Header.Get("Content-Type")), nil
}

// mediaType says what a manifest is. Its own mediaType field, if it has
// one, is covered by its digest; the Content-Type header is not. OCI does
// not require the field, and a registry may send a document without it
// as application/json: one with a list of manifests is then an index.
func mediaType(data []byte, contentType string) string {
	var fields struct {
		MediaType string
		Manifests json.RawMessage
	}
	json.Unmarshal(data, &fields) // a manifest that is not JSON fails later, when it is read
	switch {
	case fields.MediaType != "":
		return fields.MediaType
	case fields.Manifests != nil:
		return image.MediaTypeOCIIndex
	}
	contentType, _, _ = strings.Cut(contentType, ";")
	return strings.TrimSpace(contentType)
}

func isIndex(mediaType string) bool {
	return mediaType == image.MediaTypeOCIIndex || mediaType == image.MediaTypeDockerList
}

// hostPlatform is the platform of the images this machine runs: linux, and
// Go's name for the architecture, which is also the OCI name (amd64,
// arm64, ...). On ARM the variant is the ARM version: v8 for arm64, and v7
// for arm, Go's default GOARM.
func hostPlatform() image.Platform {
	variants := map[string]string{"arm64": "v8", "arm": "v7"}
	return image.Platform{OS: "linux", Architecture: runtime.GOARCH, Variant: variants[runtime.GOARCH]}
}

// choosePlatform picks from an index the first image for the platform
// want. An entry that names no variant matches any.
func choosePlatform(data []byte, want image.Platform) (image.Descriptor, error) {
	index, err := image.ParseIndex(data) // every digest checked, as it names the next request
	if err != nil {
		return image.Descriptor{}, err
	}
	var have []string
	for _, desc := range index.Manifests {
		p := desc.Platform
		if p == nil || p.OS == "unknown" { // unknown/unknown: a build attestation, no image
			continue
		}
		if p.OS == want.OS && p.Architecture == want.Architecture && (p.Variant == "" || p.Variant == want.Variant) {
			return desc, nil
		}
		have = append(have, platformName(*p))
	}
	// The names come from the registry: only printable, and not too many.
	return image.Descriptor{}, fmt.Errorf("the image is not made for %s, only for: %s",
		platformName(want), shorten(printable(strings.Join(have, ", ")), maxMessage))
}

// platformName writes a platform as Docker does: linux/arm64/v8.
func platformName(p image.Platform) string {
	name := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		name += "/" + p.Variant
	}
	return name
}
