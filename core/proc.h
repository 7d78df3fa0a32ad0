/* Running a helper program (exec credential plugins, the Azure CLI) without a
 * shell, with a deadline, capturing stdout. */
#ifndef AZL_PROC_H
#define AZL_PROC_H

#include "strbuf.h"

struct azl_proc_options {
	const char *const *argv;      /* argv[0] looked up on PATH when no '/' */
	const char *const *env_extra; /* "NAME=value", added to the environment */
	int inherit_stdin;            /* else stdin is /dev/null */
	int inherit_stderr;           /* else stderr is captured to err_out */
	long timeout_ms;              /* 0: none; on expiry the child is killed */
};

/* Returns 0 when the program ran (whatever its exit status, stored in
 * *exit_status), AZL_ENOTFOUND when it could not be found, AZL_ETIMEOUT
 * when it was killed at the deadline, AZL_ERROR otherwise. */
int azl_proc_run(const struct azl_proc_options *opts, struct strbuf *out,
		 struct strbuf *err_out, int *exit_status);

#endif
