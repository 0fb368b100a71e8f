/* kt_bpf_verifier.c: loading a program through the kernel's verifier, and what it said when it
 * refused one, in one line an operator can read. */
#include <assert.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

#include "kt_internal.h"

/* Room for the verifier's log when it refuses a program: its last lines say why. */
#define LOG_LEN	(64 * 1024)

/* Whether the line of n bytes at line starts with s. */
static int
starts(const char *line, size_t n, const char *s)
{
	size_t l = strlen(s);

	return n >= l && memcmp(line, s, l) == 0;
}

/* Whether a line of the verifier's log is a statistic rather than a finding. */
static int
is_statistic(const char *line, size_t n)
{
	return n == 0 || starts(line, n, "processed ") || starts(line, n, "verification time") ||
	    starts(line, n, "stack depth") || starts(line, n, "-- BEGIN") ||
	    starts(line, n, "-- END");
}

/* Whether a line of the log shows an instruction: "16: (85) call bpf_setsockopt#49". */
static int
is_instruction(const char *line, size_t n)
{
	size_t digits = strspn(line, "0123456789");

	return digits > 0 && digits < n && digits + 3 < n && memcmp(line + digits, ": (", 3) == 0;
}

/* Append n bytes of s to buf (len bytes, *at used), a control byte as '?', cut when full. */
static void
append(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *at + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[(*at)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[*at] = '\0';
}

/*
 * Reduce a verifier log to one line: its last line that is not a statistic, after the last
 * instruction printed before it, as "insn 16: call bpf_setsockopt#49: <reason>". Control bytes
 * become '?'; what does not fit in buf is cut. buf gets "" when the log gives no reason.
 */
void
kt_bpf_reason(const char *log, char *buf, size_t len)
{
	const char *reason = NULL, *insn = NULL, *p = log;
	size_t reason_n = 0, insn_n = 0, at = 0;

	assert(log);
	assert(buf && len > 0);
	buf[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, "\n");

		if (is_instruction(p, n)) {
			insn = p;
			insn_n = n;
		} else if (!is_statistic(p, n)) {
			reason = p;
			reason_n = n;
		}
		p += n + (p[n] == '\n');
	}
	if (!reason)
		return;
	if (insn && insn < reason) {
		/* "16: (85) call bpf_setsockopt#49": the number, then what follows the opcode. */
		const char *op = memchr(insn, ')', insn_n);
		size_t num = strspn(insn, "0123456789");

		append(buf, len, &at, "insn ", 5);
		append(buf, len, &at, insn, num);
		if (op && (size_t)(op - insn) + 2 < insn_n) {
			append(buf, len, &at, ": ", 2);
			append(buf, len, &at, op + 2, insn_n - (size_t)(op + 2 - insn));
		}
		append(buf, len, &at, ": ", 2);
	}
	append(buf, len, &at, reason, reason_n);
}

/*
 * Load a sock_ops program of n instructions, whose map loads (BPF_PSEUDO_MAP_FD) hold an index
 * in map_fds, which the loaded copy gets instead: the fds of the maps it uses.
 * Returns 0 and sets *ret_fd; or -ENOEXEC when the verifier refused it, with its reason in one
 * line in reason (reason_len bytes, when not NULL); or another negative errno: -EPERM without
 * the privileges (CAP_BPF and CAP_NET_ADMIN, or CAP_SYS_ADMIN), -ENOMEM...
 */
int
kt_bpf_load(const struct bpf_insn *insns, size_t n, const int *map_fds, size_t nmaps,
    const char *name, int *ret_fd, char *reason, size_t reason_len)
{
	struct bpf_insn *copy = calloc(n, sizeof(*copy));
	char *log = NULL;
	int fd;

	if (!copy)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		copy[i] = insns[i];
		if (copy[i].code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    copy[i].src_reg == BPF_PSEUDO_MAP_FD) {
			assert((size_t)copy[i].imm < nmaps);
			copy[i].imm = map_fds[copy[i].imm];
		}
	}
	/* Quietly first, as the kernel is quickest without a log; on a refusal, again to learn
	 * why. A refusal for want of privileges says nothing more the second time. */
	fd = kt_sys_prog_load(copy, n, name, NULL, 0);
	if (fd < 0 && fd != -EPERM && (log = malloc(LOG_LEN))) {
		int again = kt_sys_prog_load(copy, n, name, log, LOG_LEN);

		if (again >= 0) {
			fd = again;	/* a refusal the kernel did not repeat (memory, say) */
		} else if (log[0]) {
			log[LOG_LEN - 1] = '\0';
			if (reason && reason_len > 0)
				kt_bpf_reason(log, reason, reason_len);
			fd = -ENOEXEC;
		}
	}
	free(log);
	free(copy);
	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}
