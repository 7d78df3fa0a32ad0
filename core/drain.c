#include "drain.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "eviction.h"
#include "json.h"
#include "log.h"
#include "num.h"
#include "pdb.h"
#include "pod.h"
#include "wrapper.h"

/* kubectl's filter messages (pkg/drain/filters.go), word for word: they
 * group pods in its warning and error lines. */
#define MSG_DS_FATAL "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
#define MSG_DS_WARNING "ignoring DaemonSet-managed Pods"
#define MSG_LOCAL_FATAL "Pods with local storage (use --delete-emptydir-data to override)"
#define MSG_LOCAL_WARNING "deleting Pods with local storage"
#define MSG_UNMANAGED_FATAL "cannot delete Pods that declare no controller (use --force to override)"
#define MSG_UNMANAGED_WARNING "deleting Pods that declare no controller"

#define DEFAULT_RETRY_MS 5000
#define DEFAULT_POLL_MS 1000
/* the longest sleep between looks at the cancel flag */
#define SLICE_MS 100

/* A node as the scheduler would see it, for "does the replacement fit
 * anywhere else". */
struct fit_taint {
	char *key, *value, *effect;
};
struct fit_node {
	char *name;
	struct azl_kv *labels;
	size_t nr_labels;
	struct fit_taint *taints;
	size_t nr_taints;
	int usable;                  /* Ready and schedulable */
	/* allocatable less the requests of the pods there and of the
	 * replacements the plan has put there (LONG_MAX: not reported) */
	long free_cpu_m, free_mem;
};

struct azl_drain {
	struct azl_kube *kube;
	struct fit_node *fit;
	size_t nr_fit;
	int have_usage;              /* free_* count the pods already there */
	const char *const *draining;  /* the plan's nodes, while it is made */
	size_t nr_draining;
	struct azl_drain_options o;
	struct azl_pdb_list pdbs;
	int have_pdbs;
	const char *version;         /* the plan's eviction group/version */
	long started_ms, last_pdb_ms, last_waiting_ms;
};

int azl_drain_new(struct azl_drain **out, struct azl_kube *kube, const struct azl_drain_options *o)
{
	struct azl_drain *d = xcalloc(1, sizeof(*d));

	d->kube = kube;
	d->o = *o;
	if (d->o.retry_delay_ms <= 0)
		d->o.retry_delay_ms = DEFAULT_RETRY_MS;
	if (d->o.poll_ms <= 0)
		d->o.poll_ms = DEFAULT_POLL_MS;
	*out = d;
	return 0;
}

static void fit_release(struct azl_drain *d)
{
	size_t i, j;

	for (i = 0; i < d->nr_fit; i++) {
		struct fit_node *n = &d->fit[i];

		free(n->name);
		azl_kv_release(n->labels, n->nr_labels);
		for (j = 0; j < n->nr_taints; j++) {
			free(n->taints[j].key);
			free(n->taints[j].value);
			free(n->taints[j].effect);
		}
		free(n->taints);
	}
	free(d->fit);
	d->fit = NULL;
	d->nr_fit = 0;
}

void azl_drain_free(struct azl_drain *d)
{
	if (!d)
		return;
	fit_release(d);
	azl_pdb_list_release(&d->pdbs);
	free(d);
}

static void free_strings(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void push_string(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static void pod_release(struct azl_drain_pod *p)
{
	free(p->namespace_);
	free(p->name);
	free(p->uid);
	free((char *)p->filter_message);
	free(p->pdb);
	free(p->message);
	free(p->blocked_by);
	free(p->no_room);
}

static void node_release(struct azl_drain_node *n)
{
	size_t i;

	for (i = 0; i < n->nr_pods; i++)
		pod_release(&n->pods[i]);
	free(n->pods);
	free(n->name);
	free(n->reason);
	strbuf_release(&n->error);
	free_strings(n->pending, n->nr_pending);
}

void azl_drain_plan_free(struct azl_drain_plan *plan)
{
	size_t i;

	if (!plan)
		return;
	for (i = 0; i < plan->nr_nodes; i++)
		node_release(&plan->nodes[i]);
	free(plan->nodes);
	for (i = 0; i < plan->nr_blocking; i++) {
		free(plan->blocking[i].namespace_);
		free(plan->blocking[i].name);
		free_strings(plan->blocking[i].pods, plan->blocking[i].nr_pods);
	}
	free(plan->blocking);
	free(plan->eviction_version);
	free(plan);
}

/* --- Go's time.Duration.String(), for kubectl's messages -------------- */

void azl_drain_format_duration(struct strbuf *out, long ms)
{
	long h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;

	if (ms == 0) {
		strbuf_addstr(out, "0s");
		return;
	}
	if (ms < 1000) {
		strbuf_addf(out, "%ldms", ms);
		return;
	}
	if (h)
		strbuf_addf(out, "%ldh", h);
	if (h || m)
		strbuf_addf(out, "%ldm", m);
	strbuf_addf(out, "%ld", s);
	if (frac) {
		struct strbuf f = STRBUF_INIT;

		strbuf_addf(&f, ".%03ld", frac);
		while (f.len && f.buf[f.len - 1] == '0')
			strbuf_setlen(&f, f.len - 1);
		strbuf_addbuf(out, &f);
		strbuf_release(&f);
	}
	strbuf_addch(out, 's');
}

/* --- selecting and cordoning nodes ------------------------------------ */

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct azl_node *)a)->name, ((const struct azl_node *)b)->name);
}

int azl_drain_select_nodes(struct azl_kube *kube, const char *const *names, size_t nr,
			   const char *label_selector, const char *pool,
			   struct azl_node_list *out)
{
	struct strbuf path = STRBUF_INIT;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!nr) {
		rc = azl_node_list(kube, label_selector, pool, out);
		if (!rc)
			qsort(out->items, out->nr, sizeof(*out->items), cmp_node);
		return rc;
	}
	out->items = xcalloc(nr, sizeof(*out->items));
	for (i = 0; i < nr && !rc; i++) {
		cJSON *obj = NULL;

		strbuf_reset(&path);
		strbuf_addstr(&path, "/api/v1/nodes/");
		strbuf_addurlenc(&path, names[i]);
		rc = azl_kube_get(kube, path.buf, &obj);
		if (!rc)
			rc = azl_node_from_json(obj, &out->items[out->nr]);
		if (!rc)
			out->nr++;
		cJSON_Delete(obj);
	}
	strbuf_release(&path);
	if (rc)
		azl_node_list_release(out);
	return rc;
}

