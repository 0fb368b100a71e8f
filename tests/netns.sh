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

# A process in a namespace of its own, as a container's would be.
unshare -n sleep 600 &
container=$!
trap 'kill $container 2>/dev/null; rm -rf "$tmp"' EXIT
i=0
while [ "$(readlink /proc/$container/ns/net)" = "$(readlink /proc/self/ns/net)" ] &&
    [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done

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
err_has "--netns /nonexistent/ns: no such network namespace"
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
err_has "--pid: '0' is not a process id (1..4194304)"
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
err_has "persist: --netns and --pid do not apply: sysctl.d files set the host's namespace at boot"
err_has "docker run --sysctl"
err_has "securityContext.sysctls"
[ ! -e "$tmp/x.conf" ] || fail "persist wrote a file"
run 2 --pid $container persist --file "$tmp/x.conf"

t_ns "a user who is not root cannot enter, and is told so"
as_nobody 1 --netns blue set --time 300
err_has "--netns blue: cannot enter: permission denied (entering a namespace needs root or CAP_SYS_ADMIN)"
values_in blue 7200 75 9
as_nobody 1 --netns blue show
as_nobody 1 show --all-netns
err_has "cannot enter: permission denied"
out_has "NETNS"

done_testing
