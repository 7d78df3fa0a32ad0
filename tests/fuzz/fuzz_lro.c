/* lro.c against scripted answers (fuzz.h's HTTP double), on a fake clock:
 * the answer that begins a PUT (its Azure-AsyncOperation, Location,
 * Retry-After and body), the status resource's or Location's answers, the
 * final GET, and an abort. The input also goes to azl_lro_from_json, the
 * journal's copy of an operation. */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "arm.h"
#include "lro.h"
#include "retry.h"

static long fake_ms;

static long now_ms(void *data)
{
	(void)data;
	return fake_ms;
}

static void sleep_ms(void *data, long ms)
{
	(void)data;
	fake_ms += ms;
}

static void from_json(const uint8_t *data, size_t size)
{
	cJSON *json = cJSON_ParseWithLength((const char *)data, size);
	struct azl_lro *lro = NULL;

	if (json && azl_lro_from_json(&lro, json) == 0)
		cJSON_Delete(azl_lro_to_json(lro));
	azl_lro_free(lro);
	cJSON_Delete(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azl_retry_options ro = { 0 };
	struct azl_lro_wait_options wo = { 0 };
	struct azl_arm_request req = { 0 };
	struct azl_arm *arm = NULL;
	struct azl_lro *lro = NULL;
	cJSON *body = cJSON_Parse("{\"properties\":{\"osSKU\":\"AzureLinux\"}}");

	from_json(data, size);
	ro.max_attempts = 2;
	ro.budget_ms = 6L * 3600L * 1000L;   /* simulated: costs nothing */
	ro.now_ms = now_ms;
	ro.sleep_ms = sleep_ms;
	azl_retry_new(&wo.retry, &ro);
	fuzz_arm_new(&arm);
	fuzz_http_script(data, size);
	req.method = "PUT";
	req.path = "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/"
		   "managedClusters/c/agentPools/np1";
	req.body = body;
	req.if_match = "\"e1\"";
	req.retry = wo.retry;
	if (azl_lro_begin(&lro, arm, &req, "fuzz", AZL_LRO_FINAL_ASYNC_OPERATION) == 0) {
		cJSON_Delete(azl_lro_to_json(lro));
		if (azl_lro_wait(lro, arm, &wo) != 0)
			(void)azl_lro_abort(lro, arm);
		(void)azl_lro_result(lro);
	}
	azl_lro_free(lro);
	azl_arm_free(arm);
	azl_retry_free(wo.retry);
	cJSON_Delete(body);
	return 0;
}
