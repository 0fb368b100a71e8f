#!/bin/sh
# tests/advice.sh: check --behind and suggest, end to end, in private network and mount
# namespaces: the kernel defaults fail behind a NAT, what suggest prints passes once set and
# persisted, every profile's figure is used, and suggestions keep their bounds.
# usage: sh tests/advice.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

mkdir -p /etc/sysctl.d && mount -t tmpfs -o mode=0755 none /etc/sysctl.d ||
    { echo "FAIL: $name: cannot mount a tmpfs over /etc/sysctl.d" >&2; exit 1; }
conntrack=$ipv4/../netfilter/nf_conntrack_tcp_timeout_established

# suggested PROFILE: the three values suggest --sysctl prints, on one line.
suggested() {
	"$bin" suggest "$@" --sysctl | awk '{ printf "%s ", $3 }'
}

t "the kernel defaults fail check --behind aws-nat, and say why"
run 1 check --behind aws-nat
out_has "ok: the running values are what"
out_has "behind aws-nat (AWS NAT gateway, idle timeout 350 s): unsafe: time 7200 + intvl 75 = 7275 s, over 315 s (the idle timeout less a 35 s margin)"

t "the worked example: suggest, set, persist, then check passes"
run 0 suggest --behind aws-nat
out_has "behind aws-nat: AWS NAT gateway, idle timeout 350 s (5m50s)"
out_has "apply: ka-tune set --time 240 --intvl 75 --probes 9"
apply=$(sed -n 's/^apply: ka-tune //p' "$out")
# shellcheck disable=SC2086
run 0 $apply
values_are 240 75 9
run 1 check --behind aws-nat
out_has "drift:"
out_has "safe: time 240 + intvl 75 = 315 s, within 315 s"
run 0 persist
run 0 check --behind aws-nat
out_has "ok: the running values are what"
out_has "behind aws-nat (AWS NAT gateway, idle timeout 350 s): safe"
rm -f /etc/sysctl.d/*

t "every profile's figure, and what suggest makes of it"
for p in aws-nat:350:"240 75 9" azure-lb:240:"162 54 9" gcp-nat:1200:"1005 75 9" \
    aliyun-nat:900:"735 75 9"; do
	prof=${p%%:*}
	rest=${p#*:}
	run 0 suggest --behind "$prof" --json
	out_has "\"behind\": \"$prof\", \"idle_timeout\": ${rest%%:*},"
	[ "$(suggested --behind "$prof")" = "${rest#*:} " ] ||
	    fail "suggest --behind $prof gave $(suggested --behind "$prof")"
done

t "conntrack is read live from this namespace"
echo 300 >$conntrack || fail "cannot set the conntrack timeout"
run 0 suggest --behind conntrack --json
out_has '"behind": "conntrack", "idle_timeout": 300, "margin": 30,'
run 1 check --behind conntrack
out_has "idle timeout 300 s): unsafe"
echo 432000 >$conntrack

t "conntrack not loaded is said plainly"
mount -t tmpfs none $ipv4/../netfilter || fail "cannot hide net/netfilter"
run 1 suggest --behind conntrack
err_has "conntrack: cannot read net.netfilter.nf_conntrack_tcp_timeout_established: no such key: the nf_conntrack module is not loaded"
run 1 check --behind conntrack
umount $ipv4/../netfilter

t "suggest --detect-within: every result keeps both bounds"
for idle in 7 10 60 240 350 900 1200 3600 432000; do
	for detect in 2 3 10 30 60 100 300 600 915 3600 86400; do
		v=$(suggested --idle-timeout $idle --detect-within $detect) ||
		    { fail "suggest --idle-timeout $idle --detect-within $detect failed"; continue; }
		set -- $v
		margin=$(( (idle + 9) / 10 ))
		[ $margin -lt 5 ] && margin=5
		[ $(($1 + $2)) -le $((idle - margin)) ] ||
		    fail "idle $idle detect $detect: $1 + $2 over $((idle - margin))"
		[ $(($1 + $2 * $3)) -le $detect ] ||
		    fail "idle $idle detect $detect: $1 + $2 x $3 over $detect"
		[ "$1" -ge 1 ] && [ "$2" -ge 1 ] && [ "$3" -ge 1 ] && [ "$3" -le 127 ] ||
		    fail "idle $idle detect $detect: values out of range: $v"
	done
done

t "what suggest prints for any idle timeout passes check --behind once applied"
for idle in 7 30 240 350 1200 86400; do
	# shellcheck disable=SC2046
	"$bin" set $(sed -n 's/^apply: ka-tune set //p' <<EOF
$("$bin" suggest --idle-timeout $idle)
EOF
) >/dev/null || fail "cannot set the suggestion for $idle s"
	run 0 persist
	run 0 check --idle-timeout $idle
done
rm -f /etc/sysctl.d/*

t "impossible requests and bad input exit 2 with the reason"
run 2 suggest --behind aws-nat --detect-within 1
err_has "--detect-within: 1 s is too short: the least any valid values take is 2 s"
run 2 suggest --idle-timeout 6
err_has "an idle timeout of 6 s leaves no room for keepalive under its 5 s margin: the least is 7 s"
run 2 suggest --behind nosuch
err_has "--behind: 'nosuch' is not a profile; known: aws-nat, azure-lb, gcp-nat, aliyun-nat, conntrack"
run 2 check --behind nosuch
run 2 suggest --idle-timeout 5x
err_has "--idle-timeout: '5x' is not a duration"
run 2 suggest --idle-timeout 0
run 2 suggest --behind aws-nat --detect-within -5
run 2 suggest
err_has "give --behind PROFILE or --idle-timeout DUR"
run 2 suggest --behind aws-nat --idle-timeout 300
err_has "exclude each other"
run 2 suggest --behind aws-nat --json --sysctl
run 2 suggest --behind aws-nat extra

t "suggest --k8s and --docker print what sets the values in a container"
run 0 suggest --behind aws-nat --k8s
out_is '# pod spec; safe sysctls from Kubernetes 1.29 (kernel 4.5 or later)
securityContext:
  sysctls:
  - name: net.ipv4.tcp_keepalive_time
    value: "240"
  - name: net.ipv4.tcp_keepalive_intvl
    value: "75"
  - name: net.ipv4.tcp_keepalive_probes
    value: "9"'
if python3 -c 'import yaml' 2>/dev/null; then
	python3 -c 'import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = {x["name"]: x["value"] for x in d["securityContext"]["sysctls"]}
sys.exit(s != {"net.ipv4.tcp_keepalive_time": "240", "net.ipv4.tcp_keepalive_intvl": "75",
    "net.ipv4.tcp_keepalive_probes": "9"})' "$out" || fail "--k8s is not the YAML it should be"
fi
run 0 suggest --idle-timeout 15m --detect-within 20m --docker
out_is "--sysctl net.ipv4.tcp_keepalive_time=606 --sysctl net.ipv4.tcp_keepalive_intvl=66 --sysctl net.ipv4.tcp_keepalive_probes=9"
# What the flags set is what --sysctl prints, key for key.
"$bin" suggest --idle-timeout 15m --detect-within 20m --sysctl | tr -d ' ' |
    sed 's/^/--sysctl /' | tr '\n' ' ' | sed 's/ $//' >"$tmp/flags"
[ "$(cat "$tmp/flags")" = "$(cat "$out")" ] || fail "--docker and --sysctl disagree"
for pair in "--k8s --docker" "--json --k8s" "--sysctl --docker"; do
	# shellcheck disable=SC2086
	run 2 suggest --behind aws-nat $pair
	err_has "exclude each other"
done

done_testing
