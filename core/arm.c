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
#include "num.h"
#include "tokencache.h"
#include "wrapper.h"

#define DEFAULT_MAX_RETRIES 4
#define DEFAULT_RETRY_BUDGET_MS 60000L
#define DEFAULT_RETRY_BASE_MS 500L
#define DEFAULT_TIMEOUT_MS 60000L
/* Connections for azl_arm_get_many over HTTP/1.1 (over HTTP/2 http.c
 * multiplexes all on one). 16 measured best against the simulator: the
 * large `pools` (102 profiles) took ~0.69 s at 8, 0.52 s at 16, 0.65 s at
 * 48, where TLS handshakes cost more than the round trips they save. */
#define DEFAULT_MAX_PARALLEL 16
#define MAX_BACKOFF_MS 30000L
#define RETRY_AFTER_MAX_S 2147483648L
/* A runaway nextLink chain is a server bug; stop rather than loop. */
#define MAX_PAGES 1000

struct azl_arm {
	struct azl_http *http;
	struct strbuf endpoint;
	azl_arm_token_fn token;
	void *token_data;
	int max_retries;
	long retry_budget_ms;
	long retry_base_ms;
	int max_parallel;
	pthread_mutex_t seed_lock;   /* a concurrent client's threads draw too */
	unsigned int seed;           /* jitter */
};

/* One GET in flight, with its retry state. */
struct pending {
	const char *url;
	struct azl_arm_result *res;
	int attempts;
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
	arm->max_retries = opts->max_retries > 0 ? opts->max_retries : DEFAULT_MAX_RETRIES;
	arm->retry_budget_ms = opts->retry_budget_ms > 0 ? opts->retry_budget_ms : DEFAULT_RETRY_BUDGET_MS;
	arm->retry_base_ms = opts->retry_base_ms > 0 ? opts->retry_base_ms : DEFAULT_RETRY_BASE_MS;
	arm->max_parallel = opts->max_parallel > 0 ? opts->max_parallel : DEFAULT_MAX_PARALLEL;
	/* per client, so clients started together do not jitter alike */
	arm->seed = (unsigned int)monotonic_ms() ^ (unsigned int)getpid() ^ (unsigned int)(uintptr_t)arm;
	pthread_mutex_init(&arm->seed_lock, NULL);
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
	hopts.timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
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
	pthread_mutex_destroy(&arm->seed_lock);
	free(arm);
}

void azl_arm_result_release(struct azl_arm_result *res)
{
	if (!res)
		return;
	cJSON_Delete(res->json);
	res->json = NULL;
	strbuf_release(&res->error);
	res->code = 0;
}

/* Appends the api-version unless the URL (a nextLink) already has one. */
static void add_api_version(struct strbuf *url)
{
	if (strstr(url->buf, "api-version="))
		return;
	strbuf_addch(url, strchr(url->buf, '?') ? '&' : '?');
	strbuf_addstr(url, "api-version=" AZL_ARM_API_VERSION);
}

static void build_url(const struct azl_arm *arm, const char *path, struct strbuf *url)
{
	strbuf_addbuf(url, &arm->endpoint);
	if (*path != '/')
		strbuf_addch(url, '/');
	strbuf_addstr(url, path);
	add_api_version(url);
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

static int month_index(const char *mon)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (!strncmp(months + 3 * i, mon, 3))
			return i;
	return -1;
}

long azl_arm_parse_retry_after(const char *value)
{
	struct tm tm = { 0 };
	char mon[4] = "", gmt[4] = "";
	long secs;
	time_t when, now = time(NULL);

	if (!value || !*value)
		return -1;
	/* delta-seconds is 1*DIGIT; past 2^31 it means 2^31 (RFC 9111 §1.2.2) */
	if (value[strspn(value, "0123456789")] == '\0') {
		azl_num_scan(value, 0, RETRY_AFTER_MAX_S, &secs);
		return azl_num_mul(secs, 1000L);
	}
	/* HTTP-date (RFC 9110 IMF-fixdate): "Wed, 21 Oct 2026 07:28:00 GMT";
	 * the field widths keep every number in range */
	if (sscanf(value, "%*[^,], %2d %3s %4d %2d:%2d:%2d %3s", &tm.tm_mday, mon, &tm.tm_year,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, gmt) != 7 || strcmp(gmt, "GMT"))
		return -1;
	tm.tm_mon = month_index(mon);
	if (tm.tm_mon < 0 || tm.tm_year < 1970 || tm.tm_mday < 1 || tm.tm_hour < 0 ||
	    tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	when = timegm(&tm);
	if (when <= now)
		return 0;
	secs = when - now > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)(when - now);
	return secs * 1000L;
}

