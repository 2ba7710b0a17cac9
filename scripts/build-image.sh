#!/usr/bin/env bash
# Build the busybox root filesystem that the chapters run containers in,
# plus a tarball of it (DEST/../busybox.tar) for the image-import chapters.
#
# Usage: scripts/build-image.sh [DEST]
#   DEST defaults to build/images/busybox/rootfs under the repo root.
# Prints the rootfs path on stdout when done; messages go to stderr.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
busybox=${BUSYBOX:-/bin/busybox}
dest=${1:-$repo_root/build/images/busybox/rootfs}

# Permissions in the image must not depend on the caller's umask.
umask 022

die() {
	echo "build-image: $*" >&2
	exit 1
}

# Strip trailing slashes so dirname/basename below see the real last part.
while [[ $dest == */ && $dest != / ]]; do dest=${dest%/}; done
[[ -n $dest && $dest != / ]] || die "refusing to build into '/'"

[[ -x $busybox ]] || die "$busybox not found; run scripts/deps.sh (package busybox-static)"

# Read one little-endian unsigned integer of $3 bytes at offset $2 of $1.
# od prints in host byte order; busybox comes from this host's own
# architecture, so host order is the file's order.
read_uint() {
	od -An -tu"$3" -j"$2" -N"$3" "$1" | tr -d ' '
}

# The dynamic busybox package also ships /bin/busybox, and a dynamic binary
# would fail inside the image (no libc there), so check the binary itself.
# `file` is often not installed and ldd's wording differs between libcs, so
# read the ELF program headers directly: a binary is static when it has no
# PT_INTERP (type 3) header, i.e. it names no dynamic loader. This also
# accepts static-pie builds, which do run without a libc.
is_static_elf() {
	local f=$1 class phoff phentsize phnum i
	[[ $(od -An -c -N4 "$f" | tr -d ' ') == '177ELF' ]] || return 1
	class=$(read_uint "$f" 4 1)
	if ((class == 2)); then # 64-bit header layout
		phoff=$(read_uint "$f" 32 8)
		phentsize=$(read_uint "$f" 54 2)
		phnum=$(read_uint "$f" 56 2)
	else # 32-bit header layout
		phoff=$(read_uint "$f" 28 4)
		phentsize=$(read_uint "$f" 42 2)
		phnum=$(read_uint "$f" 44 2)
	fi
	for ((i = 0; i < phnum; i++)); do
		if (($(read_uint "$f" $((phoff + i * phentsize)) 4) == 3)); then
			return 1
		fi
	done
}

is_static_elf "$busybox" ||
	die "$busybox is dynamically linked; install busybox-static instead of busybox"

parent=$(dirname "$dest")
name=$(basename "$dest")
tarball=$parent/busybox.tar
marker='ID=mydocker-busybox'

# Rebuilding takes a moment and rewrites the tarball, so skip it when the
# image already matches the installed busybox and this script.
if [[ -x $dest/bin/busybox && -f $tarball ]] &&
	! [[ $busybox -nt $dest/bin/busybox ]] &&
	! [[ ${BASH_SOURCE[0]} -nt $dest/bin/busybox ]]; then
	echo "$dest"
	exit 0
fi

# Never replace a directory we did not build: a mistyped DEST such as /usr
# must not be swapped out.
if [[ -e $dest || -L $dest ]]; then
	[[ -d $dest && ! -L $dest ]] || die "$dest exists and is not a directory"
	if [[ -n $(ls -A "$dest") ]] && ! grep -qx "$marker" "$dest/etc/os-release" 2>/dev/null; then
		die "$dest is not empty and is not a mydocker busybox image; remove it or pick another DEST"
	fi
fi

mkdir -p "$parent"
# Build next to DEST so the final rename stays on one filesystem, which is
# what makes it atomic.
tmp=$(mktemp -d "$parent/.$name.tmp.XXXXXX")
old=
cleanup() {
	rm -rf "$tmp" "$tmp.tar"
	[[ -z $old ]] || rm -rf "$old"
}
trap cleanup EXIT

chmod 0755 "$tmp"
mkdir -p "$tmp/bin"
# A plain copy, not preserving the timestamp: the copy's mtime then records
# when the image was built, which is what the up-to-date check compares.
cp "$busybox" "$tmp/bin/busybox"
chmod 0755 "$tmp/bin/busybox"

# One symlink per applet at the path busybox itself would install it to.
# Relative targets keep the links correct both inside the container and when
# the tree is inspected from the host.
while IFS= read -r applet; do
	[[ -n $applet && $applet != bin/busybox ]] || continue
	dir=.
	[[ $applet == */* ]] && dir=${applet%/*}
	up=
	if [[ $dir != . ]]; then
		IFS=/ read -ra parts <<<"$dir"
		for _ in "${parts[@]}"; do up+=../; done
	fi
	mkdir -p "$tmp/$dir"
	ln -sfn "${up}bin/busybox" "$tmp/$applet"
done < <("$busybox" --list-full)
[[ -L $tmp/bin/sh ]] || die "busybox --list-full did not list bin/sh"

# Mount points and the usual scratch directories; tmp dirs are
# world-writable with the sticky bit like on any Linux system, and root's
# home is private.
mkdir -p "$tmp"/{dev,proc,sys,tmp,etc,root,run,var/tmp,home}
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
chmod 0700 "$tmp/root"

# Just enough accounts for `id`, `ls -l` and user-switching exercises;
# nobody is a member of users, to show supplementary groups.
cat >"$tmp/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$tmp/etc/group" <<'EOF'
root:x:0:
users:x:100:nobody
nogroup:x:65534:
EOF

# The first line of busybox's help is e.g.
# "BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) multi-call binary."
version=$("$busybox" 2>/dev/null | awk 'NR == 1 { sub(/^v/, "", $2); print $2 }' || true)
# The ID line doubles as the marker that lets a later run replace this tree.
cat >"$tmp/etc/os-release" <<EOF
NAME="mydocker busybox"
PRETTY_NAME="mydocker busybox test image (BusyBox ${version:-unknown})"
$marker
VERSION_ID="${version:-unknown}"
EOF

# Owner 0:0 regardless of who builds, so the import chapters see the same
# tarball as a root build; sorted names make it reproducible.
tar --numeric-owner --owner=0 --group=0 --sort=name -C "$tmp" -cf "$tmp.tar" .

# rename(2) cannot replace a non-empty directory, so move the old image
# aside first: DEST is briefly absent, but never half-built.
if [[ -d $dest ]]; then
	old=$(mktemp -d "$parent/.$name.old.XXXXXX")
	mv -T "$dest" "$old/$name"
fi
mv -T "$tmp" "$dest"
mv -f "$tmp.tar" "$tarball"

echo "build-image: built $dest and $tarball" >&2
echo "$dest"
