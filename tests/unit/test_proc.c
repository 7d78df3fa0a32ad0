#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "error.h"
#include "proc.h"
#include "testutil.h"

static int run_argv(const char *const *argv, const char *const *env, long timeout,
		    struct strbuf *out, struct strbuf *err, int *status)
{
	struct azl_proc_options o = { argv, env, 0, err == NULL, timeout };
	return azl_proc_run(&o, out, err, status);
}

static void assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_exit_status(void **state)
{
	const char *argv[] = { "sh", "-c", "exit 3", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = -1;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, &status), 0);
	assert_int_equal(status, 3);
	assert_no_children();
	strbuf_release(&out);
}

static void test_stdout_and_stderr_captured(void **state)
{
	const char *argv[] = { "sh", "-c", "printf out; printf err >&2", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status = -1;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, &err, &status), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.buf, "out");
	assert_string_equal(err.buf, "err");
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_no_shell_interpretation(void **state)
{
	const char *argv[] = { "printf", "%s|%s", "$HOME; echo hi", "`id`", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = -1;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, &status), 0);
	assert_string_equal(out.buf, "$HOME; echo hi|`id`");
	strbuf_release(&out);
}

static void test_not_found_on_path(void **state)
{
	const char *argv[] = { "azl-no-such-program-42", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = -1;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, &status), AZL_ENOTFOUND);
	assert_string_equal(azl_error_message(), "executable azl-no-such-program-42 not found");
	assert_int_equal(status, -1);
	assert_no_children();
	strbuf_release(&out);
}

static void test_not_found_by_path(void **state)
{
	const char *argv[] = { "/nonexistent-dir/azl-prog", NULL };
	struct strbuf out = STRBUF_INIT;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, NULL), AZL_ENOTFOUND);
	assert_string_equal(azl_error_message(), "executable /nonexistent-dir/azl-prog not found");
	assert_no_children();
	strbuf_release(&out);
}

static void test_not_executable(void **state)
{
	char *dir = tu_mkdtemp();
	char *prog = tu_write(dir, "prog", "#!/bin/sh\necho hi\n", 0644);
	const char *argv[] = { prog, NULL };
	struct strbuf out = STRBUF_INIT;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, NULL), AZL_ERROR);
	assert_non_null(strstr(azl_error_message(), "Permission denied"));
	assert_non_null(strstr(azl_error_message(), prog));
	assert_no_children();
	strbuf_release(&out);
	free(prog);
	tu_rmrf(dir);
	free(dir);
}

static void test_timeout_kills(void **state)
{
	const char *argv[] = { "sleep", "60", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = -1;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 100, &out, NULL, &status), AZL_ETIMEOUT);
	assert_non_null(strstr(azl_error_message(), "sleep did not finish within 100 ms"));
	assert_no_children();
	strbuf_release(&out);
}

static void test_timeout_sigkill_when_term_ignored(void **state)
{
	const char *argv[] = { "sh", "-c", "trap '' TERM; echo started; while :; do sleep 1; done", NULL };
	struct strbuf out = STRBUF_INIT;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 300, &out, NULL, NULL), AZL_ETIMEOUT);
	assert_no_children();
	strbuf_release(&out);
}

static void test_env_extra(void **state)
{
	const char *argv[] = { "sh", "-c", "printf '%s|%s|%s' \"$AZL_T1\" \"$AZL_T2\" \"${PATH:+path}\"", NULL };
	const char *env[] = { "AZL_T1=hello world", "AZL_T2=x=y", NULL };
	struct strbuf out = STRBUF_INIT;
	(void)state;
	setenv("AZL_T1", "parent value", 1);
	assert_int_equal(run_argv(argv, env, 0, &out, NULL, NULL), 0);
	assert_string_equal(out.buf, "hello world|x=y|path");
	unsetenv("AZL_T1");
	strbuf_release(&out);
}

