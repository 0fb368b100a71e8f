/* kt_probe.c: measure how long the path to a TCP server keeps an idle flow. Connections that
 * never send each test one idle time (kt_conn.c): every answered probe raises the bracket on
 * the path's idle timeout, every lost one lowers it (kt_bracket.c). Round 1 spreads the idle
 * times over the whole range; round 2 spreads a second set inside the gap the timeout lies in,
 * opened as soon as that gap is the next one, so that the whole takes about twice the timeout,
 * never the sum of the idle times. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "katune.h"
#include "kt_internal.h"

/* Room for round 1 and one set of round 2. */
#define CONNS_MAX	(2 * KT_PROBE_CONNS_MAX)

enum phase {
	P_START,	/* kt_probe_run() not called yet */
	P_FIRST,	/* the first connection is being opened, address after address */
	P_RUN,		/* measuring */
	P_DONE,		/* finished, or failed (err) */
};

struct kt_probe {
	struct kt_probe_params par;
	struct addrinfo *ai;
	const struct addrinfo *cur;	/* the address in use, or being tried */
	char addr[KT_PROBE_ADDR_LEN];
	enum phase phase;
	int err;			/* why no verdict, as a negative errno, or 0 */
	long long start_ms, tick_ms, end_ms;

	long long plan[KT_PROBE_CONNS_MAX];	/* round 1's idle times */
	unsigned int nplan;
	struct kt_conn conns[CONNS_MAX];
	size_t cap;			/* slots in use: twice par.conns */
	struct pollfd pfds[CONNS_MAX];
	size_t pidx[CONNS_MAX];		/* pfds[i] watches conns[pidx[i]] */

	struct kt_bracket br;
	int round;
	int want_refine;		/* a round-2 set is due: the next gap is known */
	int have_refine;
	long long refine_top;		/* the top of the round-2 set's span */
	int max_kept;			/* round 1's longest idle time was kept */
	int conflict;
	long long conflict_kept, conflict_lost;
	long long server_ms;
	enum kt_end server_end;
	unsigned int opened, kept, lost, ended, failed;

	kt_probe_cb cb;			/* during kt_probe_run() */
	void *userdata;
	int stop;			/* cb asked to stop */
};

/* Tell the caller where the measurement is; remember when it asks to stop. */
static void
emit(struct kt_probe *p)
{
	struct kt_probe_status st = { .round = p->phase == P_RUN ? p->round : 0,
		.elapsed_ms = kt_now_ms() - p->start_ms, .lo_ms = p->br.lo_ms,
		.hi_ms = p->br.hi_ms };

	if (!p->cb)
		return;
	for (size_t i = 0; i < p->cap; i++)
		st.open += p->conns[i].state != KT_CONN_CLOSED;
	if (p->cb(&st, p->userdata) != 0)
		p->stop = 1;
}

/* Open a connection to the address in use that tests idle_ms, in a free slot. */
static int
open_conn(struct kt_probe *p, int round, long long idle_ms)
{
	for (size_t i = 0; i < p->cap; i++) {
		struct kt_conn *c = &p->conns[i];
		int r;

		if (c->state != KT_CONN_CLOSED)
			continue;
		r = kt_conn_open(c, p->cur, round, idle_ms);
		p->opened += r == 0;
		return r;
	}
	return -ENOBUFS;
}

/* Open the first connection to the first address from p->cur on that takes one; when none
 * does, the measurement is over, failed with the last address's error. */
static void
open_first(struct kt_probe *p)
{
	for (; p->cur; p->cur = p->cur->ai_next) {
		int r = open_conn(p, 1, p->plan[0]);

		if (r == 0)
			return;
		p->err = r;
	}
	p->phase = P_DONE;
}

/* A connection failed to open. While the first is tried, that means the next address. */
static void
connect_failed(struct kt_probe *p, struct kt_conn *c, int err)
{
	kt_conn_close(c);
	if (p->phase != P_FIRST) {
		p->failed++;
		return;
	}
	p->err = err;
	p->cur = p->cur->ai_next;
	open_first(p);
}

/* A connection is up. The first one fixes the address, and round 1 opens the rest. */
static void
connected(struct kt_probe *p)
{
	if (p->phase != P_FIRST)
		return;
	p->phase = P_RUN;
	p->err = 0;
	kt_addr_text(p->cur->ai_addr, p->cur->ai_addrlen, p->addr, sizeof(p->addr));
	for (unsigned int i = 1; i < p->nplan; i++)
		if (open_conn(p, 1, p->plan[i]) < 0)
			p->failed++;
	emit(p);
}

