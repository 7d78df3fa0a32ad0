#include "pod.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"
#include "num.h"
#include "strbuf.h"
#include "wrapper.h"

#define MIRROR_ANNOTATION "kubernetes.io/config.mirror"

static char *dup_str(const cJSON *obj, const char *path)
{
	return xstrdup(azl_json_str(obj, path, ""));
}

void azl_kv_parse(const cJSON *obj, struct azl_kv **out, size_t *n)
{
	const cJSON *e;

	*out = NULL;
	*n = 0;
	if (!cJSON_IsObject(obj))
		return;
	*out = xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(**out));
	cJSON_ArrayForEach(e, obj) {
		if (!cJSON_IsString(e))
			continue;
		(*out)[*n].key = xstrdup(e->string);
		(*out)[(*n)++].value = xstrdup(e->valuestring);
	}
}

void azl_kv_release(struct azl_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

const char *azl_kv_get(const struct azl_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(kv[i].key, key))
			return kv[i].value;
	return NULL;
}

/* The array at path, or NULL; *room gets space for its elements. */
static const cJSON *array_at(const cJSON *obj, const char *path, size_t size, void **room)
{
	const cJSON *arr = azl_json_path(obj, path);

	if (!cJSON_IsArray(arr))
		arr = NULL;
	*room = xcalloc((size_t)(arr ? cJSON_GetArraySize(arr) : 0) + 1, size);
	return arr;
}

static void parse_owners(const cJSON *obj, struct azl_pod *pod)
{
	const cJSON *refs, *r;
	void *room;

	refs = array_at(obj, "metadata.ownerReferences", sizeof(*pod->owners), &room);
	pod->owners = room;
	cJSON_ArrayForEach(r, refs) {
		struct azl_owner_ref *o = &pod->owners[pod->nr_owners++];

		o->api_version = dup_str(r, "apiVersion");
		o->kind = dup_str(r, "kind");
		o->name = dup_str(r, "name");
		o->uid = dup_str(r, "uid");
		o->controller = azl_json_bool(r, "controller", 0);
	}
}

static const struct {
	const char *field;
	enum azl_volume_kind kind;
} volume_kinds[] = {
	{ "emptyDir", AZL_VOLUME_EMPTY_DIR },
	{ "hostPath", AZL_VOLUME_HOST_PATH },
	{ "persistentVolumeClaim", AZL_VOLUME_PVC },
	{ "configMap", AZL_VOLUME_CONFIG_MAP },
	{ "secret", AZL_VOLUME_SECRET },
	{ "projected", AZL_VOLUME_PROJECTED },
};

static enum azl_volume_kind volume_kind(const cJSON *v)
{
	for (size_t i = 0; i < sizeof(volume_kinds) / sizeof(volume_kinds[0]); i++)
		if (cJSON_GetObjectItemCaseSensitive(v, volume_kinds[i].field))
			return volume_kinds[i].kind;
	return AZL_VOLUME_OTHER;
}

static void parse_volumes(const cJSON *obj, struct azl_pod *pod)
{
	const cJSON *vols, *v;
	void *room;

	vols = array_at(obj, "spec.volumes", sizeof(*pod->volumes), &room);
	pod->volumes = room;
	cJSON_ArrayForEach(v, vols) {
		pod->volumes[pod->nr_volumes].name = dup_str(v, "name");
		pod->volumes[pod->nr_volumes++].kind = volume_kind(v);
	}
}

static void parse_conditions(const cJSON *obj, struct azl_pod *pod)
{
	const cJSON *conds, *c;
	void *room;

	conds = array_at(obj, "status.conditions", sizeof(*pod->conditions), &room);
	pod->conditions = room;
	cJSON_ArrayForEach(c, conds) {
		struct azl_pod_condition *pc = &pod->conditions[pod->nr_conditions++];

		pc->type = dup_str(c, "type");
		pc->status = dup_str(c, "status");
		if (!strcmp(pc->type, "Ready") && !strcmp(pc->status, "True"))
			pod->ready = 1;
	}
}

static void parse_tolerations(const cJSON *obj, struct azl_pod *out)
{
	const cJSON *list = azl_json_path(obj, "spec.tolerations"), *t;
	size_t n = 0;

	if (!cJSON_IsArray(list))
		return;
	out->tolerations = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*out->tolerations));
	cJSON_ArrayForEach(t, list) {
		out->tolerations[n].key = dup_str(t, "key");
		out->tolerations[n].op = dup_str(t, "operator");
		out->tolerations[n].value = dup_str(t, "value");
		out->tolerations[n].effect = dup_str(t, "effect");
		n++;
	}
	out->nr_tolerations = n;
}

