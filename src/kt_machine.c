/* kt_machine.c: what the machine (or an image tree of one) runs at boot: which sysctl loader,
 * and its kernel's tick rate, which bounds the values the kernel takes. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* Whether path exists inside the tree at root (NULL: "/"), its links resolved inside it. */
static int
exists_in(const char *root, const char *path)
{
	int rootfd = open(root ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd, r;

	if (rootfd < 0)
		return 0;
	r = kt_root_open(rootfd, path, O_PATH, &fd);
	(void)close(rootfd);
	if (r < 0)
		return 0;
	(void)close(fd);
	return 1;
}

/*
 * The loader that applies sysctl.d files at boot on the machine whose root is root (NULL: "/").
 * live: the machine running now, where systemd-sysctl runs when systemd runs the machine
 * (/run/systemd/system exists) and procps' sysctl --system otherwise; not live: an image tree,
 * where systemd-sysctl runs if the image has it (usr/lib/systemd or lib/systemd).
 */
enum kt_loader
kt_boot_default_loader(const char *root, int live)
{
	if (live)
		return exists_in(root, "/run/systemd/system") ? KT_LOADER_SYSTEMD :
		    KT_LOADER_PROCPS;
	return exists_in(root, "/usr/lib/systemd/systemd-sysctl") ||
	    exists_in(root, "/lib/systemd/systemd-sysctl") ? KT_LOADER_SYSTEMD : KT_LOADER_PROCPS;
}

/* The loader's name as options and output spell it: "systemd" or "procps". Static string. */
const char *
kt_loader_name(enum kt_loader loader)
{
	return loader == KT_LOADER_SYSTEMD ? "systemd" : "procps";
}

/*
 * Parse a loader's name as given on the command line ("systemd" or "procps"). Returns 0 and sets
 * *ret, or -EINVAL.
 */
int
kt_loader_from_name(const char *name, enum kt_loader *ret)
{
	assert(name);
	assert(ret);
	if (strcmp(name, "systemd") == 0)
		*ret = KT_LOADER_SYSTEMD;
	else if (strcmp(name, "procps") == 0)
		*ret = KT_LOADER_PROCPS;
	else
		return -EINVAL;
	return 0;
}

/* The largest kernel configuration read: Debian's is some 270 KiB. */
#define CONFIG_MAX	(4 * 1024 * 1024)

/* The value of the CONFIG_HZ line of a kernel configuration's text (changed), if it has one. */
static void
config_hz(char *text, long *hz)
{
	for (char *p = text, *nl; p; p = nl ? nl + 1 : NULL) {
		const char *errstr = NULL;
		long long v;

		if ((nl = strchr(p, '\n')))
			*nl = '\0';
		if (strncmp(p, "CONFIG_HZ=", 10) != 0)
			continue;
		v = strtonum(p + 10, 1, 100000, &errstr);
		if (!errstr)
			*hz = (long)v;
		return;
	}
}

/*
 * The tick rate of the running kernel, which bounds the time and interval (at most INT_MAX / HZ
 * seconds): CONFIG_HZ from boot/config-<release> below root (NULL: "/"), or 1000, the highest a
 * kernel is built with, when that file or line is not there. Only values above 2147483 seconds
 * depend on it.
 */
long
kt_kernel_hz(const char *root)
{
	char path[PATH_MAX], *text;
	struct utsname u;
	size_t len;
	long hz = 1000;
	int rootfd;

	if (uname(&u) < 0 ||
	    snprintf(path, sizeof(path), "/boot/config-%s", u.release) >= (int)sizeof(path))
		return hz;
	rootfd = open(root ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return hz;
	if (kt_read_file(rootfd, path, KT_READ_IN_ROOT, CONFIG_MAX, &text, &len, NULL) == 0) {
		config_hz(text, &hz);
		free(text);
	}
	(void)close(rootfd);
	return hz;
}