/* Two answers disagree: the first such pair is what the result shows. */
static void
conflict(struct kt_probe *p, long long kept, long long lost)
{
	if (p->conflict)
		return;
	p->conflict = 1;
	p->conflict_kept = kept;
	p->conflict_lost = lost;
}

/* The path kept c through idle_ms. When c is of round 1, the gap above it may be the one the
 * timeout lies in: round 2 is opened there. */
static void
kept(struct kt_probe *p, const struct kt_conn *c, long long idle_ms)
{
	if (kt_bracket_kept(&p->br, idle_ms) == -EDOM)
		conflict(p, idle_ms, p->br.hi_ms);
	p->kept++;
	if (c->round == 1) {
		p->max_kept |= c->idle_ms == p->plan[p->nplan - 1];
		if (!p->have_refine || c->idle_ms >= p->refine_top)
			p->want_refine = 1;
	}
	emit(p);
}

/* The far end ended c by itself, idle for as long as it could tell. */
static void
ended(struct kt_probe *p, struct kt_conn *c, enum kt_end how)
{
	long long idle_ms = kt_now_ms() - c->data_ms;

	if (p->server_ms < 0 || idle_ms < p->server_ms) {
		p->server_ms = idle_ms;
		p->server_end = how;
	}
	p->ended++;
	kt_conn_close(c);
	emit(p);
}

/* c failed with err: a flow lost, the far end's reset, or a connection lost to the count. */
static void
died(struct kt_probe *p, struct kt_conn *c, int err)
{
	enum kt_loss loss;
	long long idle_ms;
	int r = kt_conn_lost(c, err, &idle_ms, &loss);

	if (r == 0) {
		ended(p, c, KT_END_RESET);
		return;
	}
	kt_conn_close(c);
	if (r < 0) {
		p->failed++;
		return;
	}
	if (kt_bracket_lost(&p->br, idle_ms, loss) == -EDOM)
		conflict(p, p->br.lo_ms, idle_ms);
	else if (!p->have_refine && p->br.lo_ms > 0)
		p->want_refine = 1;
	p->lost++;
	emit(p);
}

/* poll() reported revents on c. */
static void
on_input(struct kt_probe *p, struct kt_conn *c, short revents)
{
	int r;

	if (c->state == KT_CONN_CONNECTING) {
		r = kt_conn_connected(c, revents);
		if (r < 0)
			connect_failed(p, c, r);
		else if (r == 0)
			connected(p);
		return;
	}
	r = kt_conn_input(c, revents);
	if (r < 0)
		died(p, c, -r);
	else if (r == KT_NEWS_FIN)
		ended(p, c, KT_END_FIN);
	else if (r == KT_NEWS_DATA && !kt_conn_greeting(c))
		ended(p, c, KT_END_DATA);
}

/* c's time has come: to give up connecting, to send its probe, or to look for the answer. */
static void
on_due(struct kt_probe *p, struct kt_conn *c)
{
	long long idle_ms;
	int r;

	if (c->state == KT_CONN_CONNECTING) {
		connect_failed(p, c, -ETIMEDOUT);
		return;
	}
	if (c->state == KT_CONN_IDLE) {
		r = kt_conn_trigger(c);
	} else {
		r = kt_conn_check(c, &idle_ms);
		if (r == 1) {
			kept(p, c, idle_ms);
			return;
		}
	}
	if (r < 0) {
		kt_conn_close(c);
		p->failed++;
	}
}

static int
unresolved(const struct kt_conn *c)
{
	return c->state == KT_CONN_CONNECTING || c->state == KT_CONN_IDLE ||
	    c->state == KT_CONN_PROBING;
}

/*
 * Whether c can still narrow the bracket: its idle time lies inside, and below the idle time
 * after which the far end ends connections itself (it would end c before c's probe).
 */
static int
informative(const struct kt_probe *p, const struct kt_conn *c)
{
	return kt_bracket_open(&p->br, c->idle_ms) &&
	    (p->server_ms < 0 || c->idle_ms < p->server_ms);
}

