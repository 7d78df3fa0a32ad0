/* Shared by core/auth*.c only: a resolved credential and the helpers each
 * source uses. Not for other modules. */
#ifndef AZL_AUTH_INTERNAL_H
#define AZL_AUTH_INTERNAL_H

#include <time.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "http.h"
#include "strbuf.h"
#include "tokencache.h"

/* The well-known public client used for device-code sign-in to ARM (the
 * Azure CLI's; credentials.md §3), and its default tenant. */
#define AZL_DEVICE_CODE_CLIENT_ID "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
#define AZL_DEVICE_CODE_TENANT "organizations"

enum azl_method {
	AZL_M_CLIENT_SECRET,
	AZL_M_CLIENT_CERTIFICATE,
	AZL_M_FEDERATED_TOKEN,
	AZL_M_DEVICE_CODE,      /* via the saved refresh token */
	AZL_M_IMDS,
	AZL_M_APP_SERVICE,
	AZL_M_AZURE_CLI
};

/* A source, resolved: who to ask and with what. */
struct azl_cred {
	const char *source;     /* env, workload-identity, login, ... */
	enum azl_method method;
	char *tenant;           /* "" when the source has none (managed identity) */
	char *client_id;        /* app id, or the managed identity selector */
	char *principal;        /* display name when known */
	struct strbuf secret;   /* client secret: never log */
	char *cert_path;
	char *token_file;
	char *mi_client_id, *mi_object_id, *mi_resource_id;
};
#define AZL_CRED_INIT { NULL, AZL_M_CLIENT_SECRET, NULL, NULL, NULL, STRBUF_INIT, \
	NULL, NULL, NULL, NULL, NULL }
void azl_cred_release(struct azl_cred *c);
const char *azl_method_name(enum azl_method m);

struct azl_token {
	struct strbuf access_token;   /* never log */
	struct strbuf refresh_token;  /* never log */
	time_t expires_on;
	char *principal;              /* from the id_token, when there is one */
	char *tenant;                 /* the id_token's tid, when there is one */
	struct strbuf error;          /* after a failure: Entra's "error" code */
};
#define AZL_TOKEN_INIT { STRBUF_INIT, STRBUF_INIT, 0, NULL, NULL, STRBUF_INIT }
void azl_token_release(struct azl_token *t);

struct azl_auth {
	const struct azl_cloud *cloud;
	struct strbuf authority;      /* no trailing slash */
	struct strbuf arm_endpoint;   /* no trailing slash */
	char *ca_file;
	char *mode;                   /* NULL: the chain */
	char *tenant, *client_id;     /* from the options */
	char *cache_mode;             /* NULL: $AZLINUX_TOKEN_CACHE */
	int cache_degraded;           /* the cache fell back to none, and said so */
	struct azl_tokencache *cache;
	struct azl_http *http;        /* made on first use */
	azl_auth_notify_fn notify;
	void *notify_data;
	struct azl_auth_info last;    /* what the last token came from */
};

/* Cache keys for c's entries of kind ("access_token", "refresh_token",
 * "client_secret", "account"). */
void azl_cred_key(const struct azl_auth *a, const struct azl_cred *c,
		  const char *kind, const char *scope, struct azl_token_key *k);
/* Sets a managed identity's cache name and its method (App Service or
 * IMDS, from the environment). */
void azl_cred_mi_name(struct azl_cred *c);
/* A fresh token from the credential, bypassing the cache. */
int azl_cred_acquire(struct azl_auth *a, const struct azl_cred *c, const char *scope,
		     struct azl_token *tok);
/* Records what the token came from, for azl_auth_status(). */
void azl_auth_remember(struct azl_auth *a, const struct azl_cred *c,
		       const struct azl_token *tok);
/* The account saved by login, as the "login" source (auth_login.c). */
int azl_account_load(struct azl_auth *a, struct azl_cred *c);
/* Stores in the opened cache; a failure is a warning, not an error. */
void azl_auth_cache_put(struct azl_auth *a, const struct azl_token_key *k,
			const struct azl_token_entry *e);
/* Takes the cache's cross-process lock if it can (see auth.c). */
void azl_auth_lock(struct azl_tokencache *tc);
/* The opened token cache (opened on first use). */
int azl_auth_cache(struct azl_auth *a, struct azl_tokencache **out);

