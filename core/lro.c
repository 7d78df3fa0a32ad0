#include "lro.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "strbuf.h"
#include "wrapper.h"

#define DEFAULT_INTERVAL_MS 10000L
#define MAX_INTERVAL_MS 60000L
/* never poll faster than this, whatever Retry-After says */
#define MIN_INTERVAL_MS 1000L
/* an unbounded wait still ends: AKS operations time out well before */
#define DEFAULT_WAIT_BUDGET_MS (24L * 3600L * 1000L)

/* How the status is read. */
enum via {
	VIA_ASYNC_OPERATION,         /* the status resource's "status" */
	VIA_LOCATION,                /* 202 running, 200/204 done */
	VIA_PROVISIONING_STATE,      /* the resource's provisioningState */
	VIA_NONE                     /* done when it began */
};

static const char *const via_names[] = {
	"azure-async-operation", "location", "provisioning-state", "none"
};

struct azl_lro {
	struct strbuf kind;
	struct strbuf method;
	struct strbuf resource;      /* the resource's path */
	struct strbuf status_url;
	struct strbuf location;      /* the Location header, for the final GET */
	struct strbuf etag;
	struct strbuf correlation_id; /* of the request that began it */
	enum via via;
	enum azl_lro_final final_via;
	struct strbuf status;
	double percent;
	long retry_after_ms;         /* from the last answer; -1 none */
	long next_poll_ms;           /* azl_lro_wait_any's: when it is due; 0: not yet set */
	int done;
	struct strbuf error;
	cJSON *result;
};

static struct azl_lro *lro_alloc(void)
{
	struct azl_lro *lro = xcalloc(1, sizeof(*lro));

	strbuf_init(&lro->kind, 0);
	strbuf_init(&lro->method, 0);
	strbuf_init(&lro->resource, 0);
	strbuf_init(&lro->status_url, 0);
	strbuf_init(&lro->location, 0);
	strbuf_init(&lro->etag, 0);
	strbuf_init(&lro->correlation_id, 0);
	strbuf_init(&lro->status, 0);
	strbuf_init(&lro->error, 0);
	lro->percent = -1;
	lro->retry_after_ms = -1;
	return lro;
}

void azl_lro_free(struct azl_lro *lro)
{
	if (!lro)
		return;
	strbuf_release(&lro->kind);
	strbuf_release(&lro->method);
	strbuf_release(&lro->resource);
	strbuf_release(&lro->status_url);
	strbuf_release(&lro->location);
	strbuf_release(&lro->etag);
	strbuf_release(&lro->correlation_id);
	strbuf_release(&lro->status);
	strbuf_release(&lro->error);
	cJSON_Delete(lro->result);
	free(lro);
}

static int terminal(const char *status)
{
	return !strcasecmp(status, "Succeeded") || !strcasecmp(status, "Failed") ||
	       !strcasecmp(status, "Canceled");
}

static void set_status(struct azl_lro *lro, const char *status)
{
	strbuf_reset(&lro->status);
	strbuf_addstr(&lro->status, status);
	lro->done = terminal(status);
}

/* "kind /resource: operation Failed: Code: message (correlation id X)" */
static void set_failure(struct azl_lro *lro, const cJSON *err)
{
	const char *code = azl_json_str(err, "code", "");
	const char *msg = azl_json_str(err, "message", "");

	strbuf_reset(&lro->error);
	strbuf_addf(&lro->error, "%s %s: the operation %s", lro->kind.buf, lro->resource.buf,
		    !strcasecmp(lro->status.buf, "Canceled") ? "was canceled" : "failed");
	if (*code)
		strbuf_addf(&lro->error, ": %s", code);
	if (*msg) {
		strbuf_addstr(&lro->error, ": ");
		for (const char *m = msg; *m; m++)
			strbuf_addch(&lro->error, *m == '\n' || *m == '\r' ? ' ' : *m);
	}
	if (lro->correlation_id.len)
		strbuf_addf(&lro->error, " (correlation id %s)", lro->correlation_id.buf);
}

/* The resource a request acts on: its path, less a POST's action. */
static void resource_of(const struct azl_arm_request *req, const char *method, struct strbuf *out)
{
	const char *path = req->path;
	size_t len = strcspn(path, "?");

	if (!strcasecmp(method, "POST"))
		while (len > 1 && path[--len] != '/')
			;
	strbuf_add(out, path, len);
}

static const char *provisioning_state(const cJSON *resource)
{
	return azl_json_str(resource, "properties.provisioningState", "");
}

