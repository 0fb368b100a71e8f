#!/bin/sh
# tests/sockets.sh: ka-tune sockets end to end, in a private network namespace: loopback
# connections that tests/sockpeer opens with and without SO_KEEPALIVE, and with a TCP_KEEPIDLE
# of their own, must each be reported as they are, with their process.
# usage: KT_SOCKPEER=path/to/sockpeer sh tests/sockets.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null 2>&1 || { echo "FAIL: $name: jq not found (make deps)" >&2; exit 1; }
[ -x "${KT_SOCKPEER:-}" ] ||
    { echo "FAIL: $name: KT_SOCKPEER must name the built tests/sockpeer" >&2; exit 1; }
cp "$KT_SOCKPEER" "$tmp/bin/sockpeer" && chmod 755 "$tmp/bin/sockpeer" || exit 1
peer=$tmp/bin/sockpeer
ip link set lo up || { echo "FAIL: $name: cannot bring lo up" >&2; exit 1; }

trap 'stop_peers; rm -rf "$tmp"' EXIT

# start_peer FILE [WRAPPER...] -- SOCKPEER-ARGS...: run sockpeer (under WRAPPER, such as ip netns
# exec or setpriv) in the background and wait until it says it holds its connections. Its output
# comes through a FIFO of this run's own and is copied to FILE before start_peer returns, so FILE
# never shows an earlier peer's lines. Sets $pid to its pid (the wrappers exec it) and $lport to
# its listening port.
start_peer() {
	f=$1
	shift
	wrap=
	while [ "$1" != -- ]; do
		wrap="$wrap $1"
		shift
	done
	shift
	new_fifo
	$wrap "$peer" "$@" >"$fifo" 2>&1 &
	pid=$!
	peers="$peers $pid"
	await ready "$fifo" "$f" || fail "sockpeer $* did not get ready: $(cat "$f")"
	rm -f "$fifo"
	lport=$(awk '$1 == "listen" { print $2 }' "$f")
}

# ports FILE MODE: the connecting ends' ports of the connections sockpeer made in MODE.
ports() { awk -v m="$2" '$2 == m { print $1 }' "$1"; }

# row REGEX: stdout has a line matching the extended regex.
row() { grep -Eq -- "$1" "$out" || fail "no row matching: $1"; }
no_row() { ! grep -Eq -- "$1" "$out" || fail "a row matches: $1"; }

# jq_true FILTER: the JSON on stdout makes FILTER true.
jq_true() { [ "$(jq -r "$1" "$out" 2>&1)" = true ] || fail "JSON: not true: $1"; }

# json_of PORT FIELD: FIELD of the connection whose local port is PORT.
json_of() { jq -r --argjson p "$1" ".connections[] | select(.local_port == \$p) | .$2" "$out"; }

# due_within PORT IDLE_MS GOT_MS ROUNDING_MS: the keepalive timer of the connection from PORT,
# armed for IDLE_MS after t0, shows GOT_MS left, read within $late ms of t0 and shown cut by up
# to ROUNDING_MS. 50 ms more cover the clocks' steps: a jiffy, and /proc/uptime's 10 ms.
due_within() {
	case $3 in
	'' | *[!0-9]*)
		fail "connection from port $1: next probe '$3', not a number of ms"
		return ;;
	esac
	[ "$3" -le "$2" ] && [ $(($3 + $4)) -ge $(($2 - late - 50)) ] ||
	    fail "connection from port $1, idle ${2} ms: next probe in $3 ms, $late ms after"
}

# shown_next PORT: the NEXT column of the connection from 127.0.0.1:PORT on stdout, in ms (the
# text cuts seconds to tenths); anything but a time is printed as it is.
shown_next() {
	awk -v a="127.0.0.1:$1" '$1 == "ESTABLISHED" && $2 == a {
	    if ($5 ~ /^[0-9]+\.[0-9]$/) { split($5, s, "."); print s[1] * 1000 + s[2] * 100 }
	    else print $5 }' "$out"
}

