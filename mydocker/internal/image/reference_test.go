//chapter:5

package image

import "testing"

func TestNamesFollowDockerRules(t *testing.T) {
	tests := []struct{ in, full, short, repo, tag string }{
		{"busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox", "latest"},
		{"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "busybox", "1.36"},
		{"user/app", "docker.io/user/app:latest", "user/app:latest", "user/app", "latest"},
		{"127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox:latest", "127.0.0.1:5000/busybox", "latest"},
		{"localhost:5000/a/b:v2", "localhost:5000/a/b:v2", "localhost:5000/a/b:v2", "localhost:5000/a/b", "v2"},
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
	for _, bad := range []string{"UPPER", "a b", "busybox:", ":tag", "a@sha256:xyz"} {
		if _, err := ParseReference(bad); err == nil {
			t.Errorf("ParseReference(%q) succeeded; want an error", bad)
		}
	}
}
