/* kt_boot.c: the boot model: what a sysctl loader (systemd-sysctl 252 or procps 4.0 sysctl
 * --system) sets the three keys to at boot, and which line of which file says so, found by
 * replaying its writes as it makes them. Linear in lines and files: names are found by hash. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* One line of a file that bears on our keys: an assignment, a glob, or a "-key" exclusion. */
struct line {
	size_t file;		/* index in b->files */
	unsigned int lineno;
	char *key;		/* as the loader keeps it: normalised (systemd), a path (procps) */
	char *value;		/* NULL for an exclusion */
	int glob;
	unsigned int reach;	/* the keys its write lands on, or its glob matches */
	size_t rep;		/* the first line of the same name: the loader's one entry for it */
	long cur;		/* systemd, of a first line: the line its entry holds now, or -1 */
	size_t pos;		/* systemd, of a first line: where that entry stands in its order */
	enum kt_assign_state state[KT_NKEYS];	/* what became of it, for each key it reaches */
};

struct kt_boot {
	enum kt_loader loader;
	struct kt_bootfiles files;
	struct line *lines;
	size_t nlines, caplines;
	size_t *names;		/* hash of the names of the lines the loader reads: index + 1 */
	size_t capnames;	/* a power of two */
	struct kt_boot_key keys[KT_NKEYS];
};

/* The running state of one key while the loader's writes are replayed. */
struct replay {
	int val;
	long winner;		/* index of the line whose write set val, or -1 */
};

/* --- reading lines, as each loader does ---------------------------------------------------- */

/* Keep a setting that reaches one of our keys (the bits of those it reaches in reach). */
static int
add_line(struct kt_boot *b, size_t file, unsigned int lineno, const struct kt_setting *s,
    unsigned int reach)
{
	struct line *l;

	if (b->nlines == b->caplines) {
		size_t cap = b->caplines ? b->caplines * 2 : 32;

		if (!(l = reallocarray(b->lines, cap, sizeof(*l))))
			return -ENOMEM;
		b->lines = l;
		b->caplines = cap;
	}
	l = &b->lines[b->nlines];
	*l = (struct line){ .file = file, .lineno = lineno, .glob = s->glob, .reach = reach,
		.cur = -1 };
	l->key = strdup(s->name);
	l->value = s->value ? strdup(s->value) : NULL;
	if (!l->key || (s->value && !l->value)) {
		free(l->key);
		free(l->value);
		return -ENOMEM;
	}
	b->nlines++;
	return 0;
}

/* Read a file's text (len bytes) line by line as the loader does, keeping what bears on us. */
static int
parse_text(struct kt_boot *b, size_t file, const char *text, size_t len)
{
	struct kt_sysctld_iter it;
	struct kt_sysctld_line line;
	char *buf = malloc(len + 1);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	kt_sysctld_begin(&it, b->loader, text, len);
	while (r == 0 && kt_sysctld_next(&it, &line)) {
		struct kt_setting s;
		unsigned int reach = 0;

		if (!kt_sysctld_parse(b->loader, &line, buf, &s))
			continue;
		for (int k = 0; k < KT_NKEYS; k++)
			if (kt_sysctld_reaches(b->loader, &s, k, NULL, 0))
				reach |= KT_BIT(k);
		if (reach)
			r = add_line(b, file, line.lineno, &s, reach);
	}
	free(buf);
	return r;
}

/* Read and parse every listed file; what cannot be read is in b->files' notes. */
static int
parse_files(struct kt_boot *b, int rootfd)
{
	for (size_t i = 0; i < b->files.n; i++) {
		char *text;
		size_t len;
		int r = kt_bootfiles_read(rootfd, b->loader, &b->files, i, &text, &len);

		if (r < 0)
			return r;
		if (r > 0)
			continue;
		r = parse_text(b, i, text, len);
		free(text);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --- names, found in constant time ---------------------------------------------------------- */

static size_t
hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)h;
}

/* The slot of name in the table: where it is, or the empty one where it would go. */
static size_t
slot_of(const struct kt_boot *b, const char *name)
{
	size_t i = hash(name) & (b->capnames - 1);

	while (b->names[i] && strcmp(b->lines[b->names[i] - 1].key, name) != 0)
		i = (i + 1) & (b->capnames - 1);
	return i;
}

/* Index the names of the lines the loader reads; each line's rep is the first of its name. */
static int
index_names(struct kt_boot *b)
{
	b->capnames = 16;
	while (b->capnames < 2 * b->nlines)
		b->capnames *= 2;
	if (!(b->names = calloc(b->capnames, sizeof(*b->names))))
		return -ENOMEM;
	for (size_t i = 0; i < b->nlines; i++) {
		size_t s;

		if (b->files.files[b->lines[i].file].hidden)
			continue;
		s = slot_of(b, b->lines[i].key);
		if (!b->names[s])
			b->names[s] = i + 1;
		b->lines[i].rep = b->names[s] - 1;
	}
	return 0;
}

