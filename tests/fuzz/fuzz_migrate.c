/* migrate.c's readers of what AKS and ARM send: the drain failure parsed
 * out of an operation's error message (any text), and a plan made from an
 * agent pool as ARM describes it (the input as its JSON). */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cluster.h"
#include "migrate.h"
#include "pool.h"

static void drain_failure(const uint8_t *data, size_t size)
{
	char *msg = malloc(size + 1);
	struct azl_drain_failure f;

	memcpy(msg, data, size);
	msg[size] = '\0';
	azl_migrate_parse_drain_failure(msg, &f);
	azl_drain_failure_release(&f);
	free(msg);
}

static void plan_of(const uint8_t *data, size_t size)
{
	struct azl_migrate_options o = AZL_MIGRATE_OPTIONS_INIT;
	cJSON *ap = cJSON_ParseWithLength((const char *)data, size);
	cJSON *mc = cJSON_Parse("{\"id\":\"/subscriptions/s/resourceGroups/g/providers/"
				"Microsoft.ContainerService/managedClusters/c\",\"name\":\"c\","
				"\"properties\":{\"kubernetesVersion\":\"1.32.6\","
				"\"provisioningState\":\"Succeeded\"}}");
	struct azl_cluster c = { 0 };
	struct azl_pool p = { 0 };
	struct azl_pool_list pools = { &p, 1, { NULL, 0 } };
	struct azl_migrate_plan plan;

	if (ap && !azl_cluster_from_json(mc, &c) && !azl_pool_from_json(ap, &p)) {
		if (!azl_migrate_plan_make(&c, &pools, p.name, &o, &plan))
			cJSON_Delete(azl_migrate_plan_data(&plan, &c));
		azl_migrate_plan_release(&plan);
		o.strategy = "side-by-side";
		if (!azl_migrate_plan_make(&c, &pools, p.name, &o, &plan))
			cJSON_Delete(azl_migrate_plan_data(&plan, &c));
		azl_migrate_plan_release(&plan);
	}
	azl_pool_release(&p);
	azl_cluster_release(&c);
	cJSON_Delete(ap);
	cJSON_Delete(mc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	drain_failure(data, size);
	plan_of(data, size);
	return 0;
}
