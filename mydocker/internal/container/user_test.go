//chapter:images

package container

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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
			"1000:x:5000:5000:named like a number:/home/5000:/bin/sh\n"+
			"app:x:1000:1000:an app:/srv/app:/bin/sh\n"+
			"nohome:x:1001:1001:::/bin/sh\n"+
			"short:x:1002\n"+
			"big:x:99999999999:0:::\n"+
			"negative:x:1003:-3:::\n"+
			"badmember:x:1004:1004:::\n"+
			"broken line\n",
		"root:x:0:\n"+
			"lp:x:7:root\n"+
			"app:x:1000:\n"+
			"audio:x:29:pulse,app\n"+
			"video:x:44:app\n"+
			"again:x:1000:app\n"+ // the primary group, listed once in the result
			"other:x:50:application,apps\n"+
			"bare:x:60\n"+
			"broken:x:x7:badmember\n")

	tests := []struct {
		user string
		want execUser
	}{
		// No user is root, with root's groups, as Docker runs it.
		{"", execUser{uid: 0, gid: 0, groups: []int{0, 7}, home: "/root"}},
		{"root", execUser{uid: 0, gid: 0, groups: []int{0, 7}, home: "/root"}},
		{"0", execUser{uid: 0, gid: 0, groups: []int{0, 7}, home: "/root"}},
		{"app", execUser{uid: 1000, gid: 1000, groups: []int{1000, 29, 44}, home: "/srv/app"}},
		// A number is a uid, never a name, and is compared as a number.
		{"1000", execUser{uid: 1000, gid: 1000, groups: []int{1000, 29, 44}, home: "/srv/app"}},
		{"01000", execUser{uid: 1000, gid: 1000, groups: []int{1000, 29, 44}, home: "/srv/app"}},
		{"5000", execUser{uid: 5000, gid: 5000, groups: []int{5000}, home: "/home/5000"}},
		// A group given replaces the primary group and the memberships.
		{"app:video", execUser{uid: 1000, gid: 44, groups: []int{44}, home: "/srv/app"}},
		{"app:7", execUser{uid: 1000, gid: 7, groups: []int{7}, home: "/srv/app"}},
		{"app:bare", execUser{uid: 1000, gid: 60, groups: []int{60}, home: "/srv/app"}},
		// A number that passwd lacks: group 0, home /.
		{"4242", execUser{uid: 4242, gid: 0, groups: []int{0}, home: "/"}},
		{"4242:4242", execUser{uid: 4242, gid: 4242, groups: []int{4242}, home: "/"}},
		// An empty home directory field means /; a short line has empty fields.
		{"nohome", execUser{uid: 1001, gid: 1001, groups: []int{1001}, home: "/"}},
		{"short", execUser{uid: 1002, gid: 0, groups: []int{0}, home: "/"}},
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

	for user, want := range map[string]string{
		"nobody":               "has no line for it",
		"app:nogroup":          "has no group nogroup",
		"big":                  `gives big the uid "99999999999"`,
		"negative":             `gives negative the gid "-3"`,
		"badmember":            `gives broken the gid "x7"`,
		"-1":                   "out of range",
		"2147483648":           "out of range",
		"app:-5":               "out of range",
		"99999999999999999999": "out of range",
	} {
		_, err := lookupUser(etc, user)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("lookupUser(%q): error %v, want one that says %q", user, err, want)
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
	for _, user := range []string{"app", "0:staff"} {
		if _, err := lookupUser(etc, user); err == nil {
			t.Errorf("lookupUser(%q) without /etc/passwd and /etc/group succeeded", user)
		}
	}
}

func TestWithHome(t *testing.T) {
	tests := []struct {
		env, want []string
	}{
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "HOME=/home/app"}},
		{[]string{"HOME=/data", "PATH=/bin"}, []string{"HOME=/data", "PATH=/bin"}}, // the image's
		{[]string{"HOME=", "PATH=/bin"}, []string{"HOME=/home/app", "PATH=/bin"}},  // empty: replaced
	}
	for _, tt := range tests {
		if got := withHome(slices.Clone(tt.env), "/home/app"); !slices.Equal(got, tt.want) {
			t.Errorf("withHome(%q) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

// The image decides what /etc/passwd is. A FIFO would block the start
// forever, /dev/zero would never end: only a regular file of a sane size is
// read, and the error names the file.
func TestLookupUserReadsOnlyRegularFiles(t *testing.T) {
	tests := map[string]struct {
		make func(path string) error
		want string // in the error; "" for success
	}{
		"fifo":      {func(p string) error { return unix.Mkfifo(p, 0o644) }, "passwd is a FIFO, not a regular file"},
		"dev zero":  {func(p string) error { return os.Symlink("/dev/zero", p) }, "passwd is a character device, not a regular file"},
		"directory": {func(p string) error { return os.Mkdir(p, 0o755) }, "passwd is a directory, not a regular file"},
		"too large": {func(p string) error { return os.WriteFile(p, make([]byte, maxEntriesSize+1), 0o644) }, "passwd is larger than 4 MiB"},
		"at the limit": {func(p string) error {
			return os.WriteFile(p, []byte("root:x:0:0::/root:/bin/sh\n"+strings.Repeat("#", maxEntriesSize-26)), 0o644)
		}, ""},
		"link to a file": {func(p string) error {
			if err := os.WriteFile(p+".real", []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
				return err
			}
			return os.Symlink("passwd.real", p)
		}, ""},
	}
	for name, tt := range tests {
		etc := t.TempDir()
		if err := tt.make(filepath.Join(etc, "passwd")); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := lookupUser(etc, "root")
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: lookupUser still reads after 10 s", name)
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), filepath.Join(etc, "passwd"))):
			t.Errorf("%s: error %v; want one that names the file and says %q", name, err, tt.want)
		}
	}
}
