/* The plan as data: what moving a node pool onto a supported Azure Linux,
 * or upgrading it, takes. `migrate` and `upgrade` execute a plan; the
 * findings (findings.h) render their messages and the `az` command they
 * name from one. The rules (shared/reference/aks-api.md §1.3-§1.6,
 * migrate-upgrade.md A1, A4, C4):
 *   - Azure Linux 2.0 is retired (osinfo.h). With osSku AzureLinux and a
 *     control plane on 1.32+, upgrading the pool to the control plane's
 *     version moves it to 3.0; otherwise (older control plane, CBLMariner)
 *     the SKU changes in place to AzureLinux3.
 *   - osSku AzureLinux3 is supported on 1.28-1.36: before 1.37+ the pool
 *     changes in place to the default SKU, AzureLinux.
 *   - Ubuntu changes in place to AzureLinux (AzureLinux3 below 1.32, where
 *     the default SKU would land on the retired 2.0) unless blocked:
 *     Windows, Kata, confidential VM, GPU dedicated VHD, Kubernetes below
 *     1.28. Blocked, it moves side by side: a new Azure Linux pool with the
 *     old one's spec, then the old one is drained and deleted.
 *   - A node image upgrade takes a pool to the latest image.
 *   - A Kubernetes upgrade goes control plane first, one minor at a time
 *     (no skipping), and a pool never passes the control plane.
 * Blockers stop a plan (or, for a side-by-side move, the in-place way);
 * risks are what to watch. Both are findings (finding.h): code, severity,
 * one line. */
#ifndef AZL_PLAN_H
#define AZL_PLAN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "finding.h"

struct azl_cluster;
struct azl_pool;
struct azl_pool_names;

/* AzureLinux3 is supported up to this minor; AzureLinux (the default SKU)
 * runs 3.0 from AZL3_DEFAULT_MINOR; AzureLinux3 starts at the first. */
#define AZL_PLAN_AZL3_LAST_MINOR 36
#define AZL_PLAN_AZL3_DEFAULT_MINOR 32
#define AZL_PLAN_AZL3_FIRST_MINOR 28

enum azl_plan_kind {
	AZL_PLAN_NONE,               /* nothing to do, or nothing possible */
	AZL_PLAN_OS_SKU_CHANGE,      /* in place: the pool's osSKU becomes target_sku */
	AZL_PLAN_SIDE_BY_SIDE,       /* add new_pool, drain the old one, delete it */
	AZL_PLAN_NODE_IMAGE_UPGRADE, /* to node_image_version */
	AZL_PLAN_KUBERNETES_UPGRADE  /* along path, to to_version */
};

/* "None", "OSSkuChange", "SideBySide", "NodeImageUpgrade", "KubernetesUpgrade". */
const char *azl_plan_kind_name(enum azl_plan_kind kind);

/* Blocker codes. */
#define AZL_PLAN_BLOCK_WINDOWS "WindowsCannotChangeOS"
#define AZL_PLAN_BLOCK_KATA "KataRuntime"
#define AZL_PLAN_BLOCK_CONFIDENTIAL "ConfidentialVM"
#define AZL_PLAN_BLOCK_GPU_VHD "GPUDedicatedVHD"
#define AZL_PLAN_BLOCK_OLD_KUBERNETES "KubernetesTooOld"
#define AZL_PLAN_BLOCK_AZL3_PIN "AzureLinux3PinBlocksUpgrade"
#define AZL_PLAN_BLOCK_NO_VERSION "NoControlPlaneVersion"
/* Risk codes. */
#define AZL_PLAN_RISK_AZL3_PIN "AzureLinux3PinBlocksUpgrade"
#define AZL_PLAN_RISK_SYSTEM_POOL "SystemPool"
#define AZL_PLAN_RISK_GPU "GPUDrivers"
#define AZL_PLAN_RISK_AUTOSCALER "Autoscaler"
#define AZL_PLAN_RISK_OS_CHANGES "OSChangesWithUpgrade"
#define AZL_PLAN_RISK_AUTOMATIC "AppliedAutomatically"

/* The new pool of a side-by-side move. Strings are "" when absent. */
struct azl_pool_spec {
	char *name;                 /* derived from the old name, unique in the cluster */
	char *mode;                 /* the old pool's: a System pool is replaced by one */
	char *os_type;              /* Linux */
	char *os_sku;               /* AzureLinux */
	char *vm_size;
	long count;                 /* at least 1 */
	int autoscaling;
	long min_count, max_count;  /* -1 when not autoscaling */
	char *zones;                /* "1,2,3" */
	char *kubernetes_version;   /* the old pool's */
	char *workload_runtime;     /* KataVmIsolation for a Kata pool; "" for the default */
	char *max_surge;
	/* The agent pool's writable ARM properties for the PUT of the new pool:
	 * the old pool's (labels, taints, max pods, subnets, OS disk, kubelet
	 * and Linux OS config, upgrade settings, tags, security profile...)
	 * with the fields above applied and the read-only and per-pool ones
	 * (state, image, snapshot, eTag) removed. */
	cJSON *properties;
};

