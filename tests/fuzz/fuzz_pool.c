/* ARM agentPool objects (one, or a list's "value") and a managedCluster
 * into the pool and cluster models, then the findings on each pool. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cluster.h"
#include "findings.h"
#include "pool.h"

static void one_pool(const struct azl_cluster *c, const cJSON *ap)
{
	struct azl_pool pool;
	struct strbuf why = STRBUF_INIT;

	memset(&pool, 0, sizeof(pool));
	if (azl_pool_from_json(ap, &pool) == 0) {
		azl_findings_evaluate(c, &pool, &pool.findings);
		(void)azl_findings_worst(&pool.findings);
		azl_findings_migration_blockers(&pool, &why);
	}
	azl_pool_release(&pool);
	strbuf_release(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *ap;
	struct azl_cluster c;

	/* findings need a cluster: the input's, else a bare one */
	if (azl_cluster_from_json(doc, &c) < 0) {
		cJSON *bare = cJSON_Parse("{\"id\":\"/subscriptions/s/resourceGroups/g/providers/"
					  "Microsoft.ContainerService/managedClusters/n\"}");

		if (azl_cluster_from_json(bare, &c) < 0)
			abort();
		cJSON_Delete(bare);
	}
	one_pool(&c, doc);
	cJSON_ArrayForEach(ap, cJSON_GetObjectItemCaseSensitive(doc, "value"))
		one_pool(&c, ap);
	azl_cluster_release(&c);
	cJSON_Delete(doc);
	return 0;
}
