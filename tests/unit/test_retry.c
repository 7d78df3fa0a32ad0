/* retry.c: the Retry-After parser (both forms, and values that would
 * overflow), the status map, and the policy's decisions and waits on a
 * fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "error.h"
#include "retry.h"
#include "testclock.h"

/* Wed, 21 Oct 2026 07:28:00 GMT */
#define NOW ((time_t)1792567680)

static void test_retry_after_delta_seconds(void **state)
{
	(void)state;
	assert_int_equal(azl_retry_after_parse("3", NOW), 3000);
	assert_int_equal(azl_retry_after_parse("0", NOW), 0);
	assert_int_equal(azl_retry_after_parse("120", NOW), 120000);
	assert_int_equal(azl_retry_after_parse("", NOW), -1);
	assert_int_equal(azl_retry_after_parse(NULL, NOW), -1);
	assert_int_equal(azl_retry_after_parse("soon", NOW), -1);
	assert_int_equal(azl_retry_after_parse("-5", NOW), -1);
	assert_int_equal(azl_retry_after_parse("5s", NOW), -1);
	assert_int_equal(azl_retry_after_parse("1.5", NOW), -1);
}

/* Issue 17 defects 2 and 3 (cases from the fuzz branch's test_arm.c):
 * secs * 1000 overflowed (9223372036854776), or came so near LONG_MAX
 * (9223372036854775) that deadline arithmetic wrapped; past 2^31 s a
 * delta-seconds means 2^31 s (RFC 9111 §1.2.2). */
static void test_retry_after_saturates(void **state)
{
	(void)state;
	assert_true(azl_retry_after_parse("9223372036854776", NOW) == AZL_RETRY_AFTER_MAX_MS);
	assert_true(azl_retry_after_parse("9223372036854775", NOW) == AZL_RETRY_AFTER_MAX_MS);
	assert_true(azl_retry_after_parse("99999999999999999999999999999", NOW) ==
		    AZL_RETRY_AFTER_MAX_MS);
	assert_true(azl_retry_after_parse("2147483648", NOW) == AZL_RETRY_AFTER_MAX_MS);
	assert_true(azl_retry_after_parse("2147483647", NOW) == 2147483647000L);
	assert_int_equal(azl_retry_after_parse(" 5", NOW), -1);
	assert_int_equal(azl_retry_after_parse("+5", NOW), -1);
}

static void test_retry_after_http_date(void **state)
{
	(void)state;
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 2026 07:28:00 GMT", NOW), 0);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 2026 07:28:30 GMT", NOW), 30000);
	/* the past means now */
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", NOW), 0);
	/* far future: capped, not overflowed */
	assert_true(azl_retry_after_parse("Fri, 31 Dec 9999 23:59:59 GMT", NOW) ==
		    AZL_RETRY_AFTER_MAX_MS);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 0000 07:28:00 GMT", NOW), -1);
	/* years at INT_MIN/INT_MAX and other fields out of range are refused */
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 2147483647 07:28:00 GMT", NOW), -1);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct -2147483648 07:28:00 GMT", NOW), -1);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 1969 07:28:00 GMT", NOW), -1);
	assert_int_equal(azl_retry_after_parse("Wed, 32 Oct 2026 07:28:00 GMT", NOW), -1);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Foo 2026 07:28:00 GMT", NOW), -1);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 2026 24:28:00 GMT", NOW), -1);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 2026 07:28:00 UTC", NOW), -1);
	assert_int_equal(azl_retry_after_parse("Wed, 21 Oct 2026 07:28:00 GMT junk", NOW), -1);
}

static void test_status_map(void **state)
{
	(void)state;
	assert_int_equal(azl_retry_status_code(400, NULL), AZL_EINVALID);
	assert_int_equal(azl_retry_status_code(422, "Invalid"), AZL_EINVALID);
	assert_int_equal(azl_retry_status_code(401, NULL), AZL_EAUTH);
	assert_int_equal(azl_retry_status_code(403, NULL), AZL_EFORBIDDEN);
	assert_int_equal(azl_retry_status_code(404, NULL), AZL_ENOTFOUND);
	assert_int_equal(azl_retry_status_code(408, NULL), AZL_ETIMEOUT);
	assert_int_equal(azl_retry_status_code(409, "OperationNotAllowed"), AZL_EBUSY);
	assert_int_equal(azl_retry_status_code(409, "AnotherOperationInProgress"), AZL_EBUSY);
	assert_int_equal(azl_retry_status_code(409, "AlreadyExists"), AZL_ECONFLICT);
	assert_int_equal(azl_retry_status_code(409, NULL), AZL_ECONFLICT);
	assert_int_equal(azl_retry_status_code(410, "Expired"), AZL_EGONE);
	assert_int_equal(azl_retry_status_code(412, "PreconditionFailed"), AZL_ESTALE);
	assert_int_equal(azl_retry_status_code(429, NULL), AZL_ETHROTTLED);
	assert_int_equal(azl_retry_status_code(500, NULL), AZL_ESERVER);
	assert_int_equal(azl_retry_status_code(503, NULL), AZL_ESERVER);
	assert_int_equal(azl_retry_status_code(418, NULL), AZL_ERROR);
	assert_true(azl_retry_status_is_transient(429));
	assert_true(azl_retry_status_is_transient(503));
	assert_false(azl_retry_status_is_transient(501));
	assert_false(azl_retry_status_is_transient(409));
}

