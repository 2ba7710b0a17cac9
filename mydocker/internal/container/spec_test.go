//chapter:uts

package container

import (
	"bytes"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNewSpec(t *testing.T) {
	a, b := NewSpec(), NewSpec()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.ID) {
		t.Errorf("ID %q is not 64 hex digits", a.ID)
	}
	if a.ID == b.ID {
		t.Error("two specs got the same ID")
	}
	if a.Hostname != a.ID[:12] {
		t.Errorf("default host name %q; want the short ID %q", a.Hostname, a.ID[:12])
	}
	env := a.Environ()
	for _, want := range []string{"PATH=" + defaultPath, "HOME=/root", "HOSTNAME=" + a.Hostname} {
		if !slices.Contains(env, want) {
			t.Errorf("environment %q lacks %q", env, want)
		}
	}
}

// Arguments, environment and paths are bytes: the spec must bring them to
// init unchanged, also when they are not UTF-8 (JSON alone would turn
// \xe9 into U+FFFD, and /tmp/vol\xe9 into another directory).
func TestSpecKeepsEveryByte(t *testing.T) {
	spec := NewSpec()
	spec.Args = []string{"printf", "%s", "\xe9", "\uFFFD", rawPrefix + "not base64", "\x00"}
	spec.Env = append(spec.Env, "LATIN1=caf\xe9", "TEXT=café")
	spec.Hostname = "box\xff"
	//chapter:mount
	spec.Rootfs = "/tmp/root\xe9"
	//chapter:end
	//chapter:images
	spec.Overlay = &Overlay{Lower: []string{"/layers/\xe9", "/layers/b"}, Upper: "/up\x80", Work: "/work"}
	//chapter:end
	//chapter:volumes
	spec.Mounts = []Mount{{Type: "bind", Source: "/tmp/vol\xe9", Destination: "/x\xfe"}}
	//chapter:end
	original := cloneSpec(t, spec)

	var wire bytes.Buffer
	if err := writeSpec(&wire, spec); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(spec, original) {
		t.Errorf("writeSpec changed the caller's spec: %+v", spec)
	}
	if !utf8.Valid(wire.Bytes()) || !strings.Contains(wire.String(), `"TEXT=café"`) {
		t.Errorf("the wire form should be UTF-8 JSON with valid strings as they are: %s", wire.String())
	}
	got, err := readSpec(&wire)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, original) {
		t.Errorf("the spec changed on its way:\n got %+v\nwant %+v", got, original)
	}
}

// A spec of valid UTF-8 travels as plain JSON, readable, and comes back
// as it was.
func TestSpecOfTextIsPlainJSON(t *testing.T) {
	spec := NewSpec()
	spec.Args = []string{"echo", "café", "\uFFFD", `\ufffd`}
	var wire bytes.Buffer
	if err := writeSpec(&wire, spec); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(wire.String(), "base64") || !strings.Contains(wire.String(), `"café"`) {
		t.Errorf("the spec is not plain JSON: %s", wire.String())
	}
	got, err := readSpec(&wire)
	if err != nil || !reflect.DeepEqual(got, spec) {
		t.Errorf("readSpec = %+v, %v; want %+v", got, err, spec)
	}
}

// cloneSpec returns a deep copy of spec, made by hand.
func cloneSpec(t *testing.T, spec *Spec) *Spec {
	t.Helper()
	c := *spec
	c.Args = slices.Clone(spec.Args)
	c.Env = slices.Clone(spec.Env)
	//chapter:images
	if spec.Overlay != nil {
		o := *spec.Overlay
		o.Lower = slices.Clone(o.Lower)
		c.Overlay = &o
	}
	//chapter:end
	//chapter:volumes
	c.Mounts = slices.Clone(spec.Mounts)
	//chapter:end
	return &c
}
