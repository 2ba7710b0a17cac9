//chapter:images

package image

import (
	"fmt"
	"strings"
)

// Reference is an image name taken apart, e.g. for
// 127.0.0.1:5000/busybox:1.36 the registry 127.0.0.1:5000, the repository
// busybox and the tag 1.36.
type Reference struct {
	Registry   string // host[:port]; "docker.io" for Docker Hub
	Repository string // e.g. "library/busybox"
	Tag        string // e.g. "latest"; empty when Digest is set
	Digest     Digest // set for NAME@sha256:..., which pins one manifest
}

// TagOrDigest is what the registry knows the manifest by: the digest if
// the name has one, else the tag.
func (r Reference) TagOrDigest() string {
	if r.Digest != "" {
		return string(r.Digest)
	}
	return r.Tag
}

// ParseReference reads an image name with Docker's rules: a name without a
// registry is on Docker Hub, a Hub name without a namespace is in
// "library", and a name without a tag is ":latest". So "busybox" is
// docker.io/library/busybox:latest.
func ParseReference(s string) (Reference, error) {
	ref, ok := parseReference(s)
	if !ok {
		return Reference{}, fmt.Errorf("invalid image name %q: use [REGISTRY/]REPOSITORY[:TAG] or REPOSITORY@sha256:DIGEST, in lower case, e.g. busybox or 127.0.0.1:5000/busybox:1.36", s)
	}
	return ref, nil
}

func parseReference(s string) (ref Reference, ok bool) {
	name := s
	if before, digest, found := strings.Cut(s, "@"); found {
		d, err := ParseDigest(digest)
		if err != nil {
			return Reference{}, false
		}
		name, ref.Digest = before, d
	}
	// A colon after the last slash starts the tag; one before it is the
	// registry's port, as in 127.0.0.1:5000/busybox.
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name, ref.Tag = name[:i], name[i+1:]
		if !validTag(ref.Tag) {
			return Reference{}, false
		}
	}
	// The first component is a registry if it looks like a host name
	// ("." or ":" in it, or localhost); "user/app" is a Hub repository.
	if first, rest, found := strings.Cut(name, "/"); found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		if !validHost(first) {
			return Reference{}, false
		}
		ref.Registry, name = first, rest
	}
	if ref.Registry == "" || ref.Registry == "index.docker.io" {
		ref.Registry = "docker.io"
	}
	if ref.Registry == "docker.io" && !strings.Contains(name, "/") {
		name = "library/" + name
	}
	if len(name) > 255 || !validRepository(name) {
		return Reference{}, false
	}
	ref.Repository = name
	if ref.Digest != "" {
		ref.Tag = "" // the digest says which manifest; a tag beside it adds nothing
	} else if ref.Tag == "" {
		ref.Tag = "latest"
	}
	return ref, true
}

// validRepository applies Docker's grammar to each component of a
// repository: lower-case letters and digits, in runs joined by a
// separator: one ".", one or two "_", or any number of "-".
func validRepository(repo string) bool {
	for component := range strings.SplitSeq(repo, "/") {
		if component == "" || !isLowerAlnum(component[0]) || !isLowerAlnum(component[len(component)-1]) {
			return false
		}
		separator := "" // what came since the last letter or digit
		for i := range len(component) {
			if !isLowerAlnum(component[i]) {
				separator += component[i : i+1]
				continue
			}
			if separator != "" && separator != "." && separator != "_" && separator != "__" && strings.Trim(separator, "-") != "" {
				return false
			}
			separator = ""
		}
	}
	return true
}

// validTag: up to 128 letters, digits, "_", "." and "-", not starting with "." or "-".
func validTag(tag string) bool {
	if tag == "" || len(tag) > 128 || tag[0] == '.' || tag[0] == '-' {
		return false
	}
	return strings.Trim(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}

// validHost accepts a host name or address with an optional port:
// registry.lab, 127.0.0.1:5000, [::1]:5000.
func validHost(host string) bool {
	name, port := host, ""
	if i := strings.LastIndex(host, ":"); i > strings.LastIndex(host, "]") {
		name, port = host[:i], host[i+1:]
		if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return false
		}
	}
	if inner, ok := strings.CutPrefix(name, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		return ok && inner != "" && strings.Trim(inner, "0123456789abcdefABCDEF:.") == ""
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// FullName is the name an image is stored under, e.g. "docker.io/library/busybox:latest".
func FullName(ref Reference) string {
	full := ref.Registry + "/" + ref.Repository
	if ref.Digest != "" {
		return full + "@" + string(ref.Digest)
	}
	return full + ":" + ref.Tag
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
