/* Which cluster a context is: a managed cluster's fqdn against a server
 * URL, a providerID's subscription, and the Azure CLI's azureProfile.json.
 * The input is split at its first NUL: text before, JSON after. */
#include "fuzz.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "cluster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	const char *json = nul ? (const char *)nul + 1 : "";
	size_t jlen = nul ? size - tlen - 1 : 0;
	cJSON *mc = cJSON_ParseWithLength(json, jlen);

	fuzz_str(&text, data, tlen);
	if (azl_cluster_server_host(text.buf, &out) == 0) {
		(void)azl_cluster_json_matches(mc, out.buf);
		(void)azl_cluster_host_matches(out.buf, text.buf);
	}
	strbuf_reset(&out);
	azl_provider_id_subscription(text.buf, &out);
	strbuf_reset(&out);
	azl_azure_profile_default(json, jlen, tlen ? text.buf : NULL, &out);
	strbuf_reset(&out);
	azl_azure_profile_default((const char *)data, size, "AzureCloud", &out);
	cJSON_Delete(mc);
	strbuf_release(&text);
	strbuf_release(&out);
	return 0;
}
