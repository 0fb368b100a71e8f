/* test_kt_exec.c: unit tests for kt_exec.c: what a file is to execve() (temp files: ELF headers
 * with and without an interpreter, #! lines), the PATH search, the environment the command gets,
 * and the values read back from it as the preloaded library reads them. */
#include <elf.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"
#include "tmptree.h"

/* Write rel: a 64-bit ELF file of this machine's byte order, its second program header of
 * type second (PT_INTERP: dynamic), with nph headers in all. */
static void
put_elf(const struct tmptree *t, const char *rel, uint32_t second, unsigned int nph)
{
	struct {
		Elf64_Ehdr h;
		Elf64_Phdr ph[3];
	} f = { 0 };
	uint16_t one = 1;
	char path[PATH_MAX];

	memcpy(f.h.e_ident, ELFMAG, SELFMAG);
	f.h.e_ident[EI_CLASS] = ELFCLASS64;
	f.h.e_ident[EI_DATA] = *(unsigned char *)&one ? ELFDATA2LSB : ELFDATA2MSB;
	f.h.e_ident[EI_VERSION] = EV_CURRENT;
	f.h.e_type = ET_EXEC;
	f.h.e_machine = EM_X86_64;
	f.h.e_phoff = offsetof(__typeof__(f), ph);
	f.h.e_phentsize = sizeof(Elf64_Phdr);
	f.h.e_phnum = nph;
	f.ph[0].p_type = PT_LOAD;
	f.ph[1].p_type = second;
	f.ph[2].p_type = PT_NOTE;
	tmptree_path(t->root, rel, path, sizeof(path));
	tmptree_write(path, &f, sizeof(f));
}

/* Judge rel: returns kt_exec_inspect()'s result, the kind and interpreter in the out-params. */
static int
inspect(const struct tmptree *t, const char *rel, enum kt_file_kind *kind, char *interp)
{
	char path[PATH_MAX];
	struct kt_elf_id id;

	tmptree_path(t->root, rel, path, sizeof(path));
	return kt_exec_inspect(path, kind, &id, interp, PATH_MAX);
}

/* ELF files with and without PT_INTERP, #! lines, anything else; and malformed ones. */
static void
test_inspect(void **state)
{
	const struct tmptree *t = *state;
	enum kt_file_kind kind = 99;
	char interp[PATH_MAX] = "";

	put_elf(t, "dyn", PT_INTERP, 3);
	put_elf(t, "static", PT_DYNAMIC, 3);
	put_elf(t, "noheaders", PT_INTERP, 0);
	put_elf(t, "cut", PT_NOTE, 90);	/* more headers than the file holds */
	tmptree_put(t->root, "script", "#!  /bin/sh -e\necho hi\n");
	tmptree_put(t->root, "bare", "#!\n");
	tmptree_put(t->root, "text", "echo hi\n");
	tmptree_put(t->root, "empty", "");

	assert_int_equal(inspect(t, "dyn", &kind, interp), 0);
	assert_int_equal(kind, KT_FILE_DYNAMIC);
	assert_int_equal(inspect(t, "static", &kind, interp), 0);
	assert_int_equal(kind, KT_FILE_STATIC);
	assert_int_equal(inspect(t, "script", &kind, interp), 0);
	assert_int_equal(kind, KT_FILE_SCRIPT);
	assert_string_equal(interp, "/bin/sh");
	assert_int_equal(inspect(t, "text", &kind, interp), 0);
	assert_int_equal(kind, KT_FILE_OTHER);
	assert_int_equal(inspect(t, "empty", &kind, interp), 0);
	assert_int_equal(kind, KT_FILE_OTHER);
	kind = 99;
	assert_int_equal(inspect(t, "noheaders", &kind, interp), -ENOEXEC);
	assert_int_equal(inspect(t, "cut", &kind, interp), -ENOEXEC);
	assert_int_equal(inspect(t, "bare", &kind, interp), -ENOEXEC);
	assert_int_equal(inspect(t, "missing", &kind, interp), -ENOENT);
	assert_int_equal(kind, 99);
}

/* A real program of this machine is dynamic, with this machine's identity. */
static void
test_inspect_real(void **state)
{
	struct kt_elf_id id;
	enum kt_file_kind kind;
	char interp[PATH_MAX];

	(void)state;
	assert_int_equal(kt_exec_inspect("/bin/sh", &kind, &id, interp, sizeof(interp)), 0);
	assert_int_equal(kind, KT_FILE_DYNAMIC);
	assert_int_equal(id.cls, sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32);
}

