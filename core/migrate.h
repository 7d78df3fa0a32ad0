/* Moving a node pool onto Azure Linux (Ubuntu to Azure Linux; Azure
 * Linux 2.0 to 3.0): the target, the strategy, the plan, the preflight,
 * and the steps that operation.h runs (shared/reference/aks-api.md
 * §1.3-1.6, §2.3-2.9, §3; migrate-upgrade.md §A, §B, §D).
 *
 * Target: --to AzureLinux (the default) or AzureLinux3. A pool whose
 * Kubernetes version is below 1.32 (where AzureLinux still means 2.0)
 * gets AzureLinux3 by default; a target that would land on 2.0 (osinfo's
 * retired rule) or outside AzureLinux3's 1.28-1.36 is refused.
 *
 * Strategy: auto is in place unless the pool cannot change OS in place
 * (plan.h's azl_plan_in_place_blockers: Windows, Kata, confidential VM,
 * GPU dedicated VHD), then side by side. A forced in-place move AKS would
 * refuse is refused here, before any request.
 *
 * In place: steps "update-pool" (a fresh GET; if its eTag is not the
 * plan's, AZL_ESTALE and nothing is sent; else a PUT of the pool with
 * osSKU changed, nodeImageVersion and the read-only members left out, the
 * upgradeSettings overrides, If-Match) and "verify" (the pool's osSKU and
 * provisioningState, every node on the target OS and Ready).
 *
 * Side by side: "create-pool" (the new pool, If-None-Match: *; a pool
 * that exists already from this operation is not created again),
 * "wait-ready" (every node of the new pool Ready), "stop-autoscaler",
 * "cordon" (every old node), "drain" (each old node's pods evicted
 * through the eviction API, DaemonSet and mirror pods left, the next node
 * only once the moved workloads are Ready again), "delete-pool" (only
 * when the journal shows create-pool, wait-ready and drain done) and
 * "verify". add-pool is create-pool and wait-ready alone. */
#ifndef AZL_MIGRATE_H
#define AZL_MIGRATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "arm.h"
#include "cluster.h"
#include "finding.h"
#include "kube.h"
#include "operation.h"
#include "plan.h"
#include "pool.h"
#include "strbuf.h"

#define AZL_MIGRATE_KIND "migrate"
#define AZL_ADD_POOL_KIND "add-pool"

enum azl_migrate_strategy {
	AZL_MIGRATE_NOTHING,         /* the pool runs the target already */
	AZL_MIGRATE_IN_PLACE,
	AZL_MIGRATE_SIDE_BY_SIDE
};

/* "none", "in-place", "side-by-side". */
const char *azl_migrate_strategy_name(enum azl_migrate_strategy s);

struct azl_migrate_options {
	const char *to;              /* AzureLinux, AzureLinux3; NULL: the default */
	const char *strategy;        /* auto (NULL), in-place, side-by-side */
	const char *new_pool;        /* side by side: its name; NULL: derived */
	const char *max_surge;       /* "N" or "N%"; NULL: the pool's */
	long drain_timeout_min;      /* -1: the pool's */
	long node_soak_min;          /* -1: the pool's */
	int canary;                  /* side by side: one node first */
	/* add-pool: */
	long count;                  /* -1: the old pool's */
	const char *mode;            /* NULL: the old pool's */
};
#define AZL_MIGRATE_OPTIONS_INIT { NULL, NULL, NULL, NULL, -1, -1, 0, -1, NULL }

/* One side of the move. */
struct azl_migrate_side {
	char *os_sku;
	char *os_version;            /* "3.0", "22.04" */
	char *os_name;               /* "Azure Linux 3.0" */
	char *node_image_version;    /* "" for the target: AKS picks the latest */
	char *kubernetes_version;
};

struct azl_migrate_plan {
	const char *kind;            /* AZL_MIGRATE_KIND or AZL_ADD_POOL_KIND */
	enum azl_migrate_strategy strategy;
	char *pool;
	char *source;                /* the pool moved or copied (add-pool's --like) */
	char *mode;
	char *why;                   /* why this strategy, one line */
	char *etag;                  /* the pool's, when the plan was made */
	struct azl_migrate_side from, to;
	struct azl_pool_spec new_pool;       /* side by side and add-pool */
	const char **steps;          /* static names */
	size_t nr_steps;
	struct azl_finding_list notes;       /* what the plan says besides (info) */
	struct azl_finding_list preflight;
	struct strbuf commands;      /* the az/kubectl equivalent, one a line */
	struct strbuf terraform;     /* the IaC attribute to change */
	struct azl_migrate_options opts;     /* strings borrowed from the caller */
	long nodes;                  /* nodes of the pool */
};

