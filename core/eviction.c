#include "eviction.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "wrapper.h"

/* metav1.CauseType values the API server sets (policy/v1
 * DisruptionBudgetCause, core/v1 NamespaceTerminatingCause) */
#define CAUSE_DISRUPTION_BUDGET "DisruptionBudget"
#define CAUSE_NAMESPACE_TERMINATING "NamespaceTerminating"
/* webhook errors.ToStatusErr: the only mark a webhook's refusal carries */
#define WEBHOOK_DENIED "admission webhook \""

void azl_eviction_result_release(struct azl_eviction_result *r)
{
	if (!r)
		return;
	azl_kube_result_release(&r->res);
	r->outcome = AZL_EVICTION_FAILED;
}

static enum azl_eviction_outcome classify(const struct azl_kube_result *res)
{
	const char *msg = res->message.buf;

	switch (res->status) {
	case 200: case 201:
		return AZL_EVICTION_EVICTED;
	case 404:
		return AZL_EVICTION_GONE;
	case 429:
		return azl_kube_result_has_cause(res, CAUSE_DISRUPTION_BUDGET) ? AZL_EVICTION_BLOCKED
									    : AZL_EVICTION_THROTTLED;
	default:
		break;
	}
	if (strstr(msg, WEBHOOK_DENIED))
		return AZL_EVICTION_WEBHOOK_DENIED;
	if (res->status == 403)
		return azl_kube_result_has_cause(res, CAUSE_NAMESPACE_TERMINATING)
			       ? AZL_EVICTION_NAMESPACE_TERMINATING : AZL_EVICTION_FORBIDDEN;
	/* EvictionREST answers this Status with code 500 and no reason */
	if (res->status == 500 && strstr(msg, "more than one PodDisruptionBudget"))
		return AZL_EVICTION_MULTIPLE_PDBS;
	return AZL_EVICTION_FAILED;
}

static cJSON *eviction_body(const char *namespace_, const char *name,
			    const struct azl_eviction_options *o)
{
	cJSON *ev = cJSON_CreateObject(), *meta;
	cJSON *del = azl_kube_delete_options_json(&o->delete_options);

	cJSON_AddStringToObject(ev, "apiVersion", o->group_version ? o->group_version : "policy/v1");
	cJSON_AddStringToObject(ev, "kind", "Eviction");
	meta = cJSON_AddObjectToObject(ev, "metadata");
	cJSON_AddStringToObject(meta, "name", name);
	cJSON_AddStringToObject(meta, "namespace", namespace_);
	cJSON_AddItemToObject(ev, "deleteOptions", del);
	return ev;
}

int azl_eviction_create(struct azl_kube *kube, const char *namespace_, const char *name,
			const struct azl_eviction_options *o, struct azl_eviction_result *out)
{
	static const struct azl_eviction_options defaults = AZL_EVICTION_OPTIONS_INIT;
	struct strbuf path = STRBUF_INIT;
	cJSON *body;
	char *text;
	struct azl_kube_request req = { "POST", NULL, "application/json", NULL, 0, NULL, NULL };
	int rc;

	if (!o)
		o = &defaults;
	azl_eviction_result_release(out);
	body = eviction_body(namespace_, name, o);
	text = azl_json_print(body, 0);
	strbuf_addstr(&path, "/api/v1/namespaces/");
	strbuf_addurlenc(&path, namespace_);
	strbuf_addstr(&path, "/pods/");
	strbuf_addurlenc(&path, name);
	strbuf_addstr(&path, "/eviction");
	if (o->delete_options.dry_run)
		strbuf_addstr(&path, "?dryRun=All");
	req.path = path.buf;
	req.body = text;
	req.body_len = strlen(text);
	rc = azl_kube_do(kube, &req, &out->res);
	out->outcome = out->res.status ? classify(&out->res) : AZL_EVICTION_FAILED;
	if (out->outcome == AZL_EVICTION_GONE)
		rc = 0;
	free(text);
	cJSON_Delete(body);
	strbuf_release(&path);
	return rc;
}

int azl_eviction_discover(struct azl_kube *kube, struct strbuf *group_version)
{
	cJSON *list = NULL;
	const cJSON *r, *resources;
	int rc = azl_kube_get(kube, "/api/v1", &list);

	strbuf_reset(group_version);
	if (rc)
		return azl_error_prefix("discovery of pods/eviction");
	resources = cJSON_GetObjectItemCaseSensitive(list, "resources");
	cJSON_ArrayForEach(r, resources) {
		const char *group = azl_json_str(r, "group", ""), *version = azl_json_str(r, "version", "");

		/* kubectl's CheckEvictionSupport: a group and version, or none */
		if (!strcmp(azl_json_str(r, "name", ""), "pods/eviction") &&
		    !strcmp(azl_json_str(r, "kind", ""), "Eviction") && *group && *version) {
			strbuf_addf(group_version, "%s/%s", group, version);
			break;
		}
	}
	cJSON_Delete(list);
	return 0;
}

const char *azl_eviction_outcome_name(enum azl_eviction_outcome o)
{
	switch (o) {
	case AZL_EVICTION_EVICTED: return "evicted";
	case AZL_EVICTION_GONE: return "gone";
	case AZL_EVICTION_BLOCKED: return "blocked by a PodDisruptionBudget";
	case AZL_EVICTION_THROTTLED: return "throttled by the API server";
	case AZL_EVICTION_MULTIPLE_PDBS: return "covered by more than one PodDisruptionBudget";
	case AZL_EVICTION_NAMESPACE_TERMINATING: return "namespace terminating";
	case AZL_EVICTION_WEBHOOK_DENIED: return "denied by an admission webhook";
	case AZL_EVICTION_FORBIDDEN: return "forbidden";
	default: return "failed";
	}
}
