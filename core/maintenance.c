/* Planned maintenance schedules (maintenance.h). Dates are counted as
 * days since 1970-01-01 with Howard Hinnant's civil-calendar arithmetic,
 * so no time zone or locale of this machine takes part. */
#include "maintenance.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "json.h"
#include "num.h"
#include "strbuf.h"
#include "wrapper.h"

#define SEARCH_DAYS 400
#define REQUIRED LONG_MIN

static const char *const week_days[] = { "Sunday", "Monday", "Tuesday", "Wednesday",
					 "Thursday", "Friday", "Saturday" };
static const char *const week_indexes[] = { "First", "Second", "Third", "Fourth", "Last" };

/* ---- the calendar ---- */

static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

static int weekday(long day)
{
	long w = (day + 4) % 7;             /* 1970-01-01 was a Thursday */

	return (int)(w < 0 ? w + 7 : w);
}

static long days_in_month(long y, long m)
{
	return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) -
	       days_from_civil(y, m, 1);
}

static long floor_div(long a, long b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ---- reading ---- */

static int bad(const char *field, const char *what)
{
	return azl_error_set(AZL_EINVALID, "maintenanceWindow.%s: %s", field, what);
}

static int number(const cJSON *obj, const char *field, const char *name, long min, long max,
		  long def, int *out)
{
	long v;
	struct strbuf sb = STRBUF_INIT;
	int rc;

	if (azl_num_json_member(obj, name, min, max, def, &v) || v == REQUIRED) {
		strbuf_addf(&sb, "%s%s%s", field, *field ? "." : "", name);
		rc = azl_error_set(AZL_EINVALID, "maintenanceWindow.%s: want a whole number from %ld to %ld",
				   sb.buf, min, max);
		strbuf_release(&sb);
		return rc;
	}
	*out = (int)v;
	return 0;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(names[i], s))
			return (int)i;
	return -1;
}

static int day_of_week(const cJSON *obj, const char *field, int *out)
{
	*out = name_index(week_days, 7, azl_json_str(obj, "dayOfWeek", ""));
	return *out < 0 ? azl_error_set(AZL_EINVALID,
					"maintenanceWindow.%s.dayOfWeek: want Sunday..Saturday", field)
			: 0;
}

/* "YYYY-MM-DD" as a day number. */
static int parse_date(const char *s, long *day)
{
	int y, m, d, end = 0;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &end) != 3 || s[end] || end != 10 || m < 1 ||
	    m > 12 || d < 1 || d > days_in_month(y, m))
		return AZL_EINVALID;
	*day = days_from_civil(y, m, d);
	return 0;
}

/* "+HH:MM" / "-HH:MM" (the spec's utcOffset: no "Z", hours up to 14). */
static int parse_offset(const char *s, int *minutes)
{
	long seconds;

	if (*s == 'Z' || *s == 'z' || azl_parse_utc_offset(s, &seconds) || labs(seconds) / 3600 > 14)
		return AZL_EINVALID;
	*minutes = (int)(seconds / 60);
	return 0;
}

static int parse_time(const char *s, int *minute)
{
	int h, m, end = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &end) != 2 || s[end] || end != 5 || h > 23 || m > 59)
		return AZL_EINVALID;
	*minute = h * 60 + m;
	return 0;
}

static int parse_schedule(const cJSON *sched, struct azl_maintenance_window *w)
{
	const cJSON *daily = cJSON_GetObjectItemCaseSensitive(sched, "daily");
	const cJSON *weekly = cJSON_GetObjectItemCaseSensitive(sched, "weekly");
	const cJSON *absm = cJSON_GetObjectItemCaseSensitive(sched, "absoluteMonthly");
	const cJSON *relm = cJSON_GetObjectItemCaseSensitive(sched, "relativeMonthly");

	if (cJSON_IsObject(daily) + cJSON_IsObject(weekly) + cJSON_IsObject(absm) +
	    cJSON_IsObject(relm) != 1)
		return bad("schedule", "want exactly one of daily, weekly, absoluteMonthly, relativeMonthly");
	if (cJSON_IsObject(daily)) {
		w->kind = AZL_MAINTENANCE_DAILY;
		return number(daily, "schedule.daily", "intervalDays", 1, 7, REQUIRED, &w->interval);
	}
	if (cJSON_IsObject(weekly)) {
		w->kind = AZL_MAINTENANCE_WEEKLY;
		return number(weekly, "schedule.weekly", "intervalWeeks", 1, 4, REQUIRED, &w->interval) ||
		       day_of_week(weekly, "schedule.weekly", &w->day_of_week) ? AZL_EINVALID : 0;
	}
	if (cJSON_IsObject(absm)) {
		w->kind = AZL_MAINTENANCE_ABSOLUTE_MONTHLY;
		return number(absm, "schedule.absoluteMonthly", "intervalMonths", 1, 6, REQUIRED,
			      &w->interval) ||
		       number(absm, "schedule.absoluteMonthly", "dayOfMonth", 1, 31, REQUIRED,
			      &w->day_of_month) ? AZL_EINVALID : 0;
	}
	w->kind = AZL_MAINTENANCE_RELATIVE_MONTHLY;
	w->week_index = 1 + name_index(week_indexes, 5, azl_json_str(relm, "weekIndex", ""));
	if (!w->week_index)
		return bad("schedule.relativeMonthly.weekIndex", "want First, Second, Third, Fourth or Last");
	return number(relm, "schedule.relativeMonthly", "intervalMonths", 1, 6, REQUIRED,
		      &w->interval) ||
	       day_of_week(relm, "schedule.relativeMonthly", &w->day_of_week) ? AZL_EINVALID : 0;
}

