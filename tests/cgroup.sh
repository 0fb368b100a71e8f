#!/bin/sh
# tests/cgroup.sh: ka-tune enable --cgroup, enable --list and disable end to end, against the
# real kernel's verifier, cgroups and sockets, in private network, mount and PID namespaces:
# a BPF file system of its own (mounted here, so the host's pins are never seen), cgroups of its
# own under the cgroup2 mount (made by the outer shell, removed by both shells' traps with every
# attachment and pin), python3 peers (tests/peer.py) that never set SO_KEEPALIVE, a foreign
# sock_ops program (tests/foreignprog.c) that must keep its place, bpftool to count programs,
# and a tmpfs over /etc/systemd/system for --persist. It never attaches to a cgroup it did not
# make.
# usage: KT_PEER=tests/peer.py KT_FOREIGN=build/tests/foreignprog sh tests/cgroup.sh ka-tune
set -u

# The cgroups live on the host's cgroup2 file system, whatever the namespaces: the outer shell
# makes the test's own, and removes it (deepest first) even if the inner shell was killed.
cg_mount() { awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo; }
cg_remove() {
	[ -d "$1" ] && find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
	[ ! -d "$1" ]
}
if [ "${KT_TEST_IN_NS:-}" != 1 ] && [ "$(id -u)" -eq 0 ] && [ -n "$(cg_mount)" ]; then
	KT_CG_BASE=$(mktemp -d --suffix=.slice "$(cg_mount)/ktcgXXXXXXXX") || KT_CG_BASE=
	export KT_CG_BASE
	trap '[ -z "$KT_CG_BASE" ] || cg_remove "$KT_CG_BASE" ||
	    echo "FAIL: cgroup.sh: $KT_CG_BASE is left" >&2' EXIT
fi

. "$(dirname "$0")/lib.sh"

mount=$(cg_mount)
[ -n "$mount" ] || { echo "SKIP: $name: no cgroup2 file system mounted; not run"; exit 0; }
[ -n "${KT_CG_BASE:-}" ] && [ -d "$KT_CG_BASE" ] ||
    { echo "FAIL: $name: could not make a cgroup under $mount" >&2; exit 1; }
for c in jq python3 bpftool; do
	command -v $c >/dev/null 2>&1 || { echo "FAIL: $name: $c not found (make deps)" >&2; exit 1; }
done
for v in KT_PEER KT_FOREIGN; do
	eval "f=\${$v:-}"
	[ -r "$f" ] || { echo "FAIL: $name: $v must name the test helper" >&2; exit 1; }
	cp "$f" "$tmp/bin/" && chmod 755 "$tmp/bin/${f##*/}" || exit 1
done
peer=$tmp/bin/peer.py
foreign=$tmp/bin/${KT_FOREIGN##*/}
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3)
ip link set lo up || { echo "FAIL: $name: cannot bring lo up" >&2; exit 1; }

base=$KT_CG_BASE
slice=${base##*/}
in=$slice/in.service		# the cgroup enabled, by its path below the mount
sib=$slice/sib.service		# a sibling, never enabled
chmod 755 "$base" && mkdir "$mount/$in" "$mount/$in/child" "$mount/$sib" || exit 1
bpffs=/sys/fs/bpf
fpin=$bpffs/kt-foreign		# the foreign program's pin, beside ka-tune's directory

# Everything this run attached and pinned goes, then its cgroups (the outer shell tries again).
cleanup() {
	stop_peers
	if [ "$(stat -f -c %T $bpffs 2>/dev/null)" = bpf_fs ]; then
		"$bin" disable --cgroup "$slice" >/dev/null 2>&1
		for c in "$in" "$in/child" "$sib"; do
			"$bin" disable --cgroup "$c" >/dev/null 2>&1
		done
		[ ! -e $fpin ] || "$foreign" detach "$mount/$in" $fpin
		rm -rf $bpffs/ka-tune
		umount $bpffs
	fi
	cg_remove "$base"
	rm -rf "$tmp"
}
trap cleanup EXIT

# incg: run a command in a cgroup: incg DIR CMD ARGS...
printf '%s\n' '#!/bin/sh' 'echo $$ >"$1/cgroup.procs" || exit 1' 'shift' 'exec "$@"' \
    >"$tmp/bin/incg" && chmod 755 "$tmp/bin/incg" || exit 1

# ka_of CTL: the peer's own view of its TCP sockets, a word each, LPORT:RPORT:KEEPALIVE:IDLE.
ka_of() { ask "$1" ka; }
# conns_are WANT CTL: every connection (not a listener) of the peer has keepalive and idle time
# as WANT says: "1:600", "0:7200".
conns_are() {
	ka_of "$2"
	n=0
	for w in $reply; do
		case $w in
		*:0:*:*) continue ;;	# a listener
		*:*:"$1") n=$((n + 1)) ;;
		*) fail "peer $2: socket $w, expected keepalive:idle $1" ;;
		esac
	done
	[ "$n" -gt 0 ] || fail "peer $2: no connection: $reply"
}

