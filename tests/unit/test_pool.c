/* pool.c's agent pool model, the part the write path needs: the eTag a
 * PUT or DELETE sends back as If-Match (ARM puts it in properties). The
 * rules above the model are test_findings.c's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "pool.h"

static void parse(const char *json, struct azl_pool *p)
{
	cJSON *ap = cJSON_Parse(json);

	assert_non_null(ap);
	assert_int_equal(azl_pool_from_json(ap, p), 0);
	cJSON_Delete(ap);
}

static void test_etag_from_properties(void **state)
{
	struct azl_pool p;

	(void)state;
	parse("{\"name\":\"np1\",\"properties\":{\"eTag\":\"0b3c5f9e\",\"count\":3}}", &p);
	assert_string_equal(p.etag, "0b3c5f9e");
	azl_pool_release(&p);
	/* older api-versions sent none: "", never NULL */
	parse("{\"name\":\"np1\",\"properties\":{\"count\":3}}", &p);
	assert_string_equal(p.etag, "");
	azl_pool_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_etag_from_properties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
