/* Unit tests for core/num: numbers from outside read into a checked range,
 * and arithmetic that saturates instead of wrapping. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <string.h>

#include "error.h"
#include "num.h"

static void test_scan_strings(void **state)
{
	long v = 7;

	(void)state;
	assert_int_equal(azl_num_scan("42", 0, 100, &v), AZL_NUM_OK);
	assert_int_equal(v, 42);
	assert_int_equal(azl_num_scan("+5", 0, 100, &v), AZL_NUM_OK);
	assert_int_equal(v, 5);
	assert_int_equal(azl_num_scan("-7", -10, 10, &v), AZL_NUM_OK);
	assert_int_equal(v, -7);
	assert_int_equal(azl_num_scan("9223372036854775807", 0, LONG_MAX, &v), AZL_NUM_OK);
	assert_true(v == LONG_MAX);
	assert_int_equal(azl_num_scan("-9223372036854775808", LONG_MIN, 0, &v), AZL_NUM_OK);
	assert_true(v == LONG_MIN);
	v = 7;
	for (const char *const *s = (const char *const[]){ "", "-", "+", " 5", "5 ", "5s", "0x10",
							   "1e3", "1.5", "--1", NULL }; *s; s++) {
		assert_int_equal(azl_num_scan(*s, 0, 100, &v), AZL_NUM_NAN);
		assert_int_equal(v, 7);
	}
	assert_int_equal(azl_num_scan(NULL, 0, 100, &v), AZL_NUM_NAN);
}

static void test_scan_clamps_out_of_range_and_overflow(void **state)
{
	long v;

	(void)state;
	assert_int_equal(azl_num_scan("101", 0, 100, &v), AZL_NUM_CLAMPED);
	assert_int_equal(v, 100);
	assert_int_equal(azl_num_scan("-1", 0, 100, &v), AZL_NUM_CLAMPED);
	assert_int_equal(v, 0);
	assert_int_equal(azl_num_scan("9223372036854775808", 0, 100, &v), AZL_NUM_CLAMPED);
	assert_int_equal(v, 100);
	assert_int_equal(azl_num_scan("99999999999999999999999999", 0, LONG_MAX, &v), AZL_NUM_CLAMPED);
	assert_true(v == LONG_MAX);
	assert_int_equal(azl_num_scan("-99999999999999999999999999", -5, 5, &v), AZL_NUM_CLAMPED);
	assert_int_equal(v, -5);
}

static void test_scan_doubles(void **state)
{
	long v = 7;

	(void)state;
	assert_int_equal(azl_num_scan_double(3599, 0, 10000, &v), AZL_NUM_OK);
	assert_int_equal(v, 3599);
	assert_int_equal(azl_num_scan_double(3E59, 0, 10000, &v), AZL_NUM_CLAMPED);
	assert_int_equal(v, 10000);
	assert_int_equal(azl_num_scan_double(7e35, 0, LONG_MAX, &v), AZL_NUM_CLAMPED);
	assert_true(v == LONG_MAX);
	assert_int_equal(azl_num_scan_double(AZL_NUM_TWO63, LONG_MIN, LONG_MAX, &v), AZL_NUM_CLAMPED);
	assert_int_equal(azl_num_scan_double(-INFINITY, -3, 3, &v), AZL_NUM_CLAMPED);
	assert_int_equal(v, -3);
	v = 7;
	assert_int_equal(azl_num_scan_double(NAN, 0, 10, &v), AZL_NUM_NAN);
	assert_int_equal(azl_num_scan_double(1.5, 0, 10, &v), AZL_NUM_NAN);
	assert_int_equal(v, 7);
}

static void test_parse_names_field_and_range(void **state)
{
	long v = 0;

	(void)state;
	assert_int_equal(azl_num_parse("12", 0, 20, "interval", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(azl_num_parse("9223372036854775807", 0, 20, "interval", &v), AZL_EINVALID);
	assert_string_equal(azl_error_message(),
			    "interval \"9223372036854775807\" is not a whole number from 0 to 20");
	assert_int_equal(v, 12);
}

static void test_json_member(void **state)
{
	cJSON *o = cJSON_Parse("{\"n\":300,\"s\":\"3599\",\"big\":3E59,\"bigs\":\"9223372036854775807\","
			       "\"frac\":1.5,\"neg\":-1,\"z\":null,\"b\":true}");
	long v = 0;

	(void)state;
	assert_int_equal(azl_num_json_member(o, "n", 0, 1000, 5, &v), 0);
	assert_int_equal(v, 300);
	assert_int_equal(azl_num_json_member(o, "s", 0, 4000, 5, &v), 0);
	assert_int_equal(v, 3599);
	assert_int_equal(azl_num_json_member(o, "absent", 0, 1000, 5, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(azl_num_json_member(o, "z", 0, 1000, 6, &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(azl_num_json_member(NULL, "n", 0, 1000, 8, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(azl_num_json_member(o, "big", 0, 1000, 5, &v), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "big \"3e+59\""));
	assert_int_equal(azl_num_json_member(o, "bigs", 0, 1000, 5, &v), AZL_EINVALID);
	assert_int_equal(azl_num_json_member(o, "frac", 0, 1000, 5, &v), AZL_EINVALID);
	assert_int_equal(azl_num_json_member(o, "neg", 0, 1000, 5, &v), AZL_EINVALID);
	assert_int_equal(azl_num_json_member(o, "b", 0, 1000, 5, &v), AZL_EINVALID);
	assert_int_equal(v, 8);
	cJSON_Delete(o);
}

static void test_saturating_arithmetic(void **state)
{
	(void)state;
	assert_int_equal(azl_num_add(2, 3), 5);
	assert_true(azl_num_add(LONG_MAX - 1, 10) == LONG_MAX);
	assert_true(azl_num_add(LONG_MIN + 1, -10) == LONG_MIN);
	assert_int_equal(azl_num_mul(-4, 5), -20);
	assert_true(azl_num_mul(9223372036854776L, 1000) == LONG_MAX);
	assert_true(azl_num_mul(-9223372036854776L, 1000) == LONG_MIN);
	assert_true(azl_num_mul(LONG_MIN, -1) == LONG_MAX);
}

static void test_quantities(void **state)
{
	static const struct { const char *s; int milli; long v; } ok[] = {
		{ "250m", 1, 250 }, { "2", 1, 2000 }, { "1.5", 1, 1500 }, { "0.0005", 1, 1 },
		{ "100n", 1, 1 }, { "1k", 0, 1000 }, { "4Gi", 0, 4294967296L },
		{ "13421772Ki", 0, 13743894528L }, { "129e6", 0, 129000000 }, { "1E", 0,
		1000000000000000000L }, { "1e3", 0, 1000 }, { "+1Mi", 0, 1048576 },
		{ "1.5Gi", 0, 1610612736L }, { "0.1", 0, 1 }, { "0", 0, 0 }, { "12Ei", 0, LONG_MAX },
		{ "123456789012345678901234567890", 0, LONG_MAX },
		{ "1.0000000000000000000001", 0, 2 },
	};
	static const char *const bad[] = { "", "m", "1x", "-1", "1Gb", "1..2", ".", "1e", "Gi" };
	size_t i;
	long v;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		assert_int_equal(azl_num_quantity(ok[i].s, ok[i].milli, &v), AZL_NUM_OK);
		assert_int_equal(v, ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(azl_num_quantity(bad[i], 0, &v), AZL_NUM_NAN);
	assert_int_equal(azl_num_quantity(NULL, 0, &v), AZL_NUM_NAN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_strings),
		cmocka_unit_test(test_scan_clamps_out_of_range_and_overflow),
		cmocka_unit_test(test_scan_doubles),
		cmocka_unit_test(test_parse_names_field_and_range),
		cmocka_unit_test(test_json_member),
		cmocka_unit_test(test_saturating_arithmetic),
		cmocka_unit_test(test_quantities),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
