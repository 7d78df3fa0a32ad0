#include "kube.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "execcred.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "redact.h"
#include "retry.h"
#include "version.h"
#include "wrapper.h"

#define DEFAULT_PAGE_SIZE 500
/* client-go's dial timeout: a black-holed address fails in 30 s, not 2 min */
#define CONNECT_TIMEOUT_MS 30000L
/* client-go retries 429/5xx answers that carry Retry-After, up to 10 times;
 * a CLI waits less */
#define DEFAULT_ATTEMPTS 6
#define DEFAULT_RETRY_BUDGET_MS 60000L
#define MAX_RETRY_AFTER_MS 10000L

struct azl_kube {
	const struct azl_rest_config *cfg;
	struct azl_http *http;
	struct strbuf base;          /* server URL without a trailing '/' */
	struct strbuf user_agent;
	struct strbuf token;         /* tokenFile: the last value read; secret */
	struct azl_credential cred;  /* from the exec plugin, once it ran */
	int have_cred;
	struct strbuf http_cert;     /* exec client cert the http client uses */
	struct azl_retry *own_retry, *retry;  /* retry: own_retry or the caller's */
};

/* How a request authenticates, for messages. */
enum auth_kind { AUTH_NONE, AUTH_CERT, AUTH_TOKEN, AUTH_TOKEN_FILE, AUTH_EXEC };

static enum auth_kind auth_kind(const struct azl_kube *kube)
{
	const struct azl_rest_config *cfg = kube->cfg;

	if (cfg->token_file && *cfg->token_file)
		return AUTH_TOKEN_FILE;
	if (cfg->token && *cfg->token)
		return AUTH_TOKEN;
	if (cfg->exec)
		return AUTH_EXEC;
	return cfg->client_cert_pem.len ? AUTH_CERT : AUTH_NONE;
}

/* (Re)creates the http client; cert/key override the kubeconfig's client
 * certificate (an exec plugin may return one). */
static int build_http(struct azl_kube *kube, const struct strbuf *cert,
		      const struct strbuf *key)
{
	const struct azl_rest_config *cfg = kube->cfg;
	struct azl_http_options o = { 0 };
	struct azl_http *http;
	int rc;

	if (cfg->ca_pem.len) {
		o.ca_pem = cfg->ca_pem.buf;
		o.ca_pem_len = cfg->ca_pem.len;
	} else {
		/* what Go's crypto/x509 honours on Linux, and client-go with it */
		o.ca_file = getenv("SSL_CERT_FILE");
	}
	if (!cert->len) {
		cert = &cfg->client_cert_pem;
		key = &cfg->client_key_pem;
	}
	if (cert->len && key->len) {
		o.client_cert_pem = cert->buf;
		o.client_cert_pem_len = cert->len;
		o.client_key_pem = key->buf;
		o.client_key_pem_len = key->len;
	}
	o.tls_server_name = cfg->tls_server_name;
	o.insecure = cfg->insecure_skip_tls_verify;
	o.proxy_url = cfg->proxy_url;
	o.timeout_ms = cfg->timeout_ms;
	o.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	o.user_agent = kube->user_agent.buf;
	o.disable_compression = cfg->disable_compression;
	o.tls_hint = "check certificate-authority in your kubeconfig";
	rc = azl_http_new(&http, &o);
	if (rc)
		return azl_error_prefix("user \"%s\" in %s%s", cfg->user_name ? cfg->user_name : "",
					cfg->source_file ? cfg->source_file : "the kubeconfig",
					cert == &cfg->client_cert_pem ? "" : ", its exec plugin's credential");
	azl_http_free(kube->http);
	kube->http = http;
	return 0;
}

static int default_retry(struct azl_kube *kube)
{
	struct azl_retry_options ro = { 0 };
	int rc;

	ro.max_attempts = DEFAULT_ATTEMPTS;
	ro.budget_ms = DEFAULT_RETRY_BUDGET_MS;
	rc = azl_retry_new(&kube->own_retry, &ro);
	kube->retry = kube->own_retry;
	return rc;
}

