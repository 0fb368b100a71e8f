/* cli_set.c: the words for a failed set, for set, set --persist and apply alike: which key, why,
 * and what was put back. */
#include <errno.h>

#include "cli.h"

/*
 * Say what was put back after a failure (or could not be), or that nothing was changed; and
 * work out in *now what the keys of want hold after it.
 */
void
cli_set_restored(const struct kt_values *old, const struct kt_values *want,
    const struct kt_failure *f, struct kt_values *now)
{
	*now = *old;
	now->mask = want->mask;
	for (int k = 0; k < KT_NKEYS; k++) {
		if (f->restored & KT_BIT(k))
			cli_error("%s: restored to %d", kt_key(k)->name, old->val[k]);
		if (f->unrestored & KT_BIT(k)) {
			cli_error("%s: could not restore %d, it stays %d: %s", kt_key(k)->name,
			    old->val[k], want->val[k], cli_strerror(f->restore_err, CLI_ABOUT_KEY));
			now->val[k] = want->val[k];
		}
	}
	if (!f->restored && !f->unrestored)
		cli_error("nothing was changed");
}

/* Explain a failed kt_set(), at whichever stage it failed; *now is set after a write failure. */
void
cli_set_failure(const struct kt_values *old, const struct kt_values *want,
    const struct kt_failure *f, struct kt_values *now)
{
	const char *name = kt_key(f->key)->name;

	switch (f->stage) {
	case KT_STAGE_LOCK:
		if (f->err == -ETIMEDOUT)
			cli_error("%s: timed out after %d s waiting for the lock on %s (another "
				  "ka-tune set in this network namespace, or a process holding flock "
				  "on " KT_PROC_ROOT "/%s); nothing was changed",
			    cli_running ? cli_running->name : "set", KT_LOCK_TIMEOUT, name,
			    kt_key(f->key)->path);
		else
			cli_error("%s: cannot lock: %s", name, cli_strerror(f->err, CLI_ABOUT_KEY));
		break;
	case KT_STAGE_READ:
		cli_error("%s: cannot read: %s", name, cli_strerror(f->err, CLI_ABOUT_KEY));
		break;
	case KT_STAGE_WRITE:
		cli_error("%s: cannot set %d: %s", name, want->val[f->key],
		    cli_strerror(f->err, CLI_ABOUT_KEY));
		cli_set_restored(old, want, f, now);
		break;
	}
}
