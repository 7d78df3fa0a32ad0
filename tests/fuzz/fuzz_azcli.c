/* What 'az account get-access-token -o json' prints: expires_on, or an
 * older CLI's local expiresOn. */
#include "fuzz.h"

#include "auth_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azl_token tok = AZL_TOKEN_INIT;
	struct strbuf out = STRBUF_INIT;

	fuzz_str(&out, data, size);
	azl_azcli_parse(&out, &tok);
	azl_token_release(&tok);
	strbuf_release(&out);
	return 0;
}
