/* Numbers that come from outside (a server's JSON or headers, a cache
 * file, the environment): each is read here, once, into a range the caller
 * names, and never cast or multiplied unchecked. A double that is NaN,
 * infinite, fractional or out of range, a string with anything but an
 * optional sign and decimal digits, or one that overflows, is not a number.
 * Arithmetic on such numbers saturates instead of wrapping. */
#ifndef AZL_NUM_H
#define AZL_NUM_H

#include <cjson/cJSON.h>

/* Ranges the callers share. */
#define AZL_NUM_MAX_EPOCH 253402300799L    /* 9999-12-31T23:59:59Z */
#define AZL_NUM_MAX_LIFETIME_S 315360000L  /* ten years, for expires_in */
/* 2^63: the least double no long holds */
#define AZL_NUM_TWO63 9223372036854775808.0

/* What azl_num_scan*() found. */
enum azl_num_scan {
	AZL_NUM_OK = 0,       /* *out is the number */
	AZL_NUM_CLAMPED = 1,  /* a number outside [min, max]: *out is the bound */
	AZL_NUM_NAN = -1      /* not a whole number: *out untouched */
};

/* The whole decimal number s ("42", "+42", "-7"; nothing before or after
 * the digits). Never sets an error. */
int azl_num_scan(const char *s, long min, long max, long *out);
/* The same for a double (a cJSON number). */
int azl_num_scan_double(double v, long min, long max, long *out);

/* 0 and *out when s is a whole number in [min, max]; otherwise
 * AZL_EINVALID naming what ("expires_in") and the range. */
int azl_num_parse(const char *s, long min, long max, const char *what, long *out);

/* The member name of obj, a JSON number or a numeric string (as managed
 * identity and some IdPs send them), into [min, max]: 0 and *out (def when
 * the member is absent or null), or AZL_EINVALID naming it. */
int azl_num_json_member(const cJSON *obj, const char *name, long min, long max,
			long def, long *out);

/* A Kubernetes resource.Quantity ("250m", "2", "1.5", "4Gi", "128974848",
 * "129e6", "1k") in whole units, or with milli in thousandths of one (CPU
 * in millicores), rounded up as the API server rounds a request;
 * saturated at LONG_MAX. AZL_NUM_NAN for anything else, and for a negative
 * quantity (no request is). */
int azl_num_quantity(const char *s, int milli, long *out);

/* a + b and a * b, saturated at LONG_MIN / LONG_MAX. */
long azl_num_add(long a, long b);
long azl_num_mul(long a, long b);

#endif
