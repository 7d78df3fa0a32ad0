/* `upgrade`: node images, Kubernetes versions (control plane and pools)
 * and the cluster's node OS upgrade channel, as an ordered list of ARM
 * operations with the preflight that decides whether to send them
 * (shared/reference/aks-api.md §1.3, §1.5, §1.7, §2.2, §2.5-2.9, §3;
 * migrate-upgrade.md §C).
 *
 * The per-pool rules (what a node image or Kubernetes upgrade of one pool
 * takes, the control plane's path a minor at a time, the AzureLinux3 pin,
 * Azure Linux 2.0 coming back on 3.0) are plan.h's; this module orders
 * them for a cluster and adds what concerns the cluster as a whole:
 *   - the control plane goes first, one minor at a time; after each of its
 *     steps every pool being upgraded follows it one minor (AKS refuses a
 *     pool that skips a minor), System pools first;
 *   - a pool left behind (not named, or --control-plane-only) more than
 *     three minors behind the target control plane is a blocker; three
 *     behind is a warning (AKS's own error text still speaks of two);
 *   - cluster auto-upgrade forbids a control-plane-only upgrade, and races
 *     any other; the node OS channel is noted;
 *   - pools not Succeeded, targets not offered, PDBs allowing no
 *     disruption.
 * forceUpgrade is never set. */
#ifndef AZL_UPGRADE_H
#define AZL_UPGRADE_H

#include <stddef.h>
#include <time.h>

#include "arm.h"
#include "cluster.h"
#include "finding.h"
#include "journal.h"
#include "lro.h"
#include "operation.h"
#include "pdb.h"
#include "pool.h"
#include "kube.h"

enum azl_upgrade_mode {
	AZL_UPGRADE_NODE_IMAGE,
	AZL_UPGRADE_KUBERNETES,
	AZL_UPGRADE_NODE_OS_CHANNEL
};

/* The journal's pool of an upgrade that names no single pool: the
 * cluster's own lock. */
#define AZL_UPGRADE_CLUSTER_POOL AZL_JOURNAL_CLUSTER

/* The node OS upgrade channels AKS takes, in order (i from 0; NULL past
 * the last): None, Unmanaged, SecurityPatch, NodeImage. */
const char *azl_upgrade_node_os_channel_name(size_t i);

/* "upgrade-node-image", "upgrade-kubernetes", "upgrade-node-os-channel". */
const char *azl_upgrade_mode_name(enum azl_upgrade_mode mode);

/* The pool's upgradeSettings the command line sets; NULL / -1 when not
 * given. Written into the pool with the version PUT: they persist. */
struct azl_upgrade_settings {
	const char *max_surge;            /* "1", "33%" */
	const char *max_unavailable;
	long drain_timeout_minutes;       /* 1-1440 */
	long node_soak_minutes;           /* 0-30 */
	const char *undrainable_node_behavior; /* Cordon, Schedule */
};
#define AZL_UPGRADE_SETTINGS_INIT { NULL, NULL, -1, -1, NULL }

/* Whether any setting is given. */
int azl_upgrade_settings_given(const struct azl_upgrade_settings *s);
/* Checks the ranges and words (AZL_EINVALID naming the flag). */
int azl_upgrade_settings_check(const struct azl_upgrade_settings *s);

struct azl_upgrade_options {
	enum azl_upgrade_mode mode;
	const char *version;              /* KUBERNETES: "1.33" (newest patch) or "1.33.2" */
	int control_plane_only;
	const char *node_os_channel;      /* NODE_OS_CHANNEL: None, Unmanaged, SecurityPatch, NodeImage */
	struct azl_upgrade_settings settings;
};

