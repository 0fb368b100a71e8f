/* tmptree.h: temp directory trees for the unit tests to run the library against. */
#ifndef KT_TMPTREE_H
#define KT_TMPTREE_H

#include <limits.h>
#include <stddef.h>
#include <linux/capability.h>

/* A fresh directory for one test: setup makes it, the test works below root, teardown frees it. */
struct tmptree {
	char root[PATH_MAX];
};

/* The capabilities tmptree_dac_drop() took out of the effective set, to put back. */
struct tmptree_caps {
	struct __user_cap_data_struct data[2];
};

int tmptree_make(char *root, size_t len, const char *name);
int tmptree_remove(const char *root);
struct tmptree *tmptree_new(const char *name);
int tmptree_free(struct tmptree *t);
int tmptree_setup(void **state);
int tmptree_teardown(void **state);
void tmptree_path(const char *root, const char *rel, char *buf, size_t len);
void tmptree_mkdirs(const char *root, const char *rel);
void tmptree_write(const char *path, const void *buf, size_t len);
void tmptree_put(const char *root, const char *rel, const char *s);
void tmptree_link(const char *root, const char *rel, const char *target);
void tmptree_fifo(const char *root, const char *rel);

int tmptree_dac_drop(struct tmptree_caps *saved);
void tmptree_dac_restore(const struct tmptree_caps *saved);

#endif
