/* kt_exec.c: run a command with the preload library in LD_PRELOAD, once it is sure the loader
 * will honour it: the command found on PATH as execvp() finds it, dynamically linked (through
 * any #! interpreters), of the library's ELF class and machine, not run set-user-ID; and the
 * environment that carries the values to the library, written here and read back there. */
#include <assert.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Where the library is: installed, and in a build tree relative to the running binary's
 * directory (the Makefile defines both). */
#ifndef KT_PRELOAD_PATH
#define KT_PRELOAD_PATH		"/usr/local/lib/ka-tune/" KT_PRELOAD_NAME
#endif
#ifndef KT_PRELOAD_BUILD
#define KT_PRELOAD_BUILD	"build/" KT_PRELOAD_NAME
#endif

/* The shell execvp() runs a file the kernel cannot execute (ENOEXEC) with, and the PATH it
 * searches when none is set (glibc's _CS_PATH). */
#define SHELL		"/bin/sh"
#define DEFAULT_PATH	"/bin:/usr/bin"
/* What the kernel reads of a file to choose how to run it (BINPRM_BUF_SIZE), and how deep it
 * follows #! interpreters that are scripts themselves. */
#define HEAD_LEN	256
#define MAX_INTERP	4
/* What ld.so splits LD_PRELOAD at. */
#define PRELOAD_SEPS	" :"

/* Fill in *f and return err, a negative errno. */
static int
fail(struct kt_exec_failure *f, enum kt_exec_fail why, int err, const char *path)
{
	assert(err < 0);
	f->why = why;
	f->err = err;
	(void)snprintf(f->path, sizeof(f->path), "%s", path ? path : "");
	f->path2[0] = '\0';
	return err;
}

/* Whether an ELF file of ident's data encoding can be read with this machine's byte order. */
static int
native_order(const unsigned char *ident)
{
	static const union {
		unsigned short s;
		unsigned char c[2];
	} one = { .s = 1 };

	return ident[EI_DATA] == (one.c[0] ? ELFDATA2LSB : ELFDATA2MSB);
}

/*
 * Read the program headers of an ELF file fd (head: its first len bytes) and say whether one is
 * PT_INTERP. Returns 1, 0, or -ENOEXEC for a malformed file.
 */
static int
has_interp(int fd, const unsigned char *head, size_t len)
{
	size_t phoff, phnum, phentsize, want;
	unsigned char ph[sizeof(Elf64_Phdr)];
	int is64 = head[EI_CLASS] == ELFCLASS64;

	if (is64 && len >= sizeof(Elf64_Ehdr)) {
		const Elf64_Ehdr *h = (const Elf64_Ehdr *)head;

		phoff = h->e_phoff, phnum = h->e_phnum, phentsize = h->e_phentsize;
		want = sizeof(Elf64_Phdr);
	} else if (!is64 && len >= sizeof(Elf32_Ehdr)) {
		const Elf32_Ehdr *h = (const Elf32_Ehdr *)head;

		phoff = h->e_phoff, phnum = h->e_phnum, phentsize = h->e_phentsize;
		want = sizeof(Elf32_Phdr);
	} else {
		return -ENOEXEC;
	}
	if (phentsize != want || phnum == 0 || phnum > 4096)
		return -ENOEXEC;
	for (size_t i = 0; i < phnum; i++) {
		uint32_t type;

		if (pread(fd, ph, want, (off_t)(phoff + i * want)) != (ssize_t)want)
			return -ENOEXEC;
		memcpy(&type, ph, sizeof(type));	/* p_type comes first in both classes */
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
}

/* Copy the interpreter of a "#!" line (head, n bytes): after blanks, up to a blank or the end. */
static int
script_interp(const unsigned char *head, size_t n, char *interp, size_t ilen)
{
	size_t i = 2, j;

	while (i < n && (head[i] == ' ' || head[i] == '\t'))
		i++;
	for (j = i; j < n && head[j] != ' ' && head[j] != '\t' && head[j] != '\n' &&
	    head[j] != '\0'; j++)
		;
	if (j == i || j - i >= ilen)
		return -ENOEXEC;
	memcpy(interp, head + i, j - i);
	interp[j - i] = '\0';
	return 0;
}

/* Judge an ELF file: dynamic or static, and its identity. */
static int
elf_kind(int fd, const unsigned char *head, size_t n, enum kt_file_kind *ret_kind,
    struct kt_elf_id *id)
{
	int r = 1;

	id->cls = head[EI_CLASS];
	id->data = head[EI_DATA];
	id->machine = 0;
	if (native_order(head) && n >= EI_NIDENT + 4) {
		/* e_machine, after e_ident and e_type in both classes */
		memcpy(&id->machine, head + EI_NIDENT + 2, sizeof(id->machine));
		r = has_interp(fd, head, n);
	}
	if (r < 0)
		return r;
	*ret_kind = r ? KT_FILE_DYNAMIC : KT_FILE_STATIC;	/* foreign order: judged foreign */
	return 0;
}

/*
 * Find out what a file is to execve(): an ELF file with an interpreter (dynamic) or without
 * (static), with its identity; a #! script, with its interpreter's path; or anything else.
 * Returns 0 and sets *ret_kind (and *ret_id, or interp), or a negative errno: it cannot be
 * opened or read, or -ENOEXEC for a malformed ELF file or #! line.
 */
int
kt_exec_inspect(const char *path, enum kt_file_kind *ret_kind, struct kt_elf_id *ret_id,
    char *interp, size_t ilen)
{
	enum kt_file_kind kind = KT_FILE_OTHER;
	unsigned char head[HEAD_LEN];
	ssize_t n;
	int fd, r = 0;

	assert(path && ret_kind && ret_id && interp);

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0) {
		r = -errno;
	} else if (n >= 2 && head[0] == '#' && head[1] == '!') {
		r = script_interp(head, (size_t)n, interp, ilen);
		kind = KT_FILE_SCRIPT;
	} else if (n >= EI_NIDENT && memcmp(head, ELFMAG, SELFMAG) == 0) {
		r = elf_kind(fd, head, (size_t)n, &kind, ret_id);
	}
	if (r == 0)
		*ret_kind = kind;
	(void)close(fd);
	return r;
}

