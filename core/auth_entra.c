/* The Entra ID v2 token endpoint: client credentials, refresh tokens, and
 * the error shape every grant shares (credentials.md §1.1-1.4, §1.8). */
#include "auth_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base64.h"
#include "error.h"
#include "json.h"
#include "num.h"

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
/* AADSTS error numbers have at most 7 digits. */
#define MAX_AADSTS 99999999L

/* The tenant becomes a URL path segment: allow only what tenant ids and
 * domain names contain, so it cannot redirect the request. */
static int check_tenant(const char *tenant)
{
	const char *p;

	for (p = tenant; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
			break;
	if (!*tenant || *p)
		return azl_error_set(AZL_EINVALID,
			"tenant '%s' is not a tenant id or domain: check --tenant or AZURE_TENANT_ID",
			tenant);
	return 0;
}

static void token_url(struct azl_auth *a, const char *tenant, const char *endpoint,
		      struct strbuf *url)
{
	strbuf_addf(url, "%s/%s/oauth2/v2.0/%s", a->authority.buf, tenant, endpoint);
}

int azl_entra_post(struct azl_auth *a, const char *tenant, const char *endpoint,
		   const struct strbuf *form, struct azl_http_response *resp)
{
	static const char *const headers[] = {
		"Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json", NULL
	};
	struct strbuf url = STRBUF_INIT;
	struct azl_http_request req = { "POST", NULL, headers, form->buf, form->len };
	struct azl_http *http = NULL;
	int rc;

	rc = check_tenant(tenant);
	if (rc == 0)
		rc = azl_auth_http(a, &http);
	if (rc < 0)
		return rc;
	token_url(a, tenant, endpoint, &url);
	req.url = url.buf;
	rc = azl_http_do(http, &req, resp);
	if (rc < 0)
		azl_error_prefix("Entra ID (%s)", a->authority.buf);
	strbuf_release(&url);
	return rc;
}

int azl_token_expiry(const cJSON *body, struct azl_token *tok)
{
	long exp_in = 0, exp_on = 0;
	int rc = azl_num_json_member(body, "expires_in", 0, AZL_NUM_MAX_LIFETIME_S, 0, &exp_in);

	if (rc == 0)
		rc = azl_num_json_member(body, "expires_on", 0, AZL_NUM_MAX_EPOCH, 0, &exp_on);
	if (rc < 0)
		return rc;
	tok->expires_on = exp_on > 0 ? (time_t)exp_on : (time_t)azl_num_add((long)time(NULL), exp_in);
	return 0;
}

static const struct {
	const char *error;
	const char *hint;
} hints[] = {
	{ "invalid_client", "check the client id and its secret or certificate" },
	{ "unauthorized_client", "check that the application exists in this tenant and may use this sign-in flow" },
	{ "invalid_grant", "the saved sign-in has expired or was revoked: run 'kubectl azlinux login' again" },
	{ "invalid_request", "check the tenant id and client id" },
	{ "invalid_scope", "check the cloud (--cloud or AZLINUX_CLOUD)" },
	{ "invalid_resource", "check the cloud (--cloud or AZLINUX_CLOUD)" },
	{ "interaction_required", "run 'kubectl azlinux login' to sign in interactively" },
	{ "consent_required", "ask an administrator to consent to the application, then sign in again" },
	{ "temporarily_unavailable", "Entra ID is busy: try again in a few minutes" },
	{ "authorization_declined", "the sign-in was declined: run 'kubectl azlinux login' again and approve it" },
	{ "access_denied", "the sign-in was declined: run 'kubectl azlinux login' again and approve it" },
	{ "expired_token", "the code expired before the sign-in finished: run 'kubectl azlinux login' again and enter the code sooner" },
	{ "bad_verification_code", "run 'kubectl azlinux login' again" },
};

static const char *hint_for(const char *error)
{
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (!strcmp(hints[i].error, error))
			return hints[i].hint;
	return NULL;
}

static void add_first_line(struct strbuf *out, const char *s)
{
	size_t n = strcspn(s, "\r\n");

	strbuf_add(out, s, n);
}

static int error_from_json(const cJSON *body, long status, const char *what,
			   struct strbuf *code)
{
	const char *err = azl_json_str(body, "error", "");
	const char *desc = azl_json_str(body, "error_description", "");
	const char *trace = azl_json_str(body, "trace_id", NULL);
	const char *corr = azl_json_str(body, "correlation_id", NULL);
	const char *hint = hint_for(err);
	const cJSON *codes = cJSON_GetObjectItemCaseSensitive(body, "error_codes");
	const cJSON *first = cJSON_IsArray(codes) ? cJSON_GetArrayItem(codes, 0) : NULL;
	struct strbuf msg = STRBUF_INIT;
	long aadsts = 0;
	int rc;

	strbuf_addstr(code, err);
	strbuf_addf(&msg, "%s: Entra ID returned %s", what, err);
	if (*desc) {
		strbuf_addstr(&msg, ": ");
		add_first_line(&msg, desc);
	}
	if (trace || corr)
		strbuf_addf(&msg, " (trace ID %s, correlation ID %s)",
			    trace ? trace : "-", corr ? corr : "-");
	if (hint)
		strbuf_addf(&msg, "; %s", hint);
	else if (first && cJSON_IsNumber(first) &&
		 azl_num_scan_double(first->valuedouble, 1, MAX_AADSTS, &aadsts) == AZL_NUM_OK)
		strbuf_addf(&msg, "; see https://login.microsoftonline.com/error?code=%ld", aadsts);
	rc = azl_error_set(status >= 500 ? AZL_ESERVER : AZL_EAUTH, "%s", msg.buf);
	strbuf_release(&msg);
	return rc;
}

int azl_entra_error(const struct azl_http_response *resp, const char *what,
		    struct strbuf *code)
{
	cJSON *body = cJSON_Parse(resp->body.buf);
	int rc;

	strbuf_reset(code);
	if (cJSON_IsObject(body) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(body, "error")))
		rc = error_from_json(body, resp->status, what, code);
	else
		rc = azl_error_set(resp->status >= 500 ? AZL_ESERVER : AZL_EAUTH,
			"%s: Entra ID answered HTTP %ld without an OAuth error; check AZURE_AUTHORITY_HOST and the cloud",
			what, resp->status);
	cJSON_Delete(body);
	return rc;
}

