#!/bin/sh
# tests/enable.sh: ka-tune enable --pid end to end, in private network, mount and PID
# namespaces: python3 servers and clients (tests/peer.py) that never set SO_KEEPALIVE exchange
# data on loopback without a pause while ka-tune turns keepalive on in their sockets; ka-tune
# sockets must then show it, with the next probe when it is due, and the exchange must go on
# undisturbed. Failures come for real: another user, a process that is not dumpable, one that
# exits midway (tests/pause_getfd.so stops ka-tune at a chosen pidfd_getfd()), writes and a
# kernel that refuse (tests/sysfail, seccomp), and a net_cls cgroup of its own.
# usage: KT_PEER=tests/peer.py KT_PAUSE_GETFD=... KT_SYSFAIL=... sh tests/enable.sh ka-tune
set -u

. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null 2>&1 || { echo "FAIL: $name: jq not found (make deps)" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 ||
    { echo "FAIL: $name: python3 not found (make deps)" >&2; exit 1; }
for v in KT_PEER KT_PAUSE_GETFD KT_SYSFAIL; do
	eval "f=\${$v:-}"
	[ -r "$f" ] || { echo "FAIL: $name: $v must name the built test helper" >&2; exit 1; }
	cp "$f" "$tmp/bin/" && chmod 755 "$tmp/bin/${f##*/}" || exit 1
done
peer=$tmp/bin/peer.py
# The system's python3, which every user may run (python3 on PATH may be a user's own).
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)
ip link set lo up || { echo "FAIL: $name: cannot bring lo up" >&2; exit 1; }

cleanup_cgroup=:
trap 'stop_peers; eval "$cleanup_cgroup"; rm -rf "$tmp"' EXIT

# undisturbed CTL: the peer's exchange goes on, with every byte as sent, and no error.
undisturbed() {
	ask "$1" "grown 65536" grown
	ask "$1" stats
	case $reply in
	*" errors 0 "*) ;;
	*) fail "peer $1: the exchange was disturbed: $reply" ;;
	esac
}

# still KA CTL PORT...: in the peer's own view, the sockets on these local ports have
# SO_KEEPALIVE KA (1 or 0).
still() {
	want=$1
	ask "$2" ka
	shift 2
	for p in "$@"; do
		echo " $reply " | grep -Eq " $p:[0-9]+:$want:" ||
		    fail "peer's socket on port $p: keepalive not $want: $reply"
	done
}

row() { grep -Eq -- "$1" "$out" || fail "no line matching: $1"; }
no_row() { ! grep -Eq -- "$1" "$out" || fail "a line matches: $1"; }
jq_true() { [ "$(jq -r "$1" "$out" 2>&1)" = true ] || fail "JSON: not true: $1"; }
lo4='127\.0\.0\.1'
lo6='\[::1\]'
ts() { stop_peers; t "$1"; }

# due PORT IDLE_MS: sockets --json (in $out) shows the connection from local PORT with keepalive
# on and its timer due within IDLE_MS, and at least IDLE_MS less the time since $t0.
due() {
	got=$(jq -r --argjson p "$1" '.connections[] | select(.local_port == $p) |
	    "\(.keepalive) \(.next_probe_ms)"' "$out")
	late=$(($(uptime_ms) - t0))
	case $got in
	"on "[0-9]*) ms=${got#on } ;;
	*) fail "connection from port $1: '$got', not keepalive on with a time"; return ;;
	esac
	[ "$ms" -le "$2" ] && [ "$ms" -ge $(($2 - late - 50)) ] ||
	    fail "connection from port $1: next probe in $ms ms, expected $2 less up to $late ms"
}

