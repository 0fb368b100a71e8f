#!/bin/sh
# tests/netns.sh: --netns, --pid and show --all-netns, end to end, inside a private network and
# mount namespace with its own /run/netns: each change lands in the target namespace and
# nowhere else.
# usage: sh tests/netns.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

mkdir -p /run/netns && mount -t tmpfs -o mode=0755 none /run/netns ||
    { echo "FAIL: $name: cannot mount a tmpfs over /run/netns" >&2; exit 1; }
ip netns add blue && ip netns add red ||
    { echo "FAIL: $name: ip netns add failed" >&2; exit 1; }

# values_in NS T I P: namespace NS (a name) holds exactly these.
values_in() {
	ns=$1
	shift
	got=$(ip netns exec "$ns" sh -c "cat $ipv4/tcp_keepalive_time $ipv4/tcp_keepalive_intvl \
	    $ipv4/tcp_keepalive_probes" | tr '\n' ' ')
	[ "$got" = "$* " ] || fail "netns $ns holds '$got', expected '$*'"
}

# values_of_pid PID T I P: the namespace of process PID holds exactly these.
values_of_pid() {
	p=$1
	shift
	got=$(nsenter -t "$p" -n sh -c "cat $ipv4/tcp_keepalive_time $ipv4/tcp_keepalive_intvl \
	    $ipv4/tcp_keepalive_probes" | tr '\n' ' ')
	[ "$got" = "$* " ] || fail "the netns of pid $p holds '$got', expected '$*'"
}

# A process in a namespace of its own, as a container's would be. It says "in" from inside the
# new namespace (unshare has entered it before running sh), then becomes sleep, keeping its pid.
new_fifo
unshare -n sh -c 'echo in; exec sleep 600 >/dev/null 2>&1' >"$fifo" 2>&1 &
container=$!
trap 'kill $container 2>/dev/null; rm -rf "$tmp"' EXIT
await in "$fifo" "$tmp/container" ||
    { echo "FAIL: $name: no process in a new namespace: $(cat "$tmp/container")" >&2; exit 1; }
[ "$(readlink /proc/$container/ns/net)" != "$(readlink /proc/self/ns/net)" ] ||
    { echo "FAIL: $name: pid $container is not in a namespace of its own" >&2; exit 1; }

t_ns() {
	t "$1"
	for ns in blue red; do
		ip netns exec $ns sh -c "echo 7200 >$ipv4/tcp_keepalive_time;
		    echo 75 >$ipv4/tcp_keepalive_intvl; echo 9 >$ipv4/tcp_keepalive_probes"
	done
	nsenter -t $container -n sh -c "echo 7200 >$ipv4/tcp_keepalive_time;
	    echo 75 >$ipv4/tcp_keepalive_intvl; echo 9 >$ipv4/tcp_keepalive_probes"
}

t_ns "--netns NAME sets that namespace and nothing else"
run 0 --netns blue set --time 600 --intvl 60 --probes 5
out_is "net.ipv4.tcp_keepalive_time: 7200 -> 600
net.ipv4.tcp_keepalive_intvl: 75 -> 60
net.ipv4.tcp_keepalive_probes: 9 -> 5"
values_in blue 600 60 5
values_in red 7200 75 9
values_are 7200 75 9
values_of_pid $container 7200 75 9

t_ns "--netns NAME shows that namespace"
ip netns exec red sh -c "echo 300 >$ipv4/tcp_keepalive_time"
run 0 --netns red show --sysctl
out_is "net.ipv4.tcp_keepalive_time = 300
net.ipv4.tcp_keepalive_intvl = 75
net.ipv4.tcp_keepalive_probes = 9"
run 0 --netns red show --json
out_has '"time": 300'

t_ns "--netns PATH takes a namespace file"
run 0 --netns /run/netns/red set --probes 3
values_in red 7200 75 3
values_in blue 7200 75 9
run 0 --netns /proc/$container/ns/net set --intvl 20
values_of_pid $container 7200 20 9

t_ns "--pid PID sets the namespace of that process and nothing else"
run 0 --pid $container set --time 5m
out_is "net.ipv4.tcp_keepalive_time: 7200 -> 300"
values_of_pid $container 300 75 9
values_are 7200 75 9
values_in blue 7200 75 9
run 0 --pid $container show --sysctl
out_has "net.ipv4.tcp_keepalive_time = 300"

