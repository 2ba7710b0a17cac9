//chapter:uts

// Package container starts containers: the parent side (Start, Resume,
// Wait) in mydocker run, and the child side (Init) inside the new namespaces.
package container

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Spec is everything the init process needs to know to set up the
// container and start its command. The parent sends it to the child as JSON
// through a pipe (writeSpec), never in argv or the environment, where it
// would be visible to every process and limited in size.
type Spec struct {
	ID       string   `json:"id"`
	Args     []string `json:"args"` // the command and its arguments, exactly as given
	Env      []string `json:"env"`  // the command's environment, KEY=value
	Hostname string   `json:"hostname"`
	//chapter:mount
	Rootfs string `json:"rootfs"` // absolute path of the root filesystem
	//chapter:end
	//chapter:cgroups
	CgroupParent string `json:"cgroupParent"`        // the container's cgroup is CgroupParent/ID
	PidsLimit    int64  `json:"pidsLimit,omitempty"` // init writes it to pids.max before exec
	//chapter:end
	//chapter:images
	Image   string   `json:"image,omitempty"`   // the ID of the image it runs, if any
	Overlay *Overlay `json:"overlay,omitempty"` // the layers of its root filesystem, if any
	Cwd     string   `json:"cwd,omitempty"`     // the command's working directory
	User    string   `json:"user,omitempty"`    // user[:group] to run the command as
	//chapter:end
	//chapter:volumes
	Mounts []Mount `json:"mounts,omitempty"` // volumes, bind mounts and tmpfs
	//chapter:end
}

// defaultPath is the PATH that a container's command gets, as Docker sets it.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// NewSpec returns the spec of a new container: a fresh ID, the ID's first
// twelve characters as its host name, and a minimal environment. The command
// does not inherit mydocker's own environment.
func NewSpec() *Spec {
	id := newID()
	return &Spec{
		ID:       id,
		Hostname: ShortID(id),
		Env:      []string{"PATH=" + defaultPath, "HOME=/root"},
	}
}

// newID returns 32 random bytes in hex, the shape of a Docker container ID.
func newID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // documented never to fail on Linux
	}
	return hex.EncodeToString(b[:])
}

// ShortID is the first twelve characters of an ID, as Docker shows it.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Environ is the command's environment: the spec's, plus HOSTNAME as Docker sets it.
func (s *Spec) Environ() []string {
	return append([]string{"HOSTNAME=" + s.Hostname}, s.Env...)
}

// JSON strings are Unicode text, and Go's encoder replaces each byte that is
// not UTF-8 with U+FFFD. But on Linux an argument, a variable of the
// environment or a path is any bytes but NUL: /tmp/vol\xe9 and /tmp/vol\uFFFD
// are two different directories, and init must get the one the user named.
// So a string of the spec that is not UTF-8 travels as its bytes in base64,
// behind rawPrefix, which no argument, variable or path can start with (they
// cannot hold a NUL). A string that does start with it travels so too, so
// that every string comes back as it was. Valid UTF-8, the usual case,
// travels as it is, and the spec stays readable.
const rawPrefix = "\x00base64:"

// writeSpec sends spec to init as one JSON document, every string byte for
// byte (see rawPrefix). The caller's spec is not changed.
func writeSpec(w io.Writer, spec *Spec) error {
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	// Go's encoder writes \ufffd for each byte that is not UTF-8, and the
	// NUL of rawPrefix as \u0000. Without either, the usual case, the JSON
	// is right as it is, and the walk through the spec, which takes longer
	// than the encoding, is left out.
	if bytes.Contains(data, []byte(`\ufffd`)) || bytes.Contains(data, []byte(`\u0000`)) {
		wire := *spec
		eachString(reflect.ValueOf(&wire).Elem(), func(s string) string {
			if utf8.ValidString(s) && !strings.HasPrefix(s, rawPrefix) {
				return s
			}
			return rawPrefix + base64.StdEncoding.EncodeToString([]byte(s))
		})
		if data, err = json.Marshal(&wire); err != nil {
			return err
		}
	}
	_, err = w.Write(data)
	return err
}

// readSpec reads what writeSpec sent, until end-of-file.
func readSpec(r io.Reader) (*Spec, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	spec := &Spec{}
	if err := json.Unmarshal(data, spec); err != nil {
		return nil, err
	}
	if !bytes.Contains(data, []byte(`\u0000`)) {
		return spec, nil // no string was sent in base64
	}
	var bad error
	eachString(reflect.ValueOf(spec).Elem(), func(s string) string {
		encoded, ok := strings.CutPrefix(s, rawPrefix)
		if !ok {
			return s
		}
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			bad = fmt.Errorf("a string of the spec is not base64 after its prefix: %w", err)
		}
		return string(raw)
	})
	return spec, bad
}

// eachString replaces every string inside v (a struct, and the structs,
// slices, maps and pointers it holds, as far as JSON sees them) with what
// f returns for it. Slices, maps and pointers are copied before they are
// changed, so that what v shared with another value stays as it was.
func eachString(v reflect.Value, f func(string) string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(f(v.String()))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				eachString(v.Field(i), f)
			}
		}
	case reflect.Pointer:
		if !v.IsNil() {
			copied := reflect.New(v.Type().Elem())
			copied.Elem().Set(v.Elem())
			v.Set(copied)
			eachString(copied.Elem(), f)
		}
	case reflect.Slice:
		if !v.IsNil() {
			copied := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
			reflect.Copy(copied, v)
			v.Set(copied)
			for i := range v.Len() {
				eachString(v.Index(i), f)
			}
		}
	case reflect.Map:
		if !v.IsNil() {
			copied := reflect.MakeMapWithSize(v.Type(), v.Len())
			for iter := v.MapRange(); iter.Next(); {
				key := reflect.New(v.Type().Key()).Elem()
				key.Set(iter.Key())
				value := reflect.New(v.Type().Elem()).Elem()
				value.Set(iter.Value())
				eachString(key, f)
				eachString(value, f)
				copied.SetMapIndex(key, value)
			}
			v.Set(copied)
		}
	}
}
