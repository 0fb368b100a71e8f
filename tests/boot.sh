#!/bin/sh
# tests/boot.sh: ka-tune show --boot against the real loaders, on random sysctl.d trees. In a
# private mount namespace every directory the loaders read gets a tmpfs and /etc/sysctl.conf a
# bind mount; each tree is then applied by systemd-sysctl and by procps sysctl --system, each in
# a fresh network namespace, and the values they leave must be what ka-tune predicted.
# usage: sh tests/boot.sh path/to/ka-tune     (KT_BOOT_TREES trees of each kind, default 150)
set -u

. "$(dirname "$0")/lib.sh"

here=$(dirname "$script")
trees=${KT_BOOT_TREES:-150}
systemd_sysctl=/lib/systemd/systemd-sysctl
dirs="/etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d"

# Give each directory a tmpfs of its own; one that does not exist gets it on its parent, so
# that nothing is ever created on the host's disk.
for d in $dirs; do
	if [ -d "$d" ]; then
		mountpoint -q "$d" || mount -t tmpfs -o mode=0755 none "$d" || exit 1
	else
		mount -t tmpfs -o mode=0755 none "$(dirname "$d")" && mkdir "$d" || exit 1
	fi
done
: >"$tmp/sysctl.conf"
mount --bind "$tmp/sysctl.conf" /etc/sysctl.conf || exit 1

# Never let a loader near the host's files: every directory must be a fresh tmpfs.
guard() {
	for d in $dirs; do
		[ "$(stat -f -c %T "$d")" = tmpfs ] ||
		    { echo "FAIL: $name: $d is not a tmpfs, stopping" >&2; exit 1; }
	done
	[ "$(stat -c %i /etc/sysctl.conf)" = "$(stat -c %i "$tmp/sysctl.conf")" ] ||
	    { echo "FAIL: $name: /etc/sysctl.conf is not the test's, stopping" >&2; exit 1; }
}

clear_tree() {
	for d in $dirs; do
		find "$d" -mindepth 1 -delete
	done
	: >/etc/sysctl.conf
}

# applied LOADER: the three values a fresh network namespace has after the loader ran.
applied() {
	guard
	if [ "$1" = systemd ]; then
		cmd=$systemd_sysctl
	else
		cmd="sysctl -q --system"
	fi
	unshare -n sh -c "$cmd >/dev/null 2>&1; cat $ipv4/tcp_keepalive_time \
	    $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_probes" | tr '\n' ' '
}

# predicted LOADER: what ka-tune says the same loader sets.
predicted() {
	"$bin" show --boot --loader "$1" --sysctl 2>"$err" | awk '{ printf "%s ", $3 }'
}

show_tree() {
	for f in $(find $dirs /etc/sysctl.conf -maxdepth 1 \( -type f -o -type l \) | sort); do
		echo "--- $f"
		cat -A "$f" 2>&1
	done
}

[ -x $systemd_sysctl ] || { echo "FAIL: $name: no $systemd_sysctl" >&2; exit 1; }

for rejected in 0 1; do
	agree_systemd=0
	agree_procps=0
	moved=0
	i=1
	while [ $i -le "$trees" ]; do
		clear_tree
		awk -v seed=$((i * 2 + rejected)) -v rejected=$rejected -f "$here/gen-tree.awk"
		for loader in systemd procps; do
			want=$(applied $loader)
			got=$(predicted $loader)
			[ "$want" = "7200 75 9 " ] || moved=$((moved + 1))
			if [ "$want" = "$got" ]; then
				eval "agree_$loader=\$((agree_$loader + 1))"
			else
				current="tree $i (rejected values: $rejected), $loader"
				fail "$loader applied '$want', ka-tune predicted '$got'"
				show_tree >&2
			fi
		done
		i=$((i + 1))
	done
	kind=$([ $rejected = 1 ] && echo "with rejected values" || echo "valid values only")
	echo "$name: $trees trees, $kind: systemd $agree_systemd/$trees agree," \
	    "procps $agree_procps/$trees agree ($moved of $((trees * 2)) runs moved a value)"
	# A model that always said "kernel default" would agree with loaders that did nothing.
	[ "$moved" -ge "$trees" ] || { current="tree kinds"; fail "too few runs moved a value"; }
	passed=$((passed + agree_systemd + agree_procps))
done
clear_tree

t "show --boot reports the file:line that sets a key and what it overrides"
printf 'net.ipv4.tcp_keepalive_time = 300\n' >/usr/lib/sysctl.d/50-vendor.conf
printf '# local\nnet.ipv4.tcp_keepalive_time = 600\nnet.ipv4.tcp_keepalive_probes = abc\n' \
    >/etc/sysctl.d/60-local.conf
