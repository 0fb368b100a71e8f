/* kt_proc.c: read and write the keys in the kernel (/proc/sys), all-or-nothing for a set. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"

/* Close fd, keeping the first error: a failed close after a write may be the write's failure. */
static int
close_keep(int fd, int ret)
{
	if (close(fd) < 0 && ret == 0)
		return -errno;
	return ret;
}

/*
 * Read the one integer a /proc/sys file holds. Returns 0 and sets *ret_val, or a negative errno:
 * -ENOENT when there is no such file, -EACCES, -EIO, or -EBADMSG when it does not hold an int.
 */
int
kt_read_int(const char *path, int *ret_val)
{
	char buf[KT_VALUE_LEN + 2];
	ssize_t n;
	int fd, r = 0, v = 0;

	assert(path);
	assert(ret_val);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if ((size_t)n == sizeof(buf) - 1) {	/* longer than any int the kernel prints */
		r = -EBADMSG;
		goto out;
	}
	buf[n] = '\0';
	if (kt_parse_kernel_int(buf, &v) < 0)
		r = -EBADMSG;
out:
	r = close_keep(fd, r);
	if (r == 0)
		*ret_val = v;
	return r;
}

/*
 * Read the value of a key from the kernel (root is KT_PROC_ROOT, or a tree laid out like it).
 * Values the kernel holds outside the accepted range are returned as they are.
 * Returns 0 and sets *ret_val, or a negative errno as kt_read_int() does; -ENOENT means the
 * kernel or network namespace lacks the key.
 */
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

/*
 * Write a value to a key in the kernel. The value is not judged here: the kernel takes what it
 * takes. Returns 0, or a negative errno: -ENOENT (no such key), -EACCES (not root), -EROFS
 * (read-only /proc/sys), -EINVAL (the kernel refused the value), -EIO.
 */
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

/* Put back the keys in mask to their old values, noting in *fail which could and could not. */
static void
restore(const char *root, const struct kt_values *old, unsigned int mask, struct kt_failure *fail)
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
 * Set the keys in want->mask to want's values, all or nothing. old holds the values the kernel
 * has now (as read by kt_read); only keys whose value changes are written. When a write fails, the
 * keys already written are restored to their old values and *ret_fail says which key failed, why,
 * and what was restored; it is written only then.
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
			struct kt_failure fail = { .key = k, .err = r };

			restore(root, old, written, &fail);
			*ret_fail = fail;
			return r;
		}
		written |= KT_BIT(k);
	}
	return 0;
}

/*
 * Explain an error of kt_read(), kt_write() or kt_apply() to an operator, telling apart the
 * causes that need different fixes. Returns a static string.
 */
const char *
kt_strerror(int err)
{
	switch (-err) {
	case EACCES:
	case EPERM:
		return "permission denied (changing sysctls needs root or CAP_NET_ADMIN)";
	case EROFS:
		return "read-only file system (/proc/sys is read-only, as in a container: set a "
		       "container's values through its runtime: docker run --sysctl, or a "
		       "Kubernetes pod's securityContext.sysctls)";
	case ENOENT:
		return "no such key (this kernel or network namespace does not have it)";
	case EINVAL:
		return "the kernel refused the value";
	case ERANGE:
		return "value outside its accepted range";
	case EBADMSG:
		return "the file does not hold an integer";
	default:
		return strerror(-err);
	}
}
