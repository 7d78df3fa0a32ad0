/* An Azure Resource Manager client for Microsoft.ContainerService, built on
 * http.h (shared/reference/aks-api.md §2, §3).
 *
 * Every request carries the pinned api-version and
 * "User-Agent: kubectl-azlinux/<version>". Throttling (429), server errors
 * (5xx) and connection failures are retried with exponential backoff and
 * jitter, honouring Retry-After, bounded in count and in total time. An ARM
 * error body {"error":{"code","message"}} becomes one line naming the code,
 * the message and the x-ms-correlation-request-id, which is what Azure
 * support asks for. Lists follow nextLink, but only on the endpoint's own
 * host: the bearer token never goes anywhere else. */
#ifndef AZL_ARM_H
#define AZL_ARM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "http.h"
#include "strbuf.h"
#include "version.h"

struct azl_arm;

/* Supplies a bearer token for the ARM scope (never logged). The ARM client
 * calls it before each request; it must cache. force is 1 after a 401, to
 * ask for a fresh token. */
typedef int (*azl_arm_token_fn)(void *data, int force, struct strbuf *token);

/* ARM tokens from an azl_auth, kept in memory and shared by any number of
 * clients on any number of threads: one token fetch serves a whole fleet.
 * A token is reused until AZL_TOKEN_REFRESH_MARGIN before it expires. */
struct azl_arm_credential;
int azl_arm_credential_new(struct azl_arm_credential **out, struct azl_auth *auth);
void azl_arm_credential_free(struct azl_arm_credential *cred);
/* Starts getting the token on a thread of its own, so that work needing no
 * token goes on meanwhile; requests wait for it. A failure is kept: every
 * request after it fails the same way without asking again, so a fleet asks
 * a failing token endpoint once. */
void azl_arm_credential_prefetch(struct azl_arm_credential *cred);
/* Waits for a prefetch (if any) to end; its failure says "getting a token
 * for Azure Resource Manager: ...", as a request's would. */
int azl_arm_credential_wait(struct azl_arm_credential *cred);

/* Either credential or token must be given. With credential, endpoint and
 * ca_file default to azl_auth_arm_endpoint() and azl_auth_ca_file(). */
struct azl_arm_options {
	struct azl_arm_credential *credential;
	azl_arm_token_fn token;
	void *token_data;
	const char *endpoint;        /* "https://management.azure.com/" */
	const char *ca_file;         /* CA bundle, or NULL for the system store */
	int max_retries;             /* retries after the first try; 0: 4 */
	long retry_budget_ms;        /* total time spent waiting; 0: 60000 */
	long retry_base_ms;          /* first backoff; 0: 500 */
	long timeout_ms;             /* per request; 0: 60000 */
	int max_parallel;            /* azl_arm_get_many; 0: 16 */
	/* The client may be used by several threads at once; their requests
	 * share its connections (http.h). */
	int concurrent;
};

int azl_arm_new(struct azl_arm **out, const struct azl_arm_options *opts);
void azl_arm_free(struct azl_arm *arm);

/* Opens the connection to ARM in the background (a concurrent client's;
 * azl_http_preconnect()), as the token is fetched: its TLS handshake is
 * then off the path of the first requests. */
void azl_arm_preconnect(struct azl_arm *arm);

/* GETs a resource. path is "/subscriptions/..." (the api-version is added);
 * *out is owned by the caller. A 404 returns AZL_ENOTFOUND. */
int azl_arm_get(struct azl_arm *arm, const char *path, cJSON **out);

/* GETs every page of a list (following nextLink) and returns the
 * concatenated "value" arrays in *items, owned by the caller. */
int azl_arm_list(struct azl_arm *arm, const char *path, cJSON **items);

/* The outcome of one request of azl_arm_get_many(). */
struct azl_arm_result {
	int code;                    /* 0 or a negative AZL_E* */
	cJSON *json;                 /* the body on success, owned */
	struct strbuf error;         /* the one-line message on failure */
};
#define AZL_ARM_RESULT_INIT { 0, NULL, STRBUF_INIT }
void azl_arm_result_release(struct azl_arm_result *res);

/* GETs n independent resources concurrently over shared connections, each
 * with the same retry rules as azl_arm_get(). Per-request failures land in
 * results[i] and do not stop the others. Returns 0, or an error only when
 * nothing could be attempted (no token). */
int azl_arm_get_many(struct azl_arm *arm, const char *const *paths, size_t n,
		     struct azl_arm_result *results);

/* azl_arm_list() with azl_arm_get_many(paths) sent alongside its first
 * page, saving a round trip when they do not depend on the list. results
 * are filled (to be released) whether or not the list succeeds. */
int azl_arm_list_along(struct azl_arm *arm, const char *path, cJSON **items,
		       const char *const *paths, size_t n, struct azl_arm_result *results);

/* An ARM resource id split into its parts; the strings are owned. */
struct azl_arm_id {
	char *subscription;
	char *resource_group;
	char *provider;              /* "Microsoft.ContainerService" */
	char *type;                  /* "managedClusters" */
	char *name;
};
/* Parses "/subscriptions/S/resourceGroups/G/providers/P/T/N[/...]"
 * (case-insensitive segment names). */
int azl_arm_id_parse(const char *id, struct azl_arm_id *out);
void azl_arm_id_release(struct azl_arm_id *id);

/* Builds "/subscriptions/S/resourceGroups/G/providers/Microsoft.ContainerService/managedClusters/N"
 * with each part URL-encoded. */
void azl_arm_cluster_path(struct strbuf *sb, const char *subscription,
			  const char *resource_group, const char *name);

#endif