int azl_drain_cordon(struct azl_kube *kube, const struct azl_node *node, int desired,
		     enum azl_drain_dry_run dry_run, int *changed)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *resp = NULL;
	int rc;

	*changed = node->schedulable == desired;
	if (!*changed || dry_run == AZL_DRAIN_DRY_RUN_CLIENT)
		return 0;
	strbuf_addstr(&path, "/api/v1/nodes/");
	strbuf_addurlenc(&path, node->name);
	if (dry_run == AZL_DRAIN_DRY_RUN_SERVER)
		strbuf_addstr(&path, "?dryRun=All");
	rc = azl_kube_patch(kube, path.buf, AZL_PATCH_STRATEGIC,
			    desired ? "{\"spec\":{\"unschedulable\":true}}"
				    : "{\"spec\":{\"unschedulable\":null}}", &resp);
	cJSON_Delete(resp);
	strbuf_release(&path);
	return rc;
}

/* --- the plan: kubectl's filters --------------------------------------- */

struct plan_ctx {
	struct azl_drain *d;
	struct azl_drain_node *node;
	int rc;
};

static void set_filter(struct azl_drain_pod *p, enum azl_drain_action action,
		       const char *message, int warning, const char *why)
{
	free((char *)p->filter_message);
	p->action = action;
	p->filter_message = xstrdup_or_null(message);
	p->warning = warning;
	p->why = why;
}

/* daemonSetFilter: 1 when it decided (the chain stops), 0 to go on. */
static int daemonset_filter(struct azl_drain *d, const struct azl_pod *pod,
			    struct azl_drain_pod *p)
{
	const struct azl_owner_ref *ctrl = azl_pod_controller(pod);
	struct strbuf path = STRBUF_INIT;
	cJSON *ds = NULL;
	int rc;

	if (!ctrl || strcmp(ctrl->kind, "DaemonSet") || azl_pod_is_terminal(pod))
		return 0;
	strbuf_addf(&path, "/apis/apps/v1/namespaces/%s/daemonsets/", pod->namespace_);
	strbuf_addurlenc(&path, ctrl->name);
	rc = azl_kube_get(d->kube, path.buf, &ds);
	cJSON_Delete(ds);
	strbuf_release(&path);
	if (rc == AZL_ENOTFOUND && d->o.force) {
		set_filter(p, AZL_DRAIN_EVICT, azl_error_message(), 1, "its DaemonSet is gone");
		return 0;
	}
	if (rc) {
		set_filter(p, AZL_DRAIN_REFUSE, azl_error_message(), 0, "its DaemonSet cannot be read");
		return 1;
	}
	if (!d->o.ignore_daemonsets)
		set_filter(p, AZL_DRAIN_REFUSE, MSG_DS_FATAL, 0, "DaemonSet-managed");
	else
		set_filter(p, AZL_DRAIN_SKIP, MSG_DS_WARNING, 1, "DaemonSet-managed");
	return 1;
}

/* kubectl's chain (makeFilters): the first filter that does not let the
 * pod go decides; otherwise the last one's status stands (so its local
 * storage warning is lost, as kubectl's own TODO says). */
static void run_filters(struct azl_drain *d, const struct azl_pod *pod, struct azl_drain_pod *p)
{
	long skip = d->o.skip_wait_for_delete_timeout_s;

	set_filter(p, AZL_DRAIN_EVICT, NULL, 0, NULL);
	if (skip > 0 && pod->deletion_timestamp &&
	    (long)(time(NULL) - pod->deletion_timestamp) > skip) {
		set_filter(p, AZL_DRAIN_SKIP, NULL, 0, "deleted longer ago than the skip timeout");
		return;
	}
	if (daemonset_filter(d, pod, p))
		return;
	if (azl_pod_is_mirror(pod)) {
		set_filter(p, AZL_DRAIN_SKIP, NULL, 0, "mirror pod");
		return;
	}
	if (azl_pod_has_volume(pod, AZL_VOLUME_EMPTY_DIR) && !azl_pod_is_terminal(pod)) {
		if (!d->o.delete_emptydir_data) {
			set_filter(p, AZL_DRAIN_REFUSE, MSG_LOCAL_FATAL, 0, "emptyDir data");
			return;
		}
		set_filter(p, AZL_DRAIN_EVICT, MSG_LOCAL_WARNING, 1, "its emptyDir data is deleted");
	}
	if (azl_pod_is_terminal(pod) || azl_pod_controller(pod)) {
		const char *why = p->why;

		set_filter(p, AZL_DRAIN_EVICT, NULL, 0, why);
		return;
	}
	if (d->o.force)
		set_filter(p, AZL_DRAIN_EVICT, MSG_UNMANAGED_WARNING, 1, "no controller: lost (--force)");
	else
		set_filter(p, AZL_DRAIN_REFUSE, MSG_UNMANAGED_FATAL, 0, "no controller");
}

static void find_pdbs(const struct azl_drain *d, const struct azl_pod *pod, struct azl_drain_pod *p)
{
	struct strbuf names = STRBUF_INIT;
	size_t i;

	for (i = 0; i < d->pdbs.nr; i++) {
		if (!azl_pdb_selects(&d->pdbs.items[i], pod))
			continue;
		if (p->nr_pdbs++)
			strbuf_addstr(&names, ", ");
		strbuf_addf(&names, "%s/%s", d->pdbs.items[i].namespace_, d->pdbs.items[i].name);
	}
	p->pdb = p->nr_pdbs ? strbuf_detach(&names, NULL) : NULL;
	strbuf_release(&names);
}

static void fit_parse(const cJSON *obj, struct fit_node *n)
{
	const cJSON *taints = azl_json_path(obj, "spec.taints"), *t, *c;
	int ready = 0;

	n->name = xstrdup(azl_json_str(obj, "metadata.name", ""));
	azl_kv_parse(azl_json_path(obj, "metadata.labels"), &n->labels, &n->nr_labels);
	cJSON_ArrayForEach(c, azl_json_path(obj, "status.conditions")) {
		if (!strcmp(azl_json_str(c, "type", ""), "Ready"))
			ready = !strcmp(azl_json_str(c, "status", ""), "True");
	}
	n->usable = ready && !azl_json_bool(obj, "spec.unschedulable", 0);
	if (azl_num_quantity(azl_json_str(obj, "status.allocatable.cpu", ""), 1,
			     &n->free_cpu_m) != AZL_NUM_OK)
		n->free_cpu_m = LONG_MAX;
	if (azl_num_quantity(azl_json_str(obj, "status.allocatable.memory", ""), 0,
			     &n->free_mem) != AZL_NUM_OK)
		n->free_mem = LONG_MAX;
	if (!cJSON_IsArray(taints))
		return;
	n->taints = xcalloc((size_t)cJSON_GetArraySize(taints) + 1, sizeof(*n->taints));
	cJSON_ArrayForEach(t, taints) {
		struct fit_taint *ft = &n->taints[n->nr_taints++];

		ft->key = xstrdup(azl_json_str(t, "key", ""));
		ft->value = xstrdup(azl_json_str(t, "value", ""));
		ft->effect = xstrdup(azl_json_str(t, "effect", ""));
	}
}

