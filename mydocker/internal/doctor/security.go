//chapter:final

package doctor

import (
	"path/filepath"
)

// checkSecurityModules reports AppArmor and SELinux. mydocker loads no
// profile or label of its own, so neither is needed; they are noted because
// they explain denials that look like mydocker bugs.
func checkSecurityModules(c Config) []Result {
	return []Result{checkAppArmor(c), checkSELinux(c)}
}

func checkAppArmor(c Config) Result {
	r := Result{Check: "apparmor", Status: OK, Doc: "apparmor-and-selinux"}
	enabled, err := readTrimmed(filepath.Join(c.SysDir, "module/apparmor/parameters/enabled"))
	if err != nil || enabled != "Y" {
		r.Detail = "not enabled"
		return r
	}
	r.Detail = "enabled; mydocker's containers run unconfined (no profile)"
	// Ubuntu 23.10 and later confine unprivileged user namespaces, which
	// only a rootless chapter would meet.
	restricted, err := readTrimmed(filepath.Join(c.ProcDir, "sys/kernel/apparmor_restrict_unprivileged_userns"))
	if err == nil && restricted == "1" {
		r.Detail += "; unprivileged user namespaces are restricted (no matter as root)"
	}
	return r
}

func checkSELinux(c Config) Result {
	r := Result{Check: "selinux", Status: OK, Doc: "apparmor-and-selinux"}
	enforce, err := readTrimmed(filepath.Join(c.SysDir, "fs/selinux/enforce"))
	switch {
	case err != nil:
		r.Detail = "not enabled"
	case enforce == "1":
		r.Status = Warn
		r.Detail = "enforcing: it may deny containers their root filesystem, volumes and layers, which carry the host's labels"
		r.Fix = "for the lab, setenforce 0; or label mydocker's files: chcon -Rt container_file_t " + c.RootDir
	default:
		r.Detail = "permissive: denials are only logged"
	}
	return r
}
