/* Azure identity: the credential chain, login/logout and token caching
 * (issue 3; shared/reference/credentials.md).
 *
 * azl_auth_token() tries, unless opts->mode (or $AZLINUX_AUTH) picks one:
 *   env               AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET
 *                     or AZURE_CLIENT_CERTIFICATE_PATH
 *   workload-identity AZURE_FEDERATED_TOKEN_FILE (+ tenant and client id)
 *   login             the account saved by azl_auth_login()
 *   azure-cli         az account get-access-token (tokens not re-cached)
 *   managed-identity  IDENTITY_ENDPOINT/IDENTITY_HEADER, else IMDS
 * When every source fails the message lists each one and why.
 *
 * Tokens are cached (AZLINUX_TOKEN_CACHE=keyring|file|none, default
 * keyring) and reused until 5 minutes before expiry. Endpoints honour
 * AZURE_AUTHORITY_HOST, AZLINUX_ARM_ENDPOINT, AZLINUX_IMDS_ENDPOINT and
 * SSL_CERT_FILE. Secrets never reach messages or logs. */
#ifndef AZL_AUTH_H
#define AZL_AUTH_H

#include <stddef.h>
#include <time.h>

#include "cloud.h"
#include "strbuf.h"

struct azl_auth;

enum azl_auth_event {
	AZL_AUTH_EVENT_DEVICE_CODE, /* message: where to go and the code to enter */
	AZL_AUTH_EVENT_WARNING,     /* one line, e.g. the keyring is unavailable */
	AZL_AUTH_EVENT_PROGRESS     /* one line, e.g. "waiting for sign-in" */
};

typedef void (*azl_auth_notify_fn)(enum azl_auth_event event,
				   const char *message, void *data);

struct azl_auth_options {
	const char *mode;       /* NULL: $AZLINUX_AUTH, else the chain; or env,
				 * workload-identity, login, azure-cli,
				 * managed-identity */
	const char *cloud;      /* NULL: $AZLINUX_CLOUD, else AzureCloud */
	const char *tenant;     /* NULL: the source's own (AZURE_TENANT_ID...) */
	const char *client_id;  /* NULL: the source's own */
	const char *cache_mode; /* NULL: $AZLINUX_TOKEN_CACHE, else keyring */
	azl_auth_notify_fn notify; /* may be NULL */
	void *notify_data;
};

/* The credential sources (the values of mode) in chain order, for help and
 * completion: i = 0, 1, ... until NULL. */
const char *azl_auth_source_name(size_t i);

int azl_auth_new(struct azl_auth **out, const struct azl_auth_options *opts);
void azl_auth_free(struct azl_auth *auth);

/* A bearer token for scope (NULL: the cloud's ARM scope), from the cache
 * or the first source that works. token is reset first; expires_on may be
 * NULL. AZL_EAUTH when no source could produce one. */
int azl_auth_token(struct azl_auth *auth, const char *scope,
		   struct strbuf *token, time_t *expires_on);

/* Forgets the cached token for scope (NULL: the ARM scope), so the next
 * azl_auth_token() fetches a new one: for a 401 with a token that looked
 * valid. */
int azl_auth_invalidate(struct azl_auth *auth, const char *scope);

const struct azl_cloud *azl_auth_cloud(const struct azl_auth *auth);
/* $AZLINUX_ARM_ENDPOINT if set, else the cloud's; no trailing slash. */
const char *azl_auth_arm_endpoint(const struct azl_auth *auth);
/* $SSL_CERT_FILE if set, else NULL (the system trust store). */
const char *azl_auth_ca_file(const struct azl_auth *auth);

/* Who we are; never a secret. Strings are NULL when unknown. */
struct azl_auth_info {
	char *source;     /* env, workload-identity, login, azure-cli,
			   * managed-identity */
	char *method;     /* client-secret, client-certificate, device-code,
			   * imds, app-service, ... */
	char *principal;  /* user name, app id or managed identity id */
	char *tenant;
	char *client_id;
	char *cloud;
	char *cache;      /* keyring, file or none: where tokens are kept */
	time_t expires_on; /* of the current ARM token; 0 when none */
};

/* Gets (or reuses) an ARM token through the chain and describes it. */
int azl_auth_status(struct azl_auth *auth, struct azl_auth_info *out);
void azl_auth_info_release(struct azl_auth_info *info);

enum azl_login_kind {
	AZL_LOGIN_DEVICE_CODE,
	AZL_LOGIN_SERVICE_PRINCIPAL,
	AZL_LOGIN_MANAGED_IDENTITY,
	AZL_LOGIN_AZURE_CLI
};

struct azl_login_options {
	enum azl_login_kind kind;
	const char *client_secret;     /* service principal; never from argv */
	const char *certificate_path;  /* service principal, instead of secret */
	const char *mi_client_id;      /* managed identity selectors, optional */
	const char *mi_object_id;
	const char *mi_resource_id;
};

/* Signs in (tenant, client id and cloud from the azl_auth options), gets an
 * ARM token to prove it works, and saves the account in the token cache so
 * the "login" source uses it. out may be NULL. */
int azl_auth_login(struct azl_auth *auth, const struct azl_login_options *lo,
		   struct azl_auth_info *out);

/* Removes everything login stored for tenant (NULL: every tenant) in the
 * configured cache; *removed (may be NULL) counts the entries removed. */
int azl_auth_logout(struct azl_auth *auth, const char *tenant, int *removed);

#endif
