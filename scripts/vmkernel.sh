# shellcheck shell=bash
# Where the VM lane (scripts/vmtest.sh) finds its kernel: which packages
# hold it, and where in them the kernel image and the modules are. Sourced
# by vmtest.sh, and by the unit tests in scripts/vmkernel_test.go, which
# run these functions on a copy of each distribution's package layout.
#
# The layouts:
#   Debian 12     linux-image-amd64 -> linux-image-6.1.0-N-amd64: boot/vmlinuz-*,
#                 lib/modules/VERSION/**/*.ko
#   Debian 13     the same packages; modules in usr/lib/modules, as .ko.xz
#   Ubuntu 22.04  linux-image-generic -> linux-image-5.15.0-N-generic (boot/)
#                 and linux-modules-5.15.0-N-generic, linux-modules-extra-...
#                 (lib/modules/VERSION/**/*.ko)
#   Ubuntu 24.04  the same packages; modules as .ko.zst

# apt_cache is the apt-cache command; the unit tests replace it with one
# that answers from a distribution's fixture.
apt_cache=${VMTEST_APT_CACHE:-apt-cache}

# kernel_packages prints the packages that hold the distribution's current
# kernel and its modules, one a line, the kernel image's first. Each
# distribution names its "always the current kernel" package differently.
kernel_packages() {
	local meta image version extra
	for meta in linux-image-amd64 linux-image-generic linux-image-virtual; do
		image=$($apt_cache depends "$meta" 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-(unsigned-)?[0-9]/ { print $2; exit }')
		[[ -z $image ]] || break
	done
	[[ -n $image ]] || return 0
	echo "$image"
	# Ubuntu keeps the modules apart from the image, in packages named after
	# the same version; Debian has none of these names.
	version=${image#linux-image-}
	version=${version#unsigned-}
	for extra in "linux-modules-$version" "linux-modules-extra-$version"; do
		if $apt_cache show --no-all-versions "$extra" >/dev/null 2>&1; then
			echo "$extra"
		fi
	done
}

# find_vmlinuz prints the kernel image in the unpacked packages $1.
find_vmlinuz() {
	local files=("$1"/boot/vmlinuz-*)
	[[ -f ${files[0]} ]] || return 1
	echo "${files[0]}"
}

# find_modules_dir prints lib/modules/VERSION in the unpacked packages $1:
# under usr/ where the distribution has merged /lib into /usr/lib.
find_modules_dir() {
	local dir
	for dir in "$1"/lib/modules/* "$1"/usr/lib/modules/*; do
		if [[ -d $dir/kernel ]]; then
			echo "$dir"
			return 0
		fi
	done
	return 1
}

# list_modules prints "NAME PATH" for every module file below $1, NAME as
# the kernel writes it (dashes as underscores, no .ko nor compression).
list_modules() {
	local path name
	while IFS= read -r path; do
		name=${path##*/}
		name=${name%%.ko*}
		echo "${name//-/_} $path"
	done < <(find "$1" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' \) -type f)
}

# module_content prints a module file, uncompressed.
module_content() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -qdc "$1" ;;
	*) cat "$1" ;;
	esac
}
