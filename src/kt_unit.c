/* kt_unit.c: keepalive for a cgroup that outlives it, the systemd way: which systemd unit a
 * cgroup is, the drop-ins that make systemd run `ka-tune enable --cgroup` each time the unit
 * starts, and enable --persist and disable as transactions over the kernel and those files. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* The characters systemd allows in a unit name (unit_name_is_valid(), with "\" escapes). */
#define UNIT_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@"
/* Characters a path in an Exec line may hold unquoted and unescaped. */
#define PLAIN_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.@/+,="

/* What the drop-ins say of themselves. */
#define HEADER \
	"# ka-tune(8) wrote this file for `ka-tune enable --cgroup ... --persist`, and\n" \
	"# `ka-tune disable --cgroup ...` removes it.\n"

/* Whether a name of n bytes ends in suffix. */
static int
ends_with(const char *name, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);

	return n > l && memcmp(name + n - l, suffix, l) == 0;
}

/*
 * Whether the component of n bytes at name is where systemd puts a slice below the slice
 * parent (parent_n bytes; 0 for the root): "a-b.slice" lives in "a.slice", "a.slice" in the
 * root, as systemd derives a slice's place from its name.
 */
static int
slice_fits(const char *name, size_t n, const char *parent, size_t parent_n)
{
	const size_t suffix = strlen(".slice");

	if (!ends_with(name, n, ".slice") || strspn(name, UNIT_CHARS) < n)
		return 0;
	if (parent_n == 0)
		return memchr(name, '-', n - suffix) == NULL;
	return n - suffix > parent_n - suffix + 1 &&
	    memcmp(name, parent, parent_n - suffix) == 0 && name[parent_n - suffix] == '-';
}

/*
 * The systemd unit whose cgroup is at rel (below the cgroup2 mount), if it is a service or a
 * slice where systemd puts them: slices each in the slice its name derives from, a service in
 * any of them ("system.slice/nginx.service", "machine.slice/machine-web.slice"). Returns 0 and
 * sets ret_unit (len bytes) and *ret_kind, or -EINVAL for any other path (a scope, which is
 * transient, a directory of another manager's), -ENAMETOOLONG.
 */
int
kt_unit_of_cgroup(const char *rel, char *ret_unit, size_t len, enum kt_unit_kind *ret_kind)
{
	const char *p = rel, *parent = NULL, *end;
	size_t parent_n = 0, n;

	assert(rel && ret_unit && ret_kind);
	for (;;) {
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if (*end == '\0')
			break;
		if (!slice_fits(p, n, parent, parent_n))
			return -EINVAL;
		parent = p;
		parent_n = n;
		p = end + 1;
	}
	if (n == 0 || n >= KT_UNIT_NAME_LEN || strspn(p, UNIT_CHARS) < n)
		return -EINVAL;
	if (!ends_with(p, n, ".service") && !slice_fits(p, n, parent, parent_n))
		return -EINVAL;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(ret_unit, p, n + 1);
	*ret_kind = ends_with(p, n, ".service") ? KT_UNIT_SERVICE : KT_UNIT_SLICE;
	return 0;
}

/* Append the text of fmt to *text (at *len), growing it; *text NULL on ENOMEM. */
static void __attribute__((format(printf, 3, 4)))
append(char **text, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *more = NULL;
	int n;

	if (!*text)
		return;
	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (n < 0 || !(*text = realloc(*text, *len + (size_t)n + 1))) {
		free(n < 0 ? *text : more);
		*text = NULL;
		return;
	}
	memcpy(*text + *len, more, (size_t)n + 1);
	*len += (size_t)n;
	free(more);
}

/* Append rel to *text: Exec and Environment lines read '\\' as an escape, so a unit name's
 * are doubled. */
static void
append_rel(char **text, size_t *len, const char *rel)
{
	for (const char *p = rel; *p; p++)
		append(text, len, "%s%c", *p == '\\' ? "\\" : "", *p);
}

/* Append the values given, in seconds, as ka-tune's options ("--time 600 --probes 4"), the
 * first after lead. */
static void
append_values(char **text, size_t *len, const struct kt_values *v, const char *lead)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		if (v->mask & KT_BIT(k)) {
			append(text, len, "%s--%s %d", lead, kt_key(k)->short_name, v->val[k]);
			lead = " ";
		}
	}
}

/* One drop-in: its directory below the unit directory, the text it is to hold (NULL: none, to
 * remove it), and the text it held (NULL: none), to put back. */