static int load_fit(struct azl_drain *d)
{
	cJSON *items = NULL, *obj;
	int rc = azl_kube_list(d->kube, "/api/v1/nodes", NULL, d->o.page_size, &items);

	if (rc)
		return rc;
	fit_release(d);
	d->fit = xcalloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*d->fit));
	cJSON_ArrayForEach(obj, items) {
		fit_parse(obj, &d->fit[d->nr_fit++]);
	}
	cJSON_Delete(items);
	return 0;
}

/* A pod that holds its node's resources: what the scheduler counts. */
static int note_usage(const struct azl_pod *pod, void *data)
{
	struct azl_drain *d = data;
	size_t i;

	for (i = 0; *pod->node && i < d->nr_fit; i++) {
		struct fit_node *n = &d->fit[i];

		if (strcmp(n->name, pod->node))
			continue;
		n->free_cpu_m = azl_num_add(n->free_cpu_m, -pod->cpu_request_m);
		n->free_mem = azl_num_add(n->free_mem, -pod->memory_request);
		break;
	}
	return 0;
}

/* What is free on each node now; without it the plan does not look at
 * capacity. */
static void load_usage(struct azl_drain *d)
{
	d->have_usage = !azl_pod_list_active(d->kube, d->o.page_size, note_usage, d);
	if (d->have_usage)
		return;
	azl_logf(1, "drain: not checking the nodes' capacity: %s", azl_error_message());
	azl_error_clear();
}

static int draining(const struct azl_drain *d, const char *node)
{
	size_t i;

	for (i = 0; i < d->nr_draining; i++)
		if (!strcmp(d->draining[i], node))
			return 1;
	return 0;
}

/* Whether the scheduler could place pod's replacement on node n, outside
 * the drain: Ready, not cordoned, its nodeSelector met, every NoSchedule
 * and NoExecute taint tolerated (affinity is not looked at). */
static int could_take(const struct azl_drain *d, const struct fit_node *n,
		      const struct azl_pod *pod)
{
	int ok = n->usable && !draining(d, n->name);
	size_t j;

	for (j = 0; ok && j < pod->nr_node_selector; j++) {
		const char *v = azl_kv_get(n->labels, n->nr_labels, pod->node_selector[j].key);

		ok = v && !strcmp(v, pod->node_selector[j].value);
	}
	for (j = 0; ok && j < n->nr_taints; j++)
		ok = !strcmp(n->taints[j].effect, "PreferNoSchedule") ||
		     azl_pod_tolerates(pod, n->taints[j].key, n->taints[j].value,
				       n->taints[j].effect);
	return ok;
}

static int has_room(const struct fit_node *n, const struct azl_pod *pod)
{
	return pod->cpu_request_m <= n->free_cpu_m && pod->memory_request <= n->free_mem;
}

/* A quantity as the API server writes it: whole cores, or millicores. */
static void add_cpu(struct strbuf *out, long m)
{
	if (m == LONG_MAX)
		strbuf_addstr(out, "unlimited");
	else if (m % 1000)
		strbuf_addf(out, "%ldm", m);
	else
		strbuf_addf(out, "%ld", m / 1000);
}

/* Bytes in the largest binary unit that holds them whole ("4Gi"). */
static void add_memory(struct strbuf *out, long b)
{
	static const char *const units[] = { "Ei", "Pi", "Ti", "Gi", "Mi", "Ki" };
	size_t i;

	if (b == LONG_MAX) {
		strbuf_addstr(out, "unlimited");
		return;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		long unit = 1L << (10 * (6 - i));

		if (b && b % unit == 0) {
			strbuf_addf(out, "%ld%s", b / unit, units[i]);
			return;
		}
	}
	strbuf_addf(out, "%ld", b);
}

/* "needs cpu 2, memory 4Gi; largest free: cpu 1820m, memory 3Gi": the
 * most of each that any node it could go to still has. */
static char *no_room(const struct azl_drain *d, const struct azl_pod *pod)
{
	struct strbuf why = STRBUF_INIT;
	long cpu = LONG_MIN, mem = LONG_MIN;
	size_t i;

	for (i = 0; i < d->nr_fit; i++) {
		if (!could_take(d, &d->fit[i], pod))
			continue;
		if (d->fit[i].free_cpu_m > cpu)
			cpu = d->fit[i].free_cpu_m;
		if (d->fit[i].free_mem > mem)
			mem = d->fit[i].free_mem;
	}
	strbuf_addstr(&why, "needs cpu ");
	add_cpu(&why, pod->cpu_request_m);
	strbuf_addstr(&why, ", memory ");
	add_memory(&why, pod->memory_request);
	strbuf_addstr(&why, "; largest free: cpu ");
	add_cpu(&why, cpu < 0 ? 0 : cpu);
	strbuf_addstr(&why, ", memory ");
	add_memory(&why, mem < 0 ? 0 : mem);
	return strbuf_detach(&why, NULL);
}

/* Finds pod's replacement a home outside the drain and takes its
 * requests from that node's free resources: a simple first-fit, node by
 * node in the API server's order, pods in the plan's order. The scheduler
 * scores and spreads instead, and a better packing may exist where
 * first-fit finds none, so a pod it cannot place is a warning of the
 * plan, not a refusal. 0 when placed; else *why_room says it is capacity
 * (NULL: no node would take it at all). */
static int place(struct azl_drain *d, const struct azl_pod *pod, char **why_room)
{
	size_t i;
	int anywhere = 0;

	*why_room = NULL;
	for (i = 0; i < d->nr_fit; i++) {
		struct fit_node *n = &d->fit[i];

		if (!could_take(d, n, pod))
			continue;
		anywhere = 1;
		if (d->have_usage && !has_room(n, pod))
			continue;
		if (d->have_usage) {
			n->free_cpu_m = azl_num_add(n->free_cpu_m, -pod->cpu_request_m);
			n->free_mem = azl_num_add(n->free_mem, -pod->memory_request);
		}
		return 0;
	}
	if (anywhere)
		*why_room = no_room(d, pod);
	return -1;
}

static int needs_a_new_home(const struct azl_pod *pod)
{
	const struct azl_owner_ref *ctrl = azl_pod_controller(pod);

	return ctrl && strcmp(ctrl->kind, "DaemonSet") && !azl_pod_is_terminal(pod);
}

static int plan_pod(const struct azl_pod *pod, void *data)
{
	struct plan_ctx *c = data;
	struct azl_drain_node *n = c->node;
	struct azl_drain_pod *p;

	n->pods = xrealloc(n->pods, (n->nr_pods + 1) * sizeof(*n->pods));
	p = &n->pods[n->nr_pods++];
	memset(p, 0, sizeof(*p));
	p->namespace_ = xstrdup(pod->namespace_);
	p->name = xstrdup(pod->name);
	p->uid = xstrdup(pod->uid);
	run_filters(c->d, pod, p);
	if (p->action == AZL_DRAIN_REFUSE)
		n->refused = 1;
	find_pdbs(c->d, pod, p);
	if (p->action == AZL_DRAIN_EVICT && c->d->fit && needs_a_new_home(pod))
		p->nowhere = !!place(c->d, pod, &p->no_room);
	return 0;
}

