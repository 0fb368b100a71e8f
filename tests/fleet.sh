#!/bin/sh
# tests/fleet.sh: what fleets run, end to end, in private network and mount namespaces with a
# tmpfs over /etc/sysctl.d: the JSON results of set, persist, check and apply (checked with jq
# against the schema of ka-tune(8), JSON RESULTS), set --persist and its rollback when the file
# cannot be written, and apply, the repair for check's drift.
# usage: sh tests/fleet.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

conf=/etc/sysctl.d/90-ka-tune.conf
header="# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; others are kept."

mkdir -p /etc/sysctl.d && mount -t tmpfs -o mode=0755 none /etc/sysctl.d ||
    { echo "FAIL: $name: cannot mount a tmpfs over /etc/sysctl.d" >&2; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "FAIL: $name: jq not found (make deps)" >&2; exit 1; }

file_is() { [ "$(cat "$1")" = "$2" ] || fail "$1 is not: $2 (it is: $(cat "$1" 2>&1))"; }
text() {
	printf '%s\nnet.ipv4.tcp_keepalive_time = %s\nnet.ipv4.tcp_keepalive_intvl = %s\n' \
	    "$header" "$1" "$2"
	printf 'net.ipv4.tcp_keepalive_probes = %s' "$3"
}
t_fleet() {
	t "$1"
	rm -rf /etc/sysctl.d/* /etc/sysctl.d/.[!.]* 2>/dev/null
}
# jq_true FILTER: stdout, one JSON object, makes FILTER true.
jq_true() { jq -e "$1" "$out" >/dev/null 2>&1 || fail "stdout does not make true: $1"; }

# The schema every result shares, and the members of the commands that change something.
common='(keys - ["command", "changed", "dry_run", "warnings", "error", "running", "file",
    "loader", "keys", "drift", "boot_certain", "idle_timeout"] == []) and
    (.command | type == "string") and (.changed | type == "boolean") and
    (.dry_run | type == "boolean") and (.warnings | type == "array") and
    all(.warnings[]; keys == ["code", "message"] and (.code | test("^[a-z-]+$")) and
        (.message | type == "string")) and
    ((has("error") | not) or (.error | type == "string" and length > 0))'
keyval='(.before | type == "number") and (.after | type == "number")'
change='has("running") and has("file") and
    (.running == null or (.running | type == "object" and all(.[]; '"$keyval"'))) and
    (.file == null or (.file | (keys == ["after", "before", "keys", "outcome", "path"]) and
        (.outcome | IN("changed", "unchanged", "removed")) and
        (.before == null or (.before | type == "string")) and
        (.after == null or (.after | type == "string")) and
        (.keys | keys == ["intvl", "probes", "time"]) and
        all(.keys[]; (.change | IN("none", "added", "unchanged", "changed", "removed")) and
            (.before == null or (.before | type == "number" or type == "string")) and
            (.after == null or (.after | type == "number")))))'
checked='(.loader | IN("systemd", "procps")) and (.drift | type == "boolean") and
    (.boot_certain | type == "boolean") and (.keys | keys == ["intvl", "probes", "time"]) and
    all(.keys[]; keys == ["boot", "drift", "from", "running"]) and
    (.idle_timeout == null or (.idle_timeout | keys == ["margin", "profile", "safe", "seconds"]))'
# schema_ok: the object on stdout follows the schema: a bare error object (a failure before the
# command got anywhere), or the full result of its command.
schema_ok() {
	jq_true "($common) and (
	    if has(\"error\") and (has(\"running\") or has(\"drift\") | not) then true
	    elif .command == \"check\" then $checked
	    else $change end)"
}

# --- set --json ----------------------------------------------------------------------------

t_fleet "set --json: the running values before and after, and changed"
run 0 set --json --time 600 --probes 5
schema_ok
jq_true '.command == "set" and .changed and (.dry_run | not) and .file == null'
jq_true '.running == {"time": {"before": 7200, "after": 600}, "probes": {"before": 9, "after": 5}}'
jq_true '.warnings == [] and (has("error") | not)'
values_are 600 75 5
run 0 set --json --time 600
schema_ok
jq_true '(.changed | not) and .running.time == {"before": 600, "after": 600}'

t_fleet "set --json --dry-run says what would change and changes nothing"
run 0 set --json --dry-run --time 300
schema_ok
jq_true '.changed and .dry_run and .running.time == {"before": 7200, "after": 300}'
err_has "dry run: nothing written"
values_are 7200 75 9

t_fleet "set --json on failure: the same object, what the keys hold now, and ka-tune's message"
mount --bind $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_intvl &&
    mount -o remount,bind,ro $ipv4/tcp_keepalive_intvl || fail "cannot make intvl read-only"
run 1 set --json --time 300 --intvl 30
schema_ok
jq_true '(.changed | not) and .running.time == {"before": 7200, "after": 7200}'
jq_true '.error == "net.ipv4.tcp_keepalive_intvl: cannot set 30: read-only file system (/proc/sys is read-only, as in a container: set a container'"'"'s values through its runtime: docker run --sysctl, or a Kubernetes pod'"'"'s securityContext.sysctls)\nnet.ipv4.tcp_keepalive_time: restored to 7200"'
err_has "net.ipv4.tcp_keepalive_time: restored to 7200"
umount $ipv4/tcp_keepalive_intvl
values_are 7200 75 9

t_fleet "with --json, stdout holds one object whatever the error, usage errors included"
for args in "set --json --time 0" "set --bogus --json --time 5" "set --json" \
    "persist --file '' --json" "check --behind nope --json" "apply --loader x --json" \
    "set --file --json --json --time 5"; do
	eval "run 2 $args"
	schema_ok
	jq_true '(.changed | not) and (.error | length > 0)'
	[ "$(jq -r .error "$out")" = "$(sed 's/^ka-tune: //' "$err")" ] ||
	    fail "$args: .error is not stderr's message"
done
# --file's value "--json" is a file name, not the option: no JSON then.
run 2 set --file --json --time 5
out_empty

# --- persist --json ------------------------------------------------------------------------

t_fleet "persist --json: the file's path, outcome, text before and after, and each key"
run 0 persist --json --time 300
schema_ok
jq_true '.command == "persist" and .changed and .running == null'
jq_true '.file.path == "'$conf'" and .file.outcome == "changed" and .file.before == null'
[ "$(jq -j .file.after "$out")" = "$(text 300 75 9)" ] || fail "file.after is not the text written"
jq_true '.file.after | endswith("= 9\n")'
jq_true '.file.keys.time == {"change": "added", "before": null, "after": 300}'
run 0 persist --json --time 300
jq_true '(.changed | not) and .file.outcome == "unchanged" and .file.before == .file.after'
jq_true '.file.keys.time == {"change": "unchanged", "before": 300, "after": 300}'
printf 'net.ipv4.tcp_keepalive_time = 0x1\377\n' >>$conf
run 0 persist --json --dry-run --time 300
schema_ok
jq_true '.dry_run and .changed and .file.keys.time == {"change": "changed", "before": "0x1\ufffd", "after": 300}'
jq_true '.file.before | endswith("0x1\ufffd\n")'
run 0 persist --json --remove
schema_ok
jq_true '.file.outcome == "removed" and .file.after == null and .file.keys.intvl == {"change": "removed", "before": 75, "after": null}'
[ -e $conf ] && fail "persist --remove left $conf"

t_fleet "persist --json: warnings come with a stable code"
run 0 persist --json --file /etc/sysctl.d/x.txt
schema_ok
jq_true '.warnings == [{"code": "name-not-conf", "message": "/etc/sysctl.d/x.txt: the name does not end in .conf: no loader reads it at boot"}]'
err_has "warning: /etc/sysctl.d/x.txt: the name does not end in .conf"
printf 'net.ipv4.tcp_keepalive_time = 1200\n' >/etc/sysctl.d/99-later.conf
run 0 persist --json --time 300
jq_true '[.warnings[].code] == ["boot-overridden"]'
jq_true '.warnings[0].message | startswith("net.ipv4.tcp_keepalive_time: /etc/sysctl.d/99-later.conf:1 loads later and sets 1200")'

# --- set --persist -------------------------------------------------------------------------

t_fleet "set --persist changes the kernel and the file together"
run 0 set --persist --time 300 --probes 5
out_is "net.ipv4.tcp_keepalive_time: 7200 -> 300
net.ipv4.tcp_keepalive_probes: 9 -> 5
$conf: changed"
values_are 300 75 5
file_is $conf "$(text 300 75 5)"
run 0 set --persist --json --time 300 --probes 5
schema_ok
jq_true '(.changed | not) and .file.outcome == "unchanged" and .running.probes == {"before": 5, "after": 5}'
run 0 set --persist --json --intvl 30
jq_true '.changed and .file.keys.intvl == {"change": "changed", "before": 75, "after": 30}'
values_are 300 30 5
file_is $conf "$(text 300 30 5)"
run 0 check
out_has "ok: the running values are what"

t_fleet "set --persist --dry-run writes neither"
run 0 set --persist --dry-run --json --time 600
schema_ok
jq_true '.dry_run and .changed and .file.outcome == "changed" and .running.time.after == 600'
err_has "dry run: nothing written"
values_are 7200 75 9
[ -e $conf ] && fail "a dry run wrote $conf"

t_fleet "set --persist: a file that cannot be written puts the running values back"
run 0 set --persist --time 400
mount --bind /etc/sysctl.d /etc/sysctl.d && mount -o remount,bind,ro /etc/sysctl.d ||
    fail "cannot make /etc/sysctl.d read-only"
run 1 set --persist --time 600 --intvl 60
err_is "ka-tune: $conf: cannot write: read-only file system
ka-tune: net.ipv4.tcp_keepalive_time: restored to 400
ka-tune: net.ipv4.tcp_keepalive_intvl: restored to 75"
out_empty
values_are 400 75 9
run 1 set --persist --json --time 600
schema_ok
jq_true '(.changed | not) and .running.time == {"before": 400, "after": 400} and .file == null'
jq_true '.error | endswith("net.ipv4.tcp_keepalive_time: restored to 400")'
umount /etc/sysctl.d
file_is $conf "$(text 400 75 9)"

t_fleet "set --persist: a restore that fails too is said, and JSON says what stays changed"
mount --bind /etc/sysctl.d /etc/sysctl.d && mount -o remount,bind,ro /etc/sysctl.d ||
    fail "cannot make /etc/sysctl.d read-only"
# The third open of the time file (lock, write, restore) fails.
traced -P $ipv4/tcp_keepalive_time -e trace=openat -e inject=openat:error=EIO:when=3 \
    "$bin" set --persist --json --time 600 >"$out" 2>"$err"
[ $? -eq 1 ] || fail "set --persist with a failing restore did not exit 1"
err_has "$conf: cannot write: read-only file system"
err_has "net.ipv4.tcp_keepalive_time: could not restore 7200, it stays 600: Input/output error"
schema_ok
jq_true '.changed and .running.time == {"before": 7200, "after": 600}'
values_are 600 75 9
umount /etc/sysctl.d

t_fleet "set --persist: nothing is written when the file is refused before the write"
ln -s /etc/hostname $conf
run 1 set --persist --time 600
err_has "cannot read: is a symbolic link"
err_has "ka-tune: nothing was changed"
values_are 7200 75 9

t_fleet "set --persist: a running value it would not save refuses the whole run"
echo 0 >$ipv4/tcp_keepalive_intvl
run 2 set --persist --time 600
err_is "ka-tune: net.ipv4.tcp_keepalive_intvl: the running kernel holds 0, outside 1..32767; give --intvl"
values_are 7200 0 9
[ -e $conf ] && fail "$conf was written"

t_fleet "set --persist refuses --netns and --pid, and --file goes with --persist"
run 2 --netns x set --persist --time 5
err_has "--netns and --pid do not apply to --persist"
run 2 --pid 1 set --persist --time 5
err_has "--netns and --pid do not apply to --persist"
run 2 set --file /tmp/x.conf --time 5
err_has "set: --file goes with --persist"
run 0 set --persist --file /etc/sysctl.d/50-mine.conf --time 5
file_is /etc/sysctl.d/50-mine.conf "$(text 5 75 9)"
values_are 5 75 9

# --- check --json --------------------------------------------------------------------------

t_fleet "check --json: drift and the idle-timeout verdict are separate fields"
run 0 check --json
schema_ok
jq_true '(.drift | not) and .boot_certain and .idle_timeout == null and .keys.time == {"running": 7200, "boot": 7200, "from": null, "drift": false}'
run 0 persist --time 300
run 1 check --json
jq_true '.drift and .boot_certain and .keys.time == {"running": 7200, "boot": 300, "from": {"file": "'$conf'", "line": 2}, "drift": true}'
run 1 check --json --behind aws-nat
jq_true '.drift and .idle_timeout == {"profile": "aws-nat", "seconds": 350, "margin": 35, "safe": false}'
run 0 set --time 300 --intvl 15
run 1 check --json --behind aws-nat
jq_true '.drift and .idle_timeout.safe'
run 0 set --intvl 75
run 0 check --json --idle-timeout 1h
jq_true '(.drift | not) and .idle_timeout == {"profile": null, "seconds": 3600, "margin": 360, "safe": true}'
mkfifo /etc/sysctl.d/50-fifo.conf
run 1 check --json
jq_true '(.drift | not) and (.boot_certain | not) and [.warnings[].code] == ["file-unread"]'

# --- apply ---------------------------------------------------------------------------------

t_fleet "apply sets what check reports as drift, from the boot files"
run 0 persist --time 300 --intvl 30
run 1 check
run 0 apply --dry-run
out_is "net.ipv4.tcp_keepalive_time: 7200 -> 300 ($conf:2)
net.ipv4.tcp_keepalive_intvl: 75 -> 30 ($conf:3)
net.ipv4.tcp_keepalive_probes: 9 unchanged ($conf:4)"
err_has "dry run: nothing written"
values_are 7200 75 9
run 0 apply
values_are 300 30 9
run 0 check
run 0 apply --json
schema_ok
jq_true '(.changed | not) and .file == null and (.loader | IN("procps", "systemd"))'
jq_true '.running.time == {"before": 300, "after": 300, "from": {"file": "'$conf'", "line": 2}}'

t_fleet "apply: a key no file sets gets the kernel default, as the loader leaves it"
run 0 set --time 600 --probes 3
run 0 apply --json
jq_true '.changed and .running.probes == {"before": 3, "after": 9, "from": null}'
values_are 7200 75 9

t_fleet "apply follows the loader: procps keeps an earlier value the kernel takes"
printf 'net.ipv4.tcp_keepalive_time = 500\n' >/etc/sysctl.d/10-a.conf
printf 'net.ipv4.tcp_keepalive_time = 5s\n' >/etc/sysctl.d/20-b.conf
run 0 apply --loader procps --json
jq_true '.running.time == {"before": 7200, "after": 500, "from": {"file": "/etc/sysctl.d/10-a.conf", "line": 1}}'
values_are 500 75 9
run 0 apply --loader systemd --json
jq_true '.running.time == {"before": 500, "after": 7200, "from": null}'
values_are 7200 75 9

t_fleet "apply refuses boot values ka-tune does not accept, and changes nothing"
printf 'net.ipv4.tcp_keepalive_intvl = 30\nnet.ipv4.tcp_keepalive_time = 0\n' >/etc/sysctl.d/95-x.conf
run 2 apply
err_is "ka-tune: net.ipv4.tcp_keepalive_time: the boot value 0 (/etc/sysctl.d/95-x.conf:2) is outside 1..32767; ka-tune does not set it: correct that line
ka-tune: apply: nothing was changed"
values_are 7200 75 9

t_fleet "apply refuses when a boot file cannot be read: the boot values are not known"
printf 'net.ipv4.tcp_keepalive_time = 300\n' >/etc/sysctl.d/10-a.conf
mkfifo /etc/sysctl.d/50-fifo.conf
run 1 apply --json
schema_ok
jq_true '[.warnings[].code] == ["file-unread"] and (.error | contains("cannot tell what"))'
values_are 7200 75 9

t_fleet "apply refuses --netns and --pid: boot files set the host's namespace"
run 2 --pid 1 apply
err_has "--netns and --pid do not apply to apply: boot files set the host's namespace"

t_fleet "apply: a key that cannot be written is rolled back as set does"
printf 'net.ipv4.tcp_keepalive_time = 300\nnet.ipv4.tcp_keepalive_intvl = 30\n' >$conf
mount --bind $ipv4/tcp_keepalive_intvl $ipv4/tcp_keepalive_intvl &&
    mount -o remount,bind,ro $ipv4/tcp_keepalive_intvl || fail "cannot make intvl read-only"
run 1 apply --json
schema_ok
jq_true '(.changed | not) and .running.time == {"before": 7200, "after": 7200, "from": {"file": "'$conf'", "line": 1}}'
err_has "net.ipv4.tcp_keepalive_time: restored to 7200"
umount $ipv4/tcp_keepalive_intvl
values_are 7200 75 9

done_testing
