/* Redaction of headers, URLs and bodies: secrets never survive, the rest
 * is kept byte for byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

#define SECRET "s3cr3t-VALUE"

static char *header(const char *line)
{
	struct strbuf out = STRBUF_INIT;

	azl_redact_header(&out, line);
	return strbuf_detach(&out, NULL);
}

static char *body(const char *text)
{
	struct strbuf out = STRBUF_INIT;

	azl_redact_body(&out, text, strlen(text));
	return strbuf_detach(&out, NULL);
}

static char *url(const char *text)
{
	struct strbuf out = STRBUF_INIT;

	azl_redact_url(&out, text);
	return strbuf_detach(&out, NULL);
}

#define EXPECT(fn, in, want) do { \
	char *got_ = fn(in); \
	assert_string_equal(got_, want); \
	assert_null(strstr(got_, "s3cr3t")); \
	free(got_); \
} while (0)

static void test_headers(void **state)
{
	(void)state;
	EXPECT(header, "Authorization: Bearer " SECRET,
	       "Authorization: Bearer <redacted>");
	EXPECT(header, "authorization:Basic " SECRET "\r\n",
	       "authorization: Basic <redacted>");
	EXPECT(header, "Authorization: " SECRET, "Authorization: <redacted>");
	EXPECT(header, "Proxy-Authorization: Basic " SECRET,
	       "Proxy-Authorization: Basic <redacted>");
	EXPECT(header, "x-ms-authorization-auxiliary: Bearer " SECRET ", Bearer " SECRET,
	       "x-ms-authorization-auxiliary: <redacted>");
	EXPECT(header, "X-IDENTITY-HEADER: " SECRET, "X-IDENTITY-HEADER: <redacted>");
	EXPECT(header, "Set-Cookie: session=" SECRET "; HttpOnly",
	       "Set-Cookie: <redacted>");
	EXPECT(header, "X-Api-Key: " SECRET, "X-Api-Key: <redacted>");
	EXPECT(header, "X-Refresh-Token: " SECRET, "X-Refresh-Token: <redacted>");
	/* ordinary headers pass untouched, CRLF dropped */
	EXPECT(header, "Accept: application/json\r\n", "Accept: application/json");
	EXPECT(header, "Content-Type: application/x-www-form-urlencoded",
	       "Content-Type: application/x-www-form-urlencoded");
	EXPECT(header, "HTTP/1.1 200 OK", "HTTP/1.1 200 OK");
}

static void test_json_bodies(void **state)
{
	(void)state;
	EXPECT(body,
	       "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"" SECRET "\","
	       "\"refresh_token\":\"" SECRET "\",\"id_token\":\"" SECRET "\"}",
	       "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"<redacted>\","
	       "\"refresh_token\":\"<redacted>\",\"id_token\":\"<redacted>\"}");
	/* formatting is kept; nesting at any depth; case-insensitive names */
	EXPECT(body,
	       "{\n    \"apiVersion\": \"client.authentication.k8s.io/v1\",\n"
	       "    \"status\": {\n        \"Token\" : \"" SECRET "\",\n"
	       "        \"clientKeyData\": \"-----BEGIN " SECRET "\"\n    }\n}",
	       "{\n    \"apiVersion\": \"client.authentication.k8s.io/v1\",\n"
	       "    \"status\": {\n        \"Token\" : \"<redacted>\",\n"
	       "        \"clientKeyData\": \"<redacted>\"\n    }\n}");
	/* arrays, non-string values, escaped quotes inside secrets */
	EXPECT(body,
	       "[{\"password\":12345},{\"client_secret\":\"a\\\"b" SECRET "\",\"n\":1}]",
	       "[{\"password\":\"<redacted>\"},{\"client_secret\":\"<redacted>\",\"n\":1}]");
	/* a secret member holding an object or array is redacted whole */
	EXPECT(body,
	       "{\"kubeconfigs\":[{\"name\":\"clusterUser\",\"value\":\"" SECRET "\"}],\"x\":true}",
	       "{\"kubeconfigs\":\"<redacted>\",\"x\":true}");
	/* escaped member names are recognised */
	EXPECT(body, "{\"access\\u005ftoken\":\"" SECRET "\"}",
	       "{\"access\\u005ftoken\":\"<redacted>\"}");
	/* a body truncated in the middle of a secret leaks nothing */
	EXPECT(body, "{\"access_token\":\"" SECRET,
	       "{\"access_token\":\"<redacted>\"");
	EXPECT(body, "{\"refresh_token\": {\"a\": \"" SECRET,
	       "{\"refresh_token\": \"<redacted>\"");
	/* a form or JSON document inside a string value is redacted too */
	EXPECT(body,
	       "{\"body\":\"grant_type=refresh_token&refresh_token=" SECRET "\",\"n\":\"a=b\"}",
	       "{\"body\":\"grant_type=refresh_token&refresh_token=<redacted>\",\"n\":\"a=b\"}");
	EXPECT(body,
	       "{\"info\":\"{\\\"status\\\":{\\\"token\\\":\\\"" SECRET "\\\"}}\\n\"}",
	       "{\"info\":\"{\\\"status\\\":{\\\"token\\\":\\\"<redacted>\\\"}}\\u000a\"}");
	/* values that merely look like secret names are kept */
	EXPECT(body, "{\"kind\":\"Status\",\"message\":\"token\",\"code\":401}",
	       "{\"kind\":\"Status\",\"message\":\"token\",\"code\":401}");
}

