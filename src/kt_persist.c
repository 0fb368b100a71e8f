/* kt_persist.c: persist as one transaction: open the file's directory, lock it, clear what killed
 * runs left, read the file, edit it, check that both loaders apply what it now says, replace,
 * delete or mend it, flush; then ask the boot model whether a later file overrides it. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * The clock rate the new text is checked at. Persisted values are at most 32767 seconds, which
 * every rate takes, so any one will do.
 */
#define CHECK_HZ	1000

/* A transaction under way. */
struct kt_persist_tx {
	const struct kt_persist_req *req;
	struct kt_persist_result res;
	struct kt_persist_fail fail;
	int dirfd;		/* -1: the directory is not there, nor the file */
	char *old;		/* the file's text, or NULL */
	size_t oldlen;
	unsigned int mode;
	struct kt_edit edit;
	int fix_mode;		/* only the mode is to be set right */
};

/* Fail at step with err; returns err. */
static int
failed(struct kt_persist_tx *tx, enum kt_persist_step step, int err)
{
	tx->fail.step = step;
	tx->fail.err = err;
	return err;
}

/*
 * Open the directory, and lock it unless this is a dry run. Below the root the user named, a
 * missing directory holds no file for --remove and --dry-run, which make nothing.
 */
static int
open_dir(struct kt_persist_tx *tx)
{
	const struct kt_persist_req *req = tx->req;
	int dry = req->flags & KT_PERSIST_DRY_RUN, r;
	size_t stop = 0;

	r = kt_file_open_dir(req->dir, req->root_len, (req->flags & KT_PERSIST_CREATE) && !dry,
	    &tx->dirfd, &stop);
	if (r == -ENOENT && stop > req->root_len && (dry || !req->want.mask))
		return 0;
	if (r < 0) {
		tx->fail.stop = stop;
		return failed(tx, KT_STEP_OPEN_DIR, r);
	}
	if (!dry && (r = kt_lock_wait(tx->dirfd, req->lock_timeout_ms)) < 0)
		return failed(tx, KT_STEP_LOCK, r);
	return 0;
}

/* Read the file, if there is one, and make its new text. */
static int
read_and_edit(struct kt_persist_tx *tx)
{
	int r = -ENOENT;

	tx->mode = 0644;
	if (tx->dirfd >= 0)
		r = kt_file_load(tx->dirfd, tx->req->name, &tx->old, &tx->oldlen, &tx->mode);
	if (r < 0 && r != -ENOENT)
		return failed(tx, KT_STEP_READ, r);
	r = kt_edit_text(tx->old, tx->oldlen, &tx->req->want, &tx->res.text, &tx->res.len,
	    &tx->edit);
	if (r == -EBADMSG) {
		tx->fail.line = tx->edit.bad_line;
		tx->fail.key = tx->edit.bad_key;
	}
	return r < 0 ? failed(tx, KT_STEP_EDIT, r) : 0;
}

/*
 * Find, in text (len bytes), the line that is the same bytes as want (wantlen) for the
 * skip + 1-th time, or line stop, whichever comes first. Returns its number (from 1), or 0.
 */
static unsigned int
find_line(const char *text, size_t len, const char *want, size_t wantlen, unsigned int skip,
    unsigned int stop, unsigned int *ret_seen)
{
	const char *p = text, *end = text + len, *nl;
	unsigned int line = 0;

	for (; p && p < end && line + 1 != stop; p = nl ? nl + 1 : NULL) {
		size_t l;

		line++;
		nl = memchr(p, '\n', (size_t)(end - p));
		l = (size_t)((nl ? nl : end) - p);
		if (l == wantlen && memcmp(p, want, l) == 0 && (*ret_seen)++ == skip)
			return line;
	}
	return 0;
}

/*
 * The line of the old text that line n of the new one was kept from: the same bytes, as often
 * seen before (the edit keeps the lines that are no key's, in order). 0 if there is none.
 */