void azl_auth_notify(struct azl_auth *a, enum azl_auth_event ev,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int azl_auth_http(struct azl_auth *a, struct azl_http **out);

/* ---- Entra ID v2 token endpoint (auth_entra.c) ---- */

/* Appends "&name=value" (no '&' first) with value URL-encoded. */
void azl_form_add(struct strbuf *form, const char *name, const char *value);
/* tok->expires_on from a token response's expires_on (epoch seconds) or
 * else expires_in (seconds from now; 0 when neither), each a JSON number
 * or a numeric string (num.h). AZL_EINVALID naming a field out of range. */
int azl_token_expiry(const cJSON *body, struct azl_token *tok);

/* POSTs form to {authority}/{tenant}/oauth2/v2.0/{endpoint}. */
int azl_entra_post(struct azl_auth *a, const char *tenant, const char *endpoint,
		   const struct strbuf *form, struct azl_http_response *resp);
/* Turns a 200 token response into tok; anything else into the one-line
 * Entra error (see azl_entra_error), its code in tok->error. */
int azl_entra_parse_token(const struct azl_http_response *resp,
			  const char *what, struct azl_token *tok);
/* The body's "error" code ("" when none) into code, and an error message:
 * "<what>: <error>: <AADSTS line> (trace ID ...); <what to do>". */
int azl_entra_error(const struct azl_http_response *resp, const char *what,
		    struct strbuf *code);
/* Client credentials with a secret, a certificate or a federated token. */
int azl_entra_client_credentials(struct azl_auth *a, const struct azl_cred *c,
				 const char *scope, struct azl_token *tok);
/* The refresh-token grant; the response's refresh token is in tok. */
int azl_entra_refresh(struct azl_auth *a, const struct azl_cred *c,
		      const char *refresh_token, const char *scope,
		      struct azl_token *tok);
/* A display name from a JWT's claims (upn, preferred_username, unique_name,
 * appid, oid); 0 and out set, or AZL_ENOTFOUND. Never logs the token. */
int azl_jwt_principal(const char *jwt, struct strbuf *out);
/* The tenant id (tid claim) of a JWT; 0 and out set, or AZL_ENOTFOUND. */
int azl_jwt_tenant(const char *jwt, struct strbuf *out);
/* Appends the v1 resource of a v2 scope ("<resource>/.default"), as
 * managed identity and the Azure CLI want it. */
void azl_scope_resource(struct strbuf *out, const char *scope);
/* Appends scope plus what a refresh token needs ("offline_access openid
 * profile"). */
void azl_entra_user_scope(struct strbuf *out, const char *scope);

/* ---- client assertion from a certificate (auth_assertion.c) ---- */

/* An RS256 JWT (x5t and x5t#S256 headers) for client_id at the tenant's
 * token endpoint, signed with the key in the PEM file at path. */
int azl_assertion_from_certificate(const char *path, const char *client_id,
				   const char *audience, struct strbuf *out);

/* ---- device code (auth_devicecode.c) ---- */

/* A device-code grant under way: the interval is within [0, 600] s. */
struct azl_device_code {
	char *device_code;     /* never log */
	long interval;         /* seconds between polls */
	time_t deadline;
	struct strbuf message; /* what to show the user */
};
#define AZL_DEVICE_CODE_INIT { NULL, 5, 0, STRBUF_INIT }
void azl_device_code_release(struct azl_device_code *dc);
/* Entra ID's answer to the devicecode request, into dc; a non-200 as
 * azl_entra_error(). */
int azl_devicecode_parse(const struct azl_http_response *resp, struct azl_device_code *dc);

int azl_devicecode_login(struct azl_auth *a, const struct azl_cred *c,
			 const char *scope, struct azl_token *tok);

/* ---- managed identity (auth_imds.c) ---- */

/* The answer of the managed identity endpoint at base (for messages): a
 * 200's token into tok, anything else into an error. */
int azl_mi_parse(const struct azl_http_response *resp, const char *base,
		 struct azl_token *tok);
/* AZL_EUNAVAILABLE when no managed-identity endpoint answers. */
int azl_mi_token(struct azl_auth *a, const struct azl_cred *c,
		 const char *scope, struct azl_token *tok);

/* ---- Azure CLI (auth_azcli.c) ---- */

/* The JSON 'az account get-access-token -o json' printed, into tok. */
int azl_azcli_parse(const struct strbuf *out, struct azl_token *tok);
/* AZL_EUNAVAILABLE when az is not installed or not logged in. */
int azl_azcli_token(struct azl_auth *a, const struct azl_cred *c,
		    const char *scope, struct azl_token *tok);

#endif
