/* A Kubernetes API client built on http.h and an azl_rest_config.
 *
 * Authentication: client certificate, bearer token, tokenFile (re-read on
 * each request), or an exec credential plugin whose credential is kept in
 * memory until its expirationTimestamp; a 401 refreshes an exec credential
 * once and retries once. Errors carry the server's metav1.Status message as
 * one line ("nodes is forbidden: User \"x\" cannot list ..."). */
#ifndef AZL_KUBE_H
#define AZL_KUBE_H

#include <cjson/cJSON.h>

#include "http.h"
#include "kubeconfig.h"
#include "retry.h"
#include "strbuf.h"

struct azl_kube;

enum azl_patch_type {
	AZL_PATCH_MERGE,            /* application/merge-patch+json */
	AZL_PATCH_STRATEGIC         /* application/strategic-merge-patch+json */
};

/* Borrows cfg: it must outlive the client. */
int azl_kube_new(struct azl_kube **out, const struct azl_rest_config *cfg);
void azl_kube_free(struct azl_kube *kube);

/* The policy retried requests follow (borrowed: the caller owns it and may
 * cancel through it); NULL restores the client's own: 6 tries within a
 * minute, each wait what Retry-After asks up to 10 s. */
void azl_kube_set_retry(struct azl_kube *kube, struct azl_retry *retry);

/* path is absolute ("/api/v1/nodes/n1"); *out is owned by the caller. */
int azl_kube_get(struct azl_kube *kube, const char *path, cJSON **out);

/* Lists every page (limit/continue) of a collection. query is extra query
 * text without '?' ("labelSelector=a%3Db"), or NULL; page_size 0 means 500.
 * *items is a cJSON array owned by the caller. */
int azl_kube_list(struct azl_kube *kube, const char *path, const char *query,
		  long page_size, cJSON **items);

/* As azl_kube_list(), handing each page's "items" array (NULL when the page
 * has none) to fn before fetching the next, so only one page is held in
 * memory; fn may detach items. A non-zero return from fn (having set the
 * error) stops the listing and is returned. */
typedef int (*azl_kube_page_fn)(cJSON *items, void *ctx);
int azl_kube_list_pages(struct azl_kube *kube, const char *path, const char *query,
			long page_size, azl_kube_page_fn fn, void *ctx);

/* As azl_kube_list_pages(), asking for meta.k8s.io/v1 Tables whose rows
 * carry the printed columns and the objects' metadata
 * (includeObject=Metadata), as kubectl get does: far smaller than the
 * objects. fn gets each whole page: a "Table", or the plain List a server
 * that cannot make Tables answers instead. */
int azl_kube_list_table_pages(struct azl_kube *kube, const char *path, const char *query,
			      long page_size, azl_kube_page_fn fn, void *ctx);

/* A request, for azl_kube_do(). */
struct azl_kube_request {
	const char *method;
	const char *path;            /* absolute, with any query */
	const char *content_type;    /* NULL without a body */
	const char *body;
	size_t body_len;
	const char *accept;          /* NULL: application/json */
	/* A GET is retried under the client's policy (azl_kube_set_retry)
	 * when a 429/5xx answer carries Retry-After, as client-go does; any
	 * other method only when it names a policy here. */
	struct azl_retry *retry;
};

/* One entry of a Status's details.causes: type is a metav1.CauseType
 * ("DisruptionBudget", "NamespaceTerminating", "FieldValueInvalid"). */
struct azl_kube_cause {
	char *type, *message, *field;   /* "" when absent */
};

/* What the server answered. A 2xx leaves body (NULL when empty); anything
 * else the metav1.Status it carried (reason "" when it had none), so that a
 * PodDisruptionBudget's 429 (cause DisruptionBudget) can be told from the
 * API server's throttling without reading the message. */
struct azl_kube_result {
	long status;                 /* HTTP status; 0 when none arrived */
	struct strbuf reason;        /* Status.reason: "TooManyRequests" ... */
	struct strbuf message;       /* Status.message */
	struct azl_kube_cause *causes;
	size_t nr_causes;
	long retry_after_ms;         /* Retry-After, else details.retryAfterSeconds;
				      * -1 when neither */
	cJSON *body;                 /* a 2xx answer's JSON, owned */
};
#define AZL_KUBE_RESULT_INIT { 0, STRBUF_INIT, STRBUF_INIT, NULL, 0, -1, NULL }
void azl_kube_result_release(struct azl_kube_result *res);
/* 1 when one of res's causes has that type. */
int azl_kube_result_has_cause(const struct azl_kube_result *res, const char *type);

/* Sends req and fills *res (released first); 0 for a 2xx, else the error
 * for the status (retry.h's map) with the Status message as its one line.
 * A transport failure leaves res->status 0. */
int azl_kube_do(struct azl_kube *kube, const struct azl_kube_request *req,
		struct azl_kube_result *res);

/* metav1.DeleteOptions. */
struct azl_kube_delete_options {
	long grace_period_s;         /* -1: the object's own */
	const char *uid;             /* preconditions.uid, or NULL */
	const char *resource_version; /* preconditions.resourceVersion, or NULL */
	int dry_run;                 /* dryRun: ["All"] */
	const char *propagation;     /* propagationPolicy, or NULL */
};
#define AZL_KUBE_DELETE_OPTIONS_INIT { -1, NULL, NULL, 0, NULL }
/* The DeleteOptions object o describes (for a DELETE's body or an
 * Eviction's deleteOptions); never NULL. */
cJSON *azl_kube_delete_options_json(const struct azl_kube_delete_options *o);

/* DELETE path with o (NULL: defaults) as its body. 404 is AZL_ENOTFOUND,
 * a failed precondition 409 AZL_ECONFLICT; res tells the rest. */
int azl_kube_delete(struct azl_kube *kube, const char *path,
		    const struct azl_kube_delete_options *o, struct azl_kube_result *res);

/* As azl_kube_list_pages(), also copying the list's
 * metadata.resourceVersion (the snapshot all its pages come from, where a
 * watch starts) into *resource_version. */
int azl_kube_list_pages_rv(struct azl_kube *kube, const char *path, const char *query,
			   long page_size, azl_kube_page_fn fn, void *ctx,
			   struct strbuf *resource_version);

/* GET path as a stream: the body of a 2xx answer goes to s->on_data as it
 * arrives, s->should_stop is polled while it waits (http.h). Anything
 * else is answered as by azl_kube_do(), in *res. */
int azl_kube_stream(struct azl_kube *kube, const char *path,
		    const struct azl_http_stream *s, struct azl_kube_result *res);

int azl_kube_patch(struct azl_kube *kube, const char *path,
		   enum azl_patch_type type, const char *body, cJSON **out);
int azl_kube_create(struct azl_kube *kube, const char *path,
		    const cJSON *body, cJSON **out);

#endif
