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

/* The suffixes of a resource.Quantity: 2^exp (binary SI) or 10^exp
 * (decimal SI); "" is a plain number. */
static const struct {
	const char *suffix;
	int exp2, exp10;
} quantity_suffixes[] = {
	{ "Ki", 10, 0 }, { "Mi", 20, 0 }, { "Gi", 30, 0 }, { "Ti", 40, 0 }, { "Pi", 50, 0 },
	{ "Ei", 60, 0 }, { "n", 0, -9 }, { "u", 0, -6 }, { "m", 0, -3 }, { "", 0, 0 },
	{ "k", 0, 3 }, { "M", 0, 6 }, { "G", 0, 9 }, { "T", 0, 12 }, { "P", 0, 15 },
	{ "E", 0, 18 },
};

/* The suffix at s: 0 with its powers, or AZL_NUM_NAN. */
static int quantity_suffix(const char *s, int *exp2, int *exp10)
{
	long e;
	size_t i;

	if ((*s == 'e' || *s == 'E') && azl_num_scan(s + 1, -64, 64, &e) == AZL_NUM_OK &&
	    s[1] != '+') {
		*exp10 += (int)e;
		return 0;
	}
	for (i = 0; i < sizeof(quantity_suffixes) / sizeof(quantity_suffixes[0]); i++)
		if (!strcmp(s, quantity_suffixes[i].suffix)) {
			*exp2 = quantity_suffixes[i].exp2;
			*exp10 += quantity_suffixes[i].exp10;
			return 0;
		}
	return AZL_NUM_NAN;
}

/* ceil(v * 10^exp10), saturated; sticky: digits were dropped after v. */
static long scale10(long v, int exp10, int sticky)
{
	long div = 1, q;
	int i;

	for (i = 0; i < exp10 && v < LONG_MAX; i++)
		v = azl_num_mul(v, 10);
	if (exp10 >= 0)
		return v;
	if (-exp10 > 18)
		return v || sticky;
	for (i = 0; i < -exp10; i++)
		div *= 10;
	q = v / div;
	return q + (v % div || sticky);
}

int azl_num_quantity(const char *s, int milli, long *out)
{
	const char *p = s ? s : "";
	long mant = 0;
	int exp2 = 0, exp10 = milli ? 3 : 0, digits = 0, sticky = 0, frac = 0;

	if (*p == '+')
		p++;
	for (; (*p >= '0' && *p <= '9') || (*p == '.' && !frac); p++) {
		long next;

		if (*p == '.') {
			frac = 1;
			continue;
		}
		digits++;
		if (__builtin_mul_overflow(mant, 10L, &next) ||
		    __builtin_add_overflow(next, (long)(*p - '0'), &next)) {
			/* too many digits: the whole part scales, the rest rounds up */
			exp10 += !frac;
			sticky |= *p != '0';
			continue;
		}
		mant = next;
		exp10 -= frac;
	}
	if (!digits || quantity_suffix(p, &exp2, &exp10))
		return AZL_NUM_NAN;
	*out = scale10(azl_num_mul(mant, 1L << exp2), exp10, sticky);
	return AZL_NUM_OK;
}