lo4='127\.0\.0\.1'
ts() { stop_peers; t "$1"; }

ts "each connection is listed with its keepalive and its process"
start_peer "$tmp/p" -- off on 30
p_off=$(ports "$tmp/p" off)
p_on=$(ports "$tmp/p" on)
p_30=$(ports "$tmp/p" 30)
run 0 sockets
err_empty
out_has "STATE       LOCAL                  REMOTE                 KEEPALIVE      NEXT PROBES PROCESS"
row "^ESTABLISHED +$lo4:$p_off +$lo4:$lport +off +- +- +$pid/sockpeer\$"
row "^ESTABLISHED +$lo4:$p_on +$lo4:$lport +on +[0-9]+\.[0-9] +0 +$pid/sockpeer\$"
row "^ESTABLISHED +$lo4:$p_30 +$lo4:$lport +on +[0-9]+\.[0-9] +0 +$pid/sockpeer\$"
# The accepted ends: the listener had no SO_KEEPALIVE, so neither have they.
for p in $p_off $p_on $p_30; do
	row "^ESTABLISHED +$lo4:$lport +$lo4:$p +off +- +- +$pid/sockpeer\$"
done
out_has "6 connections, 4 without keepalive (2 with it, 0 unknown, 0 not applicable)"
out_has "PROCESS                    CONNS KEEPALIVE WITHOUT UNKNOWN"
row "^$pid/sockpeer +6 +2 +4 +0\$"
[ "$(grep -c "^ESTABLISHED " "$out")" -eq 6 ] || fail "not 6 connections listed"

ts "the next probe is due within the socket's TCP_KEEPIDLE, or the namespace's keepalive time"
echo 600 >$ipv4/tcp_keepalive_time
# The timers are armed after t0 and read before each run returns: a timer of IDLE ms shows at
# most IDLE ms left, and at least IDLE less the time since t0. The bounds follow the time taken,
# however slow the machine, instead of guessing at it.
t0=$(uptime_ms)
start_peer "$tmp/p" -- 30 on 9
p_30=$(ports "$tmp/p" 30)
p_on=$(ports "$tmp/p" on)
p_9=$(ports "$tmp/p" 9)
run 0 sockets --json
late=$(($(uptime_ms) - t0))
due_within "$p_30" 30000 "$(json_of "$p_30" next_probe_ms)" 0
due_within "$p_9" 9000 "$(json_of "$p_9" next_probe_ms)" 0
due_within "$p_on" 600000 "$(json_of "$p_on" next_probe_ms)" 0
[ "$(json_of "$p_30" probes)" = 0 ] || fail "probes sent on an idle live connection"
run 0 sockets
late=$(($(uptime_ms) - t0))
row "^ESTABLISHED +$lo4:$p_30 +$lo4:$lport +on +[0-9]+\.[0-9] +0 +$pid/sockpeer\$"
row "^ESTABLISHED +$lo4:$p_on +$lo4:$lport +on +[0-9]+\.[0-9] +0 +$pid/sockpeer\$"
due_within "$p_30" 30000 "$(shown_next "$p_30")" 100
due_within "$p_on" 600000 "$(shown_next "$p_on")" 100

ts "--no-keepalive lists exactly the connections without keepalive"
start_peer "$tmp/p" -- off on 5 offx3 full
run 0 sockets --no-keepalive --json
want=$( (ports "$tmp/p" off; ports "$tmp/p" on; ports "$tmp/p" 5; ports "$tmp/p" full) |
    sort -n | tr '\n' ' ')
# Without -A, the accepted ends are all without keepalive too: the listening port, 7 times.
got=$(jq -r '.connections[] | if .local_port == '"$lport"' then .remote_port else empty end' \
    "$out" | sort -n | tr '\n' ' ')
[ "$got" = "$want" ] || fail "accepted ends without keepalive: '$got', expected '$want'"
want=$(ports "$tmp/p" off | sort -n | tr '\n' ' ')
got=$(jq -r '.connections[] | select(.local_port != '"$lport"') | .local_port' "$out" |
    sort -n | tr '\n' ' ')
