/* The credential chain and the token cache in front of it (issue 3).
 *
 * Each source first resolves into an azl_cred (is it configured, as whom)
 * and only then acquires a token, so that a cached token for that identity
 * is found without any request. */
#include "auth_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "version.h"
#include "wrapper.h"

static const char *const method_names[] = {
	"client-secret", "client-certificate", "federated-token", "device-code",
	"imds", "app-service", "azure-cli"
};

const char *azl_method_name(enum azl_method m)
{
	return method_names[m];
}

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

void azl_cred_release(struct azl_cred *c)
{
	free(c->tenant);
	free(c->client_id);
	free(c->principal);
	OPENSSL_cleanse(c->secret.buf, c->secret.len);
	strbuf_release(&c->secret);
	free(c->cert_path);
	free(c->token_file);
	free(c->mi_client_id);
	free(c->mi_object_id);
	free(c->mi_resource_id);
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->secret, 0);
}

void azl_token_release(struct azl_token *t)
{
	strbuf_release(&t->access_token);
	strbuf_release(&t->refresh_token);
	strbuf_release(&t->error);
	free(t->principal);
	free(t->tenant);
	t->principal = NULL;
	t->tenant = NULL;
	t->expires_on = 0;
}

void azl_auth_info_release(struct azl_auth_info *info)
{
	if (!info)
		return;
	free(info->source);
	free(info->method);
	free(info->principal);
	free(info->tenant);
	free(info->client_id);
	free(info->cloud);
	free(info->cache);
	memset(info, 0, sizeof(*info));
}