/* Chooses how to follow the answer to the request that began it. */
static void follow(struct azl_lro *lro, struct azl_arm_result *res)
{
	const char *state;

	strbuf_addbuf(&lro->location, &res->location);
	lro->retry_after_ms = res->retry_after_ms;
	set_status(lro, "InProgress");
	if (res->async_operation.len) {
		lro->via = VIA_ASYNC_OPERATION;
		strbuf_addbuf(&lro->status_url, &res->async_operation);
		return;
	}
	if (res->location.len) {
		lro->via = VIA_LOCATION;
		strbuf_addbuf(&lro->status_url, &res->location);
		return;
	}
	state = provisioning_state(res->json);
	if (res->status == 204 || (res->status == 200 && (!*state || terminal(state)))) {
		lro->via = VIA_NONE;
		set_status(lro, *state ? state : "Succeeded");
		lro->result = res->json;
		res->json = NULL;
		if (strcasecmp(lro->status.buf, "Succeeded"))
			set_failure(lro, azl_json_path(lro->result, "properties.status.provisioningError"));
		return;
	}
	lro->via = VIA_PROVISIONING_STATE;
	strbuf_addbuf(&lro->status_url, &lro->resource);
}

int azl_lro_begin(struct azl_lro **out, struct azl_arm *arm, const struct azl_arm_request *req,
		  const char *kind, enum azl_lro_final final_via)
{
	struct azl_arm_result res;
	const char *method = req->method ? req->method : "GET";
	struct azl_lro *lro;
	long status;
	int rc;

	*out = NULL;
	rc = azl_arm_do(arm, req, &res);
	status = res.status;
	if (rc) {
		azl_arm_result_release(&res);
		return rc;
	}
	lro = lro_alloc();
	strbuf_addstr(&lro->kind, kind ? kind : method);
	strbuf_addstr(&lro->method, method);
	resource_of(req, method, &lro->resource);
	strbuf_addbuf(&lro->etag, &res.etag);
	strbuf_addbuf(&lro->correlation_id, &res.correlation_id);
	lro->final_via = final_via;
	follow(lro, &res);
	azl_arm_result_release(&res);
	azl_logf(4, "%s %s: began (HTTP %ld), following %s", lro->kind.buf, lro->resource.buf,
		 status, via_names[lro->via]);
	*out = lro;
	return 0;
}

/* The status resource always has "status" (aks-api.md §3.1): without it
 * the wait could only go on until its budget ran out. */
static int read_async_status(struct azl_lro *lro, const struct azl_arm_result *res)
{
	const cJSON *pct = cJSON_GetObjectItemCaseSensitive(res->json, "percentComplete");
	const char *status = azl_json_str(res->json, "status", "");

	if (!*status)
		return azl_error_set(AZL_EINVALID, "the status resource %.200s has no \"status\"",
				     lro->status_url.buf);
	set_status(lro, status);
	if (cJSON_IsNumber(pct))
		lro->percent = pct->valuedouble;
	if (lro->done && strcasecmp(lro->status.buf, "Succeeded"))
		set_failure(lro, cJSON_GetObjectItemCaseSensitive(res->json, "error"));
	return 0;
}

/* A Location answers 202 while running; its final answer is the result. */
static void read_location(struct azl_lro *lro, struct azl_arm_result *res)
{
	if (res->status == 202)
		return;
	set_status(lro, "Succeeded");
	lro->percent = 100;
	cJSON_Delete(lro->result);
	lro->result = res->json;
	res->json = NULL;
}

static void read_provisioning(struct azl_lro *lro, struct azl_arm_result *res)
{
	const char *state = provisioning_state(res->json);

	set_status(lro, *state ? state : "Succeeded");
	if (lro->done && strcasecmp(lro->status.buf, "Succeeded"))
		set_failure(lro, azl_json_path(res->json, "properties.status.provisioningError"));
	if (lro->done) {
		cJSON_Delete(lro->result);
		lro->result = res->json;
		res->json = NULL;
	}
}

/* An error status that ends the operation rather than the poll: a
 * Location answering 4xx/5xx (the operation failed), a DELETE followed
 * through its resource answering 404 (it is gone: done). */
