/* kt_sysctld.c: the sysctl.d line grammar, written down once, with the two loaders' dialects as
 * explicit variants: how systemd-sysctl 252 and procps 4.0 sysctl cut a file into lines, read a
 * line as a setting, and which /proc/sys file a setting's name reaches. The boot model and
 * persist's editor both ask here, so that they cannot disagree about which line sets a key. */
#include <assert.h>
#include <fnmatch.h>
#include <pthread.h>
#include <string.h>

#include "katune.h"
#include "kt_internal.h"

/* The kinds of end-of-line byte systemd's read_line() knows; a run of them ends one line. */
#define EOL_NL	1
#define EOL_CR	2
#define EOL_NUL	4

static int
eol_kind(char c)
{
	return c == '\n' ? EOL_NL : c == '\r' ? EOL_CR : c == '\0' ? EOL_NUL : 0;
}

/* Start reading text (len bytes; it may hold NUL bytes) as dialect does, line by line. */
void
kt_sysctld_begin(struct kt_sysctld_iter *it, enum kt_loader dialect, const char *text,
    size_t len)
{
	assert(text || len == 0);
	*it = (struct kt_sysctld_iter){ .dialect = dialect, .p = text, .end = text + len,
		.lineno = 1 };
}

/*
 * systemd's read_line(): a line ends at \n, \r or NUL; the end-of-line run that follows takes
 * each kind at most once (\r\n, \n\r, \r\0 are one end) and nothing after a NUL.
 */
static void
next_systemd(struct kt_sysctld_iter *it, struct kt_sysctld_line *ret)
{
	const char *p = it->p;
	int seen = 0;

	while (p < it->end && !eol_kind(*p))
		p++;
	*ret = (struct kt_sysctld_line){ .text = it->p, .len = (size_t)(p - it->p),
		.lineno = it->lineno };
	for (; p < it->end && !(seen & EOL_NUL); p++) {
		int kind = eol_kind(*p);

		if (!kind || (seen & kind))
			break;
		seen |= kind;
		it->lineno += kind == EOL_NL;
	}
	ret->raw = (size_t)(p - it->p);
	it->p = p;
}

/*
 * procps reads lines with getline(): up to and with a \n. Its string functions see the line
 * only up to a NUL in it, and the newline only when no NUL comes first.
 */
static void
next_procps(struct kt_sysctld_iter *it, struct kt_sysctld_line *ret)
{
	const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	const char *e = nl ? nl : it->end;
	const char *nul = memchr(it->p, '\0', (size_t)(e - it->p));

	*ret = (struct kt_sysctld_line){
		.text = it->p,
		.len = (size_t)((nul ? nul : e) - it->p),
		.raw = (size_t)(e - it->p) + (nl != NULL),
		.lineno = it->lineno,
		.nl_seen = nl && !nul,
	};
	it->p = e + (nl != NULL);
	it->lineno++;
}

/* Give the next line as the dialect reads it. Returns 1 and sets *ret, or 0 at the end. */
int
kt_sysctld_next(struct kt_sysctld_iter *it, struct kt_sysctld_line *ret)
{
	if (it->p >= it->end)
		return 0;
	if (it->dialect == KT_LOADER_PROCPS)
		next_procps(it, ret);
	else
		next_systemd(it, ret);
	return 1;
}

/* systemd's WHITESPACE, as strstrip() takes it off both ends. */
static int
sd_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char *
strip(char *s)
{
	char *e;

	while (sd_space(*s))
		s++;
	e = s + strlen(s);
	while (e > s && sd_space(e[-1]))
		*--e = '\0';
	return s;
}

static char *
lstrip(char *s)
{
	while (kt_c_space(*s))
		s++;
	return s;
}

/* procps' rstrip(): trailing white space off, but never the first character. */
static void
rstrip(char *s)
{
	for (char *e = s + strlen(s); e > s + 1 && kt_c_space(e[-1]);)
		*--e = '\0';
}

/*
 * Turn a dotted name into slashes the way both loaders do: when the first separator is a dot,
 * dots and slashes swap; when it is a slash, the name stays as it is.
 */
static void
slashdot(char *s)
{
	char *p = strpbrk(s, "/.");

	if (!p || *p == '/')
		return;
	for (; p; p = strpbrk(p + 1, "/."))
		*p = *p == '.' ? '/' : '.';
}

/*
 * systemd's path_simplify() and the tail of sysctl_normalize(): empty and "." components go,
 * and a leading or trailing slash ("//a/./b/" is "a/b"); ".." stays as it is.
 */
static void
simplify(char *s)
{
	char *w = s, *r = s;

	while (*r) {
		char *c = r;
		size_t n;

		while (*r && *r != '/')
			r++;
		n = (size_t)(r - c);
		if (*r == '/')
			r++;
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (w != s)
			*w++ = '/';
		memmove(w, c, n);
		w += n;
	}
	*w = '\0';
}

