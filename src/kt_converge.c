/* kt_converge.c: set --persist: the running values and the boot file changed together, all or
 * nothing: both locks taken and everything judged before the first write, the keys written
 * before the file, and put back when the file cannot be written. */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* A transaction under way. */
struct sp {
	const char *root;
	struct kt_values old;		/* all three, read under the lock */
	struct kt_persist_req req;	/* the caller's, with the values the file gets */
	struct kt_sp_fail *fail;
	int lockfd;			/* -1 in a dry run */
	struct kt_persist_tx *tx;
};

/* Fail in part with err; returns err. */
static int
failed(struct sp *sp, enum kt_sp_part part, int err)
{
	sp->fail->part = part;
	return err;
}

/*
 * Lock the keys (not in a dry run) and read all three; complete the file's values with the
 * running ones of the keys not given, which must be within their ranges.
 */
static int
read_keys(struct sp *sp, int dry, unsigned int timeout_ms)
{
	struct kt_values *file = &sp->req.want;
	int r;

	sp->fail->keys = (struct kt_failure){ .stage = KT_STAGE_LOCK, .key = KT_TIME };
	if (!dry) {
		sp->lockfd = kt_lock_keys(sp->root, timeout_ms);
		if (sp->lockfd < 0) {
			sp->fail->keys.err = sp->lockfd;
			return failed(sp, KT_SP_KEYS, sp->lockfd);
		}
	}
	r = kt_read_keys(sp->root, sp->lockfd, KT_ALL, &sp->old, &sp->fail->keys);
	if (r < 0)
		return failed(sp, KT_SP_KEYS, r);
	for (int k = 0; k < KT_NKEYS; k++) {
		if (file->mask & KT_BIT(k))
			continue;
		if (!kt_value_valid(k, sp->old.val[k])) {
			sp->fail->key = k;
			sp->fail->val = sp->old.val[k];
			return failed(sp, KT_SP_RANGE, -ERANGE);
		}
		file->val[k] = sp->old.val[k];
	}
	file->mask = KT_ALL;
	return 0;
}

/*
 * Write the keys, then the file; when the file fails, put the keys back. Signals that would
 * end the run wait meanwhile, so that it does not stop between the two.
 */
static int
write_both(struct sp *sp, const struct kt_values *want)
{
	struct kt_failure *keys = &sp->fail->keys;
	sigset_t block, saved;
	unsigned int written = 0;
	int r;

	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGINT);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGHUP);
	(void)sigaddset(&block, SIGQUIT);
	(void)sigprocmask(SIG_BLOCK, &block, &saved);
	r = kt_apply(sp->root, &sp->old, want, keys);
	if (r < 0) {
		failed(sp, KT_SP_KEYS, r);
		goto out;
	}
	for (int k = 0; k < KT_NKEYS; k++)
		if ((want->mask & KT_BIT(k)) && want->val[k] != sp->old.val[k])
			written |= KT_BIT(k);
	r = kt_persist_commit(sp->tx, &sp->fail->file);
	if (r < 0) {
		*keys = (struct kt_failure){ .stage = KT_STAGE_WRITE };
		kt_restore(sp->root, &sp->old, written, keys);
		failed(sp, KT_SP_FILE, r);
	}
out:
	(void)sigprocmask(SIG_SETMASK, &saved, NULL);
	return r;
}

/* See include/katune.h. */
int
kt_set_persist(const char *proc_root, const struct kt_persist_req *req,
    unsigned int keys_timeout_ms, struct kt_values *ret_old, struct kt_persist_result *ret,
    struct kt_sp_fail *ret_fail)
{
	struct kt_sp_fail fail = { .part = KT_SP_KEYS };
	struct sp sp = { .root = proc_root, .req = *req, .fail = &fail, .lockfd = -1 };
	int dry = req->flags & KT_PERSIST_DRY_RUN, r;

	assert(req && ret_old && ret && ret_fail);

	if (!kt_values_valid(&req->want))
		return -ERANGE;
	r = read_keys(&sp, dry, keys_timeout_ms);
	if (r == 0) {
		r = kt_persist_prepare(&sp.req, &sp.tx, &fail.file);
		if (r < 0)
			failed(&sp, KT_SP_FILE, r);
	}
	if (r == 0 && dry)
		r = kt_persist_commit(sp.tx, &fail.file);
	else if (r == 0)
		r = write_both(&sp, &req->want);
	kt_persist_end(sp.tx, r < 0 ? NULL : ret);
	if (sp.lockfd >= 0)
		(void)close(sp.lockfd);
	if (r == 0 || fail.part == KT_SP_FILE ||
	    (fail.part == KT_SP_KEYS && fail.keys.stage == KT_STAGE_WRITE))
		*ret_old = sp.old;
	if (r < 0)
		*ret_fail = fail;
	return r;
}
