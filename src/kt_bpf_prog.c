/* kt_bpf_prog.c: ka-tune's BPF program, which turns keepalive on in the TCP connections of a
 * cgroup as they are established: its instructions, its policy word and counters, and how a
 * program is made, recognised, given a new policy and read. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/*
 * The policy word: what the program sets, in one u64, so that the program reads it in one load
 * and an update replaces it in one store, never seen half old, half new. A field of 0 is a
 * value not given: the connection keeps its network namespace's sysctl for it.
 */
#define POL_TIME_SHIFT		0	/* TCP_KEEPIDLE, 1..KT_TIME_MAX s */
#define POL_INTVL_SHIFT		16	/* TCP_KEEPINTVL, 1..KT_INTVL_MAX s */
#define POL_PROBES_SHIFT	32	/* TCP_KEEPCNT, 1..KT_PROBES_MAX */
#define POL_SECS_MASK		0xffff
#define POL_PROBES_MASK		0xff

/* Each key's field in the policy word. */
static const struct {
	int shift;
	uint64_t mask;
} field[KT_NKEYS] = {
	[KT_TIME] = { POL_TIME_SHIFT, POL_SECS_MASK },
	[KT_INTVL] = { POL_INTVL_SHIFT, POL_SECS_MASK },
	[KT_PROBES] = { POL_PROBES_SHIFT, POL_PROBES_MASK },
};

/* The policy map's one value: the word, then the cgroup's path, NUL-terminated, so that a
 * program whose cgroup is gone can still say whose it was. */
#define POL_PATH_OFF		8

/* The maps, as the program's map loads name them (the loader puts their fds there). */
enum { MAP_POLICY, MAP_COUNT, NMAPS };
/* The counters: connections given keepalive, and those where a bpf_setsockopt() failed. */
enum { COUNT_ENABLED, COUNT_FAILED, NCOUNTS };

/* The names by which ka-tune knows its own program and maps among others. */
#define PROG_NAME	"ka_tune"
#define POLICY_NAME	"ka_tune_policy"
#define COUNT_NAME	"ka_tune_count"

/*
 * The program, in the C it stands for:
 *
 *	int ka_tune(struct bpf_sock_ops *ctx)
 *	{
 *		if (ctx->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
 *		    ctx->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
 *			return 1;
 *		u64 pol = policy[0].word;
 *		long err = 0;
 *		if (TIME(pol))
 *			err |= bpf_setsockopt(ctx, SOL_TCP, TCP_KEEPIDLE, TIME(pol));
 *		if (INTVL(pol))
 *			err |= bpf_setsockopt(ctx, SOL_TCP, TCP_KEEPINTVL, INTVL(pol));
 *		if (PROBES(pol))
 *			err |= bpf_setsockopt(ctx, SOL_TCP, TCP_KEEPCNT, PROBES(pol));
 *		err |= bpf_setsockopt(ctx, SOL_SOCKET, SO_KEEPALIVE, 1);
 *		count[err ? FAILED : ENABLED] += 1;	(this CPU's slot, atomically)
 *		return 1;
 *	}
 *
 * It returns 1 ("go on") whatever happens: it never refuses a connection. The values go in
 * before SO_KEEPALIVE, so that the keepalive timer is armed once, with them. Registers: r6 the
 * context, r7 the policy word, r8 the errors, r10 the frame, where fp-4 holds a map index and
 * fp-8 an option's value. Every jump is short, forward, and inside one of the macros below.
 */
