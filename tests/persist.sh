#!/bin/sh
# tests/persist.sh: ka-tune persist, end to end, in private network and mount namespaces with a
# tmpfs over /etc/sysctl.d: the file it writes, what the real loaders make of it, idempotence,
# foreign lines, umask, symlinks, injected I/O failures, permissions and concurrent runs.
# usage: sh tests/persist.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

conf=/etc/sysctl.d/90-ka-tune.conf
header="# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; others are kept."
systemd_sysctl=/lib/systemd/systemd-sysctl

mkdir -p /etc/sysctl.d && mount -t tmpfs -o mode=0755 none /etc/sysctl.d ||
    { echo "FAIL: $name: cannot mount a tmpfs over /etc/sysctl.d" >&2; exit 1; }

file_is() { [ "$(cat "$1")" = "$2" ] || fail "$1 is not: $2 (it is: $(cat "$1" 2>&1))"; }
no_temp_files() {
	left=$(find "$1" -name '.*.??????' 2>/dev/null)
	[ -z "$left" ] || fail "temp files left behind: $left"
}
# stamp FILE: its inode and modification time, to the nanosecond.
stamp() { stat -c '%i %y' "$1"; }

# The sysctl.d text of three values, as persist writes a new file.
text() {
	printf '%s\nnet.ipv4.tcp_keepalive_time = %s\nnet.ipv4.tcp_keepalive_intvl = %s\n' \
	    "$header" "$1" "$2"
	printf 'net.ipv4.tcp_keepalive_probes = %s' "$3"
}

