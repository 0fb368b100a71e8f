/* kt_bpf_sys.c: the bpf() system call, one small function per command ka-tune makes, so that the
 * rest of the library reads as what it asks the kernel, not how the request is packed. */
#include <assert.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kt_internal.h"

/* A pointer as the bpf() attributes carry it. */
#define PTR(p)	((uint64_t)(uintptr_t)(p))

/* Make one bpf() call, with attributes the caller zeroed and filled: its result, or -errno. */
static int
sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));

	return r < 0 ? -errno : (int)r;
}

/* Copy a name into a BPF object's name field, which holds BPF_OBJ_NAME_LEN - 1 characters. */
static void
set_name(char dst[BPF_OBJ_NAME_LEN], const char *name)
{
	size_t n = strlen(name);

	assert(n < BPF_OBJ_NAME_LEN);
	memcpy(dst, name, n);
}

/* Make an array map (of u32 indexes) named name. Returns its fd or a negative errno. */
int
kt_sys_map_create(unsigned int type, unsigned int value_size, unsigned int max_entries,
    unsigned int flags, const char *name)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = type;
	a.key_size = sizeof(uint32_t);
	a.value_size = value_size;
	a.max_entries = max_entries;
	a.map_flags = flags;
	set_name(a.map_name, name);
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/*
 * Load a sock_ops program for cgroups, named name. With a log buffer the verifier explains
 * itself there (log level 1); without, it only answers. Returns the program's fd or -errno.
 */
int
kt_sys_prog_load(const struct bpf_insn *insns, size_t n, const char *name, char *log,
    size_t log_len)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCK_OPS;
	a.expected_attach_type = BPF_CGROUP_SOCK_OPS;
	a.insns = PTR(insns);
	a.insn_cnt = (uint32_t)n;
	/* ka-tune's own license: the program calls no GPL-only helper, so any name will do. */
	a.license = PTR("ISC");
	set_name(a.prog_name, name);
	if (log && log_len > 0) {
		log[0] = '\0';
		a.log_buf = PTR(log);
		a.log_size = log_len > UINT32_MAX ? UINT32_MAX : (uint32_t)log_len;
		a.log_level = 1;
	}
	return sys_bpf(BPF_PROG_LOAD, &a);
}

/*
 * Attach a sock_ops program to a cgroup through a new bpf_link, beside any other program there
 * (a link is always BPF_F_ALLOW_MULTI). Returns the link's fd: the attachment lasts as long as
 * the link does, held by this fd or a pin.
 */
int
kt_sys_link_create(int prog_fd, int cgroup_fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog_fd;
	a.link_create.target_fd = (uint32_t)cgroup_fd;
	a.link_create.attach_type = BPF_CGROUP_SOCK_OPS;
	return sys_bpf(BPF_LINK_CREATE, &a);
}

/* Detach a link from its cgroup now, whoever else still holds it. */
int
kt_sys_link_detach(int link_fd)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.link_detach.link_fd = (uint32_t)link_fd;
	return sys_bpf(BPF_LINK_DETACH, &a);
}

/* Pin a BPF object at path, in a bpffs, where nothing is yet. */
int
kt_sys_pin(int fd, const char *path)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = PTR(path);
	a.bpf_fd = (uint32_t)fd;
	return sys_bpf(BPF_OBJ_PIN, &a);
}

/* Open the BPF object pinned at path. Returns its fd. */
int
kt_sys_get(const char *path)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.pathname = PTR(path);
	return sys_bpf(BPF_OBJ_GET, &a);
}

/* Fill info: a struct bpf_link_info, bpf_prog_info or bpf_map_info (len bytes), zeroed. */
int
kt_sys_info(int fd, void *info, unsigned int len)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = len;
	a.info.info = PTR(info);
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
}

/* Open the program with this id. Returns its fd. */
int
kt_sys_prog_by_id(unsigned int id)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	return sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
}

/* Open the map with this id. Returns its fd. */
int
kt_sys_map_by_id(unsigned int id)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_id = id;
	return sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
}

/* Copy the value at index key of a map into value: every CPU's, one after the other, for a
 * per-CPU map. */
int
kt_sys_map_lookup(int fd, unsigned int key, void *value)
{
	union bpf_attr a;
	uint32_t k = key;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = PTR(&k);
	a.value = PTR(value);
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

/*
 * The ids of the sock_ops programs that run for a cgroup: those attached to it, or with
 * effective, those its sockets run, its ancestors' included. At most *n go to ids; *n becomes
 * how many there are, which may be more (then -ENOSPC).
 */
int
kt_sys_prog_query(int cgroup_fd, int effective, unsigned int *ids, unsigned int *n)
{
	union bpf_attr a;
	int r;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgroup_fd;
	a.query.attach_type = BPF_CGROUP_SOCK_OPS;
	a.query.query_flags = effective ? BPF_F_QUERY_EFFECTIVE : 0;
	a.query.prog_ids = PTR(ids);
	a.query.prog_cnt = *n;
	r = sys_bpf(BPF_PROG_QUERY, &a);
	if (r == 0 || r == -ENOSPC)
		*n = a.query.prog_cnt;
	return r;
}
