#include "json.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "num.h"
#include "wrapper.h"

/* The member of obj named by the len bytes at name, compared in place so
 * a path step needs no copy. */
static const cJSON *member(const cJSON *obj, const char *name, size_t len)
{
	const cJSON *child;

	if (!cJSON_IsObject(obj))
		return NULL;
	for (child = obj->child; child; child = child->next)
		if (child->string && strlen(child->string) == len &&
		    !memcmp(child->string, name, len))
			return child;
	return NULL;
}

const cJSON *azl_json_path(const cJSON *obj, const char *path)
{
	const char *p = path;

	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);

		obj = member(obj, p, len);
		p += len + (dot ? 1 : 0);
	}
	return obj;
}

const char *azl_json_str(const cJSON *obj, const char *path, const char *def)
{
	const cJSON *item = azl_json_path(obj, path);

	return cJSON_IsString(item) && item->valuestring ? item->valuestring : def;
}

int azl_json_bool(const cJSON *obj, const char *path, int def)
{
	const cJSON *item = azl_json_path(obj, path);

	return cJSON_IsBool(item) ? cJSON_IsTrue(item) : def;
}

long azl_json_int(const cJSON *obj, const char *path, long def)
{
	const cJSON *item = azl_json_path(obj, path);
	long v;

	if (!cJSON_IsNumber(item) ||
	    azl_num_scan_double(item->valuedouble, LONG_MIN, LONG_MAX, &v) != AZL_NUM_OK)
		return def;
	return v;
}

const char *azl_json_member_str(const cJSON *obj, const char *key,
				const char *def)
{
	const cJSON *item;

	if (!cJSON_IsObject(obj))
		return def;
	item = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(item) && item->valuestring ? item->valuestring : def;
}

/* Reads exactly n digits; -1 when they are not all there. */
static int read_digits(const char **p, int n)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
	}
	return v;
}

static int expect(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -1;
	(*p)++;
	return 0;
}

int azl_parse_utc_offset(const char *p, long *offset)
{
	int sign, hh, mm;

	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		*offset = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	hh = read_digits(&p, 2);
	if (hh < 0 || expect(&p, ":") < 0)
		return -1;
	mm = read_digits(&p, 2);
	if (mm < 0 || *p || hh > 23 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600L + mm * 60L);
	return 0;
}

void azl_json_add_str_or_null(cJSON *obj, const char *key, const char *value)
{
	if (value && *value)
		cJSON_AddStringToObject(obj, key, value);
	else
		cJSON_AddNullToObject(obj, key);
}

char *azl_json_print(const cJSON *item, int formatted)
{
	return xcheck_alloc(formatted ? cJSON_Print(item) : cJSON_PrintUnformatted(item));
}

void azl_format_rfc3339(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int azl_parse_rfc3339(const char *s, time_t *out)
{
	const char *p = s ? s : "";
	struct tm tm = { 0 };
	long offset;

	tm.tm_year = read_digits(&p, 4) - 1900;
	if (tm.tm_year < -1 || expect(&p, "-") < 0 ||
	    (tm.tm_mon = read_digits(&p, 2) - 1) < 0 || expect(&p, "-") < 0 ||
	    (tm.tm_mday = read_digits(&p, 2)) < 0 || expect(&p, "Tt ") < 0 ||
	    (tm.tm_hour = read_digits(&p, 2)) < 0 || expect(&p, ":") < 0 ||
	    (tm.tm_min = read_digits(&p, 2)) < 0 || expect(&p, ":") < 0 ||
	    (tm.tm_sec = read_digits(&p, 2)) < 0)
		goto invalid;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 ||
	    azl_parse_utc_offset(p, &offset) < 0)
		goto invalid;
	*out = timegm(&tm) - offset;
	return 0;
invalid:
	return azl_error_set(AZL_EINVALID,
			     "invalid timestamp \"%s\": expected RFC 3339, e.g. 2024-05-01T10:00:00Z",
			     s ? s : "");
}