t_persist() {
	t "$1"
	rm -rf /etc/sysctl.d/* /etc/sysctl.d/.[!.]* 2>/dev/null
}

# --- what is written -----------------------------------------------------------------------

t_persist "persist writes the running values to /etc/sysctl.d/90-ka-tune.conf"
run 0 persist
out_is "net.ipv4.tcp_keepalive_time: 7200 added
net.ipv4.tcp_keepalive_intvl: 75 added
net.ipv4.tcp_keepalive_probes: 9 added
$conf: changed"
file_is $conf "$(text 7200 75 9)"
[ "$(stat -c %a $conf)" = 644 ] || fail "mode is $(stat -c %a $conf), not 644"

t_persist "set then persist saves what was set"
run 0 set --time 10m --intvl 1m --probes 5
run 0 persist
file_is $conf "$(text 600 60 5)"

t_persist "options override the running values and are not applied now"
run 0 persist --time 300 --probes 4
file_is $conf "$(text 300 75 4)"
values_are 7200 75 9

t_persist "the file is applied the same by procps sysctl -p and by systemd-sysctl"
run 0 persist --time 5m --intvl 45 --probes 6
sysctl -q -p $conf || fail "sysctl -p $conf failed"
values_are 300 45 6
reset
if [ -x $systemd_sysctl ]; then
	$systemd_sysctl $conf || fail "systemd-sysctl $conf failed"
	values_are 300 45 6
else
	fail "no $systemd_sysctl to check the file with"
fi

t_persist "a fresh network namespace that loads the file gets its values"
run 0 persist --time 400 --intvl 40 --probes 4
got=$(unshare -n sh -c "sysctl -q -p $conf && cat $ipv4/tcp_keepalive_time $ipv4/tcp_keepalive_intvl \
    $ipv4/tcp_keepalive_probes" | tr '\n' ' ')
[ "$got" = "400 40 4 " ] || fail "procps in a new netns got '$got'"
got=$(unshare -n sh -c "$systemd_sysctl $conf && cat $ipv4/tcp_keepalive_time \
    $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_probes" | tr '\n' ' ')
[ "$got" = "400 40 4 " ] || fail "systemd-sysctl in a new netns got '$got'"

t_persist "mode 0644 whatever the umask"
(umask 077 && "$bin" persist >"$out" 2>"$err") || fail "persist under umask 077 failed"
[ "$(stat -c %a $conf)" = 644 ] || fail "mode under umask 077 is $(stat -c %a $conf)"
(umask 0 && "$bin" persist --time 99 >"$out" 2>"$err") || fail "persist under umask 0 failed"
[ "$(stat -c %a $conf)" = 644 ] || fail "mode under umask 0 is $(stat -c %a $conf)"

# --- idempotence and editing ---------------------------------------------------------------

t_persist "a second run with the same values leaves the file untouched"
run 0 persist --time 600
before=$(stamp $conf)
sleep 0.05		# not a wait for anything: the clock moves on, so a rewrite would show
run 0 persist --time 600
out_is "net.ipv4.tcp_keepalive_time: 600 unchanged
net.ipv4.tcp_keepalive_intvl: 75 unchanged
net.ipv4.tcp_keepalive_probes: 9 unchanged
$conf: unchanged"
[ "$(stamp $conf)" = "$before" ] || fail "inode or mtime changed: $before -> $(stamp $conf)"

t_persist "the same text with another mode than 0644 gets 0644, in place, and is a change"
run 0 persist --time 600
for mode in 600 664 4644; do
	chmod $mode $conf
	before=$(stat -c %i $conf)
	run 0 persist --dry-run --time 600
	err_has "dry run: $conf would be changed; nothing written"
	[ "$(stat -c %a $conf)" = $mode ] || fail "--dry-run changed the mode"
	run 0 persist --time 600
	out_is "net.ipv4.tcp_keepalive_time: 600 unchanged
net.ipv4.tcp_keepalive_intvl: 75 unchanged
net.ipv4.tcp_keepalive_probes: 9 unchanged
$conf: changed"
	[ "$(stat -c %a $conf)" = 644 ] || fail "mode $mode became $(stat -c %a $conf), not 644"
	[ "$(stat -c %i $conf)" = "$before" ] || fail "the file was replaced, not given its mode"
	file_is $conf "$(text 600 75 9)"
	run 0 persist --time 600
	out_has "$conf: unchanged"
done
# --remove leaves the mode of a file it leaves alone.
printf 'kernel.pid_max = 65536\n' >$conf
chmod 600 $conf
run 0 persist --remove
out_is "$conf: unchanged"
[ "$(stat -c %a $conf)" = 600 ] || fail "--remove changed the mode of a file it left"

t_persist "a changed value is updated in place and reported"
run 0 persist --time 600
run 0 persist --time 900
out_has "net.ipv4.tcp_keepalive_time: 600 -> 900"
out_has "$conf: changed"
file_is $conf "$(text 900 75 9)"

t_persist "foreign lines are kept byte for byte, our keys assigned exactly once"
printf '# local settings\r\n\nkernel.pid_max = 65536\n; old comment\n' >$conf
printf '  -net/ipv4/tcp_keepalive_probes\t=  3 \nnet.ipv4.tcp_keepalive_time=5\n' >>$conf
printf 'net.ipv4.tcp_keepalive_* = 77\nnet.ipv4.tcp_keepalive_time = 6' >>$conf
run 0 persist --time 600 --intvl 60 --probes 7
out_has "net.ipv4.tcp_keepalive_time: 6 -> 600"
out_has "net.ipv4.tcp_keepalive_intvl: 60 added"
out_has "net.ipv4.tcp_keepalive_probes: 3 -> 7"
expect=$(printf '%s\n# local settings\r\n\nkernel.pid_max = 65536\n; old comment\n' "$header"
    printf -- '-net.ipv4.tcp_keepalive_probes = 7\nnet.ipv4.tcp_keepalive_time = 600\n'
    printf 'net.ipv4.tcp_keepalive_* = 77\nnet.ipv4.tcp_keepalive_intvl = 60')
file_is $conf "$expect"
for k in time intvl probes; do
	n=$(grep -c "^-\{0,1\}net.ipv4.tcp_keepalive_$k = " $conf)
	[ "$n" -eq 1 ] || fail "tcp_keepalive_$k assigned $n times"
done

t_persist "old values are the last assignment, as the kernel reads it, or shown as written"
printf 'net.ipv4.tcp_keepalive_time = abc\nnet.ipv4.tcp_keepalive_intvl = 075\n' >$conf
printf 'net.ipv4.tcp_keepalive_probes = 3\nnet.ipv4.tcp_keepalive_probes = 9\r\n' >>$conf
run 0 persist --time 600 --intvl 61 --probes 9
out_is "net.ipv4.tcp_keepalive_time: 'abc' -> 600
net.ipv4.tcp_keepalive_intvl: 61 unchanged
net.ipv4.tcp_keepalive_probes: 9 unchanged
$conf: changed"
file_is $conf "$(text 600 61 9)"
printf 'net.ipv4.tcp_keepalive_time = 0600\nnet.ipv4.tcp_keepalive_intvl = \033[2J\n' >$conf
run 0 persist --time 600 --intvl 60 --probes 9
out_has "net.ipv4.tcp_keepalive_time: 384 -> 600"
out_has "net.ipv4.tcp_keepalive_intvl: '\\033[2J' -> 60"

t_persist "a leading '-' of a line updated in place is kept"
printf -- '-net.ipv4.tcp_keepalive_intvl = 75\n' >$conf
run 0 persist --time 600 --intvl 60 --probes 9
out_has "net.ipv4.tcp_keepalive_intvl: 75 -> 60"
expect=$(printf '%s\n-net.ipv4.tcp_keepalive_intvl = 60\n' "$header"
    printf 'net.ipv4.tcp_keepalive_time = 600\nnet.ipv4.tcp_keepalive_probes = 9')
file_is $conf "$expect"
run 0 persist --time 600 --intvl 60 --probes 9
out_has "$conf: unchanged"

t_persist "a header line without its newline, or with CRLF, is still ours"
printf '%s\r\nkernel.pid_max = 65536\n%s' "$header" "$header" >$conf
run 0 persist --time 600
file_is $conf "$(printf '%s\nkernel.pid_max = 65536\n' "$header"; text 600 75 9 | tail -n 3)"
[ "$(grep -c '^# ka-tune' $conf)" -eq 1 ] || fail "header not exactly once"

t_persist "--remove takes our keys out and keeps the rest"
printf 'kernel.pid_max = 65536\n' >$conf
run 0 persist --time 600
run 0 persist --remove
out_has "net.ipv4.tcp_keepalive_time: removed"
out_has "$conf: changed"
file_is $conf "kernel.pid_max = 65536"

t_persist "--remove deletes a file that holds nothing else; again is unchanged"
run 0 persist
run 0 persist --remove
out_has "$conf: removed"
[ ! -e $conf ] || fail "$conf still exists"
run 0 persist --remove
out_is "$conf: unchanged"

t_persist "--dry-run prints the new content and writes nothing"
run 0 persist --dry-run --time 600
out_is "$(text 600 75 9)"
err_has "net.ipv4.tcp_keepalive_time: 600 added"
err_has "dry run: $conf would be changed; nothing written"
[ ! -e $conf ] || fail "--dry-run wrote $conf"
run 0 persist
before=$(stamp $conf)
run 0 persist --dry-run --remove
out_empty
err_has "would be removed"
[ "$(stamp $conf)" = "$before" ] || fail "--dry-run --remove touched $conf"

# applies FILE T I P: both loaders, each in a fresh network namespace, set these from FILE
# (systemd-sysctl FILE, sysctl -p FILE; their complaints about other lines do not matter).
applies() {
	file=$1
	shift
	for cmd in "$systemd_sysctl $file" "sysctl -q -p $file"; do
		got=$(unshare -n sh -c "$cmd >/dev/null 2>&1; cat $ipv4/tcp_keepalive_time \
		    $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_probes" | tr '\n' ' ')
		[ "$got" = "$* " ] || fail "${cmd%% *} applies '$got' from $file, not '$*'"
	done
}

t_persist "lines a loader reads as a key, in any spelling, are the key's: both apply what is persisted"
{
	printf '# local\nnet.ipv4.tcp_keepalive_time = 100\nkernel.x\0y = 1\n'
	printf 'net.ipv4.tcp_keepalive_time = 5\0\n'			# NUL: systemd ends the line
	printf '\rnet.ipv4.tcp_keepalive_probes = 5\n'			# lone CR: a line of its own
	printf 'net.ipv4..tcp_keepalive_intvl = 5\n'			# doubled separator
	printf 'net/ipv4//tcp_keepalive_probes = 5\n'
	printf 'net/ipv4/../ipv4/tcp_keepalive_time = 5\n'		# procps opens it
	printf '\vnet.ipv4.tcp_keepalive_intvl = 5\n'			# white space to procps
	printf 'net.ipv4.tcp_keepalive_probes\f = 5\n'
	printf -- '--net.ipv4.tcp_keepalive_time = 5\n'			# procps drops two '-'
	printf -- '-net.ipv4.tcp_keepalive_intvl\n'			# systemd: no value at all
} >$conf
run 0 persist --time 600 --intvl 60 --probes 6
out_has "$conf: changed"
err_empty
{
	printf '%s\n# local\nnet.ipv4.tcp_keepalive_time = 600\nkernel.x\0y = 1\n' "$header"
	printf 'net.ipv4.tcp_keepalive_probes = 6\nnet.ipv4.tcp_keepalive_intvl = 60\n'
} >"$tmp/expect"
cmp -s $conf "$tmp/expect" || fail "$conf is not what was expected: $(od -c $conf)"
applies $conf 600 60 6
run 0 persist --time 600 --intvl 60 --probes 6
out_has "$conf: unchanged"

t_persist "a line split by a NUL or a lone CR, part a key's, is refused with its file:line"
for line in 'kernel.x = 1\rnet.ipv4.tcp_keepalive_time = 5' \
    'net.ipv4.tcp_keepalive_time = 5\0# note' 'junk\0net.ipv4.tcp_keepalive_time = 5'; do
	printf "# a\n$line\n" >$conf
	before=$(stamp $conf)
	run 1 persist --time 600
	err_is "ka-tune: $conf:2: a loader reads part of this line as net.ipv4.tcp_keepalive_time, and a NUL byte or a carriage return splits it from the rest; ka-tune does not edit such a line: fix it by hand"
	out_empty
	[ "$(stamp $conf)" = "$before" ] || fail "the file was touched"
	run 1 persist --remove
	run 1 persist --dry-run
	out_empty
done

t_persist "a glob procps would apply after persist's line is refused; a plain glob is kept"
printf 'net.ipv4.tcp_keepalive_time = 7\nnet//ipv4/tcp_keepalive_* = 5\n' >$conf
run 1 persist --time 600
err_is "ka-tune: $conf:2: procps would apply this line to net.ipv4.tcp_keepalive_time instead of the one ka-tune writes; fix the line by hand"
printf 'net.ipv4.tcp_keepalive_time = 7\nnet.ipv4.tcp_keepalive_* = 5\n' >$conf
run 0 persist --time 600 --intvl 60 --probes 6
applies $conf 600 60 6

t_persist "a glob in the file draws no warning: the line persist writes is the one that applies"
printf 'net.ipv4.tcp_keepalive_* = 5\n' >$conf
run 0 persist --time 600
err_empty
mount -t tmpfs none /run && mkdir -p /run/systemd/system || fail "cannot fake a systemd /run"
run 0 persist --time 600
err_empty
umount /run

t_persist "persist warns when a file that loads later overrides a key it wrote"
printf 'net.ipv4.tcp_keepalive_time = 1200\n' >/etc/sysctl.d/99-later.conf
run 0 persist --time 600
out_has "$conf: changed"
err_has "warning: net.ipv4.tcp_keepalive_time: /etc/sysctl.d/99-later.conf:1 loads later and sets 1200; the value persisted here does not apply at boot"
grep -q intvl "$err" && fail "warned about a key nothing overrides"
printf 'net.ipv4.tcp_keepalive_time = soon\n' >/etc/sysctl.d/99-later.conf
run 0 persist --time 600		# procps: the refused line leaves 600 in place
err_empty
mount -t tmpfs none /run && mkdir -p /run/systemd/system || fail "cannot fake a systemd /run"
run 0 persist --time 600		# systemd: only the last assignment is written, and refused
err_has "warning: net.ipv4.tcp_keepalive_time: the value persisted here does not apply at boot (systemd): a later line the kernel refuses replaces it; the kernel default 7200 stays"
umount /run
rm /etc/sysctl.d/99-later.conf
run 0 persist --time 600
err_empty

t_persist "the override is found however --file names the file, and the file the loader reads"
printf 'net.ipv4.tcp_keepalive_time = 1200\n' >/etc/sysctl.d/99-later.conf
for spelling in /etc//sysctl.d/50-a.conf /etc/sysctl.d/./50-b.conf 50-c.conf; do
	(cd /etc/sysctl.d && "$bin" persist --file "$spelling" --time 600) >"$out" 2>"$err" ||
	    fail "persist --file $spelling failed"
	err_has "warning: net.ipv4.tcp_keepalive_time: /etc/sysctl.d/99-later.conf:1 loads later and sets 1200"
done
rm /etc/sysctl.d/99-later.conf

t_persist "a file in a place the loader does not read is written, with a warning"
run 0 persist --file "$tmp/elsewhere.conf" --time 600
err_is "ka-tune: warning: $tmp/elsewhere.conf: procps does not read this file at boot (it reads *.conf in the sysctl.d directories of sysctl.d(5))"
run 0 persist --file /etc/sysctl.d/.hidden.conf --time 600	# procps reads hidden files
err_empty
mount -t tmpfs none /run && mkdir -p /run/systemd/system || fail "cannot fake a systemd /run"
run 0 persist --file /etc/sysctl.d/.hidden.conf --time 600	# systemd does not
err_has "warning: /etc/sysctl.d/.hidden.conf: systemd does not read this file at boot"
umount /run

t_persist "a file the boot model cannot read may override: persist says so"
awk 'BEGIN { for (i = 0; i < 44000; i++) print "# padding padding padding"
    print "net.ipv4.tcp_keepalive_time = 5" }' >/etc/sysctl.d/98-big.conf
run 0 persist --time 601
err_has "warning: /etc/sysctl.d/98-big.conf: cannot read: larger than 1 MiB"
err_has "the boot values may be wrong"
rm /etc/sysctl.d/98-big.conf

t_persist "a file hidden by one of the same name in an earlier directory is said to be hidden"
mount -t tmpfs none /run && mkdir -p /run/sysctl.d || fail "cannot make a /run/sysctl.d"
printf 'net.ipv4.tcp_keepalive_time = 900\n' >/etc/sysctl.d/40-x.conf
run 0 persist --file /run/sysctl.d/40-x.conf --time 600
err_has "warning: net.ipv4.tcp_keepalive_time: the file is hidden by one of the same name in an earlier directory, /etc/sysctl.d/40-x.conf, whose line 1 sets 900"
umount /run

# --- other targets -------------------------------------------------------------------------

t_persist "--root writes under an image tree, creating the directories below it"
mkdir "$tmp/image"
run 0 persist --root "$tmp/image" --time 600
file_is "$tmp/image/etc/sysctl.d/90-ka-tune.conf" "$(text 600 75 9)"
out_has "$tmp/image/etc/sysctl.d/90-ka-tune.conf: changed"
[ ! -e $conf ] || fail "--root also wrote $conf"

t_persist "--root makes missing directories 0755 whatever the umask"
mkdir -p "$tmp/image/x"
(umask 077 && "$bin" persist --root "$tmp/image/x" --time 600 >"$out" 2>"$err") ||
    fail "persist --root under umask 077 failed"
for d in "$tmp/image/x/etc" "$tmp/image/x/etc/sysctl.d"; do
	[ "$(stat -c %a "$d")" = 755 ] || fail "$d has mode $(stat -c %a "$d"), not 755"
done
mkdir -m 700 "$tmp/image/y"
(umask 077 && "$bin" persist --root "$tmp/image/y" --time 600 >"$out" 2>"$err") ||
    fail "persist --root under umask 077 failed"
[ "$(stat -c %a "$tmp/image/y")" = 700 ] || fail "an existing root's mode was changed"
rm -rf "$tmp/image"

t_persist "--root follows no symbolic link inside the image"
mkdir -p "$tmp/image/etc"
ln -s /etc/sysctl.d "$tmp/image/etc/sysctl.d"
run 1 persist --root "$tmp/image" --time 600
err_is "ka-tune: $tmp/image/etc/sysctl.d: is a symbolic link; --root does not follow links inside $tmp/image: they may lead out of it"
out_empty
run 1 persist --root "$tmp/image" --dry-run
err_has "is a symbolic link"
run 1 persist --root "$tmp/image" --remove
err_has "is a symbolic link"
[ -z "$(ls -A /etc/sysctl.d)" ] || fail "wrote through the link to /etc/sysctl.d"
rm -rf "$tmp/image/etc"
ln -s /etc "$tmp/image/etc"
run 1 persist --root "$tmp/image" --time 600
err_has "$tmp/image/etc: is a symbolic link"
[ -z "$(ls -A /etc/sysctl.d)" ] || fail "wrote through the link to /etc"
# The root itself is named by the user: a link there is followed.
rm "$tmp/image/etc"
ln -s "$tmp/image" "$tmp/imagelink"
run 0 persist --root "$tmp/imagelink" --time 600
out_has "$tmp/imagelink/etc/sysctl.d/90-ka-tune.conf: changed"
file_is "$tmp/image/etc/sysctl.d/90-ka-tune.conf" "$(text 600 75 9)"
rm -rf "$tmp/image" "$tmp/imagelink"

t_persist "a --root that does not exist is refused, whatever the run, and nothing is made"
for args in "--time 600" "--dry-run" "--remove" "--remove --dry-run"; do
	run 1 persist --root "$tmp/imagf" $args
	err_is "ka-tune: $tmp/imagf: no such directory: --root names an image tree that exists (the directories below it are made)"
	out_empty
	[ ! -e "$tmp/imagf" ] || fail "persist --root $tmp/imagf $args made it"
done
mkdir -p "$tmp/image"
run 1 persist --root "$tmp/image/sub/deeper" --time 600
err_has "$tmp/image/sub: no such directory"
[ -z "$(ls -A "$tmp/image")" ] || fail "made something in $tmp/image"
rm -rf "$tmp/image"

t_persist "--remove --root creates nothing; a missing directory has nothing to remove"
mkdir -p "$tmp/image/etc"
run 0 persist --remove --root "$tmp/image"
out_is "$tmp/image/etc/sysctl.d/90-ka-tune.conf: unchanged"
[ ! -e "$tmp/image/etc/sysctl.d" ] || fail "--remove created $tmp/image/etc/sysctl.d"
run 0 persist --dry-run --root "$tmp/image" --time 600
err_has "would be changed"
[ ! -e "$tmp/image/etc/sysctl.d" ] || fail "--dry-run created $tmp/image/etc/sysctl.d"
rm -rf "$tmp/image"

t_persist "--root / is the real root, and trailing slashes are not shown"
run 0 persist --root / --time 600
[ "$(tail -n 1 "$out")" = "$conf: changed" ] || fail "the last line is not: $conf: changed"
file_is $conf "$(text 600 75 9)"
run 0 persist --root /// --time 600
[ "$(tail -n 1 "$out")" = "$conf: unchanged" ] || fail "the last line is not: $conf: unchanged"
mkdir "$tmp/image"
run 0 persist --root "$tmp/image//" --time 600
out_has "$tmp/image/etc/sysctl.d/90-ka-tune.conf: changed"
rm -rf "$tmp/image"

t_persist "--file names another target"
run 0 persist --file "$tmp/other.conf" --probes 3
file_is "$tmp/other.conf" "$(text 7200 75 3)"
run 1 persist --file "$tmp/no/such/dir/x.conf"
err_has "$tmp/no: cannot open: No such file or directory"

t_persist "--file with a name no loader reads is written, with a warning"
run 0 persist --file "$tmp/x.txt" --time 600
err_is "ka-tune: warning: $tmp/x.txt: the name does not end in .conf: no loader reads it at boot"
out_has "$tmp/x.txt: changed"
file_is "$tmp/x.txt" "$(text 600 75 9)"
run 0 persist --file "$tmp/x.txt" --remove
err_empty

t_persist "a symlinked target is refused, the link and its target kept"
printf 'kernel.pid_max = 65536\n' >"$tmp/real.conf"
ln -s "$tmp/real.conf" $conf
run 1 persist
err_has "$conf: cannot read: is a symbolic link"
[ -L $conf ] || fail "the symlink was replaced"
file_is "$tmp/real.conf" "kernel.pid_max = 65536"

t_persist "a directory in the target's place is refused"
mkdir $conf
run 1 persist
err_has "is a directory"

# --- refusals and failures -----------------------------------------------------------------

t_persist "bad values and bad usage exit 2 and write nothing"
run 2 persist --time 0
err_has "--time: '0' is out of range; accepted 1..32767 seconds"
run 2 persist --probes 1x
run 2 persist --remove --time 5
err_has "--remove takes no values"
run 2 persist --file a --root b
err_has "exclude each other"
run 2 persist --root ""
run 2 persist extra
[ -z "$(ls -A /etc/sysctl.d)" ] || fail "a refused run wrote to /etc/sysctl.d"

t_persist "--help wins over a bad value given before it, in persist and set"
for cmd in persist set; do
	run 0 $cmd --time 0 --help
	out_has "usage: ka-tune"
	err_empty
	run 0 $cmd --probes x --intvl 5 -h
	out_has "usage: ka-tune"
	err_empty
	# Every value given must still be valid, whichever comes last.
	run 2 $cmd --time 0 --time 5 --dry-run
	err_has "--time: '0' is out of range"
	run 2 $cmd --time 5 --time 0 --dry-run
	err_has "--time: '0' is out of range"
done
[ -z "$(ls -A /etc/sysctl.d)" ] || fail "a refused run wrote to /etc/sysctl.d"
values_are 7200 75 9

t_persist "a running value outside the accepted range is not persisted"
echo 0 >$ipv4/tcp_keepalive_time
run 2 persist
err_has "net.ipv4.tcp_keepalive_time: the running kernel holds 0, outside 1..32767; give --time"
[ ! -e $conf ] || fail "wrote $conf"
run 0 persist --time 600
file_is $conf "$(text 600 75 9)"

t_persist "a failed rename leaves the old file and no temp file"
run 0 persist --time 600
before=$(stamp $conf)
traced -e trace=/^rename -e inject=/^rename:error=EIO "$bin" persist --time 900 \
    >"$out" 2>"$err"
[ $? -eq 1 ] || fail "persist with a failing rename did not exit 1"
err_has "$conf: cannot write: Input/output error"
out_empty
[ "$(stamp $conf)" = "$before" ] || fail "the old file was touched"
file_is $conf "$(text 600 75 9)"
no_temp_files /etc/sysctl.d

t_persist "a failed fsync leaves the old file and no temp file"
run 0 persist --time 600
traced -e trace=fsync -e inject=fsync:error=EIO:when=1 "$bin" persist \
    --time 900 >"$out" 2>"$err"
[ $? -eq 1 ] || fail "persist with a failing fsync did not exit 1"
err_has "cannot write: Input/output error"
file_is $conf "$(text 600 75 9)"
no_temp_files /etc/sysctl.d

t_persist "a failed fsync of the directory: the new file is in place, and persist says so"
run 0 persist --time 600
# The first fsync is the temp file's, the second the directory's.
traced -e trace=fsync -e inject=fsync:error=EIO:when=2 "$bin" persist \
    --time 900 >"$out" 2>"$err"
[ $? -eq 1 ] || fail "persist with a failing directory fsync did not exit 1"
err_is "ka-tune: $conf: written, but syncing /etc/sysctl.d failed: Input/output error; the new file may not survive a crash"
out_is "net.ipv4.tcp_keepalive_time: 600 -> 900
net.ipv4.tcp_keepalive_intvl: 75 unchanged
net.ipv4.tcp_keepalive_probes: 9 unchanged
$conf: changed"
file_is $conf "$(text 900 75 9)"
no_temp_files /etc/sysctl.d
traced -e trace=fsync -e inject=fsync:error=EIO:when=1 "$bin" persist \
    --remove >"$out" 2>"$err"
[ $? -eq 1 ] || fail "persist --remove with a failing directory fsync did not exit 1"
err_is "ka-tune: $conf: deleted, but syncing /etc/sysctl.d failed: Input/output error; the file may come back after a crash"
out_has "$conf: removed"
[ ! -e $conf ] || fail "$conf was not deleted"

t_persist "a failed unlink of --remove says it could not remove the file"
run 0 persist --time 600
traced -e trace=unlink,unlinkat -e inject=unlink,unlinkat:error=EIO "$bin" persist --remove \
    >"$out" 2>"$err"
[ $? -eq 1 ] || fail "persist --remove with a failing unlink did not exit 1"
err_is "ka-tune: $conf: cannot remove: Input/output error"
out_empty
file_is $conf "$(text 600 75 9)"

t_persist "a failed write (disk full) leaves the old file and no temp file"
run 0 persist --time 600
traced -e trace=write -e inject=write:error=ENOSPC:when=1 "$bin" persist \
    --time 900 >"$out" 2>"$err"
[ $? -eq 1 ] || fail "persist with a failing write did not exit 1"
err_has "cannot write: No space left on device"
file_is $conf "$(text 600 75 9)"
no_temp_files /etc/sysctl.d

t_persist "stale temp files of a killed run are removed before writing, others kept"
run 0 persist --time 600
for f in .90-ka-tune.conf.AbC123 .90-ka-tune.conf.zz9999 .90-ka-tune.conf.ABCDEFG \
    .90-ka-tune.conf.AB_DEF .90-ka-tune.conf.AB12 x.90-ka-tune.conf.ABCDEF .other.conf.ABCDEF; do
	echo stale >/etc/sysctl.d/$f
done
run 0 persist --time 600		# nothing to write: nothing removed
[ -e /etc/sysctl.d/.90-ka-tune.conf.AbC123 ] || fail "a run that wrote nothing removed files"
run 0 persist --time 900
left=$(cd /etc/sysctl.d && LC_ALL=C ls -A | tr '\n' ' ')
[ "$left" = ".90-ka-tune.conf.AB12 .90-ka-tune.conf.ABCDEFG .90-ka-tune.conf.AB_DEF .other.conf.ABCDEF 90-ka-tune.conf x.90-ka-tune.conf.ABCDEF " ] ||
    fail "left in /etc/sysctl.d: $left"

t_persist "SIGTERM while the temp file exists waits until it is renamed"
run 0 persist --time 600
# strace sends the signal as the temp file's fsync begins: while the temp file exists, whatever
# the machine's speed. persist must finish the rename, then die of the signal before it prints.
traced -e trace=fsync -e inject=fsync:signal=TERM:when=1 "$bin" persist --time 900 \
    >"$out" 2>"$err"
rc=$?
[ $rc -eq 143 ] || fail "persist exited $rc, not 143: not killed by the SIGTERM"
file_is $conf "$(text 900 75 9)"
no_temp_files /etc/sysctl.d
out_empty

t_persist "a read-only /etc/sysctl.d fails with exit 1 and says so"
run 0 persist --time 600
mount -o remount,ro /etc/sysctl.d || fail "cannot remount read-only"
run 1 persist --time 900
err_has "$conf: cannot write: read-only file system"
mount -o remount,rw /etc/sysctl.d
file_is $conf "$(text 600 75 9)"

t_persist "a user who is not root is told so"
run 0 persist --time 600
as_nobody 1 persist --time 900
err_has "$conf: cannot write: permission denied (writing it needs root)"
file_is $conf "$(text 600 75 9)"
no_temp_files /etc/sysctl.d

# A lock holder still running when the script ends (a failure, an interrupt) is stopped too.
holder=
trap '[ -z "$holder" ] || kill $holder 2>/dev/null; rm -rf "$tmp"' EXIT

# hold_lock [WRAPPER...]: a background process (under WRAPPER, such as setpriv) takes the lock
# on /etc/sysctl.d and holds it until it is killed; hold_lock returns once it holds it. Sets
# $holder to its pid: flock --no-fork becomes sh, then sleep, so the one process holds the lock
# and killing it lets it go.
hold_lock() {
	new_fifo
	"$@" flock --no-fork /etc/sysctl.d sh -c 'echo locked; exec sleep 600 >/dev/null 2>&1' \
	    >"$fifo" 2>&1 &
	holder=$!
	await locked "$fifo" "$tmp/holder" ||
	    fail "the lock holder did not start: $(cat "$tmp/holder")"
}
# let_go: the holder dies, and with it its lock.
let_go() {
	kill $holder
	wait $holder 2>/dev/null
	holder=
}

t_persist "a lock held by another user is waited for 10 s, then persist gives up"
hold_lock setpriv --reuid=65534 --regid=65534 --clear-groups
start=$(uptime_ms)
run 1 persist --time 600
took=$(($(uptime_ms) - start))
err_is "ka-tune: /etc/sysctl.d: timed out after 10 s waiting for the lock (another ka-tune persist, or a process holding flock on /etc/sysctl.d)"
out_empty
# At least the 10 s (less /proc/uptime's step); the upper bound only tells 10 s from much longer,
# and leaves a loaded machine time to start and stop ka-tune.
[ $took -ge 9990 ] && [ $took -le 20000 ] || fail "gave up after $took ms, not 10 s"
[ ! -e $conf ] || fail "wrote $conf without the lock"
let_go

t_persist "a lock let go within the 10 s is waited for"
hold_lock
# strace shows when persist has found the lock taken; its output comes through a FIFO that this
# shell also holds open (fd 3), so that strace may write on after the handshake with no reader.
new_fifo
exec 3<>"$fifo"
ASAN_OPTIONS=$no_lsan strace -o "$fifo" -e trace=flock "$bin" persist --time 600 \
    >"$out" 2>"$err" &
tracer=$!
await '*EAGAIN*' "$fifo" "$tmp/trace" ||
    fail "persist did not find the lock taken: $(cat "$tmp/trace")"
[ ! -e $conf ] || fail "wrote $conf while the lock was held"
let_go
wait $tracer
rc=$?
exec 3<&-
[ $rc -eq 0 ] || fail "persist exited $rc once the lock was let go"
out_has "$conf: changed"
err_empty

t_persist "outside /etc, a refusal is only a refusal: nothing about root"
mkdir -m 755 "$tmp/ro"
as_nobody 1 persist --file "$tmp/ro/x.conf" --time 600
err_is "ka-tune: $tmp/ro/x.conf: cannot write: permission denied"
mkdir -m 755 "$tmp/ro/image"
as_nobody 1 persist --root "$tmp/ro/image" --time 600
err_is "ka-tune: $tmp/ro/image/etc: cannot open or create: permission denied"
[ "$(ls -A "$tmp/ro")" = image ] && [ -z "$(ls -A "$tmp/ro/image")" ] || fail "wrote to $tmp/ro"

t_persist "20 concurrent runs leave one valid file, no duplicates and no temp files"
printf 'kernel.pid_max = 65536\n' >$conf
i=1
while [ $i -le 20 ]; do
	"$bin" persist --time $((100 + i)) --probes $((i % 9 + 1)) >/dev/null 2>"$tmp/err.$i" &
	i=$((i + 1))
done
wait
cat "$tmp"/err.* >"$err"
err_empty
[ "$(grep -c '^kernel.pid_max = 65536$' $conf)" -eq 1 ] || fail "foreign line lost or doubled"
[ "$(grep -cxF "$header" $conf)" -eq 1 ] || fail "header not exactly once"
for k in time intvl probes; do
	n=$(grep -c "^net.ipv4.tcp_keepalive_$k = " $conf)
	[ "$n" -eq 1 ] || fail "tcp_keepalive_$k assigned $n times"
done
[ "$(wc -l <$conf)" -eq 5 ] || fail "$conf has $(wc -l <$conf) lines, not 5"
no_temp_files /etc/sysctl.d
sysctl -q -p $conf || fail "the result does not load"

done_testing
