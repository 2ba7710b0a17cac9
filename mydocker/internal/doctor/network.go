//chapter:final

package doctor

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// checkIptables: chapter 10 writes NAT rules for port mapping and for the
// containers' traffic out (MASQUERADE) with iptables. Earlier chapters do
// not need it and `make deps` installs it, so a missing one only warns.
// Its backend matters when rules seem to vanish: iptables-nft and
// iptables-legacy keep separate tables, and each shows only its own.
func checkIptables(c Config) []Result {
	out, err := c.IptablesVersion()
	if errors.Is(err, exec.ErrNotFound) {
		return []Result{{Check: "iptables", Status: Warn, Doc: "iptables",
			Detail: "not installed; chapter 10 (bridge networking) needs it",
			Fix:    "apt-get install iptables (or: make deps)"}}
	}
	if err != nil {
		return []Result{{Check: "iptables", Status: Warn, Doc: "iptables",
			Detail: fmt.Sprintf("does not run: %v; chapter 10 needs it", err),
			Fix:    "reinstall it: apt-get install --reinstall iptables"}}
	}
	// e.g. "iptables v1.8.9 (nf_tables)" or "iptables v1.8.9 (legacy)";
	// versions before 1.8 name no backend and are legacy.
	backend := "legacy"
	if strings.Contains(out, "nf_tables") {
		backend = "nf_tables"
	}
	return []Result{{Check: "iptables", Status: OK,
		Detail: fmt.Sprintf("%s: chapter 10's rules go to the %s backend", firstLine(out), backend)}}
}

// checkIPForward: containers reach beyond the host only when the host
// forwards their packets. Chapter 10 needs that for traffic out of a
// container; traffic between containers on one bridge does not.
func checkIPForward(c Config) []Result {
	value, err := readTrimmed(filepath.Join(c.ProcDir, "sys/net/ipv4/ip_forward"))
	switch {
	case err != nil:
		return []Result{{Check: "ip_forward", Status: Warn, Doc: "ip_forward",
			Detail: fmt.Sprintf("cannot read net.ipv4.ip_forward: %v", err),
			Fix:    "check that /proc is mounted and the kernel has IPv4"}}
	case value != "1":
		return []Result{{Check: "ip_forward", Status: Warn, Doc: "ip_forward",
			Detail: "net.ipv4.ip_forward is " + value + ": containers of chapter 10 cannot reach beyond this host",
			Fix:    "sysctl -w net.ipv4.ip_forward=1 (to keep it: echo net.ipv4.ip_forward=1 > /etc/sysctl.d/99-mydocker.conf)"}}
	}
	return []Result{{Check: "ip_forward", Status: OK, Detail: "net.ipv4.ip_forward is 1"}}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
