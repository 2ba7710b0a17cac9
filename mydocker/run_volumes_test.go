//chapter:volumes

package main

import (
	"strings"
	"testing"
)

func TestParseVolume(t *testing.T) {
	good := map[string]string{ // flag -> type, destination, read-only
		"/tmp:/data":       "bind /data false",
		"/tmp:/data/:ro":   "bind /data true",
		"/tmp:/data:rw":    "bind /data false",
		"cache:/var/cache": "volume /var/cache false",
		"cache:/v:ro":      "volume /v true",
	}
	for arg, want := range good {
		m, err := parseVolume(arg)
		if err != nil {
			t.Errorf("parseVolume(%q): %v", arg, err)
			continue
		}
		got := strings.Join([]string{m.Type, m.Destination, map[bool]string{true: "true", false: "false"}[m.ReadOnly]}, " ")
		if got != want {
			t.Errorf("parseVolume(%q) = %s; want %s", arg, got, want)
		}
	}
	bad := map[string]string{
		"/tmp":               "use -v /host/path",
		"relative/dir:/data": "a host path must be absolute",
		"./dir:/data":        "a host path must be absolute",
		"/tmp:data":          "must be absolute",
		"/tmp:/data:rx":      "must be ro or rw",
		"/no/such/dir:/data": "no such file",
		"bad name:/data":     "invalid volume name",
		"/a:/b:ro:extra":     "use -v /host/path",
		"/tmp:/":             "cannot replace the container's root",
		"/tmp:/proc":         "the container gets its own /proc (proc), mounted after the volumes, which would hide a volume at /proc",
		"/tmp:/dev/shm/":     "its own /dev (tmpfs)",
		"cache:/sys/x:ro":    "its own /sys (sysfs)",
	}
	for arg, want := range bad {
		_, err := parseVolume(arg)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseVolume(%q) error %v; want one containing %q", arg, err, want)
		}
	}
}
