/* The PodDisruptionBudget-aware drain engine: cordon, plan, evict, wait,
 * as kubectl drain does (kubernetes/kubectl pkg/drain; shared/reference/
 * kubectl-plugin.md §5, migrate-upgrade.md §G), but for a whole set of
 * nodes at once: every node is cordoned before anything is evicted, and
 * evictions run across all the nodes together, paced only by the PDBs.
 *
 * A caller (the drain command, a side-by-side migration) makes an engine
 * with its options, cordons (azl_drain_cordon), builds a plan
 * (azl_drain_plan: per node the pods to evict, skip or refuse and why, and
 * every PDB that allows no disruption now and whether the drain can
 * finish at all), then runs it (azl_drain_run), which fills in each pod's
 * and each node's outcome. Events (a pod's eviction started, refused for
 * now, gone; a node drained or failed; a periodic "still waiting") go to
 * the caller's callback as they happen; nothing is printed. The order of
 * evictions is deterministic: nodes in the order given, pods in the API
 * server's list order (namespace, name). */
#ifndef AZL_DRAIN_H
#define AZL_DRAIN_H

#include <signal.h>
#include <stddef.h>

#include "kube.h"
#include "node.h"
#include "strbuf.h"

enum azl_drain_dry_run {
	AZL_DRAIN_DRY_RUN_NONE,
	AZL_DRAIN_DRY_RUN_CLIENT,    /* nothing is sent that changes anything */
	AZL_DRAIN_DRY_RUN_SERVER     /* writes carry dryRun=All */
};

/* What the filters (kubectl's, in its order) decided for a pod. */
enum azl_drain_action {
	AZL_DRAIN_EVICT,             /* evict (or delete) it */
	AZL_DRAIN_SKIP,              /* leave it: DaemonSet, mirror, deleted long ago */
	AZL_DRAIN_REFUSE             /* it stops the node's drain (no --force ...) */
};

/* Where a pod stands while the drain runs. */
enum azl_drain_pod_state {
	AZL_DRAIN_POD_PENDING,       /* not asked yet, or refused for now (429) */
	AZL_DRAIN_POD_TERMINATING,   /* evicted or deleted: waiting for it to go */
	AZL_DRAIN_POD_DONE,          /* gone (404, or a new uid), or moved away */
	AZL_DRAIN_POD_FAILED,        /* given up: message says why */
	AZL_DRAIN_POD_NOT_WAITED     /* deletionTimestamp older than
				      * --skip-wait-for-delete-timeout */
};

struct azl_drain_pod {
	char *namespace_, *name, *uid;
	enum azl_drain_action action;
	/* kubectl's filter message, which groups pods in its warning and error
	 * lines ("ignoring DaemonSet-managed Pods"); NULL when the filter was
	 * silent (a mirror pod, a pod deleted long ago, a plain eviction) */
	const char *filter_message;
	int warning;                 /* filter_message is a warning, not an error */
	const char *why;             /* short reason for the plan ("mirror pod") */
	char *pdb;                   /* "ns/name" of the PDB that guards it, or NULL */
	int nr_pdbs;                 /* how many PDBs select it (2+: never evictable) */
	/* no node outside the drain would take its replacement (nodeSelector,
	 * taints it does not tolerate, cordoned or NotReady nodes), or none
	 * has room for its requests once the pods there and the plan's
	 * earlier replacements are counted (a first-fit) */
	int nowhere;
	/* when it is room: "needs cpu 2, memory 4Gi; largest free: cpu
	 * 1820m, memory 3Gi"; else NULL */
	char *no_room;
	/* run time */
	enum azl_drain_pod_state state;
	int attempts;                /* eviction requests sent */
	char *message;               /* the last refusal, or why it failed */
	char *blocked_by;            /* the PDB a 429 named, while it waits */
	long next_ms;                /* monotonic time of its next attempt */
};

enum azl_drain_node_state {
	AZL_DRAIN_NODE_PENDING,
	AZL_DRAIN_NODE_DRAINED,
	AZL_DRAIN_NODE_FAILED        /* error says why, kubectl's words */
};

struct azl_drain_node {
	char *name;
	struct azl_drain_pod *pods;
	size_t nr_pods;
	int refused;                 /* a filter refused a pod: nothing is evicted */
	struct strbuf error;         /* a failed node's error, kubectl's aggregate */
	int plain_error;             /* error is one error, not an aggregate (DELETE) */
	char *reason;                /* its metav1.Status reason ("Forbidden"), or NULL */
	enum azl_drain_node_state state;
	/* pods still on a failed node, re-listed after the error ("pod/x") */
	char **pending;
	size_t nr_pending;
	long next_poll_ms;
};

/* A PDB that guards pods of the drain and allows no disruption now, or
 * fewer than the pods of it that have nowhere else to go. */
struct azl_drain_pdb {
	char *namespace_, *name;
	long current_healthy, desired_healthy, expected_pods, disruptions_allowed;
	char **pods;                 /* "ns/name" of the guarded pods being drained */
	size_t nr_pods;
	/* the drain cannot finish while this PDB stands (minAvailable equal to
	 * the pods it selects, maxUnavailable 0, pods that fit on no other
	 * node): why, else NULL */
	const char *never;
};

struct azl_drain_plan {
	struct azl_drain_node *nodes;
	size_t nr_nodes;
	struct azl_drain_pdb *blocking;
	size_t nr_blocking;
	char *eviction_version;      /* "policy/v1", "policy/v1beta1"; "" deletes */
};
void azl_drain_plan_free(struct azl_drain_plan *plan);

