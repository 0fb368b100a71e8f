/* test_kt_keys.c: unit tests for kt_keys.c, the table of key facts (names, /proc/sys paths,
 * short names, limits, defaults). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

/* A value no real key has, to see that failures leave the out-param alone. */
#define KEY_SENTINEL	((enum kt_key)0x5a5a)

static const char *const dotted[KT_NKEYS] = {
	[KT_TIME] = "net.ipv4.tcp_keepalive_time",
	[KT_INTVL] = "net.ipv4.tcp_keepalive_intvl",
	[KT_PROBES] = "net.ipv4.tcp_keepalive_probes",
};

static const char *const slashed[KT_NKEYS] = {
	[KT_TIME] = "net/ipv4/tcp_keepalive_time",
	[KT_INTVL] = "net/ipv4/tcp_keepalive_intvl",
	[KT_PROBES] = "net/ipv4/tcp_keepalive_probes",
};

static void
test_name_per_key(void **state)
{
	(void)state;
	assert_string_equal(kt_key(KT_TIME)->name, "net.ipv4.tcp_keepalive_time");
	assert_string_equal(kt_key(KT_INTVL)->name, "net.ipv4.tcp_keepalive_intvl");
	assert_string_equal(kt_key(KT_PROBES)->name, "net.ipv4.tcp_keepalive_probes");
}

static void
test_dotted_names_map_to_keys(void **state)
{
	(void)state;
	for (int k = 0; k < KT_NKEYS; k++) {
		enum kt_key key = KEY_SENTINEL;

		assert_int_equal(kt_key_from_name(dotted[k], &key), 0);
		assert_int_equal(key, k);
	}
}

static void
test_slashed_names_map_to_keys(void **state)
{
	(void)state;
	for (int k = 0; k < KT_NKEYS; k++) {
		enum kt_key key = KEY_SENTINEL;

		assert_int_equal(kt_key_from_name(slashed[k], &key), 0);
		assert_int_equal(key, k);
	}
}

/* KEYNAME() of a key gives a name kt_key_from_name() takes back to the same key. */
static void
test_name_round_trip(void **state)
{
	(void)state;
	for (int k = 0; k < KT_NKEYS; k++) {
		enum kt_key key = KEY_SENTINEL;

		assert_int_equal(kt_key_from_name(kt_key(k)->name, &key), 0);
		assert_int_equal(key, k);
	}
}

static void
test_other_names_are_enoent(void **state)
{
	static const char *const bad[] = {
		"",
		".",
		"/",
		"../",
		"..",
		"net.ipv4.tcp_keepalive_time ",
		" net.ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_keepalive_time\n",
		"net.ipv4.tcp_keepalive_time.",
		"net.ipv4.tcp_keepalive_time/",
		".net.ipv4.tcp_keepalive_time",
		"/net/ipv4/tcp_keepalive_time",
		"net/ipv4/tcp_keepalive_time/",
		"net.ipv4.tcp_keepalive_tim",
		"net.ipv4.tcp_keepalive_timex",
		"net.ipv4.tcp_keepalive_",
		"net.ipv4.tcp_keepalive",
		"net.ipv4.tcp_keepalive_probe",
		"net.ipv4.tcp_keepalive_intv",
		"ipv4.tcp_keepalive_time",
		"tcp_keepalive_time",
		"time",
		"intvl",
		"probes",
		"NET.IPV4.TCP_KEEPALIVE_TIME",
		"Net.ipv4.tcp_keepalive_time",
		"net.ipv6.tcp_keepalive_time",
		"net.ipv4/tcp_keepalive_time",
		"net/ipv4.tcp_keepalive_time",
		"net.ipv4.tcp_keepalive/time",
		"net/ipv4/tcp_keepalive.time",
		"net.ipv4.tcp_fin_timeout",
		"net.ipv4.tcp_syn_retries",
		"net/ipv4/ip_forward",
		"kernel.hostname",
		"../../etc/passwd",
		"net/ipv4/../ipv4/tcp_keepalive_time",
		"net/ipv4/./tcp_keepalive_time",
		"net//ipv4/tcp_keepalive_time",
		"net..ipv4.tcp_keepalive_time",
		"/proc/sys/net/ipv4/tcp_keepalive_time",
		"--time",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum kt_key key = KEY_SENTINEL;

		assert_int_equal(kt_key_from_name(bad[i], &key), -ENOENT);
		assert_int_equal(key, KEY_SENTINEL);
	}
}

/* A name followed by a NUL and more text is just the name: C strings end at the NUL. */
static void
test_name_stops_at_nul(void **state)
{
	static const char name[] = "net.ipv4.tcp_keepalive_probes\0junk";
	enum kt_key key = KEY_SENTINEL;

	(void)state;
	assert_int_equal(kt_key_from_name(name, &key), 0);
	assert_int_equal(key, KT_PROBES);
}

