/* Unit tests for core/wrapper: the allocation wrappers' NULL and "" rules,
 * xmemdupz, str_empty, write_in_full and realtime_after_ms. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strbuf.h"
#include "wrapper.h"

static void test_strdup_rules(void **state)
{
	char *s;

	(void)state;
	s = xstrdup(NULL);
	assert_string_equal(s, "");
	free(s);
	s = xstrdup("abc");
	assert_string_equal(s, "abc");
	free(s);
	assert_null(xstrdup_or_null(NULL));
	assert_null(xstrdup_or_null(""));
	s = xstrdup_or_null("x");
	assert_string_equal(s, "x");
	free(s);
	assert_true(str_empty(NULL));
	assert_true(str_empty(""));
	assert_false(str_empty(" "));
}

static void test_memdupz_and_zero_sizes(void **state)
{
	char *s = xmemdupz("context-a,context-b", 9);
	void *p;

	(void)state;
	assert_string_equal(s, "context-a");
	free(s);
	/* zero-sized requests still give a block that free() accepts */
	p = xmalloc(0);
	assert_non_null(p);
	p = xrealloc(p, 0);
	assert_non_null(p);
	free(p);
	p = xcalloc(0, 8);
	assert_non_null(p);
	free(p);
}

static void test_write_in_full(void **state)
{
	struct strbuf got = STRBUF_INIT;
	char big[200000];
	int fds[2], status;
	pid_t pid;

	(void)state;
	/* larger than a pipe's buffer: the write comes back short at least once */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(write_in_full(fds[1], big, sizeof(big)) ? 1 : 0);
	}
	close(fds[1]);
	assert_int_equal(strbuf_read_fd(&got, fds[0]), 0);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(got.len, sizeof(big));
	assert_memory_equal(got.buf, big, sizeof(big));
	strbuf_release(&got);

	/* a closed descriptor: -1, not a hang */
	assert_int_equal(write_in_full(-1, "x", 1), -1);
}

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Whatever the current nanoseconds, the result is normalised and lands
 * ms later: 999 ms carries into the seconds unless the clock is within the
 * first millisecond of a second. */
static void test_realtime_after_ms(void **state)
{
	static const long delays[] = { 0, 1, 999, 1000, 2500 };

	(void)state;
	for (size_t i = 0; i < sizeof(delays) / sizeof(*delays); i++) {
		struct timespec before, at, after;

		clock_gettime(CLOCK_REALTIME, &before);
		realtime_after_ms(&at, delays[i]);
		clock_gettime(CLOCK_REALTIME, &after);
		assert_in_range(at.tv_nsec, 0, 999999999);
		assert_true(ns_of(&at) >= ns_of(&before) + delays[i] * 1000000LL);
		assert_true(ns_of(&at) <= ns_of(&after) + delays[i] * 1000000LL);
	}
}

static int own_nice(void)
{
	return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
}

/* Issue 17 defect 7: a negative time made nanosleep() fail with EINVAL,
 * which was retried for ever; the alarm turns such a spin into a failure. */
static void test_sleep_never_spins(void **state)
{
	(void)state;
	alarm(10);
	sleep_millisec(-1000);
	sleep_millisec(LONG_MIN);
	sleep_millisec(0);
	sleep_millisec(1);
	alarm(0);
}

/* [0]: the thread's nice before, [1] after 3 steps, [2] after 30 more */
static void *lower_in_thread(void *arg)
{
	int *nice = arg;

	nice[0] = own_nice();
	thread_lower_priority(3);
	nice[1] = own_nice();
	thread_lower_priority(30);
	nice[2] = own_nice();
	return NULL;
}

/* Only the calling thread is lowered, and never below 19. */
static void test_thread_lower_priority(void **state)
{
	pthread_t t;
	int nice[3], before = own_nice();

	(void)state;
#ifndef __linux__
	skip();
#endif
	if (before > 16)
		skip();
	assert_int_equal(pthread_create(&t, NULL, lower_in_thread, nice), 0);
	pthread_join(t, NULL);
	assert_int_equal(nice[0], before);
	assert_int_equal(nice[1], before + 3);
	assert_int_equal(nice[2], 19);
	assert_int_equal(own_nice(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strdup_rules),
		cmocka_unit_test(test_memdupz_and_zero_sizes),
		cmocka_unit_test(test_write_in_full),
		cmocka_unit_test(test_realtime_after_ms),
		cmocka_unit_test(test_thread_lower_priority),
		cmocka_unit_test(test_sleep_never_spins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
