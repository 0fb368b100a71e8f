#!/bin/sh
# tests/metrics.sh: ka-tune metrics end to end, in private network, mount and PID namespaces:
# the text it prints must pass promtool check metrics, say the values, drift and verdict as they
# are, count the connections tests/sockpeer holds by process name (names with any bytes, in
# valid UTF-8 and told apart), and --output must replace its file whole.
# usage: KT_SOCKPEER=path/to/sockpeer sh tests/metrics.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null 2>&1 ||
    { echo "FAIL: $name: promtool not found (make deps)" >&2; exit 1; }
[ -x "${KT_SOCKPEER:-}" ] ||
    { echo "FAIL: $name: KT_SOCKPEER must name the built tests/sockpeer" >&2; exit 1; }
cp "$KT_SOCKPEER" "$tmp/bin/sockpeer" && chmod 755 "$tmp/bin/sockpeer" || exit 1
peer=$tmp/bin/sockpeer
ip link set lo up || { echo "FAIL: $name: cannot bring lo up" >&2; exit 1; }
mkdir -p /etc/sysctl.d && mount -t tmpfs -o mode=0755 none /etc/sysctl.d ||
    { echo "FAIL: $name: cannot mount a tmpfs over /etc/sysctl.d" >&2; exit 1; }

trap 'stop_peers; rm -rf "$tmp"' EXIT

# start_peer SOCKPEER-ARGS...: run sockpeer in the background until it says it is ready.
start_peer() {
	new_fifo
	"$peer" "$@" >"$fifo" 2>&1 &
	peers="$peers $!"
	await ready "$fifo" "$tmp/peer.out" || fail "sockpeer $* did not get ready: $(cat "$tmp/peer.out")"
	rm -f "$fifo"
}

# promtool_ok FILE: promtool finds nothing wrong in FILE.
promtool_ok() {
	promtool check metrics <"$1" >"$tmp/promtool" 2>&1 ||
	    fail "promtool check metrics: $(cat "$tmp/promtool")"
}
# sample METRIC-WITH-LABELS VALUE: stdout has exactly this sample line.
sample() { grep -qxF -- "$1 $2" "$out" || fail "no sample '$1 $2'"; }
no_sample() { ! grep -q -- "^$1[ {]" "$out" || fail "a sample of $1"; }

t "metrics prints the values, detection time, drift and connections; promtool agrees"
run 0 metrics
promtool_ok "$out"
err_empty
sample ka_tune_keepalive_time_seconds 7200
sample ka_tune_keepalive_intvl_seconds 75
sample ka_tune_keepalive_probes 9
sample ka_tune_dead_peer_detection_seconds 7875
grep -qx 'ka_tune_boot_drift{loader="\(systemd\|procps\)"} 0' "$out" || fail "no drift 0"
sample ka_tune_boot_unread_files 0
sample 'ka_tune_connections_unowned{keepalive="off"}' 0
no_sample ka_tune_idle_timeout_safe
for m in keepalive_time_seconds keepalive_intvl_seconds keepalive_probes boot_drift \
    dead_peer_detection_seconds boot_unread_files connections connections_unowned; do
	grep -qx "# TYPE ka_tune_$m gauge" "$out" || fail "no TYPE line for ka_tune_$m"
	grep -q "^# HELP ka_tune_$m ." "$out" || fail "no HELP line for ka_tune_$m"
done

