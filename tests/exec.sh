#!/bin/sh
# tests/exec.sh: ka-tune exec end to end, in private network and mount namespaces: a python3
# server and client (tests/peer.py) that never set SO_KEEPALIVE get it on every TCP socket,
# children through sh -c too, with the values given; UDP and unix sockets, errno, non-blocking
# connects and a failing setsockopt change nothing; statuses pass through, a signal's too;
# ka-tune's own failures exit as env(1)'s: 125, 126, 127.
# usage: KT_PEER=tests/peer.py KT_PRELOAD=build/ka-tune-preload.so KT_SYSFAIL=... \
#        sh tests/exec.sh ka-tune
set -u

. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null 2>&1 ||
    { echo "FAIL: $name: python3 not found (make deps)" >&2; exit 1; }
for v in KT_PEER KT_PRELOAD KT_SYSFAIL; do
	eval "f=\${$v:-}"
	[ -r "$f" ] || { echo "FAIL: $name: $v must name the built file" >&2; exit 1; }
done
cp "$KT_PEER" "$KT_SYSFAIL" "$tmp/bin/" || exit 1
peer=$tmp/bin/peer.py
# The copy of ka-tune finds the library where the build tree has it beside the binary.
rel=$(realpath -m --relative-to="$(dirname "$1")" "$KT_PRELOAD") &&
    mkdir -p "$tmp/bin/$(dirname "$rel")" && cp "$KT_PRELOAD" "$tmp/bin/$rel" || exit 1
lib=$(realpath "$tmp/bin/$rel")
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)
ip link set lo up || { echo "FAIL: $name: cannot bring lo up" >&2; exit 1; }

trap 'stop_peers; rm -rf "$tmp"' EXIT

undisturbed() {
	ask "$1" "grown 65536" grown
	ask "$1" stats
	case $reply in
	*" errors 0 "*) ;;
	*) fail "peer $1: the exchange was disturbed: $reply" ;;
	esac
}

# words_are CTL WORD...: the peer's TCP sockets, as "ka" gives them (LPORT:RPORT:KA:IDLE), with
# the ports left out, are exactly these words, in any order.
words_are() {
	c=$1
	shift
	ask "$c" ka
	got=$(echo "$reply" | tr ' ' '\n' | cut -d: -f3- | sort | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || fail "peer $c: sockets '$got', expected '$want' ($reply)"
}
ts() { stop_peers; t "$1"; }

ts "a server and a client that never set SO_KEEPALIVE get it on every TCP socket"
spawn "$tmp/s" "$bin" exec --time 10m -- "$python" "$peer" server "$tmp/s" 0
[ "$pid" = "$started" ] || fail "the peer's pid $pid is not ka-tune's $started: not exec'd"
sport=$ports
spawn "$tmp/c" "$bin" exec -- "$python" "$peer" client "$tmp/c" "127.0.0.1:$sport" \
    "[::1]:$sport"
undisturbed "$tmp/c"
words_are "$tmp/s" 1:600 1:600 1:600 1:600
words_are "$tmp/c" 1:7200 1:7200
ask "$tmp/c" "udp 127.0.0.1 9" "ok *"
[ "$reply" = "ok 0" ] || fail "a UDP socket got SO_KEEPALIVE: $reply"
ask "$tmp/c" "connect 127.0.0.1 $sport" "ok *"
words_are "$tmp/s" 1:600 1:600 1:600 1:600 1:600
undisturbed "$tmp/s"

ts "children started through sh -c have it too, with the values"
spawn "$tmp/s" "$bin" exec --time 300 --intvl 10 --probes 3 -- sh -c \
    "$python $peer server $tmp/s 0; :"
[ "$pid" != "$started" ] || fail "the peer is not a child of sh"
sport=$ports
spawn "$tmp/c" "$bin" exec --time 120 -- sh -c "sh -c '$python $peer client $tmp/c \
127.0.0.1:$sport; :'; :"
words_are "$tmp/c" 1:120
words_are "$tmp/s" 1:300 1:300 1:300
undisturbed "$tmp/c"
"$bin" exec --time 300 --intvl 10 --probes 3 -- sh -c 'env | grep ^KA_TUNE_ | sort' >"$out"
out_is "KA_TUNE_INTVL=10
KA_TUNE_PROBES=3
KA_TUNE_TIME=300"

# probe.py: what a program sees of its own sockets, printed one line a check; the lines must be
# the same with and without the library, but for the keepalive ones ("ka ...").
cat >"$tmp/probe.py" <<'EOF'
import ctypes, errno, os, socket
def name(e): return errno.errorcode.get(e, str(e))
def ka(s): return s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(8); port = l.getsockname()[1]
print("ka listener", ka(l))
c = socket.socket(); print("connect", c.connect_ex(("127.0.0.1", port))); print("ka client", ka(c))
a, _ = l.accept(); print("ka accepted", ka(a))
n = socket.socket(); n.setblocking(False)
print("nonblocking connect", name(n.connect_ex(("127.0.0.1", port))))
print("ka nonblocking", ka(n))
closed = socket.socket(); closed.bind(("127.0.0.1", 0)); cport = closed.getsockname()[1]; closed.close()
r = socket.socket(); print("refused", name(r.connect_ex(("127.0.0.1", cport))))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); print("udp connect", u.connect_ex(("127.0.0.1", 9)), "udp keepalive", ka(u))
x, y = socket.socketpair(); print("unix keepalive", ka(x))
libc = ctypes.CDLL(None, use_errno=True); ctypes.set_errno(0)
print("closed fd", libc.connect(999, None, 0), name(ctypes.get_errno()))
if os.environ.get("PROBE_OWN") == "no": raise SystemExit(0)
k = socket.socket(); k.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); k.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 42)
print("own choice", k.connect_ex(("127.0.0.1", port)), "idle", k.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))
EOF