int azl_kube_new(struct azl_kube **out, const struct azl_rest_config *cfg)
{
	struct azl_kube *kube = xcalloc(1, sizeof(*kube));
	struct strbuf none = STRBUF_INIT;
	int rc;

	*out = NULL;
	kube->cfg = cfg;
	strbuf_init(&kube->base, 0);
	strbuf_init(&kube->user_agent, 0);
	strbuf_init(&kube->token, 0);
	strbuf_init(&kube->http_cert, 0);
	strbuf_addstr(&kube->base, cfg->server ? cfg->server : "");
	while (kube->base.len && kube->base.buf[kube->base.len - 1] == '/')
		strbuf_setlen(&kube->base, kube->base.len - 1);
	strbuf_addf(&kube->user_agent, "kubectl-azlinux/%s", azl_version_string());
	if (cfg->token)
		strbuf_addstr(&kube->token, cfg->token);
	if (!kube->base.len) {
		azl_kube_free(kube);
		return azl_error_set(AZL_EINVALID,
				     "cluster \"%s\" in %s has no server; run az aks get-credentials again",
				     cfg->cluster_name ? cfg->cluster_name : "",
				     cfg->source_file ? cfg->source_file : "the kubeconfig");
	}
	rc = build_http(kube, &none, &none);
	if (!rc)
		rc = default_retry(kube);
	if (rc) {
		azl_kube_free(kube);
		return rc;
	}
	*out = kube;
	return 0;
}

void azl_kube_set_retry(struct azl_kube *kube, struct azl_retry *retry)
{
	kube->retry = retry ? retry : kube->own_retry;
}

void azl_kube_free(struct azl_kube *kube)
{
	if (!kube)
		return;
	azl_http_free(kube->http);
	azl_retry_free(kube->own_retry);
	if (kube->have_cred)
		azl_credential_release(&kube->cred);
	strbuf_release(&kube->base);
	strbuf_release(&kube->user_agent);
	azl_secret_wipe(&kube->token);
	strbuf_release(&kube->http_cert);
	free(kube);
}

/* Re-reads tokenFile; as in client-go the last value read successfully
 * wins, so a file being rewritten does not fail a request. */
static int refresh_token_file(struct azl_kube *kube)
{
	struct strbuf sb = STRBUF_INIT;
	const char *file = kube->cfg->token_file;

	if (strbuf_read_file(&sb, file) == 0) {
		strbuf_trim(&sb);
		if (sb.len) {
			azl_secret_wipe(&kube->token);
			kube->token = sb;
			return 0;
		}
	}
	azl_secret_wipe(&sb);
	if (kube->token.len)
		return 0;
	return azl_error_set(AZL_EAUTH,
			     "cannot read a token from tokenFile %s of user \"%s\" in %s; "
			     "fix the file or the kubeconfig",
			     file, kube->cfg->user_name ? kube->cfg->user_name : "",
			     kube->cfg->source_file ? kube->cfg->source_file : "the kubeconfig");
}

/* Runs the exec plugin when there is no valid credential (or force), and
 * switches the http client to a client certificate it returns. */
static int ensure_exec_credential(struct azl_kube *kube, int force)
{
	const struct azl_credential *c = &kube->cred;
	int rc;

	if (kube->have_cred && !force && azl_credential_valid(c, time(NULL)))
		return 0;
	if (kube->have_cred)
		azl_credential_release(&kube->cred);
	kube->have_cred = 0;
	rc = azl_execcred_run(kube->cfg, kube->cfg->stdin_is_terminal, &kube->cred);
	if (rc)
		return rc;
	kube->have_cred = 1;
	if (!c->client_cert_pem.len ||
	    (kube->http_cert.len == c->client_cert_pem.len &&
	     !memcmp(kube->http_cert.buf, c->client_cert_pem.buf, c->client_cert_pem.len)))
		return 0;
	/* a new certificate needs fresh connections: old ones carry the old one */
	rc = build_http(kube, &c->client_cert_pem, &c->client_key_pem);
	if (rc)
		return rc;
	strbuf_reset(&kube->http_cert);
	strbuf_addbuf(&kube->http_cert, &c->client_cert_pem);
	return 0;
}

