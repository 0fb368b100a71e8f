/* kt_edit.c: make the new text of the sysctl.d file persist writes from its old text: our header,
 * each wanted key assigned once, every other line kept byte for byte. Pure text: which line is a
 * key's is kt_sysctld.c's to say, for both loaders; no file is touched here. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * The clock rate old values are judged at: 1000, the largest Linux has. The kernel keeps the
 * time and interval in jiffies, so a value it takes at this rate it takes at any other.
 */
#define JUDGE_HZ	1000

const char kt_edit_header[] =
	"# ka-tune(8) manages the net.ipv4.tcp_keepalive_* lines of this file; others are kept.\n";

/* A growing output buffer that counts the lines it holds. */
struct buf {
	char *p;
	size_t len, cap;
	unsigned int lines;	/* newlines in it */
};

static int
put(struct buf *b, const char *s, size_t n)
{
	if (!b->p || n > b->cap - b->len) {
		size_t cap = b->cap * 2 + n;
		char *p = realloc(b->p, cap + 1);

		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	for (const char *nl = s; (nl = memchr(nl, '\n', (size_t)(s + n - nl))); nl++)
		b->lines++;
	return 0;
}

/*
 * Append "key = value\n" as sysctl.d(5) writes it, after a '-' if the line it replaces had one,
 * and note in *e which line of the new text it is.
 */
static int
put_assignment(struct buf *b, struct kt_edit *e, enum kt_key key, int val, int dash)
{
	char num[KT_VALUE_LEN];
	const char *name = kt_key(key)->name;
	int n = 0;

	/* Digits backwards, then forwards: the values here are validated, never negative. */
	assert(val >= 0);
	do
		num[n++] = (char)('0' + val % 10);
	while ((val /= 10) > 0);
	e->line[key] = b->lines + 1;
	if ((dash && put(b, "-", 1) < 0) || put(b, name, strlen(name)) < 0 || put(b, " = ", 3) < 0)
		return -ENOMEM;
	while (n > 0)
		if (put(b, &num[--n], 1) < 0)
			return -ENOMEM;
	return put(b, "\n", 1);
}

/* Whether text holds nothing but blank lines. */
static int
all_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* Whether a line (without its newline) is our header, also when written with a CR before it. */
static int
is_header(const char *line, size_t len)
{
	size_t hlen = sizeof(kt_edit_header) - 2;	/* without its newline */

	if (len > 0 && line[len - 1] == '\r')
		len--;
	return len == hlen && memcmp(line, kt_edit_header, hlen) == 0;
}

/* What a physical line of the file (the bytes between newlines) says about our keys. */
struct line_keys {
	unsigned int keys;	/* the keys a loader reads it as setting, or excluding from globs */
	int pieces;		/* how many parts of it hold more than white space, for systemd */
	const char *val;	/* the value of an assignment of the key, in the line, or NULL */
	size_t vallen;
	int dash;		/* the assignment starts with '-': a failure is to be ignored */
};

/*
 * Read the physical line (len bytes) as dialect does, into *lk; buf has len + 1 bytes. An
 * explicit name that reaches a key makes it a line of that key; a glob does not (a line naming
 * the key keeps it off, for both loaders, as the boot model checks after every edit).
 */
static void
read_line_as(enum kt_loader dialect, const char *line, size_t len, char *buf,
    struct line_keys *lk)
{
	struct kt_sysctld_iter it;
	struct kt_sysctld_line l;

	kt_sysctld_begin(&it, dialect, line, len);
	while (kt_sysctld_next(&it, &l)) {
		struct kt_setting s;
		size_t blank = 0;

		while (blank < l.len && kt_c_space(l.text[blank]))
			blank++;
		if (dialect == KT_LOADER_SYSTEMD && blank < l.len)
			lk->pieces++;
		if (!kt_sysctld_parse(dialect, &l, buf, &s) || s.glob)
			continue;
		for (int k = 0; k < KT_NKEYS; k++) {
			if (!kt_sysctld_reaches(dialect, &s, k, NULL, 0))
				continue;
			lk->keys |= KT_BIT(k);
			if (s.value && !lk->val) {
				lk->val = l.text + (s.value - buf);
				lk->vallen = strlen(s.value);
				lk->dash = l.text[blank] == '-';
			}
		}
	}
}

/* Whether a key or several are set by a physical line, as either loader reads it. */
static int
line_keys(const char *line, size_t len, struct line_keys *lk)
{
	char *buf = malloc(len + 1);

	if (!buf)
		return -ENOMEM;
	*lk = (struct line_keys){ .keys = 0 };
	read_line_as(KT_LOADER_SYSTEMD, line, len, buf, lk);
	read_line_as(KT_LOADER_PROCPS, line, len, buf, lk);
	free(buf);
	return 0;
}

/*
 * Note in *e the value of a key's line. Each line overwrites what an earlier one noted, as the
 * loaders apply a file's lines in order: the last one is in force. Its value is an integer when
 * the kernel takes it as one, as it parses it ("0600" is octal); the text is kept either way.
 */
static int
note_old(struct kt_edit *e, enum kt_key key, const char *val, size_t vallen)
{
	char *s = strndup(val, vallen);

	if (!s)
		return -ENOMEM;
	e->present |= KT_BIT(key);
	e->old_text[key] = val;
	e->old_len[key] = vallen;
	e->old_int &= ~KT_BIT(key);
	if (kt_kernel_parse(key, s, JUDGE_HZ, &e->old[key]) == 0)
		e->old_int |= KT_BIT(key);
	free(s);
	return 0;
}

/* Fill in which keys the edit adds, takes out, or gives another value than the one in force. */
static void
note_changed(struct kt_edit *e, const struct kt_values *want)
{
	for (int k = 0; k < KT_NKEYS; k++) {
		int had = !!(e->present & KT_BIT(k)), has = !!(want->mask & KT_BIT(k));

		if (had != has || (has && (!(e->old_int & KT_BIT(k)) || e->old[k] != want->val[k])))
			e->changed |= KT_BIT(k);
	}
}

/*
 * Take one physical line (full bytes with its newline, len without) into the new text. A line
 * of one of our keys is replaced by the wanted assignment, the first time, or dropped. A line a
 * loader cuts in several (at a NUL or a lone CR) is refused when a part of it is a key's and
 * another part holds more: replacing it would lose that, keeping it would keep the key's part,
 * which a loader applies. So is a line the loaders read as two different keys. Returns 0,
 * -EBADMSG (with e->bad_line, bad_key), or -ENOMEM.
 */
static int
take_line(struct buf *b, struct kt_edit *e, const struct kt_values *want, unsigned int *written,
    const char *line, size_t len, size_t full, unsigned int lineno)
{
	struct line_keys lk;
	enum kt_key k = KT_TIME;
	int r = line_keys(line, len, &lk);

	if (r < 0)
		return r;
	if (!lk.keys)
		return put(b, line, full);
	while (!(lk.keys & KT_BIT(k)))
		k++;
	if (lk.pieces > 1 || (lk.keys & (lk.keys - 1))) {
		e->bad_line = lineno;
		e->bad_key = k;
		return -EBADMSG;
	}
	if (lk.val && (r = note_old(e, k, lk.val, lk.vallen)) < 0)
		return r;
	if (!(want->mask & KT_BIT(k)) || (*written & KT_BIT(k)))
		return 0;
	*written |= KT_BIT(k);
	return put_assignment(b, e, k, want->val[k], lk.val && lk.dash);
}

/*
 * Make the new text of a sysctl.d file from its old text (len bytes; empty or NULL for a new
 * file): our header comment first, each key in want->mask assigned exactly once (updated where
 * it stood first, keeping a leading '-', appended when missing), every other line of the three
 * keys dropped ("-key" lines too), every other line kept byte for byte. With want->mask 0 the
 * keys and the header are taken out. A line of a key is one that either loader reads as setting
 * it or keeping globs off it, in any spelling it accepts. What *ret_edit says of old values is
 * about the last assignment of each key, the one in force at boot; its old_text points into
 * text. Returns 0 and sets the new text (to free), its length and *ret_edit; -ERANGE for a value
 * out of range; -ENOMEM; or -EBADMSG for a line ka-tune cannot edit safely (see take_line()):
 * then only ret_edit->bad_line and bad_key are set.
 */
int
kt_edit_text(const char *text, size_t len, const struct kt_values *want, char **ret_text,
    size_t *ret_len, struct kt_edit *ret_edit)
{
	struct kt_edit e = { .present = 0 };
	struct buf b = { NULL, 0, 0, 0 };
	unsigned int written = 0, lineno = 0;
	int r = 0;

	assert(text || len == 0);
	assert(want);
	assert(ret_text && ret_len && ret_edit);

	if (!kt_values_valid(want))
		return -ERANGE;
	if (!text)
		text = "";
	if (want->mask && (r = put(&b, kt_edit_header, sizeof(kt_edit_header) - 1)) < 0)
		goto fail;
	for (const char *line = text, *end = text + len; line < end; ) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t linelen = nl ? (size_t)(nl - line) : (size_t)(end - line);
		size_t full = linelen + (nl != NULL);

		lineno++;
		if (!is_header(line, linelen) &&
		    (r = take_line(&b, &e, want, &written, line, linelen, full, lineno)) < 0)
			goto fail;
		line += full;
	}
	for (int k = 0; k < KT_NKEYS; k++) {
		if (!(want->mask & KT_BIT(k)) || (written & KT_BIT(k)))
			continue;
		if (b.len > 0 && b.p[b.len - 1] != '\n' && (r = put(&b, "\n", 1)) < 0)
			goto fail;
		if ((r = put_assignment(&b, &e, k, want->val[k], 0)) < 0)
			goto fail;
	}
	if ((r = put(&b, "", 0)) < 0)		/* a valid empty string even when nothing is left */
		goto fail;
	note_changed(&e, want);
	e.same = b.len == len && memcmp(b.p, text, len) == 0;
	e.empty = all_blank(b.p, b.len);
	*ret_text = b.p;
	*ret_len = b.len;
	*ret_edit = e;
	return 0;
fail:
	if (r == -EBADMSG) {
		ret_edit->bad_line = e.bad_line;
		ret_edit->bad_key = e.bad_key;
	}
	free(b.p);
	return r;
}