static void test_form_bodies(void **state)
{
	(void)state;
	EXPECT(body,
	       "grant_type=client_credentials&client_id=abc&client_secret=" SECRET
	       "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
	       "grant_type=client_credentials&client_id=abc&client_secret=<redacted>"
	       "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
	EXPECT(body,
	       "client_assertion_type=urn%3Aietf%3Aparams&client_assertion=" SECRET,
	       "client_assertion_type=urn%3Aietf%3Aparams&client_assertion=<redacted>");
	EXPECT(body, "grant_type=refresh_token&refresh_token=" SECRET "&client_id=x",
	       "grant_type=refresh_token&refresh_token=<redacted>&client_id=x");
	EXPECT(body, "device_code=" SECRET "&code=" SECRET,
	       "device_code=<redacted>&code=<redacted>");
	/* percent-encoded names do not slip through */
	EXPECT(body, "client%5Fsecret=" SECRET, "client%5Fsecret=<redacted>");
	EXPECT(body, "password=" SECRET, "password=<redacted>");
	EXPECT(body, "a=1&&b&c=", "a=1&&b&c=");
	EXPECT(body, "", "");
}

static void test_urls(void **state)
{
	(void)state;
	EXPECT(url, "https://h/api/v1/nodes?limit=500&continue=abc",
	       "https://h/api/v1/nodes?limit=500&continue=abc");
	EXPECT(url, "https://h/x?sig=" SECRET "&se=2024#frag",
	       "https://h/x?sig=<redacted>&se=2024#frag");
	EXPECT(url, "https://login/cb?code=" SECRET, "https://login/cb?code=<redacted>");
	EXPECT(url, "https://h/plain", "https://h/plain");
}

static void test_names(void **state)
{
	(void)state;
	assert_true(azl_redact_is_secret_name("access_token", 12));
	assert_true(azl_redact_is_secret_name("CLIENTKEYDATA", 13));
	assert_false(azl_redact_is_secret_name("token_type", 10));
	assert_false(azl_redact_is_secret_name("code", 4));
	/* only the first len bytes count */
	assert_true(azl_redact_is_secret_name("tokenizer", 5));
}

static void test_secret_wipe(void **state)
{
	struct strbuf sb = STRBUF_INIT, empty = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&sb, SECRET);
	azl_secret_wipe(&sb);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.alloc, 0);
	assert_string_equal(sb.buf, "");
	azl_secret_wipe(&empty);  /* never allocated: a no-op */
	assert_int_equal(empty.alloc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_json_bodies),
		cmocka_unit_test(test_form_bodies),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_secret_wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