static int load_pdbs(struct azl_drain *d)
{
	struct azl_pdb_list fresh;
	int rc = azl_pdb_list(d->kube, NULL, &fresh);

	if (rc)
		return rc;
	azl_pdb_list_release(&d->pdbs);
	d->pdbs = fresh;
	d->have_pdbs = 1;
	return 0;
}

static const struct azl_pdb *pdb_named(const struct azl_drain *d, const char *ns_name)
{
	size_t i;

	for (i = 0; ns_name && i < d->pdbs.nr; i++) {
		const struct azl_pdb *b = &d->pdbs.items[i];
		size_t len = strlen(b->namespace_);

		if (!strncmp(ns_name, b->namespace_, len) && ns_name[len] == '/' &&
		    !strcmp(ns_name + len + 1, b->name))
			return b;
	}
	return NULL;
}

/* Why a PDB lets nothing go, ever, however long the drain waits. */
static const char *never_allows(const struct azl_pdb *b)
{
	const struct azl_int_or_percent *mu = &b->max_unavailable, *ma = &b->min_available;

	if (mu->set && mu->value == 0)
		return "maxUnavailable is 0";
	if (ma->set && ma->percent && ma->value >= 100)
		return "minAvailable is 100%";
	if (ma->set && !ma->percent && ma->value >= b->expected_pods)
		return "minAvailable is as many as the pods it selects";
	return NULL;
}

static struct azl_drain_pdb *blocking_entry(struct azl_drain_plan *plan, const struct azl_pdb *b)
{
	struct azl_drain_pdb *e;

	plan->blocking = xrealloc(plan->blocking, (plan->nr_blocking + 1) * sizeof(*plan->blocking));
	e = &plan->blocking[plan->nr_blocking++];
	memset(e, 0, sizeof(*e));
	e->namespace_ = xstrdup(b->namespace_);
	e->name = xstrdup(b->name);
	e->current_healthy = b->current_healthy;
	e->desired_healthy = b->desired_healthy;
	e->expected_pods = b->expected_pods;
	e->disruptions_allowed = b->disruptions_allowed;
	e->never = never_allows(b);
	return e;
}

static int guards(const struct azl_pdb *b, const struct azl_drain_pod *p)
{
	size_t len = strlen(b->namespace_);

	return p->action == AZL_DRAIN_EVICT && p->nr_pdbs == 1 &&
	       !strncmp(p->pdb, b->namespace_, len) && p->pdb[len] == '/' &&
	       !strcmp(p->pdb + len + 1, b->name);
}

/* Each PDB that guards pods of the drain and allows no disruption now, or
 * fewer than its pods that can go nowhere else (their replacements stay
 * Pending, so it never allows more). */
static void find_blocking(const struct azl_drain *d, struct azl_drain_plan *plan)
{
	struct strbuf key = STRBUF_INIT;
	size_t b, i, j;

	for (b = 0; b < d->pdbs.nr; b++) {
		const struct azl_pdb *pdb = &d->pdbs.items[b];
		struct azl_drain_pdb *e = NULL;
		long guarded = 0, nowhere = 0;

		for (i = 0; i < plan->nr_nodes; i++)
			for (j = 0; j < plan->nodes[i].nr_pods; j++)
				if (guards(pdb, &plan->nodes[i].pods[j])) {
					guarded++;
					nowhere += plan->nodes[i].pods[j].nowhere;
				}
		if (!guarded || (pdb->disruptions_allowed > 0 && nowhere <= pdb->disruptions_allowed))
			continue;
		e = blocking_entry(plan, pdb);
		if (!e->never && nowhere > pdb->disruptions_allowed)
			e->never = "its pods fit on no other node";
		for (i = 0; i < plan->nr_nodes; i++)
			for (j = 0; j < plan->nodes[i].nr_pods; j++) {
				const struct azl_drain_pod *p = &plan->nodes[i].pods[j];

				if (!guards(pdb, p))
					continue;
				strbuf_reset(&key);
				strbuf_addf(&key, "%s/%s", p->namespace_, p->name);
				push_string(&e->pods, &e->nr_pods, key.buf);
			}
	}
	strbuf_release(&key);
}

int azl_drain_plan(struct azl_drain *d, const char *const *nodes, size_t nr,
		   struct azl_drain_plan **out)
{
	struct azl_drain_plan *plan = xcalloc(1, sizeof(*plan));
	struct strbuf version = STRBUF_INIT;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (d->o.disable_eviction)
		plan->eviction_version = xstrdup("");
	else if (!(rc = azl_eviction_discover(d->kube, &version)))
		plan->eviction_version = strbuf_detach(&version, NULL);
	if (!rc)
		rc = load_pdbs(d);
	if (!rc && load_fit(d)) {
		/* only the plan's "fits elsewhere" needs it: go on without */
		azl_logf(1, "drain: not checking where replacements fit: %s", azl_error_message());
		azl_error_clear();
	} else if (!rc) {
		load_usage(d);
	}
	d->draining = nodes;
	d->nr_draining = nr;
	plan->nodes = xcalloc(nr ? nr : 1, sizeof(*plan->nodes));
	for (i = 0; i < nr && !rc; i++) {
		struct plan_ctx c = { d, &plan->nodes[i], 0 };

		plan->nodes[i].name = xstrdup(nodes[i]);
		strbuf_init(&plan->nodes[i].error, 0);
		plan->nr_nodes++;
		rc = azl_pod_list_on_node(d->kube, nodes[i], d->o.pod_selector, d->o.page_size,
					  plan_pod, &c);
	}
	strbuf_release(&version);
	d->draining = NULL;
	d->nr_draining = 0;
	if (rc) {
		azl_drain_plan_free(plan);
		return rc;
	}
	find_blocking(d, plan);
	*out = plan;
	return 0;
}

/* --- kubectl's grouped lines ------------------------------------------ */

/* The pods of node whose filter said msg (as a warning or not), as
 * "ns/a, ns/b". */
static void pods_with(const struct azl_drain_node *n, const char *msg, int warning,
		      struct strbuf *out)
{
	size_t i;
	int first = 1;

	for (i = 0; i < n->nr_pods; i++) {
		const struct azl_drain_pod *p = &n->pods[i];

		if (!p->filter_message || p->warning != warning || strcmp(p->filter_message, msg))
			continue;
		if (p->action == AZL_DRAIN_REFUSE && warning)
			continue;
		strbuf_addf(out, "%s%s/%s", first ? "" : ", ", p->namespace_, p->name);
		first = 0;
	}
}

