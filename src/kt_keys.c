/* kt_keys.c: the one table of what ka-tune knows about the three keys: their sysctl names and
 * /proc/sys paths, their short names, accepted ranges and kernel defaults. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * The accepted ranges are what a socket accepts for TCP_KEEPIDLE, TCP_KEEPINTVL and
 * TCP_KEEPCNT (MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT in the kernel's
 * include/net/tcp.h); the defaults are TCP_KEEPALIVE_TIME, _INTVL and _PROBES there. The
 * environment variables carry the values ka-tune exec gives the library it preloads.
 */
static const struct kt_key_info keys[KT_NKEYS] = {
	[KT_TIME] = {
		.name = "net.ipv4.tcp_keepalive_time",
		.path = "net/ipv4/tcp_keepalive_time",
		.short_name = "time",
		.env = "KA_TUNE_TIME",
		.min = 1, .max = KT_TIME_MAX, .kernel_default = 7200, .duration = 1,
	},
	[KT_INTVL] = {
		.name = "net.ipv4.tcp_keepalive_intvl",
		.path = "net/ipv4/tcp_keepalive_intvl",
		.short_name = "intvl",
		.env = "KA_TUNE_INTVL",
		.min = 1, .max = KT_INTVL_MAX, .kernel_default = 75, .duration = 1,
	},
	[KT_PROBES] = {
		.name = "net.ipv4.tcp_keepalive_probes",
		.path = "net/ipv4/tcp_keepalive_probes",
		.short_name = "probes",
		.env = "KA_TUNE_PROBES",
		.min = 1, .max = KT_PROBES_MAX, .kernel_default = 9, .duration = 0,
	},
};

/* Everything about one key. The table is static: the pointer stays valid for ever. */
const struct kt_key_info *
kt_key(enum kt_key key)
{
	assert((unsigned int)key < KT_NKEYS);
	return &keys[key];
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
	const char *path = kt_key(key)->path;
	size_t rootlen, pathlen;

	assert(root);
	assert(buf);

	rootlen = strlen(root);
	pathlen = strlen(path);
	if (len < rootlen + 1 + pathlen + 1)
		return -ENAMETOOLONG;
	memcpy(buf, root, rootlen);
	buf[rootlen] = '/';
	memcpy(buf + rootlen + 1, path, pathlen + 1);
	return 0;
}