/* Fills hdr with "Authorization: Bearer ..." when the user has a token. */
static int authorization(struct azl_kube *kube, struct strbuf *hdr)
{
	const char *token = NULL;
	int rc;

	switch (auth_kind(kube)) {
	case AUTH_TOKEN_FILE:
		rc = refresh_token_file(kube);
		if (rc)
			return rc;
		token = kube->token.buf;
		break;
	case AUTH_TOKEN:
		token = kube->cfg->token;
		break;
	case AUTH_EXEC:
		rc = ensure_exec_credential(kube, 0);
		if (rc)
			return rc;
		token = kube->cred.token;
		break;
	default:
		break;
	}
	if (token && *token)
		strbuf_addf(hdr, "Authorization: Bearer %s", token);
	return 0;
}

struct call {
	const char *method;
	const char *path;            /* with any query, as sent */
	const char *content_type;    /* NULL without a body */
	const char *body;
	size_t body_len;
	const char *accept;          /* NULL: application/json */
	struct azl_retry *retry;     /* NULL: GETs under the client's */
	const struct azl_http_stream *stream;  /* a 2xx body goes there */
};

static int send_once(struct azl_kube *kube, const struct call *c,
		     struct azl_http_response *resp)
{
	struct strbuf url = STRBUF_INIT, auth = STRBUF_INIT, ctype = STRBUF_INIT;
	struct strbuf accept = STRBUF_INIT;
	struct azl_http_request req = { c->method, NULL, NULL, c->body, c->body_len };
	const char *headers[4];
	size_t n = 0;
	int rc;

	rc = authorization(kube, &auth);
	if (rc)
		goto out;
	strbuf_addf(&accept, "Accept: %s", c->accept ? c->accept : "application/json");
	headers[n++] = accept.buf;
	if (c->content_type) {
		strbuf_addf(&ctype, "Content-Type: %s", c->content_type);
		headers[n++] = ctype.buf;
	}
	if (auth.len)
		headers[n++] = auth.buf;
	headers[n] = NULL;
	strbuf_addf(&url, "%s%s", kube->base.buf, c->path);
	req.url = url.buf;
	req.headers = headers;
	rc = c->stream ? azl_http_do_stream(kube->http, &req, resp, c->stream)
		       : azl_http_do(kube->http, &req, resp);
out:
	azl_secret_wipe(&auth);
	strbuf_release(&url);
	strbuf_release(&ctype);
	strbuf_release(&accept);
	return rc;
}

/* Milliseconds from a Retry-After header of a 429/5xx answer; -1 when
 * absent or unreadable. */
static long retry_after(const struct azl_http_response *resp)
{
	struct strbuf v = STRBUF_INIT;
	long ms = -1;

	if ((resp->status == 429 || resp->status >= 500) &&
	    azl_http_response_header(resp, "Retry-After", &v))
		ms = azl_retry_after_parse(v.buf, time(NULL));
	strbuf_release(&v);
	return ms;
}

/* Sends a request, refreshing an exec credential once on 401. Any HTTP
 * status returns 0. */
static int send(struct azl_kube *kube, const struct call *c,
		struct azl_http_response *resp)
{
	int rc = send_once(kube, c, resp);

	if (rc || resp->status != 401 || auth_kind(kube) != AUTH_EXEC)
		return rc;
	azl_logf(4, "%s %s: 401 Unauthorized, running the exec plugin again", c->method, c->path);
	rc = ensure_exec_credential(kube, 1);
	return rc ? rc : send_once(kube, c, resp);
}

static const char *auth_advice(const struct azl_kube *kube)
{
	switch (auth_kind(kube)) {
	case AUTH_EXEC:
		return "sign in again with the credential plugin's tool (e.g. az login), then retry";
	case AUTH_TOKEN_FILE:
		return "put a valid token in the tokenFile, or run az aks get-credentials again";
	case AUTH_TOKEN:
		return "the bearer token is invalid or expired; use a fresh one or run az aks get-credentials again";
	case AUTH_CERT:
		return "the client certificate is not accepted (expired or rotated?); run az aks get-credentials again";
	default:
		return "the user has no credentials; run az aks get-credentials or add a token, client certificate or exec plugin";
	}
}