# accepted CTL N: wait until the peer holds N connections: a server accepts in its own time,
# after its client is ready. Each look is a handshake with the peer, never a sleep.
accepted() {
	i=0
	while [ $i -lt 2000 ]; do
		ask "$1" stats
		case $reply in *" conns $2") return ;; esac
		i=$((i + 1))
	done
	fail "peer $1: not $2 connections: $reply"
}

# programs CGROUP: the names of the programs attached to it, one a line, sorted.
programs() { bpftool cgroup show "$mount/$1" 2>&1 | awk 'NR > 1 { print $NF }' | sort; }
programs_are() {
	got=$(programs "$1" | tr '\n' ' ')
	[ "$got" = "$2" ] || fail "programs on $1: '$got', expected '$2'"
}
jq_true() { [ "$(jq -r "$1" "$out" 2>&1)" = true ] || fail "JSON: not true: $1"; }
ts() { stop_peers; t "$1"; }

ts "bad values and usage exit 2 before anything changes"
for args in "--time 0" "--probes 128" "--intvl 1x" "--port 80" "--pid 1" "--list"; do
	run 2 enable --cgroup "$in" $args
	out_empty
done
run 2 enable --cgroup ""
run 2 enable --list --time 60
run 2 enable --time 60
err_has "give --pid PID or --cgroup PATH"
run 2 disable
run 2 disable --cgroup "$in" --time 60
[ ! -e $bpffs/ka-tune ] || fail "$bpffs/ka-tune was made"
programs_are "$in" ""

ts "not a cgroup, no such cgroup: exit 1, each with its words"
run 1 enable --cgroup /tmp
err_has "/tmp: not a cgroup: not on the cgroup2 file system"
run 1 enable --cgroup "$slice/no-such.service" --time 60
err_is "ka-tune: enable: --cgroup $slice/no-such.service: no such cgroup"
run 1 enable --cgroup "$mount/$in/cgroup.procs"
err_has "not a cgroup: not a directory"

ts "no BPF file system: refused, saying how to mount one"
mount -t tmpfs none $bpffs || fail "cannot mount a tmpfs over $bpffs"
run 1 enable --cgroup "$in" --time 60
err_has "$bpffs is not a BPF file system"
err_has "mount -t bpf bpf $bpffs"
programs_are "$in" ""
run 0 enable --list
out_is "POLICY               ENABLED   FAILED CGROUP"
umount $bpffs
mount -t bpf -o mode=0700 bpf $bpffs || { fail "cannot mount a BPF file system"; exit 1; }
# A kernel without BPF, or a verifier that refuses it: nothing here can be tested.
if ! "$bin" enable --cgroup "$in" --dry-run >"$out" 2>"$err"; then
	echo "SKIP: $name: the kernel takes no BPF program here: $(cat "$err")"
	exit 0
fi