/* Calls fn for each distinct filter message of node (warning or not), in
 * the order of its first pod. */
static void each_message(const struct azl_drain_node *n, int warning,
			 void (*fn)(const struct azl_drain_node *, const char *, int, void *),
			 void *ctx)
{
	size_t i, j;

	for (i = 0; i < n->nr_pods; i++) {
		const char *msg = n->pods[i].filter_message;
		int seen = 0;

		if (!msg || n->pods[i].warning != warning)
			continue;
		if (warning && n->pods[i].action == AZL_DRAIN_REFUSE)
			continue;
		for (j = 0; j < i && !seen; j++)
			seen = n->pods[j].filter_message && n->pods[j].warning == warning &&
			       !strcmp(n->pods[j].filter_message, msg);
		if (!seen)
			fn(n, msg, warning, ctx);
	}
}

struct grouped {
	struct strbuf *out;
	size_t count;
	const char *sep, *prefix;
};

static void add_group(const struct azl_drain_node *n, const char *msg, int warning, void *ctx)
{
	struct grouped *g = ctx;

	if (g->count++)
		strbuf_addstr(g->out, g->sep);
	strbuf_addf(g->out, "%s%s: ", g->prefix, msg);
	pods_with(n, msg, warning, g->out);
}

void azl_drain_node_warnings(const struct azl_drain_node *node, struct strbuf *out)
{
	struct grouped g = { out, 0, "; ", "" };

	each_message(node, 1, add_group, &g);
}

void azl_drain_node_errors(const struct azl_drain_node *node, struct strbuf *out)
{
	struct strbuf all = STRBUF_INIT;
	struct grouped g = { &all, 0, ", ", "cannot delete " };

	each_message(node, 0, add_group, &g);
	if (g.count > 1)
		strbuf_addf(out, "[%s]", all.buf);
	else
		strbuf_addbuf(out, &all);
	strbuf_release(&all);
}

/* --- running the plan --------------------------------------------------- */

static void emit(struct azl_drain *d, struct azl_drain_event *ev)
{
	if (d->o.on_event)
		d->o.on_event(ev, d->o.ctx);
}

static void pod_event(struct azl_drain *d, enum azl_drain_event_type type,
		      const struct azl_drain_node *n, const struct azl_drain_pod *p,
		      const char *message, int deleted)
{
	struct azl_drain_event ev = { 0 };

	ev.type = type;
	ev.node = n;
	ev.pod = p;
	ev.message = message;
	ev.retry_ms = d->o.retry_delay_ms;
	ev.deleted = deleted;
	emit(d, &ev);
}

static void pod_fail(struct azl_drain *d, struct azl_drain_node *n, struct azl_drain_pod *p,
		     struct strbuf *msg)
{
	free(p->message);
	p->message = strbuf_detach(msg, NULL);
	p->state = AZL_DRAIN_POD_FAILED;
	pod_event(d, AZL_DRAIN_EV_POD_FAILED, n, p, p->message, 0);
}

static void pod_retry(struct azl_drain *d, struct azl_drain_node *n, struct azl_drain_pod *p,
		      const char *what, const char *message, long now)
{
	struct strbuf line = STRBUF_INIT;

	strbuf_addstr(&line, what);
	strbuf_addstr(&line, " (will retry after ");
	azl_drain_format_duration(&line, d->o.retry_delay_ms);
	strbuf_addf(&line, "): %s", message);
	free(p->message);
	p->message = strbuf_detach(&line, NULL);
	p->next_ms = now + d->o.retry_delay_ms;
	pod_event(d, AZL_DRAIN_EV_RETRY, n, p, p->message, 0);
}

/* "The disruption budget web needs 3 healthy pods and has 3 currently":
 * the PDB a 429 names, as ns/name; else the one the plan found. */
static void note_blocker(struct azl_drain_pod *p, const struct azl_kube_result *res)
{
	static const char mark[] = "The disruption budget ";
	size_t i;

	free(p->blocked_by);
	p->blocked_by = NULL;
	for (i = 0; i < res->nr_causes; i++) {
		const char *m = res->causes[i].message, *end;

		if (strncmp(m, mark, sizeof(mark) - 1))
			continue;
		m += sizeof(mark) - 1;
		end = strchr(m, ' ');
		if (end) {
			struct strbuf b = STRBUF_INIT;

			strbuf_addf(&b, "%s/", p->namespace_);
			strbuf_add(&b, m, (size_t)(end - m));
			p->blocked_by = strbuf_detach(&b, NULL);
			return;
		}
	}
	p->blocked_by = xstrdup_or_null(p->pdb);
}

enum reread {
	POD_STAYS,                   /* still the pod we meant, on the node */
	POD_MOVED,                   /* another uid, or on another node */
	POD_GONE                     /* 404 */
};

/* Before a retry, as kubectl does, and as AKS should (migrate-upgrade.md
 * §A8): whether the pod we meant is gone or has moved off the node. */
static enum reread pod_moved(struct azl_drain *d, const struct azl_drain_node *n,
			     const struct azl_drain_pod *p, int *terminating)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *obj = NULL;
	enum reread moved = POD_STAYS;
	int rc;

	strbuf_addf(&path, "/api/v1/namespaces/%s/pods/", p->namespace_);
	strbuf_addurlenc(&path, p->name);
	rc = azl_kube_get(d->kube, path.buf, &obj);
	if (rc == AZL_ENOTFOUND)
		moved = POD_GONE;
	else if (!rc && (strcmp(azl_json_str(obj, "metadata.uid", ""), p->uid) ||
			 strcmp(azl_json_str(obj, "spec.nodeName", ""), n->name)))
		moved = POD_MOVED;
	*terminating = !rc && azl_json_path(obj, "metadata.deletionTimestamp") != NULL;
	azl_error_clear();
	cJSON_Delete(obj);
	strbuf_release(&path);
	return moved;
}

static void become_terminating(struct azl_drain *d, struct azl_drain_node *n,
			       struct azl_drain_pod *p, long now)
{
	if (d->o.dry_run == AZL_DRAIN_DRY_RUN_SERVER) {
		p->state = AZL_DRAIN_POD_DONE;
		return;
	}
	p->state = AZL_DRAIN_POD_TERMINATING;
	if (n->next_poll_ms <= now)
		n->next_poll_ms = now + d->o.poll_ms;
}