/* PATH is searched as execvp() searches it. */
static void
test_find(void **state)
{
	const struct tmptree *t = *state;
	char a[PATH_MAX], b[PATH_MAX], path[2 * PATH_MAX + 8], buf[PATH_MAX], want[PATH_MAX];

	tmptree_mkdirs(t->root, "a");
	tmptree_mkdirs(t->root, "b");
	tmptree_put(t->root, "a/tool", "");		/* not executable */
	tmptree_put(t->root, "b/tool", "");
	tmptree_put(t->root, "a/only", "");
	tmptree_mkdirs(t->root, "b/dir");
	tmptree_path(t->root, "a", a, sizeof(a));
	tmptree_path(t->root, "b", b, sizeof(b));
	tmptree_path(t->root, "b/tool", want, sizeof(want));
	assert_int_equal(chmod(want, 0755), 0);
	(void)snprintf(path, sizeof(path), "%s:%s", a, b);

	assert_int_equal(kt_exec_find("tool", path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(kt_exec_find("only", path, buf, sizeof(buf)), -EACCES);
	assert_int_equal(kt_exec_find("dir", path, buf, sizeof(buf)), -EACCES);
	assert_int_equal(kt_exec_find("nosuch", path, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(kt_exec_find("", path, buf, sizeof(buf)), -ENOENT);
	/* A name with a slash is taken as it is, PATH or not. */
	assert_int_equal(kt_exec_find(want, "/nonexistent", buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	/* An empty entry is the current directory. */
	assert_int_equal(chdir(b), 0);
	assert_int_equal(kt_exec_find("tool", "/nonexistent:", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tool");
}

/* The number of strings of a NULL-ended array. */
static size_t
count(char **env)
{
	size_t n = 0;

	while (env[n])
		n++;
	return n;
}

/*
 * The library is appended to LD_PRELOAD, once; the values given are set, those not given are
 * dropped; everything else is passed on as it is.
 */
static void
test_env(void **state)
{
	char *in[] = { "HOME=/root", "LD_PRELOAD=/a.so /b.so", "KA_TUNE_INTVL=5",
		       "KA_TUNE_TIME=9", "LD_PRELOAD=/second.so", NULL };
	char *listed[] = { "LD_PRELOAD=/x.so:/lib/k.so", NULL };
	char *empty[] = { "LD_PRELOAD= ", NULL };
	struct kt_values v = { .mask = KT_BIT(KT_TIME) | KT_BIT(KT_PROBES), .val = { 600, 0, 3 } };
	struct kt_values none = { 0 };
	size_t first;
	char **env;

	(void)state;
	env = kt_exec_env(in, "/lib/k.so", &v, &first);
	assert_non_null(env);
	assert_int_equal(count(env), 4);
	assert_string_equal(env[0], "HOME=/root");
	assert_string_equal(env[1], "LD_PRELOAD=/a.so /b.so:/lib/k.so");
	assert_string_equal(env[2], "KA_TUNE_TIME=600");
	assert_string_equal(env[3], "KA_TUNE_PROBES=3");
	kt_exec_env_free(env, first);

	env = kt_exec_env(listed, "/lib/k.so", &none, &first);
	assert_int_equal(count(env), 1);
	assert_string_equal(env[0], "LD_PRELOAD=/x.so:/lib/k.so");
	kt_exec_env_free(env, first);

	env = kt_exec_env(empty, "/lib/k.so", &none, &first);
	assert_string_equal(env[0], "LD_PRELOAD=/lib/k.so");
	kt_exec_env_free(env, first);
}

/* Read back as the preloaded library does: by the options' rules; a bad value is left out. */
static void
test_env_values(void **state)
{
	static const struct {
		const char *time, *intvl, *probes;
		unsigned int mask;
		int val[KT_NKEYS];
	} cases[] = {
		{ "600", "60", "5", KT_ALL, { 600, 60, 5 } },
		{ "10m", "1m30s", NULL, KT_BIT(KT_TIME) | KT_BIT(KT_INTVL), { 600, 90, 0 } },
		{ "0", "010", "128", 0, { 0 } },
		{ " 5", "5 ", "-1", 0, { 0 } },
		{ "32768", "99999999999999999999", "", 0, { 0 } },
		{ NULL, NULL, "127", KT_BIT(KT_PROBES), { 0, 0, 127 } },
	};
	struct kt_values v;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *s[KT_NKEYS] = { cases[i].time, cases[i].intvl, cases[i].probes };

		for (int k = 0; k < KT_NKEYS; k++) {
			if (s[k])
				assert_int_equal(setenv(kt_key(k)->env, s[k], 1), 0);
			else
				assert_int_equal(unsetenv(kt_key(k)->env), 0);
		}
		kt_exec_env_values(&v);
		assert_int_equal(v.mask, cases[i].mask);
		for (int k = 0; k < KT_NKEYS; k++)
			if (v.mask & KT_BIT(k))
				assert_int_equal(v.val[k], cases[i].val[k]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inspect, tmptree_setup, tmptree_teardown),
		cmocka_unit_test(test_inspect_real),
		cmocka_unit_test_setup_teardown(test_find, tmptree_setup, tmptree_teardown),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_env_values),
	};

	return cmocka_run_group_tests_name("kt_exec", tests, NULL, NULL);
}
