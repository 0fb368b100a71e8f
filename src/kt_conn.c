/* kt_conn.c: one connection of a probe, the detector. It never sends data; it gets one
 * keepalive probe after an idle time of its own, sent at an instant chosen here, and the
 * kernel's own stamps tell whether the path still held the flow: an answer bounds the path's
 * idle timeout from below, a loss (a silent drop or a reset) from above. Each bound stays one
 * however late this process gets to run. */
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h>		/* struct tcp_info in full, tcpi_last_ack_recv included */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * What TCP_INFO tells of a connection. The kernel gives ages ("ms since the last ACK came"),
 * taken at some instant within the call; the clock read before and after turns them into
 * times that stay bounds when the process is preempted in between: ack_lo <= stamp <= ack_hi.
 */
struct look {
	long long ack_lo, ack_hi;	/* the far end's last segment that acknowledged something */
	long long data_lo;		/* its last data (or the handshake) came no earlier */
	unsigned int probes;		/* keepalive probes out and unanswered */
	long long rtt_ms;		/* a round trip, rounded up, two deviations of margin */
	long long at_ms;		/* the clock after the call: the look was no later */
};

/* A TCP_INFO call slower than this (preempted) is made again, so that the bounds stay close. */
#define LOOK_SLOW_MS	50
/* How soon a deferred step is tried again: after poll() has reported the input waiting. */
#define DEFER_MS	10

static int
look(int fd, struct look *ret)
{
	struct tcp_info ti;
	socklen_t len;
	long long t0, t1;
	int tries = 0;

	do {
		memset(&ti, 0, sizeof(ti));
		len = sizeof(ti);
		t0 = kt_now_ms();
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return -errno;
		t1 = kt_now_ms();
	} while (t1 - t0 > LOOK_SLOW_MS && ++tries < 3);
	if (len < offsetof(struct tcp_info, tcpi_rttvar) + sizeof(ti.tcpi_rttvar))
		return -EPROTO;
	*ret = (struct look){
		.ack_lo = t0 - ti.tcpi_last_ack_recv, .ack_hi = t1 - ti.tcpi_last_ack_recv,
		.data_lo = t0 - ti.tcpi_last_data_recv, .probes = ti.tcpi_probes,
		.rtt_ms = ((long long)ti.tcpi_rtt + 2LL * ti.tcpi_rttvar + 999) / 1000, .at_ms = t1,
	};
	return 0;
}

/*
 * Whether the far end answered the probe triggered at c->trig_ms: an answer stamps its segment
 * after that; without one the stamp stays about c->idle_ms before. Judged halfway, so that no
 * delay of this process short of idle_ms / 2 makes one look like the other.
 */
static int
answered(const struct kt_conn *c, const struct look *lk)
{
	return lk->ack_hi > c->trig_ms - c->idle_ms / 2;
}

static int
set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) < 0 ? -errno : 0;
}

/*
 * Whether data, the far end's FIN or an error waits on fd: then kt_conn_input() must judge it
 * first. poll() that does not wait, as a peek with recv() would take a pending error away.
 */
static int
input_pending(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&pfd, 1, 0) != 0;
}

/*
 * Open a connection to ai in the free slot c, to test idle_ms: keepalive on, the kernel's own
 * first probe two seconds past the instant kt_conn_trigger() sends it (a fallback if this
 * process is late: then the connection is let go), and a short interval and count, so that a
 * lost probe kills it within KT_PROBE_INTVL x KT_PROBE_COUNT seconds. Returns 0 with the
 * connect in flight, or a negative errno with c closed.
 */
