//chapter:5

package container

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeEtc writes passwd and group into a new directory and returns it.
func writeEtc(t *testing.T, passwd, group string) string {
	t.Helper()
	etc := t.TempDir()
	for name, text := range map[string]string{"passwd": passwd, "group": group} {
		if err := os.WriteFile(filepath.Join(etc, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return etc
}

func TestLookupUser(t *testing.T) {
	etc := writeEtc(t,
		"root:x:0:0:root:/root:/bin/sh\n"+
			"app:x:1000:1000:an app:/srv/app:/bin/sh\n"+
			"nohome:x:1001:1001:::/bin/sh\n"+
			"broken line\n",
		"root:x:0:\n"+
			"app:x:1000:\n"+
			"audio:x:29:pulse,app\n"+
			"video:x:44:app\n"+
			"again:x:1000:app\n"+ // the primary group, listed once in the result
			"other:x:50:application,apps\n"+
			"lp:x:7:root\n")

	tests := []struct {
		user string
		want execUser
	}{
		// The default user keeps mydocker run's groups: group is not read.
		{"", execUser{uid: 0, gid: 0, groups: []int{0}, home: "/root"}},
		{"root", execUser{uid: 0, gid: 0, groups: []int{0, 7}, home: "/root"}},
		{"0", execUser{uid: 0, gid: 0, groups: []int{0, 7}, home: "/root"}},
		{"app", execUser{uid: 1000, gid: 1000, groups: []int{1000, 29, 44}, home: "/srv/app"}},
		{"1000", execUser{uid: 1000, gid: 1000, groups: []int{1000, 29, 44}, home: "/srv/app"}},
		// A group given replaces the primary group and the memberships.
		{"app:video", execUser{uid: 1000, gid: 44, groups: []int{44}, home: "/srv/app"}},
		{"app:7", execUser{uid: 1000, gid: 7, groups: []int{7}, home: "/srv/app"}},
		// A number that passwd lacks: group 0, home /.
		{"4242", execUser{uid: 4242, gid: 0, groups: []int{0}, home: "/"}},
		{"4242:4242", execUser{uid: 4242, gid: 4242, groups: []int{4242}, home: "/"}},
		// An empty home directory field means /.
		{"nohome", execUser{uid: 1001, gid: 1001, groups: []int{1001}, home: "/"}},
	}
	for _, tt := range tests {
		got, err := lookupUser(etc, tt.user)
		if err != nil {
			t.Errorf("lookupUser(%q): %v", tt.user, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("lookupUser(%q) = %+v, want %+v", tt.user, got, tt.want)
		}
	}

	for _, user := range []string{"nobody", "app:nogroup"} {
		_, err := lookupUser(etc, user)
		if err == nil || !strings.Contains(err.Error(), "unable to find") {
			t.Errorf("lookupUser(%q): error %v, want one that says unable to find", user, err)
		}
	}
}

// An image without /etc/passwd or /etc/group (FROM scratch) still runs as
// root or as a number, as in Docker; a name cannot be found.
func TestLookupUserWithoutFiles(t *testing.T) {
	etc := t.TempDir()
	for user, want := range map[string]execUser{
		"":     {uid: 0, gid: 0, groups: []int{0}, home: "/"},
		"123":  {uid: 123, gid: 0, groups: []int{0}, home: "/"},
		"12:3": {uid: 12, gid: 3, groups: []int{3}, home: "/"},
	} {
		got, err := lookupUser(etc, user)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("lookupUser(%q) = %+v, %v; want %+v", user, got, err, want)
		}
	}
	if _, err := lookupUser(etc, "app"); err == nil {
		t.Error("lookupUser(app) without /etc/passwd succeeded")
	}
}
