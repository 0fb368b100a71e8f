/* test_kt_bpf_verifier.c: unit tests for kt_bpf_verifier.c: a verifier's log reduced to the one
 * line an operator reads; and, as root, the running kernel's verifier itself, which must take
 * ka-tune's program and refuse a broken one with that line. A program loaded here is attached
 * to nothing, and goes when its fds are closed. */
#include <errno.h>
#include <linux/bpf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "katune.h"
#include "../src/kt_internal.h"

/* A refusal as 6.18's verifier writes it at log level 1. */
static const char refusal[] =
    "func#0 @0\n"
    "0: R1=ctx() R10=fp0\n"
    "0: (bf) r6 = r1                       ; R1=ctx() R6_w=ctx()\n"
    "6: (85) call bpf_setsockopt#49\n"
    "invalid read from stack R4 off -8+0 size 4\n"
    "processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
    "mark_read 0\n";

/* The last finding, after the last instruction shown before it; statistics left out. */
static void
test_reason(void **state)
{
	char buf[KT_BPF_REASON_LEN];

	(void)state;
	kt_bpf_reason(refusal, buf, sizeof(buf));
	assert_string_equal(buf,
	    "insn 6: call bpf_setsockopt#49: invalid read from stack R4 off -8+0 size 4");
	kt_bpf_reason("unknown opcode 8d\nprocessed 0 insns\n", buf, sizeof(buf));
	assert_string_equal(buf, "unknown opcode 8d");
}

/* Nothing but statistics, or nothing: no reason. */
static void
test_reason_none(void **state)
{
	char buf[KT_BPF_REASON_LEN] = "x";

	(void)state;
	kt_bpf_reason("processed 0 insns\nverification time 5 usec\n", buf, sizeof(buf));
	assert_string_equal(buf, "");
	kt_bpf_reason("", buf, sizeof(buf));
	assert_string_equal(buf, "");
}

/* A control byte never reaches a terminal; a short buffer cuts the line, NUL-terminated. */
static void
test_reason_safe(void **state)
{
	char buf[KT_BPF_REASON_LEN], small[16];

	(void)state;
	kt_bpf_reason("bad \x1b[31mred\x7f\r\n", buf, sizeof(buf));
	assert_string_equal(buf, "bad ?[31mred??");
	kt_bpf_reason(refusal, small, sizeof(small));
	assert_string_equal(small, "insn 6: call bp");
}

/* The running kernel's verifier takes ka-tune's program, for a path of any length. */
static void
test_accepted(void **state)
{
	char reason[KT_BPF_REASON_LEN] = "", rel[PATH_MAX];
	struct kt_values v = { KT_ALL, { 600, 30, 4 } };
	struct kt_prog p;
	uint64_t w, back;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(kt_bpf_policy_pack(&v, &w), 0);
	assert_int_equal(kt_prog_new("system.slice/a.service", w, &p, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "");
	assert_int_equal(kt_prog_policy(&p, &back, rel, sizeof(rel)), 0);
	assert_true(back == w);
	assert_string_equal(rel, "system.slice/a.service");
	kt_prog_close(&p);

	/* The longest path a cgroup has, kept whole; and the root's, "". */
	memset(rel, 'x', sizeof(rel) - 1);
	rel[sizeof(rel) - 1] = '\0';
	assert_int_equal(kt_prog_new(rel, w, &p, reason, sizeof(reason)), 0);
	assert_int_equal(kt_prog_policy(&p, &back, rel, sizeof(rel)), 0);
	assert_int_equal(strlen(rel), sizeof(rel) - 1);
	assert_int_equal(kt_prog_policy(&p, &back, rel, sizeof(rel) - 1), -ENAMETOOLONG);
	kt_prog_close(&p);
	assert_int_equal(kt_prog_new("", 0, &p, reason, sizeof(reason)), 0);
	assert_int_equal(kt_prog_policy(&p, &back, rel, sizeof(rel)), 0);
	assert_true(back == 0);
	assert_string_equal(rel, "");
	kt_prog_close(&p);
}

/* bpf_setsockopt() handed a register never written (r7): every verifier refuses that, and
 * says so in one line. */
static void
test_refused(void **state)
{
	static const struct bpf_insn bad[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6, .src_reg = BPF_REG_1 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_1, .src_reg = BPF_REG_6 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_2, .imm = 1 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_3, .imm = 9 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_4, .src_reg = BPF_REG_7 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_4, .imm = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_5, .imm = 4 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_setsockopt },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	char reason[KT_BPF_REASON_LEN] = "";
	int fd = -1;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(kt_bpf_load(bad, sizeof(bad) / sizeof(bad[0]), NULL, 0, "kt_test", &fd,
	    reason, sizeof(reason)), -ENOEXEC);
	assert_int_equal(fd, -1);
	assert_string_equal(reason, "insn 4: r4 = r7: R7 !read_ok");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_reason_none),
		cmocka_unit_test(test_reason_safe),
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
