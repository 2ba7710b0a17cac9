#!/usr/bin/env bash
# Show what a container is: run one and compare what it sees with the host.
#
# Usage: scripts/demo.sh BIN ROOTFS
set -euo pipefail
bin=$1
rootfs=$2

# The same report, printed by the host's shell and by the container's.
# Single quotes on purpose: each shell expands it itself.
# shellcheck disable=SC2016
report='
echo "hostname:            $(hostname)"
echo "PID of this shell:   $$"
echo "processes in /proc:  $(ls -d /proc/[0-9]* | wc -l)"
echo "entries of /:        $(ls / | tr "\n" " ")"'

echo "== On the host"
sh -c "$report"
echo
echo "== In a container: $bin run --hostname demo $rootfs sh -c ..."
"$bin" run --hostname demo "$rootfs" sh -c "$report; echo; ps"
echo
echo "== On the host again: the host name is unchanged"
hostname
echo
echo "Try it yourself: $bin run $rootfs sh"
