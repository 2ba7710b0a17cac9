//chapter:images

package image

import (
	"strings"
	"testing"
)

const testDigest = "sha256:e25817d921b67872dacca95f9958377aca6b3c599470f53dd34cc7856506245d"

func TestNamesFollowDockerRules(t *testing.T) {
	tests := []struct{ in, full, short, repo, tag string }{
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox", "latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "busybox", "1.36"},
		{"user/app", "docker.io/user/app:latest", "user/app:latest", "user/app", "latest"},
		{"127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox", "latest"},
		{"localhost:5000/a/b:v2", "localhost:5000/a/b:v2", "localhost:5000/a/b:v2", "localhost:5000/a/b", "v2"},
		{"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox", "latest"},
		{"index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1", "busybox", "1"},
		{"localhost/app", "localhost/app:latest", "localhost/app:latest", "localhost/app", "latest"},
		{"registry.lab/team/app:V1.0_rc-1", "registry.lab/team/app:V1.0_rc-1", "registry.lab/team/app:V1.0_rc-1", "registry.lab/team/app", "V1.0_rc-1"},
		{"[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest", "[::1]:5000/app", "latest"},
		{"team/a_b__c.d-e--f", "docker.io/team/a_b__c.d-e--f:latest", "team/a_b__c.d-e--f:latest", "team/a_b__c.d-e--f", "latest"},
		{"busybox@" + testDigest, "docker.io/library/busybox@" + testDigest, "busybox@" + testDigest, "busybox", "<none>"},
		// With both, the digest decides; the tag is left out, as it adds nothing.
		{"busybox:1.36@" + testDigest, "docker.io/library/busybox@" + testDigest, "busybox@" + testDigest, "busybox", "<none>"},
	}
	for _, tt := range tests {
		ref, err := ParseReference(tt.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tt.in, err)
			continue
		}
		full := FullName(ref)
		if full != tt.full {
			t.Errorf("FullName(%q) = %q; want %q", tt.in, full, tt.full)
		}
		if short := ShortName(full); short != tt.short {
			t.Errorf("ShortName(%q) = %q; want %q", full, short, tt.short)
		}
		if repo, tag := SplitName(full); repo != tt.repo || tag != tt.tag {
			t.Errorf("SplitName(%q) = %q, %q; want %q, %q", full, repo, tag, tt.repo, tt.tag)
		}
	}
	for _, bad := range []string{"UPPER", "a b", "busybox:", ":tag", "a@sha256:xyz", "", "a//b", "/a", "a/", "-a", "a-", "a..b",
		"a___b", "a_.b", "registry.lab/App", "host:port/app", "registry.lab:/app", "busybox:.tag", "busybox:" + strings.Repeat("x", 129),
		"busybox@sha512:" + testDigest[7:], "busybox@" + strings.ToUpper(testDigest), "[::1/app", "bad_host.lab/app"} {
		if _, err := ParseReference(bad); err == nil {
			t.Errorf("ParseReference(%q) succeeded; want an error", bad)
		}
	}
}

func TestTagOrDigestIsWhatTheRegistryIsAskedFor(t *testing.T) {
	for in, want := range map[string]string{"busybox": "latest", "busybox:1.36": "1.36", "busybox@" + testDigest: testDigest} {
		ref, err := ParseReference(in)
		if err != nil || ref.TagOrDigest() != want {
			t.Errorf("ParseReference(%q).TagOrDigest() = %q, %v; want %q", in, ref.TagOrDigest(), err, want)
		}
	}
}
