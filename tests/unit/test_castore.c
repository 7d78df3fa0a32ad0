/* The shared CA stores: a bundle is parsed once per (file, directory) and
 * the same store comes back; unreadable or empty bundles name the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "castore.h"
#include "error.h"
#include "testutil.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static void test_backend_is_openssl(void **state)
{
	(void)state;
	/* Debian's libcurl4-openssl-dev: the stores are used */
	assert_int_equal(azl_castore_usable(), 1);
}

static void test_same_store_for_same_bundle(void **state)
{
	struct azl_castore *cs;
	void *a = NULL, *b = NULL, *c = NULL;

	(void)state;
	if (access(SYSTEM_BUNDLE, R_OK))
		skip();
	assert_int_equal(azl_castore_new(&cs), 0);
	assert_int_equal(azl_castore_get(cs, SYSTEM_BUNDLE, NULL, &a), 0);
	assert_non_null(a);
	assert_int_equal(azl_castore_get(cs, SYSTEM_BUNDLE, NULL, &b), 0);
	assert_ptr_equal(a, b);
	/* another directory is another store */
	assert_int_equal(azl_castore_get(cs, SYSTEM_BUNDLE, "/etc/ssl/certs", &c), 0);
	assert_non_null(c);
	assert_ptr_not_equal(a, c);
	azl_castore_free(cs);
}

static void test_unreadable_or_empty_bundle_named(void **state)
{
	static const char junk[] = "not a certificate\n";
	struct azl_castore *cs;
	char *dir = tu_mkdtemp();
	char *path = tu_write_bytes(dir, "junk.pem", junk, sizeof(junk) - 1, 0600);
	void *st = (void *)1;

	(void)state;
	assert_int_equal(azl_castore_new(&cs), 0);
	assert_int_equal(azl_castore_get(cs, path, NULL, &st), AZL_EINVALID);
	assert_null(st);
	assert_non_null(strstr(azl_error_message(), path));
	unlink(path);
	assert_int_equal(azl_castore_get(cs, path, NULL, &st), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), path));
	/* a failure is not cached: once the file is fixed, it is used */
	if (!access(SYSTEM_BUNDLE, R_OK)) {
		assert_int_equal(symlink(SYSTEM_BUNDLE, path), 0);
		assert_int_equal(azl_castore_get(cs, path, NULL, &st), 0);
		assert_non_null(st);
		unlink(path);
	}
	azl_castore_free(cs);
	azl_error_clear();
	rmdir(dir);
	free(path);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_is_openssl),
		cmocka_unit_test(test_same_store_for_same_bundle),
		cmocka_unit_test(test_unreadable_or_empty_bundle_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
