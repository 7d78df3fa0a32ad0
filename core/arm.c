#include "arm.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "retry.h"
#include "tokencache.h"
#include "wrapper.h"

#define DEFAULT_MAX_RETRIES 4
#define DEFAULT_RETRY_BUDGET_MS 60000L
#define DEFAULT_RETRY_BASE_MS 500L
/* Connections for azl_arm_get_many over HTTP/1.1 (over HTTP/2 http.c
 * multiplexes all on one). 16 measured best against the simulator: the
 * large `pools` (102 profiles) took ~0.69 s at 8, 0.52 s at 16, 0.65 s at
 * 48, where TLS handshakes cost more than the round trips they save. */
#define DEFAULT_MAX_PARALLEL 16
#define MAX_BACKOFF_MS 30000L
/* A runaway nextLink chain is a server bug; stop rather than loop. */
#define MAX_PAGES 1000

struct azl_arm {
	struct azl_http *http;
	struct strbuf endpoint;
	azl_arm_token_fn token;
	void *token_data;
	struct azl_retry *retry;     /* requests' default policy */
	int own_retry;               /* made by the client, freed with it */
	int max_parallel;
	long timeout_ms;             /* 0: none */
};

/* One request in flight, with its retry state. */
struct pending {
	const char *method;
	const char *url;
	struct strbuf body;          /* serialised JSON, or empty */
	struct strbuf if_match;      /* the header lines, or empty */
	struct strbuf if_none_match;
	int repeatable;              /* may be sent again after a 5xx or a reset */
	int need_json;               /* a GET of a resource: the body must be JSON */
	struct azl_arm_result *res;
	struct azl_retry_state st;
	int refreshed;               /* token refreshed after a 401 */
	long wait_ms;                /* before the next try */
	int done;
};

struct azl_arm_credential {
	struct azl_auth *auth;
	pthread_mutex_t lock;
	pthread_cond_t fetched;
	struct strbuf token;         /* secret: scrubbed when replaced */
	time_t expires_on;
	int fetching;                /* a prefetch is under way: callers wait */
	int fetcher_started;
	pthread_t fetcher;
	int failed;                  /* the prefetch's AZL_E*, kept for good */
	struct strbuf failure;
};

int azl_arm_credential_new(struct azl_arm_credential **out, struct azl_auth *auth)
{
	struct azl_arm_credential *cred = xcalloc(1, sizeof(*cred));

	cred->auth = auth;
	pthread_mutex_init(&cred->lock, NULL);
	pthread_cond_init(&cred->fetched, NULL);
	strbuf_init(&cred->token, 0);
	strbuf_init(&cred->failure, 0);
	*out = cred;
	return 0;
}

static void scrub(struct strbuf *sb)
{
	if (sb->alloc)
		memset(sb->buf, 0, sb->len);
	strbuf_release(sb);
}

void azl_arm_credential_free(struct azl_arm_credential *cred)
{
	if (!cred)
		return;
	azl_arm_credential_wait(cred);
	scrub(&cred->token);
	strbuf_release(&cred->failure);
	pthread_cond_destroy(&cred->fetched);
	pthread_mutex_destroy(&cred->lock);
	free(cred);
}

static int credential_token(void *data, int force, struct strbuf *token)
{
	struct azl_arm_credential *cred = data;
	int rc = 0;

	pthread_mutex_lock(&cred->lock);
	while (cred->fetching)
		pthread_cond_wait(&cred->fetched, &cred->lock);
	if (cred->failed) {
		rc = azl_error_set(cred->failed, "%s", cred->failure.buf);
		goto out;
	}
	/* a 401 with a token that looked valid: revoked or expired early */
	if (force) {
		scrub(&cred->token);
		azl_auth_invalidate(cred->auth, NULL);
	}
	if (!cred->token.len || !azl_token_is_fresh(cred->expires_on, time(NULL))) {
		scrub(&cred->token);
		rc = azl_auth_token(cred->auth, NULL, &cred->token, &cred->expires_on);
	}
	if (!rc)
		strbuf_addbuf(token, &cred->token);
out:
	pthread_mutex_unlock(&cred->lock);
	return rc;
}

static const char token_failed[] = "getting a token for Azure Resource Manager";

/* Not under the lock, which callers would otherwise queue on unwoken:
 * they wait for fetching to clear. */
