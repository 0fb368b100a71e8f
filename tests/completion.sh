#!/bin/sh
# tests/completion.sh: the bash and zsh completions, loaded from where make install put them and
# driven as each shell drives them (tests/completion.bash, tests/completion.zsh). The commands,
# options, --behind profiles and --loader names they offer must be exactly those ka-tune itself
# lists (its --help and its error messages), so a new option without its completion fails here;
# paths, options that exclude each other, and places where nothing may follow are checked case
# by case. Changes nothing outside its temp directory (the --netns names: a private tmpfs).
# usage: sh tests/completion.sh path/to/ka-tune STAGED_PREFIX
#        (make check runs make install DESTDIR=build/stage PREFIX=/usr and passes build/stage/usr)
set -u
export LC_ALL=C

[ $# -eq 2 ] || { echo "usage: sh $0 path/to/ka-tune staged-prefix" >&2; exit 2; }
name=completion.sh
bin=$(realpath "$1") && share=$(realpath "$2")/share || exit 2
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

fail() {
	echo "FAIL: $name: $*" >&2
	failed=$((failed + 1))
}

# norm WORDS...: the words sorted, once each, on one line.
norm() {
	printf '%s\n' "$@" | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# What ka-tune says it takes: its commands and global options (--help), each command's options
# (COMMAND --help, plus --help itself), the profiles and loaders it names when refusing one.
# shellcheck disable=SC2046
{
	commands=$(norm $("$bin" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'))
	globals=$(norm --help --version $("$bin" --help | sed -n 's/^  \(--[a-z][a-z-]*\) .*/\1/p'))
	profiles=$(norm $("$bin" suggest --behind '?' 2>&1 | sed -n 's/.*known: //p' | tr -d ,))
	loaders=$(norm $("$bin" check --loader '?' 2>&1 | sed -n 's/.*accepted: //p' | tr -d ,))
}
options_of() {
	# shellcheck disable=SC2046
	norm --help $("$bin" "$1" --help | sed -n 's/^  \(--[a-z][a-z0-9-]*\) .*/\1/p')
}
for v in commands globals profiles loaders; do
	eval "[ -n \"\$$v\" ]" ||
	    { echo "FAIL: $name: found no $v in ka-tune's own text" >&2; exit 1; }
done

# The cases: SHELLS|LINE|OFFERED. SHELLS: b bash, z zsh. LINE is typed, the cursor at its end.
# OFFERED: exactly these words, or, after '~', at least these (SELF: the shell's own pid).
# zsh alone leaves out what ka-tune refuses after --boot, --all-netns, --netns and --pid, and
# offers the values of --netns and --pid; bash offers more there, and nothing for those values.
# Files in the current directory: a.conf b.txt, directories conf.d image.
{
	echo "bz|ka-tune |$commands"
	echo "bz|ka-tune -|$globals"
	for c in $commands; do
		[ "$c" = help ] || echo "bz|ka-tune $c --|$(options_of "$c")"
	done
	echo "bz|ka-tune help |$commands"
	echo "bz|ka-tune suggest --behind |$profiles"
	echo "bz|ka-tune check --loader |$loaders"
	echo "bz|ka-tune show --boot --loader=|$loaders"
	cat <<-EOF
	bz|ka-tune s|set show sockets suggest
	bz|ka-tune e|enable exec
	bz|ka-tune d|disable
	bz|ka-tune enable --dry-run --|--cgroup --help --intvl --json --persist --pid --port --probes --time
	bz|ka-tune enable --cgroup x --|--dry-run --help --intvl --json --persist --probes --time
	bz|ka-tune enable --pid 1 --|--dry-run --help --intvl --json --port --probes --time
	bz|ka-tune enable --list --|--help --json
	bz|ka-tune disable --json --|--cgroup --dry-run --help
	b|ka-tune enable --pid |
	z|ka-tune enable --pid |~SELF
	bz|ka-tune exec --time 5 --|--help --intvl --probes
	bz|ka-tune exec -- ech|~echo
	bz|ka-tune exec --probes 3 ech|~echo
	bz|ka-tune check --behind a|aliyun-nat aws-nat azure-lb
	bz|ka-tune suggest --behind=g|gcp-nat
	bz|ka-tune help show |
	bz|ka-tune --help |
	bz|ka-tune --version |
	bz|ka-tune show --help -|
	bz|ka-tune show -- -|
	bz|ka-tune frobnicate -|
	bz|ka-tune show --json --|--all-netns --boot --help --loader --root
	bz|ka-tune show --sysctl --|--boot --help --loader --root
	bz|ka-tune check --behind aws-nat --|--help --json --loader
	bz|ka-tune suggest --idle-timeout=9 -|--detect-within --docker --help --json --k8s --sysctl
	bz|ka-tune suggest --k8s --|--behind --detect-within --help --idle-timeout
	bz|ka-tune persist --remove --|--dry-run --file --help --json --root
	bz|ka-tune persist --time 5m --|--dry-run --file --help --intvl --json --probes --root
	bz|ka-tune persist --file x --|--dry-run --help --intvl --json --probes --remove --time
	bz|ka-tune persist --file |a.conf b.txt conf.d image
	bz|ka-tune persist --file=c|conf.d
	bz|ka-tune persist --root |conf.d image
	bz|ka-tune persist --root=i|image
	bz|ka-tune show --boot --root |conf.d image
	bz|ka-tune set --time |
	bz|ka-tune set --time=|
	bz|ka-tune set --probes 5 --|--dry-run --file --help --intvl --json --persist --time
	bz|ka-tune apply --dry-run --|--help --json --loader
	bz|ka-tune apply --loader |procps systemd
	bz|ka-tune metrics --output |a.conf b.txt conf.d image
	bz|ka-tune metrics --behind aws-nat --|--help --output
	bz|ka-tune sockets --port |
	bz|ka-tune sockets --no-keepalive --|--help --json --port
	bz|ka-tune probe --json --|--connections --help --max --min
	bz|ka-tune probe 192.0.2.1:22 --min 5 --|--connections --help --json --max
	bz|ka-tune probe --listen 7000 --|--help
	bz|ka-tune probe --min |
	bz|ka-tune probe --listen=|
	bz|ka-tune p|persist probe
	z|ka-tune show --boot --json -|--help --loader --root
	z|ka-tune show --all-netns --|--help --json
	z|ka-tune --netns blue |check probe set show sockets
	z|ka-tune --pid 1 show --|--help --json --sysctl
	b|ka-tune --pid |
	z|ka-tune --pid |~SELF
	EOF
} >"$tmp/cases"

# check SHELL LETTER RESULTS: compare each case meant for LETTER with its line of RESULTS.
check() {
	i=0
	while IFS='|' read -r shells line want; do
		i=$((i + 1))
		case $shells in *"$2"*) ;; *) continue ;; esac
		# shellcheck disable=SC2046
		got=$(norm $(sed -n "${i}p" "$3"))
		case $want in
		'~'*)
			for w in ${want#'~'}; do
				case " $got " in
				*" $w "*) ;;
				*) fail "$1: '$line' offers '$got', not $w"; continue 2 ;;
				esac
			done
			;;
		*)
			if [ "$got" != "$want" ]; then
				fail "$1: '$line' offers '$got', expected '$want'"
				continue
			fi
			;;
		esac
		passed=$((passed + 1))
	done <"$tmp/cases"
}