ts "the program sees no difference: results, errno, non-blocking connects, UDP and unix"
"$python" "$tmp/probe.py" >"$tmp/plain" 2>&1 || fail "probe.py failed: $(cat "$tmp/plain")"
run 0 exec --time 77 -- "$python" "$tmp/probe.py"
grep -v '^ka ' "$tmp/plain" >"$tmp/plain.rest"
grep -v '^ka ' "$out" >"$tmp/exec.rest"
cmp -s "$tmp/plain.rest" "$tmp/exec.rest" ||
    fail "the program saw a difference: $(diff "$tmp/plain.rest" "$tmp/exec.rest")"
out_has "nonblocking connect EINPROGRESS"
out_has "refused ECONNREFUSED"
out_has "udp connect 0 udp keepalive 0"
out_has "unix keepalive 0"
out_has "own choice 0 idle 42"
out_has "ka listener 1"
out_has "ka client 1"
out_has "ka accepted 1"
out_has "ka nonblocking 1"
grep -q "^ka .* 1$" "$tmp/plain" && fail "without the library, keepalive was on already"

ts "a failing setsockopt is let be; a bad value in the environment is ignored"
# The probe's own setsockopt() would fail too: it is left out.
PROBE_OWN=no "$python" "$tmp/probe.py" | grep -v '^ka ' >"$tmp/plain.rest"
PROBE_OWN=no "$tmp/bin/sysfail" keepalive "$bin" exec -- "$python" "$tmp/probe.py" >"$out" \
    2>"$err" || fail "the program failed where SO_KEEPALIVE cannot be set: $(cat "$err")"
grep -v '^ka ' "$out" >"$tmp/exec.rest"
cmp -s "$tmp/plain.rest" "$tmp/exec.rest" ||
    fail "a failing setsockopt made a difference: $(diff "$tmp/plain.rest" "$tmp/exec.rest")"
out_has "ka client 0"
for bad in 0 010 -5 " 5" 5x 32768 99999999999999999999 ""; do
	KA_TUNE_TIME=$bad LD_PRELOAD=$lib "$python" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
      s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))' >"$out" 2>"$err"
	out_is "1 7200"
	err_empty
done
KA_TUNE_TIME=1m30s KA_TUNE_PROBES=4 LD_PRELOAD=$lib "$python" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
      s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT))' >"$out"
out_is "90 4"
# Variables of an outer run that this one does not give are dropped.
KA_TUNE_TIME=5 "$bin" exec -- sh -c 'echo "${KA_TUNE_TIME:-unset}"' >"$out"
out_is "unset"

ts "LD_PRELOAD is appended to, not replaced"
LD_PRELOAD=/nonexistent.so "$bin" exec -- sh -c 'echo "$LD_PRELOAD"' >"$out" 2>"$err"
out_is "/nonexistent.so:$lib"
# (An ASan build of ka-tune itself would refuse any library preloaded before its runtime.)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" LD_PRELOAD="$lib" \
    "$bin" exec -- sh -c 'echo "$LD_PRELOAD"' >"$out" 2>"$err"