t_ns "a failed set in another namespace rolls back there"
run 2 --netns blue set --time 600 --probes 0
values_in blue 7200 75 9

t_ns "show --all-netns lists every namespace with its values"
run 0 --netns blue set --time 601 --intvl 61
run 0 --pid $container set --time 602
echo 603 >$ipv4/tcp_keepalive_time
run 0 show --all-netns
blue_ino=$(stat -L -c %i /run/netns/blue)
red_ino=$(stat -L -c %i /run/netns/red)
own_ino=$(stat -L -c %i /proc/self/ns/net)
cont_ino=$(stat -L -c %i /proc/$container/ns/net)
out_has "NETNS        NAME             PID        TIME  INTVL PROBES"
grep -Eq "^$blue_ino +blue +- +601 +61 +9\$" "$out" || fail "no row for blue"
grep -Eq "^$red_ino +red +- +7200 +75 +9\$" "$out" || fail "no row for red"
grep -Eq "^$cont_ino +- +[0-9]+ +602 +75 +9\$" "$out" || fail "no row for the container"
grep -Eq "^$own_ino +- +[0-9]+ +603 +75 +9\$" "$out" || fail "no row for our own namespace"
[ "$(grep -c "^$blue_ino " "$out")" -eq 1 ] || fail "blue listed more than once"
run 0 show --all-netns --json
out_has "{\"netns\": $blue_ino, \"name\": \"blue\", \"pid\": null, \"time\": 601, \"intvl\": 61, \"probes\": 9}"
grep -q "{\"netns\": $cont_ino, \"name\": null, \"pid\": [0-9]*, \"time\": 602," "$out" ||
    fail "no JSON object for the container"
values_are 603 75 9

t_ns "a namespace that is also named is listed once, with its name and a pid"
ip netns attach named-container $container || fail "ip netns attach failed"
run 0 show --all-netns
grep -Eq "^$cont_ino +named-container +$container " "$out" || fail "no named row with the pid"
ip netns delete named-container

t_ns "unknown namespaces and processes exit 1 naming them"
run 1 --netns nosuch show
err_has "--netns nosuch: no such network namespace"
run 1 --netns /nonexistent/ns show
err_has "--netns /nonexistent/ns: no such file"
run 1 --netns ../nonexistent show
err_has "--netns ../nonexistent: no such file"
grep -q "ip netns list" "$err" && fail "a relative path was taken for a name"
run 1 --netns /etc/hostname show
err_has "--netns /etc/hostname: not a network namespace"
run 1 --pid 4194304 show
err_has "--pid 4194304: no such process"

# bounded RC ARGS...: run ka-tune as run does, killed after 10 s (exit 124) should it block.
printf '#!/bin/sh\nexec timeout 10 "%s" "$@"\n' "$bin" >"$tmp/bin/bounded" &&
    chmod 755 "$tmp/bin/bounded" || exit 1
bounded() {
	unbounded=$bin
	bin=$tmp/bin/bounded
	run "$@"
	bin=$unbounded
}

t_ns "a FIFO or a device where a namespace should be is refused at once"
mkfifo "$tmp/fifo" && mknod "$tmp/null" c 1 3 || fail "cannot make a FIFO and a device"
bounded 1 --netns "$tmp/fifo" show
err_has "--netns $tmp/fifo: not a network namespace"
bounded 1 --netns "$tmp/null" set --time 300
err_has "--netns $tmp/null: not a network namespace"
values_are 7200 75 9
mkfifo /run/netns/stray || fail "cannot make a FIFO in /run/netns"
bounded 0 show --all-netns
grep -Eq "^[0-9]+ +blue " "$out" || fail "no row for blue"
grep -q "stray" "$out" "$err" && fail "the FIFO is listed"
bounded 1 --netns stray show
err_has "--netns stray: not a network namespace"
rm -f /run/netns/stray

t_ns "bad namespace options are usage errors"
run 2 --pid 0 show
err_has "--pid: '0' is out of range; accepted 1..4194304"
run 2 --pid abc show
run 2 --pid -5 show
run 2 --netns
err_has "--netns needs a value"
run 2 --netns blue --pid $container show
err_has "exclude each other"
run 2 --netns blue
err_has "no command given"
run 2 show --all-netns --sysctl
err_has "exclude each other"

