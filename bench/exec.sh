#!/bin/sh
# exec.sh: what ka-tune exec's library costs a program that does nothing but connect to and
# accept from itself on loopback (connrate), with and without the library, in one run: rounds
# alternate, each mode keeps its best rate (connections a second of CPU time), in a private
# network namespace.
#
# usage: sh bench/exec.sh ./ka-tune BUILD_DIR   (make bench-exec; needs root)
set -eu

. "$(dirname "$0")/lib.sh"

# The least the library can cost is one setsockopt() a connection, on the connecting socket (the
# accepted one inherits from its listener): some 3% of this loop, which does nothing else. Runs
# vary by as much, hence many rounds, alternating, and the best of each.
# The issue's target: the rate with the library within this many percent of the rate without.
TARGET_PCT=5
ROUNDS=15
CONNS=30000

[ $# -eq 2 ] || die "usage: sh bench/exec.sh path/to/ka-tune build-dir"
katune=$(realpath "$1") && [ -x "$katune" ] || die "$1: not an executable (run make first)"
build=$(realpath "$2")
rate=$build/bench/connrate
[ -x "$rate" ] || die "$rate: not built (make bench-exec)"

if [ "${KT_BENCH_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null ||
		die "needs root and unshare -n (a private network namespace)"
	KT_BENCH_IN_NS=1 exec unshare -n sh "$0" "$katune" "$build"
fi
ip link set lo up || die "cannot bring lo up"

# The library really is in the measured runs: a socket connrate makes gets keepalive.
"$katune" exec -- python3 -c 'import socket; s = socket.socket()
assert s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1' ||
	die "ka-tune exec does not turn keepalive on"

plain=0
with=0
for i in $(seq "$ROUNDS"); do
	a=$("$rate" "$CONNS") || die "connrate failed"
	[ "$a" -le "$plain" ] || plain=$a
	b=$("$katune" exec -- "$rate" "$CONNS") || die "ka-tune exec connrate failed"
	[ "$b" -le "$with" ] || with=$b
	printf 'round %d: without %s, with %s connections/s of CPU\n' "$i" "$a" "$b"
done
awk -v p="$plain" -v w="$with" -v t="$TARGET_PCT" -v n="$CONNS" -v r="$ROUNDS" 'BEGIN {
	d = (p - w) / p * 100
	printf "\nconnect+accept on loopback, best of %d rounds of %d, alternating:\n", r, n
	printf "  without the library %8d /s\n  with ka-tune exec   %8d /s  (%+.1f%%)\n", p, w, -d
	printf "target: within %d%%: %s\n", t, d <= t ? "met" : "NOT met"
}'
