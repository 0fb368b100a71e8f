#!/bin/sh
# tests/cli.sh: ka-tune show and set, end to end, against the real kernel in private network and
# mount namespaces (tests/lib.sh makes them and checks the host did not move).
# usage: sh tests/cli.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

# --- show ----------------------------------------------------------------------------------

t "a new network namespace starts at 7200/75/9"
values_are 7200 75 9

t "show prints each key, its unit and the detection time"
run 0 show
out_is "net.ipv4.tcp_keepalive_time   = 7200 s (2h)
net.ipv4.tcp_keepalive_intvl  = 75 s (1m15s)
net.ipv4.tcp_keepalive_probes = 9 probes
dead peer detection = 7875 s (2h11m15s) = time + intvl x probes"
err_empty

t "show --sysctl prints exactly three sysctl.d lines"
run 0 show --sysctl
out_is "net.ipv4.tcp_keepalive_time = 7200
net.ipv4.tcp_keepalive_intvl = 75
net.ipv4.tcp_keepalive_probes = 9"

t "show --sysctl output is valid sysctl.d text that procps applies"
echo 300 >$ipv4/tcp_keepalive_time
echo 30 >$ipv4/tcp_keepalive_intvl
echo 4 >$ipv4/tcp_keepalive_probes
run 0 show --sysctl
cp "$out" "$tmp/saved.conf"
reset
sysctl -q -p "$tmp/saved.conf" || fail "sysctl -p refused the output of show --sysctl"
values_are 300 30 4

t "show --json prints one object"
run 0 show --json
out_is '{"time": 7200, "intvl": 75, "probes": 9, "detection_time": 7875, "invalid": []}'

t "show --json and --sysctl exclude each other"
run 2 show --json --sysctl
err_has "exclude each other"
out_empty

t "values the kernel holds out of range are shown as they are, flagged"
echo 0 >$ipv4/tcp_keepalive_time
echo -5 >$ipv4/tcp_keepalive_intvl
run 0 show
out_has "net.ipv4.tcp_keepalive_time   = 0 s  [invalid: accepted 1..32767]"
out_has "net.ipv4.tcp_keepalive_intvl  = -5 s  [invalid: accepted 1..32767]"
out_has "dead peer detection: unknown"
run 0 show --json
out_is '{"time": 0, "intvl": -5, "probes": 9, "detection_time": null, "invalid": ["time", "intvl"]}'
run 0 show --sysctl
out_has "net.ipv4.tcp_keepalive_intvl = -5"

t "probes above 127 (the kernel keeps up to 255) are flagged"
echo 200 >$ipv4/tcp_keepalive_probes
run 0 show
out_has "net.ipv4.tcp_keepalive_probes = 200 probes  [invalid: accepted 1..127]"

# --- set -----------------------------------------------------------------------------------

t "set changes all three and prints old -> new"
run 0 set --time 600 --intvl 60 --probes 20
out_is "net.ipv4.tcp_keepalive_time: 7200 -> 600
net.ipv4.tcp_keepalive_intvl: 75 -> 60
net.ipv4.tcp_keepalive_probes: 9 -> 20"
err_empty
values_are 600 60 20

t "set with the values already there says unchanged"
run 0 set --time 7200 --probes 9
out_is "net.ipv4.tcp_keepalive_time: 7200 unchanged
net.ipv4.tcp_keepalive_probes: 9 unchanged"
values_are 7200 75 9

t "set one key leaves the others alone"
run 0 set --intvl 1m30s
out_is "net.ipv4.tcp_keepalive_intvl: 75 -> 90"
values_are 7200 90 9

t "durations with units"
for d in 90:90 10m:600 1m30s:90 2h:7200 1h1s:3601 9h6m7s:32767 1:1; do
	run 0 set --time "${d%%:*}"
	values_are "${d#*:}" 75 9
done

t "the last of a repeated option wins"
run 0 set --time 100 --time 200
values_are 200 75 9

t "invalid durations are refused with the option, value and range; nothing changes"
for v in "" " 1" "1 " "+1" "-1" "0x10" "010" "1.5" "1m30" "1s1m" "abc" "1d" "0" "32768" \
    "99999999999" "1x99999999999"; do
	run 2 set --time "$v"
	err_has "--time: '$v' is"
	err_has "accepted 1..32767 seconds"
	out_empty
	run 2 set --intvl "$v"
	err_has "--intvl: '$v' is"
done
values_are 7200 75 9

t "invalid probe counts are refused with the range"
for v in "" "0" "128" "-1" "+5" "5s" "05" "1.0" " 5"; do
	run 2 set --probes "$v"
	err_has "--probes: '$v' is"
	err_has "accepted 1..127"
done
values_are 7200 75 9

t "one bad value among good ones changes nothing, and every bad one is named"
run 2 set --time 600 --intvl 0 --probes 500
err_has "--intvl: '0' is out of range"
err_has "--probes: '500' is out of range"
out_empty
values_are 7200 75 9

