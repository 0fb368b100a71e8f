#!/bin/sh
# tests/probe.sh: ka-tune probe end to end, through a NAT simulated in network namespaces this
# script creates: client -- router -- server. The router masquerades (nftables) with conntrack's
# established-TCP timeout set short in its own namespace, and drops (ct state invalid drop) or
# resets (reject with tcp reset) what it no longer knows. The far end is ka-tune probe --listen,
# or tests/idlepeer, a server with habits of its own. Addresses are documentation ones only:
# 192.0.2.0/24 and 2001:db8:1::/64 on the client side, 198.51.100.0/24 and 2001:db8:2::/64 on
# the server side; no packet leaves the namespaces, and no name is looked up but in a hosts
# file of the test's own. The cases run at once, each on a path of its own: the whole takes
# about twice the longest timeout, 25 s.
# usage: KT_IDLEPEER=path/to/idlepeer sh tests/probe.sh path/to/ka-tune
#   KT_PROBE_CASES: all (the default), quick (the ASan pass: the cases of 15 s and less), or
#   case names, such as "drop15 listen" or the long ones, not in all: premise def60 def350
set -u

nf=/proc/sys/net/netfilter
# What the routers set in their own namespaces: the host's must not move.
host_path_state() {
	cat $nf/nf_conntrack_tcp_loose $nf/nf_conntrack_tcp_timeout_established \
	    /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding 2>&1
}