static void
test_path_per_key(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(kt_key_path("/proc/sys", KT_TIME, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/sys/net/ipv4/tcp_keepalive_time");
	assert_int_equal(kt_key_path("/proc/sys", KT_INTVL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/sys/net/ipv4/tcp_keepalive_intvl");
	assert_int_equal(kt_key_path("/proc/sys", KT_PROBES, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/sys/net/ipv4/tcp_keepalive_probes");
	assert_int_equal(kt_key_path(KT_PROC_ROOT, KT_TIME, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/proc/sys/net/ipv4/tcp_keepalive_time");
}

static void
test_path_other_roots(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(kt_key_path("/tmp/kt.XXXXXX", KT_INTVL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/kt.XXXXXX/net/ipv4/tcp_keepalive_intvl");
	assert_int_equal(kt_key_path("rel", KT_PROBES, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "rel/net/ipv4/tcp_keepalive_probes");
	assert_int_equal(kt_key_path("", KT_TIME, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/net/ipv4/tcp_keepalive_time");
}

/*
 * At the exact boundary: a buffer of exactly strlen(path) + 1 works and is filled to its last
 * byte; one byte less is -ENAMETOOLONG and the buffer is left as it was.
 */
static void
test_path_boundary(void **state)
{
	static const char *const roots[] = { "/proc/sys", "", "/a", "/tmp/some/longer/root" };

	(void)state;
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		for (int k = 0; k < KT_NKEYS; k++) {
			char want[256], buf[256], before[256];
			size_t need;

			strcpy(want, roots[i]);
			strcat(want, "/");
			strcat(want, slashed[k]);
			need = strlen(want) + 1;

			memset(buf, 'Z', sizeof(buf));
			assert_int_equal(kt_key_path(roots[i], k, buf, need), 0);
			assert_string_equal(buf, want);
			assert_int_equal(buf[need], 'Z');

			for (size_t len = 0; len < need; len++) {
				memset(buf, 'Z', sizeof(buf));
				memcpy(before, buf, sizeof(buf));
				assert_int_equal(kt_key_path(roots[i], k, buf, len),
				    -ENAMETOOLONG);
				assert_memory_equal(buf, before, sizeof(buf));
			}
		}
	}
}

/* A root so long the path would not fit PATH_MAX-sized buffers fails the same way. */
static void
test_path_long_root(void **state)
{
	char root[5000], buf[4096], before[4096];

	(void)state;
	memset(root, 'r', sizeof(root) - 1);
	root[0] = '/';
	root[sizeof(root) - 1] = '\0';
	memset(buf, 'Q', sizeof(buf));
	memcpy(before, buf, sizeof(buf));
	assert_int_equal(kt_key_path(root, KT_TIME, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_memory_equal(buf, before, sizeof(buf));
}

static void
test_limits_per_key(void **state)
{
	(void)state;
	assert_int_equal(kt_key(KT_TIME)->min, 1);
	assert_int_equal(kt_key(KT_TIME)->max, 32767);
	assert_int_equal(kt_key(KT_INTVL)->min, 1);
	assert_int_equal(kt_key(KT_INTVL)->max, 32767);
	assert_int_equal(kt_key(KT_PROBES)->min, 1);
	assert_int_equal(kt_key(KT_PROBES)->max, 127);
	assert_int_equal(kt_key(KT_TIME)->max, KT_TIME_MAX);
	assert_int_equal(kt_key(KT_INTVL)->max, KT_INTVL_MAX);
	assert_int_equal(kt_key(KT_PROBES)->max, KT_PROBES_MAX);
}

static void
test_short_name_per_key(void **state)
{
	(void)state;
	assert_string_equal(kt_key(KT_TIME)->short_name, "time");
	assert_string_equal(kt_key(KT_INTVL)->short_name, "intvl");
	assert_string_equal(kt_key(KT_PROBES)->short_name, "probes");
}

/* The defaults are the kernel's: a fresh network namespace starts with them. */
static void
test_default_per_key(void **state)
{
	(void)state;
	assert_int_equal(kt_key(KT_TIME)->kernel_default, 7200);
	assert_int_equal(kt_key(KT_INTVL)->kernel_default, 75);
	assert_int_equal(kt_key(KT_PROBES)->kernel_default, 9);
}

/* The table's path is its name with slashes, as sysctl(8) maps one to the other. */
static void
test_path_is_slashed_name(void **state)
{
	(void)state;
	for (int k = 0; k < KT_NKEYS; k++) {
		char dotted_path[64];
		size_t i;

		for (i = 0; kt_key(k)->path[i] && i < sizeof(dotted_path) - 1; i++)
			dotted_path[i] = kt_key(k)->path[i] == '/' ? '.' : kt_key(k)->path[i];
		dotted_path[i] = '\0';
		assert_string_equal(dotted_path, kt_key(k)->name);
	}
}

static void
test_is_duration_per_key(void **state)
{
	(void)state;
	assert_int_equal(kt_key(KT_TIME)->duration, 1);
	assert_int_equal(kt_key(KT_INTVL)->duration, 1);
	assert_int_equal(kt_key(KT_PROBES)->duration, 0);
}

/* The bits of the mask are distinct and KT_ALL is exactly the three keys. */
static void
test_key_bits(void **state)
{
	(void)state;
	assert_int_equal(KT_NKEYS, 3);
	assert_int_equal(KT_BIT(KT_TIME), 1);
	assert_int_equal(KT_BIT(KT_INTVL), 2);
	assert_int_equal(KT_BIT(KT_PROBES), 4);
	assert_int_equal(KT_ALL, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_per_key),
		cmocka_unit_test(test_dotted_names_map_to_keys),
		cmocka_unit_test(test_slashed_names_map_to_keys),
		cmocka_unit_test(test_name_round_trip),
		cmocka_unit_test(test_other_names_are_enoent),
		cmocka_unit_test(test_name_stops_at_nul),
		cmocka_unit_test(test_path_per_key),
		cmocka_unit_test(test_path_other_roots),
		cmocka_unit_test(test_path_boundary),
		cmocka_unit_test(test_path_long_root),
		cmocka_unit_test(test_limits_per_key),
		cmocka_unit_test(test_short_name_per_key),
		cmocka_unit_test(test_default_per_key),
		cmocka_unit_test(test_path_is_slashed_name),
		cmocka_unit_test(test_is_duration_per_key),
		cmocka_unit_test(test_key_bits),
	};

	return cmocka_run_group_tests_name("kt_keys", tests, NULL, NULL);
}