/* The plan for pool p of cluster c (pools: all the cluster's, for the new
 * pool's name and the System-pool rule). AZL_EINVALID for a target or a
 * strategy that is refused (one line: why, and what to do instead);
 * AZL_ENOTFOUND for a pool that is not among pools. */
int azl_migrate_plan_make(const struct azl_cluster *c, const struct azl_pool_list *pools,
			  const char *pool, const struct azl_migrate_options *o,
			  struct azl_migrate_plan *out);
/* add-pool NAME --like POOL: the first half of a side-by-side move. */
int azl_migrate_plan_add_pool(const struct azl_cluster *c, const struct azl_pool_list *pools,
			      const char *name, const char *like, const char *os_sku,
			      const struct azl_migrate_options *o, struct azl_migrate_plan *out);
void azl_migrate_plan_release(struct azl_migrate_plan *plan);

/* Every preflight item (appended to plan->preflight), not only the first
 * blocker: state, target, PDBs, workloads, capacity, shape. kube may be
 * NULL (the Kubernetes checks are then one warning saying so). */
int azl_migrate_preflight(struct azl_arm *arm, struct azl_kube *kube,
			  const struct azl_cluster *c, const struct azl_pool_list *pools,
			  struct azl_migrate_plan *plan);

/* How long the move is expected to take, in minutes, for the maintenance
 * window check: a rough rule, not a promise (AKS publishes no figure). In
 * place, each batch of surge nodes takes AZL_MIGRATE_MINUTES_BATCH plus the
 * node soak; side by side, the new pool takes a batch and each old node's
 * drain AZL_MIGRATE_MINUTES_DRAIN plus the soak; add-pool one batch. */
#define AZL_MIGRATE_MINUTES_BATCH 15
#define AZL_MIGRATE_MINUTES_DRAIN 5
long azl_migrate_expected_minutes(const struct azl_migrate_plan *plan, const struct azl_pool *p);

/* The cluster's limits at the move's peak (cluster.h's AZL_CLUSTER_*): more
 * pools than maxAgentPools side by side, or more nodes than the tier allows
 * (every pool's count, plus the surge in place or the whole new pool side by
 * side), is a blocker ClusterNodeLimit / PoolLimit; above 90% of it, or past
 * 1,000 on a Standard cluster, a warning; else an ok item. */
void azl_migrate_check_cluster_limits(const struct azl_cluster *c, const struct azl_pool_list *pools,
				      const struct azl_migrate_plan *plan, struct azl_finding_list *out);

/* The capacity items (vCPU quota for the surge nodes, the scale set's
 * node limit) of a rolling upgrade of p with max_surge (NULL: the pool's),
 * as the in-place migration's preflight has them; for upgrade too. */
/* The same for pools rolling at once: each one's node limit and subnet,
 * and the quota for all their surge nodes together. */
void azl_preflight_surge_capacity_many(struct azl_arm *arm, const struct azl_cluster *c,
				       const struct azl_pool *const *pools, size_t n,
				       const char *max_surge, struct azl_finding_list *out);
void azl_preflight_surge_capacity(struct azl_arm *arm, const struct azl_cluster *c,
				  const struct azl_pool *p, const char *max_surge,
				  struct azl_finding_list *out);

/* The journal's record of the plan (and the report's body): strategy,
 * why, newPool, from, to, settings, preflight, eTag, cluster location. */
cJSON *azl_migrate_plan_data(const struct azl_migrate_plan *plan, const struct azl_cluster *c);

/* The AKS drain failure's parts (migrate-upgrade.md §B1): "Drain node N
 * failed when evicting pod P", "blocked by pdb B". Empty when absent. */
struct azl_drain_failure {
	struct strbuf node, pod, pdb;
};
void azl_migrate_parse_drain_failure(const char *message, struct azl_drain_failure *out);
void azl_drain_failure_release(struct azl_drain_failure *f);

/* The kinds, for operation.h's create/load. */
extern const struct azl_operation_kind azl_migrate_kind;
extern const struct azl_operation_kind azl_add_pool_kind;

/* The label selector of the nodes an operation of this record moves:
 * "kubernetes.azure.com/agentpool in (old,new)". */
void azl_migrate_node_selector(const char *pool, const cJSON *data, struct strbuf *out);

#endif
