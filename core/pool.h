/* The node pool model: ARM agent pools, their upgrade profiles and the
 * cluster's upgrade profile and available versions, merged with the
 * Kubernetes nodes labelled kubernetes.azure.com/agentpool, with the OS
 * detected by osinfo.h. The findings member is filled by findings.h
 * (azl_findings_evaluate_pools), above this module.
 *
 * ARM and Kubernetes are read concurrently: the node list on its own
 * thread (with its own client) while the ARM requests run in parallel. */
#ifndef AZL_POOL_H
#define AZL_POOL_H

#include <stddef.h>

#include "arm.h"
#include "cluster.h"
#include "finding.h"
#include "kube.h"
#include "osinfo.h"

struct azl_pool {
	char *name;
	char *etag;                 /* properties.eTag, for If-Match on a write; "" when none */
	char *mode;                 /* System, User, Gateway */
	char *os_type;              /* Linux, Windows */
	char *os_sku;               /* "" when ARM leaves it out */
	struct azl_os_info os;
	char *vm_size;
	long count;                 /* ARM's count */
	long nodes;                 /* Kubernetes nodes of the pool */
	long ready_nodes;
	char **not_ready;           /* names of nodes that are not Ready */
	size_t nr_not_ready;
	char *kubernetes_version;   /* currentOrchestratorVersion, else orchestratorVersion */
	char *node_image_version;
	char *latest_node_image_version; /* "" when unknown */
	char *provisioning_state;
	char *provisioning_error;   /* status.provisioningError.message, or "" */
	char *power_state;          /* Running, Stopped */
	int gpu;
	int autoscaling;
	long min_count, max_count;  /* -1 when not autoscaling */
	char *zones;                /* "1,2,3", or "" */
	char *max_surge;            /* "" when ARM leaves it out */
	char *workload_runtime;     /* "" unless set (OCIContainer, KataVmIsolation...) */
	char *security_type;        /* securityProfile.securityType, or "" */
	int gpu_dedicated_vhd;
	char **upgrades;            /* newer Kubernetes versions, oldest first */
	size_t nr_upgrades;
	cJSON *properties;          /* ARM's properties of the pool, as read (plan.h
	                             * copies them into a side-by-side pool's spec) */
	struct azl_finding_list findings;
};

/* Pool names of a cluster. */
struct azl_pool_names {
	char **items;
	size_t nr;
};

struct azl_pool_list {
	struct azl_pool *items;     /* sorted by name */
	size_t nr;
	struct azl_pool_names names; /* every pool of the cluster, loaded or not */
};

/* Finds the cluster behind q (cluster.h) and loads its pools (all, or
 * only those named, in which case an unknown name is AZL_ENOTFOUND) and
 * fills cluster->upgrades; findings are left to findings.h. kube (may be
 * NULL: no node counts) is used on another thread while this one talks to
 * ARM. With the cluster's id in the
 * resolution cache, ARM is asked in two waves: the pool list with the
 * cluster (its check) and its profiles, then every pool's profile. On
 * failure cluster may be partly filled: release it either way. */
int azl_pool_inspect(struct azl_arm *arm, struct azl_kube *kube,
		     const struct azl_cluster_query *q, const char *const *names,
		     size_t nr_names, struct azl_cluster *cluster, struct azl_pool_list *out);

/* The same for a cluster already resolved (azl_cluster_resolve()): its
 * pools and cluster->upgrades, without resolving it again. */
int azl_pool_load(struct azl_arm *arm, struct azl_kube *kube, struct azl_cluster *cluster,
		  const char *const *names, size_t nr_names, struct azl_pool_list *out);
void azl_pool_list_release(struct azl_pool_list *list);

/* Builds one pool from an ARM agentPool object (no nodes, upgrades or
 * findings): exposed for tests. */
int azl_pool_from_json(const cJSON *ap, struct azl_pool *out);
void azl_pool_release(struct azl_pool *pool);

#endif