/*
 * Open round 2's connections evenly inside (lo, top), top being the next idle time round 1
 * tests (or the shortest loss): the gap the timeout lies in if that connection is lost. The
 * set opened for a gap now passed, which has sent no probe yet, is closed first.
 */
static void
open_refine(struct kt_probe *p)
{
	long long top = p->br.hi_ms, idle[KT_PROBE_CONNS_MAX];
	unsigned int n;

	p->want_refine = 0;
	for (size_t i = 0; i < p->cap; i++) {
		const struct kt_conn *c = &p->conns[i];

		if (c->round == 1 && unresolved(c) && c->idle_ms > p->br.lo_ms &&
		    (top < 0 || c->idle_ms < top))
			top = c->idle_ms;
	}
	if (top < 0)
		return;
	for (size_t i = 0; i < p->cap; i++)
		if (p->conns[i].round == 2)
			kt_conn_close(&p->conns[i]);
	kt_refine(p->br.lo_ms, top, p->par.conns, idle, &n);
	p->have_refine = 1;
	p->refine_top = top;
	if (n == 0)
		return;
	p->round = 2;
	for (unsigned int k = 0; k < n; k++)
		if (open_conn(p, 2, idle[k]) < 0)
			p->failed++;
	emit(p);
}

/*
 * After every event: close the connections that can no longer narrow the bracket, open round
 * 2's next set when its gap is known, and say whether the measurement is finished.
 */
static int
settle(struct kt_probe *p)
{
	int open = 0;

	if (p->phase != P_RUN)
		return p->phase == P_DONE;
	if (p->conflict)
		return 1;
	for (size_t i = 0; i < p->cap; i++) {
		struct kt_conn *c = &p->conns[i];

		if ((c->state == KT_CONN_CONNECTING || c->state == KT_CONN_IDLE) &&
		    !informative(p, c))
			kt_conn_close(c);
	}
	if (p->want_refine)
		open_refine(p);
	for (size_t i = 0; i < p->cap; i++)
		open += unresolved(&p->conns[i]) && informative(p, &p->conns[i]);
	return open == 0;
}

/* Act on the connections whose time has come. */
static void
run_due(struct kt_probe *p)
{
	long long now = kt_now_ms();

	for (size_t i = 0; i < p->cap && !p->stop; i++) {
		struct kt_conn *c = &p->conns[i];

		if (unresolved(c) && c->due_ms <= now)
			on_due(p, c);
	}
}

/* How long poll() may wait: until the next connection is due, or the next tick. */
static struct timespec *
wait_time(const struct kt_probe *p, struct timespec *ts)
{
	long long next = p->cb ? p->tick_ms : LLONG_MAX, now = kt_now_ms();

	for (size_t i = 0; i < p->cap; i++) {
		const struct kt_conn *c = &p->conns[i];

		if (unresolved(c) && c->due_ms < next)
			next = c->due_ms;
	}
	if (next == LLONG_MAX)
		return NULL;
	next = next > now ? next - now : 0;
	*ts = (struct timespec){ .tv_sec = next / 1000, .tv_nsec = next % 1000 * 1000000 };
	return ts;
}

/* Fill pfds with the open connections: writable for a connect, readable (or ended) after. */
static nfds_t
poll_set(struct kt_probe *p)
{
	nfds_t n = 0;

	for (size_t i = 0; i < p->cap; i++) {
		const struct kt_conn *c = &p->conns[i];

		if (c->state == KT_CONN_CLOSED)
			continue;
		p->pfds[n] = (struct pollfd){ .fd = c->fd,
			.events = c->state == KT_CONN_CONNECTING ? POLLOUT : POLLIN | POLLRDHUP };
		p->pidx[n++] = i;
	}
	return n;
}

/* Act on what poll() reported; a connection closed or reopened meanwhile is passed over. */
static void
poll_events(struct kt_probe *p, nfds_t n)
{
	for (nfds_t i = 0; i < n && !p->stop; i++) {
		struct kt_conn *c = &p->conns[p->pidx[i]];

		if (p->pfds[i].revents != 0 && c->state != KT_CONN_CLOSED &&
		    c->fd == p->pfds[i].fd)
			on_input(p, c, p->pfds[i].revents);
	}
}

/* Close everything. A measurement that learnt nothing at all (every connection failed after
 * the first was up) is a failure, not a verdict. */