t "drift, unread files and the idle-timeout verdict follow the machine"
run 0 persist --time 240
run 0 metrics --behind aws-nat
promtool_ok "$out"
grep -qx 'ka_tune_boot_drift{loader="[a-z]*"} 1' "$out" || fail "no drift 1"
sample 'ka_tune_idle_timeout_seconds{behind="aws-nat"}' 350
sample 'ka_tune_idle_timeout_safe{behind="aws-nat"}' 0
run 0 set --time 240
run 0 metrics --behind aws-nat
grep -qx 'ka_tune_boot_drift{loader="[a-z]*"} 0' "$out" || fail "no drift 0 after set"
sample 'ka_tune_idle_timeout_safe{behind="aws-nat"}' 1
mkfifo /etc/sysctl.d/50-fifo.conf
run 0 metrics
sample ka_tune_boot_unread_files 1
err_has "50-fifo.conf: cannot read: not a regular file"
rm -f /etc/sysctl.d/*
echo 0 >$ipv4/tcp_keepalive_intvl
run 0 metrics --behind aws-nat
promtool_ok "$out"
sample ka_tune_keepalive_intvl_seconds 0
no_sample ka_tune_dead_peer_detection_seconds
sample 'ka_tune_idle_timeout_safe{behind="aws-nat"}' 0

t "connections are counted by process name, any bytes in a name told apart in valid UTF-8"
start_peer -n web on offx2
start_peer -n web on
start_peer -n "$(printf 'caf\303\251')" off
start_peer -n "$(printf 'a"b\134c')" on
start_peer -n "$(printf 'x\377\033]0')" off
start_peer -n 'x\xff\x1b]0' off
run 0 metrics
promtool_ok "$out"
# Each sockpeer holds both ends; the accepting ends have no keepalive.
sample 'ka_tune_connections{process="web",keepalive="on"}' 2
sample 'ka_tune_connections{process="web",keepalive="off"}' 6
sample 'ka_tune_connections{process="web",keepalive="unknown"}' 0
sample "ka_tune_connections{process=\"$(printf 'caf\303\251')\",keepalive=\"off\"}" 2
sample 'ka_tune_connections{process="a\"b\\\\c",keepalive="on"}' 1
sample 'ka_tune_connections{process="x\\xff\\x1b]0",keepalive="off"}' 2
sample 'ka_tune_connections{process="x\\\\xff\\\\x1b]0",keepalive="off"}' 2
iconv -f UTF-8 -t UTF-8 "$out" >/dev/null 2>&1 || fail "the output is not valid UTF-8"
if LC_ALL=C grep -q '[[:cntrl:]]' "$out"; then fail "a control byte reached the output"; fi
stop_peers

t "--output replaces the file whole, mode 0644, for the textfile collector"
mkdir "$tmp/textfile"
printf 'old\n' >"$tmp/textfile/ka-tune.prom"
: >"$tmp/textfile/.ka-tune.prom.AbC123"
(umask 077 && "$bin" metrics --output "$tmp/textfile/ka-tune.prom" >"$out" 2>"$err") ||
    fail "metrics --output failed: $(cat "$err")"
out_empty
promtool_ok "$tmp/textfile/ka-tune.prom"
[ "$(stat -c %a "$tmp/textfile/ka-tune.prom")" = 644 ] || fail "mode is not 644"
[ "$(ls -A "$tmp/textfile")" = ka-tune.prom ] || fail "left: $(ls -A "$tmp/textfile")"
run 0 metrics
cmp -s "$out" "$tmp/textfile/ka-tune.prom" || fail "--output differs from stdout"
run 0 metrics --output "$tmp/textfile/ka-tune.txt"
err_has "ka-tune.txt: the name does not end in .prom: the textfile collector does not read it"
run 1 metrics --output "$tmp/nodir/ka-tune.prom"
err_is "ka-tune: $tmp/nodir/ka-tune.prom: cannot write: No such file or directory"
ln -s ka-tune.prom "$tmp/textfile/link.prom"
run 1 metrics --output "$tmp/textfile/link.prom"
err_has "link.prom: cannot write: is a symbolic link"

t "metrics takes no --netns or --pid, and judges --behind like check"
run 2 --pid 1 metrics
err_has "--netns and --pid do not apply to metrics"
run 2 metrics --behind nowhere
err_has "--behind: 'nowhere' is not a profile"
run 2 metrics --output ''
err_has "metrics: --output needs a non-empty path"
out_empty

done_testing