static int poll_failure_ends_it(struct azl_lro *lro, const struct azl_arm_result *res)
{
	if (lro->via == VIA_PROVISIONING_STATE && res->status == 404 &&
	    !strcasecmp(lro->method.buf, "DELETE")) {
		set_status(lro, "Succeeded");
		return 1;
	}
	if (lro->via != VIA_LOCATION || res->status < 400 || res->status >= 500 ||
	    res->status == 401 || azl_retry_status_is_transient(res->status))
		return 0;
	set_status(lro, "Failed");
	strbuf_reset(&lro->error);
	strbuf_addf(&lro->error, "%s %s: the operation failed: %s", lro->kind.buf,
		    lro->resource.buf, res->error.buf);
	return 1;
}

int azl_lro_poll(struct azl_lro *lro, struct azl_arm *arm, struct azl_retry *retry)
{
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;
	int rc;

	if (lro->done)
		return 0;
	req.method = "GET";
	req.path = lro->status_url.buf;
	req.retry = retry;
	rc = azl_arm_do(arm, &req, &res);
	lro->retry_after_ms = res.retry_after_ms;
	if (rc && poll_failure_ends_it(lro, &res)) {
		azl_error_clear();
		rc = 0;
	} else if (!rc && lro->via == VIA_ASYNC_OPERATION) {
		rc = read_async_status(lro, &res);
	} else if (!rc && lro->via == VIA_LOCATION) {
		read_location(lro, &res);
	} else if (!rc) {
		read_provisioning(lro, &res);
	}
	if (rc)
		azl_error_prefix("following %s %s", lro->kind.buf, lro->resource.buf);
	azl_arm_result_release(&res);
	return rc;
}

/* A PUT/PATCH followed by its status ends with the resource as it is now;
 * final-state-via location ends with what the Location URL answers. */
static int fetch_final(struct azl_lro *lro, struct azl_arm *arm, struct azl_retry *retry)
{
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;
	int put = !strcasecmp(lro->method.buf, "PUT") || !strcasecmp(lro->method.buf, "PATCH");
	int rc;

	if (lro->via == VIA_LOCATION || lro->via == VIA_NONE)
		return 0;
	if (lro->final_via == AZL_LRO_FINAL_LOCATION && lro->location.len)
		req.path = lro->location.buf;
	else if (put && lro->via == VIA_ASYNC_OPERATION)
		req.path = lro->resource.buf;
	else
		return 0;
	req.retry = retry;
	rc = azl_arm_do(arm, &req, &res);
	if (!rc) {
		cJSON_Delete(lro->result);
		lro->result = res.json;
		res.json = NULL;
		if (res.etag.len) {
			strbuf_reset(&lro->etag);
			strbuf_addbuf(&lro->etag, &res.etag);
		}
	} else {
		azl_error_prefix("%s %s succeeded, but reading the result failed", lro->kind.buf,
				 lro->resource.buf);
	}
	azl_arm_result_release(&res);
	return rc;
}

static long next_interval(const struct azl_lro *lro, const struct azl_lro_wait_options *o)
{
	long def = o->default_interval_ms > 0 ? o->default_interval_ms : DEFAULT_INTERVAL_MS;
	long ceiling = o->max_interval_ms > 0 ? o->max_interval_ms : MAX_INTERVAL_MS;

	if (lro->retry_after_ms >= 0)
		return lro->retry_after_ms < MIN_INTERVAL_MS ? MIN_INTERVAL_MS : lro->retry_after_ms;
	if (def > ceiling)
		def = ceiling;
	return def < MIN_INTERVAL_MS ? MIN_INTERVAL_MS : def;
}

static int outcome(struct azl_lro *lro, struct azl_arm *arm, struct azl_retry *retry)
{
	if (!strcasecmp(lro->status.buf, "Succeeded"))
		return fetch_final(lro, arm, retry);
	if (!strcasecmp(lro->status.buf, "Canceled"))
		return azl_error_set(AZL_ECANCELED, "%s", lro->error.buf);
	return azl_error_set(AZL_ERROR, "%s", lro->error.buf);
}

static void report(const struct azl_lro_wait_options *o, const struct azl_lro *lro)
{
	if (o->progress)
		o->progress(o->progress_data, lro);
}

