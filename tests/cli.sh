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

t "usage errors exit 2 and print the usage on stderr"
for args in "" "bogus" "--bogus" "show extra" "show --bogus" "set --time" "set --time 5 extra" \
    "set -x" "help extra" "--help extra" "--version extra" "persist extra"; do
	# shellcheck disable=SC2086
	run 2 $args
	err_has "usage: ka-tune [--netns NAME|PATH | --pid PID] show [--json | --sysctl]"
	out_empty
done

t "--help, help, set --help and --version exit 0 on stdout"
for args in "--help" "-h" "help" "show --help" "set --help" "persist --help"; do
	# shellcheck disable=SC2086
	run 0 $args
	out_has "usage: ka-tune [--netns NAME|PATH | --pid PID] show [--json | --sysctl]"
	out_has "exit status: 0 done, 1 the operation failed, 2 usage error or invalid value"
	err_empty
done
run 0 --version
out_has "ka-tune "

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
strace -o /dev/null -P $ipv4/tcp_keepalive_time -e trace=openat \
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
err_has "write error"

done_testing