/* A container's (or spec.overhead's) request of resource, in the units
 * azl_num_quantity gives; 0 when absent or not a quantity. */
static long request_of(const cJSON *requests, const char *resource, int milli)
{
	long v = 0;

	if (azl_num_quantity(azl_json_str(requests, resource, ""), milli, &v) != AZL_NUM_OK)
		v = 0;
	return v;
}

static void sum_requests(const cJSON *containers, long *cpu, long *mem, int max)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, containers) {
		const cJSON *req = azl_json_path(c, "resources.requests");
		long cc = request_of(req, "cpu", 1), cm = request_of(req, "memory", 0);

		*cpu = max ? (cc > *cpu ? cc : *cpu) : azl_num_add(*cpu, cc);
		*mem = max ? (cm > *mem ? cm : *mem) : azl_num_add(*mem, cm);
	}
}

/* The scheduler's computePodResourceRequest; sidecar init containers
 * (restartPolicy Always), which it adds to the sum, count as plain ones. */
static void parse_requests(const cJSON *obj, struct azl_pod *out)
{
	const cJSON *overhead = azl_json_path(obj, "spec.overhead");
	long init_cpu = 0, init_mem = 0;

	sum_requests(azl_json_path(obj, "spec.containers"), &out->cpu_request_m,
		     &out->memory_request, 0);
	sum_requests(azl_json_path(obj, "spec.initContainers"), &init_cpu, &init_mem, 1);
	if (init_cpu > out->cpu_request_m)
		out->cpu_request_m = init_cpu;
	if (init_mem > out->memory_request)
		out->memory_request = init_mem;
	out->cpu_request_m = azl_num_add(out->cpu_request_m, request_of(overhead, "cpu", 1));
	out->memory_request = azl_num_add(out->memory_request, request_of(overhead, "memory", 0));
}

int azl_pod_tolerates(const struct azl_pod *pod, const char *key, const char *value,
		      const char *effect)
{
	for (size_t i = 0; i < pod->nr_tolerations; i++) {
		const struct azl_toleration *t = &pod->tolerations[i];
		int exists = !strcmp(t->op, "Exists");

		if (*t->effect && strcmp(t->effect, effect))
			continue;
		if (!*t->key && exists)
			return 1;
		if (strcmp(t->key, key))
			continue;
		if (exists || !strcmp(t->value, value))
			return 1;
	}
	return 0;
}

int azl_pod_parse(const cJSON *obj, struct azl_pod *out)
{
	const char *name = azl_json_str(obj, "metadata.name", "");
	const char *deleted = azl_json_str(obj, "metadata.deletionTimestamp", NULL);

	memset(out, 0, sizeof(*out));
	if (!*name)
		return azl_error_set(AZL_EINVALID, "the server sent a pod without metadata.name");
	out->name = xstrdup(name);
	out->namespace_ = dup_str(obj, "metadata.namespace");
	out->uid = dup_str(obj, "metadata.uid");
	out->resource_version = dup_str(obj, "metadata.resourceVersion");
	out->node = dup_str(obj, "spec.nodeName");
	out->phase = dup_str(obj, "status.phase");
	out->termination_grace_period_s = azl_json_int(obj, "spec.terminationGracePeriodSeconds", -1);
	if (deleted && azl_parse_rfc3339(deleted, &out->deletion_timestamp)) {
		azl_pod_release(out);
		return azl_error_prefix("pod %s/%s: metadata.deletionTimestamp",
					azl_json_str(obj, "metadata.namespace", ""), name);
	}
	parse_owners(obj, out);
	parse_volumes(obj, out);
	parse_conditions(obj, out);
	azl_kv_parse(azl_json_path(obj, "metadata.labels"), &out->labels, &out->nr_labels);
	azl_kv_parse(azl_json_path(obj, "metadata.annotations"), &out->annotations,
		     &out->nr_annotations);
	azl_kv_parse(azl_json_path(obj, "spec.nodeSelector"), &out->node_selector,
		     &out->nr_node_selector);
	parse_tolerations(obj, out);
	parse_requests(obj, out);
	return 0;
}