static int unauthorized(const struct azl_kube *kube)
{
	const struct azl_rest_config *cfg = kube->cfg;

	return azl_error_set(AZL_EAUTH,
			     "Unauthorized: the server rejected the credentials of user \"%s\" in context \"%s\" (%s); %s",
			     cfg->user_name ? cfg->user_name : "",
			     cfg->context_name ? cfg->context_name : "",
			     cfg->source_file ? cfg->source_file : "command line", auth_advice(kube));
}

/* `<resource> "<name>" not found` from the request path, for a 404 that
 * carries no Status: after the group-version prefix ("api/v1",
 * "apis/<group>/<version>") an object path is <resource>/<name>, or
 * namespaces/<ns>/<resource>/<name>. */
static int not_found(const struct call *c)
{
	size_t len = strcspn(c->path, "?"), n = 0, skip;
	const char *seg[8];
	size_t seglen[8];
	const char *p = c->path;

	while (p < c->path + len && n < 8) {
		p += strspn(p, "/");
		if (p >= c->path + len)
			break;
		seg[n] = p;
		seglen[n] = strcspn(p, "/?");
		p += seglen[n++];
	}
	skip = n && seglen[0] == 4 && !strncmp(seg[0], "apis", 4) ? 3 : 2;
	if (n == skip + 2 || n == skip + 4)
		return azl_error_set(AZL_ENOTFOUND, "%.*s \"%.*s\" not found",
				     (int)seglen[n - 2], seg[n - 2], (int)seglen[n - 1], seg[n - 1]);
	return azl_error_set(AZL_ENOTFOUND, "the server could not find the requested resource (%s %.*s)",
			     c->method, (int)len, c->path);
}

void azl_kube_result_release(struct azl_kube_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->nr_causes; i++) {
		free(res->causes[i].type);
		free(res->causes[i].message);
		free(res->causes[i].field);
	}
	free(res->causes);
	strbuf_release(&res->reason);
	strbuf_release(&res->message);
	cJSON_Delete(res->body);
	*res = (struct azl_kube_result)AZL_KUBE_RESULT_INIT;
}

int azl_kube_result_has_cause(const struct azl_kube_result *res, const char *type)
{
	for (size_t i = 0; i < res->nr_causes; i++)
		if (!strcmp(res->causes[i].type, type))
			return 1;
	return 0;
}

/* Copies a metav1.Status's reason, message and details into res. */
static void take_status(struct azl_kube_result *res, const cJSON *st)
{
	const cJSON *causes = azl_json_path(st, "details.causes"), *c;

	strbuf_addstr(&res->reason, azl_json_str(st, "reason", ""));
	strbuf_addstr(&res->message, azl_json_str(st, "message", ""));
	if (res->retry_after_ms < 0 && azl_json_path(st, "details.retryAfterSeconds"))
		res->retry_after_ms = azl_json_int(st, "details.retryAfterSeconds", -1) * 1000L;
	if (!cJSON_IsArray(causes))
		return;
	res->causes = xcalloc((size_t)cJSON_GetArraySize(causes) + 1, sizeof(*res->causes));
	cJSON_ArrayForEach(c, causes) {
		struct azl_kube_cause *out = &res->causes[res->nr_causes++];

		out->type = xstrdup(azl_json_str(c, "reason", ""));
		out->message = xstrdup(azl_json_str(c, "message", ""));
		out->field = xstrdup(azl_json_str(c, "field", ""));
	}
}

/* Fills res from a non-2xx answer and sets the one-line error: the
 * metav1.Status message, as kubectl prints it, or a description of what
 * came back. */