enum azl_drain_event_type {
	AZL_DRAIN_EV_EVICTING,       /* an eviction (or DELETE) of pod is sent */
	AZL_DRAIN_EV_RETRY,          /* refused for now (message); retried later */
	AZL_DRAIN_EV_GONE,           /* pod is gone: evicted, or deleted */
	AZL_DRAIN_EV_POD_FAILED,     /* pod given up (message) */
	AZL_DRAIN_EV_NOT_WAITED,     /* pod's deletion is older than the skip timeout */
	AZL_DRAIN_EV_NODE_DONE,      /* node drained, or failed (node->state) */
	AZL_DRAIN_EV_WAITING         /* still waiting: pods_left, pdb, waited_ms */
};

struct azl_drain_event {
	enum azl_drain_event_type type;
	const struct azl_drain_node *node;   /* NULL for WAITING */
	const struct azl_drain_pod *pod;     /* NULL for node events and WAITING */
	const char *message;                 /* RETRY, POD_FAILED */
	long retry_ms;                       /* RETRY: kubectl's announced delay */
	int deleted;                         /* GONE: by DELETE, not eviction */
	size_t pods_left;                    /* WAITING: pods not yet gone */
	const char *pdb;                     /* WAITING: a PDB holding one back, or NULL */
	long waited_ms;                      /* WAITING: since the run began */
};

typedef void (*azl_drain_event_fn)(const struct azl_drain_event *ev, void *ctx);

struct azl_drain_options {
	int ignore_daemonsets;
	int delete_emptydir_data;
	int force;
	int disable_eviction;        /* DELETE, bypassing PDBs */
	long grace_period_s;         /* -1: each pod's own */
	long timeout_ms;             /* 0: no limit */
	long skip_wait_for_delete_timeout_s; /* 0: never skip */
	const char *pod_selector;    /* label selector of the pods, or NULL */
	enum azl_drain_dry_run dry_run;
	long page_size;              /* of pod lists; 0: 500 */
	long retry_delay_ms;         /* kubectl's EvictErrorRetryDelay; 0: 5 s */
	long poll_ms;                /* waiting for pods to go; 0: 1 s */
	/* set (by a signal handler) to end the run: AZL_ECANCELED */
	const volatile sig_atomic_t *cancel;
	azl_drain_event_fn on_event;
	void *ctx;
};
#define AZL_DRAIN_OPTIONS_INIT { 0, 0, 0, 0, -1, 0, 0, NULL, AZL_DRAIN_DRY_RUN_NONE, \
				 0, 0, 0, NULL, NULL, NULL }

struct azl_drain;

/* Borrows kube; copies o (its strings must outlive the engine). */
int azl_drain_new(struct azl_drain **out, struct azl_kube *kube, const struct azl_drain_options *o);
void azl_drain_free(struct azl_drain *d);

/* The nodes to drain: each of names (GET; a missing one is AZL_ENOTFOUND,
 * 'nodes "x" not found'), or else every node matching label_selector and/or
 * in pool (kubernetes.azure.com/agentpool), sorted by name. */
int azl_drain_select_nodes(struct azl_kube *kube, const char *const *names, size_t nr,
			   const char *label_selector, const char *pool,
			   struct azl_node_list *out);

/* Sets node's spec.unschedulable to desired (a strategic-merge PATCH,
 * dryRun=All for a server dry run, nothing for a client one); *changed
 * is 0 when it already was ("already cordoned" is no error). */
int azl_drain_cordon(struct azl_kube *kube, const struct azl_node *node, int desired,
		     enum azl_drain_dry_run dry_run, int *changed);

/* Lists the pods of each node (paged, --pod-selector), runs kubectl's
 * filters and finds the PDBs that guard them. */
int azl_drain_plan(struct azl_drain *d, const char *const *nodes, size_t nr,
		   struct azl_drain_plan **out);

/* Evicts (or deletes) the plan's pods, on all nodes at once, and waits
 * for them to go. A node a filter refused is failed without evicting
 * anything. 0 when every node is drained; AZL_ERROR when one failed (the
 * nodes say why); AZL_ECANCELED when the cancel flag was set (pods already
 * evicted stay evicted; a second run picks up the rest); AZL_ETIMEOUT is
 * not returned: a timeout fails the pods still left, as kubectl does. A
 * client dry run sends nothing and marks the nodes drained. */
int azl_drain_run(struct azl_drain *d, struct azl_drain_plan *plan);

/* kubectl's grouped filter lines for a node: warnings as
 * "msg: ns/a, ns/b; msg2: ns/c" (empty when none), errors as its
 * aggregate of "cannot delete msg: ns/a, ns/b". */
void azl_drain_node_warnings(const struct azl_drain_node *node, struct strbuf *out);
void azl_drain_node_errors(const struct azl_drain_node *node, struct strbuf *out);

/* The command's final error over every failed node, as kubectl prints
 * its aggregate (cmdutil.CheckErr): one a line; returns how many nodes
 * failed. */
size_t azl_drain_plan_errors(const struct azl_drain_plan *plan, struct strbuf *out);

/* Go's time.Duration.String() of ms ("5s", "1m30s", "500ms"), the way
 * kubectl prints --timeout and its retry delay. */
void azl_drain_format_duration(struct strbuf *out, long ms);

#endif