static void *prefetch_main(void *data)
{
	struct azl_arm_credential *cred = data;
	struct strbuf token = STRBUF_INIT;
	time_t expires_on = 0;
	int rc = azl_auth_token(cred->auth, NULL, &token, &expires_on);

	pthread_mutex_lock(&cred->lock);
	if (rc) {
		cred->failed = rc;
		strbuf_addstr(&cred->failure, azl_error_message());
	} else {
		scrub(&cred->token);
		cred->token = token;
		cred->expires_on = expires_on;
	}
	cred->fetching = 0;
	pthread_cond_broadcast(&cred->fetched);
	pthread_mutex_unlock(&cred->lock);
	if (rc)
		scrub(&token);
	/* the message is thread-local: free it before the thread ends */
	azl_error_clear();
	return NULL;
}

void azl_arm_credential_prefetch(struct azl_arm_credential *cred)
{
	pthread_mutex_lock(&cred->lock);
	cred->fetching = 1;
	pthread_mutex_unlock(&cred->lock);
	cred->fetcher_started = !pthread_create(&cred->fetcher, NULL, prefetch_main, cred);
	if (!cred->fetcher_started)
		prefetch_main(cred);
}

int azl_arm_credential_wait(struct azl_arm_credential *cred)
{
	if (cred->fetcher_started)
		pthread_join(cred->fetcher, NULL);
	cred->fetcher_started = 0;
	if (cred->failed)
		return azl_error_set(cred->failed, "%s: %s", token_failed, cred->failure.buf);
	return 0;
}

static int check_options(const struct azl_arm_options *opts, const char *endpoint)
{
	if (!opts->token && !opts->credential)
		return azl_error_set(AZL_EINVALID, "ARM client needs a token source");
	if (!endpoint || strncasecmp(endpoint, "https://", 8))
		return azl_error_set(AZL_EINVALID,
				     "ARM endpoint '%s' is not an https:// URL: check AZLINUX_ARM_ENDPOINT or the cloud settings",
				     endpoint ? endpoint : "");
	return 0;
}

static void configure(struct azl_arm *arm, const struct azl_arm_options *opts,
		      const char *endpoint)
{
	strbuf_init(&arm->endpoint, 0);
	strbuf_addstr(&arm->endpoint, endpoint);
	while (arm->endpoint.len > 8 && arm->endpoint.buf[arm->endpoint.len - 1] == '/')
		strbuf_setlen(&arm->endpoint, arm->endpoint.len - 1);
	arm->token = opts->token ? opts->token : credential_token;
	arm->token_data = opts->token ? opts->token_data : opts->credential;
	arm->max_parallel = opts->max_parallel > 0 ? opts->max_parallel : DEFAULT_MAX_PARALLEL;
	arm->retry = opts->retry;
	if (!arm->retry) {
		struct azl_retry_options ro = { 0 };

		ro.max_attempts = (opts->max_retries > 0 ? opts->max_retries : DEFAULT_MAX_RETRIES) + 1;
		ro.budget_ms = opts->retry_budget_ms > 0 ? opts->retry_budget_ms : DEFAULT_RETRY_BUDGET_MS;
		ro.base_ms = opts->retry_base_ms > 0 ? opts->retry_base_ms : DEFAULT_RETRY_BASE_MS;
		ro.max_backoff_ms = MAX_BACKOFF_MS;
		azl_retry_new(&arm->retry, &ro);
		arm->own_retry = 1;
	}
}

int azl_arm_new(struct azl_arm **out, const struct azl_arm_options *opts)
{
	struct azl_http_options hopts = { 0 };
	struct strbuf ua = STRBUF_INIT;
	const char *endpoint = opts->endpoint;
	struct azl_arm *arm;
	int rc;

	*out = NULL;
	if (!endpoint && opts->credential)
		endpoint = azl_auth_arm_endpoint(opts->credential->auth);
	rc = check_options(opts, endpoint);
	if (rc)
		return rc;
	arm = xcalloc(1, sizeof(*arm));
	strbuf_addf(&ua, "kubectl-azlinux/%s", azl_version_string());
	hopts.ca_file = opts->ca_file;
	if (!hopts.ca_file && opts->credential)
		hopts.ca_file = azl_auth_ca_file(opts->credential->auth);
	arm->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms
			  : opts->timeout_ms < 0 ? 0 : AZL_ARM_DEFAULT_TIMEOUT_MS;
	hopts.timeout_ms = arm->timeout_ms;
	hopts.user_agent = ua.buf;
	hopts.concurrent = opts->concurrent;
	rc = azl_http_new(&arm->http, &hopts);
	strbuf_release(&ua);
	if (rc) {
		free(arm);
		return rc;
	}
	configure(arm, opts, endpoint);
	*out = arm;
	return 0;
}

void azl_arm_preconnect(struct azl_arm *arm)
{
	azl_http_preconnect(arm->http, arm->endpoint.buf);
}

