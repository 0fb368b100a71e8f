#!/bin/sh
# tests/ansible.sh: the katune.keepalive.ka_tune Ansible module (ansible/), run for real by
# Debian's ansible-playbook against localhost inside private network and mount namespaces with a
# tmpfs over /etc/sysctl.d: a first run changes, a second is ok, --check --diff shows the diff
# and changes nothing, a bad value fails with ka-tune's message, state=absent takes it all back.
# KT_ANSIBLE_LOG=FILE keeps ansible-playbook's output there.
# usage: sh tests/ansible.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

conf=/etc/sysctl.d/90-ka-tune.conf
collections=$(cd "$(dirname "$script")/../ansible" && pwd) || exit 1
command -v ansible-playbook >/dev/null 2>&1 ||
    { echo "FAIL: $name: ansible-playbook not found (make deps installs ansible-core)" >&2; exit 1; }
mkdir -p /etc/sysctl.d && mount -t tmpfs -o mode=0755 none /etc/sysctl.d ||
    { echo "FAIL: $name: cannot mount a tmpfs over /etc/sysctl.d" >&2; exit 1; }

# Ansible's own files in the temp directory, none of the machine's configuration, no colours.
mkdir -p "$tmp/home" "$tmp/ansible"
: >"$tmp/ansible.cfg"
export HOME="$tmp/home" ANSIBLE_CONFIG="$tmp/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$collections"
export ANSIBLE_LOCAL_TEMP="$tmp/ansible" ANSIBLE_REMOTE_TEMP="$tmp/ansible" ANSIBLE_NOCOLOR=1
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0
export ANSIBLE_INVENTORY_UNPARSED_WARNING=0 ANSIBLE_STDOUT_CALLBACK=default

