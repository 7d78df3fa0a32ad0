/* Unit tests for the token responses core/auth_*.c parse (Entra ID, managed
 * identity, device code, the Azure CLI): numbers a server sends are read
 * into a checked range, never cast or added unchecked (issue 17). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "auth_internal.h"
#include "error.h"

static struct azl_http_response response(long status, const char *body)
{
	struct azl_http_response r = AZL_HTTP_RESPONSE_INIT;

	r.status = status;
	strbuf_addstr(&r.body, body);
	return r;
}

static int entra(const char *body, struct azl_token *tok)
{
	struct azl_http_response r = response(200, body);
	int rc = azl_entra_parse_token(&r, "test sign-in", tok);

	azl_http_response_release(&r);
	return rc;
}

static void test_entra_expiry(void **state)
{
	struct azl_token tok = AZL_TOKEN_INIT;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(entra("{\"access_token\":\"a\",\"expires_in\":3599}", &tok), 0);
	assert_true(tok.expires_on >= now + 3599 && tok.expires_on <= time(NULL) + 3599);
	assert_int_equal(entra("{\"access_token\":\"a\",\"expires_in\":\"3599\"}", &tok), 0);
	assert_true(tok.expires_on >= now + 3599 && tok.expires_on <= time(NULL) + 3599);
	assert_int_equal(entra("{\"access_token\":\"a\",\"expires_on\":1900000000}", &tok), 0);
	assert_true(tok.expires_on == 1900000000);
	azl_token_release(&tok);
}

/* Defect 4: (long)3E59 is undefined behaviour. */
static void test_entra_huge_float_expiry_is_rejected(void **state)
{
	struct azl_token tok = AZL_TOKEN_INIT;

	(void)state;
	assert_int_equal(entra("{\"access_token\":\"a\",\"expires_in\":3E59}", &tok), AZL_EINVALID);
	assert_string_equal(azl_error_message(),
			    "test sign-in: Entra ID's token response: expires_in \"3e+59\" is not a whole number from 0 to 315360000");
	assert_int_equal(entra("{\"access_token\":\"a\",\"expires_on\":3E59}", &tok), AZL_EINVALID);
	assert_null(strstr(azl_error_message(), "\"a\""));
	azl_token_release(&tok);
}

/* Defect 6: time(NULL) + 9223372036854775807 wrapped negative. */
static void test_entra_huge_string_expiry_is_rejected(void **state)
{
	struct azl_token tok = AZL_TOKEN_INIT;

	(void)state;
	assert_int_equal(entra("{\"access_token\":\"a\",\"expires_in\":\"9223372036854775807\"}", &tok),
			 AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "expires_in \"9223372036854775807\""));
	assert_true(tok.expires_on >= 0);
	azl_token_release(&tok);
}

static const char *entra_error(const char *body)
{
	struct azl_http_response r = response(400, body);
	struct strbuf code = STRBUF_INIT;

	assert_int_equal(azl_entra_error(&r, "test sign-in", &code), AZL_EAUTH);
	strbuf_release(&code);
	azl_http_response_release(&r);
	return azl_error_message();
}

/* Defect 5: (long)7e35 in the error link. */
static void test_entra_error_code_out_of_range(void **state)
{
	(void)state;
	assert_non_null(strstr(entra_error("{\"error\":\"x\",\"error_codes\":[50126]}"),
			       "; see https://login.microsoftonline.com/error?code=50126"));
	assert_string_equal(entra_error("{\"error\":\"x\",\"error_codes\":[7e35]}"),
			    "test sign-in: Entra ID returned x");
	assert_string_equal(entra_error("{\"error\":\"x\",\"error_codes\":[-3]}"),
			    "test sign-in: Entra ID returned x");
}

/* Defect 6 for managed identity, which sends its numbers as strings. */
static void test_managed_identity_expiry(void **state)
{
	struct azl_token tok = AZL_TOKEN_INIT;
	struct azl_http_response r = response(200,
		"{\"access_token\":\"a\",\"expires_on\":\"1900000000\",\"client_id\":\"c\"}");

	(void)state;
	assert_int_equal(azl_mi_parse(&r, "http://imds", &tok), 0);
	assert_true(tok.expires_on == 1900000000);
	assert_string_equal(tok.principal, "c");
	strbuf_reset(&r.body);
	strbuf_addstr(&r.body, "{\"access_token\":\"a\",\"expires_in\":\"9223372036854775807\"}");
	assert_int_equal(azl_mi_parse(&r, "http://imds", &tok), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), "managed identity (http://imds): expires_in"));
	azl_http_response_release(&r);
	azl_token_release(&tok);
}

static int device_code(const char *body, struct azl_device_code *dc)
{
	struct azl_http_response r = response(200, body);
	int rc = azl_devicecode_parse(&r, dc);

	azl_http_response_release(&r);
	return rc;
}

/* Defects 6 and 7: interval * 1000 overflowed to a negative sleep, and
 * time(NULL) + expires_in wrapped. */
static void test_device_code_numbers(void **state)
{
	struct azl_device_code dc = AZL_DEVICE_CODE_INIT;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(device_code("{\"device_code\":\"d\",\"user_code\":\"U\","
				     "\"verification_uri\":\"https://v\"}", &dc), 0);
	assert_int_equal(dc.interval, 5);
	assert_true(dc.deadline >= now + 900 && dc.deadline <= time(NULL) + 900);
	assert_non_null(strstr(dc.message.buf, "https://v"));
	assert_int_equal(device_code("{\"device_code\":\"d\",\"interval\":\"2\",\"expires_in\":60,"
				     "\"message\":\"M\"}", &dc), 0);
	assert_int_equal(dc.interval, 2);
	assert_string_equal(dc.message.buf, "M");
	assert_int_equal(device_code("{\"device_code\":\"d\",\"interval\":9223372036854776}", &dc),
			 AZL_EINVALID);
	assert_string_equal(azl_error_message(),
			    "device code sign-in: Entra ID's answer: interval \"9.22337e+15\" is not a whole number from 0 to 600");
	assert_int_equal(device_code("{\"device_code\":\"d\",\"expires_in\":\"9223372036854775807\"}", &dc),
			 AZL_EINVALID);
	assert_int_equal(device_code("{\"interval\":5}", &dc), AZL_EAUTH);
	azl_device_code_release(&dc);
}

static void test_azure_cli_expiry(void **state)
{
	struct azl_token tok = AZL_TOKEN_INIT;
	struct strbuf out = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&out, "{\"accessToken\":\"a\",\"expires_on\":1900000000}");
	assert_int_equal(azl_azcli_parse(&out, &tok), 0);
	assert_true(tok.expires_on == 1900000000);
	strbuf_reset(&out);
	strbuf_addstr(&out, "{\"accessToken\":\"a\",\"expires_on\":3E59}");
	assert_int_equal(azl_azcli_parse(&out, &tok), AZL_EINVALID);
	strbuf_release(&out);
	azl_token_release(&tok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entra_expiry),
		cmocka_unit_test(test_entra_huge_float_expiry_is_rejected),
		cmocka_unit_test(test_entra_huge_string_expiry_is_rejected),
		cmocka_unit_test(test_entra_error_code_out_of_range),
		cmocka_unit_test(test_managed_identity_expiry),
		cmocka_unit_test(test_device_code_numbers),
		cmocka_unit_test(test_azure_cli_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