/* procps 4.0 parse_setting_line() and setting_new(). */
static int
parse_procps(const struct kt_sysctld_line *l, char *buf, struct kt_setting *ret)
{
	char *key = lstrip(buf), *value;

	if (l->raw < 2 || strlen(key) + (size_t)l->nl_seen < 2 || key[0] == '#' ||
	    key[0] == ';')
		return 0;
	value = strchr(key, '=');
	if (!value) {
		if (key[0] != '-')
			return 0;	/* "invalid syntax, continuing..." */
		key++;
	} else {
		*value++ = '\0';
		if (key[0] == '-')
			key++;		/* ignore a failure */
		value = lstrip(value);
		rstrip(value);
	}
	rstrip(key);
	if (key[0] == '-')
		key++;		/* setting_new() skips one more '-' when it makes the path */
	slashdot(key);
	*ret = (struct kt_setting){ .name = key, .value = value, .glob = !!strpbrk(key, "*?[") };
	return 1;
}

/* systemd-sysctl 252 parse_file() and sysctl_normalize(). */
static int
parse_systemd(char *buf, struct kt_setting *ret)
{
	char *p = strip(buf), *value;

	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	value = strchr(p, '=');
	if (value) {
		if (p[0] == '-')
			p++;		/* ignore a failure */
		*value = '\0';
		value = strip(value + 1);
	} else if (p[0] == '-') {
		p++;			/* a "negative match": no value */
	} else {
		return 0;		/* "Line is not an assignment, ignoring" */
	}
	p = strip(p);
	slashdot(p);
	simplify(p);
	*ret = (struct kt_setting){ .name = p, .value = value, .glob = !!strpbrk(p, "*?[") };
	return 1;
}

/*
 * Read a line (from kt_sysctld_next() of the same dialect) as the loader does: a blank line, a
 * comment and a line the loader skips as invalid are no setting; anything else is a name with
 * a value ("-name = value" too, the '-' only saying to ignore a failure) or, for "-name"
 * without '=', without one. The line is copied to buf (line->len + 1 bytes) and taken apart
 * there. Returns 1 and sets *ret (pointing into buf), or 0.
 */
int
kt_sysctld_parse(enum kt_loader dialect, const struct kt_sysctld_line *line, char *buf,
    struct kt_setting *ret)
{
	assert(line);
	assert(buf);
	assert(ret);

	assert(!memchr(line->text, '\0', line->len));	/* as kt_sysctld_next() gives lines */
	memcpy(buf, line->text, line->len);
	buf[line->len] = '\0';
	return dialect == KT_LOADER_PROCPS ? parse_procps(line, buf, ret) : parse_systemd(buf, ret);
}

/* A path as a list of components. */
#define MAX_COMPS	64

struct comp {
	const char *s;
	size_t n;
	int pattern;		/* it holds * ? or [ */
};

/*
 * Our keys' files as components from the root: "proc", "sys", then those of their paths. Made
 * once (key_files()): every line of every file is matched against them.
 */
struct key_files {
	struct comp c[KT_NKEYS][8];
	size_t n[KT_NKEYS];
};

static struct key_files key_files_made;
static pthread_once_t key_files_once = PTHREAD_ONCE_INIT;

static void
make_key_files(void)
{
	struct key_files *kf = &key_files_made;

	for (int k = 0; k < KT_NKEYS; k++) {
		const char *p = kt_key(k)->path;
		struct comp *c = kf->c[k];
		size_t n = 2;

		c[0] = (struct comp){ "proc", 4, 0 };
		c[1] = (struct comp){ "sys", 3, 0 };
		for (;; p++) {
			c[n++] = (struct comp){ p, strcspn(p, "/"), 0 };
			p += c[n - 1].n;
			if (*p == '\0')
				break;
		}
		kf->n[k] = n;
	}
}

static const struct key_files *
key_files(void)
{
	(void)pthread_once(&key_files_once, make_key_files);
	return &key_files_made;
}

/* Whether component c (a pattern or not) matches want (wantlen bytes), as glob(3) matches. */
static int
comp_matches(const struct comp *c, const char *want, size_t wantlen)
{
	char pat[256], name[256];

	if (!c->pattern)
		return c->n == wantlen && memcmp(c->s, want, wantlen) == 0;
	if (c->n >= sizeof(pat) || wantlen >= sizeof(name))
		return 0;
	memcpy(pat, c->s, c->n);
	pat[c->n] = '\0';
	memcpy(name, want, wantlen);
	name[wantlen] = '\0';
	return fnmatch(pat, name, FNM_PERIOD) == 0;
}

