/* cli_out.c: everything the user reads goes through here: messages on stderr, the one rule that
 * keeps terminals safe from the bytes a name may hold, JSON strings, and stdout's last word. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* The OpenBSD strnvis() argument order; only strvisx() is used, which both orders share. */
#define LIBBSD_OPENBSD_VIS
#include <vis.h>

#include "cli.h"

/*
 * The escaping rule, for every byte a name, a path or a value brings to human output: strvis(3)
 * in the C locale with C-style escapes, so a control byte, DEL, a byte above 0x7f and the
 * backslash itself are written as \n, \033, \303, \\; nothing a terminal acts on gets through.
 */
#define VIS_FLAGS	(VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL)

/* What was changed for real, for cli_finish()'s word when stdout fails afterwards; "": nothing. */
static char changed[PATH_MAX + 64];

/*
 * Escape s for human output into buf (len bytes, at least CLI_VIS_LEN(1)), by the rule above.
 * A string too long for buf is cut and ends in "...". Returns buf.
 */
const char *
cli_vis(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s), room = (len - 1) / 4;

	assert(len >= CLI_VIS_LEN(1));
	if (n <= room) {
		(void)strvisx(buf, s, n, VIS_FLAGS);
		return buf;
	}
	(void)strvisx(buf, s, (len - 4) / 4, VIS_FLAGS);
	(void)strlcat(buf, "...", len);
	return buf;
}

/*
 * Print "ka-tune: " and the message, escaped as a whole: the words are ours, the names not.
 * With --json, the message is kept for the result too (code NULL: an error).
 */
static void __attribute__((format(printf, 3, 0)))
vmessage(const char *what, const char *code, const char *fmt, va_list ap)
{
	char *msg = NULL, *safe;
	int n = vasprintf(&msg, fmt, ap);

	if (n < 0 || !(safe = malloc(CLI_VIS_LEN(n)))) {
		fputs("ka-tune: out of memory while reporting an error\n", stderr);
		free(n < 0 ? NULL : msg);
		cli_json_note(code, NULL);
		return;
	}
	(void)strvisx(safe, msg, (size_t)n, VIS_FLAGS);
	fprintf(stderr, "ka-tune: %s%s\n", what, safe);
	cli_json_note(code, msg);
	free(safe);
	free(msg);
}

/* Tell the user that something failed: "ka-tune: <what>: <why>" on stderr. */
void
cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", NULL, fmt, ap);
	va_end(ap);
}

/* Tell the user something they should know, that does not make the command fail by itself. */
void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", "warning", fmt, ap);
	va_end(ap);
}

/* The same, with the stable code the JSON results give the warning (ka-tune(8), JSON RESULTS). */
void
cli_warn_code(const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", code, fmt, ap);
	va_end(ap);
}

/*
 * Tell the user how the command line was wrong, in one line that points to the help of the
 * command running (or of ka-tune). Returns EXIT_USAGE.
 */
int
cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("ka-tune: usage error (out of memory)\n", stderr);
		return EXIT_USAGE;
	}
	cli_error("%s; see 'ka-tune%s%s --help'", msg, cli_running ? " " : "",
	    cli_running ? cli_running->name : "");
	free(msg);
	return EXIT_USAGE;
}

/*
 * The length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0 when the byte at s does not start one.
 */
size_t
cli_utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/*
 * Print the len bytes at s as a JSON string, quoted, valid UTF-8 whatever they are: '"' and '\'
 * escaped, control characters (C0 with NUL, DEL, C1) as \u00XX, and each byte that is not part
 * of a valid UTF-8 sequence replaced by U+FFFD, as ka-tune(8) says.
 */
void
cli_json_bytes(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	putchar('"');
	while (p < end) {
		/* What cli_utf8_len() may look at, never past the end: a sequence cut short by the
		 * end, or by a NUL, is not valid. */
		unsigned char seq[5] = { 0 };
		unsigned int c;
		size_t n;

		memcpy(seq, p, (size_t)(end - p) < 4 ? (size_t)(end - p) : 4);
		n = seq[0] ? cli_utf8_len(seq) : 1;
		c = n == 2 ? (p[0] & 0x1fu) << 6 | (p[1] & 0x3fu) : p[0];

		if (n == 0)
			fputs("\\ufffd", stdout);
		else if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (n <= 2 && (c < 0x20 || (c >= 0x7f && c <= 0x9f)))
			printf("\\u%04x", c);
		else
			fwrite(p, 1, n, stdout);
		p += n ? n : 1;
	}
	putchar('"');
}

/* Print the string s as a JSON string, as cli_json_bytes() does. */
void
cli_json_string(const char *s)
{
	cli_json_bytes(s, strlen(s));
}

/*
 * Write the command line that sets the values of v's keys ("ka-tune set --time 240 --intvl 75
 * --probes 9"), the options named after the keys, into buf: CLI_SET_LINE_LEN bytes are enough.
 * Returns buf.
 */
const char *
cli_set_line(const struct kt_values *v, char *buf, size_t len)
{
	size_t off = 0;
	int n = snprintf(buf, len, "ka-tune set");

	for (int k = 0; k < KT_NKEYS && n >= 0 && (off += (size_t)n) < len; k++) {
		n = 0;
		if (v->mask & KT_BIT(k))
			n = snprintf(buf + off, len - off, " --%s %d", kt_key(k)->short_name,
			    v->val[k]);
	}
	return buf;
}

/*
 * A dry run's last word on stderr, after the plan on stdout, which is flushed first so that the
 * plan comes first where both go to one file: "dry run: nothing written".
 */
void
cli_dry_run_done(const char *what)
{
	fflush(stdout);
	fprintf(stderr, "dry run: %s\n", what);
}

/*
 * Say that something was changed for real ("the values were set", "<file> was written"): if
 * stdout cannot be written afterwards, cli_finish() says so instead of a bare write error.
 */
void
cli_note_change(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(changed, sizeof(changed), fmt, ap);
	va_end(ap);
}

/*
 * The last word before exit: with --json, the result of a command that failed before printing
 * one; then data that never reached stdout (a full disk, a closed pipe) is a failure, said with
 * what was changed all the same. Returns the exit status.
 */
int
cli_finish(int status)
{
	int err;

	status = cli_json_finish(status);
	err = fflush(stdout) == 0 ? 0 : errno;
	if (err == 0 && !ferror(stdout))
		return status;
	if (err == 0)
		err = errno ? errno : EIO;	/* an earlier write failed: its errno, if kept */
	if (changed[0])
		cli_error("write error: %s; %s, but the report could not be written",
		    cli_strerror(-err, CLI_ABOUT_FILE_WRITE), changed);
	else
		cli_error("write error: %s", cli_strerror(-err, CLI_ABOUT_FILE_WRITE));
	return EXIT_FAIL;
}