static void test_large_output_both_streams(void **state)
{
	const char *argv[] = { "sh", "-c", "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2; echo end", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status = -1;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, &err, &status), 0);
	assert_int_equal(status, 0);
	assert_int_equal(out.len, 3000004);
	assert_string_equal(out.buf + 3000000, "end\n");
	assert_int_equal(err.len, 2000000);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void test_stdin_is_dev_null(void **state)
{
	const char *argv[] = { "sh", "-c", "cat; echo done", NULL };
	struct strbuf out = STRBUF_INIT;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, NULL), 0);
	assert_string_equal(out.buf, "done\n");
	strbuf_release(&out);
}

static void test_killed_by_signal(void **state)
{
	const char *argv[] = { "sh", "-c", "kill -9 $$", NULL };
	struct strbuf out = STRBUF_INIT;
	int status = -1;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, &status), 0);
	assert_int_equal(status, 128 + 9);
	strbuf_release(&out);
}

/* A parent ignoring SIGPIPE must not pass that on: `yes | head` relies on
 * yes dying quietly of SIGPIPE. */
static void test_child_gets_default_sigpipe(void **state)
{
	const char *argv[] = { "sh", "-c", "yes | head -n 1", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, &err, NULL), 0);
	signal(SIGPIPE, old);
	assert_string_equal(out.buf, "y\n");
	assert_string_equal(err.buf, "");
	strbuf_release(&out);
	strbuf_release(&err);
}

/* The child holds exactly the parent's inheritable descriptors (whatever
 * the test runner passed us) plus 0-2: none of the pipes leak. */
static void inheritable_fds(struct strbuf *sb)
{
	for (int fd = 0; fd < 4096; fd++) {
		int flags = fcntl(fd, F_GETFD);
		if (fd <= 2 || (flags >= 0 && !(flags & FD_CLOEXEC)))
			strbuf_addf(sb, "%d ", fd);
	}
}

/* Sorts a whitespace-separated list of numbers, as inheritable_fds prints. */
static void sort_fds(struct strbuf *sb)
{
	static char seen[4096];
	char *p = sb->buf, *end;
	memset(seen, 0, sizeof(seen));
	for (long fd; (fd = strtol(p, &end, 10)), end != p; p = end)
		if (fd >= 0 && fd < 4096)
			seen[fd] = 1;
	strbuf_reset(sb);
	for (int fd = 0; fd < 4096; fd++)
		if (seen[fd])
			strbuf_addf(sb, "%d ", fd);
}

static void test_no_fd_leaks(void **state)
{
	const char *argv[] = { "sh", "-c", "for f in /proc/$$/fd/*; do [ -e $f ] && echo ${f##*/}; done", NULL };
	struct strbuf out = STRBUF_INIT, want = STRBUF_INIT;
	(void)state;
	inheritable_fds(&want);
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, NULL), 0);
	sort_fds(&out);
	assert_string_equal(out.buf, want.buf);
	strbuf_release(&out);
	strbuf_release(&want);
}

static void test_bad_options(void **state)
{
	const char *argv[] = { NULL };
	struct strbuf out = STRBUF_INIT;
	(void)state;
	assert_int_equal(run_argv(argv, NULL, 0, &out, NULL, NULL), AZL_EINVALID);
	strbuf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_stdout_and_stderr_captured),
		cmocka_unit_test(test_no_shell_interpretation),
		cmocka_unit_test(test_not_found_on_path),
		cmocka_unit_test(test_not_found_by_path),
		cmocka_unit_test(test_not_executable),
		cmocka_unit_test(test_timeout_kills),
		cmocka_unit_test(test_timeout_sigkill_when_term_ignored),
		cmocka_unit_test(test_env_extra),
		cmocka_unit_test(test_large_output_both_streams),
		cmocka_unit_test(test_stdin_is_dev_null),
		cmocka_unit_test(test_killed_by_signal),
		cmocka_unit_test(test_child_gets_default_sigpipe),
		cmocka_unit_test(test_no_fd_leaks),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