void azl_arm_free(struct azl_arm *arm)
{
	if (!arm)
		return;
	azl_http_free(arm->http);
	strbuf_release(&arm->endpoint);
	if (arm->own_retry)
		azl_retry_free(arm->retry);
	free(arm);
}

void azl_arm_result_release(struct azl_arm_result *res)
{
	if (!res)
		return;
	cJSON_Delete(res->json);
	strbuf_release(&res->error);
	strbuf_release(&res->error_code);
	strbuf_release(&res->etag);
	strbuf_release(&res->async_operation);
	strbuf_release(&res->location);
	strbuf_release(&res->correlation_id);
	*res = (struct azl_arm_result)AZL_ARM_RESULT_INIT;
}

/* Appends the api-version unless the URL (a nextLink) already has one. */
static void add_api_version(struct strbuf *url)
{
	if (strstr(url->buf, "api-version="))
		return;
	strbuf_addch(url, strchr(url->buf, '?') ? '&' : '?');
	strbuf_addstr(url, "api-version=" AZL_ARM_API_VERSION);
}

/* 1 when url is on the ARM endpoint, where the token may go. */
static int on_endpoint(const struct azl_arm *arm, const char *url)
{
	size_t elen = arm->endpoint.len;

	return !strncasecmp(url, arm->endpoint.buf, elen) && url[elen] == '/';
}

static int is_absolute(const char *path)
{
	return !strncasecmp(path, "https://", 8) || !strncasecmp(path, "http://", 7);
}

static void build_url(const struct azl_arm *arm, const char *path, struct strbuf *url)
{
	strbuf_addbuf(url, &arm->endpoint);
	if (*path != '/')
		strbuf_addch(url, '/');
	strbuf_addstr(url, path);
	add_api_version(url);
}

/* A request's URL: a path under the endpoint, or an absolute URL on it. */
static int request_url(const struct azl_arm *arm, const struct azl_arm_request *req,
		       struct strbuf *url)
{
	if (!req->path || !*req->path)
		return azl_error_set(AZL_EINVALID, "ARM request without a path");
	if (!is_absolute(req->path)) {
		strbuf_addbuf(url, &arm->endpoint);
		if (*req->path != '/')
			strbuf_addch(url, '/');
		strbuf_addstr(url, req->path);
	} else if (on_endpoint(arm, req->path)) {
		strbuf_addstr(url, req->path);
	} else {
		return azl_error_set(AZL_EINVALID,
				     "ARM gave a URL outside %s (%.80s): refusing to send the token there",
				     arm->endpoint.buf, req->path);
	}
	if (req->query && *req->query) {
		strbuf_addch(url, strchr(url->buf, '?') ? '&' : '?');
		strbuf_addstr(url, req->query);
	}
	add_api_version(url);
	return 0;
}

/* The URL without scheme, host and query, for messages. */
static void describe_url(const char *url, struct strbuf *out)
{
	const char *p = strstr(url, "://");
	size_t len;

	p = p ? strchr(p + 3, '/') : url;
	if (!p)
		p = "/";
	len = strcspn(p, "?");
	strbuf_add(out, p, len);
}

/* "METHOD /path: " */
static void start_message(const struct pending *p, struct strbuf *err)
{
	strbuf_reset(err);
	strbuf_addf(err, "%s ", p->method);
	describe_url(p->url, err);
	strbuf_addstr(err, ": ");
}

/* "Code: message" from an ARM error body (its code also into code), else
 * a short status text. */
