/* login, logout and status: the account that login saves is what the
 * chain's "login" source reads back. */
#include "auth_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "json.h"
#include "wrapper.h"

static int method_by_name(const char *name, enum azl_method *out)
{
	int m;

	for (m = AZL_M_CLIENT_SECRET; name && m <= AZL_M_AZURE_CLI; m++) {
		if (!strcmp(name, azl_method_name((enum azl_method)m))) {
			*out = (enum azl_method)m;
			return 0;
		}
	}
	return -1;
}

/* ---- the saved account: who, and how; the secret is a separate entry ---- */

static char *account_encode(const struct azl_cred *c)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "method", azl_method_name(c->method));
	cJSON_AddStringToObject(o, "tenant", c->tenant);
	cJSON_AddStringToObject(o, "client_id", c->client_id);
	if (c->principal)
		cJSON_AddStringToObject(o, "principal", c->principal);
	if (c->cert_path)
		cJSON_AddStringToObject(o, "certificate_path", c->cert_path);
	if (c->mi_client_id)
		cJSON_AddStringToObject(o, "mi_client_id", c->mi_client_id);
	if (c->mi_object_id)
		cJSON_AddStringToObject(o, "mi_object_id", c->mi_object_id);
	if (c->mi_resource_id)
		cJSON_AddStringToObject(o, "mi_resource_id", c->mi_resource_id);
	s = azl_json_print(o, 0);
	cJSON_Delete(o);
	return s;
}

static int account_decode(const char *json, struct azl_cred *c)
{
	cJSON *o = cJSON_Parse(json);
	int rc = 0;

	if (method_by_name(azl_json_str(o, "method", NULL), &c->method) < 0 ||
	    !azl_json_str(o, "tenant", NULL) || !azl_json_str(o, "client_id", NULL))
		rc = azl_error_set(AZL_EUNAVAILABLE,
			"the saved sign-in is unreadable: run 'kubectl azlinux login' again");
	if (rc == 0) {
		c->tenant = xstrdup(azl_json_str(o, "tenant", ""));
		c->client_id = xstrdup(azl_json_str(o, "client_id", ""));
		c->principal = xstrdup_or_null(azl_json_str(o, "principal", NULL));
		c->cert_path = xstrdup_or_null(azl_json_str(o, "certificate_path", NULL));
		c->mi_client_id = xstrdup_or_null(azl_json_str(o, "mi_client_id", NULL));
		c->mi_object_id = xstrdup_or_null(azl_json_str(o, "mi_object_id", NULL));
		c->mi_resource_id = xstrdup_or_null(azl_json_str(o, "mi_resource_id", NULL));
	}
	cJSON_Delete(o);
	return rc;
}

static int load_secret(struct azl_auth *a, struct azl_tokencache *tc, struct azl_cred *c)
{
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;
	struct azl_token_key k;

	azl_cred_key(a, c, "client_secret", "", &k);
	if (azl_tokencache_get(tc, &k, &e) < 0)
		return azl_error_set(AZL_EUNAVAILABLE,
			"the saved service principal's secret is missing: run 'kubectl azlinux login --service-principal' again");
	strbuf_addbuf(&c->secret, &e.value);
	azl_token_entry_release(&e);
	return 0;
}

int azl_account_load(struct azl_auth *a, struct azl_cred *c)
{
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;
	struct azl_token_key k = { a->cloud->name, a->tenant, a->client_id, "account", NULL };
	struct azl_tokencache *tc;
	int rc;

	rc = azl_auth_cache(a, &tc);
	if (rc == 0 && azl_tokencache_get(tc, &k, &e) < 0)
		rc = azl_error_set(AZL_EUNAVAILABLE, "no saved sign-in%s",
			!strcmp(azl_tokencache_backend(tc), "none")
				? " (the token cache is off)" : "");
	if (rc == 0)
		rc = account_decode(e.value.buf, c);
	if (rc == 0 && c->method == AZL_M_CLIENT_SECRET)
		rc = load_secret(a, tc, c);
	azl_token_entry_release(&e);
	return rc;
}

/* ---- login ---- */

static int need(const char *value, const char *what)
{
	if (value && *value)
		return 0;
	return azl_error_set(AZL_EINVALID, "%s", what);
}

static int login_cred(struct azl_auth *a, const struct azl_login_options *lo,
		      struct azl_cred *c)
{
	int rc = 0;

	switch (lo->kind) {
	case AZL_LOGIN_DEVICE_CODE:
		c->method = AZL_M_DEVICE_CODE;
		c->tenant = xstrdup(a->tenant ? a->tenant : AZL_DEVICE_CODE_TENANT);
		c->client_id = xstrdup(a->client_id ? a->client_id : AZL_DEVICE_CODE_CLIENT_ID);
		return 0;
	case AZL_LOGIN_SERVICE_PRINCIPAL:
		rc = need(a->tenant, "--service-principal needs --tenant");
		if (rc == 0)
			rc = need(a->client_id, "--service-principal needs --client-id");
		if (rc == 0 && !lo->certificate_path)
			rc = need(lo->client_secret,
				  "--service-principal needs the client secret on stdin, or --certificate");
		if (rc < 0)
			return rc;
		c->tenant = xstrdup(a->tenant);
		c->client_id = xstrdup(a->client_id);
		c->method = lo->certificate_path ? AZL_M_CLIENT_CERTIFICATE : AZL_M_CLIENT_SECRET;
		c->cert_path = xstrdup_or_null(lo->certificate_path);
		if (!lo->certificate_path)
			strbuf_addstr(&c->secret, lo->client_secret);
		return 0;
	case AZL_LOGIN_MANAGED_IDENTITY:
		c->mi_client_id = xstrdup_or_null(lo->mi_client_id ? lo->mi_client_id : a->client_id);
		c->mi_object_id = xstrdup_or_null(lo->mi_object_id);
		c->mi_resource_id = xstrdup_or_null(lo->mi_resource_id);
		azl_cred_mi_name(c);
		return 0;
	case AZL_LOGIN_AZURE_CLI:
		c->method = AZL_M_AZURE_CLI;
		c->tenant = xstrdup(a->tenant ? a->tenant : "");
		c->client_id = xstrdup("");
		return 0;
	}
	return azl_error_set(AZL_EINVALID, "unknown login kind");
}

