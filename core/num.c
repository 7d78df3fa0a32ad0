#include "num.h"

#include <limits.h>
#include <string.h>

#include "error.h"
#include "strbuf.h"

static int clamp(long v, long min, long max, long *out)
{
	if (v < min || v > max) {
		*out = v < min ? min : max;
		return AZL_NUM_CLAMPED;
	}
	*out = v;
	return AZL_NUM_OK;
}

int azl_num_scan(const char *s, long min, long max, long *out)
{
	const char *p = s ? s : "";
	int neg = *p == '-';
	long v = 0;
	int over = 0;

	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return AZL_NUM_NAN;
	for (; *p >= '0' && *p <= '9'; p++) {
		int d = *p - '0';

		/* accumulate negatively: -LONG_MIN does not fit */
		if (!over && (__builtin_mul_overflow(v, 10L, &v) ||
			      __builtin_sub_overflow(v, (long)d, &v)))
			over = 1;
	}
	if (*p)
		return AZL_NUM_NAN;
	if (over) {
		*out = neg ? min : max;
		return AZL_NUM_CLAMPED;
	}
	if (!neg && v == LONG_MIN) {
		*out = max;
		return AZL_NUM_CLAMPED;
	}
	return clamp(neg ? v : -v, min, max, out);
}

int azl_num_scan_double(double v, long min, long max, long *out)
{
	if (v != v)
		return AZL_NUM_NAN;
	/* range first: converting an out-of-range double is undefined; past
	 * 2^53 every double is whole, infinities included */
	if (v >= AZL_NUM_TWO63 || v < -AZL_NUM_TWO63) {
		*out = v < 0 ? min : max;
		return AZL_NUM_CLAMPED;
	}
	if ((double)(long)v != v)
		return AZL_NUM_NAN;
	return clamp((long)v, min, max, out);
}

static int invalid(const char *what, const char *text, long min, long max)
{
	return azl_error_set(AZL_EINVALID, "%s \"%.40s\" is not a whole number from %ld to %ld",
			     what, text, min, max);
}

int azl_num_parse(const char *s, long min, long max, const char *what, long *out)
{
	long v;

	if (azl_num_scan(s, min, max, &v) != AZL_NUM_OK)
		return invalid(what, s ? s : "", min, max);
	*out = v;
	return 0;
}

int azl_num_json_member(const cJSON *obj, const char *name, long min, long max,
			long def, long *out)
{
	const cJSON *item = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
	struct strbuf text = STRBUF_INIT;
	long v;
	int rc;

	if (!item || cJSON_IsNull(item)) {
		*out = def;
		return 0;
	}
	if (cJSON_IsString(item))
		return azl_num_parse(item->valuestring, min, max, name, out);
	if (cJSON_IsNumber(item) && azl_num_scan_double(item->valuedouble, min, max, &v) == AZL_NUM_OK) {
		*out = v;
		return 0;
	}
	if (cJSON_IsNumber(item))
		strbuf_addf(&text, "%g", item->valuedouble);
	else
		strbuf_addstr(&text, "(not a number)");
	rc = invalid(name, text.buf, min, max);
	strbuf_release(&text);
	return rc;
}

long azl_num_add(long a, long b)
{
	long r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? LONG_MAX : LONG_MIN;
	return r;
}

long azl_num_mul(long a, long b)
{
	long r;

	if (__builtin_mul_overflow(a, b, &r))
		return (a < 0) != (b < 0) ? LONG_MIN : LONG_MAX;
	return r;
}
