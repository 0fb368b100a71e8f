/* kt_advice.c: middlebox idle timeouts, whether keepalive values outlast them, and values that
 * do. */
#include <assert.h>
#include <errno.h>
#include <string.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * The built-in profiles. The figures are the vendors' documented idle timeouts for established
 * TCP flows (see the man page for where each comes from); conntrack is read from this machine.
 */
static const struct kt_profile profiles[] = {
	{ "aws-nat", "AWS NAT gateway", 350 },
	{ "azure-lb", "Azure Load Balancer (default idle timeout)", 240 },
	{ "gcp-nat", "Google Cloud NAT (established TCP)", 1200 },
	{ "aliyun-nat", "Alibaba Cloud NAT gateway", 900 },
	{ "conntrack", "this machine's netfilter conntrack (established TCP)", 0 },
};

#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

/* The sysctl conntrack keeps an idle established TCP flow for, below /proc/sys. */
#define CONNTRACK_PATH "net/netfilter/nf_conntrack_tcp_timeout_established"

/* The i-th built-in profile, or NULL past the last: for listing them. */
const struct kt_profile *
kt_profile_at(size_t i)
{
	return i < NPROFILES ? &profiles[i] : NULL;
}

/*
 * Find a profile by name. Returns 0 and sets *ret, or -ENOENT. The conntrack profile's timeout
 * is 0 here: kt_profile_timeout() reads it.
 */
int
kt_profile_find(const char *name, const struct kt_profile **ret)
{
	assert(name);
	assert(ret);

	for (size_t i = 0; i < NPROFILES; i++) {
		if (strcmp(name, profiles[i].name) == 0) {
			*ret = &profiles[i];
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The idle timeout of a profile in seconds; for conntrack, read live from root (KT_PROC_ROOT)
 * in the caller's network namespace. Returns 0 and sets *ret_secs, or -ENOENT when conntrack is
 * not loaded, -ERANGE when it holds a timeout below 1 s, or another negative errno.
 */
int
kt_profile_timeout(const struct kt_profile *p, const char *root, long long *ret_secs)
{
	char path[4096];
	size_t rlen, plen = sizeof(CONNTRACK_PATH);
	int v, r;

	assert(p);
	assert(root);
	assert(ret_secs);

	if (p->idle_timeout > 0) {
		*ret_secs = p->idle_timeout;
		return 0;
	}
	rlen = strlen(root);
	if (rlen + 1 + plen > sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, root, rlen);
	path[rlen] = '/';
	memcpy(path + rlen + 1, CONNTRACK_PATH, plen);
	r = kt_read_int(path, &v);
	if (r < 0)
		return r;
	if (v < 1)
		return -ERANGE;
	*ret_secs = v;
	return 0;
}

/*
 * The safety margin under an idle timeout: a tenth of it, at least 5 s. It covers the
 * middlebox's timer granularity, a round trip, and clocks that do not tick alike.
 */
long long
kt_idle_margin(long long idle)
{
	long long m = (idle + 9) / 10;

	return m < 5 ? 5 : m;
}

/*
 * Judge values against an idle timeout. A connection stays safe when the first probe comes
 * before the middlebox forgets the flow, and a second one still does when the first is lost:
 * time + intvl <= idle - margin. Returns 0 when safe, -ETIMEDOUT when the middlebox may drop
 * idle connections first, -ERANGE when the values themselves are outside their ranges.
 */
int
kt_behind_check(const struct kt_values *v, long long idle)
{
	assert(v);
	assert((v->mask & KT_ALL) == KT_ALL);

	if (!kt_values_valid(v))
		return -ERANGE;
	if ((long long)v->val[KT_TIME] + v->val[KT_INTVL] > idle - kt_idle_margin(idle))
		return -ETIMEDOUT;
	return 0;
}

static int
min_int(long long a, long long b)
{
	return (int)(a < b ? a : b);
}

/*
 * Suggest values that keep idle connections alive behind a middlebox with the given idle
 * timeout, and, when detect > 0, notice a dead peer within detect seconds
 * (time + intvl * probes <= detect). Never above the kernel's defaults (7200/75/9): probing
 * less often than Linux does by default helps nobody. Probes stay at 9 while the bound allows
 * it, intvl takes at most half the detection budget and a quarter of the idle budget, and time
 * gets the rest. Returns 0 and sets *ret, or -EDOM when no valid values satisfy both bounds.
 */
int
kt_suggest(long long idle, long long detect, struct kt_values *ret)
{
	long long budget = idle - kt_idle_margin(idle);

	assert(ret);
	assert(idle > 0);

	if (budget < 2)
		return -EDOM;
	for (int probes = kt_key(KT_PROBES)->kernel_default; probes >= 1; probes--) {
		long long intvl = budget / 4, time;

		if (detect > 0 && intvl > detect / (2 * probes))
			intvl = detect / (2 * probes);
		intvl = min_int(intvl, kt_key(KT_INTVL)->kernel_default);
		if (intvl < 1)
			intvl = 1;
		time = min_int(budget - intvl, kt_key(KT_TIME)->kernel_default);
		if (detect > 0 && time > detect - intvl * probes)
			time = detect - intvl * probes;
		if (time < 1)
			continue;
		*ret = (struct kt_values){
			.mask = KT_ALL,
			.val = { [KT_TIME] = (int)time, [KT_INTVL] = (int)intvl,
				 [KT_PROBES] = probes },
		};
		return 0;
	}
	return -EDOM;
}