enum azl_upgrade_op_kind {
	AZL_UPGRADE_STEP_CONTROL_PLANE,   /* PUT {mc} kubernetesVersion, If-Match */
	AZL_UPGRADE_STEP_POOL_VERSION,    /* PUT {mc}/agentPools/P orchestratorVersion, If-Match */
	AZL_UPGRADE_STEP_NODE_IMAGE,      /* POST {mc}/agentPools/P/upgradeNodeImageVersion */
	AZL_UPGRADE_STEP_NODE_OS_CHANNEL  /* PUT {mc} autoUpgradeProfile.nodeOSUpgradeChannel */
};

struct azl_upgrade_op {
	enum azl_upgrade_op_kind kind;
	char *name;                       /* "control-plane 1.33.2", "pool system1 1.33.2" ... */
	char *pool;                       /* "" for the cluster's steps */
	char *from;                       /* version, image or channel before */
	char *to;                         /* and after */
	int system;                       /* a System pool's step (their phase goes first) */
};

/* A pool left as it is, and why ("already on the latest node image ..."). */
struct azl_upgrade_skip {
	char *pool;
	char *reason;
};

struct azl_upgrade_plan {
	enum azl_upgrade_mode mode;
	char *target;                     /* the version, image-less "latest", or the channel */
	struct azl_upgrade_op *steps;
	size_t nr_steps;
	struct azl_upgrade_skip *skipped;
	size_t nr_skipped;
	/* Everything the preflight found, blockers (AZL_SEVERITY_ERROR) and
	 * warnings and notes; each code is one of AZL_UPGRADE_CHECK_*. */
	struct azl_finding_list preflight;
};

#define AZL_UPGRADE_CHECK_NOT_OFFERED "TargetNotOffered"
#define AZL_UPGRADE_CHECK_SKEW "VersionSkew"
#define AZL_UPGRADE_CHECK_AUTO_UPGRADE "ClusterAutoUpgrade"
#define AZL_UPGRADE_CHECK_NODE_OS_CHANNEL "NodeOSUpgradeChannel"
#define AZL_UPGRADE_CHECK_NOT_SUCCEEDED "PoolNotSucceeded"
#define AZL_UPGRADE_CHECK_PDB "PodDisruptionBudget"
#define AZL_UPGRADE_CHECK_SETTINGS "UpgradeSettingsPersist"
#define AZL_UPGRADE_CHECK_OS "OperatingSystem"
#define AZL_UPGRADE_CHECK_REIMAGE "Reimage"
#define AZL_UPGRADE_CHECK_NOTHING "NothingToDo"
#define AZL_UPGRADE_CHECK_DEPRECATED_API "DeprecatedAPIInUse"
#define AZL_UPGRADE_CHECK_IMAGE_AGE "NodeImageUnsupported"

/* Orders the operations for the pools named (all of pools when nr_names
 * is 0; pools holds every pool of the cluster, for the skew check) and
 * runs the preflight that needs no more than the cluster's and pools' ARM
 * state. AZL_EINVALID when the version or channel is not one,
 * AZL_ENOTFOUND for a name that is no pool of the cluster. */
int azl_upgrade_plan_build(const struct azl_cluster *c, const struct azl_pool_list *pools,
			   const char *const *names, size_t nr_names,
			   const struct azl_upgrade_options *opts, struct azl_upgrade_plan *out);

/* Adds a warning for each PDB that allows no disruption now and covers
 * pods (the drain of a node running one will wait on it, then fail after
 * the drain timeout). */
void azl_upgrade_check_pdbs(struct azl_upgrade_plan *plan, const struct azl_pdb_list *pdbs);

/* AKS supports node images for 90 days from their publish date
 * (migrate-upgrade.md §A5 22). */
#define AZL_UPGRADE_IMAGE_SUPPORT_DAYS 90
/* The publish date (UTC midnight) of a node image from its YYYYMM.DD;
 * 0 when its name carries none. */
time_t azl_upgrade_node_image_date(const char *image);
/* Adds a finding for each pool of pools on an image older than that at
 * now: info when the plan upgrades it, a warning when the plan skips it
 * as already on the latest AKS offers. */
