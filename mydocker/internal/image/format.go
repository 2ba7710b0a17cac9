//chapter:5

package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// The media types that say what a manifest, a config or a layer is. Docker
// wrote its formats first; OCI standardised them under other names, and
// registries serve both.
const (
	MediaTypeOCIIndex       = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeOCIConfig      = "application/vnd.oci.image.config.v1+json"
	MediaTypeDockerConfig   = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeOCILayer       = "application/vnd.oci.image.layer.v1.tar" // uncompressed: its digest is its diff ID
)

// Digest names content by its hash, e.g. "sha256:e258...". Every blob of
// the store is a file named by its digest, so a digest read from a
// manifest or an index is checked before it is used: it must be sha256
// and 64 hex digits, nothing that could climb out of a directory.
type Digest string

// DigestOf is the digest of data.
func DigestOf(data []byte) Digest {
	sum := sha256.Sum256(data)
	return sha256Digest(sum[:])
}

// sha256Digest is the digest whose hash is sum.
func sha256Digest(sum []byte) Digest {
	return Digest("sha256:" + hex.EncodeToString(sum))
}

// ParseDigest checks that s is a sha256 digest.
func ParseDigest(s string) (Digest, error) {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return "", fmt.Errorf("digest %q: mydocker knows sha256 digests only", s)
	}
	if len(hexPart) != 64 || !isHex(hexPart) {
		return "", fmt.Errorf("digest %q: want sha256: and 64 hex digits", s)
	}
	return Digest(s), nil
}

// Hex is the digest without its "sha256:".
func (d Digest) Hex() string { return strings.TrimPrefix(string(d), "sha256:") }

// UnmarshalText checks every digest that a manifest, config or index holds.
func (d *Digest) UnmarshalText(text []byte) error {
	parsed, err := ParseDigest(string(text))
	*d = parsed
	return err
}

// Descriptor points to a blob: its digest, size and media type.
type Descriptor struct {
	MediaType   string            `json:"mediaType"`
	Size        int64             `json:"size"`
	Digest      Digest            `json:"digest"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *Platform         `json:"platform,omitempty"`
}

// Platform is what an image in an index runs on, e.g. linux/arm64/v8.
type Platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant,omitempty"`
}

// Index lists manifests: in a registry, one image per platform (Docker
// calls it a manifest list); in the store's index.json, every image and
// its names.
type Index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Manifests     []Descriptor `json:"manifests"`
}

// Manifest is one image: its config and its layers, lowest first.
type Manifest struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType,omitempty"`
	Config        Descriptor   `json:"config"`
	Layers        []Descriptor `json:"layers"`
}

// ConfigFile is an image's config, the blob whose digest is the image ID:
// the platform, the layers' diff IDs, the history, and how to run it.
// Fields mydocker does not use stay in the stored blob, unread.
type ConfigFile struct {
	Architecture string    `json:"architecture"`
	Created      time.Time `json:"created,omitzero"`
	History      []History `json:"history,omitempty"`
	OS           string    `json:"os"`
	RootFS       RootFS    `json:"rootfs"`
	Config       Config    `json:"config"`
}

// History is one step that made the image, such as a Dockerfile line.
type History struct {
	Created    time.Time `json:"created,omitzero"`
	CreatedBy  string    `json:"created_by,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	EmptyLayer bool      `json:"empty_layer,omitempty"` // the step made no layer
}

// RootFS lists the diff IDs of the layers, lowest first: the digests of
// their uncompressed tars.
type RootFS struct {
	Type    string   `json:"type"` // always "layers"
	DiffIDs []Digest `json:"diff_ids"`
}

// Config says how to run a container of the image, with the names of a
// Dockerfile's instructions.
type Config struct {
	User       string   `json:",omitempty"`
	Env        []string `json:",omitempty"`
	Entrypoint []string `json:",omitempty"`
	Cmd        []string `json:",omitempty"`
	WorkingDir string   `json:",omitempty"`
}
