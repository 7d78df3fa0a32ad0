/* PodDisruptionBudgets (policy/v1): what they select, what they demand
 * and what their status allows now. */
#ifndef AZL_PDB_H
#define AZL_PDB_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "kube.h"
#include "pod.h"

/* minAvailable / maxUnavailable: an integer or a percentage ("50%"). */
struct azl_int_or_percent {
	int set;                     /* the field was given */
	int percent;                 /* value is a percentage */
	long value;
};

/* One matchExpressions entry: operator In, NotIn, Exists, DoesNotExist. */
struct azl_label_requirement {
	char *key, *op;
	char **values;
	size_t nr_values;
};

struct azl_label_selector {
	struct azl_kv *match_labels;
	size_t nr_match_labels;
	struct azl_label_requirement *exprs;
	size_t nr_exprs;
};

struct azl_pdb {
	char *name, *namespace_, *uid, *resource_version;
	struct azl_label_selector selector;
	struct azl_int_or_percent min_available, max_unavailable;
	char *unhealthy_pod_eviction_policy;  /* "" when not given */
	long generation, observed_generation;
	long current_healthy, desired_healthy, disruptions_allowed, expected_pods;
};

/* Fills *out from a PodDisruptionBudget; AZL_EINVALID naming the PDB and
 * field when minAvailable or maxUnavailable is neither a number nor a
 * percentage. */
int azl_pdb_parse(const cJSON *obj, struct azl_pdb *out);
void azl_pdb_release(struct azl_pdb *pdb);

/* Whether pdb covers pod, as the eviction subresource decides: the same
 * namespace, and a selector that is not empty and matches the pod's
 * labels (an empty one matches nothing there). */
int azl_pdb_selects(const struct azl_pdb *pdb, const struct azl_pod *pod);

/* Whether an eviction of pod would be refused by pdb now, as EvictionREST
 * decides from the PDB's status: pdb selects the pod and allows no
 * disruption, and the pod is Ready (an unready pod goes when the policy is
 * AlwaysAllow, or IfHealthyBudget with the budget healthy). A pod being
 * deleted already is never blocked. */
int azl_pdb_blocks(const struct azl_pdb *pdb, const struct azl_pod *pod);

/* Whether the status is current (observedGeneration caught up with
 * generation): otherwise the API server refuses evictions with 429. */
int azl_pdb_status_current(const struct azl_pdb *pdb);

/* Every PDB in namespace (NULL: all namespaces), paged. */
struct azl_pdb_list {
	struct azl_pdb *items;
	size_t nr;
};
int azl_pdb_list(struct azl_kube *kube, const char *namespace_, struct azl_pdb_list *out);
void azl_pdb_list_release(struct azl_pdb_list *list);

#endif