static int parse_not_allowed(const cJSON *spans, struct azl_maintenance_window *w)
{
	const cJSON *it;
	int n = cJSON_GetArraySize(spans), i = 0;

	if (n <= 0)
		return 0;
	w->not_allowed = xcalloc((size_t)n, sizeof(*w->not_allowed));
	cJSON_ArrayForEach(it, spans) {
		struct azl_maintenance_span *sp = &w->not_allowed[i++];

		if (parse_date(azl_json_str(it, "start", ""), &sp->first_day) ||
		    parse_date(azl_json_str(it, "end", ""), &sp->last_day))
			return bad("notAllowedDates", "want start and end dates as YYYY-MM-DD");
		w->nr_not_allowed++;
	}
	return 0;
}

int azl_maintenance_parse(const cJSON *window, struct azl_maintenance_window *out)
{
	const char *start_date = azl_json_str(window, "startDate", "");
	int rc;

	memset(out, 0, sizeof(*out));
	out->start_day = -1;
	if (!cJSON_IsObject(window))
		return azl_error_set(AZL_EINVALID, "maintenanceWindow: want an object");
	rc = parse_schedule(cJSON_GetObjectItemCaseSensitive(window, "schedule"), out);
	if (!rc)
		rc = number(window, "", "durationHours", 4, 24, 24, &out->duration_hours);
	if (!rc && parse_time(azl_json_str(window, "startTime", ""), &out->start_minute))
		rc = bad("startTime", "want HH:MM");
	if (!rc && parse_offset(azl_json_str(window, "utcOffset", "+00:00"), &out->utc_offset_minutes))
		rc = bad("utcOffset", "want +HH:MM or -HH:MM");
	if (!rc && *start_date && parse_date(start_date, &out->start_day))
		rc = bad("startDate", "want YYYY-MM-DD");
	if (!rc)
		rc = parse_not_allowed(cJSON_GetObjectItemCaseSensitive(window, "notAllowedDates"), out);
	if (rc)
		azl_maintenance_release(out);
	return rc;
}

void azl_maintenance_release(struct azl_maintenance_window *w)
{
	if (!w)
		return;
	free(w->not_allowed);
	w->not_allowed = NULL;
	w->nr_not_allowed = 0;
}

/* ---- the schedule ---- */

static long month_number(long day)
{
	long y, m, d;

	civil_from_days(day, &y, &m, &d);
	return y * 12 + m - 1;
}

/* Whether the interval, counted from startDate, falls on day; with no
 * startDate every matching day may be one (maintenance.h). */
static int in_phase(const struct azl_maintenance_window *w, long day)
{
	long anchor = w->start_day;

	if (w->start_day < 0)
		return 1;
	switch (w->kind) {
	case AZL_MAINTENANCE_DAILY:
		return (day - anchor) % w->interval == 0;
	case AZL_MAINTENANCE_WEEKLY:
		anchor += (w->day_of_week - weekday(anchor) + 7) % 7;
		return ((day - anchor) / 7) % w->interval == 0;
	default:
		return (month_number(day) - month_number(anchor)) % w->interval == 0;
	}
}

static int matches(const struct azl_maintenance_window *w, long day)
{
	long y, m, d;

	civil_from_days(day, &y, &m, &d);
	switch (w->kind) {
	case AZL_MAINTENANCE_DAILY:
		return 1;
	case AZL_MAINTENANCE_WEEKLY:
		return weekday(day) == w->day_of_week;
	case AZL_MAINTENANCE_ABSOLUTE_MONTHLY:
		return d == w->day_of_month;
	default:
		if (weekday(day) != w->day_of_week)
			return 0;
		return w->week_index == 5 ? d + 7 > days_in_month(y, m)
					  : (d - 1) / 7 + 1 == w->week_index;
	}
}

static int allowed(const struct azl_maintenance_window *w, long day)
{
	for (size_t i = 0; i < w->nr_not_allowed; i++)
		if (day >= w->not_allowed[i].first_day && day <= w->not_allowed[i].last_day)
			return 0;
	return 1;
}

int azl_maintenance_next(const struct azl_maintenance_window *w, time_t now, time_t *start,
			 time_t *end)
{
	long offset_s = (long)w->utc_offset_minutes * 60;
	/* yesterday's window may still be open: durationHours is at most 24 */
	long today = floor_div((long)now + offset_s, 86400);

	for (long day = today - 1; day <= today + SEARCH_DAYS; day++) {
		long open = day * 86400 + (long)w->start_minute * 60 - offset_s;
		long close = open + (long)w->duration_hours * 3600;

		if (day < w->start_day || close <= (long)now || !matches(w, day) ||
		    !in_phase(w, day) || !allowed(w, day))
			continue;
		*start = (time_t)open;
		*end = (time_t)close;
		return 0;
	}
	return azl_error_set(AZL_ENOTFOUND, "the maintenance window opens on no day of the next %d",
			     SEARCH_DAYS);
}
