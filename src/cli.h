/* cli.h: what the subcommands share: exit codes, messages, and reading the kernel's values. */
#ifndef KT_CLI_H
#define KT_CLI_H

#include <getopt.h>

#include "katune.h"

/* The only exit codes ka-tune ever returns. */
enum {
	EXIT_OK = 0,		/* done */
	EXIT_FAIL = 1,		/* the operation failed: I/O, permission, the kernel refused */
	EXIT_USAGE = 2,		/* usage error or invalid value; nothing was changed */
};

extern const char *const usage_text;

/* An idle timeout to judge keepalive values against, and where it comes from. */
struct cli_idle {
	long long idle;
	const char *name;	/* the profile's name, or "idle-timeout" */
	const char *what;
};

void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_parse_value(enum kt_key key, const char *arg, struct kt_values *v);
void cli_value_arg(int c, const char *optarg_, const char *arg[KT_NKEYS]);
int cli_parse_values(const char *const arg[KT_NKEYS], struct kt_values *v);
int cli_read_kernel(unsigned int mask, struct kt_values *ret);
int cli_bad_option(char *const *argv, int c);
int cli_help(void);
void cli_json_string(const char *s);

int cmd_show(int argc, char **argv);
int cmd_set(int argc, char **argv);
int cmd_persist(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_suggest(int argc, char **argv);
int cmd_sockets(int argc, char **argv);
int cli_idle_timeout(const char *behind, const char *idle_arg, struct cli_idle *ret);
int cli_behind_option(int c, const char *arg, const char **behind, const char **idle);
int show_boot(const char *root, const char *loader_arg, int format);
int cli_boot_read(const char *root, enum kt_loader loader, struct kt_boot **ret);
int cli_parse_loader(const char *arg, enum kt_loader *ret);

#endif