static int wait_loop(struct azl_lro *lro, struct azl_arm *arm, struct azl_retry *retry,
		     const struct azl_lro_wait_options *o)
{
	struct azl_retry_state st;

	azl_retry_begin(retry, &st);
	report(o, lro);
	while (!lro->done) {
		long wait = next_interval(lro, o), now = azl_retry_now_ms(retry);
		int rc;

		if (wait > st.deadline_ms - now)
			return azl_error_set(AZL_ETIMEOUT,
					     "%s %s: still %s after %ld s; it goes on in Azure: wait again or abort it",
					     lro->kind.buf, lro->resource.buf, lro->status.buf,
					     (now - st.started_ms) / 1000L);
		rc = azl_retry_wait(retry, wait);
		if (!rc)
			rc = azl_lro_poll(lro, arm, retry);
		if (rc)
			return rc;
		azl_logf(5, "%s %s: %s (%.0f%%), next poll in %ld ms", lro->kind.buf,
			 lro->resource.buf, lro->status.buf, lro->percent < 0 ? 0.0 : lro->percent,
			 next_interval(lro, o));
		report(o, lro);
	}
	return outcome(lro, arm, retry);
}

int azl_lro_wait(struct azl_lro *lro, struct azl_arm *arm, const struct azl_lro_wait_options *opts)
{
	static const struct azl_lro_wait_options none;
	const struct azl_lro_wait_options *o = opts ? opts : &none;
	struct azl_retry *retry = o->retry;
	int rc;

	if (!retry) {
		struct azl_retry_options ro = { 0 };

		ro.budget_ms = DEFAULT_WAIT_BUDGET_MS;
		azl_retry_new(&retry, &ro);
	}
	rc = wait_loop(lro, arm, retry, o);
	if (retry != o->retry)
		azl_retry_free(retry);
	return rc;
}

/* The one of lros due first, its due time set when it had none. */
static size_t due_first(struct azl_lro *const *lros, size_t n, const struct azl_lro_wait_options *o,
			long now)
{
	size_t first = 0;

	for (size_t i = 0; i < n; i++) {
		if (!lros[i]->next_poll_ms)
			lros[i]->next_poll_ms = now + next_interval(lros[i], o);
		if (lros[i]->next_poll_ms < lros[first]->next_poll_ms)
			first = i;
	}
	return first;
}

int azl_lro_wait_any(struct azl_lro *const *lros, size_t n, struct azl_arm *arm,
		     const struct azl_lro_wait_options *o, size_t *which)
{
	struct azl_retry_state st;
	int rc = 0;

	*which = 0;
	azl_retry_begin(o->retry, &st);
	for (;;) {
		long now = azl_retry_now_ms(o->retry);
		size_t i;

		for (i = 0; i < n && !lros[i]->done; i++)
			;
		if (i < n) {
			*which = i;
			lros[i]->next_poll_ms = 0;
			return outcome(lros[i], arm, o->retry);
		}
		i = due_first(lros, n, o, now);
		if (lros[i]->next_poll_ms > st.deadline_ms)
			return azl_error_set(AZL_ETIMEOUT,
					     "%s %s: still %s after %ld s; it goes on in Azure: wait again or abort it",
					     lros[i]->kind.buf, lros[i]->resource.buf, lros[i]->status.buf,
					     (now - st.started_ms) / 1000L);
		if (lros[i]->next_poll_ms > now)
			rc = azl_retry_wait(o->retry, lros[i]->next_poll_ms - now);
		if (!rc)
			rc = azl_lro_poll(lros[i], arm, o->retry);
		*which = i;
		if (rc)
			return rc;
		lros[i]->next_poll_ms = azl_retry_now_ms(o->retry) + next_interval(lros[i], o);
		report(o, lros[i]);
	}
}

int azl_lro_abort(struct azl_lro *lro, struct azl_arm *arm)
{
	struct azl_arm_request req = { 0 };
	struct azl_arm_result res;
	struct strbuf path = STRBUF_INIT;
	int rc;

	strbuf_addf(&path, "%s/abort", lro->resource.buf);
	req.method = "POST";
	req.path = path.buf;
	rc = azl_arm_do(arm, &req, &res);
	/* a 409 to an abort means nothing runs to abort, whatever its code */
	if (rc == AZL_ECONFLICT || rc == AZL_EBUSY)
		rc = azl_error_set(AZL_ECONFLICT,
				   "%s %s: the operation ended before it could be aborted (HTTP 409 %s%s%s)",
				   lro->kind.buf, lro->resource.buf, res.error_code.buf,
				   res.correlation_id.len ? ", correlation id " : "",
				   res.correlation_id.buf);
	else if (!rc && !lro->done)
		set_status(lro, "Canceling");
	azl_arm_result_release(&res);
	strbuf_release(&path);
	return rc;
}

int azl_lro_done(const struct azl_lro *lro)
{
	return lro->done;
}

const char *azl_lro_status(const struct azl_lro *lro)
{
	return lro->status.buf;
}

double azl_lro_percent(const struct azl_lro *lro)
{
	return lro->percent;
}

