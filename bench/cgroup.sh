#!/bin/sh
# cgroup.sh: what ka-tune's BPF program (enable --cgroup) costs the connections of a cgroup:
# bench/connrate, which does nothing but connect to and accept from itself on loopback, run in a
# cgroup where the program is in force (all three values given) and in a sibling without it, in
# one run: rounds alternate, each keeps its best rate (connections a second of CPU time, which
# other processes on a shared machine disturb much less than wall time). In private network and
# mount namespaces, with a BPF file system of its own; the cgroups are its own and go in a trap.
#
# usage: sh bench/cgroup.sh ./ka-tune BUILD_DIR   (make bench-cgroup; needs root)
set -eu

. "$(dirname "$0")/lib.sh"

# The issue's target: the enforced rate within this many percent of the plain one. Both ends of
# each connection run the program, and arm a keepalive timer that the close cancels: a few
# percent of this loop, which does nothing else; runs vary by as much, hence many short rounds.
TARGET_PCT=5
ROUNDS=${ROUNDS:-15}
CONNS=${CONNS:-30000}
# The policy: all three values by default (the most the program does); VALUES= for keepalive
# alone, with the namespace's sysctls.
VALUES=${VALUES---time 600 --intvl 30 --probes 4}

[ $# -eq 2 ] || die "usage: sh bench/cgroup.sh path/to/ka-tune build-dir"
katune=$(realpath "$1") && [ -x "$katune" ] || die "$1: not an executable (run make first)"
build=$(realpath "$2")
rate=$build/bench/connrate
[ -x "$rate" ] || die "$rate: not built (make bench-helpers)"
mount=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$mount" ] || die "no cgroup2 file system mounted"

if [ "${KT_BENCH_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] && unshare -n -m true 2>/dev/null ||
		die "needs root and unshare -n -m (private namespaces)"
	base=$(mktemp -d --suffix=.slice "$mount/ktbenchXXXXXXXX") || die "cannot make a cgroup"
	trap 'find "$base" -depth -type d -exec rmdir {} + 2>/dev/null' EXIT
	KT_BENCH_IN_NS=1 KT_BENCH_CG=$base unshare -n -m --propagation private \
		sh "$0" "$katune" "$build" || exit 1
	exit 0
fi
base=$KT_BENCH_CG
ip link set lo up || die "cannot bring lo up"
mount -t bpf -o mode=0700 bpf /sys/fs/bpf || die "cannot mount a BPF file system"
mkdir "$base/plain" "$base/enforced" || die "cannot make the cgroups"
trap '"$katune" disable --cgroup "$base/enforced" >/dev/null; umount /sys/fs/bpf' EXIT
trap 'exit 1' HUP INT TERM
# shellcheck disable=SC2086 # VALUES is a list of options
"$katune" enable --cgroup "$base/enforced" $VALUES >/dev/null ||
	die "ka-tune enable --cgroup failed"

# incg CGROUP CMD...: run CMD in the cgroup; it prints its rate.
incg() { taskset -c "${CPU:-0}" sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$@"; }

# The program really is in the measured runs: it counts the connections it enabled.
enabled() {
	"$katune" enable --list --json |
		sed -n 's/.*"enabled": \([0-9]*\), "failed": \([0-9]*\).*/\1 \2/p'
}
incg "$base/enforced" "$rate" 1000 >/dev/null || die "connrate failed"
set -- $(enabled)
[ "${1:-0}" -ge 2000 ] && [ "${2:-1}" -eq 0 ] ||
	die "the program did not enable 1,000 connections (enabled ${1:-?}, failed ${2:-?})"

plain=0
with=0
pairs=
for i in $(seq "$ROUNDS"); do
	a=$(incg "$base/plain" "$rate" "$CONNS") || die "connrate failed"
	[ "$a" -le "$plain" ] || plain=$a
	b=$(incg "$base/enforced" "$rate" "$CONNS") || die "connrate failed in the cgroup"
	[ "$b" -le "$with" ] || with=$b
	pairs="$pairs $a:$b"
	printf 'round %d: plain %s, enforced %s connections/s of CPU\n' "$i" "$a" "$b"
done
set -- $(enabled)
# Beside the best of each, the median of the rounds' own differences: steadier, and said too.
median=$(for x in $pairs; do
	echo "$x" | awk -F: '{ printf "%.1f\n", ($2 - $1) / $1 * 100 }'
done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
awk -v p="$plain" -v w="$with" -v t="$TARGET_PCT" -v n="$CONNS" -v r="$ROUNDS" -v e="$1" \
    -v m="$median" -v v="$VALUES" 'BEGIN {
	d = (p - w) / p * 100
	printf "\nconnect+accept on loopback, best of %d rounds of %d, alternating (%s):\n", r, n,
	    v == "" ? "keepalive alone" : v
	printf "  plain cgroup                %8d /s\n", p
	printf "  enforced (enable --cgroup)  %8d /s  (%+.1f%%; median of the rounds %+.1f%%)\n",
	    w, -d, m
	printf "  connections the program enabled: %d\n", e
	printf "target: within %d%% (best of each): %s\n", t, d <= t ? "met" : "NOT met"
}'
