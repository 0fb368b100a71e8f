/* test_kt_machine.c: unit tests for kt_machine.c (which loader a machine or an image runs at
 * boot, the loaders' names, the kernel's tick rate) on temp trees, never on the host. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "tmptree.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const enum kt_loader loaders[] = { KT_LOADER_SYSTEMD, KT_LOADER_PROCPS };

static void
remove_in(const struct tmptree *t, const char *rel)
{
	char path[PATH_MAX];

	tmptree_path(t->root, rel, path, sizeof(path));
	assert_int_equal(unlink(path), 0);
}

/* An image runs systemd-sysctl where it holds it, in /usr/lib or /lib; procps otherwise. */
static void
test_default_loader_image(void **state)
{
	const struct tmptree *t = *state;
	char path[PATH_MAX];

	assert_int_equal(kt_boot_default_loader(t->root, 0), KT_LOADER_PROCPS);

	tmptree_mkdirs(t->root, "usr/lib/systemd");
	tmptree_put(t->root, "usr/lib/systemd/systemd-sysctl", "");
	assert_int_equal(kt_boot_default_loader(t->root, 0), KT_LOADER_SYSTEMD);
	remove_in(t, "usr/lib/systemd/systemd-sysctl");
	assert_int_equal(kt_boot_default_loader(t->root, 0), KT_LOADER_PROCPS);

	tmptree_mkdirs(t->root, "lib/systemd");
	tmptree_put(t->root, "lib/systemd/systemd-sysctl", "");
	assert_int_equal(kt_boot_default_loader(t->root, 0), KT_LOADER_SYSTEMD);
	remove_in(t, "lib/systemd/systemd-sysctl");

	/* A merged-/usr image: /lib links to /usr/lib, which is the image's, not the host's. */
	tmptree_path(t->root, "lib/systemd", path, sizeof(path));
	assert_int_equal(rmdir(path), 0);
	tmptree_path(t->root, "lib", path, sizeof(path));
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink("/usr/lib", path), 0);
	assert_int_equal(kt_boot_default_loader(t->root, 0), KT_LOADER_PROCPS);
	tmptree_put(t->root, "usr/lib/systemd/systemd-sysctl", "");
	assert_int_equal(kt_boot_default_loader(t->root, 0), KT_LOADER_SYSTEMD);

	/* A running machine is judged by whether systemd runs it, not by the binary. */
	assert_int_equal(kt_boot_default_loader(t->root, 1), KT_LOADER_PROCPS);
}

/* A running machine runs systemd-sysctl where systemd runs it: /run/systemd/system exists. */
static void
test_default_loader_live(void **state)
{
	const struct tmptree *t = *state;

	assert_int_equal(kt_boot_default_loader(t->root, 1), KT_LOADER_PROCPS);
	tmptree_mkdirs(t->root, "run/systemd/system");
	assert_int_equal(kt_boot_default_loader(t->root, 1), KT_LOADER_SYSTEMD);
	assert_int_equal(kt_boot_default_loader(t->root, 0), KT_LOADER_PROCPS);
}

static void
test_loader_names(void **state)
{
	static const char *const bad[] = {
		"", "Systemd", "PROCPS", "systemd ", " procps", "procps-ng", "sysctl",
		"systemd-sysctl",
	};
	enum kt_loader l;

	(void)state;
	assert_string_equal(kt_loader_name(KT_LOADER_SYSTEMD), "systemd");
	assert_string_equal(kt_loader_name(KT_LOADER_PROCPS), "procps");
	for (size_t i = 0; i < NELEM(loaders); i++) {
		l = (enum kt_loader)77;
		assert_int_equal(kt_loader_from_name(kt_loader_name(loaders[i]), &l), 0);
		assert_int_equal(l, loaders[i]);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		l = (enum kt_loader)77;
		assert_int_equal(kt_loader_from_name(bad[i], &l), -EINVAL);
		assert_int_equal(l, (enum kt_loader)77);
	}
}

/* Write boot/config-<release> below the tree, for the running kernel's release. */
static void
put_config(const struct tmptree *t, const char *text)
{
	char rel[PATH_MAX];
	struct utsname u;

	assert_int_equal(uname(&u), 0);
	snprintf(rel, sizeof(rel), "boot/config-%s", u.release);
	tmptree_mkdirs(t->root, "boot");
	tmptree_put(t->root, rel, text);
}

/* CONFIG_HZ of the running kernel's configuration below the root; 1000 when there is none. */
static void
test_kernel_hz(void **state)
{
	static const struct {
		const char *config;
		long hz;
	} cases[] = {
		{ "# CONFIG_HZ_100 is not set\nCONFIG_HZ_250=y\nCONFIG_HZ=250\nCONFIG_X=1\n", 250 },
		{ "CONFIG_HZ=100", 100 },
		{ "CONFIG_HZ=300\nCONFIG_HZ=100\n", 300 },
		{ "CONFIG_HZ_1000=y\n", 1000 },
		{ "CONFIG_HZ=0\n", 1000 },
		{ "CONFIG_HZ=abc\n", 1000 },
		{ "CONFIG_HZ=100000\n", 100000 },
		{ "CONFIG_HZ=100001\n", 1000 },
		{ "# CONFIG_HZ=100\n", 1000 },
		{ "", 1000 },
	};
	const struct tmptree *t = *state;
	char missing[PATH_MAX];

	assert_int_equal(kt_kernel_hz(t->root), 1000);
	for (size_t i = 0; i < NELEM(cases); i++) {
		put_config(t, cases[i].config);
		if (kt_kernel_hz(t->root) != cases[i].hz)
			fail_msg("\"%s\": %ld, want %ld", cases[i].config, kt_kernel_hz(t->root),
			    cases[i].hz);
	}
	tmptree_path(t->root, "nosuch", missing, sizeof(missing));
	assert_int_equal(kt_kernel_hz(missing), 1000);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, tmptree_setup, tmptree_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_default_loader_image),
		T(test_default_loader_live),
		cmocka_unit_test(test_loader_names),
		T(test_kernel_hz),
	};

	return cmocka_run_group_tests_name("kt_machine", tests, NULL, NULL);
}
