#!/bin/sh
# tests/style.sh: the mechanical part of the code style (../shared/STYLE.md, "Formatting"),
# checked on every C file git tracks: indentation by tabs (a continuation may add up to seven
# spaces), at most 100 columns with tabs at 8, no white space at the end of a line, and no
# function body over 60 lines. The rest of the style (names, comments, early returns) is for
# review. Run by make lint, so by make check.
# usage: sh tests/style.sh [FILE...]     (default: every tracked *.c and *.h)
set -u

cd "$(dirname "$0")/.." || exit 1
if [ $# -eq 0 ]; then
	set -- $(git ls-files '*.c' '*.h' 2>/dev/null)
	[ $# -gt 0 ] || { echo "tests/style.sh: no C files found (not a git checkout?)" >&2; exit 1; }
fi

awk -v max_cols=100 -v max_body=60 '
function col(s,    n, i, c) {
	n = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		n = c == "\t" ? n + 8 - n % 8 : n + 1
	}
	return n
}
function bad(what) {
	printf "%s:%d: %s\n", FILENAME, FNR, what
	nbad++
}
FNR == 1 { body = 0 }
{
	if ($0 ~ /[ \t]$/)
		bad("white space at the end of the line")
	if (match($0, /^[ \t]*/) && substr($0, 1, RLENGTH) ~ / \t|        /)
		bad("indentation by spaces: tabs indent, spaces only continue a line (up to 7)")
	if (col($0) > max_cols)
		bad("line of " col($0) " columns; at most " max_cols)
	if ($0 ~ /^\{/)
		body = FNR
	else if ($0 ~ /^\}/ && body) {
		if (FNR - body - 1 > max_body)
			bad("function body of " FNR - body - 1 " lines, from line " body "; at most " \
			    max_body)
		body = 0
	}
}
END {
	if (nbad) {
		printf "tests/style.sh: %d line(s) break the code style (../shared/STYLE.md)\n", nbad
		exit 1
	}
}' "$@" || exit 1
echo "tests/style.sh: $# files follow the code style"
