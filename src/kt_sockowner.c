/* kt_sockowner.c: find the process holding each connection, through the open files of every
 * process in /proc, and the processes whose files could not be looked at. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katune.h"
#include "kt_internal.h"

/* The kernel's PF_KTHREAD, in the flags field of /proc/PID/stat. */
#define PF_KTHREAD	0x00200000UL

/* A process found holding connections, and its name. */
struct proc {
	int pid;
	char comm[KT_COMM_LEN];
};

/* A slot of the inode table: a connection's inode, its index, the process found holding it. */
struct slot {
	unsigned int inode;	/* 0: empty */
	unsigned int sock;
	int proc;		/* index in procs, or -1 */
};

/* What the /proc scan works with: the table of inodes wanted, the processes found so far. */
struct owners {
	struct slot *slots;
	unsigned int bits;
	struct proc *procs;
	size_t nprocs, cap;
	unsigned int not_seen;
};

/* Where inode's search starts: Fibonacci hashing onto the table's bits. */
static size_t
slot_of(const struct owners *o, unsigned int inode)
{
	return (inode * 2654435769u) >> (32 - o->bits);
}

static struct slot *
find_slot(const struct owners *o, unsigned int inode)
{
	size_t mask = ((size_t)1 << o->bits) - 1;

	for (size_t i = slot_of(o, inode);; i = (i + 1) & mask) {
		if (o->slots[i].inode == inode)
			return &o->slots[i];
		if (o->slots[i].inode == 0)
			return NULL;
	}
}

/*
 * Fill the inode table with the connections that have an inode. Returns how many, or -ENOMEM.
 */
static ssize_t
fill_slots(struct owners *o, const struct kt_sock *socks, size_t n)
{
	size_t mask, filled = 0;

	o->bits = 4;
	while (((size_t)1 << o->bits) < 2 * n)
		o->bits++;
	if (o->bits > 31)
		return -ENOMEM;
	o->slots = calloc((size_t)1 << o->bits, sizeof(*o->slots));
	if (!o->slots)
		return -ENOMEM;
	mask = ((size_t)1 << o->bits) - 1;
	for (size_t k = 0; k < n; k++) {
		size_t i = slot_of(o, socks[k].inode);

		if (socks[k].inode == 0)
			continue;
		while (o->slots[i].inode != 0 && o->slots[i].inode != socks[k].inode)
			i = (i + 1) & mask;
		o->slots[i] = (struct slot){ .inode = socks[k].inode, .sock = k, .proc = -1 };
		filled++;
	}
	return filled;
}

/*
 * Whether process pid is a kernel thread, from the flags in /proc/PID/stat (readable by all):
 * it holds no files, so not being allowed to look at them hides nothing.
 */
static int
is_kthread(int procfd, const char *pid)
{
	char buf[512];
	const char *p;

	if (kt_proc_read(procfd, pid, "stat", buf, sizeof(buf)) <= 0)
		return 0;
	/* After "(comm)", which may hold anything: state ppid pgrp session tty_nr tpgid flags. */
	p = strrchr(buf, ')');
	for (int i = 0; p && i < 7; i++)
		p = strchr(p + 1, ' ');
	return p && (strtoul(p + 1, NULL, 10) & PF_KTHREAD);
}

/* Add process pid to the list of owners, with its name. Returns its index, or -ENOMEM. */
static int
add_proc(struct owners *o, int procfd, const char *name, int pid)
{
	struct proc *p;

	if (o->nprocs == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;

		p = reallocarray(o->procs, cap, sizeof(*p));
		if (!p)
			return -ENOMEM;
		o->procs = p;
		o->cap = cap;
	}
	p = &o->procs[o->nprocs];
	p->pid = pid;
	kt_proc_comm(procfd, name, p->comm);
	return o->nprocs++;
}

/*
 * Look through the open files of process pid (its /proc entry name) for sockets in the table,
 * and note it as their owner unless a lower pid holds them too. A process that has exited is
 * skipped; one whose files may not be read is counted in not_seen, unless it is a kernel
 * thread: its fd directory may be closed (another user's), or open while each link in it is
 * refused (the ptrace access check, which root too can fail). Returns 0 or a negative errno
 * (-ENOMEM).
 */
static int
scan_fds(struct owners *o, int procfd, const char *name, int pid)
{
	char path[64], link[64];
	struct dirent *de;
	int fd, proc = -1, r = 0;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/fd", name) >= (int)sizeof(path))
		return 0;
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT && errno != ESRCH && !is_kthread(procfd, name))
			o->not_seen++;
		return 0;
	}
	d = fdopendir(fd);
	if (!d) {
		/* fdopendir() begins with fstat(), which says ENOENT once the process is gone. */
		r = errno == ENOENT || errno == ESRCH ? 0 : -errno;
		(void)close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		unsigned int inode;
		struct slot *s;
		ssize_t len;

		if (de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		len = readlinkat(fd, de->d_name, link, sizeof(link));
		if (len < 0 && (errno == EACCES || errno == EPERM)) {
			o->not_seen++;
			break;
		}
		if (len <= 0 || !kt_socket_link(link, len, &inode) || !(s = find_slot(o, inode)))
			continue;
		if (s->proc >= 0 && o->procs[s->proc].pid <= pid)
			continue;
		if (proc < 0 && (proc = r = add_proc(o, procfd, name, pid)) < 0)
			break;
		s->proc = proc;
	}
	(void)closedir(d);
	return r < 0 ? r : 0;
}

/* Look through the open files of every process in proc_dir. Returns 0 or a negative errno. */
static int
scan_procs(struct owners *o, const char *proc_dir)
{
	struct dirent *de;
	int r = 0;
	DIR *d;

	d = opendir(proc_dir);
	if (!d)
		return -errno;
	while (r == 0 && (de = readdir(d))) {
		int pid = (int)kt_entry_pid(de->d_name);

		if (pid > 0)
			r = scan_fds(o, dirfd(d), de->d_name, pid);
	}
	(void)closedir(d);
	return r;
}

/* Fill an inode table, scan /proc only if it holds any, then copy the owners found out. */
int
kt_sock_owners(const char *proc_dir, struct kt_sock *socks, size_t n, unsigned int *ret_not_seen)
{
	struct owners o = { 0 };
	ssize_t filled;
	int r;

	assert(proc_dir);
	assert(socks || n == 0);
	assert(ret_not_seen);

	filled = fill_slots(&o, socks, n);
	r = filled < 0 ? (int)filled : filled > 0 ? scan_procs(&o, proc_dir) : 0;
	if (r == 0) {
		for (size_t k = 0; k < n; k++) {
			socks[k].pid = 0;
			socks[k].comm[0] = '\0';
		}
		for (size_t i = 0; i < ((size_t)1 << o.bits); i++) {
			const struct slot *s = &o.slots[i];

			if (s->inode == 0 || s->proc < 0)
				continue;
			socks[s->sock].pid = o.procs[s->proc].pid;
			memcpy(socks[s->sock].comm, o.procs[s->proc].comm, KT_COMM_LEN);
		}
		*ret_not_seen = o.not_seen;
	}
	free(o.slots);
	free(o.procs);
	return r;
}