static unsigned int
old_line(const struct kt_persist_tx *tx, unsigned int n)
{
	const char *p = tx->res.text, *end = p + tx->res.len, *nl;
	unsigned int seen = 0, again = 0;
	size_t len;

	for (unsigned int i = 1; i < n && p < end; i++)
		p = (nl = memchr(p, '\n', (size_t)(end - p))) ? nl + 1 : end;
	nl = memchr(p, '\n', (size_t)(end - p));
	len = (size_t)((nl ? nl : end) - p);
	/* How often the same line comes before it in the new text, then that one in the old. */
	(void)find_line(tx->res.text, tx->res.len, p, len, UINT_MAX, n, &seen);
	return tx->old ? find_line(tx->old, tx->oldlen, p, len, seen, 0, &again) : 0;
}

/*
 * Check that each loader, applying the new text alone, sets every wanted key from the line the
 * edit wrote, to the value wanted: the edit knows every line a loader reads as a key's, and
 * this makes sure of it, for lines such as a glob that procps does not keep off a named key.
 */
static int
check_text(struct kt_persist_tx *tx)
{
	static const enum kt_loader loaders[] = { KT_LOADER_SYSTEMD, KT_LOADER_PROCPS };
	const struct kt_values *want = &tx->req->want;

	for (size_t i = 0; i < sizeof(loaders) / sizeof(loaders[0]); i++) {
		struct kt_boot *b;
		int r = kt_boot_read_text(loaders[i], tx->req->path, tx->res.text, tx->res.len,
		    CHECK_HZ, &b);

		if (r < 0)
			return failed(tx, KT_STEP_CHECK, r);
		for (int k = 0; k < KT_NKEYS; k++) {
			const struct kt_boot_key *bk = kt_boot_key(b, k);

			if (!(want->mask & KT_BIT(k)) || (bk->from && bk->val == want->val[k] &&
			    bk->from->line == tx->edit.line[k]))
				continue;
			tx->fail.line = bk->from ? old_line(tx, bk->from->line) : 0;
			tx->fail.key = k;
			tx->fail.loader = loaders[i];
			kt_boot_free(b);
			return failed(tx, KT_STEP_CHECK, -EBADMSG);
		}
		kt_boot_free(b);
	}
	return 0;
}

/* Say, key by key, what the edit did; the old values in force are copied out of the old text. */
static int
plan(struct kt_persist_tx *tx)
{
	const struct kt_edit *e = &tx->edit;
	const struct kt_values *want = &tx->req->want;

	for (int k = 0; k < KT_NKEYS; k++) {
		struct kt_persist_key *pk = &tx->res.keys[k];
		unsigned int bit = KT_BIT(k);

		*pk = (struct kt_persist_key){ .val = want->val[k], .line = e->line[k] };
		if (!(want->mask & bit))
			pk->plan = e->present & bit ? KT_PLAN_REMOVED : KT_PLAN_NONE;
		else if (!(e->present & bit))
			pk->plan = KT_PLAN_ADDED;
		else if (!(e->changed & bit))
			pk->plan = KT_PLAN_UNCHANGED;
		else
			pk->plan = KT_PLAN_CHANGED;
		if (!(e->present & bit))
			continue;
		pk->old_int = !!(e->old_int & bit);
		pk->old = e->old[k];
		if (!pk->old_int) {
			pk->old_text = malloc(e->old_len[k] + 1);
			if (!pk->old_text)
				return -ENOMEM;
			memcpy(pk->old_text, e->old_text[k], e->old_len[k]);
			pk->old_text[e->old_len[k]] = '\0';
			pk->old_len = e->old_len[k];
		}
	}
	return 0;
}

/*
 * Make the change, under the lock: clear the temp files of runs that were killed, then set the
 * mode right, delete the file or replace it, and flush the directory. A failed flush leaves the
 * change made: it is a warning, not a failure.
 */
