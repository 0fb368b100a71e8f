#!/bin/sh
# sockets.sh: what `ka-tune sockets` costs next to `ss -tanoip`, in instructions (callgrind),
# over the same established loopback connections in a private network namespace: 1,000, then
# 10,000, both tools measured over the same sockets in this one run; and how each grows.
#
# usage: sh bench/sockets.sh ./ka-tune build/tests/sockpeer   (make bench-sockets; needs root)
set -eu

. "$(dirname "$0")/lib.sh"

# The issue's target: ka-tune sockets runs no more instructions than ss -tanoip.
TARGET_RATIO=1.0
SIZES="1000 10000"

[ $# -eq 2 ] || die "usage: sh bench/sockets.sh path/to/ka-tune path/to/sockpeer"
katune=$(realpath "$1") && [ -x "$katune" ] || die "$1: not an executable (run make first)"
peer=$(realpath "$2") && [ -x "$peer" ] || die "$2: not an executable (make $2)"
command -v valgrind >/dev/null 2>&1 || die "valgrind not found (apt-get install valgrind)"
ss=$(PATH=$PATH:/sbin:/usr/sbin command -v ss) || die "ss not found (apt-get install iproute2)"

# Everything below runs in a network namespace of its own, holding only these connections.
if [ "${KT_BENCH_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null ||
		die "needs root and unshare -n (a private network namespace)"
	KT_BENCH_IN_NS=1 exec unshare -n sh "$0" "$katune" "$peer"
fi

ip link set lo up || die "cannot bring lo up"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ka-tune-bench.XXXXXX")
peers=
cleanup() {
	for p in $peers; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# A process holds both ends of its connections: as many as its descriptor limit allows, which
# may not be raised past the hard limit (a container may lack CAP_SYS_RESOURCE).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || :
per=$((($(ulimit -n) - 32) / 2))
[ "$per" -le 5000 ] || per=5000
[ "$per" -ge 100 ] || die "descriptor limit $(ulimit -n) too low"

# grow_to N: open connections, half with keepalive and half without, until there are N.
have=0
grow_to() {
	while [ "$have" -lt "$1" ]; do
		k=$(($1 - have))
		[ "$k" -le "$per" ] || k=$per
		out=$tmp/peer.$have
		"$peer" "onx$((k / 2))" "offx$((k - k / 2))" >"$out" 2>&1 &
		peers="$peers $!"
		i=0
		until grep -qx ready "$out"; do
			[ $i -lt 600 ] || die "sockpeer did not get ready: $(tail -n 3 "$out")"
			kill -0 "$!" 2>/dev/null || die "sockpeer failed: $(tail -n 3 "$out")"
			sleep 0.1
			i=$((i + 1))
		done
		have=$((have + k))
	done
}

: >"$tmp/rows"
for n in $SIZES; do
	grow_to "$n"
	# Both ends of each connection are sockets of this namespace: ka-tune must list them all.
	"$katune" sockets | grep -q "^$((2 * n)) connections, " ||
		die "ka-tune sockets does not list the $((2 * n)) ends of $n connections"
	kt=$(instructions "$katune" sockets)
	ss_ir=$(instructions "$ss" -tanoip)
	printf '%s\t%s\t%s\n' "$n" "$kt" "$ss_ir" >>"$tmp/rows"
done

# The table, the growth from the first size to the last, and whether the target is met.
awk -F '\t' -v target="$TARGET_RATIO" '
{ n[NR] = $1; kt[NR] = $2; ss[NR] = $3 }
END {
	printf "%-12s %16s %16s %8s %14s %14s\n", "connections", "ka-tune sockets",
	    "ss -tanoip", "ratio", "ka-tune Ir/conn", "ss Ir/conn"
	met = 1
	for (i = 1; i <= NR; i++) {
		r = kt[i] / ss[i]
		if (r > target)
			met = 0
		printf "%-12d %16d %16d %7.3fx %14.0f %14.0f\n", n[i], kt[i], ss[i], r,
		    kt[i] / n[i], ss[i] / n[i]
	}
	printf "\ngrowth %d -> %d connections (x%.0f): ka-tune sockets x%.2f, ss -tanoip x%.2f\n",
	    n[1], n[NR], n[NR] / n[1], kt[NR] / kt[1], ss[NR] / ss[1]
	printf "target: ka-tune sockets <= %.1fx ss -tanoip instructions, at every size: %s\n",
	    target, met ? "met" : "NOT met"
}' "$tmp/rows"
