/* The pod model a drain needs, parsed from a v1 Pod's JSON: who owns it,
 * what it mounts, where it runs, whether it is Ready or already being
 * deleted (kubectl's drain filters, shared/reference/kubectl-plugin.md
 * §5), and the pods of one node, listed as kubectl drain lists them. */
#ifndef AZL_POD_H
#define AZL_POD_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "kube.h"

/* A string map entry (labels, annotations). */
struct azl_kv {
	char *key, *value;
};

struct azl_owner_ref {
	char *api_version, *kind, *name, *uid;
	int controller;              /* controller: true */
};

enum azl_volume_kind {
	AZL_VOLUME_OTHER,
	AZL_VOLUME_EMPTY_DIR,        /* lost with the node */
	AZL_VOLUME_HOST_PATH,
	AZL_VOLUME_PVC,
	AZL_VOLUME_CONFIG_MAP,
	AZL_VOLUME_SECRET,
	AZL_VOLUME_PROJECTED
};

struct azl_pod_volume {
	char *name;
	enum azl_volume_kind kind;
};

struct azl_pod_condition {
	char *type, *status;         /* "Ready", "True" */
};

/* spec.tolerations entry; "" when absent (op "" is Equal). */
struct azl_toleration {
	char *key, *op, *value, *effect;
};

struct azl_pod {
	char *name, *namespace_, *uid, *resource_version;
	char *node;                  /* spec.nodeName; "" when unscheduled */
	char *phase;                 /* status.phase; "" when absent */
	int ready;                   /* condition Ready is True */
	time_t deletion_timestamp;   /* 0: not being deleted */
	long termination_grace_period_s; /* -1: not given (the server's 30) */
	struct azl_pod_condition *conditions;
	size_t nr_conditions;
	struct azl_owner_ref *owners;
	size_t nr_owners;
	struct azl_pod_volume *volumes;
	size_t nr_volumes;
	struct azl_kv *labels;
	size_t nr_labels;
	struct azl_kv *annotations;
	size_t nr_annotations;
	struct azl_kv *node_selector;      /* spec.nodeSelector */
	size_t nr_node_selector;
	struct azl_toleration *tolerations;
	size_t nr_tolerations;
	/* what the scheduler reserves for it (its effective requests): the
	 * larger of its containers' sum and its largest init container, plus
	 * spec.overhead; CPU in millicores, memory in bytes */
	long cpu_request_m, memory_request;
};

/* Fills *out from a Pod object; AZL_EINVALID when it has no name. */
int azl_pod_parse(const cJSON *obj, struct azl_pod *out);
void azl_pod_release(struct azl_pod *pod);

/* The owner reference with controller: true, or NULL. */
const struct azl_owner_ref *azl_pod_controller(const struct azl_pod *pod);
/* A static pod's mirror (annotation kubernetes.io/config.mirror): the
 * API server cannot delete it. */
int azl_pod_is_mirror(const struct azl_pod *pod);
/* Succeeded or Failed. */
int azl_pod_is_terminal(const struct azl_pod *pod);
int azl_pod_has_volume(const struct azl_pod *pod, enum azl_volume_kind kind);
/* The value of a label or annotation, or NULL. */
const char *azl_pod_label(const struct azl_pod *pod, const char *key);
const char *azl_pod_annotation(const struct azl_pod *pod, const char *key);

/* Whether pod tolerates a node's taint (core/v1 Toleration.ToleratesTaint:
 * an empty key with Exists matches every taint; an empty effect every
 * effect; Exists ignores the value). */
int azl_pod_tolerates(const struct azl_pod *pod, const char *key, const char *value,
		      const char *effect);

/* The key/value pairs of a JSON object of strings (labels). */
void azl_kv_parse(const cJSON *obj, struct azl_kv **out, size_t *n);
void azl_kv_release(struct azl_kv *kv, size_t n);
const char *azl_kv_get(const struct azl_kv *kv, size_t n, const char *key);

/* Calls fn for every pod on node, in every namespace (fieldSelector
 * spec.nodeName=node, and labelSelector when not NULL), a page at a time;
 * a non-zero return from fn stops the listing and is returned. */
typedef int (*azl_pod_fn)(const struct azl_pod *pod, void *ctx);
int azl_pod_list_on_node(struct azl_kube *kube, const char *node, const char *label_selector,
			 long page_size, azl_pod_fn fn, void *ctx);
/* The same for every pod of the cluster that is neither Succeeded nor
 * Failed (what still holds its node's resources, as kubectl describe node
 * counts them). */
int azl_pod_list_active(struct azl_kube *kube, long page_size, azl_pod_fn fn, void *ctx);

#endif
