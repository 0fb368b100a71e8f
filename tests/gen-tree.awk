# tests/gen-tree.awk: write one random sysctl.d tree of keepalive settings, for the differential
# test of ka-tune show --boot against the real loaders (tests/boot.sh).
# usage: awk -v seed=N -v rejected=0|1 -f tests/gen-tree.awk
# It writes below the real sysctl.d directories and /etc/sysctl.conf, so it runs only where
# tests/boot.sh has put a tmpfs or a bind mount over each of them. It only names the three
# keepalive keys (and one that does not exist), which are per network namespace.

function pick(n) { return int(rand() * n) + 1 }

function value(   r, v) {
	if (rejected && rand() < 0.35) {
		split("abc|1.5||0x10|010|-5|0|99999999999|+7|5s|0x|-|08|1e3", v, "|")
		return v[pick(14)]
	}
	r = rand()
	if (r < 0.5)
		return pick(900)
	if (r < 0.8)
		return pick(120)
	return pick(12000)
}

function key(   k, g, o) {
	split("net.ipv4.tcp_keepalive_time net.ipv4.tcp_keepalive_intvl " \
	    "net.ipv4.tcp_keepalive_probes net/ipv4/tcp_keepalive_time " \
	    "net/ipv4/tcp_keepalive_intvl net/ipv4/tcp_keepalive_probes", k, " ")
	# Names the loaders read differently: a leading slash, doubled separators, ".", "..",
	# a trailing slash, ".." after a file, a second '-'.
	split("/net/ipv4/tcp_keepalive_time net//ipv4//tcp_keepalive_intvl " \
	    "net..ipv4.tcp_keepalive_probes net/ipv4/./tcp_keepalive_time " \
	    "net/ipv4/tcp_keepalive_intvl/ net/../net/ipv4/tcp_keepalive_probes " \
	    "net.ipv4..tcp_keepalive_time net/ipv4/../ipv4/tcp_keepalive_intvl " \
	    "net/core/../ipv4/tcp_keepalive_probes " \
	    "net/ipv4/tcp_keepalive_time/../tcp_keepalive_intvl -net.ipv4.tcp_keepalive_time", \
	    o, " ")
	if (rand() < 0.12)
		return o[pick(11)]
	# Globs, some spelled so that procps' matches are not the names an explicit line gives.
	split("net.ipv4.tcp_keepalive_* net/ipv4/tcp_keepalive_* net.ipv4.tcp_keepalive_????? " \
	    "net.ipv4.tcp_keepalive_[pt]* net.ipv4.tcp_keepalive_nonexistent " \
	    "net//ipv4/tcp_keepalive_* net/ipv4//tcp_keepalive_t* " \
	    "net/ipv4/../ipv4/tcp_keepalive_* n*/ipv4/tcp_keepalive_time net/ipv?/tcp_keepalive_intvl", \
	    g, " ")
	if (rand() < 0.2)
		return g[pick(10)]
	return k[pick(6)]
}

# A line, now and then with bytes the loaders split or strip differently: a NUL or a lone CR
# between two lines (systemd reads both, procps one), a leading \v or a trailing \f (white space
# to procps only).
function line(   r) {
	r = rand()
	if (r < 0.04)
		return plain() "\r" plain()
	if (r < 0.08)
		return plain() sprintf("%c", 0) plain()
	if (r < 0.11)
		return "\v" plain()
	if (r < 0.14)
		return plain() "\f"
	return plain()
}

function plain(   r, s) {
	r = rand()
	if (r < 0.08)
		return "# a comment = 5"
	if (r < 0.12)
		return "; net.ipv4.tcp_keepalive_time = 1"
	if (r < 0.16)
		return ""
	if (r < 0.22)
		return "-" key()			# an exclusion: no value
	split("=| = |\t=\t| =|= ", s, "|")
	return (rand() < 0.15 ? "-" : "") (rand() < 0.1 ? "  " : "") key() s[pick(5)] value()
}

function write_file(path,   n, i) {
	n = pick(6)
	printf "" > path
	for (i = 0; i < n; i++)
		print line() > path
	close(path)
}

BEGIN {
	srand(seed)
	split("/etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d", dirs, " ")
	split("10-base.conf 50-net.conf 90-ka-tune.conf 99-zzz.conf .hidden.conf", names, " ")
	nfiles = pick(6)
	for (f = 0; f < nfiles; f++)
		write_file(dirs[pick(4)] "/" names[pick(5)])
	if (rand() < 0.5)
		write_file("/etc/sysctl.conf")
	else
		printf "" > "/etc/sysctl.conf"
	if (rand() < 0.3)
		system("ln -sf ../sysctl.conf /etc/sysctl.d/99-sysctl.conf")
}