#define R0	BPF_REG_0
#define R1	BPF_REG_1
#define R2	BPF_REG_2
#define R3	BPF_REG_3
#define R4	BPF_REG_4
#define R5	BPF_REG_5
#define R6	BPF_REG_6
#define R7	BPF_REG_7
#define R8	BPF_REG_8
#define R10	BPF_REG_10

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV_IMM(d, i)		INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV_REG(d, s)		INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ALU_IMM(op, d, i)	INSN(BPF_ALU64 | (op) | BPF_K, d, 0, 0, i)
#define ALU_REG(op, d, s)	INSN(BPF_ALU64 | (op) | BPF_X, d, s, 0, 0)
#define LDX(size, d, s, off)	INSN(BPF_LDX | BPF_MEM | (size), d, s, off, 0)
#define STX(size, d, off, s)	INSN(BPF_STX | BPF_MEM | (size), d, s, off, 0)
#define ST(size, d, off, i)	INSN(BPF_ST | BPF_MEM | (size), d, 0, off, i)
#define JEQ(d, i, skip)		INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, skip, i)
#define JNE(d, i, skip)		INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, skip, i)
#define CALL(helper)		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, helper)
#define EXIT			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
/* d = the map in slot: two instructions, whose imm the loader replaces with the map's fd. */
#define LD_MAP(d, slot) \
	INSN(BPF_LD | BPF_IMM | BPF_DW, d, BPF_PSEUDO_MAP_FD, 0, slot), INSN(0, 0, 0, 0, 0)
/* *(u64 *)(d + off) += s, atomically (the encoding BPF_XADD had before it was renamed). */
#define ATOMIC_ADD(d, off, s)	INSN(BPF_STX | BPF_ATOMIC | BPF_DW, d, s, off, BPF_ADD)

/* return 1; (2 instructions) */
#define RETURN_1		MOV_IMM(R0, 1), EXIT
/* r0 = &map[*(u32 *)(fp - 4)], or return 1 when there is none. (8 instructions) */
#define LOOKUP_OR_RETURN(slot) \
	LD_MAP(R1, slot), MOV_REG(R2, R10), ALU_IMM(BPF_ADD, R2, -4), \
	CALL(BPF_FUNC_map_lookup_elem), JNE(R0, 0, 2), RETURN_1
/* r8 |= bpf_setsockopt(ctx, level, name, (int *)(fp - 8), sizeof(int)); (8 instructions) */
#define SETSOCKOPT(level, name) \
	MOV_REG(R1, R6), MOV_IMM(R2, level), MOV_IMM(R3, name), MOV_REG(R4, R10), \
	ALU_IMM(BPF_ADD, R4, -8), MOV_IMM(R5, sizeof(int)), CALL(BPF_FUNC_setsockopt), \
	ALU_REG(BPF_OR, R8, R0)
/* If the policy word's field at shift is given (not 0), set the option to it. (13 instructions) */
#define SET_IF_GIVEN(shift, mask, level, name) \
	MOV_REG(R2, R7), ALU_IMM(BPF_RSH, R2, shift), ALU_IMM(BPF_AND, R2, mask), \
	JEQ(R2, 0, 9), STX(BPF_W, R10, -8, R2), SETSOCKOPT(level, name)

static const struct bpf_insn program[] = {
	/* The hooks: ACTIVE_ESTABLISHED, when a connect() made in the cgroup completes, and
	 * PASSIVE_ESTABLISHED, when a connection to one of its listeners completes (the socket
	 * accept() will return). Every other sock_ops event goes on at once. */
	MOV_REG(R6, R1),
	LDX(BPF_W, R2, R6, offsetof(struct bpf_sock_ops, op)),
	JEQ(R2, BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB, 3),
	JEQ(R2, BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB, 2),
	RETURN_1,

	/* r7 = the policy word, in one 8-byte load; r8 = 0, no error yet. */
	ST(BPF_W, R10, -4, 0),
	LOOKUP_OR_RETURN(MAP_POLICY),
	LDX(BPF_DW, R7, R0, 0),
	MOV_IMM(R8, 0),

	/* The values given, then keepalive itself. */
	SET_IF_GIVEN(POL_TIME_SHIFT, POL_SECS_MASK, SOL_TCP, TCP_KEEPIDLE),
	SET_IF_GIVEN(POL_INTVL_SHIFT, POL_SECS_MASK, SOL_TCP, TCP_KEEPINTVL),
	SET_IF_GIVEN(POL_PROBES_SHIFT, POL_PROBES_MASK, SOL_TCP, TCP_KEEPCNT),
	ST(BPF_W, R10, -8, 1),
	SETSOCKOPT(SOL_SOCKET, SO_KEEPALIVE),

	/* count[r8 ? FAILED : ENABLED] += 1, in this CPU's slot. */
	ST(BPF_W, R10, -4, COUNT_ENABLED),
	JEQ(R8, 0, 1),
	ST(BPF_W, R10, -4, COUNT_FAILED),
	LOOKUP_OR_RETURN(MAP_COUNT),
	MOV_IMM(R1, 1),
	ATOMIC_ADD(R0, 0, R1),
	RETURN_1,
};

