/* Findings: what is wrong with, or could be better about, a node pool,
 * each with a stable code, a severity and a message that names the exact
 * next step (shared/reference/aks-api.md §1.4-§1.7). Shared by `pools`
 * (the FINDINGS column) and `check`. The decisions (target SKU, in place or
 * side by side, the new pool, versions) are plan.h's; a finding renders a
 * plan's next step, and its `az` command, in words.
 *
 * Codes (stable; scripts match on them):
 *   AzureLinux2Retired          error    Azure Linux 2.0 is out of support and
 *                                        its images are gone: it cannot scale
 *   AzureLinux3PinBlocksUpgrade error    osSku AzureLinux3 on (or upgrading to)
 *                               warning  1.37+ / with 1.37+ available
 *   ProvisioningFailed          error    the pool's last operation failed
 *   NodesNotReady               warning  nodes not Ready or not registered
 *   NodeImageUpgradeAvailable   warning  a newer node image exists (info when
 *                                        the NodeImage channel applies it)
 *   KubernetesUpgradeAvailable  warning  pool behind the control plane,
 *                               info     else a newer version is available
 *   UbuntuCanMigrate            info     in-place migration possible, or what
 *                                        blocks it and the side-by-side way
 *   GPUPool                     info     GPU pools need their drivers checked */
#ifndef AZL_FINDINGS_H
#define AZL_FINDINGS_H

#include <stddef.h>

#include "finding.h"
#include "strbuf.h"

struct azl_cluster;
struct azl_pool;
struct azl_pool_list;
struct azl_pool_names;

#define AZL_FINDING_AZURE_LINUX2_RETIRED "AzureLinux2Retired"
#define AZL_FINDING_AZURE_LINUX3_PIN "AzureLinux3PinBlocksUpgrade"
#define AZL_FINDING_PROVISIONING_FAILED "ProvisioningFailed"
#define AZL_FINDING_NODES_NOT_READY "NodesNotReady"
#define AZL_FINDING_NODE_IMAGE_UPGRADE "NodeImageUpgradeAvailable"
#define AZL_FINDING_KUBERNETES_UPGRADE "KubernetesUpgradeAvailable"
#define AZL_FINDING_UBUNTU_CAN_MIGRATE "UbuntuCanMigrate"
#define AZL_FINDING_GPU_POOL "GPUPool"

/* Appends the pool's findings to out, most severe first. */
void azl_findings_evaluate(const struct azl_cluster *cluster, const struct azl_pool *pool,
			   struct azl_finding_list *out);
/* The same, knowing the names of the cluster's pools (taken, may be
 * NULL): a side-by-side pool's name is one none of them has. */
void azl_findings_evaluate_among(const struct azl_cluster *cluster, const struct azl_pool *pool,
				 const struct azl_pool_names *taken, struct azl_finding_list *out);
/* Every pool's findings, into its findings member. */
void azl_findings_evaluate_pools(const struct azl_cluster *cluster, struct azl_pool_list *pools);

/* The highest severity in list; -1 when it is empty. */
int azl_findings_worst(const struct azl_finding_list *list);

/* What stops an in-place OS SKU migration of pool to Azure Linux
 * (tutorial-migrate-azure-linux-aks limitations): 0 when nothing does,
 * else the number of blockers, listed comma-separated in why. */
int azl_findings_migration_blockers(const struct azl_pool *pool, struct strbuf *why);

#endif