static void test_policy_attempts_and_backoff(void **state)
{
	struct tc_clock c = { 1000, 0, 0, 0, 0 };
	struct azl_retry *r = tc_policy(&c, 4, 60000, 100);
	struct azl_retry_state st;
	long wait, prev = 0;

	(void)state;
	azl_retry_begin(r, &st);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(azl_retry_next(r, &st, -1, &wait), 0);
		/* equal jitter: between half and all of 100 * 2^i, capped */
		assert_true(wait >= (50L << i) && wait <= (100L << i));
		assert_true(wait >= prev / 2);
		prev = wait;
	}
	/* the fourth failure is the last of four attempts */
	assert_int_equal(azl_retry_next(r, &st, -1, &wait), AZL_ETIMEOUT);
	assert_int_equal(st.attempts, 4);
	azl_retry_free(r);
}

static void test_policy_honours_retry_after_and_deadline(void **state)
{
	struct tc_clock c = { 0, 0, 0, 0, 0 };
	struct azl_retry *r = tc_policy(&c, 10, 10000, 100);
	struct azl_retry_state st;
	long wait;

	(void)state;
	azl_retry_begin(r, &st);
	/* above the backoff ceiling, still honoured */
	assert_int_equal(azl_retry_next(r, &st, 7000, &wait), 0);
	assert_int_equal(wait, 7000);
	assert_int_equal(azl_retry_wait(r, wait), 0);
	assert_int_equal(c.now, 7000);
	/* 7 s gone of 10: a 5 s Retry-After does not fit */
	assert_int_equal(azl_retry_next(r, &st, 5000, &wait), AZL_ETIMEOUT);
	assert_int_equal(wait, 0);
	/* and the largest value does not overflow the comparison */
	assert_int_equal(azl_retry_next(r, &st, LONG_MAX, &wait), AZL_ETIMEOUT);
	azl_retry_free(r);
}

static void test_policy_cancellation(void **state)
{
	struct tc_clock c = { 0, 0, 0, 0, 0 };
	struct azl_retry *r = tc_policy(&c, 10, 60000, 100);
	struct azl_retry_state st;
	long wait;

	(void)state;
	azl_retry_begin(r, &st);
	assert_false(azl_retry_cancelled(r));
	assert_int_equal(azl_retry_next(r, &st, 2000, &wait), 0);
	/* the sleeper raises the flag: the wait stops after one slice */
	c.cancel_on_sleep = 1;
	assert_int_equal(azl_retry_wait(r, 5000), AZL_ECANCELED);
	assert_non_null(strstr(azl_error_message(), "cancelled"));
	assert_true(azl_retry_cancelled(r));
	assert_int_equal(azl_retry_next(r, &st, -1, &wait), AZL_ECANCELED);
	azl_retry_free(r);
}

static int cancel_cb(void *data)
{
	return *(int *)data;
}

static void test_policy_cancel_callback_and_real_clock(void **state)
{
	struct azl_retry_options o = { 0 };
	struct azl_retry *r;
	int stop = 0;

	(void)state;
	o.cancelled = cancel_cb;
	o.cancel_data = &stop;
	assert_int_equal(azl_retry_new(&r, &o), 0);
	assert_int_equal(azl_retry_max_attempts(r), 5);
	assert_int_equal(azl_retry_budget_ms(r), 60000);
	assert_int_equal(azl_retry_wait(r, 1), 0);
	stop = 1;
	assert_int_equal(azl_retry_wait(r, 60000), AZL_ECANCELED);
	azl_retry_free(r);
	azl_retry_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_after_delta_seconds),
		cmocka_unit_test(test_retry_after_saturates),
		cmocka_unit_test(test_retry_after_http_date),
		cmocka_unit_test(test_status_map),
		cmocka_unit_test(test_policy_attempts_and_backoff),
		cmocka_unit_test(test_policy_honours_retry_after_and_deadline),
		cmocka_unit_test(test_policy_cancellation),
		cmocka_unit_test(test_policy_cancel_callback_and_real_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
