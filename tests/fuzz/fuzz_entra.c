/* Entra ID token endpoint answers: a token response, the OAuth error body
 * of every grant, and the id_token's claims. The first byte picks the
 * HTTP status (200, 400, 401, 500). */
#include "fuzz.h"

#include "auth_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 400, 401, 500 };
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct azl_token tok = AZL_TOKEN_INIT;
	struct strbuf who = STRBUF_INIT;

	if (fuzz_response(&resp, data, size, statuses, 4) < 0)
		return 0;
	azl_entra_parse_token(&resp, "fuzz sign-in", &tok);
	azl_jwt_principal(resp.body.buf, &who);
	azl_jwt_tenant(resp.body.buf, &who);
	azl_token_release(&tok);
	azl_http_response_release(&resp);
	strbuf_release(&who);
	return 0;
}