static unsigned long jitter_draw(struct azl_arm *arm)
{
	unsigned long r;

	pthread_mutex_lock(&arm->seed_lock);
	r = (unsigned long)rand_r(&arm->seed);
	pthread_mutex_unlock(&arm->seed_lock);
	return r;
}

static long backoff_ms(struct azl_arm *arm, int attempt)
{
	long base = arm->retry_base_ms;
	long half;

	for (int i = 0; i < attempt && base < MAX_BACKOFF_MS; i++)
		base *= 2;
	if (base > MAX_BACKOFF_MS)
		base = MAX_BACKOFF_MS;
	/* "equal jitter": half fixed, half random, so concurrent clients that
	 * were throttled together do not come back together */
	half = base / 2;
	return half + (half ? (long)(jitter_draw(arm) % (unsigned long)(half + 1)) : 0);
}

/* "Code: message" from an ARM error body, else a short status text. */
static void describe_arm_error(const struct azl_http_response *resp, struct strbuf *out)
{
	cJSON *body = cJSON_ParseWithLength(resp->body.buf, resp->body.len);
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(body, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(err, "message");

	if (cJSON_IsString(code) && code->valuestring[0]) {
		strbuf_addstr(out, code->valuestring);
		if (cJSON_IsString(msg) && msg->valuestring[0]) {
			strbuf_addstr(out, ": ");
			/* keep it one line */
			for (const char *p = msg->valuestring; *p; p++)
				strbuf_addch(out, *p == '\n' || *p == '\r' ? ' ' : *p);
		}
	} else {
		strbuf_addf(out, "HTTP %ld", resp->status);
	}
	cJSON_Delete(body);
}

static int status_code(long status)
{
	switch (status) {
	case 400: return AZL_EINVALID;
	case 401: return AZL_EAUTH;
	case 403: return AZL_EFORBIDDEN;
	case 404: return AZL_ENOTFOUND;
	case 409:
	case 412: return AZL_ECONFLICT;
	case 429: return AZL_ETHROTTLED;
	default: return status >= 500 ? AZL_ESERVER : AZL_ERROR;
	}
}

static const char *status_hint(long status)
{
	switch (status) {
	case 401: return ": sign in again (az login) or check the AZURE_* credentials";
	case 403: return ": the identity needs read access (for example Reader) on the cluster";
	case 429: return ": ARM is throttling this subscription; try again later";
	default: return "";
	}
}

static void fail_http(struct pending *p, const struct azl_http_response *resp)
{
	struct strbuf corr = STRBUF_INIT;
	struct strbuf *err = &p->res->error;

	strbuf_reset(err);
	p->res->code = status_code(resp->status);
	strbuf_addstr(err, "GET ");
	describe_url(p->url, err);
	strbuf_addstr(err, ": ");
	describe_arm_error(resp, err);
	strbuf_addf(err, " (HTTP %ld", resp->status);
	if (azl_http_response_header(resp, "x-ms-correlation-request-id", &corr))
		strbuf_addf(err, ", correlation id %s", corr.buf);
	strbuf_addch(err, ')');
	if (p->attempts > 1)
		strbuf_addf(err, " after %d attempts", p->attempts);
	strbuf_addstr(err, status_hint(resp->status));
	strbuf_release(&corr);
}

static void fail_transport(struct pending *p, int rc, const char *why)
{
	struct strbuf *err = &p->res->error;

	strbuf_reset(err);
	p->res->code = rc;
	strbuf_addstr(err, "GET ");
	describe_url(p->url, err);
	strbuf_addf(err, ": %s", why && *why ? why : "the connection failed");
	if (p->attempts > 1)
		strbuf_addf(err, " (after %d attempts)", p->attempts);
}

static int retryable_status(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504 || status == 408;
}

static void succeed(struct pending *p, const struct azl_http_response *resp)
{
	struct strbuf corr = STRBUF_INIT;

	p->res->json = cJSON_ParseWithLength(resp->body.buf, resp->body.len);
	p->done = 1;
	if (p->res->json) {
		p->res->code = 0;
		return;
	}
	p->res->code = AZL_EINVALID;
	strbuf_addstr(&p->res->error, "GET ");
	describe_url(p->url, &p->res->error);
	strbuf_addstr(&p->res->error, ": the response is not JSON");
	if (azl_http_response_header(resp, "x-ms-correlation-request-id", &corr))
		strbuf_addf(&p->res->error, " (correlation id %s)", corr.buf);
	strbuf_release(&corr);
}

/* Decides what one attempt's outcome means: done (success or final
 * failure), or try again after p->wait_ms. */
static void judge(struct azl_arm *arm, struct pending *p, int rc,
		  const struct azl_http_response *resp, const char *transport_error)
{
	struct strbuf ra = STRBUF_INIT;
	int can_retry = p->attempts < arm->max_retries;

	p->attempts++;
	p->wait_ms = 0;
	if (rc) {
		fail_transport(p, rc, transport_error);
		p->done = !can_retry;
		if (!p->done)
			p->wait_ms = backoff_ms(arm, p->attempts - 1);
		return;
	}
	if (resp->status >= 200 && resp->status < 300) {
		succeed(p, resp);
		return;
	}
	fail_http(p, resp);
	if (resp->status == 401 && !p->refreshed) {
		/* the cached token may have been revoked or expired early */
		p->refreshed = 1;
		return;
	}
	p->done = !can_retry || !retryable_status(resp->status);
	if (p->done)
		return;
	if (azl_http_response_header(resp, "Retry-After", &ra))
		p->wait_ms = azl_arm_parse_retry_after(ra.buf);
	if (p->wait_ms <= 0)
		p->wait_ms = backoff_ms(arm, p->attempts - 1);
	strbuf_release(&ra);
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
	size_t m;
};

static void round_init(struct round *r, struct pending *ps, size_t n, const char **headers)
{
	r->reqs = xcalloc(n, sizeof(*r->reqs));
	r->resps = xcalloc(n, sizeof(*r->resps));
	r->errs = xcalloc(n, sizeof(*r->errs));
	r->rcs = xcalloc(n, sizeof(*r->rcs));
	r->idx = xcalloc(n, sizeof(*r->idx));
	r->m = 0;
	for (size_t i = 0; i < n; i++) {
		if (ps[i].done)
			continue;
		if (ps[i].refreshed == 1)
			ps[i].refreshed = 2;
		r->reqs[r->m] = (struct azl_http_request){ "GET", ps[i].url, headers, NULL, 0 };
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
}

/* One round: every pending request that is not done is tried once. */
static int run_round(struct azl_arm *arm, struct pending *ps, size_t n)
{
	struct strbuf auth = STRBUF_INIT;
	const char *headers[3] = { NULL, "Accept: application/json", NULL };
	struct round r;
	int rc = fetch_token(arm, wants_fresh_token(ps, n), &auth);

	if (rc) {
		scrub(&auth);
		return rc;
	}
	headers[0] = auth.buf;
	round_init(&r, ps, n, headers);
	azl_http_do_many(arm->http, r.reqs, r.resps, r.rcs, r.errs, r.m, arm->max_parallel);
	for (size_t k = 0; k < r.m; k++)
		judge(arm, &ps[r.idx[k]], r.rcs[k], &r.resps[k], r.errs[k].buf);
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

/* Runs rounds until every request is done or out of retries or time. The
 * round waits for the longest delay asked for: one Retry-After applies to
 * the whole subscription anyway. */
static int run_all(struct azl_arm *arm, struct pending *ps, size_t n)
{
	long deadline = azl_num_add(monotonic_ms(), arm->retry_budget_ms);

	for (;;) {
		long wait = 0;
		size_t left = 0;
		int rc = run_round(arm, ps, n);

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
		if (azl_num_add(monotonic_ms(), wait) > deadline) {
			for (size_t i = 0; i < n; i++)
				if (!ps[i].done) {
					strbuf_addf(&ps[i].res->error,
						    " (gave up: retrying would take longer than %lds)",
						    arm->retry_budget_ms / 1000L);
					ps[i].done = 1;
				}
			return 0;
		}
		if (wait) {
			log_retry(ps, n, left, wait);
			sleep_millisec(wait);
		}
	}
}

static int get_urls(struct azl_arm *arm, const char *const *urls, size_t n,
		    struct azl_arm_result *results)
{
	struct pending *ps = xcalloc(n, sizeof(*ps));
	int rc;

	for (size_t i = 0; i < n; i++) {
		results[i] = (struct azl_arm_result)AZL_ARM_RESULT_INIT;
		ps[i].url = urls[i];
		ps[i].res = &results[i];
	}
	rc = n ? run_all(arm, ps, n) : 0;
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
	size_t elen = arm->endpoint.len;

	if (!cJSON_IsString(next) || !next->valuestring[0])
		return 0;
	if (strncasecmp(next->valuestring, arm->endpoint.buf, elen) ||
	    next->valuestring[elen] != '/')
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
