#!/bin/sh
# bench/boot.sh: what `ka-tune show --boot` costs, counted in instructions under callgrind:
# - on a tree of 1,000 sysctl.d files, next to systemd-sysctl and procps `sysctl --system`
#   reading (and applying) the same tree;
# - on glob lines only, 20,000 then 80,000 of them in 4 files, each a pattern of its own (the
#   case that was quadratic for the systemd model): the cost must grow as the lines do.
# The trees live on tmpfs mounts in a private mount namespace and the loaders run in a private
# network namespace: nothing on the host is read or written.
# usage: sh bench/boot.sh ./ka-tune        (needs root for the namespaces; make bench runs it)
set -eu

. "$(dirname "$0")/lib.sh"

files=${KT_BENCH_FILES:-1000}
dirs="/etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d"

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

# The loaders exit 1 over the keys this tree names that do not exist: count them all the same.
loader_instructions() {
	valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$@" >/dev/null 2>&1 || true
	awk '$1 == "summary:" { print $2 }' "$tmp/cg.out"
}

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

kt=$(instructions "$katune" show --boot --loader systemd --sysctl)
ktp=$(instructions "$katune" show --boot --loader procps --sysctl)
sd=$(loader_instructions /lib/systemd/systemd-sysctl)
pp=$(loader_instructions sysctl -q --system)

awk -v n="$files" -v kt="$kt" -v ktp="$ktp" -v sd="$sd" -v pp="$pp" 'BEGIN {
	printf "boot model on %d sysctl.d files (instructions, callgrind)\n", n
	printf "%-42s %14d\n", "ka-tune show --boot --loader systemd", kt
	printf "%-42s %14d\n", "systemd-sysctl (reads and applies)", sd
	printf "%-42s %14d\n", "ka-tune show --boot --loader procps", ktp
	printf "%-42s %14d\n", "sysctl --system (reads and applies)", pp
	printf "\ntarget: ka-tune below systemd-sysctl: %.2fx (%s)\n", kt / sd,
	    kt < sd ? "met" : "NOT met"
}'

# globs N: N glob lines in 4 files, every one a pattern of its own that matches a key.
globs() {
	for d in $dirs; do
		find "$d" -mindepth 1 -delete
	done
	awk -v n="$1" 'BEGIN {
		split("/etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d", d, " ")
		for (f = 1; f <= 4; f++) {
			p = d[f] "/" f "0-globs.conf"
			for (i = 0; i < n / 4; i++)
				printf "net.ipv4.tcp_keepalive_[t%d]* = %d\n", f * 1000000 + i,
				    i % 700 + 1 > p
			close(p)
		}
	}'
}

globs 20000
g1s=$(instructions "$katune" show --boot --loader systemd --sysctl)
g1p=$(instructions "$katune" show --boot --loader procps --sysctl)
globs 80000
g4s=$(instructions "$katune" show --boot --loader systemd --sysctl)
g4p=$(instructions "$katune" show --boot --loader procps --sysctl)

awk -v g1s="$g1s" -v g1p="$g1p" -v g4s="$g4s" -v g4p="$g4p" 'BEGIN {
	printf "\nboot model on glob lines, each its own pattern, in 4 files (instructions)\n"
	printf "%-32s %14s %14s %8s\n", "", "20,000 lines", "80,000 lines", "growth"
	printf "%-32s %14d %14d %7.2fx\n", "ka-tune --loader systemd", g1s, g4s, g4s / g1s
	printf "%-32s %14d %14d %7.2fx\n", "ka-tune --loader procps", g1p, g4p, g4p / g1p
	ok = g4s / g1s < 5 && g4p / g1p < 5
	printf "\ntarget: linear, 4x the lines at most 5x the cost (%s)\n", ok ? "met" : "NOT met"
}'
