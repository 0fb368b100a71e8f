/* kt_proc.c: read and write the keys in the kernel (/proc/sys), all-or-nothing for a set. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Close fd, keeping the first error: a failed close after a write may be the write's failure. */
static int
close_keep(int fd, int ret)
{
	if (close(fd) < 0 && ret == 0)
		return -errno;
	return ret;
}

/* Read the one integer the file open at fd holds, from where fd stands (its start). */
static int
read_int_fd(int fd, int *ret_val)
{
	char buf[KT_VALUE_LEN + 2];
	ssize_t n;

	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(buf) - 1)	/* longer than any int the kernel prints */
		return -EBADMSG;
	buf[n] = '\0';
	return kt_parse_kernel_int(buf, ret_val) < 0 ? -EBADMSG : 0;
}

int
kt_read_int(const char *path, int *ret_val)
{
	int fd, r, v = 0;

	assert(path);
	assert(ret_val);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = close_keep(fd, read_int_fd(fd, &v));
	if (r == 0)
		*ret_val = v;
	return r;
}

int
kt_read(const char *root, enum kt_key key, int *ret_val)
{
	char path[PATH_MAX];
	int r;

	r = kt_key_path(root, key, path, sizeof(path));
	if (r < 0)
		return r;
	return kt_read_int(path, ret_val);
}

int
kt_write(const char *root, enum kt_key key, int val)
{
	char path[PATH_MAX], buf[KT_VALUE_LEN + 1];
	ssize_t n;
	int fd, r = 0, len;

	r = kt_key_path(root, key, path, sizeof(path));
	if (r < 0)
		return r;
	len = snprintf(buf, sizeof(buf), "%d\n", val);
	if (len < 0 || (size_t)len >= sizeof(buf))
		return -EOVERFLOW;
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		r = -errno;
	else if (n != len)
		r = -EIO;
	return close_keep(fd, r);
}

/*
 * Put back the keys in mask to their old values, trying each, noting in *fail which could and
 * could not (and why the first could not).
 */
void
kt_restore(const char *root, const struct kt_values *old, unsigned int mask,
    struct kt_failure *fail)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		int r;

		if (!(mask & KT_BIT(k)))
			continue;
		r = kt_write(root, k, old->val[k]);
		if (r == 0) {
			fail->restored |= KT_BIT(k);
			continue;
		}
		fail->unrestored |= KT_BIT(k);
		if (fail->restore_err == 0)
			fail->restore_err = r;
	}
}

/*
 * Set the keys in want->mask to want's values, all or nothing, without a lock. old holds the
 * values the kernel has now (as read by kt_read); only keys whose value changes are written.
 * When a write fails, the keys already written are restored to their old values and *ret_fail
 * says which key failed, why, and what was restored; it is written only then.
 * Returns 0, -ERANGE when a wanted value is outside its range (nothing is written), or the failed
 * write's negative errno.
 */
int
kt_apply(const char *root, const struct kt_values *old, const struct kt_values *want,
    struct kt_failure *ret_fail)
{
	unsigned int written = 0;

	assert(old);
	assert(want);
	assert(ret_fail);
	assert((old->mask & want->mask) == want->mask);

	if (!kt_values_valid(want))
		return -ERANGE;
	for (int k = 0; k < KT_NKEYS; k++) {
		int r;

		if (!(want->mask & KT_BIT(k)) || old->val[k] == want->val[k])
			continue;
		r = kt_write(root, k, want->val[k]);
		if (r < 0) {
			struct kt_failure fail = { .stage = KT_STAGE_WRITE, .key = k, .err = r };

			kt_restore(root, old, written, &fail);
			*ret_fail = fail;
			return r;
		}
		written |= KT_BIT(k);
	}
	return 0;
}

/*
 * Open the file of KT_TIME below root and lock it: the lock kt_set() holds. Returns an fd, to
 * close to release the lock, or a negative errno.
 */
int
kt_lock_keys(const char *root, unsigned int timeout_ms)
{
	char path[PATH_MAX];
	int fd, r;

	r = kt_key_path(root, KT_TIME, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = kt_lock_wait(fd, timeout_ms);
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	return fd;
}

/*
 * Read the keys of mask into old, noting in *fail which could not be read. KT_TIME is read
 * through lockfd, the descriptor that holds the lock on its file (one open less), or by its
 * path when lockfd is -1.
 */
int
kt_read_keys(const char *root, int lockfd, unsigned int mask, struct kt_values *old,
    struct kt_failure *fail)
{
	old->mask = mask;
	for (int k = 0; k < KT_NKEYS; k++) {
		int r;

		if (!(mask & KT_BIT(k)))
			continue;
		if (k == KT_TIME && lockfd >= 0)
			r = read_int_fd(lockfd, &old->val[k]);
		else
			r = kt_read(root, k, &old->val[k]);
		if (r < 0) {
			*fail = (struct kt_failure){ .stage = KT_STAGE_READ, .key = k, .err = r };
			return r;
		}
	}
	return 0;
}

/* Lock, read the old values, apply; the lock goes with the descriptor, closed on every path. */
int
kt_set(const char *root, const struct kt_values *want, unsigned int timeout_ms,
    struct kt_values *ret_old, struct kt_failure *ret_fail)
{
	struct kt_failure fail = { .stage = KT_STAGE_LOCK, .key = KT_TIME };
	struct kt_values old;
	int fd, r;

	assert(want);
	assert(ret_old);
	assert(ret_fail);

	if (!kt_values_valid(want))
		return -ERANGE;
	fd = kt_lock_keys(root, timeout_ms);
	if (fd < 0) {
		fail.err = fd;
		*ret_fail = fail;
		return fd;
	}
	r = kt_read_keys(root, fd, want->mask, &old, &fail);
	if (r == 0)
		r = kt_apply(root, &old, want, &fail);
	(void)close(fd);
	if (r == 0 || fail.stage == KT_STAGE_WRITE)
		*ret_old = old;
	if (r < 0)
		*ret_fail = fail;
	return r;
}