static void describe_arm_error(const struct azl_http_response *resp, struct strbuf *out,
			       struct strbuf *code_out)
{
	cJSON *body = cJSON_ParseWithLength(resp->body.buf, resp->body.len);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(body, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");

	if (cJSON_IsString(code) && code->valuestring[0]) {
		strbuf_addstr(out, code->valuestring);
		strbuf_addstr(code_out, code->valuestring);
		if (cJSON_IsString(msg) && msg->valuestring[0]) {
			strbuf_addstr(out, ": ");
			/* keep it one line */
			for (const char *m = msg->valuestring; *m; m++)
				strbuf_addch(out, *m == '\n' || *m == '\r' ? ' ' : *m);
		}
	} else {
		strbuf_addf(out, "HTTP %ld", resp->status);
	}
	cJSON_Delete(body);
}

static const char *status_hint(long status, const struct pending *p)
{
	int reads = !strcmp(p->method, "GET") || !strcmp(p->method, "HEAD");

	switch (status) {
	case 401: return ": sign in again (az login) or check the AZURE_* credentials";
	case 403:
		return reads ? ": the identity needs read access (for example Reader) on the cluster"
			     : ": the identity needs write access (for example Azure Kubernetes Service Contributor) on the cluster";
	case 409:
		return p->res->code == AZL_EBUSY
			? ": another operation is in progress; wait for it to finish or abort it" : "";
	case 412: return ": the resource changed since it was read; read it again and retry";
	case 429: return ": ARM is throttling this subscription; try again later";
	default: return "";
	}
}

static void fail_http(struct pending *p, const struct azl_http_response *resp, int tries)
{
	struct azl_arm_result *res = p->res;
	struct strbuf *err = &res->error;

	start_message(p, err);
	strbuf_reset(&res->error_code);
	describe_arm_error(resp, err, &res->error_code);
	res->code = azl_retry_status_code(resp->status, res->error_code.buf);
	strbuf_addf(err, " (HTTP %ld", resp->status);
	if (res->correlation_id.len)
		strbuf_addf(err, ", correlation id %s", res->correlation_id.buf);
	strbuf_addch(err, ')');
	if (tries > 1)
		strbuf_addf(err, " after %d attempts", tries);
	strbuf_addstr(err, status_hint(resp->status, p));
}

/* "2s", "1500ms" */
static void add_duration(struct strbuf *sb, long ms)
{
	if (ms % 1000)
		strbuf_addf(sb, "%ldms", ms);
	else
		strbuf_addf(sb, "%lds", ms / 1000);
}

/* A timeout says whose limit it was, since libcurl's words ("Operation
 * timed out after 2001 milliseconds with 0 bytes received") do not; a write
 * that timed out and is not repeated says why: ARM may have applied it. */
static void fail_transport(const struct azl_arm *arm, struct pending *p, int rc,
			   const char *why, int tries)
{
	struct strbuf *err = &p->res->error;

	start_message(p, err);
	p->res->code = rc;
	if (rc == AZL_ETIMEOUT && arm->timeout_ms > 0) {
		strbuf_addstr(err, "no answer from ARM within ");
		add_duration(err, arm->timeout_ms);
		strbuf_addstr(err, " (the request timeout: --request-timeout sets it)");
	} else {
		strbuf_addstr(err, why && *why ? why : "the connection failed");
	}
	if (tries > 1)
		strbuf_addf(err, " (after %d attempts)", tries);
	if (rc == AZL_ETIMEOUT && !p->repeatable)
		strbuf_addstr(err, "; not sent again, since ARM may have applied it");
}

/* The headers a caller of the write path needs, from the last answer. */
static void capture(struct azl_arm_result *res, const struct azl_http_response *resp)
{
	struct strbuf ra = STRBUF_INIT;

	res->status = resp->status;
	strbuf_reset(&res->etag);
	strbuf_reset(&res->async_operation);
	strbuf_reset(&res->location);
	strbuf_reset(&res->correlation_id);
	azl_http_response_header(resp, "ETag", &res->etag);
	azl_http_response_header(resp, "Azure-AsyncOperation", &res->async_operation);
	azl_http_response_header(resp, "Location", &res->location);
	azl_http_response_header(resp, "x-ms-correlation-request-id", &res->correlation_id);
	res->retry_after_ms = -1;
	if (azl_http_response_header(resp, "Retry-After", &ra))
		res->retry_after_ms = azl_retry_after_parse(ra.buf, time(NULL));
	res->date = 0;
	strbuf_reset(&ra);
	if (azl_http_response_header(resp, "Date", &ra) && azl_retry_http_date(ra.buf, &res->date))
		res->date = 0;
	strbuf_release(&ra);
}

/* The resource's eTag from the body when the header had none: managed
 * clusters carry it at the top, agent pools in properties. */
static void etag_from_body(struct azl_arm_result *res)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(res->json, "eTag");

	if (res->etag.len || !res->json)
		return;
	if (!cJSON_IsString(e))
		e = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(res->json, "properties"), "eTag");
	if (cJSON_IsString(e))
		strbuf_addstr(&res->etag, e->valuestring);
}

static int blank(const struct strbuf *sb)
{
	for (size_t i = 0; i < sb->len; i++)
		if (!strchr(" \t\r\n", sb->buf[i]))
			return 0;
	return 1;
}

static void succeed(struct pending *p, const struct azl_http_response *resp)
{
	struct azl_arm_result *res = p->res;

	p->done = 1;
	res->code = 0;
	strbuf_reset(&res->error);
	if (!p->need_json && blank(&resp->body))
		return;
	res->json = cJSON_ParseWithLength(resp->body.buf, resp->body.len);
	if (res->json) {
		etag_from_body(res);
		return;
	}
	res->code = AZL_EINVALID;
	start_message(p, &res->error);
	strbuf_addstr(&res->error, "the response is not JSON");
	if (res->correlation_id.len)
		strbuf_addf(&res->error, " (correlation id %s)", res->correlation_id.buf);
}