run 0 show --boot --loader systemd
out_has "loader: systemd"
out_has "net.ipv4.tcp_keepalive_time   = 600  from /etc/sysctl.d/60-local.conf:2  (running 7200: differs)"
out_has "    overridden   /usr/lib/sysctl.d/50-vendor.conf:1: net/ipv4/tcp_keepalive_time = 300"
out_has "net.ipv4.tcp_keepalive_probes = 9  kernel default  (running: same)"
out_has "    rejected     /etc/sysctl.d/60-local.conf:3: net/ipv4/tcp_keepalive_probes = abc"
run 0 show --boot --loader systemd --json
out_has '"time": {"boot": 600, "from": {"file": "/etc/sysctl.d/60-local.conf", "line": 2}, "running": 7200,'

t "check: exit 0 when running equals boot, 1 naming the drifting key and its file:line"
run 1 check --loader systemd
out_has "net.ipv4.tcp_keepalive_time: running 7200, boot 600 (/etc/sysctl.d/60-local.conf:2)"
out_has "drift:"
echo 600 >$ipv4/tcp_keepalive_time
run 0 check --loader procps
out_has "ok: the running values are what procps sets at boot"
run 2 check --loader nosuch
err_has "--loader: 'nosuch' is not a loader; accepted: systemd, procps"
run 2 check extra
clear_tree

t "/etc/sysctl.conf: procps reads it last, systemd only through 99-sysctl.conf"
printf 'net.ipv4.tcp_keepalive_intvl = 33\n' >/etc/sysctl.conf
printf 'net.ipv4.tcp_keepalive_intvl = 44\n' >/etc/sysctl.d/98-local.conf
run 0 show --boot --loader procps --sysctl
out_has "net.ipv4.tcp_keepalive_intvl = 33"
run 0 show --boot --loader systemd --sysctl
out_has "net.ipv4.tcp_keepalive_intvl = 44"
ln -s ../sysctl.conf /etc/sysctl.d/99-sysctl.conf
run 0 show --boot --loader systemd --sysctl
out_has "net.ipv4.tcp_keepalive_intvl = 33"
clear_tree

# opened_for_reading NAME ARGS...: run ka-tune ARGS under strace, and print each open of a path
# ending in NAME that asked for more than O_PATH: an open that reads, blocks, or wakes a device.
opened_for_reading() {
	pattern=$1
	shift
	ASAN_OPTIONS=$no_lsan strace -f -qq -e trace=open,openat,openat2 -o "$tmp/trace" \
	    "$bin" "$@" >"$out" 2>"$err"
	grep -F -- "$pattern\"" "$tmp/trace" | grep -v O_PATH
}

t "show --boot opens no FIFO and no device named *.conf for reading; it says so"
mkfifo /etc/sysctl.d/50-fifo.conf
mknod /etc/sysctl.d/51-zero.conf c 1 5
mkdir -p "$tmp/img/etc/sysctl.d"
mkfifo "$tmp/img/etc/sysctl.d/50-fifo.conf"
mknod "$tmp/img/etc/sysctl.d/51-zero.conf" c 1 5
for loader in systemd procps; do
	for root in "" "$tmp/img"; do
		for f in 50-fifo.conf 51-zero.conf; do
			opened=$(opened_for_reading "/$f" show --boot --loader $loader \
			    ${root:+--root "$root"})
			[ -z "$opened" ] || fail "$loader ${root:-/}: opened $f: $opened"
			err_has "warning: /etc/sysctl.d/$f: cannot read: not a regular file; the boot values may be wrong"
		done
		out_has "net.ipv4.tcp_keepalive_time   = 7200  kernel default"
	done
done
rm -rf "$tmp/img"
clear_tree

t "check: a file that could not be read makes the boot values uncertain: not ok, exit 1"
mkfifo /etc/sysctl.d/50-fifo.conf
run 1 check --loader procps
err_has "warning: /etc/sysctl.d/50-fifo.conf: cannot read: not a regular file"
out_is "unknown: the running values are what procps sets at boot from the files ka-tune could read, but 1 could not be read"
echo 600 >$ipv4/tcp_keepalive_time
run 1 check --loader systemd
out_has "net.ipv4.tcp_keepalive_time: running 600, boot 7200 (kernel default)"
out_has "drift:"
clear_tree
reset
run 0 check --loader procps
out_has "ok:"

t "a link that loops is skipped with a warning, as the loaders skip it and say so"
ln -s 50-loop.conf /etc/sysctl.d/50-loop.conf
printf 'net.ipv4.tcp_keepalive_probes = 4\n' >/usr/lib/sysctl.d/50-loop.conf
for loader in systemd procps; do
	run 0 show --boot --loader $loader --sysctl
	err_is "ka-tune: warning: /etc/sysctl.d/50-loop.conf: cannot open: too many levels of symbolic links ($loader skips it too)"
	out_has "net.ipv4.tcp_keepalive_probes = 9"
	[ "$(applied $loader)" = "7200 75 9 " ] || fail "$loader did not skip the loop"
done
sysctl --system 2>&1 >/dev/null | grep -qF 'cannot open "/etc/sysctl.d/50-loop.conf"' ||
    fail "procps says nothing of the loop"
run 0 check --loader procps
out_has "ok:"
clear_tree

