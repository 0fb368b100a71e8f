/* test_kt_procpid.c: unit tests for kt_procpid.c: a process's name and socket links read from
 * temp trees laid out like /proc, and the real /proc/self/fd. */
#include <errno.h>
#include <fcntl.h>
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
#include "../src/kt_internal.h"
#include "tmptree.h"

/* Only "socket:[N]" with N a 32-bit number above 0 is a socket link. */
static void
test_socket_link(void **state)
{
	static const char *const bad[] = {
		"pipe:[5]", "socket:[]", "socket:[0]", "socket:[4294967296]", "socket:[12x]",
		"socket:[12", "socket:12]", "/dev/null", "",
	};
	unsigned int inode = 7;

	(void)state;
	assert_int_equal(kt_socket_link("socket:[4242]", 13, &inode), 1);
	assert_int_equal(inode, 4242);
	assert_int_equal(kt_socket_link("socket:[4294967295]", 19, &inode), 1);
	assert_int_equal(inode, 4294967295u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		inode = 7;
		assert_int_equal(kt_socket_link(bad[i], strlen(bad[i]), &inode), 0);
		assert_int_equal(inode, 7);
	}
}

/* The entry names of /proc and /proc/PID/fd: digits only, 1 to max ("0" is 0, as is junk). */
static void
test_entry_number(void **state)
{
	(void)state;
	assert_int_equal(kt_entry_number("17", 100), 17);
	assert_int_equal(kt_entry_number("101", 100), 0);
	assert_int_equal(kt_entry_number("self", 100), 0);
	assert_int_equal(kt_entry_number(".", 100), 0);
	assert_int_equal(kt_entry_number("", 100), 0);
	assert_int_equal(kt_entry_number("2147483647", INT_MAX), INT_MAX);
	assert_int_equal(kt_entry_pid("4194304"), KT_PID_MAX);
	assert_int_equal(kt_entry_pid("4194305"), 0);
}

/* A name comes without /proc's newline, whatever bytes it holds; a missing one is "". */
static void
test_comm(void **state)
{
	const struct tmptree *t = *state;
	char comm[KT_COMM_LEN] = "x";
	int procfd;

	tmptree_mkdirs(t->root, "12");
	tmptree_put(t->root, "12/comm", "\033[31mred\n");
	procfd = open(t->root, O_RDONLY | O_DIRECTORY);
	assert_true(procfd >= 0);
	kt_proc_comm(procfd, "12", comm);
	assert_string_equal(comm, "\033[31mred");
	kt_proc_comm(procfd, "13", comm);
	assert_string_equal(comm, "");
	(void)close(procfd);
}

/*
 * The sockets of an fd directory: each once, with its lowest descriptor (0 included), by
 * descriptor; links to other files, and malformed ones, are passed over.
 */
static void
test_sockets_tree(void **state)
{
	const struct tmptree *t = *state;
	struct kt_fd_sock *socks = NULL;
	char path[PATH_MAX];
	size_t n = 99;
	int fddir;

	tmptree_mkdirs(t->root, "fd");
	tmptree_link(t->root, "fd/0", "socket:[500]");
	tmptree_link(t->root, "fd/1", "/dev/pts/0");
	tmptree_link(t->root, "fd/7", "socket:[300]");
	tmptree_link(t->root, "fd/12", "socket:[500]");
	tmptree_link(t->root, "fd/3", "socket:[300]");
	tmptree_link(t->root, "fd/4", "pipe:[300]");
	tmptree_link(t->root, "fd/9", "socket:[x]");
	tmptree_link(t->root, "fd/10", "socket:[100]");
	tmptree_put(t->root, "fd/11", "not a link");
	tmptree_path(t->root, "fd", path, sizeof(path));
	fddir = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(fddir >= 0);
	assert_int_equal(kt_proc_sockets(fddir, &socks, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(socks[0].fd, 0);
	assert_int_equal(socks[0].inode, 500);
	assert_int_equal(socks[1].fd, 3);
	assert_int_equal(socks[1].inode, 300);
	assert_int_equal(socks[2].fd, 10);
	assert_int_equal(socks[2].inode, 100);
	free(socks);
	/* Read again from the same descriptor: the same list. */
	assert_int_equal(kt_proc_sockets(fddir, &socks, &n), 0);
	assert_int_equal(n, 3);
	free(socks);
	(void)close(fddir);
}

/* An fd directory without sockets gives none, and no array. */
static void
test_sockets_none(void **state)
{
	const struct tmptree *t = *state;
	struct kt_fd_sock *socks = (void *)1;
	char path[PATH_MAX];
	size_t n = 99;
	int fddir;

	tmptree_mkdirs(t->root, "fd");
	tmptree_link(t->root, "fd/1", "/dev/null");
	tmptree_path(t->root, "fd", path, sizeof(path));
	fddir = open(path, O_RDONLY | O_DIRECTORY);
	assert_true(fddir >= 0);
	assert_int_equal(kt_proc_sockets(fddir, &socks, &n), 0);
	assert_int_equal(n, 0);
	assert_null(socks);
	(void)close(fddir);
}

/* This process's own sockets, in the real /proc/self/fd, with the inodes fstat() gives. */
static void
test_sockets_self(void **state)
{
	struct kt_fd_sock *socks = NULL;
	struct stat st;
	size_t n = 0, found = 0;
	int sv[2], fddir;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fstat(sv[1], &st), 0);
	fddir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
	assert_true(fddir >= 0);
	assert_int_equal(kt_proc_sockets(fddir, &socks, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (socks[i].fd == sv[1] && socks[i].inode == st.st_ino)
			found++;
	assert_int_equal(found, 1);
	free(socks);
	(void)close(fddir);
	(void)close(sv[0]);
	(void)close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_link),
		cmocka_unit_test(test_entry_number),
		cmocka_unit_test_setup_teardown(test_comm, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_sockets_tree, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_sockets_none, tmptree_setup, tmptree_teardown),
		cmocka_unit_test(test_sockets_self),
	};

	return cmocka_run_group_tests_name("kt_procpid", tests, NULL, NULL);
}