/* Asks the policy for another try; words why not when it refuses. */
static void retry_or_stop(struct azl_retry *retry, struct pending *p, long retry_after_ms)
{
	int rc = azl_retry_next(retry, &p->st, retry_after_ms, &p->wait_ms);

	if (!rc)
		return;
	p->done = 1;
	if (rc == AZL_ECANCELED) {
		p->res->code = AZL_ECANCELED;
		strbuf_addstr(&p->res->error, " (cancelled)");
	} else if (p->st.attempts < azl_retry_max_attempts(retry)) {
		strbuf_addf(&p->res->error, " (gave up: retrying would take longer than %lds)",
			    azl_retry_budget_ms(retry) / 1000L);
	}
}

/* Decides what one attempt's outcome means: done (success or final
 * failure), or try again after p->wait_ms. */
static void judge(const struct azl_arm *arm, struct azl_retry *retry, struct pending *p, int rc,
		  const struct azl_http_response *resp, const char *transport_error)
{
	int tries = p->st.attempts + 1;

	p->wait_ms = 0;
	if (rc) {
		fail_transport(arm, p, rc, transport_error, tries);
		if (p->repeatable)
			retry_or_stop(retry, p, -1);
		else
			p->done = 1;
		return;
	}
	capture(p->res, resp);
	if (resp->status >= 200 && resp->status < 300) {
		succeed(p, resp);
		return;
	}
	fail_http(p, resp, tries);
	if (resp->status == 401 && !p->refreshed) {
		/* the cached token may have been revoked or expired early */
		p->refreshed = 1;
		p->st.attempts++;
		return;
	}
	/* ARM processed no throttled request; anything else may have been */
	if (!azl_retry_status_is_transient(resp->status) ||
	    (resp->status != 429 && !p->repeatable)) {
		p->done = 1;
		return;
	}
	retry_or_stop(retry, p, p->res->retry_after_ms);
}

static int fetch_token(struct azl_arm *arm, int force, struct strbuf *header)
{
	struct strbuf token = STRBUF_INIT;
	int rc = arm->token(arm->token_data, force, &token);

	if (rc) {
		strbuf_release(&token);
		return azl_error_prefix("%s", token_failed);
	}
	strbuf_reset(header);
	strbuf_addstr(header, "Authorization: Bearer ");
	strbuf_addbuf(header, &token);
	/* scrub our copy; the header buffer is scrubbed by the caller */
	memset(token.buf, 0, token.len);
	strbuf_release(&token);
	return 0;
}

/* A 401 asks for a token that bypasses every cache. */
static int wants_fresh_token(const struct pending *ps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ps[i].done && ps[i].refreshed == 1)
			return 1;
	return 0;
}

/* One slot per request still to try, in reqs[0..m); idx maps back to ps. */
struct round {
	struct azl_http_request *reqs;
	struct azl_http_response *resps;
	struct strbuf *errs;
	int *rcs;
	size_t *idx;
	const char **headers;        /* NR_HEADERS per slot */
	size_t m;
};

#define NR_HEADERS 6

/* Authorization, Accept, then what the request adds; NULL-terminated. */
static void request_headers(const struct pending *p, const char *auth, const char **h)
{
	size_t k = 0;

	h[k++] = auth;
	h[k++] = "Accept: application/json";
	if (p->body.len)
		h[k++] = "Content-Type: application/json";
	if (p->if_match.len)
		h[k++] = p->if_match.buf;
	if (p->if_none_match.len)
		h[k++] = p->if_none_match.buf;
	h[k] = NULL;
}

static void round_init(struct round *r, struct pending *ps, size_t n, const char *auth)
{
	r->reqs = xcalloc(n, sizeof(*r->reqs));
	r->resps = xcalloc(n, sizeof(*r->resps));
	r->errs = xcalloc(n, sizeof(*r->errs));
	r->rcs = xcalloc(n, sizeof(*r->rcs));
	r->idx = xcalloc(n, sizeof(*r->idx));
	r->headers = xcalloc(n * NR_HEADERS, sizeof(*r->headers));
	r->m = 0;
	for (size_t i = 0; i < n; i++) {
		const char **h = r->headers + r->m * NR_HEADERS;

		if (ps[i].done)
			continue;
		if (ps[i].refreshed == 1)
			ps[i].refreshed = 2;
		request_headers(&ps[i], auth, h);
		r->reqs[r->m] = (struct azl_http_request){ ps[i].method, ps[i].url, h,
			ps[i].body.len ? ps[i].body.buf : NULL, ps[i].body.len };
		r->resps[r->m] = (struct azl_http_response)AZL_HTTP_RESPONSE_INIT;
		strbuf_init(&r->errs[r->m], 0);
		r->idx[r->m++] = i;
	}
}