# Before lib.sh takes the script into its private namespaces: what it needs, and the host's
# conntrack and forwarding settings to compare afterwards.
if [ -z "${KT_TEST_IN_NS:-}" ] && [ -z "${KT_PROBE_WATCHED:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: probe.sh needs root and unshare -n -m (private namespaces); not run"
		exit 0
	fi
	if ! command -v nft >/dev/null 2>&1; then
		echo "SKIP: probe.sh needs nft for its NAT (make deps installs nftables); not run"
		exit 0
	fi
	if [ ! -e $nf/nf_conntrack_tcp_timeout_established ]; then
		echo "SKIP: probe.sh needs the nf_conntrack module, not loaded here: its NAT" \
		    "is conntrack (modprobe nf_conntrack); not run"
		exit 0
	fi
	before=$(host_path_state)
	KT_PROBE_WATCHED=1 sh "$0" "$@"
	rc=$?
	if [ "$before" != "$(host_path_state)" ]; then
		echo "FAIL: probe.sh: the host's conntrack or forwarding settings changed" >&2
		exit 1
	fi
	exit $rc
fi

. "$(dirname "$0")/lib.sh"

for tool in ip jq; do
	command -v $tool >/dev/null 2>&1 ||
	    { echo "FAIL: $name: $tool not found (make deps)" >&2; exit 1; }
done
[ -x "${KT_IDLEPEER:-}" ] ||
    { echo "FAIL: $name: KT_IDLEPEER must name the built tests/idlepeer" >&2; exit 1; }
cp "$KT_IDLEPEER" "$tmp/bin/idlepeer" && chmod 755 "$tmp/bin/idlepeer" || exit 1
peer=$tmp/bin/idlepeer
ip link set lo up || { echo "FAIL: $name: cannot bring lo up" >&2; exit 1; }

# The namespaces' names live on a tmpfs of this mount namespace, and the one name the tests look
# up is in a hosts file of their own: nothing of either reaches the host's /run or /etc.
if [ -d /run/netns ]; then
	mount -t tmpfs -o mode=0755 none /run/netns
else
	mount -t tmpfs -o mode=0755 none /run && mkdir /run/netns
fi || { echo "FAIL: $name: cannot mount a tmpfs on /run/netns" >&2; exit 1; }
printf '198.51.100.2 far.example\n' >"$tmp/hosts" &&
printf 'hosts: files\n' >"$tmp/nsswitch.conf" &&
mount --bind "$tmp/hosts" /etc/hosts && mount --bind "$tmp/nsswitch.conf" /etc/nsswitch.conf ||
    { echo "FAIL: $name: cannot put a hosts file of its own in place" >&2; exit 1; }

far4=198.51.100.2:7000
cases=
# Stop what the cases started (each stops its own), then whatever is left in the namespaces
# this script made, by pid, and remove them.
cleanup() {
	for p in $cases; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$p" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# topo P MODE TIMEOUT [LOOSE]: namespaces Pc, Pr, Ps: client, router, server. The router
# masquerades what goes to the server, drops (MODE drop) or resets (MODE reset) what conntrack
# calls invalid, and forgets an established TCP flow after TIMEOUT s idle. LOOSE is
# nf_conntrack_tcp_loose, 0 unless given: with 1, the kernel's default, conntrack takes a probe
# after the timeout for a new flow, masquerade gives it the same port, and the flow lives on.
topo() {
	p=$1
	if [ "$2" = reset ]; then act="meta l4proto tcp reject with tcp reset"; else act=drop; fi
	for n in c r s; do
		ip netns add "$p$n" && ip -n "$p$n" link set lo up || return 1
	done
	ip link add c0 netns "${p}c" type veth peer name r0 netns "${p}r" &&
	ip link add s0 netns "${p}s" type veth peer name r1 netns "${p}r" &&
	ip -n "${p}c" addr add 192.0.2.2/24 dev c0 &&
	ip -n "${p}c" addr add 2001:db8:1::2/64 dev c0 nodad &&
	ip -n "${p}r" addr add 192.0.2.1/24 dev r0 &&
	ip -n "${p}r" addr add 2001:db8:1::1/64 dev r0 nodad &&
	ip -n "${p}r" addr add 198.51.100.1/24 dev r1 &&
	ip -n "${p}r" addr add 2001:db8:2::1/64 dev r1 nodad &&
	ip -n "${p}s" addr add 198.51.100.2/24 dev s0 &&
	ip -n "${p}s" addr add 2001:db8:2::2/64 dev s0 nodad &&
	ip -n "${p}c" link set c0 up && ip -n "${p}r" link set r0 up &&
	ip -n "${p}r" link set r1 up && ip -n "${p}s" link set s0 up &&
	ip -n "${p}c" route add default via 192.0.2.1 &&
	ip -n "${p}c" -6 route add default via 2001:db8:1::1 || return 1
	# The server has no route back to the client side: only the NAT's address reaches it.
	ip netns exec "${p}r" sh -c "echo 1 >/proc/sys/net/ipv4/ip_forward &&
	    echo 1 >/proc/sys/net/ipv6/conf/all/forwarding &&
	    echo ${4:-0} >$nf/nf_conntrack_tcp_loose &&
	    echo $3 >$nf/nf_conntrack_tcp_timeout_established" || return 1
	ip netns exec "${p}r" nft -f - <<-EOF || return 1
	table inet probe {
		chain forward {
			type filter hook forward priority filter; policy accept;
			ct state invalid $act
		}
		chain postrouting {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "r1" masquerade
		}
	}
	EOF
	[ "$(ip netns exec "${p}r" cat $nf/nf_conntrack_tcp_timeout_established)" = "$3" ]
}

# copy_lines SRC FILE READY PATTERN...: copy each line written into the FIFO SRC to FILE as it
# comes; when a line matches the next PATTERN (shell patterns, in turn), write it into the FIFO
# READY too, for the test to await.
copy_lines() {
	src=$1 file=$2 ready=$3
	shift 3
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$file"
		[ $# -gt 0 ] || continue
		# shellcheck disable=SC2254 # $1 is a pattern
		case $line in
		$1) printf '%s\n' "$line" >"$ready" && shift ;;
		esac
	done <"$src"
}

nl='
'

# follow FILE PATTERN... -- CMD...: run CMD in the background, its output copied to FILE by
# copy_lines; sets $follows (its pid), $copier and $ready (the FIFO its milestones come in).
follow() {
	file=$1
	shift
	pats=
	while [ "$1" != -- ]; do
		pats="$pats$1$nl"
		shift
	done
	shift
	new_fifo
	src=$fifo
	new_fifo
	ready=$fifo
	"$@" >"$src" 2>&1 &
	follows=$!
	# shellcheck disable=SC2086 # one pattern a line, not globbed
	(IFS=$nl && set -f && copy_lines "$src" "$file" "$ready" $pats) &
	copier=$!
}

# start_far FILE PATTERN... -- CMD...: run CMD, a far end, as follow does, and wait for its
# first milestone. Sets $far and $far_ready, for reached and stop_far.
start_far() {
	far_file=$1
	follow "$@"
	far=$follows far_ready=$ready
	reached || { fail "the far end did not start: $(cat "$far_file")"; return 1; }
}

# start_listen [PATTERN...]: start_far for ka-tune probe --listen 7000 in the server namespace
# of case $c, its first milestone 'listening on', the others PATTERNs.
start_listen() {
	start_far "$tmp/$c.far" 'listening on*' "$@" -- \
	    ip netns exec "${c}s" "$bin" probe --listen 7000
}

# start_peer ARGS...: start_far for tests/idlepeer ARGS in the server namespace of case $c.
start_peer() {
	start_far "$tmp/$c.far" ready -- ip netns exec "${c}s" "$peer" "$@"
}

# reached: wait for the far end's next milestone; $far_seen then holds its line.
reached() {
	await '*' "$far_ready" "$tmp/$c.seen" && far_seen=$(cat "$tmp/$c.seen")
}

# stop_far: stop the far end with SIGTERM and see it exit 0, as probe --listen and idlepeer do;
# the copier then ends too (the FIFO held open here lets it write a milestone nobody awaited).
stop_far() {
	kill "$far"
	wait "$far"
	rc=$?
	[ "$rc" -eq 0 ] || fail "the far end exited $rc on SIGTERM"
	exec 3<>"$far_ready"
	wait "$copier"
	exec 3<&-
	far=
}

# probe_in NS RC ARGS...: run ka-tune ARGS in the network namespace NS; expect exit status RC.
probe_in() {
	ns=$1 want=$2
	shift 2
	ip netns exec "$ns" "$bin" "$@" >"$out" 2>"$err"
	got=$?
	[ "$got" -eq "$want" ] || fail "ka-tune $* in $ns exited $got, expected $want"
}

# jq_true FILTER: the JSON on stdout makes FILTER true.
jq_true() { [ "$(jq -r "$1" "$out" 2>&1)" = true ] || fail "JSON: not true: $1"; }

# result C T: the figures of a measurement, for the summary.
result() {
	jq -r --arg c "$1" --argjson t "$2" '"result: \($c): \(.lo_ms)..\(.hi_ms) ms " +
	    "(width \(.hi_ms - .lo_ms) ms), \(.loss), \(.elapsed_ms) ms run " +
	    "(\(.elapsed_ms / $t / 10 | round / 100) x \($t) s), \(.opened) connections"' "$out"
}

# measured C T MODE WIDTH ADDRESS: the JSON on stdout is a measurement of the path to ADDRESS,
# which forgets after T s by MODE: a bracket holding T (conntrack's granularity, a jiffy, is
# inside the bounds' slop), WIDTH ms wide at most, the kind of loss, within 2.5 x T, the
# suggestion for the lower bound, and no status line (stderr is not a terminal).
measured() {
	want=drop
	[ "$3" = reset ] && want=reset
	jq_true ".verdict == \"bracket\" and .lo_ms < $2 * 1000 and .hi_ms >= $2 * 1000"
	jq_true ".hi_ms - .lo_ms <= $4"
	jq_true ".loss == \"$want\" and .elapsed_ms <= $2 * 2500"
	jq_true '.ended == 0 and .failed == 0 and .address == "'"$5"'"'
	jq_true '.suggest.idle_timeout == (.lo_ms / 1000 | floor) and
	    .suggest.set == "ka-tune set --time \(.suggest.time) --intvl \(.suggest.intvl) " +
	    "--probes \(.suggest.probes)"'
	err_empty
	result "$1" "$2"
}

# bracket C MODE T WIDTH TARGET ARGS...: measure TARGET from the client with ARGS, through a
# path that forgets after T s by MODE, against probe --listen, which accepts every connection.
bracket() {
	c=$1 mode=$2 timeout=$3 width=$4 target=$5
	shift 5
	t "$c: a path that forgets after $timeout s ($mode) is measured within 2.5 x $timeout s"
	topo "$c" "$mode" "$timeout" || { fail "cannot build the path"; return; }
	start_listen || return
	probe_in "${c}c" 0 probe "$target" --json "$@"
	measured "$c" "$timeout" "$mode" "$width" "$target"
	stop_far
	opened=$(jq -r .opened "$out")
	[ "$(grep -c '^accepted 198\.51\.100\.1:\|^accepted \[2001:db8:2::1\]:' "$tmp/$c.far")" \
	    = "$opened" ] || fail "probe --listen did not accept all $opened connections"
}

# The same in words, on a path that resets; and with the global --netns, which probe enters.
text15() {
	c=t15
	t "$c: the text says the bracket, the kind of loss, and what to set"
	topo "$c" reset 15 || { fail "cannot build the path"; return; }
	start_far "$tmp/$c.far" 'listening on*' -- "$bin" --netns "${c}s" probe \
	    --listen 7000 || return
	run 0 --netns "${c}c" probe "$far4" --min 5 --max 60
	stop_far
	err_empty
	n='[0-9]+' s='[0-9]+\.[0-9]'
	grep -Eq "^the path to $far4 forgets idle TCP flows after between $s and $s s \(reset\)\$" \
	    "$out" || fail "no bracket line"
	grep -Eq "^apply: ka-tune set --time $n --intvl $n --probes $n\$" "$out" ||
	    fail "no set line"
	grep -Eq "^measured $far4 in $s s with $n connections opened: $n kept, $n lost, 0 ended " \
	    "$out" || fail "no summary line"
	out_has " lost, 0 ended by the far end, 0 failed"
	bounds=$(sed -n 's/.* between \([0-9.]*\) and \([0-9.]*\) s.*/\1 \2/p' "$out")
	echo "$bounds" | awk '{ exit !($1 < 15 && $2 >= 15 && $2 - $1 <= 0.5) }' ||
	    fail "the bracket '$bounds' does not hold 15 s within 0.5 s"
	echo "result: $c: $(head -n 1 "$out")"
}

# A server that ends idle connections itself after 5 s (idlepeer), behind a NAT that would keep
# them 600 s: what was measured is the server's limit, not the path's, and probe says so.
server() {
	c=$1 how=$2 min=$3
	t "$c: a server that ends idle connections after 5 s ($how) is told from the path"
	topo "$c" drop 600 || { fail "cannot build the path"; return; }
	start_peer 7000 5 "$how" || return
	probe_in "${c}c" 1 probe "$far4" --min "$min" --max 60 --json
	jq_true ".verdict == \"server\" and .server_end == \"$how\""
	jq_true '.server_ms >= 4900 and .server_ms <= 5500 and .elapsed_ms <= 12500'
	jq_true '.lost == 0 and .hi_ms == null and .suggest == null'
	[ "$min" -ge 5 ] || jq_true '.lo_ms >= 3500'
	err_empty
	stop_far
	echo "result: $c: $(jq -c '{verdict, server_ms, server_end, lo_ms, elapsed_ms}' "$out")"
}

# The same in words, with a FIN: probe says whose limit it is, and what to do.
serverfin() {
	c=sf
	t "$c: the text says it is the server's own limit, and points to probe --listen"
	topo "$c" drop 600 || { fail "cannot build the path"; return; }
	start_peer 7000 5 fin || return
	probe_in "${c}c" 1 probe "$far4" --min 10 --max 60
	# 5 s to the nearest tenth, give or take the jiffy of the kernel's time stamps.
	grep -Eq "^$far4 itself ended idle connections after (4\.9|5\.[01]) s \(closed \(FIN\)\)" \
	    "$out" || fail "the server's limit is not said as about 5 s"
	out_has "s (closed (FIN)): that is the server's own idle limit, not the path's"
	out_has "run 'ka-tune probe --listen PORT' on the far side and probe that port"
	stop_far
}

# A server that greets (as SSH does), then stays quiet: the greeting starts the idle time.
greet15() {
	c=g15
	t "$c: a greeting server's path is measured from the greeting"
	topo "$c" drop 15 || { fail "cannot build the path"; return; }
	start_peer -g 7000 || return
	probe_in "${c}c" 0 probe "$far4" --min 5 --max 60 --json
	measured "$c" 15 drop 600 "$far4"
	stop_far
}

# A timeout below --min: only an upper bound is known; no suggestion, exit 1.
below() {
	c=bm
	t "$c: a timeout below --min is said, and nothing suggested"
	topo "$c" reset 15 || { fail "cannot build the path"; return; }
	start_listen || return
	probe_in "${c}c" 1 probe "$far4" --min 20 --max 60 --json
	jq_true '.verdict == "below_min" and .lo_ms == null and .hi_ms >= 15000'
	jq_true '.hi_ms <= 21000 and .loss == "reset" and .suggest == null'
	run 1 --netns "${c}c" probe "$far4" --min 16 --max 60
	out_has "its idle timeout is below --min; measure again with a lower --min"
	stop_far
}

# probe --listen: it holds what comes without keepalive, and says how each connection ended.
listen() {
	c=li
	t "$c: probe --listen holds connections without keepalive and logs their ends"
	topo "$c" drop 600 || { fail "cannot build the path"; return; }
	start_listen 'accepted *(2 held)' 'ended *' || return
	[ "$far_seen" = "listening on [::]:7000" ] || fail "it says: $far_seen"
	ip netns exec "${c}c" "$bin" probe "$far4" --min 2 --max 3 --connections 2 \
	    --json >"$tmp/$c.json" 2>&1 &
	client=$!
	reached || fail "probe --listen did not accept two connections"
	run 0 --netns "${c}s" sockets --port 7000 --json
	jq_true '[.connections[] | select(.local_port == 7000)] | length >= 2 and
	    all(.keepalive == "off")'
	wait "$client" || fail "the client failed: $(cat "$tmp/$c.json")"
	reached || fail "probe --listen logged no end"
	case $far_seen in
	"ended 198.51.100.1:"*": closed by the peer (FIN) after "*" s held, "*" s idle; "*) ;;
	*) fail "the end is said as: $far_seen" ;;
	esac
	case $far_seen in
	*" segments and 0 bytes in ("*" held)") ;;
	*) fail "the end's counts are said as: $far_seen" ;;
	esac
	probe_in "${c}s" 1 probe --listen 7000
	err_has "probe: --listen 7000: the port is in use"
	stop_far
}