int
kt_conn_open(struct kt_conn *c, const struct addrinfo *ai, int round, long long idle_ms)
{
	int fd, r;

	assert(c && c->state == KT_CONN_CLOSED);
	assert(ai);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	*c = (struct kt_conn){ .fd = fd, .round = round, .idle_ms = idle_ms,
		.keepidle = (int)(idle_ms / 1000 + 2), .up_ms = kt_now_ms() };
	if (c->keepidle > KT_TIME_MAX)
		c->keepidle = KT_TIME_MAX;
	if ((r = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1)) < 0 ||
	    (r = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, c->keepidle)) < 0 ||
	    (r = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, KT_PROBE_INTVL)) < 0 ||
	    (r = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, KT_PROBE_COUNT)) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	c->state = KT_CONN_CONNECTING;
	c->due_ms = c->up_ms + 1000LL * KT_PROBE_CONNECT_SECS;
	return 0;
fail:
	kt_conn_close(c);
	return r;
}

/* Close c (if open) and free its slot. */
void
kt_conn_close(struct kt_conn *c)
{
	assert(c);

	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	c->state = KT_CONN_CLOSED;
}

/*
 * poll() reported revents on c, connecting. Returns 0 when it is up: c is then idle, its idle
 * time counted from the kernel's stamp of the handshake's answer, not from when this process
 * got round to it; 1 when it is still connecting; or the negative errno it failed with.
 */
int
kt_conn_connected(struct kt_conn *c, short revents)
{
	struct look lk;
	socklen_t len = sizeof(int);
	int err = 0, r;

	assert(c && c->state == KT_CONN_CONNECTING);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0)
		return -err;
	if (!(revents & POLLOUT))
		return revents & (POLLERR | POLLHUP) ? -ECONNREFUSED : 1;
	if ((r = look(c->fd, &lk)) < 0)
		return r;
	c->up_ms = c->data_ms = lk.ack_lo;
	c->last_ms = lk.ack_hi;
	c->rtt_ms = lk.rtt_ms;
	c->state = KT_CONN_IDLE;
	c->due_ms = c->last_ms + c->idle_ms;
	return 0;
}

/*
 * Read what poll() reported on c, up: data (dropped), the far end's FIN, or the error that
 * ended it; a FIN or an error wins over data read before it. Returns a KT_NEWS_* or the
 * negative errno that ended c.
 */
int
kt_conn_input(struct kt_conn *c, short revents)
{
	char buf[4096];
	socklen_t len = sizeof(int);
	int data = 0, err = 0;

	assert(c && c->state != KT_CONN_CLOSED);

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0) {
			data = 1;
			continue;
		}
		if (n == 0)
			return KT_NEWS_FIN;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		break;
	}
	if (data)
		return KT_NEWS_DATA;
	if (!(revents & (POLLERR | POLLHUP)))
		return KT_NEWS_NONE;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	return err != 0 ? -err : KT_NEWS_FIN;
}

/*
 * The far end sent data on c. Right after the handshake (KT_PROBE_GREETING_MS) on an idle
 * connection, it is a greeting, as SSH and SMTP servers send: the idle time is then counted
 * from it, and 1 is returned. Any other data is the far end's own activity: 0.
 */
int
kt_conn_greeting(struct kt_conn *c)
{
	struct look lk;
	long long now = kt_now_ms();

	assert(c && c->state != KT_CONN_CLOSED);

	if (c->state != KT_CONN_IDLE || now - c->up_ms > KT_PROBE_GREETING_MS)
		return 0;
	c->greeted = 1;
	c->data_ms = c->last_ms = now;
	if (look(c->fd, &lk) == 0) {
		c->data_ms = lk.data_lo;
		c->last_ms = lk.ack_hi;
	}
	c->due_ms = c->last_ms + c->idle_ms;
	return 1;
}

/*
 * c has been idle its idle time: make the kernel probe it now, by lowering TCP_KEEPIDLE below
 * the idle time already passed (the kernel then arms its timer for the next tick). Done here
 * rather than by the kernel's own timer, which fires up to an eighth of its delay late.
 * Returns 0 (c probing), 1 when input waits to be judged first (due again soon), -ETIME when
 * this process came so late that the kernel's own probe may have gone out at a time nobody
 * knows (c is of no use), or the negative errno of setsockopt().
 */