ts "enable --pid turns keepalive on in a live exchange, undisturbed; sockets shows it"
start "$tmp/s" -- server 0
server=$pid
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport" "[::1]:$sport"
client=$pid
undisturbed "$tmp/c"
t0=$(uptime_ms)
run 0 enable --pid "$server" --time 10m
err_empty
row "^LISTEN +$lo4:$sport +\* +off -> on 600/75/9\$"
row "^LISTEN +$lo6:$sport +\* +off -> on 600/75/9\$"
row "^ESTABLISHED +$lo4:$sport +$lo4:[0-9]+ +off -> on 600/75/9\$"
row "^ESTABLISHED +$lo6:$sport +$lo6:[0-9]+ +off -> on 600/75/9\$"
out_has "$server/python3: 4 enabled, 0 already on, 0 failed"
[ "$(wc -l <"$out")" -eq 5 ] || fail "not 4 sockets and the summary"
undisturbed "$tmp/c"
undisturbed "$tmp/s"
still 1 "$tmp/s" "$sport"
ask "$tmp/c" ka
cports=$(echo "$reply" | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ')
still 0 "$tmp/c" $cports
# With nothing in flight, no retransmit timer hides the keepalive timer from sock_diag.
ask "$tmp/c" pause ok
ask "$tmp/c" settled settled
ask "$tmp/s" settled settled
run 0 sockets --json
for p in $cports; do
	jq_true '[.connections[] | select(.remote_port == '"$p"')] | length == 1 and
	    (.[0] | .keepalive == "on" and .pid == '"$server"')'
	jq_true '[.connections[] | select(.local_port == '"$p"')] | .[0].keepalive == "off"'
done
# The server's ends all have the one port: find each by its peer's port instead.
for p in $cports; do
	got=$(jq -r --argjson p "$p" '.connections[] | select(.remote_port == $p) |
	    "\(.keepalive) \(.next_probe_ms)"' "$out")
	ms=${got#on }
	late=$(($(uptime_ms) - t0))
	[ "$ms" -le 600000 ] && [ "$ms" -ge $((600000 - late - 50)) ] ||
	    fail "server end of $p: next probe '$got', expected 600000 ms less up to $late"
done
ask "$tmp/c" resume ok
undisturbed "$tmp/c"

ts "without values the namespace's keepalive time applies; enable works on a client too"
echo 300 >$ipv4/tcp_keepalive_time
start "$tmp/s" -- server 0
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport"
client=$pid
t0=$(uptime_ms)
run 0 enable --pid "$client"
row "^ESTABLISHED +$lo4:[0-9]+ +$lo4:$sport +off -> on 300/75/9\$"
out_has "$client/python3: 1 enabled, 0 already on, 0 failed"
cport=$(awk '{ split($2, a, ":"); print a[2] }' "$out" | head -n 1)
undisturbed "$tmp/c"
ask "$tmp/c" pause ok
ask "$tmp/c" settled settled
run 0 sockets --json
due "$cport" 300000

ts "the process's network namespace does not matter"
printf '%s\n' '#!/bin/sh' 'ip link set lo up && exec "$@"' >"$tmp/bin/innetns" &&
    chmod 755 "$tmp/bin/innetns" || fail "cannot write innetns"
start "$tmp/s" unshare -n "$tmp/bin/innetns" -- server 0
server=$pid
sport=$ports
start "$tmp/c" nsenter -t "$server" -n -- client "127.0.0.1:$sport"
run 0 enable --pid "$server" --time 120
out_has "$server/python3: 3 enabled, 0 already on, 0 failed"
still 1 "$tmp/s" "$sport"
undisturbed "$tmp/c"
run 0 sockets --port "$sport"
out_has "0 connections"
ask "$tmp/c" pause ok
ask "$tmp/c" settled settled
ask "$tmp/s" settled settled
run 0 --pid "$server" sockets --port "$sport" --json
jq_true '[.connections[] | select(.local_port == '"$sport"')] | length == 1 and
    (.[0] | .keepalive == "on" and .next_probe_ms <= 120000)'

ts "sockets with keepalive on are left alone, unless values are given that differ"
start "$tmp/s" -- server 0
server=$pid
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport"
run 0 enable --pid "$server" --time 600
run 0 enable --pid "$server"
out_has "$server/python3: 0 enabled, 3 already on, 0 failed"
row "^ESTABLISHED .* on 600/75/9 -> on 600/75/9\$"
run 0 enable --pid "$server" --time 10m --probes 9
out_has "$server/python3: 0 enabled, 3 already on, 0 failed"
run 0 enable --pid "$server" --time 900 --intvl 30
out_has "$server/python3: 3 enabled, 0 already on, 0 failed"
row "^ESTABLISHED .* on 600/75/9 -> on 900/30/9\$"
undisturbed "$tmp/c"

ts "--port takes only the sockets with that local or remote port"
start "$tmp/a" -- server 0
aport=$ports
start "$tmp/b" -- server 0
bport=$ports
start "$tmp/c" -- client "127.0.0.1:$aport" "127.0.0.1:$bport" "[::1]:$bport"
client=$pid
run 0 enable --pid "$client" --port "$bport"
out_has "$client/python3: 2 enabled, 0 already on, 0 failed"
no_row ":$aport "
run 0 enable --pid "$client" --dry-run
out_has "$client/python3: 1 to enable, 2 already on, 0 failed"
row "^ESTABLISHED +$lo4:[0-9]+ +$lo4:$aport +off -> on 7200/75/9\$"
run 0 enable --pid "$client" --port 9
out_is "$client/python3: 0 enabled, 0 already on, 0 failed"

ts "a listener's keepalive passes to the connections it accepts later"
start "$tmp/s" -- server 0
server=$pid
sport=$ports
run 0 enable --pid "$server" --time 100
out_has "$server/python3: 2 enabled, 0 already on, 0 failed"
start "$tmp/c" -- client "127.0.0.1:$sport"
ask "$tmp/c" "connect ::1 $sport" "ok *"
undisturbed "$tmp/c"
still 1 "$tmp/s" "$sport"
ask "$tmp/s" ka
[ "$(echo "$reply" | tr ' ' '\n' | grep -c "^$sport:[1-9][0-9]*:1:100\$")" -eq 2 ] ||
    fail "accepted connections without the listener's keepalive: $reply"
run 0 enable --pid "$server"
out_has "$server/python3: 0 enabled, 4 already on, 0 failed"

ts "--dry-run says what would change and changes nothing"
start "$tmp/s" -- server 0
server=$pid
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport"
run 0 enable --pid "$server" --dry-run --time 60
row "^ESTABLISHED +$lo4:$sport +$lo4:[0-9]+ +off -> on 60/75/9\$"
out_has "$server/python3: 3 to enable, 0 already on, 0 failed"
err_is "dry run: nothing changed"
still 0 "$tmp/s" "$sport"
run 0 sockets --port "$sport" --json
jq_true '.summary.connections == 2 and .summary.keepalive_on == 0'

ts "--json is one object with the documented fields"
start "$tmp/s" -- server 0
server=$pid
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport"
run 0 enable --pid "$server" --json --probes 4
err_empty
jq_true 'keys == ["comm", "dry_run", "exited", "pid", "sockets", "summary"]'
jq_true '.pid == '"$server"' and .comm == "python3" and .dry_run == false and
    .exited == false and .summary == {"enabled": 3, "already_on": 0, "failed": 0}'
jq_true '.sockets[0] | keys == ["after", "before", "error", "family", "fd", "local_address",
    "local_port", "remote_address", "remote_port", "result", "state"]'
jq_true '[.sockets[] | select(.state == "LISTEN")] | length == 2 and
    all(.remote_address == null and .remote_port == null and .local_port == '"$sport"')'
jq_true '[.sockets[] | select(.state == "ESTABLISHED")] | .[0] | .family == "ipv4" and
    .local_address == "127.0.0.1" and .remote_address == "127.0.0.1" and
    .before == {"keepalive": false, "time": 7200, "intvl": 75, "probes": 9} and
    .after == {"keepalive": true, "time": 7200, "intvl": 75, "probes": 4} and
    .result == "enabled" and .error == null and (.fd | type) == "number"'
run 0 enable --pid "$server" --json --dry-run
jq_true '.dry_run == true and .summary.already_on == 3 and
    all(.sockets[]; .result == "already_on")'

ts "a process of another user: not permitted, and which rule refuses"
start "$tmp/s" -- server 0
server=$pid
as_nobody 1 enable --pid "$server"
err_is "ka-tune: enable: --pid $server: not permitted: another user's process: taking its \
sockets needs root or CAP_SYS_PTRACE"
out_empty
still 0 "$tmp/s" "$ports"
start "$tmp/n" setpriv --reuid=65534 --regid=65534 --clear-groups -- server 0
nobody=$pid
as_nobody 0 enable --pid "$nobody"
out_has "$nobody/python3: 2 enabled, 0 already on, 0 failed"
ask "$tmp/n" undump ok
as_nobody 1 enable --pid "$nobody"
err_has "not permitted: the process is not dumpable"

ts "a pid that names no process is exit 1; a bad pid, or a second target, exit 2"
run 1 enable --pid 4194304
err_is "ka-tune: enable: --pid 4194304: no such process"
sh -c 'exit 0' &
gone=$!
wait "$gone"
run 1 enable --pid "$gone" --dry-run
err_has "no such process"
for bad in x 0 -1 +5 007 4194305 "" " 5" 5x; do
	run 2 enable --pid "$bad"
	err_has "enable: --pid: '$bad' is "
done
run 2 enable
err_has "enable: nothing to enable: give --pid PID"
run 2 enable --pid 1 extra
run 2 enable --pid 1 --port 0
run 2 enable --pid 1 --time 0
err_has "--time: '0' is out of range"
run 2 --pid 1 enable --pid 1
err_has "--netns and --pid do not apply to enable"
run 2 --netns x enable --pid 1

ts "a process that exits midway is no failure: what was done is said"
start "$tmp/s" -- server 0
server=$pid
start "$tmp/c" -- client "127.0.0.1:$ports"
mkfifo "$tmp/pause.in" "$tmp/pause.out" || fail "cannot make the pause FIFOs"
# Stopped before its second duplicate: the first socket is done, then the process dies.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    LD_PRELOAD="$tmp/bin/pause_getfd.so" KT_PAUSE="$tmp/pause" KT_PAUSE_AT=2 \
    "$bin" enable --pid "$server" >"$out" 2>"$err" &
kt=$!
await paused "$tmp/pause.out" "$tmp/pause.reply" || fail "ka-tune never paused"
kill -KILL "$server"
wait "$server" 2>/dev/null
echo go >"$tmp/pause.in"
wait "$kt"
rc=$?
[ "$rc" -eq 0 ] || fail "enable of a process that exited midway exited $rc"
out_has "$server/python3: 1 enabled, 0 already on, 0 failed"
[ "$(wc -l <"$out")" -eq 2 ] || fail "not the one socket done and the summary"
err_has "warning: enable: $server/python3 exited meanwhile"
# Closed between the listing and its duplicate: passed over.
start "$tmp/s" -- server 0
server=$pid
start "$tmp/c" -- client "127.0.0.1:$ports"
ask "$tmp/s" stats "*conns 1"
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    LD_PRELOAD="$tmp/bin/pause_getfd.so" KT_PAUSE="$tmp/pause" KT_PAUSE_AT=1 \
    "$bin" enable --pid "$server" --json >"$out" 2>"$err" &
kt=$!
await paused "$tmp/pause.out" "$tmp/pause.reply" || fail "ka-tune never paused"
ask "$tmp/s" ka
cport=$(echo "$reply" | tr ' ' '\n' | awk -F: '$2 != 0 { print $2 }')
ask "$tmp/s" "close $cport" ok
echo go >"$tmp/pause.in"
wait "$kt" || fail "enable with a socket closed midway failed"
jq_true '.summary == {"enabled": 2, "already_on": 0, "failed": 0} and .exited == false and
    all(.sockets[]; .state == "LISTEN")'

ts "a socket whose write fails is put back and named; the others stay enabled"
start "$tmp/a" -- server 0
aport=$ports
start "$tmp/b" -- server 0
bport=$ports
start "$tmp/c" -- client "127.0.0.1:$aport" "127.0.0.1:$bport"
client=$pid
run 0 enable --pid "$client" --port "$aport" --time 100
ask "$tmp/c" ka
bconn=$(echo "$reply" | tr ' ' '\n' | awk -F: -v p="$bport" '$2 == p { print $1 }')
# SO_KEEPALIVE cannot be set now: the connection with it on takes the new time, the other
# fails, and its TCP_KEEPIDLE, written before, is put back.
"$tmp/bin/sysfail" keepalive "$bin" enable --pid "$client" --time 200 >"$out" 2>"$err"
[ $? -eq 1 ] || fail "enable with a failing write did not exit 1"
out_has "$client/python3: 1 enabled, 0 already on, 1 failed"
row "^ESTABLISHED +$lo4:[0-9]+ +$lo4:$aport +on 100/75/9 -> on 200/75/9\$"
row "^ESTABLISHED +$lo4:$bconn +$lo4:$bport +off -> off\$"
err_has "ka-tune: enable: $client/python3: ESTABLISHED 127.0.0.1:$bconn 127.0.0.1:$bport: \
cannot set SO_KEEPALIVE: permission denied"
err_has "ka-tune: enable: $client/python3: 1 socket failed; the 1 others have keepalive on \
and keep it"
ask "$tmp/c" ka
case " $reply " in
*" $bconn:$bport:0:7200 "*) ;;
*) fail "the failed socket was not put back (keepalive off, idle 7200): $reply" ;;
esac
case " $reply " in
*":$aport:1:200 "*) ;;
*) fail "the socket with keepalive on did not take the new time: $reply" ;;
esac
undisturbed "$tmp/c"