struct dropin {
	char dir[KT_UNIT_NAME_LEN + 32];	/* "<unit>.d", "ka-tune-slice@<unit>.service.d" */
	char *text, *old;
	size_t len, old_len;
	enum kt_persist_outcome outcome;
};

static void
free_dropins(struct dropin *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].text);
		free(d[i].old);
	}
}

/*
 * The drop-ins for the unit of kind at rel, to hold the values v (NULL: none, to remove them),
 * in the order they are written; removed in the other. A service runs ka-tune before each
 * start, in its new cgroup: ExecStartPre, "-" so that a failure is logged and does not keep it
 * from starting, "+" so that neither User= nor sandboxing applies. A slice wants an instance of
 * ka-tune-slice@.service, which runs in it, so that its cgroup exists; the instance's drop-in
 * says what to enable, and is written first, so that the slice never wants it without.
 */
static int
make_dropins(const char *unit, enum kt_unit_kind kind, const char *bin, const char *rel,
    const struct kt_values *v, struct dropin *d, size_t *ret_n)
{
	size_t n = kind == KT_UNIT_SERVICE ? 1 : 2;
	struct dropin *self = &d[n - 1];

	memset(d, 0, 2 * sizeof(*d));
	(void)snprintf(self->dir, sizeof(self->dir), "%s.d", unit);
	if (kind == KT_UNIT_SLICE)
		(void)snprintf(d[0].dir, sizeof(d[0].dir), KT_SLICE_TEMPLATE "%s.service.d", unit);
	*ret_n = n;
	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		d[i].text = strdup(HEADER);
		d[i].len = strlen(HEADER);
	}
	if (kind == KT_UNIT_SERVICE) {
		append(&d[0].text, &d[0].len, "[Service]\nExecStartPre=-+%s enable --cgroup ", bin);
		append_rel(&d[0].text, &d[0].len, rel);
		append_values(&d[0].text, &d[0].len, v, " ");
	} else {
		append(&d[0].text, &d[0].len, "[Service]\nEnvironment=KA_TUNE_CGROUP=");
		append_rel(&d[0].text, &d[0].len, rel);
		if (v->mask) {
			append(&d[0].text, &d[0].len, " \"KA_TUNE_VALUES=");
			append_values(&d[0].text, &d[0].len, v, "");
			append(&d[0].text, &d[0].len, "\"");
		}
		append(&d[1].text, &d[1].len, "[Unit]\nWants=" KT_SLICE_TEMPLATE "%s.service",
		    unit);
	}
	for (size_t i = 0; i < n; i++) {
		append(&d[i].text, &d[i].len, "\n");
		if (!d[i].text) {
			free_dropins(d, n);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Open the directory unit_dir/dname (made when create is set and it is missing). */
static int
open_dropin_dir(const char *unit_dir, const char *dname, int create, int *ret_fd)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", unit_dir, dname) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return kt_file_open_dir(path, strlen(unit_dir), create, ret_fd, NULL);
}

/* Read the text of the drop-in in unit_dir/d->dir into d->old (NULL when there is none). */
static int
load(const char *unit_dir, struct dropin *d)
{
	int fd, r = open_dropin_dir(unit_dir, d->dir, 0, &fd);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = kt_file_load(fd, KT_DROPIN_NAME, &d->old, &d->old_len, NULL);
	(void)close(fd);
	return r == -ENOENT ? 0 : r;
}

/*
 * Make the drop-in in unit_dir/dname hold text, written safely, or, with text NULL, not be
 * there; its directory, left empty, then goes too.
 */
static int
put(const char *unit_dir, const char *dname, const char *text, size_t len)
{
	int fd, r = open_dropin_dir(unit_dir, dname, text != NULL, &fd);

	if (r == -ENOENT && !text)
		return 0;
	if (r < 0)
		return r;
	r = text ? kt_file_save(fd, KT_DROPIN_NAME, text, len) : kt_file_delete(fd, KT_DROPIN_NAME);
	if (r == -ENOENT && !text)
		r = 0;
	if (r == 0)
		r = kt_file_sync(fd);
	(void)close(fd);
	if (r == 0 && !text && open_dropin_dir(unit_dir, ".", 0, &fd) == 0) {
		(void)unlinkat(fd, dname, AT_REMOVEDIR);	/* only if empty: others' stay */
		(void)close(fd);
	}
	return r;
}

/* What becomes of a drop-in that holds d->old when it is made to hold d->text. */
static enum kt_persist_outcome
outcome(const struct dropin *d)
{
	if (!d->text)
		return d->old ? KT_PERSIST_REMOVED : KT_PERSIST_UNCHANGED;
	if (d->old && d->old_len == d->len && memcmp(d->old, d->text, d->len) == 0)
		return KT_PERSIST_UNCHANGED;
	return KT_PERSIST_CHANGED;
}

/* Put back the first n drop-ins as they were; returns 1 when one could not be. */
static int
restore(const char *unit_dir, struct dropin *d, size_t n, int writing, size_t total)
{
	int failed = 0;

	while (n-- > 0) {
		struct dropin *x = &d[writing ? n : total - 1 - n];

		if (x->outcome != KT_PERSIST_UNCHANGED)
			failed |= put(unit_dir, x->dir, x->old, x->old_len) < 0;
	}
	return failed;
}

/*
 * Make the n drop-ins d what they are to be, all or none: written in order, removed in the
 * other, so that no unit ever wants what is not there; when one cannot be, those changed
 * before it are put back. With dry_run, only say what would become of each. Fills res, and on
 * failure fail.
 */
static int
apply(const char *unit_dir, struct dropin *d, size_t n, int dry_run, struct kt_unit_result *res,
    struct kt_unit_fail *fail)
{
	int writing = d[0].text != NULL, r = 0;
	size_t done;

	res->n = n;
	for (size_t i = 0; i < n; i++) {
		(void)snprintf(res->files[i].path, sizeof(res->files[i].path), "%s/%s/%s",
		    unit_dir, d[i].dir, KT_DROPIN_NAME);
		r = load(unit_dir, &d[i]);
		if (r < 0) {
			(void)snprintf(fail->path, sizeof(fail->path), "%s", res->files[i].path);
			return r;
		}
		d[i].outcome = res->files[i].outcome = outcome(&d[i]);
		res->files[i].existed = d[i].old != NULL;
	}
	for (done = 0; !dry_run && done < n; done++) {
		size_t i = writing ? done : n - 1 - done;

		if (d[i].outcome != KT_PERSIST_UNCHANGED)
			r = put(unit_dir, d[i].dir, d[i].text, d[i].len);
		if (r < 0) {
			(void)snprintf(fail->path, sizeof(fail->path), "%s", res->files[i].path);
			fail->unrestored = restore(unit_dir, d, done, writing, n);
			return r;
		}
	}
	return 0;
}

/* Whether bin can stand in an Exec line as it is: an absolute path of plain characters. */
static int
plain_path(const char *bin)
{
	return bin[0] == '/' && strspn(bin, PLAIN_CHARS) == strlen(bin);
}

/*
 * Make the drop-ins of the unit whose cgroup is at rel run `bin enable --cgroup rel` with the
 * values v each time the unit starts, or, with v NULL, remove them; in unit_dir (KT_UNIT_DIR).
 * All or none: when one cannot be written, the other is put back. With dry_run, only say what
 * would become of each. Returns 0 and fills *ret, or a negative errno: -EINVAL (rel is not a
 * systemd service's or slice's cgroup; bin not a plain absolute path), or a file's error, with
 * ret_fail->path (and ->unrestored) set.
 */
int
kt_unit_files(const char *unit_dir, const char *bin, const char *rel, const struct kt_values *v,
    int dry_run, struct kt_unit_result *ret, struct kt_unit_fail *ret_fail)
{
	struct kt_unit_result res;
	struct dropin d[2];
	size_t n = 0;
	int r;

	assert(unit_dir && rel && ret && ret_fail);
	memset(&res, 0, sizeof(res));
	r = kt_unit_of_cgroup(rel, res.unit, sizeof(res.unit), &res.kind);
	if (r == 0 && v && !plain_path(bin))
		r = -EINVAL;
	if (r == 0)
		r = make_dropins(res.unit, res.kind, bin, rel, v, d, &n);
	if (r < 0)
		return r;
	ret_fail->stage = KT_UNIT_STAGE_FILE;
	r = apply(unit_dir, d, n, dry_run, &res, ret_fail);
	free_dropins(d, n);
	if (r == 0)
		*ret = res;
	return r;
}

/*
 * enable --cgroup --persist, as one transaction: kt_bpf_enable() for req->cg, then
 * kt_unit_files(); when the drop-ins cannot be written, the kernel is put back as it was (the
 * program detached, or given back its values). With KT_BPF_DRY_RUN, nothing is changed.
 * Returns 0 and fills *ret_bpf and *ret_unit; or a negative errno and fills *ret_fail: -EINVAL
 * (req->cg is not a systemd service's or slice's cgroup, or req->bin not a plain absolute
 * path: nothing was done), an error of kt_bpf_enable() (stage KT_UNIT_STAGE_BPF, and
 * ret_fail->bpf), or of a drop-in (KT_UNIT_STAGE_FILE: ret_fail->path, ->unrestored).
 */
int
kt_unit_enable(const struct kt_unit_req *req, struct kt_bpf_result *ret_bpf,
    struct kt_unit_result *ret_unit, struct kt_unit_fail *ret_fail)
{
	int dry_run = (req->flags & KT_BPF_DRY_RUN) != 0, r;
	struct kt_bpf_result bpf, undo;
	struct kt_unit_result res;
	enum kt_unit_kind kind;

	assert(req && req->cg && req->bin && ret_bpf && ret_unit && ret_fail);
	memset(ret_fail, 0, sizeof(*ret_fail));
	r = kt_unit_of_cgroup(req->cg->rel, res.unit, sizeof(res.unit), &kind);
	if (r == 0 && !plain_path(req->bin))
		r = -EINVAL;
	if (r < 0)
		return r;
	ret_fail->stage = KT_UNIT_STAGE_BPF;
	r = kt_bpf_enable(req->bpf_dir, req->cg, &req->want, req->flags, &bpf, &ret_fail->bpf);
	if (r < 0)
		return r;
	r = kt_unit_files(req->unit_dir, req->bin, req->cg->rel, &req->want, dry_run, &res,
	    ret_fail);
	if (r < 0 && !dry_run && bpf.change == KT_BPF_ATTACHED)
		ret_fail->unrestored |= kt_bpf_disable(req->bpf_dir, req->cg->rel, req->cg, 0,
		    &undo) < 0;
	else if (r < 0 && !dry_run && bpf.change == KT_BPF_UPDATED)
		ret_fail->unrestored |= kt_bpf_enable(req->bpf_dir, req->cg, &bpf.before, 0,
		    &undo, &ret_fail->bpf) < 0;
	if (r < 0)
		return r;
	*ret_bpf = bpf;
	*ret_unit = res;
	return 0;
}

/*
 * disable --cgroup, as one transaction: kt_bpf_disable() for the cgroup at req->rel (req->cg,
 * NULL when it is gone), then the drop-ins enable --persist wrote for its unit go, if there are
 * any; when they cannot be removed, the program is attached again with the values it had.
 * Returns 0 and fills *ret_bpf and *ret_unit (n 0: no unit's cgroup, no drop-ins), or a
 * negative errno and fills *ret_fail as kt_unit_enable() does.
 */
int
kt_unit_disable(const struct kt_unit_req *req, struct kt_bpf_result *ret_bpf,
    struct kt_unit_result *ret_unit, struct kt_unit_fail *ret_fail)
{
	int dry_run = (req->flags & KT_BPF_DRY_RUN) != 0, r;
	struct kt_bpf_result bpf, undo;
	struct kt_unit_result res;
	enum kt_unit_kind kind;

	assert(req && req->rel && ret_bpf && ret_unit && ret_fail);
	memset(ret_fail, 0, sizeof(*ret_fail));
	memset(&res, 0, sizeof(res));
	ret_fail->stage = KT_UNIT_STAGE_BPF;
	r = kt_bpf_disable(req->bpf_dir, req->rel, req->cg, req->flags, &bpf);
	if (r < 0)
		return r;
	/* A cgroup that is no unit's has no drop-ins. */
	if (kt_unit_of_cgroup(req->rel, res.unit, sizeof(res.unit), &kind) == 0)
		r = kt_unit_files(req->unit_dir, NULL, req->rel, NULL, dry_run, &res, ret_fail);
	if (r < 0 && !dry_run && req->cg && bpf.change == KT_BPF_DETACHED)
		ret_fail->unrestored |= kt_bpf_enable(req->bpf_dir, req->cg, &bpf.before, 0,
		    &undo, &ret_fail->bpf) < 0;
	if (r < 0)
		return r;
	*ret_bpf = bpf;
	*ret_unit = res;
	return 0;
}
