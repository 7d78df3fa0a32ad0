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

#include "kubeconfig.h"

struct azl_kube;

enum azl_patch_type {
	AZL_PATCH_MERGE,            /* application/merge-patch+json */
	AZL_PATCH_STRATEGIC         /* application/strategic-merge-patch+json */
};

/* Borrows cfg: it must outlive the client. */
int azl_kube_new(struct azl_kube **out, const struct azl_rest_config *cfg);
void azl_kube_free(struct azl_kube *kube);

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

int azl_kube_patch(struct azl_kube *kube, const char *path,
		   enum azl_patch_type type, const char *body, cJSON **out);
int azl_kube_create(struct azl_kube *kube, const char *path,
		    const cJSON *body, cJSON **out);

#endif