ts "not root: refused with exit 1, saying what is needed, and nothing made"
as_nobody 1 enable --cgroup "$in" --time 60
err_is "ka-tune: enable: --cgroup $in: permission denied: needs root (CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN)"
as_nobody 1 disable --cgroup "$in"
err_has "needs root (CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN)"
[ ! -e $bpffs/ka-tune ] || fail "$bpffs/ka-tune was made"
programs_are "$in" ""
# A cgroup the user cannot even open (mode 0700, as mktemp -d makes): still said to need root.
mkdir "$mount/$in/closed" && chmod 0700 "$mount/$in/closed" || fail "cannot make a closed cgroup"
as_nobody 1 enable --cgroup "$in/closed" --time 60
err_is "ka-tune: enable: --cgroup $in/closed: permission denied: the cgroup cannot be opened (and it needs root: CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN)"
rmdir "$mount/$in/closed"

ts "a foreign sock_ops program, attached by the test with BPF_F_ALLOW_MULTI"
"$foreign" attach "$mount/$in" $fpin || fail "cannot attach the foreign program"
programs_are "$in" "kt_foreign "

ts "--dry-run changes nothing, and says what would be done"
run 0 enable --cgroup "$in" --time 600 --dry-run
out_has "$in: to attach: keepalive 600/-/-"
err_is "dry run: nothing changed"
[ ! -e $bpffs/ka-tune ] || fail "$bpffs/ka-tune was made"
programs_are "$in" "kt_foreign "

ts "enable: connections made before get keepalive from the process walk"
start "$tmp/old" "$tmp/bin/incg" "$mount/$in" -- server 0
oldserver=$pid
oldport=$ports
start "$tmp/oc" -- client "127.0.0.1:$oldport" "[::1]:$oldport"
accepted "$tmp/old" 2
conns_are "0:7200" "$tmp/oc"
run 0 enable --cgroup "$in" --time 600
err_empty
out_has "$in: attached: keepalive 600/-/-"
out_has "$oldserver/python3: 4 enabled, 0 already on, 0 failed"
out_has "$in: 1 process now: 4 sockets enabled, 0 already on, 0 failed"
conns_are "1:600" "$tmp/old"
conns_are "0:7200" "$tmp/oc"
programs_are "$in" "ka_tune kt_foreign "
[ "$(stat -c %a $bpffs/ka-tune)" = 700 ] || fail "$bpffs/ka-tune is not mode 0700"

ts "new connections in the cgroup, active and passive, IPv4 and IPv6, get keepalive"
t0=$(uptime_ms)
start "$tmp/s" "$tmp/bin/incg" "$mount/$in" -- server 0
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport" "[::1]:$sport"
accepted "$tmp/s" 2
conns_are "1:600" "$tmp/s"
conns_are "0:7200" "$tmp/c"
start "$tmp/os" "$tmp/bin/incg" "$mount/$sib" -- server 0
osport=$ports
start "$tmp/ic" "$tmp/bin/incg" "$mount/$in" -- client "127.0.0.1:$osport" "[::1]:$osport"
accepted "$tmp/os" 2
conns_are "1:600" "$tmp/ic"
conns_are "0:7200" "$tmp/os"
# ka-tune sockets sees the timers: quiet connections, so that no retransmit timer hides them.
for c in c ic; do
	ask "$tmp/$c" pause ok
	ask "$tmp/$c" settled settled
