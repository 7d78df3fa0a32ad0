/* maintenance.c: reading a maintenanceWindow (the spec's ranges, one line
 * naming the field) and when each kind of schedule next opens, in UTC,
 * against a given clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "error.h"
#include "json.h"
#include "maintenance.h"
#include "retry.h"

/* "YYYY-MM-DDTHH:MM:SSZ" as a time. */
static time_t at(const char *rfc3339)
{
	time_t t = 0;

	assert_int_equal(azl_parse_rfc3339(rfc3339, &t), 0);
	return t;
}

/* The next window of the maintenanceWindow JSON at now: "start/end". */
static void next_of(const char *json, const char *now, char *out, size_t n)
{
	cJSON *j = cJSON_Parse(json);
	struct azl_maintenance_window w;
	time_t s, e;
	char a[32], b[32];

	assert_non_null(j);
	assert_int_equal(azl_maintenance_parse(j, &w), 0);
	if (azl_maintenance_next(&w, at(now), &s, &e)) {
		snprintf(out, n, "none");
	} else {
		azl_format_rfc3339(s, a, sizeof(a));
		azl_format_rfc3339(e, b, sizeof(b));
		snprintf(out, n, "%s/%s", a, b);
	}
	azl_maintenance_release(&w);
	cJSON_Delete(j);
}

#define assert_next(json, now, want) do { \
		char got_[80]; \
		next_of(json, now, got_, sizeof(got_)); \
		assert_string_equal(got_, want); \
	} while (0)

static void test_weekly_local_offset(void **state)
{
	(void)state;
	/* 2026-12-02 is a Wednesday; Sunday 02:00 at -05:00 is 07:00 UTC */
	assert_next("{\"schedule\":{\"weekly\":{\"intervalWeeks\":1,\"dayOfWeek\":\"Sunday\"}},"
		    "\"durationHours\":4,\"utcOffset\":\"-05:00\",\"startTime\":\"02:00\"}",
		    "2026-12-02T04:00:00Z", "2026-12-06T07:00:00Z/2026-12-06T11:00:00Z");
	/* +05:30: 01:00 on Dec 3 local is 19:30 UTC on Dec 2, open at 20:00 */
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		    "\"utcOffset\":\"+05:30\",\"startTime\":\"01:00\"}",
		    "2026-12-02T20:00:00Z", "2026-12-02T19:30:00Z/2026-12-02T23:30:00Z");
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		    "\"utcOffset\":\"+05:30\",\"startTime\":\"01:00\"}",
		    "2026-12-02T23:30:00Z", "2026-12-03T19:30:00Z/2026-12-03T23:30:00Z");
}

static void test_open_now_and_since_yesterday(void **state)
{
	(void)state;
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		    "\"startTime\":\"03:00\"}",
		    "2026-12-02T04:00:00Z", "2026-12-02T03:00:00Z/2026-12-02T07:00:00Z");
	/* opened 22:00 yesterday, eight hours long */
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":8,"
		    "\"utcOffset\":\"+00:00\",\"startTime\":\"22:00\"}",
		    "2026-12-02T02:00:00Z", "2026-12-01T22:00:00Z/2026-12-02T06:00:00Z");
	/* the end is not open any more */
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		    "\"startTime\":\"03:00\"}",
		    "2026-12-02T07:00:00Z", "2026-12-03T03:00:00Z/2026-12-03T07:00:00Z");
}

static void test_intervals_from_start_date(void **state)
{
	(void)state;
	/* every 3 days from Dec 1: Dec 4 */
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":3}},\"durationHours\":4,"
		    "\"startDate\":\"2026-12-01\",\"startTime\":\"10:00\"}",
		    "2026-12-02T00:00:00Z", "2026-12-04T10:00:00Z/2026-12-04T14:00:00Z");
	/* every 2 weeks on Sunday from Tue Dec 1: Dec 6, then Dec 20 */
	assert_next("{\"schedule\":{\"weekly\":{\"intervalWeeks\":2,\"dayOfWeek\":\"Sunday\"}},"
		    "\"durationHours\":4,\"startDate\":\"2026-12-01\",\"startTime\":\"00:00\"}",
		    "2026-12-07T00:00:00Z", "2026-12-20T00:00:00Z/2026-12-20T04:00:00Z");
	/* inactive before its startDate */
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		    "\"startDate\":\"2027-01-10\",\"startTime\":\"05:00\"}",
		    "2026-12-02T00:00:00Z", "2027-01-10T05:00:00Z/2027-01-10T09:00:00Z");
	/* every 3 months on the 15th from January: April */
	assert_next("{\"schedule\":{\"absoluteMonthly\":{\"intervalMonths\":3,\"dayOfMonth\":15}},"
		    "\"durationHours\":5,\"utcOffset\":\"+00:00\",\"startDate\":\"2027-01-01\","
		    "\"startTime\":\"08:30\"}",
		    "2027-01-16T00:00:00Z", "2027-04-15T08:30:00Z/2027-04-15T13:30:00Z");
}

