# tests/lib.sh: the harness the end-to-end scripts source. It re-runs the calling script inside
# private network and mount namespaces (never touching the host's /proc/sys or /etc), checks the
# host's values did not move, and gives the script run/assert helpers and a summary line.
# usage, at the top of a script:  . "$(dirname "$0")/lib.sh"  (with the ka-tune path as $1)
# Every script runs in a PID namespace of its own too, with its own /proc: nothing it starts
# (a peer behind sh -c, a lock holder) can outlive it, as the kernel ends them all with it, and
# the host's processes (a PID 1 that even root may not look at, on some hosts) do not decide the
# results of the commands that look at every process (show --all-netns, sockets).

[ $# -eq 1 ] || { echo "usage: sh $0 path/to/ka-tune" >&2; exit 2; }
bin=$(realpath "$1") || exit 2
script=$(realpath "$0")
name=${script##*/}
ipv4=/proc/sys/net/ipv4

# host_state: the host's keepalive values, and /etc/sysctl.d itself and its entries, to the
# nanosecond. Not its parent (ls -la's ".."): /etc changes whenever anything on the machine adds
# a file there, such as apt-get rewriting /etc/ld.so.cache, and that is none of ka-tune's doing.
host_state() {
	cat $ipv4/tcp_keepalive_time $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_probes
	ls -ld --time-style=full-iso /etc/sysctl.d 2>&1
	ls -lA --time-style=full-iso /etc/sysctl.d 2>&1
}

if [ "${KT_TEST_IN_NS:-}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ] || ! unshare -n -m -p -f true 2>/dev/null; then
		echo "SKIP: $name needs root and unshare -n -m -p (private namespaces); not run"
		exit 0
	fi
	before=$(host_state)
	KT_TEST_IN_NS=1 unshare -n -m -p -f --mount-proc --propagation private \
	    sh "$script" "$bin"
	rc=$?
	after=$(host_state)
	if [ "$before" != "$after" ]; then
		echo "FAIL: $name: the host's keepalive values or /etc/sysctl.d changed" >&2
		exit 1
	fi
	exit $rc
fi

# --- inside the private namespaces from here on ---------------------------------------------

tmp=$(mktemp -d) || exit 1
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
# An interrupted script exits through its EXIT trap too, which stops what it started.
trap 'exit 1' HUP INT TERM
out=$tmp/out
err=$tmp/err
: >"$out"
: >"$err"
passed=0
failed=0
current=
current_failed=0

# A copy of the binary that uid 65534 may run, whatever the checkout's permissions, and that a
# rebuild during the run does not pull away.
mkdir -p "$tmp/bin" && cp "$bin" "$tmp/bin/ka-tune" && chmod 755 "$tmp/bin" || exit 1
bin=$tmp/bin/ka-tune

fail() {
	echo "FAIL: $name: $current: $*" >&2
	echo "  stdout: $(cat "$out")" >&2
	echo "  stderr: $(cat "$err")" >&2
	failed=$((failed + 1))
	current_failed=1
}

# run RC ARGS...: run ka-tune with ARGS, expect exit status RC.
run() {
	want=$1
	shift
	"$bin" "$@" >"$out" 2>"$err"
	got=$?
	[ "$got" -eq "$want" ] || fail "ka-tune $* exited $got, expected $want"
}

# as_nobody RC ARGS...: the same, as uid/gid 65534 without groups.
as_nobody() {
	want=$1
	shift
	setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/bin/ka-tune" "$@" >"$out" 2>"$err"
	got=$?
	[ "$got" -eq "$want" ] || fail "(as nobody) ka-tune $* exited $got, expected $want"
}

out_has() { grep -qF -- "$1" "$out" || fail "stdout lacks '$1'"; }
err_has() { grep -qF -- "$1" "$err" || fail "stderr lacks '$1'"; }
out_is() { [ "$(cat "$out")" = "$1" ] || fail "stdout is not: $1"; }
out_empty() { [ ! -s "$out" ] || fail "stdout is not empty"; }
# traced STRACE-ARGS...: strace -f, its trace thrown away, with LeakSanitizer off in the traced
# ka-tune (an ASan build): LeakSanitizer cannot run under ptrace.
no_lsan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
traced() { ASAN_OPTIONS=$no_lsan strace -f -o /dev/null "$@"; }

err_is() { [ "$(cat "$err")" = "$1" ] || fail "stderr is not: $1"; }
err_empty() { [ ! -s "$err" ] || fail "stderr is not empty"; }

# values_are T I P: the kernel (this namespace) holds exactly these.
values_are() {
	got="$(cat $ipv4/tcp_keepalive_time) $(cat $ipv4/tcp_keepalive_intvl)"
	got="$got $(cat $ipv4/tcp_keepalive_probes)"
	[ "$got" = "$*" ] || fail "kernel holds '$got', expected '$*'"
}

reset() {
	echo 7200 >$ipv4/tcp_keepalive_time
	echo 75 >$ipv4/tcp_keepalive_intvl
	echo 9 >$ipv4/tcp_keepalive_probes
}

# Handshakes with background processes. A test never sleeps to let one get ready, and never
# reads what an earlier run left in a file: each run gets a FIFO of its own, the process writes a
# line into it once it is ready, and the test blocks reading it. The wait is bounded, generously:
# a load that slows every step must not fail a test, only a process that never gets there.
handshake_secs=60

# new_fifo: make a FIFO no earlier run has used; its path is then in $fifo.
new_fifo() {
	fifo=$(mktemp -u "$tmp/fifo.XXXXXX") && mkfifo -m 600 "$fifo" ||
	    { echo "FAIL: $name: cannot make a FIFO in $tmp" >&2; exit 1; }
}

# await PATTERN FIFO FILE: copy the lines written into FIFO to FILE until one matches the shell
# PATTERN. Fails if the writers close FIFO before, or after $handshake_secs s; FILE then holds
# what they wrote. The FIFO is opened under the time limit too: a writer that never comes
# cannot block the test.
await() {
	timeout "$handshake_secs" sh -c '
		exec <"$2" || exit 1
		while IFS= read -r line; do
			printf "%s\n" "$line"
			case $line in $1) exit 0 ;; esac
		done
		exit 1' sh "$1" "$2" >"$3"
}

# Background peers (tests/peer.py and the like), which the scripts talk to through two FIFOs of
# their own, CTL.in and CTL.out, a line each way. spawn CTL COMMAND...: make them afresh (mode
# 0666: a peer may run as another user), run COMMAND in the background, its output in CTL.log,
# and wait for its "ready PID PORT...": sets $pid (the peer's, as it says), $ports (its
# listening ports) and $started (the background job's pid). stop_peers ends every one started.
peers=
stop_peers() {
	for p in $peers; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	peers=
}

spawn() {
	c=$1
	shift
	rm -f "$c.in" "$c.out"
	mkfifo -m 666 "$c.in" "$c.out" || { fail "cannot make $c's FIFOs"; return; }
	"$@" >"$c.log" 2>&1 &
	peers="$peers $!"
	started=$!
	await "ready *" "$c.out" "$c.reply" || fail "$* did not get ready: $(cat "$c.log")"
	pid=$(awk '{ print $2 }' "$c.reply")
	ports=$(cut -d' ' -f3- "$c.reply")
}

# start CTL [WRAPPER...] -- MODE PEER-ARGS...: spawn tests/peer.py ($peer, run by $python, both
# set by the script) under WRAPPER, which execs it.
start() {
	c=$1
	shift
	wrap=
	while [ "$1" != -- ]; do
		wrap="$wrap $1"
		shift
	done
	mode=$2
	shift 2
	spawn "$c" $wrap "$python" "$peer" "$mode" "$c" "$@"
}

# ask CTL LINE [PATTERN]: send the peer a command, and wait for its answer (matching PATTERN,
# default anything), which is then in $reply.
ask() {
	timeout "$handshake_secs" sh -c 'echo "$1" >"$2"' sh "$2" "$1.in" ||
	    fail "peer $1: cannot send '$2'"
	await "${3:-*}" "$1.out" "$1.reply" || fail "peer $1: no answer to '$2': $(cat "$1.log")"
	reply=$(tail -n 1 "$1.reply")
}

# uptime_ms: milliseconds since boot, in steps of 10 ms: a clock that never jumps, like the
# kernel's timers and ka-tune's lock wait.
uptime_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# t NAME: start a test case, with the kernel back at its defaults.
t() {
	[ -z "$current" ] || finish
	current=$1
	current_failed=0
	reset
}

finish() {
	[ "$current_failed" -eq 0 ] && passed=$((passed + 1))
	current=
}

# done_testing: close the last case and print the summary line; the script's exit status.
done_testing() {
	[ -z "$current" ] || finish
	echo "$name: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