static int status_error(const struct azl_kube *kube, const struct call *c,
			const struct azl_http_response *resp, struct azl_kube_result *res)
{
	cJSON *st = cJSON_ParseWithLength(resp->body.buf, resp->body.len);
	int rc;

	if (st && !strcmp(azl_json_str(st, "kind", ""), "Status"))
		take_status(res, st);
	if (resp->status == 401)
		rc = unauthorized(kube);
	else if (res->message.len)
		rc = azl_error_set(azl_retry_status_code(resp->status, res->reason.buf), "%s",
				   res->message.buf);
	else if (resp->status == 404)
		rc = not_found(c);
	else
		rc = azl_error_set(azl_retry_status_code(resp->status, res->reason.buf),
				   "the server at %s returned HTTP %ld for %s %.*s", kube->base.buf,
				   resp->status, c->method, (int)strcspn(c->path, "?"), c->path);
	cJSON_Delete(st);
	return rc;
}

/* The outcome of one answer: 0 for a 2xx (its JSON in res->body), else
 * the status's error. */
static int answer(struct azl_kube *kube, const struct call *c,
		  const struct azl_http_response *resp, struct azl_kube_result *res)
{
	res->status = resp->status;
	res->retry_after_ms = retry_after(resp);
	if (resp->status < 200 || resp->status > 299)
		return status_error(kube, c, resp, res);
	if (!resp->body.len)
		return 0;
	res->body = cJSON_ParseWithLength(resp->body.buf, resp->body.len);
	if (!res->body)
		return azl_error_set(AZL_EINVALID, "the server at %s returned invalid JSON for %s %.*s",
				     kube->base.buf, c->method, (int)strcspn(c->path, "?"), c->path);
	return 0;
}

/* Whether a failed answer is worth sending again: one the server asked
 * to repeat later (Retry-After), of a read or of a request that names
 * its policy. */
static int should_retry(const struct call *c, const struct azl_kube_result *res)
{
	return (c->retry || !strcmp(c->method, "GET")) && res->retry_after_ms >= 0 &&
	       (res->status == 429 || azl_retry_status_is_transient(res->status));
}

/* Sends c and fills res, trying again under the policy when it should. */
static int perform(struct azl_kube *kube, const struct call *c, struct azl_kube_result *res)
{
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct azl_retry *policy = c->retry ? c->retry : kube->retry;
	struct azl_retry_state st;
	int next, rc;

	azl_retry_begin(policy, &st);
	for (;;) {
		long wait;

		azl_kube_result_release(res);
		rc = send(kube, c, &resp);
		if (!rc)
			rc = answer(kube, c, &resp, res);
		if (!rc || !should_retry(c, res))
			break;
		wait = res->retry_after_ms < MAX_RETRY_AFTER_MS ? res->retry_after_ms : MAX_RETRY_AFTER_MS;
		next = azl_retry_next(policy, &st, wait, &wait);
		if (next == AZL_ECANCELED)
			rc = azl_error_set(AZL_ECANCELED, "%s %.*s: cancelled while the server asked to "
					   "wait (HTTP %ld)", c->method, (int)strcspn(c->path, "?"),
					   c->path, res->status);
		if (next)
			break;
		azl_logf(4, "%s %s: HTTP %ld, retrying in %ld ms (Retry-After)",
			 c->method, c->path, res->status, wait);
		if (azl_retry_wait(policy, wait)) {
			rc = azl_error_prefix("%s %.*s", c->method, (int)strcspn(c->path, "?"), c->path);
			break;
		}
	}
	azl_http_response_release(&resp);
	return rc;
}

/* Sends c; on 2xx hands the body to *out (when out is not NULL). */
static int call(struct azl_kube *kube, const struct call *c, cJSON **out,
		long *status)
{
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	int rc = perform(kube, c, &res);

	*status = res.status;
	if (!rc && out) {
		*out = res.body;
		res.body = NULL;
		if (!*out)
			rc = azl_error_set(AZL_EINVALID,
					   "the server at %s returned an empty body for %s %.*s",
					   kube->base.buf, c->method, (int)strcspn(c->path, "?"), c->path);
	}
	azl_kube_result_release(&res);
	return rc;
}

int azl_kube_do(struct azl_kube *kube, const struct azl_kube_request *req,
		struct azl_kube_result *res)
{
	struct call c = { req->method, req->path, req->content_type, req->body, req->body_len,
			  req->accept, req->retry, NULL };

