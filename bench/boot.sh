#!/bin/sh
# bench/boot.sh: what `ka-tune show --boot` costs on a tree of 1,000 sysctl.d files, next to
# systemd-sysctl and procps `sysctl --system` reading (and applying) the same tree, counted in
# instructions under callgrind. The tree lives on tmpfs mounts in a private mount namespace and
# the loaders run in a private network namespace: nothing on the host is read or written.
# usage: sh bench/boot.sh ./ka-tune        (needs root for the namespaces; make bench runs it)
set -eu

prog=${0##*/}
files=${KT_BENCH_FILES:-1000}
dirs="/etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d"

die() {
	echo "$prog: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: sh bench/boot.sh path/to/ka-tune"
katune=$(realpath "$1")
if [ "$(id -u)" -ne 0 ] || ! unshare -n -m true 2>/dev/null; then
	echo "$prog: SKIP: needs root and unshare -n -m (private namespaces)"
	exit 0
fi
command -v valgrind >/dev/null 2>&1 || die "valgrind not found (apt-get install valgrind)"
[ -x /lib/systemd/systemd-sysctl ] || die "no /lib/systemd/systemd-sysctl (apt-get install systemd)"

if [ "${KT_BENCH_IN_NS:-}" != 1 ]; then
	KT_BENCH_IN_NS=1 exec unshare -n -m --propagation private sh "$0" "$katune"
fi

# --- inside the private namespaces ---------------------------------------------------------

for d in $dirs; do
	if [ -d "$d" ]; then
		mount -t tmpfs -o mode=0755 none "$d"
	else
		mount -t tmpfs -o mode=0755 none "$(dirname "$d")" && mkdir "$d"
	fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/sysctl.conf"
mount --bind "$tmp/sysctl.conf" /etc/sysctl.conf

# A tree like a busy machine's: files spread over the four directories, each with comments and
# a few assignments, a third of them of the keepalive keys.
awk -v files="$files" 'BEGIN {
	split("/etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d", d, " ")
	split("time intvl probes", k, " ")
	for (i = 0; i < files; i++) {
		f = sprintf("%s/%04d-bench.conf", d[i % 4 + 1], i)
		print "# generated for the benchmark" > f
		print "; another comment" > f
		print "" > f
		print "net.ipv4.tcp_keepalive_" k[i % 3 + 1] " = " (i % 500 + 10) > f
		print "net.ipv4.tcp_keepalive_nonexistent_" i " = 1" > f
		print "-net.ipv6.conf.all.nonexistent = 0" > f
		close(f)
	}
}'

instructions() {
	valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$@" >/dev/null 2>&1 || true
	awk '$1 == "summary:" { print $2 }' "$tmp/cg.out"
}

kt=$(instructions "$katune" show --boot --loader systemd --sysctl)
ktp=$(instructions "$katune" show --boot --loader procps --sysctl)
sd=$(instructions /lib/systemd/systemd-sysctl)
pp=$(instructions sysctl -q --system)

awk -v n="$files" -v kt="$kt" -v ktp="$ktp" -v sd="$sd" -v pp="$pp" 'BEGIN {
	printf "boot model on %d sysctl.d files (instructions, callgrind)\n", n
	printf "%-42s %14d\n", "ka-tune show --boot --loader systemd", kt
	printf "%-42s %14d\n", "systemd-sysctl (reads and applies)", sd
	printf "%-42s %14d\n", "ka-tune show --boot --loader procps", ktp
	printf "%-42s %14d\n", "sysctl --system (reads and applies)", pp
	printf "\ntarget: ka-tune below systemd-sysctl: %.2fx (%s)\n", kt / sd,
	    kt < sd ? "met" : "NOT met"
}'