static void put_value(struct azl_auth *a, const struct azl_cred *c, const char *kind,
		      const char *scope, const char *value, time_t expires_on)
{
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;
	struct azl_token_key k;

	azl_cred_key(a, c, kind, scope, &k);
	strbuf_addstr(&e.value, value);
	e.expires_on = expires_on;
	azl_auth_cache_put(a, &k, &e);
	azl_token_entry_release(&e);
}

/* Replaces whatever was saved for this identity: a new sign-in as another
 * user must not be served the previous user's cached token. */
static void save_login(struct azl_auth *a, struct azl_cred *c, const struct azl_token *tok)
{
	struct azl_token_key k;
	char *account;

	azl_cred_key(a, c, NULL, NULL, &k);
	k.scope = NULL;
	azl_tokencache_remove(a->cache, &k, NULL);
	if (!c->principal && tok->principal)
		c->principal = xstrdup(tok->principal);
	account = account_encode(c);
	put_value(a, c, "account", "", account, 0);
	free(account);
	if (c->method == AZL_M_CLIENT_SECRET)
		put_value(a, c, "client_secret", "", c->secret.buf, 0);
	if (tok->refresh_token.len)
		put_value(a, c, "refresh_token", "", tok->refresh_token.buf, 0);
	if (c->method != AZL_M_AZURE_CLI)
		put_value(a, c, "access_token", a->cloud->arm_scope, tok->access_token.buf,
			  tok->expires_on);
}

static void info_copy(struct azl_auth_info *dst, const struct azl_auth_info *src)
{
	dst->source = xstrdup_or_null(src->source);
	dst->method = xstrdup_or_null(src->method);
	dst->principal = xstrdup_or_null(src->principal);
	dst->tenant = xstrdup_or_null(src->tenant);
	dst->client_id = xstrdup_or_null(src->client_id);
	dst->cloud = xstrdup_or_null(src->cloud);
	dst->cache = xstrdup_or_null(src->cache);
	dst->expires_on = src->expires_on;
}

int azl_auth_login(struct azl_auth *a, const struct azl_login_options *lo,
		   struct azl_auth_info *out)
{
	struct azl_cred c = AZL_CRED_INIT;
	struct azl_token tok = AZL_TOKEN_INIT;
	struct azl_tokencache *tc;
	const char *scope = a->cloud->arm_scope;
	int rc;

	c.source = "login";
	rc = login_cred(a, lo, &c);
	if (rc == 0)
		rc = azl_auth_cache(a, &tc);
	if (rc == 0)
		rc = lo->kind == AZL_LOGIN_DEVICE_CODE ? azl_devicecode_login(a, &c, scope, &tok)
			: azl_cred_acquire(a, &c, scope, &tok);
	/* "organizations" signs in to the user's home tenant: save that, so
	 * status shows it and logout --tenant finds it. */
	if (rc == 0 && tok.tenant && lo->kind == AZL_LOGIN_DEVICE_CODE && !a->tenant) {
		free(c.tenant);
		c.tenant = xstrdup(tok.tenant);
	}
	if (rc == 0) {
		if (lo->kind == AZL_LOGIN_DEVICE_CODE && !tok.refresh_token.len)
			azl_auth_notify(a, AZL_AUTH_EVENT_WARNING,
				"Entra ID sent no refresh token: this sign-in lasts until the token expires");
		if (!strcmp(azl_tokencache_backend(tc), "none") && !a->cache_degraded)
			azl_auth_notify(a, AZL_AUTH_EVENT_WARNING,
				"the token cache is off (AZLINUX_TOKEN_CACHE=none): this sign-in is not saved");
		save_login(a, &c, &tok);
		azl_auth_remember(a, &c, &tok);
		if (out)
			info_copy(out, &a->last);
	}
	azl_token_release(&tok);
	azl_cred_release(&c);
	return rc;
}

int azl_auth_logout(struct azl_auth *a, const char *tenant, int *removed)
{
	struct azl_token_key k = { NULL, tenant, NULL, NULL, NULL };
	struct azl_tokencache *tc;
	int rc;

	if (removed)
		*removed = 0;
	rc = azl_auth_cache(a, &tc);
	if (rc < 0)
		return rc;
	azl_auth_lock(tc);
	rc = azl_tokencache_remove(tc, &k, removed);
	azl_tokencache_unlock(tc);
	return rc;
}

int azl_auth_status(struct azl_auth *a, struct azl_auth_info *out)
{
	struct strbuf token = STRBUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = azl_auth_token(a, NULL, &token, NULL);
	strbuf_release(&token);
	if (rc == 0)
		info_copy(out, &a->last);
	return rc;
}
