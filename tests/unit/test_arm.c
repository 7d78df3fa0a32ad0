/* Unit tests for core/arm's Retry-After parser: delta seconds and HTTP
 * dates into milliseconds, saturated rather than overflowed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "arm.h"

/* RFC 9111 §1.2.2: a delta-seconds past 2^31 means 2^31. */
#define MAX_MS (2147483648L * 1000L)

static void test_retry_after_delta_seconds(void **state)
{
	(void)state;
	assert_int_equal(azl_arm_parse_retry_after("0"), 0);
	assert_int_equal(azl_arm_parse_retry_after("7"), 7000);
	assert_int_equal(azl_arm_parse_retry_after(NULL), -1);
	assert_int_equal(azl_arm_parse_retry_after(""), -1);
	assert_int_equal(azl_arm_parse_retry_after("-5"), -1);
	assert_int_equal(azl_arm_parse_retry_after("5s"), -1);
	assert_int_equal(azl_arm_parse_retry_after(" 5"), -1);
}

/* Issue 17 defects 2 and 3: secs * 1000 overflowed (9223372036854776), or
 * came so near LONG_MAX (9223372036854775) that the deadline arithmetic
 * wrapped and the client waited for ever. */
static void test_retry_after_huge_delta_saturates(void **state)
{
	(void)state;
	assert_true(azl_arm_parse_retry_after("9223372036854776") == MAX_MS);
	assert_true(azl_arm_parse_retry_after("9223372036854775") == MAX_MS);
	assert_true(azl_arm_parse_retry_after("99999999999999999999999999999") == MAX_MS);
	assert_true(azl_arm_parse_retry_after("2147483648") == MAX_MS);
	assert_true(azl_arm_parse_retry_after("2147483647") == 2147483647000L);
}

static void test_retry_after_http_date(void **state)
{
	char value[64];
	time_t soon = time(NULL) + 3600;
	long ms;

	(void)state;
	strftime(value, sizeof(value), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&soon));
	ms = azl_arm_parse_retry_after(value);
	assert_true(ms > 3590000 && ms <= 3600000);
	assert_int_equal(azl_arm_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
	assert_int_equal(azl_arm_parse_retry_after("Wed, 21 Oct 2015 07:28:00 UTC"), -1);
	assert_int_equal(azl_arm_parse_retry_after("Wed, 21 Foo 2015 07:28:00 GMT"), -1);
	assert_int_equal(azl_arm_parse_retry_after("Wed, 21 Oct 2015 25:28:00 GMT"), -1);
}

/* Issue 17 defect 2: tm_year - 1900 and (when - now) * 1000 overflowed. */
static void test_retry_after_extreme_years(void **state)
{
	(void)state;
	assert_int_equal(azl_arm_parse_retry_after("Wed, 21 Oct -2147483648 07:28:00 GMT"), -1);
	assert_int_equal(azl_arm_parse_retry_after("Wed, 21 Oct 2147483647 07:28:00 GMT"), -1);
	assert_int_equal(azl_arm_parse_retry_after("Wed, 21 Oct 0000 07:28:00 GMT"), -1);
	assert_true(azl_arm_parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT") == MAX_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_after_delta_seconds),
		cmocka_unit_test(test_retry_after_huge_delta_saturates),
		cmocka_unit_test(test_retry_after_http_date),
		cmocka_unit_test(test_retry_after_extreme_years),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