void azl_pod_release(struct azl_pod *pod)
{
	if (!pod)
		return;
	free(pod->name);
	free(pod->namespace_);
	free(pod->uid);
	free(pod->resource_version);
	free(pod->node);
	free(pod->phase);
	for (size_t i = 0; i < pod->nr_conditions; i++) {
		free(pod->conditions[i].type);
		free(pod->conditions[i].status);
	}
	free(pod->conditions);
	for (size_t i = 0; i < pod->nr_owners; i++) {
		free(pod->owners[i].api_version);
		free(pod->owners[i].kind);
		free(pod->owners[i].name);
		free(pod->owners[i].uid);
	}
	free(pod->owners);
	for (size_t i = 0; i < pod->nr_volumes; i++)
		free(pod->volumes[i].name);
	free(pod->volumes);
	azl_kv_release(pod->labels, pod->nr_labels);
	azl_kv_release(pod->annotations, pod->nr_annotations);
	azl_kv_release(pod->node_selector, pod->nr_node_selector);
	for (size_t i = 0; i < pod->nr_tolerations; i++) {
		free(pod->tolerations[i].key);
		free(pod->tolerations[i].op);
		free(pod->tolerations[i].value);
		free(pod->tolerations[i].effect);
	}
	free(pod->tolerations);
	memset(pod, 0, sizeof(*pod));
}

const struct azl_owner_ref *azl_pod_controller(const struct azl_pod *pod)
{
	for (size_t i = 0; i < pod->nr_owners; i++)
		if (pod->owners[i].controller)
			return &pod->owners[i];
	return NULL;
}

int azl_pod_is_mirror(const struct azl_pod *pod)
{
	return azl_pod_annotation(pod, MIRROR_ANNOTATION) != NULL;
}

int azl_pod_is_terminal(const struct azl_pod *pod)
{
	return !strcmp(pod->phase, "Succeeded") || !strcmp(pod->phase, "Failed");
}

int azl_pod_has_volume(const struct azl_pod *pod, enum azl_volume_kind kind)
{
	for (size_t i = 0; i < pod->nr_volumes; i++)
		if (pod->volumes[i].kind == kind)
			return 1;
	return 0;
}

const char *azl_pod_label(const struct azl_pod *pod, const char *key)
{
	return azl_kv_get(pod->labels, pod->nr_labels, key);
}

const char *azl_pod_annotation(const struct azl_pod *pod, const char *key)
{
	return azl_kv_get(pod->annotations, pod->nr_annotations, key);
}

struct on_node {
	azl_pod_fn fn;
	void *ctx;
};

static int pod_page(cJSON *items, void *ctx)
{
	const struct on_node *on = ctx;
	const cJSON *item;

	cJSON_ArrayForEach(item, items) {
		struct azl_pod pod;
		int rc = azl_pod_parse(item, &pod);

		if (!rc)
			rc = on->fn(&pod, on->ctx);
		azl_pod_release(&pod);
		if (rc)
			return rc;
	}
	return 0;
}

int azl_pod_list_on_node(struct azl_kube *kube, const char *node, const char *label_selector,
			 long page_size, azl_pod_fn fn, void *ctx)
{
	struct strbuf q = STRBUF_INIT, sel = STRBUF_INIT;
	struct on_node on = { fn, ctx };
	int rc;

	strbuf_addf(&sel, "spec.nodeName=%s", node);
	strbuf_addstr(&q, "fieldSelector=");
	strbuf_addurlenc(&q, sel.buf);
	if (label_selector && *label_selector) {
		strbuf_addstr(&q, "&labelSelector=");
		strbuf_addurlenc(&q, label_selector);
	}
	rc = azl_kube_list_pages(kube, "/api/v1/pods", q.buf, page_size, pod_page, &on);
	if (rc)
		azl_error_prefix("pods on node %s", node);
	strbuf_release(&q);
	strbuf_release(&sel);
	return rc;
}

int azl_pod_list_active(struct azl_kube *kube, long page_size, azl_pod_fn fn, void *ctx)
{
	struct on_node on = { fn, ctx };
	int rc = azl_kube_list_pages(kube, "/api/v1/pods",
				     "fieldSelector=status.phase%21%3DSucceeded%2C"
				     "status.phase%21%3DFailed", page_size, pod_page, &on);

	return rc ? azl_error_prefix("pods of the cluster") : 0;
}