	return perform(kube, &c, res);
}

cJSON *azl_kube_delete_options_json(const struct azl_kube_delete_options *o)
{
	static const struct azl_kube_delete_options defaults = AZL_KUBE_DELETE_OPTIONS_INIT;
	cJSON *d = cJSON_CreateObject(), *pre;

	if (!o)
		o = &defaults;
	cJSON_AddStringToObject(d, "kind", "DeleteOptions");
	cJSON_AddStringToObject(d, "apiVersion", "v1");
	if (o->grace_period_s >= 0)
		cJSON_AddNumberToObject(d, "gracePeriodSeconds", (double)o->grace_period_s);
	if (o->uid || o->resource_version) {
		pre = cJSON_AddObjectToObject(d, "preconditions");
		if (o->uid)
			cJSON_AddStringToObject(pre, "uid", o->uid);
		if (o->resource_version)
			cJSON_AddStringToObject(pre, "resourceVersion", o->resource_version);
	}
	if (o->dry_run)
		cJSON_AddItemToObject(d, "dryRun", cJSON_CreateStringArray((const char *[]){ "All" }, 1));
	if (o->propagation)
		cJSON_AddStringToObject(d, "propagationPolicy", o->propagation);
	return d;
}

int azl_kube_delete(struct azl_kube *kube, const char *path,
		    const struct azl_kube_delete_options *o, struct azl_kube_result *res)
{
	cJSON *opts = azl_kube_delete_options_json(o);
	char *text = azl_json_print(opts, 0);
	struct call c = { "DELETE", path, "application/json", text, strlen(text), NULL, NULL, NULL };
	int rc = perform(kube, &c, res);

	free(text);
	cJSON_Delete(opts);
	return rc;
}

int azl_kube_get(struct azl_kube *kube, const char *path, cJSON **out)
{
	struct call c = { "GET", path, NULL, NULL, 0, NULL, NULL, NULL };
	long status;

	*out = NULL;
	return call(kube, &c, out, &status);
}

/* The resource a collection path names ("/api/v1/nodes" -> "nodes"). */
static void resource_of(const char *path, struct strbuf *out)
{
	size_t len = strcspn(path, "?");
	const char *slash;

	while (len && path[len - 1] == '/')
		len--;
	slash = path + len;
	while (slash > path && slash[-1] != '/')
		slash--;
	strbuf_add(out, slash, (size_t)(path + len - slash));
}

static void page_path(struct strbuf *sb, const char *path, const char *query,
		      long limit, const char *cont)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "%s%climit=%ld", path, strchr(path, '?') ? '&' : '?', limit);
	if (cont && *cont) {
		strbuf_addstr(sb, "&continue=");
		strbuf_addurlenc(sb, cont);
	}
	if (query && *query)
		strbuf_addf(sb, "&%s", query);
}

/* Moves the items of a list page to the end of all (ctx). */
static int take_items(cJSON *items, void *all)
{
	cJSON *item;

	if (!cJSON_IsArray(items))
		return 0;
	while ((item = cJSON_DetachItemFromArray(items, 0)))
		cJSON_AddItemToArray(all, item);
	return 0;
}

/* What a listing asks for and hands on: accept NULL asks for a List
 * and hands on its "items"; otherwise fn gets each whole page. */
struct listing {
	const char *path, *query, *accept;
	long page_size;
	azl_kube_page_fn fn;
	void *ctx;
	struct strbuf *rv;           /* or NULL */
};