const char *azl_lro_kind(const struct azl_lro *lro)
{
	return lro->kind.buf;
}

const char *azl_lro_resource(const struct azl_lro *lro)
{
	return lro->resource.buf;
}

const char *azl_lro_status_url(const struct azl_lro *lro)
{
	return lro->status_url.buf;
}

const char *azl_lro_etag(const struct azl_lro *lro)
{
	return lro->etag.buf;
}

const char *azl_lro_error(const struct azl_lro *lro)
{
	return lro->error.buf;
}

const cJSON *azl_lro_result(const struct azl_lro *lro)
{
	return lro->result;
}

cJSON *azl_lro_to_json(const struct azl_lro *lro)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", lro->kind.buf);
	cJSON_AddStringToObject(o, "method", lro->method.buf);
	cJSON_AddStringToObject(o, "resource", lro->resource.buf);
	cJSON_AddStringToObject(o, "statusUrl", lro->status_url.buf);
	cJSON_AddStringToObject(o, "statusVia", via_names[lro->via]);
	cJSON_AddStringToObject(o, "location", lro->location.buf);
	cJSON_AddStringToObject(o, "finalStateVia", lro->final_via == AZL_LRO_FINAL_LOCATION
				? "location" : "azure-async-operation");
	cJSON_AddStringToObject(o, "eTag", lro->etag.buf);
	cJSON_AddStringToObject(o, "correlationId", lro->correlation_id.buf);
	cJSON_AddStringToObject(o, "status", lro->status.buf);
	cJSON_AddNumberToObject(o, "percentComplete", lro->percent);
	return o;
}

/* The string member key into out; a required one must be non-empty. */
static int take_str(const cJSON *json, const char *key, int required, struct strbuf *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);

	if (v && !cJSON_IsString(v))
		return azl_error_set(AZL_EINVALID, "operation state: \"%s\" is not a string", key);
	if (required && (!v || !v->valuestring[0]))
		return azl_error_set(AZL_EINVALID, "operation state: \"%s\" is missing", key);
	if (v)
		strbuf_addstr(out, v->valuestring);
	return 0;
}

static int take_enum(const char *key, const char *value, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(value, names[i]))
			return i;
	return azl_error_set(AZL_EINVALID, "operation state: \"%s\" is '%s', not one this version knows",
			     key, value);
}

static int read_state(struct azl_lro *lro, const cJSON *json)
{
	static const char *const finals[] = { "azure-async-operation", "location" };
	struct strbuf via = STRBUF_INIT, final = STRBUF_INIT;
	const cJSON *pct = cJSON_GetObjectItemCaseSensitive(json, "percentComplete");
	int rc = 0, v = 0, f = 0;

	if (!cJSON_IsObject(json))
		return azl_error_set(AZL_EINVALID, "operation state: not a JSON object");
	if (take_str(json, "kind", 1, &lro->kind) || take_str(json, "method", 1, &lro->method) ||
	    take_str(json, "resource", 1, &lro->resource) ||
	    take_str(json, "statusVia", 1, &via) || take_str(json, "finalStateVia", 1, &final) ||
	    take_str(json, "status", 1, &lro->status) || take_str(json, "statusUrl", 0, &lro->status_url) ||
	    take_str(json, "location", 0, &lro->location) || take_str(json, "eTag", 0, &lro->etag) ||
	    take_str(json, "correlationId", 0, &lro->correlation_id))
		rc = AZL_EINVALID;
	if (!rc && (v = take_enum("statusVia", via.buf, via_names, 4)) < 0)
		rc = v;
	if (!rc && (f = take_enum("finalStateVia", final.buf, finals, 2)) < 0)
		rc = f;
	if (!rc && v != VIA_NONE && !lro->status_url.len)
		rc = azl_error_set(AZL_EINVALID, "operation state: \"statusUrl\" is missing");
	strbuf_release(&via);
	strbuf_release(&final);
	if (rc)
		return rc;
	lro->via = (enum via)v;
	lro->final_via = (enum azl_lro_final)f;
	lro->percent = cJSON_IsNumber(pct) ? pct->valuedouble : -1;
	lro->done = terminal(lro->status.buf);
	return 0;
}

int azl_lro_from_json(struct azl_lro **out, const cJSON *json)
{
	struct azl_lro *lro = lro_alloc();
	int rc = read_state(lro, json);

	*out = NULL;
	if (rc) {
		azl_lro_free(lro);
		return rc;
	}
	*out = lro;
	return 0;
}