/*
 * Whether a glob line g is kept off key k: a line the loader reads names k in the very words
 * the loader compares a glob's matches with (procps: path strings, so "net//ipv4/..." is another
 * name; systemd: normalised names), whether it assigns k or only excludes it.
 */
static int
named(const struct kt_boot *b, const struct line *g, enum kt_key k)
{
	struct kt_setting s = { .name = g->key, .glob = 1 };
	char spelled[PATH_MAX];
	size_t i;

	if (!kt_sysctld_reaches(b->loader, &s, k, spelled, sizeof(spelled)))
		return 0;
	i = b->names[slot_of(b, spelled)];
	return i && !b->lines[i - 1].glob;
}

/* --- applying, as each loader does ---------------------------------------------------------- */

/* One write of line li's value to key k, as the kernel takes or refuses it. */
static void
write_key(struct kt_boot *b, struct replay *st, enum kt_key k, size_t li, long hz)
{
	struct line *l = &b->lines[li];
	int v;

	if (kt_kernel_parse(k, l->value, hz, &v) < 0) {
		l->state[k] = KT_ASSIGN_REJECTED;
		return;
	}
	if (st->winner >= 0)
		b->lines[st->winner].state[k] = KT_ASSIGN_OVERRIDDEN;
	st->val = v;
	st->winner = (long)li;
	l->state[k] = KT_ASSIGN_APPLIED;
}

/* What the loader does with line li for each key it reaches, when it comes to write it. */
static void
apply_line(struct kt_boot *b, struct replay *st, size_t li, long hz)
{
	struct line *l = &b->lines[li];

	for (int k = 0; k < KT_NKEYS; k++) {
		if (!(l->reach & KT_BIT(k)))
			continue;
		if (!l->value)
			l->state[k] = KT_ASSIGN_EXCLUDED;
		else if (l->glob && named(b, l, k))
			l->state[k] = KT_ASSIGN_EXPLICIT;
		else
			write_key(b, &st[k], k, li, hz);
	}
}

/*
 * procps 4.0: every line is kept in a list in load order and written in that order, so each
 * assignment of a key is written and the last one the kernel takes stays. A glob skips a key
 * that any line (an assignment or a "-key" exclusion) names exactly.
 */
static int
replay_procps(struct kt_boot *b, struct replay *st, long hz)
{
	for (size_t i = 0; i < b->nlines; i++)
		if (!b->files.files[b->lines[i].file].hidden)
			apply_line(b, st, i, hz);
	return 0;
}

static int
by_pos(const void *a, const void *b, void *lines)
{
	const struct line *l = lines;
	size_t x = l[*(const size_t *)a].pos, y = l[*(const size_t *)b].pos;

	return (x > y) - (x < y);
}

/*
 * systemd-sysctl 252: lines go into an ordered hashmap keyed by the normalised name (a glob by
 * its pattern). A line with the value already there only joins it; another value (or none)
 * replaces the entry and moves it to the end. Then each entry is written once, in order; a glob
 * skips a key that has an entry of its own, and an entry without a value writes nothing.
 */
static int
replay_systemd(struct kt_boot *b, struct replay *st, long hz)
{
	size_t *order = malloc((b->nlines ? b->nlines : 1) * sizeof(*order)), n = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < b->nlines; i++) {
		struct line *l = &b->lines[i], *rep = &b->lines[l->rep], *old;

		if (b->files.files[l->file].hidden)
			continue;
		if (rep->cur >= 0) {
			old = &b->lines[rep->cur];
			for (int k = 0; k < KT_NKEYS; k++)
				if (old->reach & KT_BIT(k))
					old->state[k] = KT_ASSIGN_OVERRIDDEN;
			if (old->value && l->value && strcmp(old->value, l->value) == 0) {
				rep->cur = (long)i;	/* same value: the entry keeps its place */
				continue;
			}
		} else {
			order[n++] = l->rep;
		}
		rep->cur = (long)i;
		rep->pos = i;
	}
	qsort_r(order, n, sizeof(*order), by_pos, b->lines);
	for (size_t e = 0; e < n; e++)
		apply_line(b, st, (size_t)b->lines[order[e]].cur, hz);
	free(order);
	return 0;
}

/* Gather, for each key, the lines that bear on it and what became of each. */
static int
collect(struct kt_boot *b, const struct replay *st)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		struct kt_boot_key *bk = &b->keys[k];
		size_t n = 0;

		for (size_t i = 0; i < b->nlines; i++)
			n += (b->lines[i].reach & KT_BIT(k)) != 0;
		if (!(bk->assigns = calloc(n ? n : 1, sizeof(*bk->assigns))))
			return -ENOMEM;
		bk->val = st[k].val;
		for (size_t i = 0; i < b->nlines; i++) {
			const struct line *l = &b->lines[i];
			const struct kt_bootfile *f = &b->files.files[l->file];
			struct kt_assign *a;

			if (!(l->reach & KT_BIT(k)))
				continue;
			a = &bk->assigns[bk->nassigns++];
			*a = (struct kt_assign){ .file = f->path, .line = l->lineno, .key = l->key,
				.value = l->value, .glob = l->glob,
				.state = f->hidden ? KT_ASSIGN_HIDDEN : l->state[k] };
			if ((long)i == st[k].winner)
				bk->from = a;
		}
	}
	return 0;
}