static void evict_error(struct azl_drain *d, struct azl_drain_node *n, struct azl_drain_pod *p,
			const struct azl_eviction_result *r, long now, int terminating)
{
	struct strbuf what = STRBUF_INIT, msg = STRBUF_INIT;
	const char *text = r->res.status ? r->res.message.buf : azl_error_message();

	strbuf_addf(&what, "error when evicting pods/\"%s\" -n \"%s\"", p->name, p->namespace_);
	switch (r->outcome) {
	case AZL_EVICTION_BLOCKED:
	case AZL_EVICTION_THROTTLED:
		note_blocker(p, &r->res);
		pod_retry(d, n, p, what.buf, text, now);
		break;
	case AZL_EVICTION_NAMESPACE_TERMINATING:
		if (terminating) {
			become_terminating(d, n, p, now);
			break;
		}
		strbuf_reset(&what);
		strbuf_addf(&what, "error when evicting pod \"%s\" from terminating namespace \"%s\"",
			    p->name, p->namespace_);
		pod_retry(d, n, p, what.buf, text, now);
		break;
	case AZL_EVICTION_WEBHOOK_DENIED:
		/* a webhook (a drain cleaner) may move the pod itself: re-read
		 * before each retry and stop once it has gone (§A8) */
		pod_retry(d, n, p, what.buf, text, now);
		break;
	case AZL_EVICTION_MULTIPLE_PDBS:
		strbuf_addf(&msg, "%s: %s", what.buf, text);
		if (p->pdb)
			strbuf_addf(&msg, " (PodDisruptionBudgets %s)", p->pdb);
		pod_fail(d, n, p, &msg);
		break;
	default:
		strbuf_addf(&msg, "%s: %s", what.buf, text);
		pod_fail(d, n, p, &msg);
		break;
	}
	strbuf_release(&what);
	strbuf_release(&msg);
}

static void try_evict(struct azl_drain *d, struct azl_drain_node *n, struct azl_drain_pod *p,
		      long now)
{
	struct azl_eviction_options eo = AZL_EVICTION_OPTIONS_INIT;
	struct azl_eviction_result r = AZL_EVICTION_RESULT_INIT;
	enum reread moved = POD_STAYS;
	int terminating = 0;

	if (p->attempts)
		moved = pod_moved(d, n, p, &terminating);
	if (moved != POD_STAYS) {
		/* gone is silent, as kubectl's eviction answered 404 is; a pod
		 * recreated elsewhere under its name is not evicted again there */
		p->state = AZL_DRAIN_POD_DONE;
		if (moved == POD_MOVED)
			pod_event(d, AZL_DRAIN_EV_GONE, n, p, NULL, 0);
		return;
	}
	pod_event(d, AZL_DRAIN_EV_EVICTING, n, p, NULL, 0);
	p->attempts++;
	eo.delete_options.grace_period_s = d->o.grace_period_s;
	eo.delete_options.dry_run = d->o.dry_run == AZL_DRAIN_DRY_RUN_SERVER;
	eo.group_version = d->version;
	azl_eviction_create(d->kube, p->namespace_, p->name, &eo, &r);
	if (r.outcome == AZL_EVICTION_EVICTED) {
		free(p->blocked_by);
		p->blocked_by = NULL;
		become_terminating(d, n, p, now);
	} else if (r.outcome == AZL_EVICTION_GONE) {
		p->state = AZL_DRAIN_POD_DONE;
	} else {
		evict_error(d, n, p, &r, now, terminating);
	}
	azl_error_clear();
	azl_eviction_result_release(&r);
}

/* --disable-eviction (or a server without pods/eviction): DELETE, as
 * kubectl's deletePods, whose first error (other than 404) ends the node. */
static void try_delete(struct azl_drain *d, struct azl_drain_node *n, struct azl_drain_pod *p,
		       long now)
{
	struct azl_kube_delete_options o = AZL_KUBE_DELETE_OPTIONS_INIT;
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	struct strbuf path = STRBUF_INIT, msg = STRBUF_INIT;
	int rc;

	o.grace_period_s = d->o.grace_period_s;
	o.dry_run = d->o.dry_run == AZL_DRAIN_DRY_RUN_SERVER;
	strbuf_addf(&path, "/api/v1/namespaces/%s/pods/", p->namespace_);
	strbuf_addurlenc(&path, p->name);
	p->attempts++;
	rc = azl_kube_delete(d->kube, path.buf, &o, &res);
	if (!rc || rc == AZL_ENOTFOUND) {
		become_terminating(d, n, p, now);
	} else {
		strbuf_addstr(&msg, res.status ? res.message.buf : azl_error_message());
		free(n->reason);
		n->reason = res.status && res.reason.len ? xstrdup(res.reason.buf) : NULL;
		pod_fail(d, n, p, &msg);
	}
	azl_error_clear();
	azl_kube_result_release(&res);
	strbuf_release(&path);
	strbuf_release(&msg);
}

/* What a look at a node's pods found: ns/name -> uid, deletionTimestamp. */
struct seen_pod {
	char *key, *uid;
	time_t deleted;
};
struct seen {
	struct seen_pod *v;
	size_t n;
};

static int note_seen(const struct azl_pod *pod, void *data)
{
	struct seen *s = data;
	struct strbuf key = STRBUF_INIT;

	strbuf_addf(&key, "%s/%s", pod->namespace_, pod->name);
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n].key = strbuf_detach(&key, NULL);
	s->v[s->n].uid = xstrdup(pod->uid);
	s->v[s->n].deleted = pod->deletion_timestamp;
	s->n++;
	return 0;
}

static void seen_release(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].uid);
	}
	free(s->v);
}

static const struct seen_pod *seen_find(const struct seen *s, const struct azl_drain_pod *p)
{
	size_t i, len = strlen(p->namespace_);

	for (i = 0; i < s->n; i++)
		if (!strncmp(s->v[i].key, p->namespace_, len) && s->v[i].key[len] == '/' &&
		    !strcmp(s->v[i].key + len + 1, p->name))
			return &s->v[i];
	return NULL;
}

/* waitForDelete, for all of a node's terminating pods with one list: a pod
 * is gone when it is not there or has another uid (recreated under its
 * name). A failed look is tried again at the next poll. */
static void poll_node(struct azl_drain *d, struct azl_drain_node *n, long now)
{
	struct seen s = { NULL, 0 };
	long skip = d->o.skip_wait_for_delete_timeout_s;
	size_t i;

	n->next_poll_ms = now + d->o.poll_ms;
	if (azl_pod_list_on_node(d->kube, n->name, NULL, d->o.page_size, note_seen, &s)) {
		azl_logf(2, "drain: %s", azl_error_message());
		azl_error_clear();
		seen_release(&s);
		return;
	}
	for (i = 0; i < n->nr_pods; i++) {
		struct azl_drain_pod *p = &n->pods[i];
		const struct seen_pod *sp;

		if (p->state != AZL_DRAIN_POD_TERMINATING)
			continue;
		sp = seen_find(&s, p);
		if (!sp || strcmp(sp->uid, p->uid)) {
			p->state = AZL_DRAIN_POD_DONE;
			pod_event(d, AZL_DRAIN_EV_GONE, n, p, NULL, !*d->version);
		} else if (skip > 0 && sp->deleted && (long)(time(NULL) - sp->deleted) > skip) {
			p->state = AZL_DRAIN_POD_NOT_WAITED;
			pod_event(d, AZL_DRAIN_EV_NOT_WAITED, n, p, NULL, 0);
		}
	}
	seen_release(&s);
}