void azl_auth_notify(struct azl_auth *a, enum azl_auth_event ev, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/* what the front end shows is not logged a second time */
	if (a->notify)
		a->notify(ev, msg.buf, a->notify_data);
	if (!a->notify || ev == AZL_AUTH_EVENT_PROGRESS)
		azl_logf(4, "auth: %s", msg.buf);
	strbuf_release(&msg);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* ---- setup ---- */

static const char *const source_names[] = {
	"env", "workload-identity", "login", "azure-cli", "managed-identity"
};
#define NSOURCES (sizeof(source_names) / sizeof(source_names[0]))

const char *azl_auth_source_name(size_t i)
{
	return i < NSOURCES ? source_names[i] : NULL;
}

static int check_mode(const char *mode, const char *from)
{
	size_t i;

	for (i = 0; i < NSOURCES; i++)
		if (!strcmp(mode, source_names[i]))
			return 0;
	return azl_error_set(AZL_EINVALID,
		"%s: unknown credential source '%s': use env, workload-identity, login, azure-cli or managed-identity",
		from, mode);
}

/* An https base URL without its trailing slash; bare host names get
 * https:// as azidentity requires it (credentials.md §2.1). */
static int base_url(struct strbuf *out, const char *value, const char *var)
{
	strbuf_reset(out);
	if (!strstr(value, "://"))
		strbuf_addstr(out, "https://");
	strbuf_addstr(out, value);
	while (out->len && out->buf[out->len - 1] == '/')
		strbuf_setlen(out, out->len - 1);
	if (strncasecmp(out->buf, "https://", 8) != 0)
		return azl_error_set(AZL_EINVALID, "%s '%s' must be an https:// URL", var, value);
	return 0;
}

static int setup_endpoints(struct azl_auth *a)
{
	const char *authority = env("AZURE_AUTHORITY_HOST");
	const char *arm = env("AZLINUX_ARM_ENDPOINT");
	int rc;

	rc = base_url(&a->authority, authority ? authority : a->cloud->authority_host,
		      "AZURE_AUTHORITY_HOST");
	if (rc == 0)
		rc = base_url(&a->arm_endpoint, arm ? arm : a->cloud->arm_endpoint,
			      "AZLINUX_ARM_ENDPOINT");
	a->ca_file = env("SSL_CERT_FILE") ? xstrdup(env("SSL_CERT_FILE")) : NULL;
	return rc;
}

int azl_auth_new(struct azl_auth **out, const struct azl_auth_options *opts)
{
	static const struct azl_auth_options none = { 0 };
	struct azl_auth *a;
	const char *mode;
	int rc;

	*out = NULL;
	if (!opts)
		opts = &none;
	a = xcalloc(1, sizeof(*a));
	strbuf_init(&a->authority, 0);
	strbuf_init(&a->arm_endpoint, 0);
	a->notify = opts->notify;
	a->notify_data = opts->notify_data;
	mode = opts->mode ? opts->mode : env("AZLINUX_AUTH");
	rc = azl_cloud_from_env(opts->cloud, &a->cloud);
	if (rc == 0 && mode)
		rc = check_mode(mode, opts->mode ? "--auth" : "AZLINUX_AUTH");
	if (rc == 0)
		rc = setup_endpoints(a);
	if (rc < 0) {
		azl_auth_free(a);
		return rc;
	}
	set_str(&a->mode, mode);
	set_str(&a->tenant, opts->tenant);
	set_str(&a->client_id, opts->client_id);
	set_str(&a->cache_mode, opts->cache_mode);
	*out = a;
	return 0;
}

void azl_auth_free(struct azl_auth *a)
{
	if (!a)
		return;
	strbuf_release(&a->authority);
	strbuf_release(&a->arm_endpoint);
	free(a->ca_file);
	free(a->mode);
	free(a->tenant);
	free(a->client_id);
	free(a->cache_mode);
	azl_tokencache_free(a->cache);
	azl_http_free(a->http);
	azl_auth_info_release(&a->last);
	free(a);
}

const struct azl_cloud *azl_auth_cloud(const struct azl_auth *a)
{
	return a->cloud;
}

const char *azl_auth_arm_endpoint(const struct azl_auth *a)
{
	return a->arm_endpoint.buf;
}

const char *azl_auth_ca_file(const struct azl_auth *a)
{
	return a->ca_file;
}

int azl_auth_http(struct azl_auth *a, struct azl_http **out)
{
	struct azl_http_options o = { 0 };
	struct strbuf ua = STRBUF_INIT;
	int rc = 0;

	if (!a->http) {
		strbuf_addf(&ua, "kubectl-azlinux/%s", azl_version_string());
		o.ca_file = a->ca_file;
		o.timeout_ms = 60000;
		o.connect_timeout_ms = 10000;
		o.user_agent = ua.buf;
		rc = azl_http_new(&a->http, &o);
		strbuf_release(&ua);
	}
	*out = a->http;
	return rc;
}

/* Opened on first use, so commands that never need a token never touch
 * the keyring; its one-line warning goes out once. */
int azl_auth_cache(struct azl_auth *a, struct azl_tokencache **out)
{
	struct strbuf warning = STRBUF_INIT;
	int rc = 0;

	if (!a->cache) {
		rc = azl_tokencache_open(&a->cache, a->cache_mode, &warning);
		a->cache_degraded = warning.len > 0;
		if (warning.len)
			azl_auth_notify(a, AZL_AUTH_EVENT_WARNING, "%s", warning.buf);
	}
	strbuf_release(&warning);
	*out = a->cache;
	return rc;
}

/* A token we could not cache is still a token: warn, and go on. */
void azl_auth_cache_put(struct azl_auth *a, const struct azl_token_key *k,
			const struct azl_token_entry *e)
{
	struct azl_error_state st;

	azl_error_save(&st);
	if (azl_tokencache_put(a->cache, k, e) < 0)
		azl_auth_notify(a, AZL_AUTH_EVENT_WARNING, "%s (not cached)",
				azl_error_message());
	azl_error_restore(&st);
}

/* ---- sources: is it configured, and as whom ---- */

void azl_cred_key(const struct azl_auth *a, const struct azl_cred *c,
		  const char *kind, const char *scope, struct azl_token_key *k)
{
	k->cloud = a->cloud->name;
	k->tenant = c->tenant ? c->tenant : "";
	k->client_id = c->client_id ? c->client_id : "";
	k->kind = kind;
	k->scope = scope ? scope : "";
}

static int not_set(const char *what)
{
	return azl_error_set(AZL_EUNAVAILABLE, "%s not set", what);
}

static int resolve_app(struct azl_auth *a, struct azl_cred *c)
{
	const char *tenant = a->tenant ? a->tenant : env("AZURE_TENANT_ID");
	const char *client = a->client_id ? a->client_id : env("AZURE_CLIENT_ID");

	if (!tenant && !client)
		return not_set("AZURE_TENANT_ID and AZURE_CLIENT_ID");
	if (!tenant || !client)
		return not_set(!tenant ? "AZURE_TENANT_ID" : "AZURE_CLIENT_ID");
	set_str(&c->tenant, tenant);
	set_str(&c->client_id, client);
	return 0;
}

static int resolve_env(struct azl_auth *a, struct azl_cred *c)
{
	int rc = resolve_app(a, c);

	if (rc < 0)
		return rc;
	if (env("AZURE_CLIENT_SECRET")) {
		c->method = AZL_M_CLIENT_SECRET;
		strbuf_addstr(&c->secret, env("AZURE_CLIENT_SECRET"));
	} else if (env("AZURE_CLIENT_CERTIFICATE_PATH")) {
		c->method = AZL_M_CLIENT_CERTIFICATE;
		set_str(&c->cert_path, env("AZURE_CLIENT_CERTIFICATE_PATH"));
	} else {
		return not_set("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH");
	}
	return 0;
}

static int resolve_wi(struct azl_auth *a, struct azl_cred *c)
{
	const char *file = env("AZURE_FEDERATED_TOKEN_FILE");

	if (!file)
		return not_set("AZURE_FEDERATED_TOKEN_FILE");
	c->method = AZL_M_FEDERATED_TOKEN;
	set_str(&c->token_file, file);
	return resolve_app(a, c);
}

static int resolve_azcli(struct azl_auth *a, struct azl_cred *c)
{
	c->method = AZL_M_AZURE_CLI;
	set_str(&c->tenant, a->tenant ? a->tenant : "");
	set_str(&c->client_id, "");
	return 0;
}

/* The identity's name in cache keys: its selector, or system-assigned. */
void azl_cred_mi_name(struct azl_cred *c)
{
	const char *sel = c->mi_client_id ? c->mi_client_id
		: c->mi_object_id ? c->mi_object_id : c->mi_resource_id;

	set_str(&c->client_id, sel ? sel : "system-assigned");
	set_str(&c->tenant, "");
	c->method = env("IDENTITY_ENDPOINT") && env("IDENTITY_HEADER") ? AZL_M_APP_SERVICE
		: env("MSI_ENDPOINT") && env("MSI_SECRET") ? AZL_M_APP_SERVICE : AZL_M_IMDS;
}

/* AZURE_CLIENT_ID selects a user-assigned identity, as in the SDKs. */
static int resolve_mi(struct azl_auth *a, struct azl_cred *c)
{
	set_str(&c->mi_client_id, a->client_id ? a->client_id : env("AZURE_CLIENT_ID"));
	azl_cred_mi_name(c);
	return 0;
}

typedef int (*resolve_fn)(struct azl_auth *a, struct azl_cred *c);
static const resolve_fn resolvers[NSOURCES] = {
	resolve_env, resolve_wi, azl_account_load, resolve_azcli, resolve_mi
};

/* ---- acquiring, with the cache in front ---- */

/* The saved sign-in's refresh token, exchanged for an access token; the
 * new refresh token replaces the old one (credentials.md §1.4). */
static int refresh(struct azl_auth *a, const struct azl_cred *c, const char *scope,
		   struct azl_token *tok)
{
	struct azl_token_entry rt = AZL_TOKEN_ENTRY_INIT;
	struct azl_token_key k;
	struct azl_tokencache *tc;
	int rc;

	rc = azl_auth_cache(a, &tc);
	azl_cred_key(a, c, "refresh_token", "", &k);
	if (rc == 0 && azl_tokencache_get(tc, &k, &rt) < 0)
		rc = azl_error_set(AZL_EUNAVAILABLE,
			"the saved sign-in has no refresh token: run 'kubectl azlinux login'");
	if (rc == 0)
		rc = azl_entra_refresh(a, c, rt.value.buf, scope, tok);
	if (rc < 0 && !strcmp(tok->error.buf, "invalid_grant")) {
		struct azl_error_state st;

		azl_error_save(&st);
		azl_tokencache_remove(tc, &k, NULL);
		azl_error_restore(&st);
	} else if (rc == 0 && tok->refresh_token.len) {
		strbuf_reset(&rt.value);
		strbuf_addbuf(&rt.value, &tok->refresh_token);
		rt.expires_on = 0;
		azl_auth_cache_put(a, &k, &rt);
	}
	azl_token_entry_release(&rt);
	return rc;
}

int azl_cred_acquire(struct azl_auth *a, const struct azl_cred *c, const char *scope,
		     struct azl_token *tok)
{
	switch (c->method) {
	case AZL_M_CLIENT_SECRET:
	case AZL_M_CLIENT_CERTIFICATE:
	case AZL_M_FEDERATED_TOKEN:
		return azl_entra_client_credentials(a, c, scope, tok);
	case AZL_M_DEVICE_CODE:
		return refresh(a, c, scope, tok);
	case AZL_M_IMDS:
	case AZL_M_APP_SERVICE:
		return azl_mi_token(a, c, scope, tok);
	case AZL_M_AZURE_CLI:
		return azl_azcli_token(a, c, scope, tok);
	}
	return azl_error_set(AZL_ERROR, "unknown credential method");
}

/* Who the token says we are, else what the source knows. */
void azl_auth_remember(struct azl_auth *a, const struct azl_cred *c,
		       const struct azl_token *tok)
{
	struct strbuf who = STRBUF_INIT;
	struct azl_auth_info *l = &a->last;
	struct azl_tokencache *tc = a->cache;

	azl_auth_info_release(l);
	if (azl_jwt_principal(tok->access_token.buf, &who) < 0)
		strbuf_addstr(&who, tok->principal ? tok->principal
			      : c->principal ? c->principal : c->client_id);
	l->source = xstrdup(c->source);
	l->method = xstrdup(azl_method_name(c->method));
	l->principal = strbuf_detach(&who, NULL);
	l->tenant = xstrdup(c->tenant);
	l->client_id = xstrdup(c->client_id);
	l->cloud = xstrdup(a->cloud->name);
	l->cache = xstrdup(c->method == AZL_M_AZURE_CLI ? "none (Azure CLI tokens are not cached)"
			   : tc ? azl_tokencache_backend(tc) : "none");
	l->expires_on = tok->expires_on;
}

/* The Azure CLI keeps its own cache; copying its tokens would outlive a
 * later `az logout`. */
static int cacheable(const struct azl_cred *c)
{
	return c->method != AZL_M_AZURE_CLI;
}

static int token_from(struct azl_auth *a, const struct azl_cred *c, const char *scope,
		      struct azl_token *tok)
{
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;
	struct azl_tokencache *tc = NULL;
	struct azl_token_key k;
	int rc = 0;

	azl_cred_key(a, c, "access_token", scope, &k);
	if (cacheable(c))
		rc = azl_auth_cache(a, &tc);
	if (rc == 0 && tc && azl_tokencache_get(tc, &k, &e) == 0 &&
	    azl_token_is_fresh(e.expires_on, time(NULL)) && e.expires_on) {
		azl_logf(4, "auth: %s: using the cached token (expires %ld)", c->source,
			 (long)e.expires_on);
		strbuf_addbuf(&tok->access_token, &e.value);
		tok->expires_on = e.expires_on;
	} else if (rc == 0) {
		azl_error_clear();
		rc = azl_cred_acquire(a, c, scope, tok);
		if (rc == 0 && tc) {
			strbuf_reset(&e.value);
			strbuf_addbuf(&e.value, &tok->access_token);
			e.expires_on = tok->expires_on;
			azl_auth_cache_put(a, &k, &e);
		}
	}
	azl_token_entry_release(&e);
	return rc;
}

static int source_index(const char *name)
{
	size_t i;

	for (i = 0; i < NSOURCES; i++)
		if (!strcmp(name, source_names[i]))
			return (int)i;
	return -1;
}

/* One source, resolved and asked. */
static int try_source(struct azl_auth *a, size_t i, const char *scope,
		      struct azl_token *tok)
{
	struct azl_cred c = AZL_CRED_INIT;
	int rc;

	c.source = source_names[i];
	rc = resolvers[i](a, &c);
	if (rc == 0)
		rc = token_from(a, &c, scope, tok);
	if (rc == 0)
		azl_auth_remember(a, &c, tok);
	azl_cred_release(&c);
	return rc;
}

/* Every source in order; one message lists why each did not work. */
static int chain(struct azl_auth *a, const char *scope, struct azl_token *tok)
{
	struct strbuf why = STRBUF_INIT, failed = STRBUF_INIT;
	size_t i;
	int rc = AZL_EAUTH;

	for (i = 0; i < NSOURCES; i++) {
		rc = try_source(a, i, scope, tok);
		if (rc == 0)
			break;
		strbuf_addf(&why, "%s%s: %s", why.len ? "; " : "", source_names[i],
			    azl_error_message());
		if (rc != AZL_EUNAVAILABLE)
			strbuf_addf(&failed, "%s%s: %s", failed.len ? "; " : "",
				    source_names[i], azl_error_message());
		azl_logf(4, "auth: %s: %s", source_names[i], azl_error_message());
	}
	if (rc < 0)
		rc = azl_error_set(AZL_EAUTH,
			"no Azure credentials worked (%s); run 'kubectl azlinux login' or set one of these up",
			why.buf);
	else if (failed.len)
		azl_auth_notify(a, AZL_AUTH_EVENT_WARNING, "using %s credentials because %s",
				a->last.source, failed.buf);
	strbuf_release(&why);
	strbuf_release(&failed);
	return rc;
}

/* Parallel invocations wait here, and then find the first one's token in
 * the cache instead of each fetching their own. Without the lock (a
 * read-only home) they still work, just less frugally. */
void azl_auth_lock(struct azl_tokencache *tc)
{
	if (azl_tokencache_lock(tc) < 0) {
		azl_logf(2, "%s; going on without it", azl_error_message());
		azl_error_clear();
	}
}

int azl_auth_token(struct azl_auth *a, const char *scope, struct strbuf *token,
		   time_t *expires_on)
{
	struct azl_token tok = AZL_TOKEN_INIT;
	struct azl_tokencache *tc;
	int rc;

	strbuf_reset(token);
	if (!scope)
		scope = a->cloud->arm_scope;
	rc = azl_auth_cache(a, &tc);
	if (rc < 0)
		return rc;
	azl_auth_lock(tc);
	if (a->mode) {
		rc = try_source(a, (size_t)source_index(a->mode), scope, &tok);
		if (rc < 0)
			azl_error_prefix("credential source %s (--auth/AZLINUX_AUTH)", a->mode);
	} else {
		rc = chain(a, scope, &tok);
	}
	azl_tokencache_unlock(tc);
	if (rc == 0) {
		strbuf_addbuf(token, &tok.access_token);
		if (expires_on)
			*expires_on = tok.expires_on;
	}
	azl_token_release(&tok);
	return rc;
}

int azl_auth_invalidate(struct azl_auth *a, const char *scope)
{
	struct azl_token_key k = { a->cloud->name, a->last.tenant, a->last.client_id,
				   "access_token", scope ? scope : a->cloud->arm_scope };
	struct azl_tokencache *tc;
	int rc = azl_auth_cache(a, &tc);

	return rc < 0 ? rc : azl_tokencache_remove(tc, &k, NULL);
}