/* Whether components c (n of them) are, or as a glob match, the file of one of our keys. */
static int
is_key_file(const struct comp *c, size_t n, const struct key_files *kf)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		size_t i = 0;

		if (kf->n[k] != n)
			continue;
		while (i < n && comp_matches(&c[i], kf->c[k][i].s, kf->c[k][i].n))
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

/* Whether a component holds white space, as no file or directory of /proc/sys does. */
static int
has_space(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (kt_c_space(p[i]))
			return 1;
	return 0;
}

/*
 * Resolve name below /proc/sys as the kernel would open it, into the components it ends on (at
 * most MAX_COMPS, "proc" and "sys" first): empty and "." components count for nothing, ".." goes
 * up (never above /; refused with !dotdot), and nothing follows one of our keys' files, nor a
 * glob that matches one: it is no directory (ENOTDIR; a glob then matches only directories).
 * A component with white space exists nowhere in /proc/sys (ENOENT, even before ".."); any
 * other is taken to be a directory that exists, for ".." to climb out of.
 * A pattern component that ".." would climb back out of is not modelled. Returns the number of
 * components, or 0 when the name reaches none of our files.
 */
static size_t
resolve(const char *name, int dotdot, const struct key_files *kf, struct comp *c)
{
	size_t n = 2;

	c[0] = (struct comp){ "proc", 4, 0 };
	c[1] = (struct comp){ "sys", 3, 0 };
	for (const char *p = name;; p++) {
		const char *e = strchrnul(p, '/');
		size_t len = (size_t)(e - p);

		if (p != name && is_key_file(c, n, kf))
			return 0;	/* a component after a file: ENOTDIR */
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (!dotdot || (n > 0 && c[n - 1].pattern))
				return 0;
			n -= n > 0;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			struct comp next = { p, len, memchr(p, '*', len) || memchr(p, '?', len) ||
				memchr(p, '[', len) };

			if (n == MAX_COMPS || (!next.pattern && has_space(p, len)))
				return 0;
			c[n++] = next;
		}
		if (*e == '\0')
			return n;
		p = e;
	}
}

/*
 * Write into spelled (len bytes) the name as the loader compares it with other names once it
 * reached key k (whose components are want): name itself, each pattern component replaced by
 * the one of k it matched, as glob(3) spells what it found. c holds what resolve() left.
 */
static int
spell(const char *name, const struct comp *c, const struct comp *want, size_t n, char *spelled,
    size_t len)
{
	const char *from = name, *end = name + strlen(name);
	size_t o = 0;

	for (size_t i = 0; i <= n; i++) {
		const char *at = i < n ? c[i].s : end;
		const struct comp *put = i < n && c[i].pattern ? &want[i] : &c[i];

		if (i < n && (at < name || at > end))
			continue;	/* "proc" and "sys", not words of the name */
		if (o + (size_t)(at - from) + (i < n ? put->n : 0) >= len)
			return -1;
		memcpy(spelled + o, from, (size_t)(at - from));
		o += (size_t)(at - from);
		if (i == n)
			break;
		memcpy(spelled + o, put->s, put->n);
		o += put->n;
		from = at + c[i].n;
	}
	spelled[o] = '\0';
	return 0;
}

/*
 * Whether a setting's name (from kt_sysctld_parse()) reaches key k: the loader writes k's file
 * for an exact name, or matches it for a glob. procps opens /proc/sys/NAME, so "." and ".." and
 * doubled slashes resolve as the kernel resolves them; systemd refuses a name with "..". A name
 * that climbs out of a directory ka-tune does not know (anything but net and ipv4) is taken to
 * land where its words lead, unless that directory's name holds white space. With spelled (len
 * bytes) not NULL, also write the path the loader
 * compares with the other names to tell whether a key is named explicitly: the name itself, or
 * for a glob the match as glob(3) spells it ("net//ipv4/tcp_keepalive_time" for
 * "net//ipv4/tcp_keepalive_*", which procps does not take for "net/ipv4/tcp_keepalive_time").
 * Returns 1 or 0.
 */
int
kt_sysctld_reaches(enum kt_loader dialect, const struct kt_setting *s, enum kt_key k,
    char *spelled, size_t len)
{
	struct comp c[MAX_COMPS];
	const char *last, *klast = strrchr(kt_key(k)->path, '/') + 1;
	const struct key_files *kf;
	size_t n;

	assert(s);
	/* Most lines are other keys': an exact name must end in the key's file name. */
	last = strrchr(s->name, '/');
	if (!s->glob && strcmp(last ? last + 1 : s->name, klast) != 0)
		return 0;
	kf = key_files();
	n = resolve(s->name, dialect == KT_LOADER_PROCPS, kf, c);
	if (n != kf->n[k])
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!comp_matches(&c[i], kf->c[k][i].s, kf->c[k][i].n))
			return 0;
	return !spelled || spell(s->name, c, kf->c[k], n, spelled, len) == 0;
}