[ "$got" = "$want" ] || fail "connecting ends without keepalive: '$got', expected '$want'"
jq_true '[.connections[].keepalive] | all(. == "off")'
jq_true '.summary.connections == 11 and .summary.keepalive_off == 11'
stop_peers
start_peer "$tmp/p" -- -A off on offx2 10
run 0 sockets --no-keepalive
[ "$(grep -c "^ESTABLISHED " "$out")" -eq 3 ] || fail "not exactly the 3 connections without"
for p in $(ports "$tmp/p" off); do
	row "^ESTABLISHED +$lo4:$p +$lo4:$lport +off "
done
out_has "3 connections, 3 without keepalive (0 with it, 0 unknown, 0 not applicable)"

ts "--port lists the connections whose local or remote port it is"
start_peer "$tmp/p" -- on off
first=$pid
first_port=$lport
p_on=$(ports "$tmp/p" on)
start_peer "$tmp/q" -- on
run 0 sockets --port "$first_port"
[ "$(grep -c "^ESTABLISHED " "$out")" -eq 4 ] || fail "not the 4 ends of the first peer"
no_row "^ESTABLISHED .* $pid/sockpeer\$"
run 0 sockets --port "$p_on" --json
jq_true '.connections | length == 2'
jq_true '[.connections[] | select(.local_port == '"$p_on"') | .keepalive] == ["on"]'
jq_true '[.connections[] | select(.remote_port == '"$p_on"') | .keepalive] == ["off"]'
run 0 sockets --port "$p_on" --no-keepalive --json
jq_true '[.connections[].remote_port] == ['"$p_on"']'
run 0 sockets --port 9
out_has "0 connections, 0 without keepalive (0 with it, 0 unknown, 0 not applicable)"
[ "$(wc -l <"$out")" -eq 3 ] || fail "more than the header and the counts"
run 0 sockets --port 9 --json
jq_true '. == {"connections": [], "summary": {"connections": 0, "keepalive_on": 0,
    "keepalive_off": 0, "keepalive_unknown": 0, "not_applicable": 0, "processes": []},
    "not_seen": 0}'

ts "IPv6 connections are listed too, their addresses in brackets"
start_peer "$tmp/p" -- -6 on off
p_on=$(ports "$tmp/p" on)
p_off=$(ports "$tmp/p" off)
run 0 sockets
row "^ESTABLISHED +\[::1\]:$p_on +\[::1\]:$lport +on +[0-9.]+ +0 +$pid/sockpeer\$"
row "^ESTABLISHED +\[::1\]:$p_off +\[::1\]:$lport +off +- +- +$pid/sockpeer\$"
run 0 sockets --json
jq_true '[.connections[] | select(.local_port == '"$p_on"')] | .[0] |
    .family == "ipv6" and .local_address == "::1" and .remote_address == "::1"'

ts "--json is one object with the documented fields"
start_peer "$tmp/p" -- on off
p_on=$(ports "$tmp/p" on)
run 0 sockets --json
err_empty
jq_true '.connections[0] | keys == ["comm", "family", "inode", "keepalive", "local_address",
    "local_port", "next_probe_ms", "pid", "probes", "remote_address", "remote_port", "state",
    "uid"]'
jq_true 'keys == ["connections", "not_seen", "summary"] and .not_seen == 0'
jq_true '.summary | keys == ["connections", "keepalive_off", "keepalive_on",
    "keepalive_unknown", "not_applicable", "processes"]'
jq_true '.summary.processes == [{"pid": '"$pid"', "comm": "sockpeer", "uid": 0,
    "connections": 4, "keepalive_on": 1, "keepalive_off": 3, "keepalive_unknown": 0}]'
jq_true '[.connections[] | select(.local_port == '"$p_on"')] | .[0] |
    .state == "ESTABLISHED" and .family == "ipv4" and .local_address == "127.0.0.1" and
    .remote_port == '"$lport"' and .keepalive == "on" and .probes == 0 and .uid == 0 and
    .pid == '"$pid"' and .comm == "sockpeer" and (.inode | type) == "number" and
    (.next_probe_ms | type) == "number"'

