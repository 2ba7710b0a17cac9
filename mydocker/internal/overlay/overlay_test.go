//chapter:images

package overlay

import "testing"

// A comma ends an option and a colon separates lower layers, so a root
// path with either (or with a backslash, the escape) is escaped in the
// options, where it broke the mount ("no such file or directory").
func TestOptionsEscapePaths(t *testing.T) {
	got := Options([]string{"/r,1:x/layers/b", "/plain/a"}, `/r,1:x\y/up`, "/r/work")
	want := `lowerdir=/r\,1\:x/layers/b:/plain/a,upperdir=/r\,1\:x\\y/up,workdir=/r/work`
	if got != want {
		t.Errorf("Options = %s\nwant      %s", got, want)
	}
}
