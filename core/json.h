/* Small cJSON helpers: read a value by dotted path with a default, so
 * callers never walk nested objects by hand.
 *
 * A path is a list of member names separated by '.', e.g.
 * "status.nodeInfo.osImage". Member names that themselves contain dots
 * (label keys such as "kubernetes.azure.com/agentpool") are read with the
 * azl_json_member_*() variants on the parent object. */
#ifndef AZL_JSON_H
#define AZL_JSON_H

#include <time.h>

#include <cjson/cJSON.h>

/* The item at path, or NULL when any step is missing or not an object. */
const cJSON *azl_json_path(const cJSON *obj, const char *path);

/* The string at path, or def when it is missing or not a string. */
const char *azl_json_str(const cJSON *obj, const char *path, const char *def);
/* The boolean at path (JSON true/false), or def. */
int azl_json_bool(const cJSON *obj, const char *path, int def);
/* The integer at path (a JSON number without fraction), or def. */
long azl_json_int(const cJSON *obj, const char *path, long def);

/* The string member named key (taken literally) of obj, or def. */
const char *azl_json_member_str(const cJSON *obj, const char *key,
				const char *def);

/* Adds key: value to obj, or key: null when value is NULL or "", so that
 * scripts reading -o json can test for a missing value. */
void azl_json_add_str_or_null(cJSON *obj, const char *key, const char *value);

/* cJSON_PrintUnformatted(item) (cJSON_Print() when formatted) that cannot
 * fail: cJSON returns NULL only when out of memory, which aborts as in
 * wrapper.h. Free the result with free(). */
char *azl_json_print(const cJSON *item, int formatted);

/* Parses an RFC 3339 timestamp ("2024-05-01T10:00:00Z",
 * "2018-03-05T17:30:20-08:00", fractional seconds allowed) into UTC epoch
 * seconds. Returns 0, or AZL_EINVALID naming the text. */
int azl_parse_rfc3339(const char *s, time_t *out);
/* Parses "[+-]hh:mm" or "Z" into seconds east of UTC; -1 when it is not one. */
int azl_parse_utc_offset(const char *s, long *offset);
/* Writes t as RFC 3339 UTC ("2026-12-06T07:00:00Z", 20 characters and the
 * NUL) into buf of n bytes. */
void azl_format_rfc3339(time_t t, char *buf, size_t n);

#endif