static int node_open(const struct azl_drain_node *n)
{
	return n->state == AZL_DRAIN_NODE_PENDING;
}

/* The pods of a failed node still to go, re-listed and filtered as
 * kubectl does for "There are pending pods in node ...". */
static void relist_pending(struct azl_drain *d, struct azl_drain_node *n)
{
	struct azl_drain_node fresh;
	struct plan_ctx c = { d, &fresh, 0 };
	size_t i;

	memset(&fresh, 0, sizeof(fresh));
	strbuf_init(&fresh.error, 0);
	if (azl_pod_list_on_node(d->kube, n->name, d->o.pod_selector, d->o.page_size,
				 plan_pod, &c))
		azl_error_clear();
	for (i = 0; i < fresh.nr_pods; i++)
		if (fresh.pods[i].action == AZL_DRAIN_EVICT)
			push_string(&n->pending, &n->nr_pending, fresh.pods[i].name);
	node_release(&fresh);
}

/* kubectl's aggregate (apimachinery's utilerrors): one message alone,
 * several deduplicated in brackets. */
static void aggregate(struct strbuf *out, char *const *msgs, size_t n)
{
	size_t i, j, count = 0;
	struct strbuf all = STRBUF_INIT;

	for (i = 0; i < n; i++) {
		int dup = 0;

		for (j = 0; j < i && !dup; j++)
			dup = !strcmp(msgs[i], msgs[j]);
		if (dup)
			continue;
		if (count++)
			strbuf_addstr(&all, ", ");
		strbuf_addstr(&all, msgs[i]);
	}
	if (count > 1)
		strbuf_addf(out, "[%s]", all.buf);
	else
		strbuf_addbuf(out, &all);
	strbuf_release(&all);
}

/* Ends node once none of its pods is pending or terminating (or at
 * once, in the delete path, at its first failure). */
static void settle_node(struct azl_drain *d, struct azl_drain_node *n)
{
	char **msgs = NULL;
	size_t i, nr = 0;
	int busy = 0, failed = 0;
	struct azl_drain_event ev = { 0 };

	for (i = 0; i < n->nr_pods; i++) {
		const struct azl_drain_pod *p = &n->pods[i];

		if (p->action != AZL_DRAIN_EVICT)
			continue;
		busy |= p->state == AZL_DRAIN_POD_PENDING || p->state == AZL_DRAIN_POD_TERMINATING;
		if (p->state == AZL_DRAIN_POD_FAILED) {
			failed = 1;
			msgs = xrealloc(msgs, (nr + 1) * sizeof(*msgs));
			msgs[nr++] = p->message;
		}
	}
	if (busy && !(failed && !*d->version))
		goto out;
	strbuf_reset(&n->error);
	/* the delete path returns its first error as it is, no aggregate */
	n->plain_error = failed && !*d->version;
	if (n->plain_error)
		strbuf_addstr(&n->error, msgs[0]);
	else
		aggregate(&n->error, msgs, nr);
	n->state = failed ? AZL_DRAIN_NODE_FAILED : AZL_DRAIN_NODE_DRAINED;
	if (failed && d->o.dry_run == AZL_DRAIN_DRY_RUN_NONE)
		relist_pending(d, n);
	ev.type = AZL_DRAIN_EV_NODE_DONE;
	ev.node = n;
	emit(d, &ev);
out:
	free(msgs);
}

static void time_out_pod(struct azl_drain *d, struct azl_drain_node *n, struct azl_drain_pod *p)
{
	struct strbuf msg = STRBUF_INIT;

	if (p->state == AZL_DRAIN_POD_PENDING) {
		strbuf_addf(&msg, "error when evicting pods/\"%s\" -n \"%s\": global timeout reached: ",
			    p->name, p->namespace_);
		azl_drain_format_duration(&msg, d->o.timeout_ms);
	} else if (*d->version) {
		strbuf_addf(&msg, "error when waiting for pod \"%s\" in namespace \"%s\" to "
			    "terminate: context deadline exceeded", p->name, p->namespace_);
	} else {
		strbuf_addstr(&msg, "context deadline exceeded");
	}
	pod_fail(d, n, p, &msg);
}

/* Refusals the plan found fail their node before anything is evicted. */
static void fail_refused(struct azl_drain *d, struct azl_drain_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->nr_nodes; i++) {
		struct azl_drain_node *n = &plan->nodes[i];
		struct azl_drain_event ev = { 0 };

		if (!n->refused)
			continue;
		strbuf_reset(&n->error);
		azl_drain_node_errors(n, &n->error);
		n->state = AZL_DRAIN_NODE_FAILED;
		ev.type = AZL_DRAIN_EV_NODE_DONE;
		ev.node = n;
		emit(d, &ev);
	}
}

/* One pass over every open node: due attempts, due polls, timeouts.
 * Returns the pods still to go; *wake_ms is when the next thing is due,
 * *pdb a PDB holding one back. */
static size_t step(struct azl_drain *d, struct azl_drain_plan *plan, long now, long deadline,
		   long *wake_ms, const char **pdb)
{
	size_t i, j, left = 0;

	for (i = 0; i < plan->nr_nodes; i++) {
		struct azl_drain_node *n = &plan->nodes[i];
		int terminating = 0;

		if (!node_open(n))
			continue;
		for (j = 0; j < n->nr_pods && node_open(n); j++) {
			struct azl_drain_pod *p = &n->pods[j];

			if (p->action != AZL_DRAIN_EVICT)
				continue;
			if (deadline && now >= deadline &&
			    (p->state == AZL_DRAIN_POD_PENDING ||
			     p->state == AZL_DRAIN_POD_TERMINATING)) {
				time_out_pod(d, n, p);
				continue;
			}
			if (p->state == AZL_DRAIN_POD_PENDING && p->next_ms <= now) {
				if (*d->version)
					try_evict(d, n, p, now);
				else
					try_delete(d, n, p, now);
				if (p->state == AZL_DRAIN_POD_FAILED && !*d->version)
					break;
			}
			if (p->state == AZL_DRAIN_POD_PENDING && p->next_ms < *wake_ms)
				*wake_ms = p->next_ms;
			if (p->state == AZL_DRAIN_POD_PENDING && p->blocked_by && !*pdb)
				*pdb = p->blocked_by;
			terminating |= p->state == AZL_DRAIN_POD_TERMINATING;
		}
		if (terminating && n->next_poll_ms <= now)
			poll_node(d, n, now);
		settle_node(d, n);
		if (!node_open(n))
			continue;
		for (j = 0; j < n->nr_pods; j++)
			left += n->pods[j].action == AZL_DRAIN_EVICT &&
				(n->pods[j].state == AZL_DRAIN_POD_PENDING ||
				 n->pods[j].state == AZL_DRAIN_POD_TERMINATING);
		if (n->next_poll_ms > now && n->next_poll_ms < *wake_ms)
			*wake_ms = n->next_poll_ms;
	}
	return left;
}