static void
finish(struct kt_probe *p)
{
	for (size_t i = 0; i < p->cap; i++)
		kt_conn_close(&p->conns[i]);
	p->phase = P_DONE;
	p->end_ms = kt_now_ms();
	if (!p->conflict && p->br.lo_ms == 0 && p->br.hi_ms < 0 && p->ended == 0)
		p->err = -ENOTCONN;
}

/* One turn of the loop: act on what is due, then wait. Returns 0, or why waiting stopped. */
static int
step(struct kt_probe *p, const sigset_t *waitmask)
{
	struct timespec ts;
	nfds_t n;

	run_due(p);
	if (settle(p)) {
		finish(p);
		return 0;
	}
	if (p->stop)
		return -ECANCELED;
	if (p->cb && kt_now_ms() >= p->tick_ms) {
		p->tick_ms = kt_now_ms() + 1000;
		emit(p);
		return 0;
	}
	n = poll_set(p);
	if (ppoll(p->pfds, n, wait_time(p, &ts), waitmask) < 0)
		return -errno;
	poll_events(p, n);
	return 0;
}

int
kt_probe_run(struct kt_probe *p, const sigset_t *waitmask, kt_probe_cb cb, void *userdata)
{
	int r = 0;

	assert(p);

	p->cb = cb;
	p->userdata = userdata;
	p->stop = 0;
	if (p->phase == P_START) {
		p->start_ms = p->tick_ms = kt_now_ms();
		p->phase = P_FIRST;
		open_first(p);
	}
	while (p->phase != P_DONE && r == 0)
		r = step(p, waitmask);
	if (p->phase == P_DONE)
		r = p->err;
	p->cb = NULL;
	return r;
}

int
kt_probe_new(const struct kt_target *t, const struct kt_probe_params *par, struct kt_probe **ret)
{
	struct kt_probe *p;
	int r;

	assert(t);
	assert(par);
	assert(ret);

	if ((r = kt_probe_params_check(par)) < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->par = *par;
	p->cap = 2 * (size_t)par->conns;
	for (size_t i = 0; i < CONNS_MAX; i++)
		p->conns[i] = (struct kt_conn){ .fd = -1, .state = KT_CONN_CLOSED };
	kt_spread(1000LL * par->min_secs, 1000LL * par->max_secs, par->conns, p->plan, &p->nplan);
	kt_bracket_init(&p->br);
	p->round = 1;
	p->server_ms = -1;
	r = kt_target_resolve(t, &p->ai);
	if (r < 0) {
		free(p);
		return r;
	}
	p->cur = p->ai;
	*ret = p;
	return 0;
}

/* The verdict what was seen makes, finished or not. */
static enum kt_verdict
verdict(const struct kt_probe *p)
{
	if (p->phase != P_DONE || p->err < 0)
		return KT_VERDICT_RUNNING;
	if (p->conflict)
		return KT_VERDICT_INCONSISTENT;
	if (p->br.hi_ms >= 0)
		return p->br.lo_ms > 0 ? KT_VERDICT_BRACKET : KT_VERDICT_BELOW_MIN;
	if (!p->max_kept && p->ended > 0)
		return KT_VERDICT_SERVER;
	return KT_VERDICT_NO_LOSS;
}

void
kt_probe_result(const struct kt_probe *p, struct kt_probe_result *ret)
{
	long long end;

	assert(p);
	assert(ret);

	end = p->phase == P_DONE ? p->end_ms : kt_now_ms();
	*ret = (struct kt_probe_result){
		.verdict = verdict(p), .lo_ms = p->br.lo_ms, .hi_ms = p->br.hi_ms,
		.loss = p->br.loss,
		.conflict_kept_ms = p->conflict ? p->conflict_kept : -1,
		.conflict_lost_ms = p->conflict ? p->conflict_lost : -1,
		.server_ms = p->server_ms, .server_end = p->server_end,
		.elapsed_ms = p->phase == P_START ? 0 : end - p->start_ms,
		.opened = p->opened, .kept = p->kept, .lost = p->lost, .ended = p->ended,
		.failed = p->failed,
	};
	memcpy(ret->addr, p->addr, sizeof(ret->addr));
}

void
kt_probe_free(struct kt_probe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < CONNS_MAX; i++)
		kt_conn_close(&p->conns[i]);
	if (p->ai)
		freeaddrinfo(p->ai);
	free(p);
}