# SIGINT on a terminal: the status line is kept up to date in place on stderr, then cleared,
# and the bracket known so far is printed; exit 1. script(1) gives the terminal; what it
# shows, carriage returns made line ends, is awaited as a far end's output is.
sigint() {
	c=si
	t "$c: on a terminal, one status line; SIGINT prints the bracket so far, exit 1"
	command -v script >/dev/null 2>&1 || { echo "SKIP: $name: $c: no script(1)"; return; }
	topo "$c" drop 15 || { fail "cannot build the path"; return; }
	start_listen || return
	cmd="echo \$\$ >'$tmp/$c.pid'; exec ip netns exec ${c}c '$bin' probe $far4 --min 3"
	# shellcheck disable=SC2016 # $1 and $2 are the inner shell's
	follow "$tmp/$c.tty" '*kept through*' -- sh -c '
	    { SHELL=/bin/sh script -qfec "$1" /dev/null </dev/null; echo $? >"$2"; } |
	    stdbuf -o0 tr "\r" "\n"' sh "$cmd --max 60" "$tmp/$c.rc"
	if await '*' "$ready" "$tmp/$c.seen"; then
		kill -INT "$(cat "$tmp/$c.pid")"
	else
		fail "no status line said a flow was kept: $(cat -v "$tmp/$c.tty")"
	fi
	wait "$follows"
	wait "$copier"
	stop_far
	[ "$(cat "$tmp/$c.rc")" = 1 ] || fail "exit $(cat "$tmp/$c.rc") on SIGINT, expected 1"
	grep -q '^.\[Kprobe: round 1, [0-9]* s, kept through [0-9.]* s, [0-9]* open$' \
	    "$tmp/$c.tty" || fail "no status line: $(cat -v "$tmp/$c.tty")"
	# The status line is taken off (ESC [ K), then the result is printed in its place.
	said="interrupted: the path to $far4 kept idle TCP flows through [2-9]\.[0-9] s"
	grep -Eq "^.\[K$said\$" "$tmp/$c.tty" || fail "no bracket so far: $(cat -v "$tmp/$c.tty")"
}

