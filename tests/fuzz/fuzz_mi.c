/* Managed identity answers, IMDS and App Service alike: a token (numbers
 * as strings), or an error body. First byte picks 200, 400, 404 or 500. */
#include "fuzz.h"

#include "auth_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 404, 500 };
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct azl_token tok = AZL_TOKEN_INIT;

	if (fuzz_response(&resp, data, size, statuses, 4) < 0)
		return 0;
	azl_mi_parse(&resp, "http://169.254.169.254", &tok);
	azl_token_release(&tok);
	azl_http_response_release(&resp);
	return 0;
}