ts "the summary groups by process, most connections without keepalive first"
start_peer "$tmp/p" -- -A on 20
a=$pid
start_peer "$tmp/q" -- offx2 on
b=$pid
run 0 sockets
out_has "10 connections, 5 without keepalive (5 with it, 0 unknown, 0 not applicable)"
[ "$(grep -A2 '^PROCESS ' "$out" | tail -n 2 | awk '{ print $1 }' | tr '\n' ' ')" = \
    "$b/sockpeer $a/sockpeer " ] || fail "groups not in the order $b, $a"
row "^$b/sockpeer +6 +1 +5 +0\$"
row "^$a/sockpeer +4 +4 +0 +0\$"

ts "probes sent without an answer are counted"
# Keepalive probes from 127.0.0.1 to 127.0.0.2 are dropped by a blackhole rule ahead of the
# local table, so the connection, idle 1 s and probing every second, counts them. The kernel
# sends them on its timers, whatever the load, so waiting for them is waiting for an event; the
# wait is long, and the namespace allows 120 probes, so that the connection cannot time out and
# go while the test looks at it.
echo 120 >$ipv4/tcp_keepalive_probes
start_peer "$tmp/p" -- -a 127.0.0.2 1
p_1=$(ports "$tmp/p" 1)
ip rule del pref 0 && ip rule add pref 100 lookup local &&
    ip rule add pref 10 to 127.0.0.2 blackhole || fail "cannot set up the blackhole rule"
end=$(($(uptime_ms) + 30000))
probes=
while :; do
	run 0 sockets --port "$p_1"
	probes=$(awk -v a="127.0.0.1:$p_1" '$1 == "ESTABLISHED" && $2 == a { print $6 }' "$out")
	case $probes in
	[2-9] | [1-9][0-9] | [1-9][0-9][0-9]) break ;;
	esac
	[ "$(uptime_ms)" -lt "$end" ] || break
	sleep 0.1
done
case $probes in
[2-9] | [1-9][0-9] | [1-9][0-9][0-9]) ;;
*) fail "probes sent within 30 s: '$probes', expected 2 or more" ;;
esac
row "^ESTABLISHED +$lo4:$p_1 +127\.0\.0\.2:$lport +on +[01]\.[0-9] +$probes +$pid/sockpeer\$"
run 0 sockets --port "$p_1" --json
[ "$(json_of "$p_1" probes)" -ge "$probes" ] 2>/dev/null ||
    fail "JSON probes: '$(json_of "$p_1" probes)', fewer than the $probes shown before"
ip rule del pref 10 && ip rule del pref 100 && ip rule add pref 0 lookup local ||
    fail "cannot take the blackhole rule out"

ts "a user who is not root sees every connection, and is told whose processes it could not see"
start_peer "$tmp/p" -- on off
root_pid=$pid
root_on=$(ports "$tmp/p" on)
start_peer "$tmp/q" setpriv --reuid=65534 --regid=65534 --clear-groups -- on
nobody_pid=$pid
nobody_on=$(ports "$tmp/q" on)
as_nobody 0 sockets
row "^ESTABLISHED +$lo4:$root_on +$lo4:[0-9]+ +on +[0-9.]+ +0 +-\$"
row "^ESTABLISHED +$lo4:$nobody_on +$lo4:[0-9]+ +on +[0-9.]+ +0 +$nobody_pid/sockpeer\$"
row "^- \(uid 0\) +4 +1 +3 +0\$"
row "^$nobody_pid/sockpeer +2 +1 +1 +0\$"
grep -Eq "^ka-tune: sockets: not seen: the open files of [0-9]+ process(es)? of other users \
\(needs root\); the connections they hold show no process\$" "$err" || fail "no 'not seen' line"
as_nobody 0 sockets --json
jq_true '.not_seen > 0'
jq_true '[.connections[] | select(.pid == '"$root_pid"')] == []'
jq_true '[.connections[] | select(.local_port == '"$root_on"')] | .[0] | .pid == null and
    .uid == 0'