int
kt_conn_trigger(struct kt_conn *c)
{
	int keepidle = (int)((c->idle_ms - 100) / 1000), r;

	assert(c && c->state == KT_CONN_IDLE);

	if (input_pending(c->fd)) {
		c->due_ms = kt_now_ms() + DEFER_MS;
		return 1;
	}
	c->trig_ms = kt_now_ms();
	if (c->trig_ms > c->last_ms + 1000LL * c->keepidle - 500)
		return -ETIME;
	if ((r = set_int(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, keepidle < 1 ? 1 : keepidle)) < 0)
		return r;
	c->state = KT_CONN_PROBING;
	c->seen_ms = 0;
	c->due_ms = c->trig_ms + 8;
	return 0;
}

/*
 * Look whether c's probe was answered. If it was, returns 1 with c kept and *ret_idle_ms a
 * lower bound on how long the path kept the flow idle: from the far end's last segment before
 * (no later than c->last_ms) to the probe (no earlier than c->trig_ms), less a time stamp's
 * slop, and less the delayed ACK of a greeting, which the path saw last. If not, returns 0 and
 * looks again: every 8 ms until the probe is out (its sending time then bounds a loss closely),
 * every 100 ms for a second (an answer takes a round trip), then every 500 ms. A negative
 * errno: TCP_INFO failed.
 */
int
kt_conn_check(struct kt_conn *c, long long *ret_idle_ms)
{
	struct look lk;
	int r;

	assert(c && c->state == KT_CONN_PROBING);
	assert(ret_idle_ms);

	if (input_pending(c->fd)) {
		c->due_ms = kt_now_ms() + DEFER_MS;
		return 0;
	}
	if ((r = look(c->fd, &lk)) < 0)
		return r;
	if (answered(c, &lk)) {
		*ret_idle_ms = c->trig_ms - c->last_ms - KT_PROBE_SLOP_MS -
		    (c->greeted ? KT_PROBE_DELACK_MS : 0);
		c->state = KT_CONN_KEPT;
		c->last_ms = lk.ack_hi;
		return 1;
	}
	if (lk.probes > 0 && c->seen_ms == 0)
		c->seen_ms = lk.at_ms;
	if (c->seen_ms == 0)
		c->due_ms = lk.at_ms + 8;
	else
		c->due_ms = lk.at_ms + (lk.at_ms - c->trig_ms < 1000 ? 100 : 500);
	return 0;
}

/*
 * c failed with err. A reset while no probe was out is the far end's doing: returns 0. Any
 * other failure is a probe lost: returns 1 with *ret_loss and *ret_idle_ms, an upper bound on
 * how long the path kept the flow: the probe went out no later than the last retry's interval
 * before the kernel gave up (a silent drop), than the reset (a reset), or than the look that
 * found it out; the far end's last segment came no earlier than TCP_INFO's lower bound, and
 * the path saw the flow last up to a round trip after that. A negative errno: nothing to bound
 * it with.
 */
int
kt_conn_lost(struct kt_conn *c, int err, long long *ret_idle_ms, enum kt_loss *ret_loss)
{
	enum kt_loss loss = err == ECONNRESET ? KT_LOSS_RESET : KT_LOSS_DROP;
	long long now = kt_now_ms(), sent;
	struct look lk;
	int r;

	assert(c && c->state != KT_CONN_CLOSED);
	assert(ret_idle_ms && ret_loss);

	if ((r = look(c->fd, &lk)) < 0)
		return r;
	if (loss == KT_LOSS_RESET && lk.probes == 0 && c->state != KT_CONN_PROBING)
		return 0;
	sent = loss == KT_LOSS_RESET ? now : now - 1000LL * KT_PROBE_INTVL * KT_PROBE_COUNT;
	if (c->state == KT_CONN_PROBING && c->seen_ms > 0 && c->seen_ms < sent &&
	    !answered(c, &lk))
		sent = c->seen_ms;
	*ret_idle_ms = sent - lk.ack_lo + c->rtt_ms + KT_PROBE_SLOP_MS;
	*ret_loss = loss;
	return 1;
}