static void round_release(struct round *r)
{
	for (size_t k = 0; k < r->m; k++) {
		azl_http_response_release(&r->resps[k]);
		strbuf_release(&r->errs[k]);
	}
	free(r->reqs);
	free(r->resps);
	free(r->errs);
	free(r->rcs);
	free(r->idx);
	free(r->headers);
}

/* One round: every pending request that is not done is tried once. */
static int run_round(struct azl_arm *arm, struct azl_retry *retry, struct pending *ps, size_t n)
{
	struct strbuf auth = STRBUF_INIT;
	struct round r;
	int rc = fetch_token(arm, wants_fresh_token(ps, n), &auth);

	if (rc) {
		scrub(&auth);
		return rc;
	}
	round_init(&r, ps, n, auth.buf);
	azl_http_do_many(arm->http, r.reqs, r.resps, r.rcs, r.errs, r.m, arm->max_parallel);
	for (size_t k = 0; k < r.m; k++)
		judge(arm, retry, &ps[r.idx[k]], r.rcs[k], &r.resps[k], r.errs[k].buf);
	round_release(&r);
	scrub(&auth);
	return 0;
}

static void log_retry(const struct pending *ps, size_t n, size_t left, long wait)
{
	for (size_t i = 0; i < n; i++)
		if (!ps[i].done) {
			azl_logf(4, "%s; retrying %zu request(s) in %ld ms",
				 ps[i].res->error.buf, left, wait);
			return;
		}
}

/* Ends what is left when the wait was cancelled. */
static void cancel_left(struct pending *ps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ps[i].done)
			continue;
		ps[i].res->code = AZL_ECANCELED;
		strbuf_addstr(&ps[i].res->error, " (cancelled)");
		ps[i].done = 1;
	}
}

/* Runs rounds until every request is done or out of retries or time. The
 * round waits for the longest delay asked for: one Retry-After applies to
 * the whole subscription anyway. */
static int run_all(struct azl_arm *arm, struct azl_retry *retry, struct pending *ps, size_t n)
{
	for (;;) {
		long wait = 0;
		size_t left = 0;
		int rc = run_round(arm, retry, ps, n);

		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			if (ps[i].done)
				continue;
			left++;
			if (ps[i].wait_ms > wait)
				wait = ps[i].wait_ms;
		}
		if (!left)
			return 0;
		if (!wait)
			continue;
		log_retry(ps, n, left, wait);
		if (azl_retry_wait(retry, wait)) {
			cancel_left(ps, n);
			return 0;
		}
	}
}

static int method_is(const char *method, const char *m)
{
	return !strcmp(method, m);
}

static void pending_init(struct pending *p, const char *method, const char *url,
			 const struct azl_arm_request *req, struct azl_retry *retry,
			 struct azl_arm_result *res)
{
	memset(p, 0, sizeof(*p));
	p->method = method;
	p->url = url;
	p->res = res;
	strbuf_init(&p->body, 0);
	strbuf_init(&p->if_match, 0);
	strbuf_init(&p->if_none_match, 0);
	if (req && req->body) {
		char *s = cJSON_PrintUnformatted(req->body);

		strbuf_addstr(&p->body, s);
		free(s);
	}
	if (req && req->if_match && *req->if_match)
		strbuf_addf(&p->if_match, "If-Match: %s", req->if_match);
	if (req && req->if_none_match && *req->if_none_match)
		strbuf_addf(&p->if_none_match, "If-None-Match: %s", req->if_none_match);
	p->repeatable = method_is(method, "GET") || method_is(method, "HEAD") ||
			((method_is(method, "PUT") || method_is(method, "DELETE")) && p->if_match.len);
	azl_retry_begin(retry, &p->st);
}

static void pending_release(struct pending *p)
{
	strbuf_release(&p->body);
	strbuf_release(&p->if_match);
	strbuf_release(&p->if_none_match);
}

/* Sets res from the error a token failure left (the request was not sent). */
static int fail_unsent(struct azl_arm_result *res, int rc)
{
	res->code = rc;
	strbuf_reset(&res->error);
	strbuf_addstr(&res->error, azl_error_message());
	return rc;
}

int azl_arm_do(struct azl_arm *arm, const struct azl_arm_request *req,
	       struct azl_arm_result *res)
{
	struct azl_retry *retry = req->retry ? req->retry : arm->retry;
	const char *method = req->method ? req->method : "GET";
	struct strbuf url = STRBUF_INIT;
	struct pending p;
	int rc;

