/* kt_sockgroup.c: count the connections by the process holding them, the neglectful first. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "katune.h"

/* What connections are grouped by: their process, or their user when none was seen. */
struct group_key {
	int pid;
	unsigned int uid;
	unsigned int sock;
};

static int
by_owner(const void *a, const void *b)
{
	const struct group_key *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->pid == 0 && x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return 0;
}

/* Most connections without keepalive first, then most connections, then by pid (0 last), uid. */
static int
by_neglect(const void *a, const void *b)
{
	const struct kt_sock_group *x = a, *y = b;
	size_t nx = x->on + x->off + x->unknown, ny = y->on + y->off + y->unknown;

	if (x->off != y->off)
		return x->off > y->off ? -1 : 1;
	if (nx != ny)
		return nx > ny ? -1 : 1;
	if ((x->pid == 0) != (y->pid == 0))
		return x->pid == 0 ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* Sort keys by owner, count each run of one owner as a group, then sort the groups. */
int
kt_sock_group(const struct kt_sock *socks, size_t n, struct kt_sock_group **ret_groups,
    size_t *ret_n)
{
	struct kt_sock_group *groups = NULL;
	struct group_key *keys;
	size_t nkeys = 0, ngroups = 0;

	assert(socks || n == 0);
	assert(ret_groups);
	assert(ret_n);

	keys = reallocarray(NULL, n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (socks[i].ka != KT_KA_NA)
			keys[nkeys++] = (struct group_key){ socks[i].pid, socks[i].uid, i };
	qsort(keys, nkeys, sizeof(*keys), by_owner);
	groups = reallocarray(NULL, nkeys ? nkeys : 1, sizeof(*groups));
	if (!groups) {
		free(keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nkeys; i++) {
		const struct kt_sock *s = &socks[keys[i].sock];
		struct kt_sock_group *g;

		if (i == 0 || by_owner(&keys[i - 1], &keys[i]) != 0) {
			g = &groups[ngroups++];
			*g = (struct kt_sock_group){ .pid = s->pid, .uid = s->uid };
			memcpy(g->comm, s->comm, sizeof(g->comm));
		}
		g = &groups[ngroups - 1];
		if (s->ka == KT_KA_ON)
			g->on++;
		else if (s->ka == KT_KA_OFF)
			g->off++;
		else
			g->unknown++;
	}
	free(keys);
	qsort(groups, ngroups, sizeof(*groups), by_neglect);
	*ret_groups = groups;
	*ret_n = ngroups;
	return 0;
}

