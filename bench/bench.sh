#!/bin/sh
# bench.sh: what `ka-tune show` costs (instructions, syscalls) next to procps sysctl and to
# minread, the least a C program can do to read the three keepalive values. It only reads.
#
# usage: sh bench/bench.sh ./ka-tune        (make bench does this; CC picks the compiler)
set -eu

. "$(dirname "$0")/lib.sh"

# The issue's target: at most this many times minread's instructions, and a handful more
# syscalls, which we take to mean at most this many.
TARGET_RATIO=1.3
TARGET_SYSCALLS=5

[ $# -eq 1 ] || die "usage: sh bench/bench.sh path/to/ka-tune"
katune=$1
[ -x "$katune" ] || die "$katune: not an executable (run make first)"

# The tools, with a word on where to get them; sysctl often lives outside a user's PATH.
command -v valgrind >/dev/null 2>&1 || die "valgrind not found (apt-get install valgrind)"
command -v strace >/dev/null 2>&1 || die "strace not found (apt-get install strace)"
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || die "C compiler '$cc' not found (set CC)"
sysctl=$(PATH=$PATH:/sbin:/usr/sbin command -v sysctl) ||
	die "sysctl not found (apt-get install procps)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ka-tune-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

here=$(dirname "$0")
"$cc" -O2 -o "$tmp/minread" "$here/minread.c" || die "cannot compile $here/minread.c"

# Print the syscalls one command makes, from strace's "total" line. The "calls" column is
# found by name in the header, whose "% time" is two words where the numbers are one.
syscalls() {
	strace -f -c -o "$tmp/st.out" "$@" >/dev/null 2>"$tmp/st.err" || {
		cat "$tmp/st.err" >&2
		die "$*: failed under strace"
	}
	awk '
	/calls/ && /syscall/ {
		for (i = 1; i <= NF; i++)
			if ($i == "calls")
				col = i - ($1 == "%" ? 1 : 0)
	}
	$NF == "total" && col { print $col; found = 1 }
	END { exit !found }' "$tmp/st.out" || die "$*: no total in strace output"
}

# Measure one command; the results go to $tmp/rows as: label, instructions, syscalls.
measure() {
	label=$1
	shift
	ir=$(instructions "$@")
	sc=$(syscalls "$@")
	printf '%s\t%s\t%s\n' "$label" "$ir" "$sc" >>"$tmp/rows"
}

: >"$tmp/rows"
measure "ka-tune show" "$katune" show
measure "ka-tune show --sysctl" "$katune" show --sysctl
measure "sysctl (procps)" "$sysctl" net.ipv4.tcp_keepalive_time \
	net.ipv4.tcp_keepalive_intvl net.ipv4.tcp_keepalive_probes
measure "minread" "$tmp/minread"

# The table, each row against minread (the last row), then the target and whether it is met.
awk -F '\t' -v ratio="$TARGET_RATIO" -v extra="$TARGET_SYSCALLS" '
{ name[NR] = $1; ir[NR] = $2; sc[NR] = $3 }
END {
	base = NR
	printf "%-24s %14s %9s %12s %12s\n", "command", "instructions", "syscalls",
	    "Ir/minread", "syscalls +/-"
	for (i = 1; i <= NR; i++)
		printf "%-24s %14d %9d %11.2fx %+12d\n", name[i], ir[i], sc[i],
		    ir[i] / ir[base], sc[i] - sc[base]
	r = ir[1] / ir[base]
	d = sc[1] - sc[base]
	printf "\ntarget: ka-tune show <= %.1fx minread instructions, a handful more syscalls\n",
	    ratio
	printf "ka-tune show: %.2fx (%s), %+d syscalls (%s, handful = %d)\n",
	    r, r <= ratio ? "met" : "NOT met", d, d <= extra ? "met" : "NOT met", extra
}' "$tmp/rows"