	*res = (struct azl_arm_result)AZL_ARM_RESULT_INIT;
	rc = request_url(arm, req, &url);
	if (rc) {
		strbuf_release(&url);
		return fail_unsent(res, rc);
	}
	pending_init(&p, method, url.buf, req, retry, res);
	rc = run_all(arm, retry, &p, 1);
	pending_release(&p);
	strbuf_release(&url);
	if (rc)
		return fail_unsent(res, rc);
	if (res->code)
		return azl_error_set(res->code, "%s", res->error.buf);
	return 0;
}

/* GETs of resources, whose bodies must be JSON. */
static int get_urls(struct azl_arm *arm, const char *const *urls, size_t n,
		    struct azl_arm_result *results)
{
	struct pending *ps = xcalloc(n, sizeof(*ps));
	int rc;

	for (size_t i = 0; i < n; i++) {
		results[i] = (struct azl_arm_result)AZL_ARM_RESULT_INIT;
		pending_init(&ps[i], "GET", urls[i], NULL, arm->retry, &results[i]);
		ps[i].need_json = 1;
	}
	rc = n ? run_all(arm, arm->retry, ps, n) : 0;
	for (size_t i = 0; i < n; i++)
		pending_release(&ps[i]);
	free(ps);
	return rc;
}

int azl_arm_get_many(struct azl_arm *arm, const char *const *paths, size_t n,
		     struct azl_arm_result *results)
{
	struct strbuf *urls = xcalloc(n, sizeof(*urls));
	const char **ptrs = xcalloc(n, sizeof(*ptrs));
	int rc;

	for (size_t i = 0; i < n; i++) {
		strbuf_init(&urls[i], 0);
		build_url(arm, paths[i], &urls[i]);
		ptrs[i] = urls[i].buf;
	}
	rc = get_urls(arm, ptrs, n, results);
	for (size_t i = 0; i < n; i++)
		strbuf_release(&urls[i]);
	free(urls);
	free(ptrs);
	return rc;
}

static int get_url(struct azl_arm *arm, const char *url, cJSON **out)
{
	struct azl_arm_result res = AZL_ARM_RESULT_INIT;
	int rc = get_urls(arm, &url, 1, &res);

	*out = NULL;
	if (!rc && res.code)
		rc = azl_error_set(res.code, "%s", res.error.buf);
	if (!rc) {
		*out = res.json;
		res.json = NULL;
	}
	azl_arm_result_release(&res);
	return rc;
}

int azl_arm_get(struct azl_arm *arm, const char *path, cJSON **out)
{
	struct strbuf url = STRBUF_INIT;
	int rc;

	build_url(arm, path, &url);
	rc = get_url(arm, url.buf, out);
	strbuf_release(&url);
	return rc;
}

/* Moves the items of page.value onto items. */
static int take_page(cJSON *page, cJSON *items, const char *url)
{
	cJSON *value = cJSON_GetObjectItemCaseSensitive(page, "value");
	struct strbuf where = STRBUF_INIT;

	if (cJSON_IsArray(value)) {
		while (cJSON_GetArraySize(value) > 0)
			cJSON_AddItemToArray(items, cJSON_DetachItemFromArray(value, 0));
		return 0;
	}
	describe_url(url, &where);
	azl_error_set(AZL_EINVALID, "GET %s: the response has no \"value\" list", where.buf);
	strbuf_release(&where);
	return AZL_EINVALID;
}

/* The next page's URL, or 0 when there is none. The token must not follow a
 * link off the ARM endpoint. */
static int next_link(const struct azl_arm *arm, const cJSON *page, struct strbuf *url)
{
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "nextLink");

	if (!cJSON_IsString(next) || !next->valuestring[0])
		return 0;
	if (!on_endpoint(arm, next->valuestring))
		return azl_error_set(AZL_EINVALID,
				     "ARM returned a nextLink outside %s (%.80s): refusing to send the token there",
				     arm->endpoint.buf, next->valuestring);
	strbuf_reset(url);
	strbuf_addstr(url, next->valuestring);
	add_api_version(url);
	return 1;
}

/* Moves the items of page (freed) and of the pages after it onto all. */
static int follow_pages(struct azl_arm *arm, const char *path, struct strbuf *url,
			cJSON *page, cJSON *all)
{
	int rc, pages = 0;

	for (;;) {
		rc = take_page(page, all, url->buf);
		if (!rc)
			rc = next_link(arm, page, url);
		cJSON_Delete(page);
		if (rc <= 0)
			return rc;
		if (++pages >= MAX_PAGES)
			return azl_error_set(AZL_ESERVER, "GET %s: more than %d pages; stopping",
					     path, MAX_PAGES);
		rc = get_url(arm, url->buf, &page);
		if (rc)
			return rc;
	}
}

