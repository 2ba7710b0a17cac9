//chapter:volumes

package rootfs

import "testing"

func TestSystemMountOver(t *testing.T) {
	tests := map[string]string{ // path -> the system mount over it
		"/proc":          "/proc",
		"/proc/sys/net":  "/proc",
		"/dev":           "/dev",
		"/dev/shm":       "/dev", // /dev comes first: it covers its own mounts too
		"/dev/pts/0":     "/dev",
		"/sys/fs/cgroup": "/sys",
		"/processes":     "",
		"/devices":       "",
		"/srv/sys":       "",
		"/data":          "",
	}
	for path, want := range tests {
		if got, _ := SystemMountOver(path); got != want {
			t.Errorf("SystemMountOver(%q) = %q; want %q", path, got, want)
		}
	}
	if _, fstype := SystemMountOver("/dev/shm"); fstype != "tmpfs" {
		t.Errorf("SystemMountOver(/dev/shm) has type %q; want tmpfs", fstype)
	}
}
