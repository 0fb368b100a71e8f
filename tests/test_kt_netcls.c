/* test_kt_netcls.c: unit tests for kt_netcls.c on temp trees laid out like /proc and a cgroup v1
 * mount: whose sockets would be re-tagged by ka-tune taking them, and whose would not. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

/*
 * A tree: proc/self and proc/77 in the cgroups given of a net_cls,net_prio hierarchy, mounted
 * (as proc/self/mountinfo says) at cg, with a space in its name, escaped as mountinfo does.
 */
static void
put_tree(const struct tmptree *t, const char *ours, const char *theirs)
{
	char line[2 * PATH_MAX], cgroup[256];

	tmptree_mkdirs(t->root, "proc/self");
	tmptree_mkdirs(t->root, "proc/77");
	tmptree_mkdirs(t->root, "c g/a");
	tmptree_mkdirs(t->root, "c g/b");
	tmptree_put(t->root, "c g/net_cls.classid", "0\n");
	tmptree_put(t->root, "c g/net_prio.ifpriomap", "lo 0\neth0 0\n");
	(void)snprintf(cgroup, sizeof(cgroup), "12:pids:/x\n5:net_cls,net_prio:%s\n0::/\n", ours);
	tmptree_put(t->root, "proc/self/cgroup", cgroup);
	(void)snprintf(cgroup, sizeof(cgroup), "12:pids:/y\n5:net_cls,net_prio:%s\n0::/\n", theirs);
	tmptree_put(t->root, "proc/77/cgroup", cgroup);
	(void)snprintf(line, sizeof(line),
	    "22 1 0:20 / /proc rw - proc proc rw\n"
	    "40 1 0:33 / %s/c\\040g rw,nosuid shared:9 - cgroup kt rw,net_cls,net_prio\n", t->root);
	tmptree_put(t->root, "proc/self/mountinfo", line);
}

static int
compare(const struct tmptree *t, struct kt_netcls_diff *d)
{
	char proc[PATH_MAX];

	tmptree_path(t->root, "proc", proc, sizeof(proc));
	return kt_netcls_compare(proc, 77, d);
}

/* The same cgroup, or none at all: nothing differs, and no file is read. */
static void
test_same_cgroup(void **state)
{
	const struct tmptree *t = *state;
	struct kt_netcls_diff d;

	put_tree(t, "/a", "/a");
	assert_int_equal(compare(t, &d), 0);
	assert_int_equal(d.differ, 0);
	assert_string_equal(d.theirs[KT_NET_CLS], "/a");
	tmptree_put(t->root, "proc/self/cgroup", "0::/\n");
	tmptree_put(t->root, "proc/77/cgroup", "0::/system.slice\n");
	assert_int_equal(compare(t, &d), 0);
	assert_int_equal(d.differ, 0);
	assert_string_equal(d.theirs[KT_NET_PRIO], "");
}

/* Other cgroups that tag alike (a container's, with no classid or priority set) do not count. */
static void
test_alike(void **state)
{
	const struct tmptree *t = *state;
	struct kt_netcls_diff d;

	put_tree(t, "/a", "/b");
	tmptree_put(t->root, "c g/a/net_cls.classid", "0\n");
	tmptree_put(t->root, "c g/b/net_cls.classid", "0\n");
	tmptree_put(t->root, "c g/a/net_prio.ifpriomap", "lo 0\neth0 0\n");
	tmptree_put(t->root, "c g/b/net_prio.ifpriomap", "lo 0\neth0 0\n");
	assert_int_equal(compare(t, &d), 0);
	assert_int_equal(d.differ, 0);
}

/* A classid of its own, or a priority map: those tags differ, with the process's directory. */
static void
test_differ(void **state)
{
	const struct tmptree *t = *state;
	struct kt_netcls_diff d;
	char dir[PATH_MAX];

	put_tree(t, "/", "/b");
	tmptree_put(t->root, "c g/b/net_cls.classid", "1048577\n");
	tmptree_put(t->root, "c g/b/net_prio.ifpriomap", "lo 0\neth0 5\n");
	assert_int_equal(compare(t, &d), 0);
	assert_int_equal(d.differ, (1u << KT_NET_CLS) | (1u << KT_NET_PRIO));
	assert_int_equal(d.unknown, 0);
	assert_string_equal(d.ours[KT_NET_CLS], "/");
	assert_string_equal(d.theirs[KT_NET_CLS], "/b");
	tmptree_path(t->root, "c g/b", dir, sizeof(dir));
	assert_string_equal(d.dir[KT_NET_CLS], dir);
}

/* A hierarchy not mounted where ka-tune can see it: the tags cannot be compared, so they may
 * differ. A process that is gone is -ESRCH. */
static void
test_unknown(void **state)
{
	const struct tmptree *t = *state;
	struct kt_netcls_diff d;
	char proc[PATH_MAX];

	put_tree(t, "/a", "/b");
	tmptree_put(t->root, "proc/self/mountinfo", "22 1 0:20 / /proc rw - proc proc rw\n");
	assert_int_equal(compare(t, &d), 0);
	assert_int_equal(d.differ, (1u << KT_NET_CLS) | (1u << KT_NET_PRIO));
	assert_int_equal(d.unknown, d.differ);
	assert_string_equal(d.dir[KT_NET_CLS], "");
	tmptree_path(t->root, "proc", proc, sizeof(proc));
	assert_int_equal(kt_netcls_compare(proc, 78, &d), -ESRCH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_same_cgroup, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_alike, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_differ, tmptree_setup, tmptree_teardown),
		cmocka_unit_test_setup_teardown(test_unknown, tmptree_setup, tmptree_teardown),
	};

	return cmocka_run_group_tests_name("kt_netcls", tests, NULL, NULL);
}
