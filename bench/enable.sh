#!/bin/sh
# enable.sh: what `ka-tune enable --pid` costs on a process holding 10,000 TCP connections,
# against `ka-tune sockets` listing the same connections: instructions under callgrind, and
# wall time. The holder is alone in a private network namespace; the other ends are held in a
# second one, joined to it by a veth pair (documentation addresses, 192.0.2.0/24), so that
# sockets lists exactly the 10,000 sockets enable goes through.
#
# valgrind 3.19 (Debian 12) knows neither pidfd_open nor pidfd_getfd: under callgrind, ka-tune
# gets them from vgpidfd.so, which asks the holder (fdholder) for each descriptor over a unix
# socket; its own instructions, a few dozen a socket, are counted with ka-tune's. The wall times
# are of the real thing, without valgrind.
#
# usage: sh bench/enable.sh ./ka-tune BUILD_DIR   (make bench-enable; needs root)
set -eu

. "$(dirname "$0")/lib.sh"

# The issue's target: enable --pid at most this many times sockets' instructions.
TARGET_RATIO=2.0
CONNS=10000

[ $# -eq 2 ] || die "usage: sh bench/enable.sh path/to/ka-tune build-dir"
katune=$(realpath "$1") && [ -x "$katune" ] || die "$1: not an executable (run make first)"
build=$(realpath "$2")
holder=$build/bench/fdholder
shim=$build/bench/vgpidfd.so
[ -x "$holder" ] && [ -r "$shim" ] || die "$build/bench: helpers not built (make bench-enable)"
command -v valgrind >/dev/null 2>&1 || die "valgrind not found (apt-get install valgrind)"

if [ "${KT_BENCH_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null ||
		die "needs root and unshare -n (a private network namespace)"
	KT_BENCH_IN_NS=1 exec unshare -n sh "$0" "$katune" "$build"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ka-tune-bench.XXXXXX")
pid=
peer=
far=
stop() {
	for p in $pid $peer; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	pid=
	peer=
}
trap 'stop; [ -z "$far" ] || kill "$far" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
ulimit -n $((CONNS + 64)) 2>/dev/null || die "cannot have $((CONNS + 64)) descriptors"

# The far namespace: a process of its own keeps it, and a veth pair joins it to this one.
mkfifo "$tmp/far"
unshare -n sh -c 'echo ready >"$1"; exec sleep 86400' sh "$tmp/far" &
far=$!
read -r word <"$tmp/far" && [ "$word" = ready ] || die "no far namespace"
ip link set lo up && ip link add kt-near type veth peer name kt-far &&
    ip link set kt-far netns "$far" && ip addr add 192.0.2.1/24 dev kt-near &&
    ip link set kt-near up &&
    nsenter -t "$far" -n sh -c 'ip addr add 192.0.2.2/24 dev kt-far && ip link set kt-far up' ||
    die "cannot join the two namespaces"

# start: a fresh holder of $CONNS connections, none with keepalive, and their far ends; its
# pid in $pid.
start() {
	stop
	rm -f "$tmp/srv" "$tmp/ready" "$tmp/peer"
	mkfifo "$tmp/ready" "$tmp/peer"
	"$holder" serve "$CONNS" "$tmp/srv" >"$tmp/ready" &
	pid=$!
	exec 3<"$tmp/ready"
	read -r word <&3 && [ "$word" = listening ] || die "fdholder did not listen"
	ulimit -n $((CONNS + 64))
	nsenter -t "$far" -n "$holder" connect 192.0.2.1 "$CONNS" >"$tmp/peer" &
	peer=$!
	read -r word <"$tmp/peer" && [ "$word" = ready ] || die "the far ends did not connect"
	read -r word <&3 && [ "$word" = ready ] || die "fdholder did not get ready"
	exec 3<&-
}

# ms CMD...: the wall time of one run, in milliseconds; what it prints is thrown away.
ms() {
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || die "$*: failed"
	echo $((($(date +%s%N) - t0) / 1000000))
}

# best N CMD...: the best wall time of N runs.
best() {
	n=$1
	shift
	b=
	for _ in $(seq "$n"); do
		t=$(ms "$@")
		[ -n "$b" ] && [ "$b" -le "$t" ] || b=$t
	done
	echo "$b"
}

start
"$katune" sockets 2>/dev/null | grep -q "^$CONNS connections, $CONNS without keepalive" ||
	die "ka-tune sockets does not list the $CONNS connections, all without keepalive"
ir_sockets=$(instructions "$katune" sockets)
# In a subshell each: the shim must reach no other command.
ir_dry=$(export KT_FDSRV="$tmp/srv" LD_PRELOAD="$shim"
	instructions "$katune" enable --pid "$pid" --dry-run)
ir_enable=$(export KT_FDSRV="$tmp/srv" LD_PRELOAD="$shim"
	instructions "$katune" enable --pid "$pid")
"$katune" sockets --no-keepalive | grep -q "^0 connections" ||
	die "enable under callgrind left connections without keepalive"

start
wall_enable=$(ms "$katune" enable --pid "$pid")
"$katune" enable --pid "$pid" --json | grep -q "\"already_on\": $((CONNS + 1))," ||
	die "the real enable did not turn keepalive on in every socket"
wall_again=$(best 3 "$katune" enable --pid "$pid")
wall_sockets=$(best 3 "$katune" sockets)
start
wall_dry=$(best 3 "$katune" enable --pid "$pid" --dry-run)

awk -v s="$ir_sockets" -v d="$ir_dry" -v e="$ir_enable" -v ws="$wall_sockets" \
    -v we="$wall_enable" -v wa="$wall_again" -v wd="$wall_dry" -v n="$CONNS" \
    -v target="$TARGET_RATIO" 'BEGIN {
	printf "%d connections held by one process (and its listener)\n\n", n
	printf "%-36s %14s %8s %10s %9s\n", "command", "instructions", "ratio", "Ir/socket",
	    "wall ms"
	printf "%-36s %14d %7.2fx %10.0f %9d\n", "ka-tune sockets", s, 1, s / n, ws
	printf "%-36s %14d %7.2fx %10.0f %9d\n", "ka-tune enable --pid --dry-run", d, d / s,
	    d / n, wd
	printf "%-36s %14d %7.2fx %10.0f %9d\n", "ka-tune enable --pid", e, e / s, e / n, we
	printf "%-36s %14s %8s %10s %9d\n", "ka-tune enable --pid, all on already", "", "", "",
	    wa
	printf "\ntarget: enable --pid <= %.1fx sockets instructions: %s\n", target,
	    e / s <= target && d / s <= target ? "met" : "NOT met"
}'