static int
write_out(struct kt_persist_tx *tx, int fix_mode)
{
	const char *name = tx->req->name;
	int delete = tx->res.outcome == KT_PERSIST_REMOVED, r;

	assert(tx->dirfd >= 0);	/* without a directory, only --remove and dry runs get here */
	if ((r = kt_file_clean(tx->dirfd, name)) < 0)
		return failed(tx, KT_STEP_CLEAN, r);
	if (fix_mode && (r = kt_file_fix_mode(tx->dirfd, name)) < 0)
		return failed(tx, KT_STEP_MODE, r);
	if (delete && (r = kt_file_delete(tx->dirfd, name)) < 0)
		return failed(tx, KT_STEP_DELETE, r);
	if (!fix_mode && !delete && (r = kt_file_save(tx->dirfd, name, tx->res.text,
	    tx->res.len)) < 0)
		return failed(tx, KT_STEP_WRITE, r);
	if (!fix_mode && (r = kt_file_sync(tx->dirfd)) < 0) {
		tx->res.warnings |= KT_PERSIST_WARN_SYNC;
		tx->res.sync_err = r;
	}
	return 0;
}

/*
 * Whether the boot model's file (as the loader names it) is the file just written, whose identity
 * is *st. On this machine that is a question of inodes, so that however the file was named
 * (relative, with "//", through a link such as Debian's 99-sysctl.conf) it is found; in an image
 * tree, whose links lead inside it, by the name the loader gives it.
 */
static int
is_written_file(const struct kt_persist_req *req, const struct stat *st, const char *file)
{
	struct stat fst;

	if (req->boot_root)
		return strcmp(file, req->boot_path) == 0;
	return stat(file, &fst) == 0 && fst.st_dev == st->st_dev && fst.st_ino == st->st_ino;
}

/*
 * After a write: find the lines written in the boot model, and the keys it sets otherwise. A
 * file the loader does not read at all, or files the model could not read, are warnings.
 */
static void
judge_boot(struct kt_persist_tx *tx)
{
	const struct kt_persist_req *req = tx->req;
	struct kt_persist_result *res = &tx->res;
	const struct kt_boot_note *notes;
	unsigned int found = 0;
	struct stat st;
	int r;

	if (!req->boot_path || fstatat(tx->dirfd, req->name, &st, 0) < 0)
		return;
	r = kt_boot_read(req->boot_root, req->loader, kt_kernel_hz(NULL), &res->boot);
	if (r < 0) {
		res->warnings |= KT_PERSIST_WARN_BOOT;
		res->boot_err = r;
		return;
	}
	for (int k = 0; k < KT_NKEYS; k++) {
		const struct kt_boot_key *bk = kt_boot_key(res->boot, k);

		if (!(req->want.mask & KT_BIT(k)))
			continue;
		for (size_t i = 0; i < bk->nassigns; i++)
			if (bk->assigns[i].line == res->keys[k].line &&
			    is_written_file(req, &st, bk->assigns[i].file))
				res->assign[k] = &bk->assigns[i];
		if (res->assign[k])
			found |= KT_BIT(k);
		if (res->assign[k] && bk->from != res->assign[k])
			res->overridden |= KT_BIT(k);
	}
	if (!found && !(res->warnings & KT_PERSIST_WARN_NOT_CONF))
		res->warnings |= KT_PERSIST_WARN_NOT_READ;
	for (size_t i = kt_boot_notes(res->boot, &notes); i > 0; i--)
		if (notes[i - 1].kind == KT_BOOT_UNREAD)
			res->warnings |= KT_PERSIST_WARN_UNREAD;
}

/* Whether name ends in .conf, as every file a loader reads does. */
static int
is_conf_name(const char *name)
{
	size_t len = strlen(name);

	return len >= 5 && strcmp(name + len - 5, ".conf") == 0;
}

/* Decide what becomes of the file. */
static void
decide(struct kt_persist_tx *tx)
{
	const struct kt_persist_req *req = tx->req;
	const struct kt_edit *e = &tx->edit;

	/* Only the mode to set right: of a file that holds our keys, not one --remove leaves. */
	tx->fix_mode = e->same && tx->old && req->want.mask && tx->mode != 0644;
	if (e->same && !tx->fix_mode)
		tx->res.outcome = KT_PERSIST_UNCHANGED;
	else if (!req->want.mask && e->empty)
		tx->res.outcome = KT_PERSIST_REMOVED;
	else
		tx->res.outcome = KT_PERSIST_CHANGED;
	if (req->want.mask && !is_conf_name(req->name))
		tx->res.warnings |= KT_PERSIST_WARN_NOT_CONF;
	if (tx->res.outcome == KT_PERSIST_REMOVED) {
		free(tx->res.text);
		tx->res.text = NULL;
		tx->res.len = 0;
	}
}