t "set --dry-run prints the plan and writes nothing"
run 0 set --dry-run --time 600 --probes 9
out_is "net.ipv4.tcp_keepalive_time: 7200 -> 600
net.ipv4.tcp_keepalive_probes: 9 unchanged"
err_has "dry run: nothing written"
values_are 7200 75 9

# --- usage ---------------------------------------------------------------------------------

t "set without a value option is a usage error"
run 2 set
err_has "nothing to set"
run 2 set --dry-run
err_has "nothing to set"

t "usage errors exit 2 with one line that points to the right --help"
for args in "" "bogus" "--bogus" "show extra" "show --bogus" "set --time" "set --time 5 extra" \
    "set -x" "help extra" "--help extra" "--version extra" "persist extra"; do
	# shellcheck disable=SC2086
	run 2 $args
	[ "$(wc -l <"$err")" -eq 1 ] || fail "ka-tune $args: more than one line on stderr"
	case $args in
	show* | set* | persist*) err_has "; see 'ka-tune ${args%% *} --help'" ;;
	help*) err_has "; see 'ka-tune help --help'" ;;
	*) err_has "; see 'ka-tune --help'" ;;
	esac
	out_empty
done

t "--help and help print the whole usage; a command's --help its own"
for args in "--help" "-h" "help" "help --help" "help help"; do
	# shellcheck disable=SC2086
	run 0 $args
	out_has "usage: ka-tune [--netns NAME|PATH | --pid PID] show [--json | --sysctl]"
	out_has "       ka-tune persist --remove [--file PATH | --root DIR] [--dry-run]"
	out_has "exit status: 0 done, 1 the operation failed, 2 usage error or invalid value"
	err_empty
done
for cmd in show set check suggest sockets persist; do
	run 0 $cmd --help
	head -n 1 "$out" | grep -q "^usage: ka-tune .*$cmd" || fail "$cmd --help: not its usage"
	[ "$(grep -c '^usage: \|^       ka-tune' "$out")" -le 3 ] || fail "$cmd --help: others' usage"
	out_has "exit status: 0 done, 1 the operation failed, 2 usage error or invalid value"
	cp "$out" "$tmp/own"
	run 0 help $cmd
	cmp -s "$out" "$tmp/own" || fail "help $cmd differs from $cmd --help"
	run 0 $cmd --help extra
	cmp -s "$out" "$tmp/own" || fail "$cmd --help extra differs from $cmd --help"
done
run 2 help nosuch
err_has "help: unknown command 'nosuch'"
run 2 help show set
err_has "help: unexpected argument 'set'"
run 0 --version
out_has "ka-tune "

t "the usage is the man page's SYNOPSIS, word for word"
if command -v mandoc >/dev/null 2>&1; then
	# Overstruck bold (c, backspace, c) made plain, the section between the two headings.
	mandoc -T ascii -O width=200 "$(dirname "$script")/../man/ka-tune.8" 2>/dev/null |
	    sed 's/.\x08//g' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' |
	    tr -s ' \n' '  ' | sed 's/^ //' >"$tmp/man"
	run 0 --help
	sed -n '/^usage: /,/^$/p' "$out" | sed 's/^usage: //' | tr -s ' \n' '  ' |
	    sed 's/^ //' >"$tmp/usage"
	cmp -s "$tmp/man" "$tmp/usage" ||
	    fail "usage and SYNOPSIS differ: $(cat "$tmp/usage") // $(cat "$tmp/man")"
else
	fail "mandoc not found (make deps)"
fi

t "README's usage block is --help's, line for line"
readme="$(dirname "$script")/../README.md"
run 0 --help
sed -n '/^usage: /,/^$/p' "$out" | sed '/^$/d' >"$tmp/usage"
sed -n '/^usage: ka-tune/,/^```$/p' "$readme" | sed '$d' >"$tmp/readme"
cmp -s "$tmp/usage" "$tmp/readme" || fail "README's usage block is not --help's: $(diff "$tmp/usage" "$tmp/readme")"

t "long options are written in full; --name=value is one"
run 2 set --tim 300
err_is "ka-tune: set: unknown option '--tim' (options are written in full: --time); see 'ka-tune set --help'"
run 2 set --dry --time 300
err_has "unknown option '--dry' (options are written in full: --dry-run)"
run 2 --net x show
err_has "unknown option '--net' (options are written in full: --netns)"
values_are 7200 75 9
run 0 set --time=300 --probes=5
values_are 300 75 5

t "the global --netns and --pid are refused where they do not apply"
for args in "suggest --behind aws-nat" "show --all-netns" "show --boot" "persist" "help" \
    "--version"; do
	# shellcheck disable=SC2086
	run 2 --pid 1 $args
	err_has "do not apply"
	# shellcheck disable=SC2086
	run 2 --netns x $args
	err_has "do not apply"