/* Whether path is a regular file this process may read. */
static int
usable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

/* Write the build tree's library path: KT_PRELOAD_BUILD in the running binary's directory. */
static void
build_path(char *buf, size_t len)
{
	char exe[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	buf[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (slash && snprintf(buf, len, "%.*s/%s", (int)(slash - exe), exe, KT_PRELOAD_BUILD) >=
	    (int)len)
		buf[0] = '\0';
}

/*
 * Find the preload library: first where the Makefile builds it, relative to the running
 * binary's directory, so that a binary in a build tree uses the library built with it (who may
 * write there may replace the binary as well); then installed, at KT_PRELOAD_PATH. Returns 0
 * and puts the path in buf, or -ENOENT with *ret_fail naming both places (KT_EXEC_NOLIB).
 */
int
kt_exec_library(char *buf, size_t len, struct kt_exec_failure *ret_fail)
{
	char build[PATH_MAX];
	const char *found = NULL;

	assert(buf && ret_fail);

	build_path(build, sizeof(build));
	if (build[0] && usable(build))
		found = build;
	else if (usable(KT_PRELOAD_PATH))
		found = KT_PRELOAD_PATH;
	if (found && snprintf(buf, len, "%s", found) < (int)len)
		return 0;
	fail(ret_fail, KT_EXEC_NOLIB, found ? -ENAMETOOLONG : -ENOENT, KT_PRELOAD_PATH);
	(void)snprintf(ret_fail->path2, sizeof(ret_fail->path2), "%s", build);
	return ret_fail->err;
}

/*
 * Find cmd as execvp() does: a name with a '/' as it is, else in each directory of path_env
 * (NULL: DEFAULT_PATH; an empty entry is the current directory), skipping those where it is
 * missing or cannot be executed. Returns 0 and puts the path in buf, -ENOENT (nowhere) or
 * -EACCES (only where it may not be executed, or is no regular file).
 */
int
kt_exec_find(const char *cmd, const char *path_env, char *buf, size_t len)
{
	const char *p = path_env ? path_env : DEFAULT_PATH;
	int slash = strchr(cmd, '/') != NULL, denied = 0;

	assert(cmd && buf);

	if (cmd[0] == '\0')
		return -ENOENT;
	for (;;) {
		size_t dlen = slash ? 0 : strcspn(p, ":");
		struct stat st;
		int n = slash ? snprintf(buf, len, "%s", cmd) :
		    snprintf(buf, len, "%.*s%s%s", (int)dlen, p, dlen ? "/" : "", cmd);

		if (n >= 0 && (size_t)n < len && stat(buf, &st) == 0) {
			if (S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
				return 0;
			denied = 1;
		} else if (n >= 0 && (size_t)n < len && errno == EACCES) {
			denied = 1;
		}
		if (slash || p[dlen] == '\0')
			break;
		p += dlen + 1;
	}
	return denied ? -EACCES : -ENOENT;
}

/*
 * Whether the loader runs path in secure-execution mode, where it ignores LD_PRELOAD's paths:
 * when exec changes the effective user or group (set-user-ID and set-group-ID bits, unless the
 * file system is mounted nosuid), or, for a caller other than root, the file has capabilities.
 */
static int
secure_exec(const char *path)
{
	struct statvfs vfs;
	struct stat st;
	uid_t euid = getuid();
	gid_t egid = getgid();

	if (stat(path, &st) < 0)
		return 0;
	if (statvfs(path, &vfs) < 0 || !(vfs.f_flag & ST_NOSUID)) {
		if (st.st_mode & S_ISUID)
			euid = st.st_uid;
		if (st.st_mode & S_ISGID)
			egid = st.st_gid;
	}
	if (euid != getuid() || egid != getgid())
		return 1;
	return getuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0;
}

/*
 * Follow what execve(path), and execvp()'s fallback to the shell, run through #! interpreters
 * to the ELF file the kernel loads, and check that its loader will preload a library of
 * identity libid. Returns 0, or a negative errno with *f filled in.
 */
static int
check_chain(const char *path, const struct kt_elf_id *libid, struct kt_exec_failure *f)
{
	char cur[PATH_MAX], interp[PATH_MAX];
	struct kt_elf_id id;
	enum kt_file_kind kind;
	int r;

	if (secure_exec(path))
		return fail(f, KT_EXEC_SECURE, -EPERM, path);
	(void)snprintf(cur, sizeof(cur), "%s", path);
	for (int depth = 0;; depth++) {
		r = kt_exec_inspect(cur, &kind, &id, interp, sizeof(interp));
		if (r < 0)	/* an interpreter missing (ENOENT: 127, as env says)... */
			return fail(f, r == -ENOENT ? KT_EXEC_NOTFOUND : KT_EXEC_CANNOT, r, cur);
		if (kind == KT_FILE_STATIC)
			return fail(f, KT_EXEC_STATIC, -ENOEXEC, cur);
		if (kind == KT_FILE_DYNAMIC)
			break;
		if (depth == MAX_INTERP || (kind == KT_FILE_OTHER && depth > 0))
			return fail(f, KT_EXEC_CANNOT, depth ? -ENOEXEC : -ELOOP, cur);
		(void)snprintf(cur, sizeof(cur), "%s", kind == KT_FILE_OTHER ? SHELL : interp);
	}
	if (id.cls != libid->cls || id.data != libid->data || id.machine != libid->machine)
		return fail(f, KT_EXEC_FOREIGN, -ENOEXEC, cur);
	return 0;
}

/* Whether the LD_PRELOAD list names lib already. */
static int
listed(const char *list, const char *lib)
{
	size_t len = strlen(lib);

	for (list += strspn(list, PRELOAD_SEPS); *list; list += strspn(list, PRELOAD_SEPS)) {
		size_t n = strcspn(list, PRELOAD_SEPS);

		if (n == len && memcmp(list, lib, len) == 0)
			return 1;
		list += n;
	}
	return 0;
}

/* Whether the environment string s sets variable name. */
static int
sets(const char *s, const char *name)
{
	size_t len = strlen(name);

	return strncmp(s, name, len) == 0 && s[len] == '=';
}

/* Free an environment made by kt_exec_env(). */
void
kt_exec_env_free(char **env, size_t first_new)
{
	if (!env)
		return;
	for (size_t i = first_new; env[i]; i++)
		free(env[i]);
	free(env);
}

/* Write the LD_PRELOAD string: lib appended to old (the first LD_PRELOAD, or NULL). */
static char *
preload_var(const char *old, const char *lib)
{
	char *s = NULL;

	if (old && old[strspn(old, PRELOAD_SEPS)] != '\0' && listed(old, lib))
		return strdup(old - sizeof("LD_PRELOAD"));
	if (old && old[strspn(old, PRELOAD_SEPS)] != '\0')
		return asprintf(&s, "LD_PRELOAD=%s:%s", old, lib) < 0 ? NULL : s;
	return asprintf(&s, "LD_PRELOAD=%s", lib) < 0 ? NULL : s;
}

/*
 * Make the command's environment from env: lib appended to LD_PRELOAD (kept where it is listed
 * already; ld.so reads the first LD_PRELOAD only, so any other is dropped), each value of v in
 * its variable (kt_key()->env), and the variables of the values not given dropped, so that
 * those of an outer run do not apply. The strings of env are shared, the new ones come last.
 * Returns it (kt_exec_env_free() with *ret_first_new frees it), or NULL (-ENOMEM).
 */
char **
kt_exec_env(char *const env[], const char *lib, const struct kt_values *v, size_t *ret_first_new)
{
	const char *old = NULL;
	size_t n = 0, k = 0;
	char **out;

	while (env && env[n])
		n++;
	out = calloc(n + KT_NKEYS + 2, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int drop = sets(env[i], "LD_PRELOAD");

		if (drop && !old)
			old = env[i] + sizeof("LD_PRELOAD");
		for (int key = 0; key < KT_NKEYS; key++)
			drop |= sets(env[i], kt_key(key)->env);
		if (!drop)
			out[k++] = env[i];
	}
	*ret_first_new = k;
	if (!(out[k++] = preload_var(old, lib)))
		goto nomem;
	for (int key = 0; key < KT_NKEYS; key++) {
		if (!(v->mask & KT_BIT(key)))
			continue;
		if (asprintf(&out[k], "%s=%d", kt_key(key)->env, v->val[key]) < 0) {
			out[k] = NULL;
			goto nomem;
		}
		k++;
	}
	return out;
nomem:
	kt_exec_env_free(out, *ret_first_new);
	return NULL;
}

/*
 * Read the values ka-tune exec passed in the environment, as the preloaded library does: each
 * variable judged as its option is (kt_parse_value()); one that is missing or bad is left out,
 * and the sysctls apply in its stead. Never fails.
 */
void
kt_exec_env_values(struct kt_values *ret)
{
	struct kt_values v = { 0 };

	assert(ret);

	for (int k = 0; k < KT_NKEYS; k++) {
		const char *s = getenv(kt_key(k)->env);

		if (s && kt_parse_value(k, s, &v.val[k]) == 0)
			v.mask |= KT_BIT(k);
	}
	*ret = v;
}

/* Check the library: an ELF file, its path one LD_PRELOAD can carry. */
static int
check_library(const char *lib, struct kt_elf_id *id, struct kt_exec_failure *f)
{
	char interp[PATH_MAX];
	enum kt_file_kind kind;
	int r;

	if (lib[0] != '/' || strpbrk(lib, PRELOAD_SEPS))
		return fail(f, KT_EXEC_BADLIB, -EINVAL, lib);
	r = kt_exec_inspect(lib, &kind, id, interp, sizeof(interp));
	if (r == 0 && kind != KT_FILE_DYNAMIC && kind != KT_FILE_STATIC)
		r = -ENOEXEC;
	return r < 0 ? fail(f, KT_EXEC_BADLIB, r, lib) : 0;
}

/* execve() path, and as execvp() does, run a file the kernel does not know with the shell. */
static int
run(const char *path, char *const argv[], char *const env[])
{
	size_t n = 0;
	char **sh_argv;

	(void)execve(path, argv, env);
	if (errno != ENOEXEC)
		return -errno;
	while (argv[n])
		n++;
	sh_argv = calloc(n + 2, sizeof(*sh_argv));
	if (!sh_argv)
		return -ENOMEM;
	sh_argv[0] = (char *)SHELL;
	sh_argv[1] = (char *)path;
	memcpy(sh_argv + 2, argv + 1, n * sizeof(*sh_argv));	/* argv[n] is the NULL */
	(void)execve(SHELL, sh_argv, env);
	free(sh_argv);
	return -errno;
}

/*
 * Run argv (argv[0] found like execvp()) with the preload library lib appended to LD_PRELOAD and
 * the values v (mask 0: none; the sysctls apply) in the environment, replacing this process:
 * the command's exit status, or the signal that kills it, is then the caller's own. Checks first,
 * running nothing: the library (KT_EXEC_BADLIB), the command (KT_EXEC_NOTFOUND, KT_EXEC_CANNOT),
 * and that its loader will preload the library: a statically linked command or interpreter
 * (KT_EXEC_STATIC), another ELF class or machine (KT_EXEC_FOREIGN), secure execution
 * (KT_EXEC_SECURE) are refused. Returns only on failure: a negative errno, with *ret_fail
 * saying what failed.
 */
int
kt_exec(const char *lib, const struct kt_values *v, char *const argv[],
    struct kt_exec_failure *ret_fail)
{
	extern char **environ;
	char cmd[PATH_MAX];
	struct kt_elf_id libid;
	size_t first_new;
	char **env;
	int r;

	assert(lib && v && argv && argv[0] && ret_fail);
	assert(kt_values_valid(v));

	if ((r = check_library(lib, &libid, ret_fail)) < 0)
		return r;
	r = kt_exec_find(argv[0], getenv("PATH"), cmd, sizeof(cmd));
	if (r < 0)
		return fail(ret_fail, r == -ENOENT ? KT_EXEC_NOTFOUND : KT_EXEC_CANNOT, r, argv[0]);
	if ((r = check_chain(cmd, &libid, ret_fail)) < 0)
		return r;
	env = kt_exec_env(environ, lib, v, &first_new);
	if (!env)
		return fail(ret_fail, KT_EXEC_CANNOT, -ENOMEM, cmd);
	r = run(cmd, argv, env);
	kt_exec_env_free(env, first_new);
	return fail(ret_fail, r == -ENOENT ? KT_EXEC_NOTFOUND : KT_EXEC_CANNOT, r, cmd);
}