/*
 * Pack the values v gives (v->mask) into a policy word. Returns 0 and sets *ret_word, or
 * -ERANGE when a value is outside its key's accepted range.
 */
int
kt_bpf_policy_pack(const struct kt_values *v, uint64_t *ret_word)
{
	uint64_t word = 0;

	assert(v);
	assert(ret_word);
	if (!kt_values_valid(v))
		return -ERANGE;
	for (int k = 0; k < KT_NKEYS; k++)
		if (v->mask & KT_BIT(k))
			word |= (uint64_t)v->val[k] << field[k].shift;
	*ret_word = word;
	return 0;
}

/* The values a policy word gives: ret->mask has the keys whose field is not 0. */
void
kt_bpf_policy_unpack(uint64_t word, struct kt_values *ret)
{
	assert(ret);
	memset(ret, 0, sizeof(*ret));
	for (int k = 0; k < KT_NKEYS; k++) {
		ret->val[k] = (int)(word >> field[k].shift & field[k].mask);
		if (ret->val[k] != 0)
			ret->mask |= KT_BIT(k);
	}
}

/* Close the fds p holds, and mark them closed. */
void
kt_prog_close(struct kt_prog *p)
{
	int *fds[] = { &p->prog, &p->policy, &p->count };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			(void)close(*fds[i]);
		*fds[i] = -1;
	}
}

/* The policy map's value size for a path of rel_len bytes: a multiple of 8, the NUL within. */
static size_t
policy_size(size_t rel_len)
{
	return POL_PATH_OFF + ((rel_len + 1 + 7) & ~(size_t)7);
}

/*
 * Map the policy map's value (value_size bytes) into memory with prot. Returns 0 and sets *ret
 * and *ret_len, what to munmap(), or a negative errno.
 */
static int
policy_mmap(int fd, int prot, unsigned int value_size, void **ret, size_t *ret_len)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t len;
	void *m;

	if (page <= 0)
		return -EINVAL;
	len = ((size_t)value_size + (size_t)page - 1) & ~((size_t)page - 1);
	m = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	*ret = m;
	*ret_len = len;
	return 0;
}

/* Make the program's two maps, the policy map holding word and rel. */
static int
make_maps(const char *rel, uint64_t word, struct kt_prog *p)
{
	size_t rel_len = strlen(rel), size = policy_size(rel_len), len;
	void *m;
	int r;

	r = kt_sys_map_create(BPF_MAP_TYPE_ARRAY, (unsigned int)size, 1, BPF_F_MMAPABLE,
	    POLICY_NAME);
	if (r < 0)
		return r;
	p->policy = r;
	r = kt_sys_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint64_t), NCOUNTS, 0, COUNT_NAME);
	if (r < 0)
		return r;
	p->count = r;
	r = policy_mmap(p->policy, PROT_READ | PROT_WRITE, (unsigned int)size, &m, &len);
	if (r < 0)
		return r;
	memcpy((char *)m + POL_PATH_OFF, rel, rel_len + 1);
	__atomic_store_n((uint64_t *)m, word, __ATOMIC_RELEASE);
	(void)munmap(m, len);
	return 0;
}

