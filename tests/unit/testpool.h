/* Clusters and agent pools for the unit tests of the rules above the pool
 * model (findings, plan), parsed from ARM-shaped JSON by the real
 * azl_cluster_from_json and azl_pool_from_json. Include after cmocka.h. */
#ifndef AZL_TESTPOOL_H
#define AZL_TESTPOOL_H

#include <stdio.h>

#include "cluster.h"
#include "pool.h"

/* Cluster aks1 in rg1 of sub1, upgradeChannel stable. */
static inline void make_cluster(struct azl_cluster *c, const char *version, const char *current,
				const char *os_channel)
{
	char json[1024];
	cJSON *mc;

	snprintf(json, sizeof(json),
		 "{\"id\":\"/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1\","
		 "\"name\":\"aks1\",\"location\":\"eastus\",\"properties\":{\"kubernetesVersion\":\"%s\","
		 "\"currentKubernetesVersion\":\"%s\",\"fqdn\":\"aks1-abc.hcp.eastus.azmk8s.io\","
		 "\"autoUpgradeProfile\":{\"upgradeChannel\":\"stable\",\"nodeOSUpgradeChannel\":\"%s\"}}}",
		 version, current, os_channel);
	mc = cJSON_Parse(json);
	assert_non_null(mc);
	assert_int_equal(azl_cluster_from_json(mc, c), 0);
	cJSON_Delete(mc);
}

/* props is the inside of "properties", without braces. */
static inline void make_pool(struct azl_pool *p, const char *name, const char *props)
{
	char json[4096];
	cJSON *ap;

	snprintf(json, sizeof(json), "{\"name\":\"%s\",\"properties\":{%s}}", name, props);
	ap = cJSON_Parse(json);
	assert_non_null(ap);
	assert_int_equal(azl_pool_from_json(ap, p), 0);
	cJSON_Delete(ap);
}

#endif
