package leakcheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// saveCommand is one iptables dump command and the family it dumps.
type saveCommand struct {
	family   string // "iptables" or "ip6tables"
	name     string // the command
	optional bool   // failures are ignored (backend may be unusable)
}

// saveCommands are run in order by readFirewall; each missing one is
// skipped. iptables-save and ip6tables-save dump whichever backend the
// host's iptables command uses (the one mydocker writes to). The -legacy
// variants, present on hosts where that default is nf_tables, dump the
// other backend, so that rules added with iptables-legacy are seen too;
// their lines are merged into the same set, so on a host where the default
// already is legacy nothing is listed twice. A failing -legacy variant is
// ignored: on an nf_tables-only kernel it has nothing to show.
var saveCommands = []saveCommand{
	{family: "iptables", name: "iptables-save"},
	{family: "ip6tables", name: "ip6tables-save"},
	{family: "iptables", name: "iptables-legacy-save", optional: true},
	{family: "ip6tables", name: "ip6tables-legacy-save", optional: true},
}

// sbinDirs are searched when a command is not in PATH, because a test may
// run as root with a PATH that lacks the sbin directories.
var sbinDirs = []string{"/usr/sbin", "/sbin", "/usr/local/sbin"}

// readFirewall runs the installed saveCommands and returns their rules in
// output order, without duplicates.
func readFirewall() ([]Rule, error) {
	seen := make(map[Rule]bool)
	var rules []Rule
	for _, c := range saveCommands {
		path, ok := findCommand(c.name)
		if !ok {
			continue
		}
		var stderr bytes.Buffer
		cmd := exec.Command(path)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			if c.optional {
				continue
			}
			return nil, fmt.Errorf("leakcheck: %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
		}
		for _, r := range parseSave(c.family, string(out)) {
			if !seen[r] {
				seen[r] = true
				rules = append(rules, r)
			}
		}
	}
	return rules, nil
}

// findCommand looks name up in PATH and then in sbinDirs.
func findCommand(name string) (string, bool) {
	if path, err := exec.LookPath(name); err == nil {
		return path, true
	}
	for _, dir := range sbinDirs {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return path, true
		}
	}
	return "", false
}

// parseSave normalises the output of an iptables-save style command into
// rules of the given family. It drops comment lines, blank lines, table
// headers ("*nat") and "COMMIT", and removes packet counters ("[0:0]")
// wherever they appear as a whole word (chain declarations always carry
// them; rules do with -c). Declarations of built-in chains with the ACCEPT
// policy are dropped too, since a table springs into being with them the
// first time any command touches it; user chains (":MYDOCKER - [0:0]") and
// non-default policies (":FORWARD DROP") are kept.
func parseSave(family, text string) []Rule {
	var rules []Rule
	table := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "", strings.HasPrefix(line, "#"), line == "COMMIT":
			continue
		case strings.HasPrefix(line, "*"):
			table = strings.TrimPrefix(line, "*")
			continue
		}
		line = stripCounters(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, ":") {
			if f := strings.Fields(line); len(f) == 2 && f[1] == "ACCEPT" {
				continue
			}
		}
		rules = append(rules, Rule{Family: family, Table: table, Rule: line})
	}
	return rules
}

// stripCounters removes every whole word of the form "[packets:bytes]"
// from line and joins what is left with single spaces.
func stripCounters(line string) string {
	words := strings.Fields(line)
	kept := words[:0]
	for _, w := range words {
		if !isCounter(w) {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// isCounter reports whether w looks like "[123:4567]".
func isCounter(w string) bool {
	if len(w) < 5 || w[0] != '[' || w[len(w)-1] != ']' {
		return false
	}
	a, b, ok := strings.Cut(w[1:len(w)-1], ":")
	return ok && isDigits(a) && isDigits(b)
}

// isDigits reports whether s is a non-empty string of decimal digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