done
ask "$tmp/s" settled settled
ask "$tmp/os" settled settled
ask "$tmp/ic" ka
icports=$(echo "$reply" | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ')
ask "$tmp/c" ka
cports=$(echo "$reply" | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ')
run 0 sockets --json
late=$(($(uptime_ms) - t0))
# due SELECT: the one connection jq's SELECT finds has keepalive on, its first probe due 600 s
# after it was established: within 600000 ms, and less by at most the time since t0.
due() {
	got=$(jq -r "[.connections[] | select($1)] | if length == 1 then .[0] |
	    \"\\(.keepalive) \\(.next_probe_ms)\" else \"\\(length) connections\" end" "$out")
	ms=${got#on }
	case $got in
	"on "[0-9]*) [ "$ms" -le 600000 ] && [ "$ms" -ge $((600000 - late - 50)) ] ||
	    fail "$1: next probe in $ms ms, expected 600000 less up to $late" ;;
	*) fail "$1: '$got', not one connection with keepalive on" ;;
	esac
}
for p in $icports; do
	due ".local_port == $p"			# active, in the cgroup
	jq_true '[.connections[] | select(.remote_port == '"$p"')] | length == 1 and
	    .[0].keepalive == "off"'		# its peer, outside
done
for p in $cports; do
	due ".remote_port == $p"		# passive, in the cgroup
	jq_true '[.connections[] | select(.local_port == '"$p"')] | length == 1 and
	    .[0].keepalive == "off"'		# its peer, outside
done

ts "a process outside the cgroup is untouched"
start "$tmp/s2" "$tmp/bin/incg" "$mount/$sib" -- server 0
s2port=$ports
start "$tmp/c2" "$tmp/bin/incg" "$mount/$sib" -- client "127.0.0.1:$s2port" "[::1]:$s2port"
accepted "$tmp/s2" 2
conns_are "0:7200" "$tmp/s2"
conns_are "0:7200" "$tmp/c2"

ts "a child cgroup inherits"
start "$tmp/s" "$tmp/bin/incg" "$mount/$in/child" -- server 0
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport" "[::1]:$sport"
accepted "$tmp/s" 2
conns_are "1:600" "$tmp/s"
run 1 enable --cgroup "$in/child" --time 60
err_has "ka-tune's program is attached to the cgroup above it, $in"
programs_are "$in/child" ""

ts "enable again with the same values: unchanged"
run 0 enable --cgroup "$in" --time 600
out_has "$in: unchanged: keepalive 600/-/-"
run 0 enable --cgroup "$in" --time 600 --json
jq_true '.command == "enable" and .changed == false and .cgroup.change == "unchanged" and
    .cgroup.before.time == 600 and .cgroup.after.time == 600 and .cgroup.after.intvl == null'

ts "--list shows the values and a counter that grows"
run 0 enable --list --json
n0=$(jq -r '.cgroups[] | select(.path == "'"$in"'") | .enabled' "$out")
jq_true '(.cgroups | length) == 1 and .cgroups[0].policy.time == 600 and
    .cgroups[0].policy.probes == null and .cgroups[0].gone == false'
start "$tmp/s" "$tmp/bin/incg" "$mount/$in" -- server 0
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport" "[::1]:$sport"
accepted "$tmp/s" 2
run 0 enable --list
out_has "$in"
n1=$(awk -v p="$in" '$4 == p { print $2 }' "$out")
[ "$n1" = $((n0 + 2)) ] || fail "counter: $n0 then $n1, expected $((n0 + 2))"
row() { grep -Eq -- "$1" "$out" || fail "no line matching: $1"; }
row "^600/-/- +$n1 +0 $in\$"
as_nobody 1 enable --list
err_has "needs root"

ts "enable with other values updates in place: one program, the same counter"
run 0 enable --cgroup "$in" --time 300 --intvl 30 --probes 4
out_has "$in: updated: keepalive 600/-/- -> 300/30/4"
programs_are "$in" "ka_tune kt_foreign "
run 0 enable --list --json
jq_true '.cgroups[0].policy == {"time": 300, "intvl": 30, "probes": 4} and
    .cgroups[0].enabled == '"$n1"
start "$tmp/s" "$tmp/bin/incg" "$mount/$in" -- server 0
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport"
accepted "$tmp/s" 1
conns_are "1:300" "$tmp/s"

ts "disable stops it for new connections; the foreign program stays"
start "$tmp/s" "$tmp/bin/incg" "$mount/$in" -- server 0
sport=$ports
start "$tmp/c" -- client "127.0.0.1:$sport"
accepted "$tmp/s" 1
run 0 disable --cgroup "$in" --dry-run
out_has "$in: to detach: keepalive was 300/30/4"
programs_are "$in" "ka_tune kt_foreign "
run 0 disable --cgroup "$in"
out_is "$in: detached: keepalive was 300/30/4"
programs_are "$in" "kt_foreign "
[ -z "$(ls -A $bpffs/ka-tune)" ] || fail "pins left: $(ls -A $bpffs/ka-tune)"
conns_are "1:300" "$tmp/s"	# kept by those that had it
start "$tmp/s3" "$tmp/bin/incg" "$mount/$in" -- server 0
s3port=$ports
start "$tmp/c3" -- client "127.0.0.1:$s3port" "[::1]:$s3port"
accepted "$tmp/s3" 2
conns_are "0:7200" "$tmp/s3"
run 0 disable --cgroup "$in"
out_is "$in: unchanged: ka-tune's program is not attached"
run 0 disable --cgroup "$in" --json
jq_true '.command == "disable" and .changed == false and .cgroup.change == "unchanged" and
    .cgroup.before == null and .dropins.unit == "in.service" and .dropins.files == []'
run 0 enable --list --json
jq_true '.cgroups == []'

ts "a program attached without BPF_F_ALLOW_MULTI keeps ka-tune off, and nothing is left"
bpftool prog show pinned $fpin >/dev/null || fail "the foreign program lost its pin"
"$foreign" detach "$mount/$in" $fpin || fail "cannot detach the foreign program"
programs_are "$in" ""
# The same program, attached again by bpftool without "multi": exclusive.
"$foreign" attach "$mount/$sib" $fpin || fail "cannot attach the foreign program to $sib"
bpftool cgroup detach "$mount/$sib" sock_ops pinned $fpin || fail "bpftool cannot detach it"
bpftool cgroup attach "$mount/$sib" sock_ops pinned $fpin ||
    fail "bpftool cannot attach it without multi"
run 1 enable --cgroup "$sib" --time 60
err_has "another program is attached to this cgroup or one above it without BPF_F_ALLOW_MULTI"
[ -z "$(ls -A $bpffs/ka-tune)" ] || fail "pins left: $(ls -A $bpffs/ka-tune)"
programs_are "$sib" "kt_foreign "
bpftool cgroup detach "$mount/$sib" sock_ops pinned $fpin || fail "bpftool cannot detach it"
rm -f $fpin

ts "--persist: drop-ins that systemd takes, written and removed with the kernel"
units=/etc/systemd/system
mount -t tmpfs -o mode=0755 none $units || fail "cannot mount a tmpfs over $units"
run 2 enable --cgroup "$in/child" --persist
err_has "is not the cgroup of a systemd service or slice"
run 0 enable --cgroup "$in" --time 600 --persist --dry-run
out_has "$units/in.service.d/50-ka-tune.conf: would be changed"
[ ! -e $units/in.service.d ] || fail "a dry run wrote $units/in.service.d"
run 0 enable --cgroup "$in" --time 600 --persist --json
jq_true '.changed and .cgroup.change == "attached" and .dropins.unit == "in.service" and
    .dropins.files[0].outcome == "changed"'
dropin=$units/in.service.d/50-ka-tune.conf
grep -qx "ExecStartPre=-+.*/ka-tune enable --cgroup $in --time 600" $dropin ||
    fail "the drop-in does not run ka-tune: $(cat $dropin)"
if command -v systemd-analyze >/dev/null 2>&1; then
	printf '[Service]\nExecStart=/bin/true\n' >$units/in.service
	exe=$(sed -n 's/^ExecStartPre=-+\([^ ]*\) .*/\1/p' $dropin)
	if [ ! -e "$exe" ]; then
		mkdir -p "${exe%/*}" && mount -t tmpfs none "${exe%/*}" && cp "$bin" "$exe"
	fi
	systemd-analyze verify --man=no in.service >"$err" 2>&1 ||
	    fail "systemd-analyze verify in.service failed"
	[ ! -s "$err" ] || fail "systemd-analyze verify has something to say"
fi
run 0 enable --cgroup "$in" --time 600 --persist
out_has "$in: unchanged: keepalive 600/-/-"
out_has "$dropin: unchanged"
run 0 disable --cgroup "$in"
out_has "$in: detached: keepalive was 600/-/-"
out_has "$dropin: removed"
[ ! -e $units/in.service.d ] || fail "$units/in.service.d is left"
umount $units

done_testing
