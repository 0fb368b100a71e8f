#!/bin/sh
# tests/units.sh: the systemd unit ka-tune ships, ka-tune-slice@.service as make install writes
# it, checked with systemd-analyze verify: alone, and with the two drop-ins enable --persist
# writes for a slice. In private mount and network namespaces, with a tmpfs over
# /etc/systemd/system and ka-tune at the path the unit runs it from, so that the host's units and
# binaries are never touched. (tests/cgroup.sh verifies the drop-ins ka-tune itself writes.)
# usage: KT_UNIT=path/to/ka-tune-slice@.service sh tests/units.sh path/to/ka-tune
set -u

. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 ||
    { echo "SKIP: $name: no systemd-analyze (apt-get install systemd); not run"; exit 0; }
[ -f "${KT_UNIT:-}" ] ||
    { echo "FAIL: $name: KT_UNIT must name the built ka-tune-slice@.service" >&2; exit 1; }
units=/etc/systemd/system
mkdir -p $units && mount -t tmpfs -o mode=0755 none $units ||
    { echo "FAIL: $name: cannot mount a tmpfs over $units" >&2; exit 1; }

# ka-tune where the unit's ExecStart= runs it: bound over the installed one, or in a tmpfs.
exe=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$KT_UNIT")
case $exe in
/*/ka-tune) ;;
*) echo "FAIL: $name: $KT_UNIT runs '$exe', not an absolute path to ka-tune" >&2; exit 1 ;;
esac
if [ -e "$exe" ]; then
	mount --bind "$bin" "$exe"
else
	mkdir -p "${exe%/*}" && mount -t tmpfs none "${exe%/*}" && cp "$bin" "$exe"
fi || { echo "FAIL: $name: cannot put ka-tune at $exe" >&2; exit 1; }
cp "$KT_UNIT" "$units/" || exit 1

# verify UNIT: systemd-analyze verify finds nothing to say of UNIT; its debug dump, which shows
# each unit as loaded with its drop-ins, goes to $out.
verify() {
	systemd-analyze verify --man=no "$1" >"$err" 2>&1 ||
	    fail "systemd-analyze verify $1 failed"
	[ ! -s "$err" ] || fail "systemd-analyze verify $1 has something to say"
	SYSTEMD_LOG_LEVEL=debug systemd-analyze verify --man=no "$1" >"$out" 2>&1
}

t "the template alone: an instance runs ka-tune, in its slice, once"
printf '[Unit]\nDescription=a slice\n' >$units/ktunits.slice
verify ka-tune-slice@ktunits.slice.service
out_has "Description: Keepalive for the TCP connections of ktunits.slice (ka-tune)"
out_has "Command Line: $exe enable --cgroup"
out_has "Slice: ktunits.slice"

t "with the drop-ins enable --persist writes for a slice"
mkdir -p "$units/ka-tune-slice@ktunits.slice.service.d" $units/ktunits.slice.d
cat >"$units/ka-tune-slice@ktunits.slice.service.d/50-ka-tune.conf" <<'UNIT'
[Service]
Environment=KA_TUNE_CGROUP=ktunits.slice "KA_TUNE_VALUES=--time 600 --intvl 30 --probes 4"
UNIT
printf '[Unit]\nWants=ka-tune-slice@ktunits.slice.service\n' >$units/ktunits.slice.d/50-ka-tune.conf
verify ka-tune-slice@ktunits.slice.service
out_has "Environment: KA_TUNE_CGROUP=ktunits.slice"
out_has "Environment: KA_TUNE_VALUES=--time 600 --intvl 30 --probes 4"
verify ktunits.slice
out_has "Wants: ka-tune-slice@ktunits.slice.service"

t "a mistake in a drop-in is found: the check can fail"
printf '[Service]\nEnvironmentt=x\n' >"$units/ka-tune-slice@ktunits.slice.service.d/50-ka-tune.conf"
systemd-analyze verify --man=no ka-tune-slice@ktunits.slice.service >"$err" 2>&1
err_has "Unknown key 'Environmentt'"

done_testing
