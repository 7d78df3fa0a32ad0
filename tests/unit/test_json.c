/* Unit tests for core/json's builders: azl_json_add_str_or_null. (The
 * caches' "right version, else empty" is statefile's: test_statefile.c.) */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_str_or_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