ts "a kernel without pidfd_getfd is said to be one"
start "$tmp/s" -- server 0
server=$pid
"$tmp/bin/sysfail" pidfd_getfd "$bin" enable --pid "$server" >"$out" 2>"$err"
[ $? -eq 1 ] || fail "enable without pidfd_getfd did not exit 1"
err_has "ka-tune: enable: --pid $server: this kernel has no pidfd_getfd (Linux 5.6 or later"
out_empty

# drop_cgroup MOUNT NAME: remove the cgroup, then unmount the hierarchy once the kernel has
# finished removing it (rmdir returns first): unmounted with a child left, a v1 hierarchy
# would outlive its mount, empty but bound to net_cls and net_prio, on the host.
drop_cgroup() {
	rmdir "$1/$2" || return 1
	end=$(($(uptime_ms) + handshake_secs * 1000))
	until [ "$(awk '$1 == "net_cls" { print $3 }' /proc/cgroups)" = 1 ]; do
		[ "$(uptime_ms)" -lt "$end" ] || break
		sleep 0.1
	done
	umount "$1"
}

ts "sockets tagged by a net_cls cgroup of their own are not taken, as taking re-tags them"
# A cgroup v1 net_cls,net_prio hierarchy, mounted in this private mount namespace, with a
# cgroup of this run's own; removed, and the hierarchy unmounted, on the way out.
cg=$tmp/netcls
ss=$(PATH=$PATH:/sbin:/usr/sbin command -v ss)
if [ -z "$ss" ] || ! mkdir "$cg" || ! mount -t cgroup -o net_cls,net_prio kt-test "$cg" 2>/dev/null
then
	echo "SKIP: $name: cannot mount a cgroup v1 net_cls,net_prio hierarchy here (or no ss)"