# SIGTERM, stderr not a terminal: nothing on stderr, and the JSON says it was interrupted.
sigterm() {
	c=st
	t "$c: SIGTERM prints what is known so far, exit 1"
	topo "$c" drop 15 || { fail "cannot build the path"; return; }
	start_listen 'accepted *(16 held)' || return
	ip netns exec "${c}c" "$bin" probe "$far4" --min 5 --max 60 --json \
	    >"$out" 2>"$err" &
	client=$!
	reached || fail "the first round's 16 connections did not come"
	kill -TERM "$client"
	wait "$client"
	rc=$?
	[ "$rc" -eq 1 ] || fail "exit $rc on SIGTERM, expected 1"
	jq_true '.verdict == "interrupted" and .lo_ms == null and .hi_ms == null'
	jq_true '.opened >= 16 and .elapsed_ms < 5000 and .suggest == null'
	err_empty
	stop_far
}

# HOST a name: looked up in the test's own hosts file; no loss up to --max is a measurement.
names() {
	c=na
	t "$c: a name is looked up; no loss up to --max is said, exit 0"
	topo "$c" drop 600 || { fail "cannot build the path"; return; }
	start_listen || return
	probe_in "${c}c" 0 probe far.example:7000 --min 2 --max 8 --json
	# The lower bound: 8 s less the slop, or more when this process came late to the probe.
	jq_true '.verdict == "no_loss" and .lo_ms >= 7900 and .hi_ms == null'
	jq_true '.target == "far.example:7000" and .address == "198.51.100.2:7000"'
	jq_true '.suggest.idle_timeout == (.lo_ms / 1000 | floor)'
	probe_in "${c}c" 0 probe far.example:7000 --min 2 --max 3
	said="kept idle TCP flows through (2\.9|3\.[0-9]) s, the"
	grep -Eq "^the path to far.example:7000 $said" "$out" || fail "no loss up to --max?"
	out_has "longest idle time tested: no loss up to --max"
	grep -Eq "^an idle timeout of [23] s leaves no room for keepalive under its 5 s margin\$" \
	    "$out" || fail "it does not say that no values fit"
	stop_far
	probe_in "${c}c" 1 probe nowhere.invalid:7000
	err_is "ka-tune: probe: nowhere.invalid:7000: no address found for that name"
}