/* The first page of path and the n GETs of paths, all at once. */
static int first_page_along(struct azl_arm *arm, const char *first_url, const char *const *paths,
			    size_t n, struct azl_arm_result *res)
{
	struct strbuf *urls = xcalloc(n + 1, sizeof(*urls));
	const char **ptrs = xcalloc(n + 1, sizeof(*ptrs));
	int rc;

	ptrs[0] = first_url;
	for (size_t i = 0; i < n; i++) {
		strbuf_init(&urls[i], 0);
		build_url(arm, paths[i], &urls[i]);
		ptrs[i + 1] = urls[i].buf;
	}
	rc = get_urls(arm, ptrs, n + 1, res);
	for (size_t i = 0; i < n; i++)
		strbuf_release(&urls[i]);
	free(urls);
	free(ptrs);
	if (!rc && res[0].code)
		rc = azl_error_set(res[0].code, "%s", res[0].error.buf);
	return rc;
}

int azl_arm_list_along(struct azl_arm *arm, const char *path, cJSON **items,
		       const char *const *paths, size_t n, struct azl_arm_result *results)
{
	struct strbuf url = STRBUF_INIT;
	struct azl_arm_result *res = xcalloc(n + 1, sizeof(*res));
	cJSON *all = NULL;
	int rc;

	*items = NULL;
	build_url(arm, path, &url);
	rc = first_page_along(arm, url.buf, paths, n, res);
	if (!rc) {
		all = cJSON_CreateArray();
		rc = follow_pages(arm, path, &url, res[0].json, all);
		res[0].json = NULL;
	}
	for (size_t i = 0; i < n; i++)
		results[i] = res[i + 1];
	azl_arm_result_release(&res[0]);
	free(res);
	strbuf_release(&url);
	if (rc) {
		cJSON_Delete(all);
		return rc;
	}
	*items = all;
	return 0;
}

int azl_arm_list(struct azl_arm *arm, const char *path, cJSON **items)
{
	return azl_arm_list_along(arm, path, items, NULL, 0, NULL);
}

/* Where the value of "/<key>/" starts (case-insensitive), or NULL. */
static const char *find_segment(const char *id, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = id; (p = strchr(p, '/')) != NULL; p++) {
		if (strncasecmp(p + 1, key, klen) || p[1 + klen] != '/')
			continue;
		p += 2 + klen;
		return *p && *p != '/' ? p : NULL;
	}
	return NULL;
}

/* Copies the segment at p (up to the next '/'), advancing p past it and
 * one '/'; NULL when empty. */
static char *take_segment(const char **p)
{
	size_t len;
	char *r;

	if (!*p || !**p)
		return NULL;
	len = strcspn(*p, "/");
	if (!len)
		return NULL;
	r = xmemdupz(*p, len);
	*p += len;
	if (**p == '/')
		(*p)++;
	return r;
}

int azl_arm_id_parse(const char *id, struct azl_arm_id *out)
{
	const char *p;

	memset(out, 0, sizeof(*out));
	if (!id || strncasecmp(id, "/subscriptions/", 15))
		goto bad;
	p = find_segment(id, "subscriptions");
	out->subscription = take_segment(&p);
	p = find_segment(id, "resourceGroups");
	out->resource_group = take_segment(&p);
	p = find_segment(id, "providers");
	out->provider = take_segment(&p);
	out->type = take_segment(&p);
	out->name = take_segment(&p);
	if (!out->subscription || !out->resource_group || !out->provider ||
	    !out->type || !out->name)
		goto bad;
	return 0;
bad:
	azl_arm_id_release(out);
	return azl_error_set(AZL_EINVALID,
			     "'%s' is not an Azure resource id (/subscriptions/S/resourceGroups/G/providers/P/T/N)",
			     id ? id : "");
}

void azl_arm_id_release(struct azl_arm_id *id)
{
	if (!id)
		return;
	free(id->subscription);
	free(id->resource_group);
	free(id->provider);
	free(id->type);
	free(id->name);
	memset(id, 0, sizeof(*id));
}

void azl_arm_cluster_path(struct strbuf *sb, const char *subscription,
			  const char *resource_group, const char *name)
{
	strbuf_addstr(sb, "/subscriptions/");
	strbuf_addurlenc(sb, subscription);
	strbuf_addstr(sb, "/resourceGroups/");
	strbuf_addurlenc(sb, resource_group);
	strbuf_addstr(sb, "/providers/Microsoft.ContainerService/managedClusters/");
	strbuf_addurlenc(sb, name);
}
