/* The eviction subresource (POST .../pods/NAME/eviction), which deletes a
 * pod only if its PodDisruptionBudget allows, and what its answer means
 * (kubernetes pkg/registry/core/pod/storage/eviction.go; kubectl drain,
 * shared/reference/kubectl-plugin.md §5). */
#ifndef AZL_EVICTION_H
#define AZL_EVICTION_H

#include "kube.h"
#include "strbuf.h"

enum azl_eviction_outcome {
	AZL_EVICTION_EVICTED,        /* 200/201: the pod is being deleted */
	AZL_EVICTION_GONE,           /* 404: no such pod any more: done */
	AZL_EVICTION_BLOCKED,        /* 429 with a DisruptionBudget cause:
				      * its PDB allows no disruption now */
	AZL_EVICTION_THROTTLED,      /* 429 without: the API server's rate limit */
	AZL_EVICTION_MULTIPLE_PDBS,  /* 500: more than one PDB selects the pod;
				      * no eviction can ever succeed */
	AZL_EVICTION_NAMESPACE_TERMINATING, /* 403 with that cause: the pod
				      * goes with its namespace */
	AZL_EVICTION_WEBHOOK_DENIED, /* an admission webhook refused */
	AZL_EVICTION_FORBIDDEN,      /* 403: RBAC (create pods/eviction) */
	AZL_EVICTION_FAILED          /* anything else */
};

struct azl_eviction_options {
	struct azl_kube_delete_options delete_options;  /* gracePeriodSeconds,
				      * preconditions, dryRun */
	/* "policy/v1" (NULL) or "policy/v1beta1", from
	 * azl_eviction_discover() */
	const char *group_version;
};
#define AZL_EVICTION_OPTIONS_INIT { AZL_KUBE_DELETE_OPTIONS_INIT, NULL }

struct azl_eviction_result {
	enum azl_eviction_outcome outcome;
	struct azl_kube_result res;  /* the status, reason, causes */
};
#define AZL_EVICTION_RESULT_INIT { AZL_EVICTION_FAILED, AZL_KUBE_RESULT_INIT }
void azl_eviction_result_release(struct azl_eviction_result *r);

/* Asks to evict namespace_/name. 0 when it is evicted or gone (see
 * out->outcome); otherwise the error of the answer, with out->outcome
 * telling which. A transport failure leaves AZL_EVICTION_FAILED with
 * res.status 0. */
int azl_eviction_create(struct azl_kube *kube, const char *namespace_, const char *name,
			const struct azl_eviction_options *o, struct azl_eviction_result *out);

/* What the API server's discovery (GET /api/v1) says of pods/eviction:
 * *group_version becomes "policy/v1" or "policy/v1beta1", or "" when the
 * server has no eviction subresource (pods are then deleted). */
int azl_eviction_discover(struct azl_kube *kube, struct strbuf *group_version);

/* A short name of an outcome, for logs ("blocked by a PodDisruptionBudget"). */
const char *azl_eviction_outcome_name(enum azl_eviction_outcome o);

#endif