void azl_upgrade_check_image_age(struct azl_upgrade_plan *plan, const struct azl_pool_list *pools,
				 time_t now);

void azl_upgrade_plan_release(struct azl_upgrade_plan *plan);

/* One series of kube-apiserver's apiserver_requested_deprecated_apis
 * gauge: an API requested since that API server started (migrate-upgrade.md
 * C2). Strings are "" when the label is absent. */
struct azl_deprecated_api {
	char *group, *version, *resource, *subresource, *removed_release;
};
struct azl_deprecated_api_list {
	struct azl_deprecated_api *items;
	size_t nr;
};
/* Reads the gauge's series with a value other than 0 from the Prometheus
 * text exposition format in text (len bytes, untrusted: other metrics,
 * comments and malformed lines are skipped; label values unescaped). */
void azl_deprecated_apis_parse(const char *text, size_t len, struct azl_deprecated_api_list *out);
void azl_deprecated_api_list_release(struct azl_deprecated_api_list *list);

/* The vCPU quota for the surge nodes of the pools the plan rolls, and the
 * scale set's node limit, as migrate's preflight reads them (the Compute
 * usages API), with max_surge (--max-surge; NULL: each pool's). One at a
 * time (parallel 0 or 1): per VM size, its largest pool; else per phase
 * its parallel largest pools together, their surges summed. Items
 * "Quota", "NodeLimit", "SubnetIPs". */
void azl_upgrade_check_capacity(struct azl_upgrade_plan *plan, struct azl_arm *arm,
				const struct azl_cluster *c, const struct azl_pool_list *pools,
				const char *max_surge, size_t parallel);

/* For a plan whose control plane crosses minors: each deprecated API the
 * API server saw requested (GET /metrics) that a minor it crosses removes
 * is a blocker naming it and the objects stored under it (AKS blocks such
 * upgrades itself: UpgradeBlockedOnDeprecatedAPIUsage, migrate-upgrade.md
 * C1); a /metrics it may not read is a note that this was not judged.
 * The signal is the replica's since its start (C2), not AKS's 12 hours. */
void azl_upgrade_check_deprecated_apis(struct azl_upgrade_plan *plan, const struct azl_cluster *c,
				       struct azl_kube *kube);

/* The journal's record (operation.h's data) of the plan: {"target",
 * "plan": [{"name","kind","pool","from","to"}], "skipped": [{"pool",
 * "reason"}], "settings": {upgradeSettings given}, "preflight": [...],
 * "from"/"to": {"kubernetesVersion","nodeImageVersion","nodeOSUpgradeChannel"},
 * "location"};
 * the verify step adds "nodes". Caller owns. */
cJSON *azl_upgrade_plan_data(const struct azl_upgrade_plan *plan,
			     const struct azl_upgrade_options *opts, const struct azl_cluster *c);
/* The journal's step names: one per operation of the plan (its kind:
 * "control-plane", "pool-version", "node-image", "node-os-channel"), then
 * "verify"; names has room for plan->nr_steps + 1. */
void azl_upgrade_step_names(const struct azl_upgrade_plan *plan, const char **names);

/* The kinds, for operation.h (their steps: a fresh GET of the resource,
 * nothing when it is on the target already, a follow of an operation
 * running there, else the write: a PUT with If-Match (a 412, not
 * accepted, looks again once) or POST upgradeNodeImageVersion; "verify"
 * reloads the cluster and pools: every upgraded pool on its target image
 * or version with every node Ready, the control plane on its last
 * version, the channel set, AzureLinux pools taken to 1.32+ on Azure
 * Linux 3.0, and records the nodes). */
extern const struct azl_operation_kind azl_upgrade_node_image_kind;
extern const struct azl_operation_kind azl_upgrade_kubernetes_kind;
extern const struct azl_operation_kind azl_upgrade_node_os_channel_kind;
const struct azl_operation_kind *azl_upgrade_kind(enum azl_upgrade_mode mode);

#endif
