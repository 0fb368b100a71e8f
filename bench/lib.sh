# bench/lib.sh: what the benchmark scripts share: dying with a message, and counting the
# instructions a command runs under callgrind. Sourced: . "$(dirname "$0")/lib.sh"

prog=${0##*/}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# Print the instructions (Ir) one command runs under callgrind, from its summary line; what the
# command prints is thrown away. Needs $tmp, a scratch directory.
instructions() {
	valgrind -q --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$@" \
		>/dev/null 2>"$tmp/cg.err" || {
		cat "$tmp/cg.err" >&2
		die "$*: failed under valgrind"
	}
	awk '$1 == "summary:" { print $2; found = 1 } END { exit !found }' "$tmp/cg.out" ||
		die "$*: no summary in callgrind output"
}
