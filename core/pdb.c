#include "pdb.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "strbuf.h"
#include "wrapper.h"

static int parse_int_or_percent(const cJSON *spec, const char *field, const char *pdb,
				struct azl_int_or_percent *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, field);
	char *end;

	memset(out, 0, sizeof(*out));
	if (!v || cJSON_IsNull(v))
		return 0;
	out->set = 1;
	if (cJSON_IsNumber(v) && v->valuedouble == (double)(long)v->valuedouble) {
		out->value = (long)v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v)) {
		out->value = strtol(v->valuestring, &end, 10);
		if (end != v->valuestring && !strcmp(end, "%") && out->value >= 0) {
			out->percent = 1;
			return 0;
		}
	}
	return azl_error_set(AZL_EINVALID, "PodDisruptionBudget %s: spec.%s is neither a number "
			     "nor a percentage", pdb, field);
}

static void parse_requirement(const cJSON *e, struct azl_label_requirement *r)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "values"), *v;

	r->key = xstrdup(azl_json_str(e, "key", ""));
	r->op = xstrdup(azl_json_str(e, "operator", ""));
	if (!cJSON_IsArray(vals))
		return;
	r->values = xcalloc((size_t)cJSON_GetArraySize(vals) + 1, sizeof(*r->values));
	cJSON_ArrayForEach(v, vals) {
		if (cJSON_IsString(v))
			r->values[r->nr_values++] = xstrdup(v->valuestring);
	}
}

static void parse_selector(const cJSON *sel, struct azl_label_selector *out)
{
	const cJSON *exprs = cJSON_GetObjectItemCaseSensitive(sel, "matchExpressions"), *e;

	memset(out, 0, sizeof(*out));
	azl_kv_parse(cJSON_GetObjectItemCaseSensitive(sel, "matchLabels"), &out->match_labels,
		     &out->nr_match_labels);
	if (!cJSON_IsArray(exprs))
		return;
	out->exprs = xcalloc((size_t)cJSON_GetArraySize(exprs) + 1, sizeof(*out->exprs));
	cJSON_ArrayForEach(e, exprs) {
		parse_requirement(e, &out->exprs[out->nr_exprs++]);
	}
}

int azl_pdb_parse(const cJSON *obj, struct azl_pdb *out)
{
	const cJSON *spec = azl_json_path(obj, "spec");
	struct strbuf id = STRBUF_INIT;
	int rc;

	memset(out, 0, sizeof(*out));
	out->name = xstrdup(azl_json_str(obj, "metadata.name", ""));
	out->namespace_ = xstrdup(azl_json_str(obj, "metadata.namespace", ""));
	out->uid = xstrdup(azl_json_str(obj, "metadata.uid", ""));
	out->resource_version = xstrdup(azl_json_str(obj, "metadata.resourceVersion", ""));
	out->unhealthy_pod_eviction_policy =
		xstrdup(azl_json_str(spec, "unhealthyPodEvictionPolicy", ""));
	out->generation = azl_json_int(obj, "metadata.generation", 0);
	out->observed_generation = azl_json_int(obj, "status.observedGeneration", 0);
	out->current_healthy = azl_json_int(obj, "status.currentHealthy", 0);
	out->desired_healthy = azl_json_int(obj, "status.desiredHealthy", 0);
	out->disruptions_allowed = azl_json_int(obj, "status.disruptionsAllowed", 0);
	out->expected_pods = azl_json_int(obj, "status.expectedPods", 0);
	parse_selector(azl_json_path(spec, "selector"), &out->selector);
	strbuf_addf(&id, "%s/%s", out->namespace_, out->name);
	rc = parse_int_or_percent(spec, "minAvailable", id.buf, &out->min_available);
	if (!rc)
		rc = parse_int_or_percent(spec, "maxUnavailable", id.buf, &out->max_unavailable);
	strbuf_release(&id);
	if (rc)
		azl_pdb_release(out);
	return rc;
}