done
for bad in '' . ..; do
	run 2 --netns "$bad" show
	err_has "--netns needs a name or a path, not '$bad'"
done
for bad in +1 " 1" 01 0x10 -1 1.0 "" 0 4194305; do
	run 2 --pid "$bad" show
	err_has "--pid: '$bad' is "
	err_has "accepted 1..4194304"
done
run 2 --netns x --pid 1 show
err_has "--netns and --pid exclude each other"

t "an option's value is judged before the namespace is entered"
run 2 --netns nosuch check --idle-timeout abc
err_has "--idle-timeout: 'abc' is not a duration"
run 2 --netns nosuch check --behind nosuch
err_has "--behind: 'nosuch' is not a profile"

t "a bad value is echoed escaped, never raw"
run 2 set --time "$(printf '5\033]0;pwned\007')"
err_has "--time: '5\033]0;pwned\a' is not a duration"
if LC_ALL=C grep -q "$(printf '\033')" "$err"; then fail "a raw ESC reached stderr"; fi
run 1 --netns "$(printf 'a\nb')" show
err_has "--netns a\nb: no such network namespace"
[ "$(wc -l <"$err")" -eq 1 ] || fail "a newline in a name split the message"

# --- failures ------------------------------------------------------------------------------

t "a read-only key fails the set, and what was written is restored"
echo 100 >$ipv4/tcp_keepalive_time
mount --bind $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_intvl &&
    mount -o remount,bind,ro $ipv4/tcp_keepalive_intvl || fail "cannot make intvl read-only"
run 1 set --time 300 --intvl 30 --probes 5
err_has "net.ipv4.tcp_keepalive_intvl: cannot set 30: read-only file system"
err_has "net.ipv4.tcp_keepalive_time: restored to 100"
out_empty
values_are 100 75 9
umount $ipv4/tcp_keepalive_intvl

t "a restore that fails too is reported, naming the value left behind"
mount --bind $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_intvl &&
    mount -o remount,bind,ro $ipv4/tcp_keepalive_intvl || fail "cannot make intvl read-only"
# The third open of the time file (read, write, restore) fails.
traced -P $ipv4/tcp_keepalive_time -e trace=openat \
    -e inject=openat:error=EIO:when=3 "$bin" set --time 300 --intvl 30 >"$out" 2>"$err"
[ $? -eq 1 ] || fail "set with a failing restore did not exit 1"
err_has "net.ipv4.tcp_keepalive_intvl: cannot set 30: read-only file system"
err_has "net.ipv4.tcp_keepalive_time: could not restore 7200, it stays 300: Input/output error"
values_are 300 75 9
umount $ipv4/tcp_keepalive_intvl

t "a read-only /proc/sys (a container) fails with its own message and changes nothing"
mount --bind /proc/sys /proc/sys && mount -o remount,bind,ro /proc/sys ||
    fail "cannot make /proc/sys read-only"
run 1 set --time 300
err_has "read-only file system"
err_has "through its runtime"
err_has "nothing was changed"
run 0 show --sysctl
out_has "net.ipv4.tcp_keepalive_time = 7200"
umount /proc/sys
values_are 7200 75 9

t "a user who is not root is told so, and nothing changes"
as_nobody 1 set --time 300 --intvl 30
err_has "net.ipv4.tcp_keepalive_time: cannot set 300: permission denied"
err_has "nothing was changed"
as_nobody 0 show --sysctl
out_has "net.ipv4.tcp_keepalive_time = 7200"
values_are 7200 75 9

t "a kernel or namespace without the keys says the key is missing"
mount -t tmpfs none $ipv4 || fail "cannot hide $ipv4"
run 1 show
err_has "net.ipv4.tcp_keepalive_time: cannot read: no such key"
run 1 set --time 300
err_has "no such key"
umount $ipv4

t "output that cannot be written is a failure (exit 1), not silence"
"$bin" show >/dev/full 2>"$err"
[ $? -eq 1 ] || fail "show >/dev/full did not exit 1"
err_is "ka-tune: write error: No space left on device"

t "set whose report cannot be written says the values were set all the same"
"$bin" set --time 600 >/dev/full 2>"$err"
[ $? -eq 1 ] || fail "set >/dev/full did not exit 1"
err_is "ka-tune: write error: No space left on device; the values were set, but the report could not be written"
values_are 600 75 9
reset
# A closed pipe: its reading end is closed before ka-tune starts.
python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stdout=w).returncode)' "$bin" set --time 700 2>"$err"
[ $? -eq 1 ] || fail "set into a closed pipe did not exit 1"
values_are 700 75 9
err_has "the values were set, but the report could not be written"
reset
"$bin" set --dry-run --time 800 >/dev/full 2>"$err"
[ $? -eq 1 ] || fail "set --dry-run >/dev/full did not exit 1"
err_has "ka-tune: write error: No space left on device"
if grep -q "were set" "$err"; then fail "a dry run claims the values were set"; fi
values_are 7200 75 9

done_testing