# Usage errors exit 2 with one line and nothing done; failures to connect exit 1.
usage() {
	c=us
	t "$c: bad usage exits 2 with one line; no connection exits 1"
	for args in "" "2001:db8::1:22" "[2001:db8::1]" "198.51.100.2:0" "h:1 --min 1" \
	    "h:1 --max 40000" "h:1 --min 60 --max 30" "h:1 --connections 1" \
	    "h:1 --connections 65" "h:1 --min 1.5m" "--listen 0" "--listen 7000 h:1" \
	    "--listen 7000 --json" "a:1 b:2" "h:1 --bogus" "h:1 --min"; do
		# shellcheck disable=SC2086
		run 2 probe $args
		[ "$(wc -l <"$err")" -eq 1 ] || fail "probe $args: not one line on stderr"
		out_empty
	done
	run 2 probe "$(printf 'h\033]0;x\007:1')"
	err_has "probe: 'h\033]0;x\a:1' is not HOST:PORT"
	run 2 probe h:1 --min 90 --max 1m
	err_is "ka-tune: probe: --max (60 s) must be above --min (90 s); see 'ka-tune probe --help'"
	run 0 probe "$far4" --help
	out_has "usage: ka-tune [--netns NAME|PATH | --pid PID] probe HOST:PORT"
	run 1 probe 127.0.0.1:1 --min 2 --max 3
	err_has "ka-tune: probe: 127.0.0.1:1: connection refused (nothing listens on that port, or"
	out_empty
	run 1 probe 192.0.2.99:7000 --json
	err_has "probe: 192.0.2.99:7000: "
	out_empty
	run 1 --netns nosuch probe 192.0.2.1:7000
	err_has "--netns nosuch: no such network namespace"
}