/*
 * Make a new program for the cgroup at rel (its path below the cgroup2 mount) with the policy
 * word: its maps, filled in, then the program, through the verifier. Nothing is attached.
 * Returns 0 and fills *ret (to kt_prog_close()), or a negative errno: -ENOEXEC when the
 * verifier refused it, with its reason in reason; -EPERM without the privileges.
 */
int
kt_prog_new(const char *rel, uint64_t word, struct kt_prog *ret, char *reason,
    size_t reason_len)
{
	struct kt_prog p = KT_PROG_INIT;
	int maps[NMAPS], r;

	assert(rel && ret);
	if (strlen(rel) >= PATH_MAX)
		return -ENAMETOOLONG;
	r = make_maps(rel, word, &p);
	if (r == 0) {
		maps[MAP_POLICY] = p.policy;
		maps[MAP_COUNT] = p.count;
		r = kt_bpf_load(program, sizeof(program) / sizeof(program[0]), maps, NMAPS,
		    PROG_NAME, &p.prog, reason, reason_len);
	}
	if (r < 0) {
		kt_prog_close(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/*
 * Open the map with this id if it is one of ka-tune's, named name, of the type and shape that
 * kt_prog_new() gives it. Returns 0 and sets *ret_fd, -ENOENT for any other map.
 */
static int
open_map(unsigned int id, const char *name, int *ret_fd)
{
	struct bpf_map_info info;
	int fd = kt_sys_map_by_id(id), r;

	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	r = kt_sys_info(fd, &info, sizeof(info));
	if (r == 0 && strcmp(info.name, name) != 0)
		r = -ENOENT;
	if (r == 0 && strcmp(name, POLICY_NAME) == 0 && (info.type != BPF_MAP_TYPE_ARRAY ||
	    info.max_entries != 1 || info.value_size <= POL_PATH_OFF ||
	    !(info.map_flags & BPF_F_MMAPABLE)))
		r = -ENOENT;
	if (r == 0 && strcmp(name, COUNT_NAME) == 0 && (info.type != BPF_MAP_TYPE_PERCPU_ARRAY ||
	    info.max_entries != NCOUNTS || info.value_size != sizeof(uint64_t)))
		r = -ENOENT;
	if (r < 0) {
		(void)close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * Take an open program and find its maps, if it is ka-tune's: a sock_ops program named
 * ka_tune with a policy map and a counter map of ka-tune's. prog_fd is taken over either way.
 * Returns 0 and fills *ret, -ENOENT for a program that is not ka-tune's, or a negative errno.
 */
int
kt_prog_open(int prog_fd, struct kt_prog *ret)
{
	struct kt_prog p = KT_PROG_INIT;
	struct bpf_prog_info info;
	uint32_t ids[NMAPS];
	int r;

	p.prog = prog_fd;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = NMAPS;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	r = kt_sys_info(prog_fd, &info, sizeof(info));
	if (r == 0 && (info.type != BPF_PROG_TYPE_SOCK_OPS || strcmp(info.name, PROG_NAME) != 0 ||
	    info.nr_map_ids != NMAPS))
		r = -ENOENT;
	for (unsigned int i = 0; r == 0 && i < NMAPS; i++) {
		if (p.policy < 0 && open_map(ids[i], POLICY_NAME, &p.policy) == 0)
			continue;
		if (p.count < 0)
			(void)open_map(ids[i], COUNT_NAME, &p.count);
	}
	if (r == 0 && (p.policy < 0 || p.count < 0))
		r = -ENOENT;
	if (r < 0) {
		kt_prog_close(&p);
		return r;
	}
	*ret = p;
	return 0;
}

/*
 * Read the policy word of ka-tune's program p and, when rel is not NULL, the cgroup path it
 * was made for. Returns 0, or -ENAMETOOLONG when rel_len is short, or another negative errno.
 */
int
kt_prog_policy(const struct kt_prog *p, uint64_t *ret_word, char *rel, size_t rel_len)
{
	struct bpf_map_info info;
	size_t len, n;
	void *m;
	int r;

	memset(&info, 0, sizeof(info));
	r = kt_sys_info(p->policy, &info, sizeof(info));
	if (r == 0)
		r = policy_mmap(p->policy, PROT_READ, info.value_size, &m, &len);
	if (r < 0)
		return r;
	n = strnlen((char *)m + POL_PATH_OFF, info.value_size - POL_PATH_OFF);
	if (rel && n >= rel_len) {
		r = -ENAMETOOLONG;
	} else if (rel) {
		memcpy(rel, (char *)m + POL_PATH_OFF, n);
		rel[n] = '\0';
	}
	if (r == 0)
		*ret_word = __atomic_load_n((uint64_t *)m, __ATOMIC_ACQUIRE);
	(void)munmap(m, len);
	return r;
}

/* Give ka-tune's program p a new policy word, in one store that it sees whole. */
int
kt_prog_set_policy(const struct kt_prog *p, uint64_t word)
{
	struct bpf_map_info info;
	size_t len;
	void *m;
	int r;

	memset(&info, 0, sizeof(info));
	r = kt_sys_info(p->policy, &info, sizeof(info));
	if (r == 0)
		r = policy_mmap(p->policy, PROT_READ | PROT_WRITE, info.value_size, &m, &len);
	if (r < 0)
		return r;
	__atomic_store_n((uint64_t *)m, word, __ATOMIC_RELEASE);
	(void)munmap(m, len);
	return 0;
}

/*
 * The number of possible CPUs, from the list the kernel gives ("0-3,8-11\n"): a per-CPU map
 * holds a value for each of them.
 */
int
kt_bpf_possible_cpus(const char *list, unsigned int *ret)
{
	const char *p = list;
	unsigned long n = 0;

	for (;;) {
		char *end;
		unsigned long a, b;

		if (*p < '0' || *p > '9')
			return -EBADMSG;
		a = b = strtoul(p, &end, 10);
		if (*end == '-' && end[1] >= '0' && end[1] <= '9')
			b = strtoul(end + 1, &end, 10);
		if (b < a || b - a >= 65536 || n + (b - a + 1) > 65536)
			return -EBADMSG;
		n += b - a + 1;
		p = end + (*end == ',');
		if (*end != ',')
			break;
	}
	if (*p == '\n')
		p++;
	if (*p != '\0')
		return -EBADMSG;
	*ret = (unsigned int)n;
	return 0;
}

/* The number of possible CPUs of this machine. */
static int
possible_cpus(unsigned int *ret)
{
	size_t len;
	char *text;
	int r = kt_read_file(AT_FDCWD, "/sys/devices/system/cpu/possible", KT_READ_PROC, 4096,
	    &text, &len, NULL);

	if (r < 0)
		return r;
	r = kt_bpf_possible_cpus(text, ret);
	free(text);
	return r;
}

/* Sum ka-tune's program's counters over every CPU: connections enabled, and failed. */
int
kt_prog_counts(const struct kt_prog *p, unsigned long long *ret_enabled,
    unsigned long long *ret_failed)
{
	unsigned long long sum[NCOUNTS] = { 0 };
	unsigned int ncpu;
	uint64_t *v;
	int r = possible_cpus(&ncpu);

	if (r < 0)
		return r;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (unsigned int k = 0; k < NCOUNTS && r == 0; k++) {
		r = kt_sys_map_lookup(p->count, k, v);
		for (unsigned int c = 0; r == 0 && c < ncpu; c++)
			sum[k] += v[c];
	}
	free(v);
	if (r < 0)
		return r;
	*ret_enabled = sum[COUNT_ENABLED];
	*ret_failed = sum[COUNT_FAILED];
	return 0;
}