t_ns "persist refuses --netns and --pid and says where container values belong"
run 2 --netns blue persist --file "$tmp/x.conf"
err_has "--netns and --pid do not apply to persist: sysctl.d files set the host's namespace at boot"
err_has "docker run --sysctl"
err_has "securityContext.sysctls"
[ ! -e "$tmp/x.conf" ] || fail "persist wrote a file"
run 2 --pid $container persist --file "$tmp/x.conf"

# --- concurrent sets -------------------------------------------------------------------------

# values: this namespace's three values, as one line.
values() {
	echo "$(cat $ipv4/tcp_keepalive_time) $(cat $ipv4/tcp_keepalive_intvl)" \
	    "$(cat $ipv4/tcp_keepalive_probes)"
}

# when_time_is V: wait until the time key holds V (another set got that far): a handshake on
# the kernel's own state, bounded.
when_time_is() {
	i=0
	while [ "$(cat $ipv4/tcp_keepalive_time)" != "$1" ]; do
		[ $i -lt 1000 ] || { fail "the time key never became $1"; return 1; }
		sleep 0.01
		i=$((i + 1))
	done
}

# slow_set OUT ERR ARGS...: ka-tune set ARGS in the background, its second write (intvl's)
# held up 1 s by strace; $slow is its pid. LeakSanitizer cannot work under ptrace.
slow_set() {
	o=$1
	e=$2
	shift 2
	ASAN_OPTIONS=$no_lsan strace -f -o /dev/null -e trace=write \
	    -e inject=write:delay_enter=1000000:when=2 "$bin" set "$@" >"$o" 2>"$e" &
	slow=$!
}

t_ns "a set that starts while another is writing waits for it: one request wins whole"
slow_set "$tmp/a.out" "$tmp/a.err" --time 1001 --intvl 101 --probes 11
when_time_is 1001
run 0 set --time 2002 --intvl 202 --probes 22
wait $slow || fail "the first set failed: $(cat "$tmp/a.err")"
values_are 2002 202 22
out_is "net.ipv4.tcp_keepalive_time: 1001 -> 2002
net.ipv4.tcp_keepalive_intvl: 101 -> 202
net.ipv4.tcp_keepalive_probes: 11 -> 22"

t_ns "a set that fails and restores is not undone by, and does not undo, a set waiting on it"
mount --bind $ipv4/tcp_keepalive_probes $ipv4/tcp_keepalive_probes &&
    mount -o remount,bind,ro $ipv4/tcp_keepalive_probes || fail "cannot make probes read-only"
slow_set "$tmp/a.out" "$tmp/a.err" --time 1001 --intvl 101 --probes 11
when_time_is 1001
run 0 set --time 2002 --intvl 202
wait $slow && fail "the set of a read-only key did not fail"
grep -q "net.ipv4.tcp_keepalive_intvl: restored to 75" "$tmp/a.err" ||
    fail "the failed set did not restore: $(cat "$tmp/a.err")"
out_is "net.ipv4.tcp_keepalive_time: 7200 -> 2002
net.ipv4.tcp_keepalive_intvl: 75 -> 202"
values_are 2002 202 9
umount $ipv4/tcp_keepalive_probes

t_ns "50 pairs of sets at once: each reads a whole state, the end state is one request"
pids=
i=0
while [ $i -lt 50 ]; do
	"$bin" set --time 1001 --intvl 101 --probes 11 >"$tmp/set.a$i" 2>&1 &
	pids="$pids $!"
	"$bin" set --time 2002 --intvl 202 --probes 22 >"$tmp/set.b$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do
	wait "$p" || fail "a concurrent set failed"
done
case $(values) in
"1001 101 11" | "2002 202 22") ;;
*) fail "the end state $(values) is no run's request" ;;
esac
# What each run found before it wrote: the defaults or one whole request, never a mix.
for f in "$tmp"/set.a* "$tmp"/set.b*; do
	old=$(awk '{ print $2 }' "$f" | tr '\n' ' ')
	case $old in
	"7200 75 9 " | "1001 101 11 " | "2002 202 22 ") ;;
	*) fail "$f: a run found '$old'" ;;
	esac
done
rm -f "$tmp"/set.a* "$tmp"/set.b*