# source_is SHELL RESULTS FILE: the completion came from the staged FILE.
source_is() {
	got=$(sed -n 's/^source: //p' "$2")
	if [ "$got" = "$3" ]; then
		passed=$((passed + 1))
	else
		fail "$1: the completion came from '$got', not $3"
	fi
}

mkdir -p "$tmp/work/conf.d" "$tmp/work/image" && : >"$tmp/work/a.conf" && : >"$tmp/work/b.txt" ||
    exit 1
cut -d'|' -f2 "$tmp/cases" >"$tmp/lines"

if [ ! -r /usr/share/bash-completion/bash_completion ]; then
	echo "SKIP: $name: bash-completion is not installed (make deps): bash's loader not tested"
fi
if (cd "$tmp/work" && timeout 60 bash "$here/completion.bash" "$share") <"$tmp/lines" \
    >"$tmp/bash.out"; then
	check bash b "$tmp/bash.out"
	source_is bash "$tmp/bash.out" "$share/bash-completion/completions/ka-tune"
else
	fail "bash: tests/completion.bash failed"
fi

if ! command -v zsh >/dev/null 2>&1; then
	echo "SKIP: $name: zsh is not installed (make deps): its completion not tested"
elif (cd "$tmp/work" && timeout 60 zsh -f "$here/completion.zsh" "$share/zsh/vendor-completions" \
    "$tmp/capture") <"$tmp/lines" >"$tmp/zsh.out"; then
	check zsh z "$tmp/zsh.out"
	source_is zsh "$tmp/zsh.out" "$share/zsh/vendor-completions/_ka-tune"
	# --netns offers the names in /run/netns: made on a tmpfs in a private mount namespace.
	if [ "$(id -u)" -ne 0 ] || ! unshare -m true 2>/dev/null; then
		echo "SKIP: $name: zsh --netns names need root and unshare -m; not tested"
	else
		printf '%s\n' 'z|ka-tune --netns |blue green' 'z|ka-tune --netns=g|green' \
		    'z|ka-tune --netns /run/netns/b|blue' >"$tmp/cases"
		cut -d'|' -f2 "$tmp/cases" >"$tmp/lines"
		# shellcheck disable=SC2016 # $1 to $4 are the inner shell's
		if unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0755 none /run &&
		    mkdir /run/netns && : >/run/netns/blue && : >/run/netns/green &&
		    cd "$1" && timeout 60 zsh -f "$2" "$3" "$4"' sh "$tmp/work" \
		    "$here/completion.zsh" "$share/zsh/vendor-completions" "$tmp/capture" \
		    <"$tmp/lines" >"$tmp/netns.out"; then
			check zsh z "$tmp/netns.out"
		else
			fail "zsh: tests/completion.zsh failed in a private mount namespace"
		fi
	fi
else
	fail "zsh: tests/completion.zsh failed"
fi

echo "$name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
