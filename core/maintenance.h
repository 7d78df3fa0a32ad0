/* AKS planned maintenance windows: a maintenance configuration's
 * maintenanceWindow (Microsoft.ContainerService managedClusters/
 * maintenanceConfigurations, api-version 2026-10-01) read into a schedule,
 * and when that schedule next opens.
 *
 * The window opens at startTime (HH:MM, local to utcOffset, "+00:00" when
 * absent) on each day the schedule names and stays open durationHours (4 to
 * 24). Schedules: daily every intervalDays (1-7), weekly on dayOfWeek every
 * intervalWeeks (1-4), absoluteMonthly on dayOfMonth (1-31; a month without
 * that day has no window) every intervalMonths (1-6), relativeMonthly on the
 * First..Fourth or Last dayOfWeek every intervalMonths (1-6). A window is
 * inactive before startDate, and none opens on a day of notAllowedDates
 * (local dates, both ends included). The intervals count from startDate (a
 * weekly one from the first dayOfWeek on or after it); with no startDate
 * the phase is not knowable, and every matching day is taken as a window,
 * which errs on the side of warning. */
#ifndef AZL_MAINTENANCE_H
#define AZL_MAINTENANCE_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

enum azl_maintenance_kind {
	AZL_MAINTENANCE_DAILY,
	AZL_MAINTENANCE_WEEKLY,
	AZL_MAINTENANCE_ABSOLUTE_MONTHLY,
	AZL_MAINTENANCE_RELATIVE_MONTHLY
};

struct azl_maintenance_span {
	long first_day, last_day;    /* local days since 1970-01-01, inclusive */
};

struct azl_maintenance_window {
	enum azl_maintenance_kind kind;
	int interval;                /* days, weeks or months */
	int day_of_week;             /* 0 Sunday .. 6 Saturday */
	int day_of_month;            /* absoluteMonthly */
	int week_index;              /* relativeMonthly: 1..4, 5 for Last */
	int start_minute;            /* local minutes after midnight */
	int utc_offset_minutes;      /* local = UTC + this */
	int duration_hours;
	long start_day;              /* startDate as a local day; -1 when absent */
	struct azl_maintenance_span *not_allowed;
	size_t nr_not_allowed;
};

/* Reads a maintenanceWindow object. AZL_EINVALID with one line naming the
 * field (maintenanceWindow.schedule.weekly.dayOfWeek ...) when it is missing
 * or out of the spec's range. */
int azl_maintenance_parse(const cJSON *window, struct azl_maintenance_window *out);
void azl_maintenance_release(struct azl_maintenance_window *w);

/* The window that is open at now, else the next to open: 0 with *start and
 * *end (UTC) set; AZL_ENOTFOUND when none opens within 400 days (every
 * matching day not allowed, or a dayOfMonth no month of that span has). */
int azl_maintenance_next(const struct azl_maintenance_window *w, time_t now, time_t *start,
			 time_t *end);

#endif