int azl_entra_parse_token(const struct azl_http_response *resp,
			  const char *what, struct azl_token *tok)
{
	struct strbuf who = STRBUF_INIT;
	cJSON *body;
	const char *at, *rt, *idt;

	if (resp->status != 200)
		return azl_entra_error(resp, what, &tok->error);
	body = cJSON_Parse(resp->body.buf);
	at = azl_json_str(body, "access_token", NULL);
	if (!at || !*at) {
		cJSON_Delete(body);
		return azl_error_set(AZL_EAUTH,
			"%s: Entra ID's token response has no access_token; check AZURE_AUTHORITY_HOST",
			what);
	}
	if (azl_token_expiry(body, tok) < 0) {
		cJSON_Delete(body);
		return azl_error_prefix("%s: Entra ID's token response", what);
	}
	strbuf_reset(&tok->access_token);
	strbuf_addstr(&tok->access_token, at);
	rt = azl_json_str(body, "refresh_token", "");
	strbuf_reset(&tok->refresh_token);
	strbuf_addstr(&tok->refresh_token, rt);
	idt = azl_json_str(body, "id_token", NULL);
	if (idt && azl_jwt_principal(idt, &who) == 0) {
		free(tok->principal);
		tok->principal = strbuf_detach(&who, NULL);
	}
	if (idt && azl_jwt_tenant(idt, &who) == 0) {
		free(tok->tenant);
		tok->tenant = strbuf_detach(&who, NULL);
	}
	strbuf_release(&who);
	cJSON_Delete(body);
	return 0;
}

void azl_form_add(struct strbuf *form, const char *name, const char *value)
{
	if (form->len)
		strbuf_addch(form, '&');
	strbuf_addstr(form, name);
	strbuf_addch(form, '=');
	strbuf_addurlenc(form, value);
}

static void describe(struct strbuf *what, const struct azl_cred *c)
{
	strbuf_addf(what, "%s sign-in (client %s, tenant %s)",
		    azl_method_name(c->method), c->client_id, c->tenant);
}

/* The client's proof: its secret, a JWT signed with its certificate, or
 * the federated token file, re-read on every request because kubelet
 * rotates it. */
static int add_client_proof(struct azl_auth *a, const struct azl_cred *c,
			    struct strbuf *form)
{
	struct strbuf assertion = STRBUF_INIT, aud = STRBUF_INIT;
	int rc = 0;