static void selector_release(struct azl_label_selector *s)
{
	azl_kv_release(s->match_labels, s->nr_match_labels);
	for (size_t i = 0; i < s->nr_exprs; i++) {
		free(s->exprs[i].key);
		free(s->exprs[i].op);
		for (size_t j = 0; j < s->exprs[i].nr_values; j++)
			free(s->exprs[i].values[j]);
		free(s->exprs[i].values);
	}
	free(s->exprs);
}

void azl_pdb_release(struct azl_pdb *pdb)
{
	if (!pdb)
		return;
	free(pdb->name);
	free(pdb->namespace_);
	free(pdb->uid);
	free(pdb->resource_version);
	free(pdb->unhealthy_pod_eviction_policy);
	selector_release(&pdb->selector);
	memset(pdb, 0, sizeof(*pdb));
}

static int in_values(const struct azl_label_requirement *r, const char *v)
{
	for (size_t i = 0; v && i < r->nr_values; i++)
		if (!strcmp(r->values[i], v))
			return 1;
	return 0;
}

/* apimachinery's labels.Requirement.Matches; an unknown operator matches
 * nothing, as LabelSelectorAsSelector would fail on it. */
static int requirement_matches(const struct azl_label_requirement *r, const struct azl_pod *pod)
{
	const char *v = azl_pod_label(pod, r->key);

	if (!strcmp(r->op, "In"))
		return in_values(r, v);
	if (!strcmp(r->op, "NotIn"))
		return !in_values(r, v);
	if (!strcmp(r->op, "Exists"))
		return v != NULL;
	if (!strcmp(r->op, "DoesNotExist"))
		return v == NULL;
	return 0;
}

int azl_pdb_selects(const struct azl_pdb *pdb, const struct azl_pod *pod)
{
	const struct azl_label_selector *s = &pdb->selector;

	if (strcmp(pdb->namespace_, pod->namespace_) || (!s->nr_match_labels && !s->nr_exprs))
		return 0;
	for (size_t i = 0; i < s->nr_match_labels; i++) {
		const char *v = azl_pod_label(pod, s->match_labels[i].key);

		if (!v || strcmp(v, s->match_labels[i].value))
			return 0;
	}
	for (size_t i = 0; i < s->nr_exprs; i++)
		if (!requirement_matches(&s->exprs[i], pod))
			return 0;
	return 1;
}

int azl_pdb_blocks(const struct azl_pdb *pdb, const struct azl_pod *pod)
{
	if (pod->deletion_timestamp || pdb->disruptions_allowed > 0 || !azl_pdb_selects(pdb, pod))
		return 0;
	if (pod->ready)
		return 1;
	if (!strcmp(pdb->unhealthy_pod_eviction_policy, "AlwaysAllow"))
		return 0;
	return pdb->current_healthy < pdb->desired_healthy;
}

int azl_pdb_status_current(const struct azl_pdb *pdb)
{
	return pdb->observed_generation >= pdb->generation;
}

static int pdb_page(cJSON *items, void *ctx)
{
	struct azl_pdb_list *list = ctx;
	const cJSON *item;
	size_t n = (size_t)cJSON_GetArraySize(items);

	list->items = xrealloc(list->items, (list->nr + n + 1) * sizeof(*list->items));
	cJSON_ArrayForEach(item, items) {
		int rc = azl_pdb_parse(item, &list->items[list->nr]);

		if (rc)
			return rc;
		list->nr++;
	}
	return 0;
}

int azl_pdb_list(struct azl_kube *kube, const char *namespace_, struct azl_pdb_list *out)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	out->items = NULL;
	out->nr = 0;
	strbuf_addstr(&path, "/apis/policy/v1");
	if (namespace_ && *namespace_) {
		strbuf_addstr(&path, "/namespaces/");
		strbuf_addurlenc(&path, namespace_);
	}
	strbuf_addstr(&path, "/poddisruptionbudgets");
	rc = azl_kube_list_pages(kube, path.buf, NULL, 0, pdb_page, out);
	if (rc)
		azl_pdb_list_release(out);
	strbuf_release(&path);
	return rc;
}

void azl_pdb_list_release(struct azl_pdb_list *list)
{
	for (size_t i = 0; i < list->nr; i++)
		azl_pdb_release(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->nr = 0;
}
