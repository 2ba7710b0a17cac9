#!/usr/bin/env bash
# Check the learner's VM set-up without booting a VM (CI has no hypervisor
# and no internet): shellcheck the provisioning scripts, `vagrant validate`
# the Vagrantfile, check the Lima template, and run scripts/provision.sh
# --offline for real on this machine, twice: the second run must change
# nothing. Installs vagrant (Debian's package) when it is missing. As root.
#
# Usage: scripts/test-vm-config.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root=$(pwd -P)

fail() {
	echo "test-vm-config: $*" >&2
	exit 1
}
say() {
	echo "test-vm-config: $*"
}

((EUID == 0)) || fail "run me as root: provision.sh installs packages and mounts"

tmp=$(mktemp -d)
copy=$tmp/repo
cleanup() {
	# Unmount before removing, so rm never walks into a mount.
	if mountpoint -q "$copy/build" 2>/dev/null; then
		umount "$copy/build"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- Vagrantfile ---------------------------------------------------------------

if ! command -v vagrant >/dev/null; then
	say "installing vagrant"
	bash scripts/deps.sh --with vagrant
fi
# Without a hypervisor, only --ignore-provider validates; the provider
# blocks are still parsed as Ruby. Vagrant's state goes to $tmp, not to
# the repo's .vagrant/ or root's ~/.vagrant.d.
VAGRANT_HOME=$tmp/vagrant.d VAGRANT_DOTFILE_PATH=$tmp/dot vagrant validate --ignore-provider
for provider in virtualbox vmware_desktop parallels libvirt; do
	grep -q "config.vm.provider \"$provider\"" Vagrantfile ||
		fail "the Vagrantfile has no block for the $provider provider"
done

# ---- Lima template --------------------------------------------------------------

# Ruby comes with vagrant; its YAML parser checks the syntax and the
# settings, and hands over the provision script for shellcheck.
lima=contrib/lima/mydocker.yaml
ruby -ryaml -e '
	t = YAML.load_file(ARGV[0])
	archs = t.fetch("images").map { |i| i.fetch("arch") }.sort
	abort "lima: images for x86_64 and aarch64 wanted, got #{archs}" unless archs == %w[aarch64 x86_64]
	bad = t["images"].map { |i| i["location"] }.grep_v(%r{/24\.04/})
	abort "lima: not Ubuntu 24.04: #{bad}" unless bad.empty?
	abort "lima: 2 CPUs and 2GiB wanted" unless t["cpus"] == 2 && t["memory"] == "2GiB"
	m = t.fetch("mounts").first
	abort "lima: the repo must be mounted writable at /mydocker" unless m["mountPoint"] == "/mydocker" && m["writable"]
	p = t.fetch("provision").first
	abort "lima: provision must be a system script" unless p["mode"] == "system"
	abort "lima: provision must run scripts/provision.sh" unless p["script"].include?("/mydocker/scripts/provision.sh")
	File.write(ARGV[1], p["script"])
' "$lima" "$tmp/lima-provision.sh"

# lint.sh checks scripts/*.sh as well; this keeps the VM lane whole on its
# own, and reaches the script inside the Lima template.
shellcheck scripts/provision.sh scripts/test-vm-config.sh "$tmp/lima-provision.sh"
say "Vagrantfile and $lima are valid"

# ---- provision.sh, for real ------------------------------------------------------

# In a copy of the repo (the files git would see, committed or not), with
# --build-on as in the VMs, so that the repo's own build/ stays as it is.
mkdir -p "$copy"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' file; do
		[[ -e $file ]] && printf '%s\0' "$file"
	done |
	xargs -0 cp --parents -t "$copy"
build_on=$tmp/build-on

say "first run of provision.sh --offline"
bash "$copy/scripts/provision.sh" --offline --build-on "$build_on"
[[ -x $build_on/bin/mydocker && -x $build_on/images/busybox/rootfs/bin/busybox ]] ||
	fail "provision.sh did not put mydocker and the busybox image in $build_on (through $copy/build)"

say "second run of provision.sh --offline: it must change nothing"
second=$(bash "$copy/scripts/provision.sh" --offline --build-on "$build_on")
echo "$second"
grep -qx 'provision: nothing to change: everything was already in place' <<<"$second" ||
	fail "the second run of provision.sh changed something (above); it must be idempotent"

say "ok (checked from $repo_root)"
