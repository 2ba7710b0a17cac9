//chapter:images

package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
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
	if s == "" {
		return "", errors.New("the digest is missing")
	}
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return "", fmt.Errorf("digest %q: mydocker knows sha256 digests only", s)
	}
	if len(hexPart) != 64 || !isHex(hexPart) {
		return "", fmt.Errorf("digest %q: want sha256: and 64 hex digits", s)
	}
	return Digest(s), nil
}

// isHex says whether s is lower-case hex digits only.
func isHex(s string) bool {
	for i := range len(s) {
		if !hexDigits[s[i]] {
			return false
		}
	}
	return true
}

// hexDigits marks the bytes that are lower-case hex digits. Finding an
// image by a prefix of its ID checks every digest of index.lookup, a
// thousand for 500 images: 30 µs with this table, 95 µs with strings.Trim,
// 210 µs comparing each byte with '0', '9', 'a' and 'f' (in random digits,
// the CPU cannot predict which comparison fails).
var hexDigits = [256]bool{
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true,
	'8': true, '9': true, 'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true,
}

// Hex is the digest without its "sha256:".
func (d Digest) Hex() string { return strings.TrimPrefix(string(d), "sha256:") }

// UnmarshalText checks every digest that a manifest, config or index holds,
// as it is decoded. Only the digests that are there, though: encoding/json
// calls it neither for a missing field nor for null, which both leave the
// digest empty. The validate methods below catch those.
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

// Decoding JSON checks a digest only where there is one (see
// UnmarshalText), so whatever reads a manifest, an index or a config then
// validates it: a descriptor or a diff ID without a digest would otherwise
// pass, and name a blob or a layer by the empty string, whose path is the
// directory that holds them all.

// validate checks that a descriptor has a digest and a size that can be.
func (d Descriptor) validate() error {
	if _, err := ParseDigest(string(d.Digest)); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("blob %s has a negative size, %d", d.Digest, d.Size)
	}
	return nil
}

// validate checks the descriptors of the config and of every layer.
func (m *Manifest) validate() error {
	if err := m.Config.validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for i, layer := range m.Layers {
		if err := layer.validate(); err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
	}
	return nil
}

// validate checks the descriptor of every entry: a registry's index is
// followed by fetching /manifests/<digest>, the store's by reading the blob.
func (index *Index) validate() error {
	for i, desc := range index.Manifests {
		if err := desc.validate(); err != nil {
			return fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	return nil
}

// validate checks every diff ID, which names a layer's directory.
func (c *ConfigFile) validate() error {
	for i, diffID := range c.RootFS.DiffIDs {
		if _, err := ParseDigest(string(diffID)); err != nil {
			return fmt.Errorf("diff ID %d: %w", i+1, err)
		}
	}
	return nil
}

// ParseIndex reads an image index, a registry's or the store's
// index.json, and validates it.
func ParseIndex(data []byte) (*Index, error) {
	var index Index
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	if err := index.validate(); err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	return &index, nil
}

// parseConfig reads an image config and validates it.
func parseConfig(data []byte) (*ConfigFile, error) {
	var config ConfigFile
	if err := json.Unmarshal(data, &config); err != nil {
		return nil, err
	}
	if err := config.validate(); err != nil {
		return nil, err
	}
	return &config, nil
}