t "--root: etc/sysctl.d may be a link inside the image; a loop is skipped, no word of writing"
mkdir -p "$tmp/img/etc" "$tmp/img/usr/lib/sysctl.d" "$tmp/img/vendor"
printf 'net.ipv4.tcp_keepalive_probes = 4\n' >"$tmp/img/vendor/50-x.conf"
ln -s /vendor "$tmp/img/etc/sysctl.d"
run 0 show --boot --root "$tmp/img" --loader procps --sysctl
out_has "net.ipv4.tcp_keepalive_probes = 4"
err_empty
rm "$tmp/img/etc/sysctl.d"
ln -s sysctl.d "$tmp/img/etc/sysctl.d"
run 0 show --boot --root "$tmp/img" --loader systemd
err_is "ka-tune: warning: /etc/sysctl.d: cannot open: too many levels of symbolic links (systemd skips it too)"
grep -q write "$err" && fail "a read-only command speaks of writing"
rm -rf "$tmp/img"

t "--root without openat2 (a kernel before 5.6, a seccomp profile): the same, by a walk"
if [ -x "${KT_ENOSYS:-}" ]; then
	mkdir -p "$tmp/img/etc/sysctl.d" "$tmp/img/usr/lib/sysctl.d" "$tmp/img/lib"
	printf 'net.ipv4.tcp_keepalive_intvl = 44\n' >"$tmp/img/usr/lib/sysctl.d/50-x.conf"
	ln -s /usr/lib/sysctl.d/50-x.conf "$tmp/img/etc/sysctl.d/60-abs.conf"
	ln -s ../../../../../../usr/lib/sysctl.d/50-x.conf "$tmp/img/etc/sysctl.d/70-up.conf"
	ln -s /etc/sysctl.d "$tmp/img/lib/sysctl.d"
	ln -s 80-loop.conf "$tmp/img/etc/sysctl.d/80-loop.conf"
	for loader in systemd procps; do
		"$bin" show --boot --root "$tmp/img" --loader $loader --json >"$tmp/want" 2>"$tmp/want.err"
		ASAN_OPTIONS=$no_lsan "$KT_ENOSYS" "$bin" show --boot --root "$tmp/img" \
		    --loader $loader --json >"$out" 2>"$err" || fail "$loader: exit $? without openat2"
		cmp -s "$out" "$tmp/want" || fail "$loader: not the same without openat2"
		cmp -s "$err" "$tmp/want.err" || fail "$loader: other warnings without openat2"
		grep -q '"intvl": {"boot": 44, "from": {"file": "/etc/sysctl.d/70-up.conf"' "$out" ||
		    fail "$loader: a link resolved outside the image"
	done
	rm -rf "$tmp/img"
else
	echo "SKIP: $name: no KT_ENOSYS helper (tests/enosys.c, built by make check-cli)"
fi

t "show --boot puts no raw control byte on a terminal, and its JSON is valid UTF-8"
esc=$(printf '\033]0;pwned\007')
bad=$(printf '\377\376')
printf 'net.ipv4.tcp_keepalive_time = 60%s\nnet.ipv4.tcp_keepalive_intvl = %s\n' "$esc" "$bad" \
    >"/etc/sysctl.d/50-$esc.conf"
printf 'net.ipv4.tcp_keepalive_* = 5\n' >"/etc/sysctl.d/60-$bad.conf"
for loader in systemd procps; do
	run 0 show --boot --loader $loader
	if LC_ALL=C grep -q '[[:cntrl:]]' "$out"; then fail "$loader: a raw control byte on stdout"; fi
	out_has '/etc/sysctl.d/50-\033]0;pwned\a.conf:1'
	out_has '= 60\033]0;pwned\a'
	out_has '= \377\376'
	run 0 show --boot --loader $loader --json
	iconv -f UTF-8 -t UTF-8 "$out" >/dev/null 2>&1 || fail "$loader: JSON that is not UTF-8"
	[ "$(jq -r '[.time.assignments[] | select(.line == 1 and (.file | endswith("pwned\u0007.conf")))
	    | .value] | .[0]' "$out")" = "60$esc" ] || fail "$loader: the value with ESC is not as read"
	[ "$(jq -r '.intvl.assignments[0].value' "$out")" = "$(printf '\357\277\275\357\277\275')" ] ||
	    fail "$loader: invalid UTF-8 is not two U+FFFD"
	jq -e '[.. | strings] | length > 0' "$out" >/dev/null || fail "$loader: jq could not read it"
done
clear_tree

t "--root reads an image tree, and does not compare with the running kernel"
mkdir -p "$tmp/img/etc/sysctl.d" "$tmp/img/usr/lib/sysctl.d"
printf 'net.ipv4.tcp_keepalive_probes = 4\n' >"$tmp/img/usr/lib/sysctl.d/50-x.conf"
run 0 show --boot --root "$tmp/img" --loader procps
out_has "net.ipv4.tcp_keepalive_probes = 4  from /usr/lib/sysctl.d/50-x.conf:1"
grep -q running "$out" && fail "--root compared with the running kernel"
run 2 show --root "$tmp/img"
err_has "--loader and --root go with --boot"

done_testing