	if (c->method == AZL_M_CLIENT_SECRET) {
		azl_form_add(form, "client_secret", c->secret.buf);
		return 0;
	}
	if (c->method == AZL_M_CLIENT_CERTIFICATE) {
		token_url(a, c->tenant, "token", &aud);
		rc = azl_assertion_from_certificate(c->cert_path, c->client_id, aud.buf,
						    &assertion);
	} else if (strbuf_read_file(&assertion, c->token_file) < 0) {
		rc = azl_error_set(AZL_EINVALID,
			"cannot read the federated token file %s (AZURE_FEDERATED_TOKEN_FILE): %s",
			c->token_file, strerror(errno));
	}
	strbuf_trim(&assertion);
	if (rc == 0 && !assertion.len)
		rc = azl_error_set(AZL_EINVALID,
			"the federated token file %s (AZURE_FEDERATED_TOKEN_FILE) is empty",
			c->token_file);
	if (rc == 0) {
		azl_form_add(form, "client_assertion_type", ASSERTION_TYPE);
		azl_form_add(form, "client_assertion", assertion.buf);
	}
	strbuf_release(&assertion);
	strbuf_release(&aud);
	return rc;
}

static int post_token(struct azl_auth *a, const struct azl_cred *c,
		      const struct strbuf *form, struct azl_token *tok)
{
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf what = STRBUF_INIT;
	int rc;

	describe(&what, c);
	rc = azl_entra_post(a, c->tenant, "token", form, &resp);
	if (rc < 0)
		azl_error_prefix("%s", what.buf);
	else
		rc = azl_entra_parse_token(&resp, what.buf, tok);
	azl_http_response_release(&resp);
	strbuf_release(&what);
	return rc;
}

int azl_entra_client_credentials(struct azl_auth *a, const struct azl_cred *c,
				 const char *scope, struct azl_token *tok)
{
	struct strbuf form = STRBUF_INIT;
	int rc;

	azl_form_add(&form, "grant_type", "client_credentials");
	azl_form_add(&form, "client_id", c->client_id);
	azl_form_add(&form, "scope", scope);
	rc = add_client_proof(a, c, &form);
	if (rc == 0)
		rc = post_token(a, c, &form, tok);
	strbuf_release(&form);
	return rc;
}

void azl_scope_resource(struct strbuf *out, const char *scope)
{
	size_t n = strlen(scope);

	strbuf_addstr(out, scope);
	if (n > 9 && !strcmp(scope + n - 9, "/.default"))
		strbuf_setlen(out, n - 9);
}

void azl_entra_user_scope(struct strbuf *out, const char *scope)
{
	strbuf_addf(out, "%s offline_access openid profile", scope);
}

int azl_entra_refresh(struct azl_auth *a, const struct azl_cred *c,
		      const char *refresh_token, const char *scope,
		      struct azl_token *tok)
{
	struct strbuf form = STRBUF_INIT, sc = STRBUF_INIT;
	int rc;

	azl_entra_user_scope(&sc, scope);
	azl_form_add(&form, "grant_type", "refresh_token");
	azl_form_add(&form, "client_id", c->client_id);
	azl_form_add(&form, "scope", sc.buf);
	azl_form_add(&form, "refresh_token", refresh_token);
	rc = post_token(a, c, &form, tok);
	strbuf_release(&form);
	strbuf_release(&sc);
	return rc;
}

/* base64url without padding, as JWT segments are. */
static int b64url_decode(const char *in, size_t len, struct strbuf *out)
{
	struct strbuf std = STRBUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < len; i++)
		strbuf_addch(&std, in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i]);
	while (std.len % 4)
		strbuf_addch(&std, '=');
	rc = azl_base64_decode(out, std.buf, std.len);
	strbuf_release(&std);
	return rc;
}

/* A JWT's claims, or NULL when it is not one. */
static cJSON *jwt_claims(const char *jwt)
{
	const char *dot1 = strchr(jwt, '.'), *dot2;
	struct strbuf json = STRBUF_INIT;
	struct azl_error_state saved;
	cJSON *payload = NULL;

	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	azl_error_save(&saved);
	if (dot2 && b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &json) == 0)
		payload = cJSON_Parse(json.buf);
	azl_error_restore(&saved);
	strbuf_release(&json);
	return payload;
}

/* The first of names that the JWT has as a non-empty string claim. */
static int jwt_claim(const char *jwt, const char *const *names, struct strbuf *out)
{
	cJSON *claims = jwt_claims(jwt);
	int rc = AZL_ENOTFOUND;

	for (; claims && *names && rc < 0; names++) {
		const char *v = azl_json_str(claims, *names, NULL);

		if (v && *v) {
			strbuf_reset(out);
			strbuf_addstr(out, v);
			rc = 0;
		}
	}
	cJSON_Delete(claims);
	return rc;
}

int azl_jwt_principal(const char *jwt, struct strbuf *out)
{
	static const char *const names[] = {
		"upn", "preferred_username", "unique_name", "appid", "azp", "oid", NULL
	};

	return jwt_claim(jwt, names, out);
}

int azl_jwt_tenant(const char *jwt, struct strbuf *out)
{
	static const char *const names[] = { "tid", NULL };

	return jwt_claim(jwt, names, out);
}
