/* An ARM long-running operation: its handle as the journal keeps it (read
 * back with azl_lro_from_json, written again, polled), and the status and
 * result answers of a poll (fuzz.h's HTTP double: Azure-AsyncOperation
 * bodies, Location answers, Retry-After, provisioning states). The input
 * is a handle line, then the HTTP script. */
#include "fuzz.h"

#include <string.h>

#include "lro.h"

static const char handle[] =
	"{\"kind\":\"agentPools.createOrUpdate\",\"method\":\"PUT\","
	"\"resource\":\"/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/"
	"managedClusters/a/agentPools/p\",\"statusUrl\":\"https://management.azure.com/subscriptions/"
	"s/providers/Microsoft.ContainerService/locations/eastus/operations/1\","
	"\"statusVia\":\"azure-async-operation\",\"finalStateVia\":\"azure-async-operation\","
	"\"status\":\"InProgress\"}";

static void poll_twice(struct azl_lro *lro, struct azl_arm *arm)
{
	cJSON *again;

	for (int i = 0; i < 2 && !azl_lro_done(lro); i++)
		if (azl_lro_poll(lro, arm, NULL))
			break;
	(void)azl_lro_status(lro);
	(void)azl_lro_percent(lro);
	(void)azl_lro_error(lro);
	(void)azl_lro_result(lro);
	(void)azl_lro_etag(lro);
	again = azl_lro_to_json(lro);
	cJSON_Delete(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) : size;
	struct strbuf line = STRBUF_INIT;
	struct azl_arm *arm = NULL;
	struct azl_lro *lro = NULL;
	cJSON *json;

	fuzz_arm_new(&arm);
	/* the journal's handle, from the input */
	fuzz_str(&line, data, first);
	json = cJSON_Parse(line.buf);
	if (json && azl_lro_from_json(&lro, json) == 0) {
		fuzz_http_script(nl ? nl + 1 : data + size, nl ? size - first - 1 : 0);
		poll_twice(lro, arm);
		azl_lro_free(lro);
		lro = NULL;
	}
	cJSON_Delete(json);
	/* a good handle, polled against the whole input as answers */
	json = cJSON_Parse(handle);
	if (!json || azl_lro_from_json(&lro, json))
		__builtin_trap();
	fuzz_http_script(data, size);
	poll_twice(lro, arm);
	azl_lro_free(lro);
	cJSON_Delete(json);
	strbuf_release(&line);
	azl_arm_free(arm);
	return 0;
}