static int list_pages(struct azl_kube *kube, const struct listing *l)
{
	struct strbuf url = STRBUF_INIT, cont = STRBUF_INIT, what = STRBUF_INIT;
	int rc = 0;

	do {
		struct call c = { "GET", NULL, NULL, NULL, 0, l->accept, NULL, NULL };
		cJSON *page = NULL;
		long status;

		page_path(&url, l->path, l->query, l->page_size > 0 ? l->page_size : DEFAULT_PAGE_SIZE,
			  cont.buf);
		c.path = url.buf;
		rc = call(kube, &c, &page, &status);
		if (rc && status == 410 && cont.len) {
			resource_of(l->path, &what);
			rc = azl_error_set(AZL_ECONFLICT,
					   "the list of %s changed while paging; run the command again",
					   what.buf);
		}
		if (rc)
			break;
		if (l->rv) {
			strbuf_reset(l->rv);
			strbuf_addstr(l->rv, azl_json_str(page, "metadata.resourceVersion", ""));
		}
		rc = l->fn(l->accept ? page : cJSON_GetObjectItemCaseSensitive(page, "items"), l->ctx);
		strbuf_reset(&cont);
		strbuf_addstr(&cont, azl_json_str(page, "metadata.continue", ""));
		/* one page at a time: 5,000 nodes as one cJSON tree take ~100 MB */
		cJSON_Delete(page);
	} while (!rc && cont.len);
	strbuf_release(&url);
	strbuf_release(&cont);
	strbuf_release(&what);
	return rc;
}

int azl_kube_list_pages(struct azl_kube *kube, const char *path, const char *query,
			long page_size, azl_kube_page_fn fn, void *ctx)
{
	return azl_kube_list_pages_rv(kube, path, query, page_size, fn, ctx, NULL);
}

int azl_kube_list_pages_rv(struct azl_kube *kube, const char *path, const char *query,
			   long page_size, azl_kube_page_fn fn, void *ctx,
			   struct strbuf *resource_version)
{
	struct listing l = { path, query, NULL, page_size, fn, ctx, resource_version };

	return list_pages(kube, &l);
}

int azl_kube_list_table_pages(struct azl_kube *kube, const char *path, const char *query,
			      long page_size, azl_kube_page_fn fn, void *ctx)
{
	struct strbuf q = STRBUF_INIT;
	/* kubectl's Accept: a server that cannot make Tables answers a List */
	struct listing l = { path, NULL,
			     "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
			     page_size, fn, ctx, NULL };
	int rc;

	strbuf_addstr(&q, "includeObject=Metadata");
	if (query && *query)
		strbuf_addf(&q, "&%s", query);
	l.query = q.buf;
	rc = list_pages(kube, &l);
	strbuf_release(&q);
	return rc;
}

int azl_kube_list(struct azl_kube *kube, const char *path, const char *query,
		  long page_size, cJSON **items)
{
	cJSON *all = cJSON_CreateArray();
	int rc;

	*items = NULL;
	if (!all)
		abort();
	rc = azl_kube_list_pages(kube, path, query, page_size, take_items, all);
	if (rc) {
		cJSON_Delete(all);
		return rc;
	}
	*items = all;
	return 0;
}

int azl_kube_patch(struct azl_kube *kube, const char *path,
		   enum azl_patch_type type, const char *body, cJSON **out)
{
	struct call c = { "PATCH", path,
			  type == AZL_PATCH_STRATEGIC ? "application/strategic-merge-patch+json"
						      : "application/merge-patch+json",
			  body, strlen(body), NULL, NULL, NULL };
	long status;

	if (out)
		*out = NULL;
	return call(kube, &c, out, &status);
}

int azl_kube_create(struct azl_kube *kube, const char *path,
		    const cJSON *body, cJSON **out)
{
	char *text = azl_json_print(body, 0);
	struct call c = { "POST", path, "application/json", text, 0, NULL, NULL, NULL };
	long status;
	int rc;

	c.body_len = strlen(text);
	if (out)
		*out = NULL;
	rc = call(kube, &c, out, &status);
	cJSON_free(text);
	return rc;
}

int azl_kube_stream(struct azl_kube *kube, const char *path,
		    const struct azl_http_stream *s, struct azl_kube_result *res)
{
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct call c = { "GET", path, NULL, NULL, 0, NULL, NULL, s };
	int rc;

	azl_kube_result_release(res);
	rc = send(kube, &c, &resp);
	res->status = resp.status;
	if (!rc && (resp.status < 200 || resp.status > 299))
		rc = answer(kube, &c, &resp, res);
	azl_http_response_release(&resp);
	return rc;
}