/* Replay the loader's writes over the lines read, and say what became of each key. */
static int
model(struct kt_boot *b, long hz)
{
	struct replay st[KT_NKEYS];
	int r;

	for (int k = 0; k < KT_NKEYS; k++)
		st[k] = (struct replay){ .val = kt_key(k)->kernel_default, .winner = -1 };
	r = index_names(b);
	if (r == 0)
		r = b->loader == KT_LOADER_PROCPS ? replay_procps(b, st, hz)
						  : replay_systemd(b, st, hz);
	return r < 0 ? r : collect(b, st);
}

/* Finish reading b (r: how it went so far): model it, and give it, or free it. */
static int
finish(struct kt_boot *b, int r, long hz, struct kt_boot **ret)
{
	if (r == 0)
		r = model(b, hz);
	if (r < 0) {
		kt_boot_free(b);
		return r;
	}
	*ret = b;
	return 0;
}

static struct kt_boot *
new_boot(enum kt_loader loader)
{
	struct kt_boot *b = calloc(1, sizeof(*b));

	assert(loader == KT_LOADER_SYSTEMD || loader == KT_LOADER_PROCPS);
	if (b)
		b->loader = loader;
	return b;
}

/*
 * Work out what loader sets the three keys to at boot from the sysctl.d tree under root (NULL,
 * "" or "/" for this machine), for a kernel with the given HZ (kt_kernel_hz()). Paths and links
 * resolve inside root, as on the machine booted from it. Returns 0 and sets *ret (to free with
 * kt_boot_free()); -ENOMEM; or why root could not be opened (-ENOENT, -ENOTDIR, -EACCES...).
 * Files and directories that could not be read are not an error: kt_boot_notes() lists them.
 */
int
kt_boot_read(const char *root, enum kt_loader loader, long hz, struct kt_boot **ret)
{
	struct kt_boot *b;
	int rootfd, r;

	assert(ret);

	rootfd = open(root && *root ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	if (!(b = new_boot(loader))) {
		(void)close(rootfd);
		return -ENOMEM;
	}
	r = kt_bootfiles_list(rootfd, loader, &b->files);
	if (r == 0)
		r = parse_files(b, rootfd);
	(void)close(rootfd);
	return finish(b, r, hz, ret);
}

/*
 * Work out what loader sets the keys to when it applies one file's text alone, as
 * `systemd-sysctl FILE` or `sysctl -p FILE` do; file is the name its lines are reported under.
 * persist asks this of every text it would write. Returns 0 and sets *ret (to free with
 * kt_boot_free()), or -ENOMEM.
 */
int
kt_boot_read_text(enum kt_loader loader, const char *file, const char *text, size_t len,
    long hz, struct kt_boot **ret)
{
	struct kt_boot *b = new_boot(loader);
	int r;

	assert(file);
	assert(text || len == 0);
	assert(ret);

	if (!b)
		return -ENOMEM;
	r = kt_bootfiles_one(&b->files, file);
	if (r == 0)
		r = parse_text(b, 0, text ? text : "", len);
	return finish(b, r, hz, ret);
}

/*
 * What the loader sets key k to at boot, the line that says so (NULL: the kernel default), and
 * every line about it in load order. Points into b: valid until kt_boot_free(b).
 */
const struct kt_boot_key *
kt_boot_key(const struct kt_boot *b, enum kt_key k)
{
	assert(b);
	assert((unsigned int)k < KT_NKEYS);
	return &b->keys[k];
}

/*
 * The files and directories that could not be read, in load order, in *ret_notes (valid until
 * kt_boot_free(b)): KT_BOOT_UNREAD ones make the boot values uncertain. Returns how many.
 */
size_t
kt_boot_notes(const struct kt_boot *b, const struct kt_boot_note **ret_notes)
{
	assert(b);
	assert(ret_notes);
	*ret_notes = b->files.notes;
	return b->files.nnotes;
}

/* Free what kt_boot_read() or kt_boot_read_text() returned; NULL is fine. */
void
kt_boot_free(struct kt_boot *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nlines; i++) {
		free(b->lines[i].key);
		free(b->lines[i].value);
	}
	for (int k = 0; k < KT_NKEYS; k++)
		free(b->keys[k].assigns);
	kt_bootfiles_free(&b->files);
	free(b->lines);
	free(b->names);
	free(b);
}