t_ns "a lock held elsewhere is waited for 10 s, then named; another namespace's is its own"
new_fifo
sh -c 'exec 8<"$1" && flock -x 8 && echo held && exec sleep 600 >/dev/null 2>&1' - \
    $ipv4/tcp_keepalive_time >"$fifo" 2>&1 &
holder=$!
await held "$fifo" "$tmp/holder" || fail "the lock holder did not say it holds: $(cat "$tmp/holder")"
run 0 --netns blue set --time 300
values_in blue 300 75 9
run 1 set --time 300
err_has "ka-tune: set: timed out after 10 s waiting for the lock on net.ipv4.tcp_keepalive_time \
(another ka-tune set in this network namespace, or a process holding flock on \
/proc/sys/net/ipv4/tcp_keepalive_time); nothing was changed"
out_empty
values_are 7200 75 9
kill $holder
wait $holder 2>/dev/null
run 0 set --time 300
values_are 300 75 9

t_ns "root refused a process's namespace by --pid is told so, not to become root"
setpriv --bounding-set=-sys_ptrace "$bin" --pid 1 show >"$out" 2>"$err"
[ $? -eq 1 ] || fail "--pid 1 refused to root did not exit 1"
err_is "ka-tune: --pid 1: permission denied, even to root (a process the kernel keeps from inspection)"

t_ns "root refused a process's namespace says so, lists the rest, and exits 1"
# Without CAP_SYS_PTRACE, root may not look at processes with more capabilities than its own:
# the kernel's ptrace access check refuses it, as it refuses a hardened PID 1 on some hosts.
setpriv --bounding-set=-sys_ptrace "$bin" show --all-netns >"$out" 2>"$err"
[ $? -eq 1 ] || fail "show --all-netns refused a namespace and did not exit 1"
err_has "ka-tune: not looked at: the network namespace of pid 1 and of other processes: \
permission denied, even to root"
grep -q "needs root" "$err" && fail "root was told it needs root"
grep -Eq "^$(stat -L -c %i /run/netns/blue) +blue " "$out" || fail "blue is not listed"
setpriv --bounding-set=-sys_ptrace "$bin" show --all-netns --json >"$out" 2>"$err"
[ $? -eq 1 ] || fail "show --all-netns --json refused a namespace and did not exit 1"
jq -e 'map(select(.name == "blue")) | length == 1' "$out" >/dev/null || fail "JSON: no blue"

# named NAME: the container's namespace, under one more name in /run/netns.
named() {
	touch "/run/netns/$1" && mount --bind "/proc/$container/ns/net" "/run/netns/$1" ||
	    fail "cannot name the container's namespace"
}

t_ns "names of any bytes and any length keep the table whole and the JSON valid"
long=netns-with-a-name-much-longer-than-sixteen-characters-for-the-column
evil=$(printf 'evil\n\033]0;pwned\007\377x')
ip netns add "$long" || fail "cannot add netns $long"
named "$evil"
run 0 show --all-netns
[ "$(awk '{ print length($0) }' "$out" | sort -u | wc -l)" -eq 1 ] ||
    fail "the rows are not as long as the header: the columns do not line up"
out_has " $long "
LC_ALL=C grep -q '[[:cntrl:]]' "$out" && fail "a control byte reached stdout"
[ "$(wc -l <"$out")" -eq 6 ] || fail "not a header and five rows"
out_has ' evil\n\033]0;pwned\a\377x '

run 0 show --all-netns --json
jq -e --arg long "$long" 'map(select(.name == $long)) | length == 1' "$out" >/dev/null ||
    fail "JSON: not valid, or no row named $long"
jq -e 'map(select(.name == "evil\n\u001b]0;pwned\u0007\ufffdx")) | length == 1' "$out" \
    >/dev/null || fail "JSON: the name with control and invalid bytes is not escaped as it should"
ip netns delete "$long"
umount "/run/netns/$evil" && rm -f "/run/netns/$evil"

t_ns "a user who is not root cannot enter, and is told so"
as_nobody 1 --netns blue set --time 300
err_has "--netns blue: cannot enter: permission denied (entering a namespace needs root or CAP_SYS_ADMIN)"
values_in blue 7200 75 9
as_nobody 1 --netns blue show
as_nobody 1 show --all-netns
err_has "cannot enter: permission denied"
out_has "NETNS"

done_testing
