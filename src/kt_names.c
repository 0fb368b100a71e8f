/* kt_names.c: the three known keys, their sysctl names and /proc/sys paths, and their limits. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "katune.h"

static const struct {
	const char *name;	/* dotted sysctl name */
	const char *path;	/* the same below /proc/sys */
	const char *option;	/* the command line option that sets it */
	int max;
	int duration;		/* seconds (1) or a plain count (0) */
} keys[KT_NKEYS] = {
	[KT_TIME] = { "net.ipv4.tcp_keepalive_time", "net/ipv4/tcp_keepalive_time", "--time",
		KT_TIME_MAX, 1 },
	[KT_INTVL] = { "net.ipv4.tcp_keepalive_intvl", "net/ipv4/tcp_keepalive_intvl", "--intvl",
		KT_INTVL_MAX, 1 },
	[KT_PROBES] = { "net.ipv4.tcp_keepalive_probes", "net/ipv4/tcp_keepalive_probes",
		"--probes", KT_PROBES_MAX, 0 },
};

const char *
kt_key_name(enum kt_key key)
{
	assert(key < KT_NKEYS);
	return keys[key].name;
}

const char *
kt_key_option(enum kt_key key)
{
	assert(key < KT_NKEYS);
	return keys[key].option;
}

int
kt_key_min(enum kt_key key)
{
	assert(key < KT_NKEYS);
	return 1;
}

int
kt_key_max(enum kt_key key)
{
	assert(key < KT_NKEYS);
	return keys[key].max;
}

int
kt_key_is_duration(enum kt_key key)
{
	assert(key < KT_NKEYS);
	return keys[key].duration;
}

/*
 * Find the key a sysctl name stands for, in dotted (net.ipv4.tcp_keepalive_time) or slashed
 * (net/ipv4/tcp_keepalive_time) form. Returns 0 and sets *ret_key, or -ENOENT for any other name.
 */
int
kt_key_from_name(const char *name, enum kt_key *ret_key)
{
	assert(name);
	assert(ret_key);

	for (int k = 0; k < KT_NKEYS; k++) {
		if (strcmp(name, keys[k].name) == 0 || strcmp(name, keys[k].path) == 0) {
			*ret_key = k;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Write the file that holds a key below root (normally KT_PROC_ROOT) into buf. The path is made
 * only of root and the key's fixed relative path. Returns 0, or -ENAMETOOLONG when buf is short.
 */
int
kt_key_path(const char *root, enum kt_key key, char *buf, size_t len)
{
	size_t rootlen, pathlen;

	assert(root);
	assert(buf);
	assert(key < KT_NKEYS);

	rootlen = strlen(root);
	pathlen = strlen(keys[key].path);
	if (len < rootlen + 1 + pathlen + 1)
		return -ENAMETOOLONG;
	memcpy(buf, root, rootlen);
	buf[rootlen] = '/';
	memcpy(buf + rootlen + 1, keys[key].path, pathlen + 1);
	return 0;
}