/* While pods wait on their PDBs: one list of the PDBs a second, and a
 * pod whose PDB allows a disruption again is asked at once rather than
 * at the end of kubectl's 5 s. */
static void pace_by_pdbs(struct azl_drain *d, struct azl_drain_plan *plan, long now)
{
	size_t i, j;
	int blocked = 0;

	for (i = 0; i < plan->nr_nodes && !blocked; i++)
		for (j = 0; j < plan->nodes[i].nr_pods && !blocked; j++)
			blocked = plan->nodes[i].pods[j].state == AZL_DRAIN_POD_PENDING &&
				  plan->nodes[i].pods[j].blocked_by;
	if (!blocked || now - d->last_pdb_ms < d->o.poll_ms)
		return;
	d->last_pdb_ms = now;
	if (load_pdbs(d)) {
		azl_error_clear();
		return;
	}
	for (i = 0; i < plan->nr_nodes; i++) {
		for (j = 0; j < plan->nodes[i].nr_pods; j++) {
			struct azl_drain_pod *p = &plan->nodes[i].pods[j];
			const struct azl_pdb *b;

			if (p->state != AZL_DRAIN_POD_PENDING || !p->blocked_by)
				continue;
			b = pdb_named(d, p->blocked_by);
			if (b && b->disruptions_allowed > 0 && p->next_ms > now)
				p->next_ms = now;
		}
	}
}

static int cancelled(const struct azl_drain *d)
{
	return d->o.cancel && *d->o.cancel;
}

/* Sleeps until wake_ms (at most a poll interval), looking at the cancel
 * flag every SLICE_MS. */
static void nap(const struct azl_drain *d, long now, long wake_ms)
{
	long until = wake_ms < now + d->o.poll_ms ? wake_ms : now + d->o.poll_ms;

	while (!cancelled(d) && (now = monotonic_ms()) < until)
		sleep_millisec(until - now < SLICE_MS ? until - now : SLICE_MS);
}

static void dry_run_client(struct azl_drain *d, struct azl_drain_plan *plan)
{
	size_t i;

	fail_refused(d, plan);
	for (i = 0; i < plan->nr_nodes; i++) {
		struct azl_drain_event ev = { 0 };

		if (!node_open(&plan->nodes[i]))
			continue;
		plan->nodes[i].state = AZL_DRAIN_NODE_DRAINED;
		ev.type = AZL_DRAIN_EV_NODE_DONE;
		ev.node = &plan->nodes[i];
		emit(d, &ev);
	}
}

static int outcome(const struct azl_drain_plan *plan)
{
	size_t i, failed = 0;

	for (i = 0; i < plan->nr_nodes; i++)
		failed += plan->nodes[i].state == AZL_DRAIN_NODE_FAILED;
	if (!failed)
		return 0;
	return azl_error_set(AZL_ERROR, "%zu of %zu nodes could not be drained", failed,
			     plan->nr_nodes);
}

int azl_drain_run(struct azl_drain *d, struct azl_drain_plan *plan)
{
	long now, deadline;

	d->version = plan->eviction_version;
	if (d->o.dry_run == AZL_DRAIN_DRY_RUN_CLIENT) {
		dry_run_client(d, plan);
		return outcome(plan);
	}
	d->started_ms = monotonic_ms();
	deadline = d->o.timeout_ms > 0 ? d->started_ms + d->o.timeout_ms : 0;
	fail_refused(d, plan);
	for (;;) {
		long wake = d->started_ms + 86400000L;
		const char *pdb = NULL;
		struct azl_drain_event ev = { 0 };
		size_t left;

		if (cancelled(d))
			return azl_error_set(AZL_ECANCELED, "drain interrupted: run it again to "
					     "finish (the nodes stay cordoned)");
		now = monotonic_ms();
		pace_by_pdbs(d, plan, now);
		left = step(d, plan, now, deadline, &wake, &pdb);
		if (!left)
			break;
		now = monotonic_ms();
		if (deadline && wake > deadline)
			wake = deadline;
		ev.type = AZL_DRAIN_EV_WAITING;
		ev.pods_left = left;
		ev.pdb = pdb;
		ev.waited_ms = now - d->started_ms;
		emit(d, &ev);
		nap(d, now, wake);
	}
	return outcome(plan);
}

struct leaves {
	char **v;
	size_t n;
};

static void add_leaf(const struct azl_drain_node *n, const char *msg, int warning, void *ctx)
{
	struct leaves *l = ctx;
	struct strbuf line = STRBUF_INIT;

	strbuf_addf(&line, "cannot delete %s: ", msg);
	pods_with(n, msg, warning, &line);
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = strbuf_detach(&line, NULL);
}

/* A node's error as kubectl's cmdutil prints it alone: an aggregate (the
 * filters' refusals, the eviction errors) one element a line; a plain
 * error (the delete path's) "error: msg". */
static void node_error_alone(const struct azl_drain_node *n, struct strbuf *out)
{
	struct leaves l = { NULL, 0 };
	size_t i;

	if (!*n->error.buf)
		return;
	if (n->plain_error && n->reason) {
		strbuf_addf(out, "Error from server (%s): %s\n", n->reason, n->error.buf);
		return;
	}
	if (n->plain_error) {
		strbuf_addf(out, "error: %s\n", n->error.buf);
		return;
	}
	if (n->refused)
		each_message(n, 0, add_leaf, &l);
	for (i = 0; i < n->nr_pods; i++)
		if (n->pods[i].state == AZL_DRAIN_POD_FAILED)
			push_string(&l.v, &l.n, n->pods[i].message);
	for (i = 0; i < l.n; i++)
		strbuf_addf(out, "%s\n", l.v[i]);
	free_strings(l.v, l.n);
}

/* kubectl's final aggregate of the failed nodes' errors: one alone is
 * unwrapped (node_error_alone); several print each node's error, an
 * aggregate as "[a, b]", a line each. */
size_t azl_drain_plan_errors(const struct azl_drain_plan *plan, struct strbuf *out)
{
	const struct azl_drain_node *only = NULL;
	size_t i, failed = 0;

	for (i = 0; i < plan->nr_nodes; i++)
		if (plan->nodes[i].state == AZL_DRAIN_NODE_FAILED) {
			only = &plan->nodes[i];
			failed++;
		}
	if (failed == 1)
		node_error_alone(only, out);
	else
		for (i = 0; i < plan->nr_nodes; i++)
			if (plan->nodes[i].state == AZL_DRAIN_NODE_FAILED)
				strbuf_addf(out, "%s\n", plan->nodes[i].error.buf);
	return failed;
}