else
	mkdir "$cg/kt-$$" && echo 0x100001 >"$cg/kt-$$/net_cls.classid" ||
	    fail "cannot make cgroup kt-$$"
	cleanup_cgroup="drop_cgroup '$cg' kt-$$"
	# incg DIR COMMAND...: run COMMAND in the cgroup DIR.
	printf '%s\n' '#!/bin/sh' 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' \
	    >"$tmp/bin/incg" && chmod 755 "$tmp/bin/incg" || fail "cannot write incg"
	start "$tmp/s" "$tmp/bin/incg" "$cg/kt-$$" -- server 0
	server=$pid
	sport=$ports
	start "$tmp/c" -- client "127.0.0.1:$sport"
	ask "$tmp/s" stats "*conns 1"
	tagged() {
		$ss -tn --tos state established "( sport = :$sport )" | grep -c "class_id:0x100001"
	}
	[ "$(tagged)" = 1 ] || fail "the server's connection is not tagged 0x100001 to begin with"
	run 1 enable --pid "$server"
	err_has "ka-tune: enable: --pid $server: it is in net_cls cgroup '/kt-$$', ka-tune in '/' \
(their tags differ): the kernel re-tags a socket with the classid of whoever takes a \
descriptor of it; nothing was changed"
	err_has "run ka-tune from within it: sh -c 'echo \$\$ > $cg/kt-$$/cgroup.procs && exec"
	run 1 enable --pid "$server" --dry-run
	[ "$(tagged)" = 1 ] || fail "the server's connection lost its tag"
	still 0 "$tmp/s" "$sport"
	"$tmp/bin/incg" "$cg/kt-$$" "$bin" enable --pid "$server" >"$out" 2>"$err" ||
	    fail "enable from within the cgroup failed: $(cat "$err")"
	out_has "$server/python3: 3 enabled, 0 already on, 0 failed"
	[ "$(tagged)" = 1 ] || fail "enable from within the cgroup lost the tag"
	still 1 "$tmp/s" "$sport"
	stop_peers
	eval "$cleanup_cgroup" || fail "cannot remove cgroup kt-$$ and its hierarchy"
	cleanup_cgroup=:
fi

done_testing