static void test_monthly(void **state)
{
	(void)state;
	/* April has no 31st */
	assert_next("{\"schedule\":{\"absoluteMonthly\":{\"intervalMonths\":1,\"dayOfMonth\":31}},"
		    "\"durationHours\":4,\"startTime\":\"01:00\"}",
		    "2027-04-01T00:00:00Z", "2027-05-31T01:00:00Z/2027-05-31T05:00:00Z");
	/* the last Friday of December 2026 is the 25th */
	assert_next("{\"schedule\":{\"relativeMonthly\":{\"intervalMonths\":1,\"weekIndex\":\"Last\","
		    "\"dayOfWeek\":\"Friday\"}},\"durationHours\":6,\"startTime\":\"20:00\"}",
		    "2026-12-02T00:00:00Z", "2026-12-25T20:00:00Z/2026-12-26T02:00:00Z");
	/* the second Tuesday of January 2027 is the 12th */
	assert_next("{\"schedule\":{\"relativeMonthly\":{\"intervalMonths\":1,\"weekIndex\":\"Second\","
		    "\"dayOfWeek\":\"Tuesday\"}},\"durationHours\":4,\"startTime\":\"00:00\"}",
		    "2026-12-09T00:00:00Z", "2027-01-12T00:00:00Z/2027-01-12T04:00:00Z");
}

static void test_not_allowed_dates(void **state)
{
	(void)state;
	assert_next("{\"schedule\":{\"weekly\":{\"intervalWeeks\":1,\"dayOfWeek\":\"Sunday\"}},"
		    "\"durationHours\":4,\"startTime\":\"02:00\",\"notAllowedDates\":"
		    "[{\"start\":\"2026-12-05\",\"end\":\"2026-12-06\"}]}",
		    "2026-12-02T00:00:00Z", "2026-12-13T02:00:00Z/2026-12-13T06:00:00Z");
	assert_next("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		    "\"startTime\":\"02:00\",\"notAllowedDates\":"
		    "[{\"start\":\"2026-01-01\",\"end\":\"2028-12-31\"}]}",
		    "2026-12-02T00:00:00Z", "none");
}

static void expect_invalid(const char *json, const char *field)
{
	cJSON *j = cJSON_Parse(json);
	struct azl_maintenance_window w;

	assert_non_null(j);
	assert_int_equal(azl_maintenance_parse(j, &w), AZL_EINVALID);
	if (!strstr(azl_error_message(), field))
		fail_msg("message \"%s\" does not name %s", azl_error_message(), field);
	azl_maintenance_release(&w);
	cJSON_Delete(j);
}

static void test_parse_errors(void **state)
{
	(void)state;
	expect_invalid("{\"durationHours\":4,\"startTime\":\"02:00\"}", "maintenanceWindow.schedule");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1},\"weekly\":{\"intervalWeeks\":1,"
		       "\"dayOfWeek\":\"Sunday\"}},\"durationHours\":4,\"startTime\":\"02:00\"}",
		       "exactly one");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":8}},\"durationHours\":4,"
		       "\"startTime\":\"02:00\"}", "schedule.daily.intervalDays");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":2,"
		       "\"startTime\":\"02:00\"}", "durationHours");
	expect_invalid("{\"schedule\":{\"weekly\":{\"intervalWeeks\":1,\"dayOfWeek\":\"Sun\"}},"
		       "\"durationHours\":4,\"startTime\":\"02:00\"}", "schedule.weekly.dayOfWeek");
	expect_invalid("{\"schedule\":{\"relativeMonthly\":{\"intervalMonths\":1,\"weekIndex\":\"Fifth\","
		       "\"dayOfWeek\":\"Monday\"}},\"durationHours\":4,\"startTime\":\"02:00\"}",
		       "weekIndex");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		       "\"startTime\":\"2:00\"}", "startTime");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		       "\"startTime\":\"02:00\",\"utcOffset\":\"0530\"}", "utcOffset");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		       "\"startTime\":\"02:00\",\"utcOffset\":\"Z\"}", "utcOffset");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		       "\"startTime\":\"02:00\",\"utcOffset\":\"+15:00\"}", "utcOffset");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		       "\"startTime\":\"02:00\",\"startDate\":\"2026-02-30\"}", "startDate");
	expect_invalid("{\"schedule\":{\"daily\":{\"intervalDays\":1}},\"durationHours\":4,"
		       "\"startTime\":\"02:00\",\"notAllowedDates\":[{\"start\":\"x\"}]}",
		       "notAllowedDates");
	azl_maintenance_release(NULL);
}

static void test_http_date(void **state)
{
	time_t t;

	(void)state;
	assert_int_equal(azl_retry_http_date("Wed, 02 Dec 2026 04:00:00 GMT", &t), 0);
	assert_int_equal(t, at("2026-12-02T04:00:00Z"));
	assert_int_equal(azl_retry_http_date("Wed, 02 Dec 2026 04:00:00 UTC", &t), AZL_EINVALID);
	assert_int_equal(azl_retry_http_date(NULL, &t), AZL_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly_local_offset),
		cmocka_unit_test(test_open_now_and_since_yesterday),
		cmocka_unit_test(test_intervals_from_start_date),
		cmocka_unit_test(test_monthly),
		cmocka_unit_test(test_not_allowed_dates),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_http_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
