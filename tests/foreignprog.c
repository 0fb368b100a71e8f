/* foreignprog.c: "another tool's" sock_ops program for tests/cgroup.sh, which must see it keep
 * its place through ka-tune's enable and disable. It is two instructions (return 1), named
 * kt_foreign, and attached the way other tools attach theirs: BPF_PROG_ATTACH with
 * BPF_F_ALLOW_MULTI, the program pinned so that the test can detach it again.
 * usage: foreignprog attach|detach CGROUP-DIR PIN */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

/* Load the program: r0 = 1 (let the socket be), exit. Returns its fd, or -1. */
static int
load(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCK_OPS;
	a.insns = (uintptr_t)insns;
	a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	a.license = (uintptr_t)"GPL";
	(void)snprintf(a.prog_name, sizeof(a.prog_name), "kt_foreign");
	return sys_bpf(BPF_PROG_LOAD, &a);
}

int
main(int argc, char **argv)
{
	union bpf_attr a;
	int cg, prog, attach;

	if (argc != 4 || (strcmp(argv[1], "attach") != 0 && strcmp(argv[1], "detach") != 0)) {
		fputs("usage: foreignprog attach|detach CGROUP-DIR PIN\n", stderr);
		return 2;
	}
	attach = strcmp(argv[1], "attach") == 0;
	cg = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		perror(argv[2]);
		return 1;
	}
	memset(&a, 0, sizeof(a));
	if (attach) {
		prog = load();
	} else {
		a.pathname = (uintptr_t)argv[3];
		prog = sys_bpf(BPF_OBJ_GET, &a);
	}
	if (prog < 0) {
		perror(attach ? "BPF_PROG_LOAD" : "BPF_OBJ_GET");
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cg;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_SOCK_OPS;
	a.attach_flags = attach ? BPF_F_ALLOW_MULTI : 0;
	if (sys_bpf(attach ? BPF_PROG_ATTACH : BPF_PROG_DETACH, &a) < 0) {
		perror(attach ? "BPF_PROG_ATTACH" : "BPF_PROG_DETACH");
		return 1;
	}
	if (attach) {
		memset(&a, 0, sizeof(a));
		a.pathname = (uintptr_t)argv[3];
		a.bpf_fd = (uint32_t)prog;
		if (sys_bpf(BPF_OBJ_PIN, &a) < 0) {
			perror("BPF_OBJ_PIN");
			return 1;
		}
	} else if (unlink(argv[3]) < 0) {
		perror(argv[3]);
		return 1;
	}
	return 0;
}