/* One step of a Kubernetes upgrade. */
struct azl_upgrade_step {
	int control_plane;          /* 1: the cluster's control plane; 0: the pool */
	char *version;
};

struct azl_plan {
	enum azl_plan_kind kind;
	char *pool;
	char *target_sku;           /* OS_SKU_CHANGE; SIDE_BY_SIDE: new_pool's */
	struct azl_pool_spec new_pool;      /* SIDE_BY_SIDE */
	char *node_image_version;   /* NODE_IMAGE_UPGRADE: the target */
	char *from_version;         /* KUBERNETES_UPGRADE: the pool's now */
	char *to_version;           /*   and the target */
	int behind_control_plane;   /*   the pool is older than the control plane */
	struct azl_upgrade_step *path;      /*   control plane steps, then the pool */
	size_t nr_path;
	struct azl_finding_list blockers;
	struct azl_finding_list risks;
};

/* Onto a supported Azure Linux: Azure Linux 2.0 (retired), a pinned
 * AzureLinux3 the cluster will outgrow, Ubuntu. taken (may be NULL) are
 * the cluster's pool names, for a new pool's name that none of them has. NONE
 * for a pool that needs no move (or cannot: Windows, with its blocker). */
int azl_plan_migrate(const struct azl_cluster *c, const struct azl_pool *p,
		     const struct azl_pool_names *taken, struct azl_plan *out);

/* To the latest node image; NONE when it runs it (or it is unknown). */
int azl_plan_node_image(const struct azl_cluster *c, const struct azl_pool *p,
			struct azl_plan *out);

/* To Kubernetes target (NULL: the newest the pool can take now, i.e. its
 * upgrade profile's, never past the control plane). A target past the
 * control plane upgrades the control plane first, one minor at a time,
 * through the newest version of each minor it offers (a missing minor is a
 * blocker). NONE when the pool runs target already or nothing is
 * available. AZL_EINVALID when target is not a version. */
int azl_plan_kubernetes(const struct azl_cluster *c, const struct azl_pool *p,
			const char *target, struct azl_plan *out);

/* The `az` command for the plan's next step (appended): nodepool update
 * --os-sku, nodepool add with the new pool's size, count, mode and
 * runtime, nodepool upgrade --node-image-only, `az aks upgrade
 * --control-plane-only` or nodepool upgrade --kubernetes-version. Nothing
 * for NONE. */
void azl_plan_az_command(const struct azl_plan *plan, const struct azl_cluster *c,
			 struct strbuf *out);

/* The `kubectl azlinux upgrade` command for a node image or Kubernetes
 * upgrade plan (appended; the control plane goes first on its own, so the
 * command names the pool's final version): 1, or 0 with nothing appended
 * for another kind. */
int azl_plan_upgrade_command(const struct azl_plan *plan, struct strbuf *out);

/* What stops an in-place OS SKU change of p, whatever it runs now
 * (appended to out): Windows, Kata, confidential VM, GPU dedicated VHD,
 * Kubernetes below 1.28. */
void azl_plan_in_place_blockers(const struct azl_pool *p, struct azl_finding_list *out);

/* The new pool of a side-by-side move of p, as azl_plan_migrate() makes
 * it, with name (NULL: derived, unique among taken) and os_sku (NULL:
 * AzureLinux). Release with azl_plan_spec_release(). */
void azl_plan_new_pool(const struct azl_pool *p, const struct azl_pool_names *taken,
		       const char *name, const char *os_sku, struct azl_pool_spec *out);
void azl_plan_spec_release(struct azl_pool_spec *s);

/* The blockers' messages, comma-separated (appended). */
void azl_plan_blocker_text(const struct azl_plan *plan, struct strbuf *out);

/* The item with this code in list, or NULL. */
const struct azl_finding *azl_plan_item(const struct azl_finding_list *list, const char *code);

void azl_plan_release(struct azl_plan *plan);

/* The newest version a pool can move to without passing the control
 * plane: the control plane's own (currentKubernetesVersion, else
 * kubernetesVersion). */
const char *azl_plan_control_plane_version(const struct azl_cluster *c);

#endif
