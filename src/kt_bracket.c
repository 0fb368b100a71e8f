/* kt_bracket.c: what a probe tests and what the answers say: the idle times each round gives
 * its connections, and the bracket on the path's idle timeout that every flow kept raises and
 * every flow lost lowers. No sockets and no clocks here. */
#include <assert.h>
#include <errno.h>

#include "katune.h"
#include "kt_internal.h"

int
kt_probe_params_check(const struct kt_probe_params *par)
{
	assert(par);

	if (par->min_secs < KT_PROBE_IDLE_MIN || par->min_secs > KT_PROBE_IDLE_MAX ||
	    par->max_secs < KT_PROBE_IDLE_MIN || par->max_secs > KT_PROBE_IDLE_MAX ||
	    par->conns < KT_PROBE_CONNS_MIN || par->conns > KT_PROBE_CONNS_MAX)
		return -ERANGE;
	if (par->max_secs <= par->min_secs)
		return -EINVAL;
	return 0;
}

/*
 * The spread's ratio is a fixed-point number with 20 bits after the point: one part in a
 * million is finer than any idle time needs, and an idle time in ms (below 2^25) times a ratio
 * (below 2^35) stays far inside 64 bits.
 */
#define FRAC_BITS	20
#define ONE		(1ULL << FRAC_BITS)

/* ms multiplied steps times by ratio, cut to whole ms each time; it stops once past limit. */
static unsigned long long
scale(unsigned long long ms, unsigned long long ratio, unsigned int steps,
    unsigned long long limit)
{
	for (unsigned int i = 0; i < steps && ms <= limit; i++)
		ms = ms * ratio >> FRAC_BITS;
	return ms;
}

/*
 * The first round's idle times: n of them from min_ms to max_ms, both included, each the same
 * factor above the one before, so that the gap a timeout falls into is the same fraction of it
 * wherever it lies: the unknown spans decades. The factor is found by bisection, in integers.
 * Duplicates (a range too narrow for n) are left out. Writes ret_idle[0..*ret_n - 1],
 * increasing; returns 0.
 */
int
kt_spread(long long min_ms, long long max_ms, unsigned int n, long long *ret_idle,
    unsigned int *ret_n)
{
	unsigned long long lo = ONE, hi, mid, v = (unsigned long long)min_ms;
	unsigned int k = 0;

	assert(ret_idle);
	assert(ret_n);
	assert(min_ms > 0 && max_ms > min_ms && max_ms <= KT_PROBE_IDLE_MAX * 1000LL && n >= 2);

	/* hi reaches max_ms in one step already; lo never does. */
	hi = ((unsigned long long)(max_ms / min_ms) + 1) * ONE;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (scale(v, mid, n - 1, (unsigned long long)max_ms) >= (unsigned long long)max_ms)
			hi = mid;
		else
			lo = mid;
	}
	for (unsigned int i = 0; i + 1 < n && v < (unsigned long long)max_ms; i++) {
		if (k == 0 || (long long)v > ret_idle[k - 1])
			ret_idle[k++] = (long long)v;
		v = scale(v, hi, 1, (unsigned long long)max_ms);
	}
	ret_idle[k++] = max_ms;
	*ret_n = k;
	return 0;
}

/*
 * The second round's idle times: up to n of them evenly inside (lo_ms, hi_ms), the ends left
 * out (they are known), never closer than KT_PROBE_STEP_MS to each other or to the ends. Even
 * spacing makes the final bracket as narrow as n allows in seconds, which the result is read
 * in. Writes ret_idle[0..*ret_n - 1], increasing, and returns 0; *ret_n is 0 when the bracket is
 * too narrow to split.
 */
int
kt_refine(long long lo_ms, long long hi_ms, unsigned int n, long long *ret_idle,
    unsigned int *ret_n)
{
	long long span = hi_ms - lo_ms, fit;
	unsigned int m;

	assert(ret_idle);
	assert(ret_n);
	assert(lo_ms >= 0 && hi_ms > lo_ms);

	fit = span / KT_PROBE_STEP_MS - 1;
	m = fit < 0 ? 0 : fit < (long long)n ? (unsigned int)fit : n;
	for (unsigned int k = 1; k <= m; k++)
		ret_idle[k - 1] = lo_ms + span * k / (m + 1);
	*ret_n = m;
	return 0;
}

/* Start with nothing known. */
void
kt_bracket_init(struct kt_bracket *b)
{
	assert(b);

	*b = (struct kt_bracket){ .lo_ms = 0, .hi_ms = -1, .loss = KT_LOSS_NONE };
}

/*
 * A flow was kept through idle_ms: the timeout is above it. Returns 1 when that raised the
 * bracket, 0 when it was known, or -EDOM, leaving *b as it was, when a flow was lost after no
 * more idle than that: the path does not behave as one idle timer.
 */
int
kt_bracket_kept(struct kt_bracket *b, long long idle_ms)
{
	assert(b);

	if (b->hi_ms >= 0 && idle_ms >= b->hi_ms)
		return -EDOM;
	if (idle_ms <= b->lo_ms)
		return 0;
	b->lo_ms = idle_ms;
	return 1;
}

/*
 * A flow was lost after idle_ms, as loss says: the timeout is at most that. Returns 1 when that
 * lowered the bracket, 0 when it was known, or -EDOM, leaving *b as it was, when a flow was
 * kept through as much idle or more.
 */
int
kt_bracket_lost(struct kt_bracket *b, long long idle_ms, enum kt_loss loss)
{
	assert(b);
	assert(loss != KT_LOSS_NONE);

	if (idle_ms <= b->lo_ms)
		return -EDOM;
	if (b->hi_ms >= 0 && idle_ms >= b->hi_ms)
		return 0;
	b->hi_ms = idle_ms;
	b->loss = loss;
	return 1;
}

/* Whether a flow idle idle_ms can still narrow the bracket: it lies inside. */
int
kt_bracket_open(const struct kt_bracket *b, long long idle_ms)
{
	assert(b);

	return idle_ms > b->lo_ms && (b->hi_ms < 0 || idle_ms < b->hi_ms);
}