out_is "$lib"

ts "the command's exit status passes through, and a signal's death is a death by that signal"
run 7 exec -- sh -c 'exit 7'
run 0 exec -- true
"$python" -c 'import subprocess, sys
p = subprocess.run([sys.argv[1], "exec", "--", "sh", "-c", "kill -TERM $$"])
print(p.returncode)' "$bin" >"$out"
out_is "-15"
# shellcheck disable=SC2016 # $$ is the innermost shell's
sh -c '"$1" exec -- sh -c "kill -KILL \$\$"; echo $?' sh "$bin" >"$out" 2>/dev/null
out_is 137

ts "a statically linked command is refused before it runs"
printf 'int main(void) { return 3; }\n' >"$tmp/static.c"
if ! cc -static -o "$tmp/static" "$tmp/static.c" 2>/dev/null; then
	echo "SKIP: $name: cc -static cannot link here (libc6-dev's static libraries): not tested"
else
	"$tmp/static"
	[ $? -eq 3 ] || fail "the static test program does not run"
	run 125 exec -- "$tmp/static"
	err_is "ka-tune: exec: $tmp/static: statically linked: no library can be preloaded into it; \
once it runs, ka-tune enable --pid turns keepalive on in its sockets (a cgroup's sockets: \
enable --cgroup, to come)"
	printf '#!%s\n' "$tmp/static" >"$tmp/static-script" && chmod 755 "$tmp/static-script"
	run 125 exec -- "$tmp/static-script"
	err_has "exec: $tmp/static: statically linked"
fi

ts "scripts run as execvp would run them"
printf '#!/bin/sh\necho "script $1 $LD_PRELOAD"\n' >"$tmp/bin/hashbang"
printf 'echo "plain $1 $LD_PRELOAD"\n' >"$tmp/bin/plain"
printf '#!/nonexistent/sh\n' >"$tmp/bin/badinterp"
chmod 755 "$tmp/bin/hashbang" "$tmp/bin/plain" "$tmp/bin/badinterp"
old_path=$PATH
PATH=$tmp/bin:$PATH
run 0 exec -- hashbang a
out_is "script a $lib"
run 0 exec -- plain b
out_is "plain b $lib"
PATH=$old_path
run 127 exec -- "$tmp/bin/badinterp"
err_is "ka-tune: exec: /nonexistent/sh: not found"

ts "ka-tune's own failures: 125 usage and values, 126 cannot run, 127 not found"
run 127 exec -- no-such-command-kt
err_is "ka-tune: exec: no-such-command-kt: not found"
printf 'echo ran\n' >"$tmp/noexec"
run 126 exec -- "$tmp/noexec"
err_has "exec: $tmp/noexec: cannot run: permission denied"
run 126 exec -- "$tmp"
for args in "--time 0 -- touch $tmp/ran" "--probes 128 -- touch $tmp/ran" "--bogus" \
    "--tim 5 -- touch $tmp/ran" "" "--"; do
	# shellcheck disable=SC2086
	run 125 exec $args
done
[ ! -e "$tmp/ran" ] || fail "a command ran though ka-tune exec refused"
run 125 --pid 1 exec -- true
run 125 --netns x exec -- true
run 0 exec --help
out_has "usage: ka-tune exec [--time DUR] [--intvl DUR] [--probes N] -- COMMAND [ARG...]"
out_has "exit status: COMMAND's own"

ts "a missing library is said, naming where it was looked for"
mkdir -p "$tmp/nolib" && cp "$bin" "$tmp/nolib/ka-tune" || fail "cannot copy ka-tune"
"$tmp/nolib/ka-tune" exec -- touch "$tmp/ran" >"$out" 2>"$err"
rc=$?
if [ $rc -eq 0 ]; then
	echo "SKIP: $name: the library is installed: a missing one not tested"
else
	[ $rc -eq 125 ] || fail "exec without its library exited $rc, expected 125"
	grep -q "^ka-tune: exec: the preload library ka-tune-preload.so is missing: not at .* nor \
at $tmp/nolib/$rel (make builds it, make install installs it)\$" "$err" ||
	    fail "not the missing library's message: $(cat "$err")"
	[ ! -e "$tmp/ran" ] || fail "the command ran without the library"
fi

done_testing