jq_true '[.connections[] | select(.local_port == '"$nobody_on"')] | .[0] |
    .pid == '"$nobody_pid"' and .uid == 65534'
run 0 sockets
row "^ESTABLISHED +$lo4:$root_on +$lo4:[0-9]+ +on +[0-9.]+ +0 +$root_pid/sockpeer\$"
err_empty

ts "root refused a process's files says so, and lists its connections without it"
# Without CAP_SYS_PTRACE, root may not read the fd links of a process with more capabilities.
start_peer "$tmp/p" -- on off
p_on=$(ports "$tmp/p" on)
setpriv --bounding-set=-sys_ptrace "$bin" sockets >"$out" 2>"$err"
[ $? -eq 0 ] || fail "sockets without CAP_SYS_PTRACE did not exit 0"
row "^ESTABLISHED +$lo4:$p_on +$lo4:$lport +on +[0-9.]+ +0 +-\$"
grep -Eq "^ka-tune: sockets: not seen: the open files of [0-9]+ process(es)?: permission \
denied, even to root \(.*\); the connections they hold show no process\$" "$err" ||
    fail "no 'not seen ... even to root' line"
grep -q "needs root" "$err" && fail "root was told it needs root"

ts "--netns and --pid list the connections of another namespace"
mkdir -p /run/netns && mount -t tmpfs -o mode=0755 none /run/netns ||
    fail "cannot mount a tmpfs over /run/netns"
ip netns add blue && ip netns exec blue ip link set lo up || fail "cannot make netns blue"
start_peer "$tmp/p" -- -p 5001 on
here=$pid
start_peer "$tmp/q" ip netns exec blue -- -p 5002 off on
blue=$pid
blue_off=$(ports "$tmp/q" off)
for target in "--netns blue" "--netns /run/netns/blue" "--pid $blue"; do
	run 0 $target sockets
	row "^ESTABLISHED +$lo4:$blue_off +$lo4:5002 +off +- +- +$blue/sockpeer\$"
	no_row ":5001 "
	out_has "4 connections, 3 without keepalive"
done
run 0 --pid "$here" sockets
row ":5001 .* $here/sockpeer\$"
no_row ":5002 "
run 0 sockets
no_row ":5002 "
as_nobody 1 --netns blue sockets
err_has "--netns blue: cannot enter: permission denied"
stop_peers
ip netns delete blue

ts "a pending zero-window probe hides keepalive; TIME_WAIT is not applicable"
start_peer "$tmp/p" -- full tw
p_full=$(ports "$tmp/p" full)
p_tw=$(ports "$tmp/p" tw)
run 0 sockets
row "^ESTABLISHED +$lo4:$p_full +$lo4:$lport +unknown +- +- +$pid/sockpeer\$"
row "^TIME_WAIT +$lo4:$p_tw +$lo4:$lport +n/a +- +- +-\$"
out_has "3 connections, 1 without keepalive (0 with it, 1 unknown, 1 not applicable)"
row "^$pid/sockpeer +2 +0 +1 +1\$"
run 0 sockets --json
jq_true '[.connections[] | select(.local_port == '"$p_tw"')] | .[0] |
    .state == "TIME_WAIT" and .keepalive == "n/a" and .pid == null and .comm == null
    and .inode == null and .next_probe_ms == null and .probes == null'

ts "long IPv6 endpoints keep every column in line"
long6=2001:db8:1234:5678:9abc:def0:1234:5678
ip -6 addr add "$long6/128" dev lo nodad || fail "cannot add $long6 to lo"
start_peer "$tmp/p" -- -6 -a "$long6" on off
p_on=$(ports "$tmp/p" on)
start_peer "$tmp/q" -- on
run 0 sockets
row "^ESTABLISHED +\[$long6\]:$p_on +\[$long6\]:[0-9]+ +on "
awk 'NR == 1 { at = index($0, " KEEPALIVE ") + 1 }
    /^ESTABLISHED / && substr($0, at, 3) !~ /^(on |off)$/ { bad = 1 }
    END { exit bad }' "$out" || fail "a row's KEEPALIVE is not under the header's"