# play RC [ANSIBLE-PLAYBOOK-OPTIONS...] < TASK: run one ka_tune task, given as the YAML of its
# arguments on stdin (a file: a pipe would run play in a subshell, its verdict lost), on
# localhost; expect exit status RC. The recap line is then in $recap.
play() {
	want=$1
	shift
	{
		printf -- '- hosts: localhost\n  gather_facts: false\n  vars:\n'
		printf '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
		printf '  tasks:\n    - katune.keepalive.ka_tune:\n        binary: %s\n' "$bin"
		sed 's/^/        /'
	} >"$tmp/play.yml"
	ansible-playbook -i localhost, -c local "$@" "$tmp/play.yml" >"$out" 2>"$err"
	got=$?
	recap=$(grep '^localhost *:' "$out" | tr -s ' ')
	if [ -n "${KT_ANSIBLE_LOG:-}" ]; then
		printf '### %s: ansible-playbook %s\n' "$current" "$*" >>"$KT_ANSIBLE_LOG"
		cat "$out" >>"$KT_ANSIBLE_LOG"
	fi
	[ "$got" -eq "$want" ] || fail "ansible-playbook $* exited $got, expected $want"
}
recap_is() {
	[ "$recap" = "localhost : ok=$1 changed=$2 unreachable=0 failed=$3 skipped=0 rescued=0 ignored=0 " ] ||
	    fail "recap is '$recap', not ok=$1 changed=$2 failed=$3"
}
file_is() { [ "$(cat "$1")" = "$2" ] || fail "$1 is not: $2 (it is: $(cat "$1" 2>&1))"; }
text() {
	printf '# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; others are kept.\n'
	printf 'net.ipv4.tcp_keepalive_time = %s\nnet.ipv4.tcp_keepalive_intvl = %s\n' "$1" "$2"
	printf 'net.ipv4.tcp_keepalive_probes = %s' "$3"
}
t_ansible() {
	t "$1"
	rm -rf /etc/sysctl.d/* /etc/sysctl.d/.[!.]* 2>/dev/null
}

t_ansible "ansible-doc reads the module's documentation"
ansible-doc katune.keepalive.ka_tune >"$out" 2>"$err" || fail "ansible-doc failed"
out_has "set --persist"

t_ansible "a first run changes the kernel and the file; a second one is ok"
printf 'time: 4m\nintvl: 75\nprobes: 9\n' >"$tmp/task"
play 0 <"$tmp/task"
recap_is 1 1 0
values_are 240 75 9
file_is $conf "$(text 240 75 9)"
play 0 <"$tmp/task"
recap_is 1 0 0

t_ansible "--check --diff shows the running values and the file before and after, changes nothing"
printf 'time: 4m\nintvl: 75\nprobes: 9\n' >"$tmp/task"
play 0 <"$tmp/task"
printf 'time: 10m\nprobes: 5\n' >"$tmp/task"
play 0 --check --diff <"$tmp/task"
recap_is 1 1 0
out_has "--- before: running values"
out_has "-net.ipv4.tcp_keepalive_time = 240"
out_has "+net.ipv4.tcp_keepalive_time = 600"
out_has "+net.ipv4.tcp_keepalive_probes = 5"
out_has "--- before: $conf"
values_are 240 75 9
file_is $conf "$(text 240 75 9)"
play 0 --diff <"$tmp/task"
recap_is 1 1 0
values_are 600 75 5
file_is $conf "$(text 600 75 5)"
play 0 --check --diff <"$tmp/task"
recap_is 1 0 0

t_ansible "a bad value fails the task with ka-tune's message, and changes nothing"
printf 'time: 0\nprobes: 5\n' >"$tmp/task"
play 2 <"$tmp/task"
recap_is 0 0 1
out_has "--time: '0' is out of range; accepted 1..32767 seconds (up to 9h6m7s)"
values_are 7200 75 9
[ -e $conf ] && fail "a failed task wrote $conf"

t_ansible "a file that cannot be written fails the task, and the kernel is put back"
mount --bind /etc/sysctl.d /etc/sysctl.d && mount -o remount,bind,ro /etc/sysctl.d ||
    fail "cannot make /etc/sysctl.d read-only"
printf 'time: 5m\n' >"$tmp/task"
play 2 <"$tmp/task"
recap_is 0 0 1
out_has "$conf: cannot write: read-only file system"
out_has "net.ipv4.tcp_keepalive_time: restored to 7200"
values_are 7200 75 9
umount /etc/sysctl.d

t_ansible "state=absent takes the file out and the running values back to the boot values"
printf 'time: 5m\nintvl: 30\n' >"$tmp/task"
play 0 <"$tmp/task"
values_are 300 30 9
printf 'state: absent\n' >"$tmp/task"
play 0 --check --diff <"$tmp/task"
recap_is 1 1 0
out_has "-net.ipv4.tcp_keepalive_intvl = 30"
[ -e $conf ] || fail "check mode removed $conf"
play 0 <"$tmp/task"
recap_is 1 1 0
[ -e $conf ] && fail "state=absent left $conf"
values_are 7200 75 9
play 0 <"$tmp/task"
recap_is 1 0 0

t_ansible "runtime only, persist only, and an image tree"
printf 'time: 5m\npersist: false\n' >"$tmp/task"
play 0 <"$tmp/task"
recap_is 1 1 0
values_are 300 75 9
[ -e $conf ] && fail "persist: false wrote $conf"
printf 'probes: 4\nruntime: false\n' >"$tmp/task"
play 0 <"$tmp/task"
recap_is 1 1 0
values_are 300 75 9
file_is $conf "$(text 300 75 4)"
mkdir "$tmp/image"
printf 'root: %s\ntime: 100\nintvl: 10\nprobes: 3\n' "$tmp/image" >"$tmp/task"
play 0 <"$tmp/task"
recap_is 1 1 0
file_is "$tmp/image$conf" "$(text 100 10 3)"
printf 'root: %s\ntime: 100\nruntime: true\n' "$tmp/image" >"$tmp/task"
play 2 <"$tmp/task"
out_has "root is an image tree"
printf 'state: absent\npersist: false\n' >"$tmp/task"
play 2 <"$tmp/task"
out_has "it needs persist"
values_are 300 75 9

done_testing
