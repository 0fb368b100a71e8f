#!/bin/sh
# tests/stress.sh: run `make check` several times in a row while busy loops keep every CPU busy,
# to show that the suite does not fail by chance on a loaded machine. It is not part of make
# check: it takes several minutes and loads the whole machine. The busy loops are its own
# children and are stopped however it ends.
# usage: sh tests/stress.sh [RUNS]        (make check-stress; RUNS defaults to 5)
set -u

prog=tests/stress.sh
runs=${1:-5}
case $runs in
'' | *[!0-9]* | 0)
	echo "usage: sh $prog [RUNS]    (RUNS: how many times to run make check, 1 or more)" >&2
	exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 1
make=${MAKE:-make}
logs=$(mktemp -d "${TMPDIR:-/tmp}/ka-tune-stress.XXXXXX") || exit 1

loads=
stop_load() {
	for p in $loads; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	loads=
}
trap stop_load EXIT
trap 'exit 1' HUP INT TERM

# One busy loop per CPU, each a single process: killing it by its pid stops it.
cpus=$(nproc) || exit 1
i=0
while [ $i -lt "$cpus" ]; do
	sh -c 'while :; do :; done' &
	loads="$loads $!"
	i=$((i + 1))
done
echo "$prog: $cpus busy loops (pids$loads) on $cpus CPUs; make check $runs times; logs in $logs"

uptime_s() { awk '{ printf "%d\n", $1 }' /proc/uptime; }
passed=0
n=1
while [ $n -le "$runs" ]; do
	log=$logs/run.$n.log
	start=$(uptime_s)
	if $make --no-print-directory check >"$log" 2>&1; then
		result=passed
		passed=$((passed + 1))
	else
		result="FAILED (see $log)"
	fi
	took=$(($(uptime_s) - start))
	summary=$(grep -E '^[a-z]+\.sh: [0-9]+ passed, [0-9]+ failed$' "$log" |
	    awk '{ p += $2; f += $4 } END { printf "%d checks passed, %d failed", p, f }')
	echo "$prog: run $n of $runs: $result in $took s ($summary, shell tests, all builds)"
	n=$((n + 1))
done

stop_load
echo "$prog: $passed of $runs runs of make check passed with all $cpus CPUs kept busy"
[ "$passed" -eq "$runs" ] || exit 1
rm -rf "$logs"