ip -6 addr del "$long6/128" dev lo

ts "process names of any bytes reach the terminal escaped and JSON as valid UTF-8"
esc=$(printf '\033]0;pwned\007')
bad=$(printf '\377\376\375\374\373\372\371\370\367\366\365\364\363\362\361')
start_peer "$tmp/p" -- -n "$esc" on
a=$pid
start_peer "$tmp/q" -- -n "$bad" off
b=$pid
run 0 sockets
if LC_ALL=C grep -q '[[:cntrl:]]' "$out"; then fail "a control byte reached stdout"; fi
out_has " $a/\\033]0;pwned\\a"
out_has " $b/\\377\\376\\375\\374\\373\\372\\371\\370\\367\\366\\365\\364\\363\\362\\361"
[ "$(awk '/^PROCESS / { g = 1 } g { print length($0) }' "$out" | sort -u | wc -l)" -eq 1 ] ||
    fail "the summary's rows are not as long as its header: the columns do not line up"
run 0 sockets --json
jq_true '[.summary.processes[] | select(.pid == '"$a"') | .comm] == ["\u001b]0;pwned\u0007"]'
jq_true '[.summary.processes[] | select(.pid == '"$b"') | .comm] == ["\ufffd" * 15]'
jq_true '[.connections[] | select(.pid == '"$a"') | .comm] | unique == ["\u001b]0;pwned\u0007"]'

ts "a process that exits while its files are read is passed over, not an error"
start_peer "$tmp/p" -- on off
# fdopendir() of PID/fd begins with fstat(), which says ENOENT once the process is gone.
traced -P "/proc/$pid/fd" -e trace=newfstatat,fstat \
    -e inject=newfstatat,fstat:error=ENOENT "$bin" sockets >"$out" 2>"$err"
got=$?
[ "$got" -eq 0 ] || fail "sockets exited $got when a process went away mid-scan"
err_empty
[ "$(grep -c "^ESTABLISHED .* -\$" "$out")" -eq 4 ] || fail "not the peer's 4 connections"

ts "a process whose name cannot be read shows none, never stray bytes"
start_peer "$tmp/p" -- on off
# The name is read relative to /proc: the path strace sees is PID/comm.
(cd /proc && traced -P "$pid/comm" -e trace=openat \
    -e inject=openat:error=ENOENT "$bin" sockets) >"$out" 2>"$err"
got=$?
[ "$got" -eq 0 ] || fail "sockets exited $got when a name could not be read"
row "^ESTABLISHED .* $pid/?\$"
if LC_ALL=C grep -q '[[:cntrl:]]' "$out"; then fail "a control byte reached stdout"; fi
if LC_ALL=C grep -q "$pid/[^ ]" "$out"; then fail "a name was made up: $(grep "$pid/" "$out")"; fi

ts "bad options are usage errors"
for bad in 0 65536 -1 abc 80x "" " 80" "80 " 080 +80 0x50; do
	run 2 sockets --port "$bad"
	err_has "sockets: --port: '$bad' is "
	err_has "; accepted 1..65535"
	out_empty
done
run 2 sockets --port
err_has "sockets: --port needs a value"
run 2 sockets --bogus
err_has "sockets: unknown option '--bogus'"
run 2 sockets extra
err_has "sockets: unexpected argument 'extra'; see 'ka-tune sockets --help'"
run 0 sockets --help
out_has "       ka-tune [--netns NAME|PATH | --pid PID] sockets [--no-keepalive]
               [--port N] [--json]"
out_has "  --no-keepalive  only the connections without keepalive"
run 0 help
out_has "  sockets  which TCP connections use keepalive, and whose they are"

done_testing
