/* test_kt_sockowner.c: unit tests for kt_sockowner.c: the process holding a socket, found in the
 * real /proc for a socket of this process, and in temp trees laid out like /proc. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

/* A connection with keepalive off and the given inode, no owner known yet. */
static struct kt_sock
sock_inode(unsigned int inode)
{
	struct kt_sock s = { .ka = KT_KA_OFF, .inode = inode };

	return s;
}

/* The owner of a socket this process holds is found in /proc: this process, with its name. */
static void
test_owners_finds_self(void **state)
{
	struct kt_sock socks[2] = { sock_inode(0), sock_inode(0) };
	char comm[KT_COMM_LEN] = "";
	unsigned int not_seen = 12345;
	struct stat st;
	FILE *f;
	int fd;

	(void)state;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	socks[0].inode = st.st_ino;	/* socks[1] has no file: nobody can be found holding it */
	assert_int_equal(kt_sock_owners(KT_PROC_DIR, socks, 2, &not_seen), 0);
	assert_int_equal(socks[0].pid, getpid());
	f = fopen("/proc/self/comm", "r");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof(comm), f));
	(void)fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	assert_string_equal(socks[0].comm, comm);
	assert_int_equal(socks[1].pid, 0);
	assert_true(not_seen != 12345);
	(void)close(fd);
}

/* Give process pid of the tree the name comm (as /proc/PID/comm holds it) and the fd link. */
static void
put_fd(const struct tmptree *t, int pid, const char *comm, int fd, const char *link)
{
	char rel[64];

	(void)snprintf(rel, sizeof(rel), "%d/fd", pid);
	tmptree_mkdirs(t->root, rel);
	(void)snprintf(rel, sizeof(rel), "%d/comm", pid);
	tmptree_put(t->root, rel, comm);
	(void)snprintf(rel, sizeof(rel), "%d/fd/%d", pid, fd);
	tmptree_link(t->root, rel, link);
}

/*
 * The lowest pid holding a socket owns it; links that are no socket, or another one, or
 * malformed, are passed over; the name comes as the process gave it, control bytes and all,
 * only the newline /proc adds taken off.
 */
static void
test_owners_tree(void **state)
{
	const struct tmptree *t = *state;
	struct kt_sock socks[3] = { sock_inode(4242), sock_inode(77), sock_inode(0) };
	unsigned int not_seen = 12345;

	put_fd(t, 100, "web\n", 3, "socket:[4242]");
	put_fd(t, 50, "\033]0;pwned\007\n", 7, "socket:[4242]");
	put_fd(t, 50, "\033]0;pwned\007\n", 8, "pipe:[77]");
	put_fd(t, 60, "\xff\xfe\n", 1, "socket:[77]");
	put_fd(t, 60, "\xff\xfe\n", 2, "socket:[4242x]");
	put_fd(t, 20, "y\n", 5, "socket:[]");
	put_fd(t, 10, "z\n", 6, "socket:[99999999999]");
	tmptree_mkdirs(t->root, "70");		/* exited between readdir and open: no fd */
	tmptree_link(t->root, "self", "100");

	assert_int_equal(kt_sock_owners(t->root, socks, 3, &not_seen), 0);
	assert_int_equal(socks[0].pid, 50);
	assert_string_equal(socks[0].comm, "\033]0;pwned\007");
	assert_int_equal(socks[1].pid, 60);
	assert_string_equal(socks[1].comm, "\xff\xfe");
	assert_int_equal(socks[2].pid, 0);
	assert_string_equal(socks[2].comm, "");
	assert_int_equal(not_seen, 0);
}

/* Make the fd directory of process pid of the tree closed (mode 0) or open again (0755). */
static void
close_fds(const struct tmptree *t, int pid, mode_t mode)
{
	char rel[64], path[PATH_MAX];

	(void)snprintf(rel, sizeof(rel), "%d/fd", pid);
	tmptree_path(t->root, rel, path, sizeof(path));
	assert_int_equal(chmod(path, mode), 0);
}

/*
 * A process whose files may not be read is counted as not seen, unless it is a kernel thread
 * (PF_KTHREAD in the flags of its stat, after a name that may hold ") "); its sockets show no
 * process.
 */
static void
test_owners_not_seen(void **state)
{
	const struct tmptree *t = *state;
	struct kt_sock socks[1] = { sock_inode(4242) };
	struct tmptree_caps caps;
	unsigned int not_seen = 12345;
	int dropped, r;

	put_fd(t, 80, "secret\n", 3, "socket:[4242]");
	put_fd(t, 81, "kworker\n", 3, "socket:[9]");
	put_fd(t, 82, "odd) 0 0 0 0 0 2097152\n", 3, "socket:[9]");
	tmptree_put(t->root, "80/stat", "80 (secret) S 1 80 80 0 -1 4194560 0 0 0\n");
	tmptree_put(t->root, "81/stat", "81 (kworker) I 2 0 0 0 -1 69238880 0 0 0\n");
	tmptree_put(t->root, "82/stat", "82 (odd) 0 0 0 0 0 2097152) S 1 82 82 0 -1 4194560 0\n");
	close_fds(t, 80, 0);
	close_fds(t, 81, 0);
	close_fds(t, 82, 0);
	dropped = tmptree_dac_drop(&caps);
	r = kt_sock_owners(t->root, socks, 1, &not_seen);
	if (dropped)
		tmptree_dac_restore(&caps);
	close_fds(t, 80, 0755);
	close_fds(t, 81, 0755);
	close_fds(t, 82, 0755);
	assert_int_equal(r, 0);
	assert_int_equal(not_seen, 2);
	assert_int_equal(socks[0].pid, 0);
	assert_string_equal(socks[0].comm, "");
}

/* No proc directory: an error, and the connections as they were. */
static void
test_owners_no_proc(void **state)
{
	const struct tmptree *t = *state;
	struct kt_sock socks[1] = { sock_inode(4242) };
	char path[PATH_MAX];
	unsigned int not_seen = 12345;

	socks[0].pid = 99;
	tmptree_path(t->root, "nosuch", path, sizeof(path));
	assert_int_equal(kt_sock_owners(path, socks, 1, &not_seen), -ENOENT);
	assert_int_equal(socks[0].pid, 99);
	assert_int_equal(not_seen, 12345);
	/* Without an inode to look for, the directory is not even read. */
	socks[0].inode = 0;
	assert_int_equal(kt_sock_owners(path, socks, 1, &not_seen), 0);
	assert_int_equal(socks[0].pid, 0);
	assert_int_equal(not_seen, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owners_finds_self),
		cmocka_unit_test_setup_teardown(test_owners_tree, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_owners_not_seen,
		    tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_owners_no_proc,
		    tmptree_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests_name("kt_sockowner", tests, NULL, NULL);
}
