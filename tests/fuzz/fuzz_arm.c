/* The ARM client against scripted answers (fuzz.h's HTTP double): GET,
 * paged lists (nextLink), concurrent GETs, ARM error bodies, Retry-After
 * and the retry budget, 401 and a fresh token. */
#include "fuzz.h"

#include "arm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/a",
		"/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/b",
	};
	struct azl_arm_result res[2] = { AZL_ARM_RESULT_INIT, AZL_ARM_RESULT_INIT };
	struct azl_arm *arm = NULL;
	cJSON *out = NULL;

	fuzz_arm_new(&arm);
	fuzz_http_script(data, size);
	if (azl_arm_get(arm, paths[0], &out) == 0)
		cJSON_Delete(out);
	out = NULL;
	if (azl_arm_list(arm, "/subscriptions/s/providers/Microsoft.ContainerService/managedClusters",
			 &out) == 0)
		cJSON_Delete(out);
	azl_arm_get_many(arm, paths, 2, res);
	azl_arm_result_release(&res[0]);
	azl_arm_result_release(&res[1]);
	azl_arm_free(arm);
	return 0;
}
