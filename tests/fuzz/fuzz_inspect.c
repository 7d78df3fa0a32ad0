/* azl_pool_inspect() against scripted ARM answers (fuzz.h's HTTP double):
 * the managed cluster, its agent pools, the cluster's and every pool's
 * upgrade profile, then each pool's findings. */
#include "fuzz.h"

#include "arm.h"
#include "cluster.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azl_cluster_query q = { 0 };
	struct azl_cluster cluster = { 0 };
	struct azl_pool_list pools = { 0 };
	struct azl_arm *arm = NULL;

	fuzz_home();
	fuzz_arm_new(&arm);
	q.server = "https://aks-1.hcp.eastus.azmk8s.io:443";
	q.context = "c";
	q.subscription = "s";
	q.resource_group = "g";
	q.name = size && (data[0] & 1) ? "aks-1" : NULL;
	q.no_cache = 1;
	fuzz_http_script(data, size);
	azl_pool_inspect(arm, NULL, &q, NULL, 0, &cluster, &pools);
	azl_pool_list_release(&pools);
	azl_cluster_release(&cluster);
	azl_arm_free(arm);
	return 0;
}