/* Do what was decided, unless this is a dry run; then ask the boot model about it. */
static int
do_it(struct kt_persist_tx *tx)
{
	const struct kt_persist_req *req = tx->req;
	int r;

	if (req->flags & KT_PERSIST_DRY_RUN)
		return 0;
	if (tx->res.outcome != KT_PERSIST_UNCHANGED && (r = write_out(tx, tx->fix_mode)) < 0)
		return r;
	if (req->want.mask)
		judge_boot(tx);
	return 0;
}

/* Free what a transaction holds, and release its lock. */
static void
tx_free(struct kt_persist_tx *tx)
{
	if (tx->dirfd >= 0)
		(void)close(tx->dirfd);	/* and with it the lock */
	free(tx->old);
	kt_persist_free(&tx->res);
	free(tx);
}

/* See kt_internal.h: everything before the write. */
int
kt_persist_prepare(const struct kt_persist_req *req, struct kt_persist_tx **ret_tx,
    struct kt_persist_fail *ret_fail)
{
	struct kt_persist_tx *tx;
	int r;

	assert(req && req->dir && req->name && req->path);
	assert(ret_tx && ret_fail);

	tx = calloc(1, sizeof(*tx));
	if (!tx) {
		*ret_fail = (struct kt_persist_fail){ .step = KT_STEP_OPEN_DIR, .err = -ENOMEM };
		return -ENOMEM;
	}
	*tx = (struct kt_persist_tx){ .req = req, .dirfd = -1,
		.fail = { .step = KT_STEP_OPEN_DIR } };
	r = open_dir(tx);
	if (r == 0)
		r = read_and_edit(tx);
	if (r == 0 && req->want.mask)
		r = check_text(tx);
	if (r == 0 && (r = plan(tx)) < 0)
		failed(tx, KT_STEP_EDIT, r);
	if (r == 0)
		decide(tx);
	if (r < 0) {
		*ret_fail = tx->fail;
		tx_free(tx);
		return r;
	}
	*ret_tx = tx;
	return 0;
}

/* See kt_internal.h: the write, unless this is a dry run. */
int
kt_persist_commit(struct kt_persist_tx *tx, struct kt_persist_fail *ret_fail)
{
	int r = do_it(tx);

	if (r < 0)
		*ret_fail = tx->fail;
	return r;
}

/* See kt_internal.h: the result handed over, the rest freed, the lock released. */
void
kt_persist_end(struct kt_persist_tx *tx, struct kt_persist_result *ret)
{
	if (!tx)
		return;
	if (ret) {
		*ret = tx->res;
		ret->before = tx->old;
		ret->before_len = tx->oldlen;
		tx->res = (struct kt_persist_result){ .outcome = KT_PERSIST_UNCHANGED };
		tx->old = NULL;
	}
	tx_free(tx);
}

/* See include/katune.h. */
int
kt_persist(const struct kt_persist_req *req, struct kt_persist_result *ret,
    struct kt_persist_fail *ret_fail)
{
	struct kt_persist_tx *tx;
	int r;

	assert(ret && ret_fail);

	r = kt_persist_prepare(req, &tx, ret_fail);
	if (r < 0)
		return r;
	r = kt_persist_commit(tx, ret_fail);
	kt_persist_end(tx, r < 0 ? NULL : ret);
	return r;
}

/* Free what a result of kt_persist() holds. */
void
kt_persist_free(struct kt_persist_result *r)
{
	if (!r)
		return;
	for (int k = 0; k < KT_NKEYS; k++)
		free(r->keys[k].old_text);
	free(r->text);
	free(r->before);
	kt_boot_free(r->boot);
	*r = (struct kt_persist_result){ .outcome = KT_PERSIST_UNCHANGED };
}
