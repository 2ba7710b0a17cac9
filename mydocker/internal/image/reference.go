//chapter:5

package image

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ParseReference reads an image name with Docker's rules: a name without a
// registry is on Docker Hub, a Hub name without a namespace is in
// "library", and a name without a tag is ":latest". So "busybox" is
// docker.io/library/busybox:latest.
func ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("invalid image name %q: use [REGISTRY/]REPOSITORY[:TAG] or REPOSITORY@sha256:DIGEST, in lower case, e.g. busybox or 127.0.0.1:5000/busybox:1.36", s)
	}
	return ref, nil
}

// FullName is the name an image is stored under, e.g. "docker.io/library/busybox:latest".
func FullName(ref name.Reference) string {
	registry := ref.Context().RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	full := registry + "/" + ref.Context().RepositoryStr()
	if tag, ok := ref.(name.Tag); ok {
		return full + ":" + tag.TagStr()
	}
	return full + "@" + ref.Identifier()
}

// ShortName is how Docker shows a stored name: "busybox:latest" for an
// official Hub image, "user/app:1" for another Hub image, and the full
// name for any other registry.
func ShortName(full string) string {
	short := strings.TrimPrefix(full, "docker.io/")
	return strings.TrimPrefix(short, "library/")
}

// SplitName splits a stored name into repository and tag ("<none>" when
// the image is stored by digest).
func SplitName(full string) (repository, tag string) {
	short := ShortName(full)
	if repo, _, ok := strings.Cut(short, "@"); ok {
		return repo, "<none>"
	}
	if i := strings.LastIndex(short, ":"); i > strings.LastIndex(short, "/") {
		return short[:i], short[i+1:]
	}
	return short, "latest"
}
