/* An Azure Resource Manager client for Microsoft.ContainerService, built on
 * http.h (shared/reference/aks-api.md §2, §3).
 *
 * Every request carries the pinned api-version and
 * "User-Agent: kubectl-azlinux/<version>". An ARM error body
 * {"error":{"code","message"}} becomes one line naming the method, the
 * path, the code, the message and the x-ms-correlation-request-id, which is
 * what Azure support asks for; the status becomes an AZL_E* code through
 * retry.h's one map (409 OperationNotAllowed is AZL_EBUSY, 412 AZL_ESTALE).
 * Lists follow nextLink, and status URLs are followed, but only on the
 * endpoint's own host: the bearer token never goes anywhere else.
 *
 * Retries follow the method, under a retry policy (retry.h) that the
 * caller may own:
 * - a 401 is answered once with a fresh token, whatever the method;
 * - a 429 is retried whatever the method (ARM did not process it), with
 *   Retry-After honoured;
 * - 408/500/502/503/504 and connection failures are retried only for a
 *   request that may be repeated: GET, HEAD, and a PUT or DELETE with
 *   If-Match (the eTag makes a repeat harmless). A POST action, or a PUT
 *   or DELETE without If-Match, is not repeated after it was sent: its
 *   failure is returned at once. */
#ifndef AZL_ARM_H
#define AZL_ARM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "http.h"
#include "retry.h"
#include "strbuf.h"
#include "version.h"

struct azl_arm;

/* 300 s: az's (azure-core's ConnectionConfiguration: read_timeout and
 * connection_timeout both default to 300 s). ARM's answers are small JSON
 * bodies that arrive in one read after their headers, so az's per-read
 * limit is in effect the wait for the whole answer. */
#define AZL_ARM_DEFAULT_TIMEOUT_MS 300000L

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
	/* The policy requests follow unless they name their own; owned by the
	 * caller, who may cancel through it. NULL: the client makes one from
	 * the three fields below. */
	struct azl_retry *retry;
	int max_retries;             /* retries after the first try; 0: 4 */
	long retry_budget_ms;        /* total time spent waiting; 0: 60000 */
	long retry_base_ms;          /* first backoff; 0: 500 */
	/* Each request's deadline, from the first byte sent to the last
	 * received: 0 for AZL_ARM_DEFAULT_TIMEOUT_MS, negative for none. A
	 * request that runs out of it fails with AZL_ETIMEOUT, retried as a
	 * lost connection is (above). */
	long timeout_ms;
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

/* One ARM request. */
struct azl_arm_request {
	const char *method;          /* "GET" (also when NULL), "PUT", "POST", "DELETE", "PATCH" */
	/* "/subscriptions/..." (api-version added), or an absolute URL on the
	 * endpoint's host, such as an Azure-AsyncOperation or Location
	 * (refused elsewhere: the token would follow it) */
	const char *path;
	const char *query;           /* more parameters, encoded: "a=1&b=2"; or NULL */
	const cJSON *body;           /* sent as application/json; or NULL */
	const char *if_match;        /* an eTag as ARM gave it; or NULL */
	const char *if_none_match;   /* "*"; or NULL */
	struct azl_retry *retry;     /* NULL: the client's policy */
};

/* One ARM response, of azl_arm_do() and of each request of
 * azl_arm_get_many(). The headers are "" when absent. */
struct azl_arm_result {
	int code;                    /* 0 or a negative AZL_E* */
	cJSON *json;                 /* the body, owned; NULL when it was empty */
	struct strbuf error;         /* the one-line message on failure */
	long status;                 /* the last answer's; 0 when none came */
	struct strbuf error_code;    /* ARM's error.code ("OperationNotAllowed") */
	struct strbuf etag;          /* ETag header, else the body's eTag */
	struct strbuf async_operation; /* Azure-AsyncOperation */
	struct strbuf location;      /* Location */
	long retry_after_ms;         /* Retry-After; -1 when absent */
	struct strbuf correlation_id; /* x-ms-correlation-request-id */
	time_t date;                 /* the Date header: ARM's clock; 0 when absent */
};
#define AZL_ARM_RESULT_INIT { 0, NULL, STRBUF_INIT, 0, STRBUF_INIT, STRBUF_INIT, \
			      STRBUF_INIT, STRBUF_INIT, -1, STRBUF_INIT, 0 }
void azl_arm_result_release(struct azl_arm_result *res);

/* Sends one request, retried as the header says. A 2xx succeeds, with or
 * without a body (202 and 204 usually have none); anything else returns
 * res->code with its message set. res (which need not be
 * initialised; to be released) is filled either way. */
int azl_arm_do(struct azl_arm *arm, const struct azl_arm_request *req,
	       struct azl_arm_result *res);

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
