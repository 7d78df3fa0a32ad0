/* Unit tests for core/json's builders: azl_json_add_str_or_null and
 * azl_json_versioned (the caches' "right version, else empty"). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json.h"

static void test_add_str_or_null(void **state)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	(void)state;
	azl_json_add_str_or_null(o, "a", "x");
	azl_json_add_str_or_null(o, "b", "");
	azl_json_add_str_or_null(o, "c", NULL);
	s = azl_json_print(o, 0);
	assert_string_equal(s, "{\"a\":\"x\",\"b\":null,\"c\":null}");
	free(s);
	cJSON_Delete(o);
}

static void test_versioned_keeps_a_matching_document(void **state)
{
	cJSON *doc = cJSON_Parse("{\"version\":2,\"entries\":[{\"k\":1}]}");
	cJSON *got;

	(void)state;
	got = azl_json_versioned(doc, 2, "entries", "test cache");
	assert_ptr_equal(got, doc);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(got, "entries")), 1);
	cJSON_Delete(got);
}

static void test_versioned_replaces_anything_else(void **state)
{
	const char *const bad[] = {
		"{\"version\":1,\"entries\":[{\"k\":1}]}",   /* another release */
		"{\"version\":2,\"entries\":{}}",            /* not an array */
		"{\"version\":\"2\",\"entries\":[]}",        /* not a number */
		"[1,2]",
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *got = azl_json_versioned(cJSON_Parse(bad[i]), 2, "entries", "test cache");

		s = azl_json_print(got, 0);
		assert_string_equal(s, "{\"version\":2,\"entries\":[]}");
		free(s);
		cJSON_Delete(got);
	}
}

/* No file at all (NULL) reads as empty too. */
static void test_versioned_from_nothing(void **state)
{
	cJSON *got = azl_json_versioned(NULL, 1, "clusters", "test cache");
	char *s = azl_json_print(got, 0);

	(void)state;
	assert_string_equal(s, "{\"version\":1,\"clusters\":[]}");
	free(s);
	cJSON_Delete(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_str_or_null),
		cmocka_unit_test(test_versioned_keeps_a_matching_document),
		cmocka_unit_test(test_versioned_replaces_anything_else),
		cmocka_unit_test(test_versioned_from_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
