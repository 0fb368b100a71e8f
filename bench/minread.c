/* minread.c: the floor for bench.sh: read the three keepalive sysctls with bare libc, print. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static const char *const paths[3] = {
	"/proc/sys/net/ipv4/tcp_keepalive_time",
	"/proc/sys/net/ipv4/tcp_keepalive_intvl",
	"/proc/sys/net/ipv4/tcp_keepalive_probes",
};

/* Read one file into buf, dropping the trailing newline; returns 0 or -1. */
static int
read_value(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	if (buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

int
main(void)
{
	char v[3][32];

	for (int i = 0; i < 3; i++)
		if (read_value(paths[i], v[i], sizeof(v[i])) < 0)
			return 1;
	printf("%s %s %s\n", v[0], v[1], v[2]);
	return 0;
}