# The simulation's premise, not in all: with nf_conntrack_tcp_loose=1 the NAT never forgets.
premise() {
	c=pl
	t "$c: with nf_conntrack_tcp_loose=1 the simulated NAT never forgets"
	topo "$c" drop 15 1 || { fail "cannot build the path"; return; }
	start_listen || return
	probe_in "${c}c" 0 probe "$far4" --min 5 --max 30 --json
	jq_true '.verdict == "no_loss" and .lo_ms >= 29900'
	stop_far
}

# run_case NAME: one case, in this background subshell, with its own stdout and stderr
# files, its own counts (in $tmp/NAME.count), and its far ends stopped however it ends.
run_case() {
	out=$tmp/$1.out err=$tmp/$1.err far='' passed=0 failed=0 current=
	: >"$out"
	: >"$err"
	trap '[ -z "$far" ] || kill "$far" 2>/dev/null' EXIT
	trap 'exit 1' TERM
	case $1 in
	drop15) bracket d15 drop 15 400 "$far4" --min 5 --max 60 ;;
	drop25) bracket d25 drop 25 400 "$far4" --min 5 --max 60 ;;
	reset25) bracket r25 reset 25 400 "$far4" --min 5 --max 60 ;;
	v6drop15) bracket v15 drop 15 400 '[2001:db8:2::2]:7000' --min 5 --max 60 ;;
	fine15) bracket f15 drop 15 100 "$far4" --min 14 --max 16 --connections 64 ;;
	def60) bracket e60 drop 60 2000 "$far4" ;;
	def350) bracket e350 drop 350 10000 "$far4" ;;
	serverdata) server sd data 10 ;;
	serverreset) server sr reset 2 ;;
	text15 | serverfin | greet15 | below | listen | sigint | sigterm | names | usage | premise)
		$1 ;;
	*) t "$1"; fail "no such case" ;;
	esac
	[ -z "$current" ] || finish
	echo "$passed $failed" >"$tmp/$1.count"
}

all="drop15 drop25 text15 reset25 v6drop15 fine15 greet15 below serverfin serverdata
serverreset listen sigint sigterm names usage"
quick="drop15 text15 serverfin serverreset listen sigint sigterm names usage"
case ${KT_PROBE_CASES:-all} in
all) names_run=$all ;;
quick) names_run=$quick ;;
*) names_run=$KT_PROBE_CASES ;;
esac

start=$(uptime_ms)
for n in $names_run; do
	run_case "$n" >"$tmp/$n.log" 2>&1 &
	cases="$cases $!"
done
for p in $cases; do
	wait "$p"
done
cases=
passed=0
failed=0
for n in $names_run; do
	cat "$tmp/$n.log"
	if read -r p f <"$tmp/$n.count"; then
		passed=$((passed + p))
		failed=$((failed + f))
	else
		echo "FAIL: $name: case $n did not finish" >&2
		failed=$((failed + 1))
	fi
done
echo "$name: the cases ran at once, in $((($(uptime_ms) - start) / 1000)) s"
done_testing
