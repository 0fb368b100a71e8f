/* test_kt_lock.c: unit tests for kt_lock.c, the bounded wait for an exclusive flock that set and
 * persist take turns with, on a temp directory. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

/* Milliseconds on the monotonic clock. */
static long long
ms_now(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The lock is an flock: another open of the same file cannot take one until it is closed. */
static void
test_lock(void **state)
{
	const struct tmptree *t = *state;
	int fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), other;

	assert_true(fd >= 0);
	assert_int_equal(kt_lock_wait(fd, 0), 0);
	other = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(other >= 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(flock(other, LOCK_SH | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(close(fd), 0);
	assert_int_equal(flock(other, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(close(other), 0);
}

/*
 * A lock held elsewhere (any reader may take one) is waited for no longer than asked:
 * -ETIMEDOUT then. A timeout of 0 tries once. The lock is taken once it is free.
 */
static void
test_lock_timeout(void **state)
{
	const struct tmptree *t = *state;
	int fd, other;
	long long start, took;

	fd = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	other = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0 && other >= 0);
	assert_int_equal(flock(other, LOCK_SH), 0);

	start = ms_now();
	assert_int_equal(kt_lock_wait(fd, 300), -ETIMEDOUT);
	took = ms_now() - start;
	assert_true(took >= 300 && took < 3000);
	start = ms_now();
	assert_int_equal(kt_lock_wait(fd, 0), -ETIMEDOUT);
	assert_true(ms_now() - start < 1000);

	assert_int_equal(flock(other, LOCK_UN), 0);
	assert_int_equal(kt_lock_wait(fd, 0), 0);
	assert_int_equal(flock(other, LOCK_SH | LOCK_NB), -1);
	assert_int_equal(close(other), 0);
	assert_int_equal(close(fd), 0);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, tmptree_setup, tmptree_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_lock),
		T(test_lock_timeout),
	};

	return cmocka_run_group_tests_name("kt_lock", tests, NULL, NULL);
}
