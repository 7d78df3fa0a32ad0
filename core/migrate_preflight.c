/* The preflight of a migration (migrate.h): every item found, ok, warning
 * or blocker, before anything is written (migrate-upgrade.md §A, §B1,
 * §D). */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "maintenance.h"
#include "migrate.h"
#include "num.h"
#include "node.h"
#include "num.h"
#include "pdb.h"
#include "pod.h"
#include "wrapper.h"

#define LIST_MAX 5                   /* names shown in one item */

static void add(struct azl_finding_list *l, enum azl_severity sev, const char *check,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(struct azl_finding_list *l, enum azl_severity sev, const char *check,
		const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	azl_finding_add(l, sev, check, &sb);
	strbuf_release(&sb);
}

static const struct azl_pool *find(const struct azl_pool_list *pools, const char *name)
{
	for (size_t i = 0; i < pools->nr; i++)
		if (!strcasecmp(pools->items[i].name, name))
			return &pools->items[i];
	return NULL;
}

/* Appends name to a list of at most LIST_MAX names, counting the rest. */
static void list_add(struct strbuf *sb, size_t *n, const char *ns, const char *name)
{
	if (*n < LIST_MAX)
		strbuf_addf(sb, "%s%s%s%s", *n ? ", " : "", ns ? ns : "", ns ? "/" : "", name);
	else if (*n == LIST_MAX)
		strbuf_addstr(sb, ", ...");
	(*n)++;
}

/* ---- state ---- */

static void state_checks(const struct azl_cluster *c, const struct azl_pool *p,
			 struct azl_finding_list *out)
{
	if (strcmp(c->provisioning_state, "Succeeded"))
		add(out, AZL_SEVERITY_ERROR, "ClusterState",
		    "cluster %s is %s, not Succeeded: wait for its operation to end or fix it first",
		    c->name, c->provisioning_state);
	if (p && strcmp(p->provisioning_state, "Succeeded"))
		add(out, AZL_SEVERITY_ERROR, "PoolState",
		    "pool %s is %s, not Succeeded%s%s: another operation runs or failed; wait for it or fix it first",
		    p->name, p->provisioning_state, *p->provisioning_error ? ": " : "",
		    p->provisioning_error);
	else if (p)
		add(out, AZL_SEVERITY_INFO, "PoolState", "pool %s and cluster %s are Succeeded",
		    p->name, c->name);
}

/* ---- planned maintenance ---- */

/* A channel that starts AKS operations of its own, and the maintenance
 * configuration that says when (maintenance.h). */
struct channel {
	const char *check, *config, *name, *what;
};

static int channel_active(const struct azl_cluster *c, const struct channel *ch)
{
	if (!strcmp(ch->check, "AutoUpgrade"))
		return *c->upgrade_channel && strcasecmp(c->upgrade_channel, "none");
	return !strcasecmp(c->node_os_upgrade_channel, "NodeImage") ||
	       !strcasecmp(c->node_os_upgrade_channel, "SecurityPatch");
}

static const cJSON *config_named(const cJSON *list, const char *name)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, list)
		if (!strcasecmp(azl_json_str(it, "name", ""), name))
			return it;
	return NULL;
}

/* One channel against its window: no window (AKS may start whenever), one
 * that is open or opens before the move's expected end, or one after it. */
static void window_check(const struct channel *ch, const cJSON *config, time_t now, long minutes,
			 struct azl_finding_list *out)
{
	struct azl_maintenance_window w;
	time_t start, end;
	char from[32], to[32];
	const cJSON *mw = azl_json_path(config, "properties.maintenanceWindow");

	if (!config || !mw) {
		add(out, AZL_SEVERITY_WARNING, ch->check,
		    "%s %s may start an operation at any time during the move (AKS then answers 409): no %s window limits when",
		    ch->what, ch->name, ch->config);
		return;
	}
	if (azl_maintenance_parse(mw, &w)) {
		add(out, AZL_SEVERITY_WARNING, ch->check, "maintenance configuration %s: %s; check when it opens (az aks maintenanceconfiguration show)",
		    ch->config, azl_error_message());
		return;
	}
	if (azl_maintenance_next(&w, now, &start, &end)) {
		add(out, AZL_SEVERITY_INFO, ch->check, "maintenance window %s opens on no day of the next year",
		    ch->config);
	} else {
		azl_format_rfc3339(start, from, sizeof(from));
		azl_format_rfc3339(end, to, sizeof(to));
		if (start <= now)
			add(out, AZL_SEVERITY_WARNING, "MaintenanceWindow",
			    "maintenance window %s is open now (since %s, until %s): %s %s may start an operation during the move (AKS then answers 409); wait until it closes",
			    ch->config, from, to, ch->what, ch->name);
		else if (start < now + minutes * 60)
			add(out, AZL_SEVERITY_WARNING, "MaintenanceWindow",
			    "maintenance window %s opens at %s, within the move's expected %ld min: %s %s may start an operation then (AKS then answers 409); start after it closes at %s",
			    ch->config, from, minutes, ch->what, ch->name, to);
		else
			add(out, AZL_SEVERITY_INFO, "MaintenanceWindow",
			    "maintenance window %s next opens at %s, after the move's expected %ld min",
			    ch->config, from, minutes);
	}
	azl_maintenance_release(&w);
}

/* The cluster auto-upgrade and node OS channels start operations only in
 * their windows when they have one (migrate-upgrade.md §A4 21): "now" is
 * ARM's Date, so a clock that is off here does not move the window. */
static void maintenance_checks(struct azl_arm *arm, const struct azl_cluster *c, long minutes,
			       struct azl_finding_list *out)
{
	const struct channel channels[] = {
		{ "AutoUpgrade", "aksManagedAutoUpgradeSchedule", c->upgrade_channel,
		  "cluster auto-upgrade channel" },
		{ "NodeOSUpgrade", "aksManagedNodeOSUpgradeSchedule", c->node_os_upgrade_channel,
		  "node OS upgrade channel" },
	};
	struct azl_arm_result res = AZL_ARM_RESULT_INIT;
	struct strbuf path = STRBUF_INIT;
	struct azl_arm_request req = { 0 };
	int rc;

	if (!channel_active(c, &channels[0]) && !channel_active(c, &channels[1]))
		return;
	strbuf_addf(&path, "%s/maintenanceConfigurations", c->id);
	req.path = path.buf;
	rc = azl_arm_do(arm, &req, &res);
	if (rc)
		add(out, AZL_SEVERITY_WARNING, "MaintenanceWindow",
		    "the maintenance configurations could not be read (%s): check no window opens during the move (az aks maintenanceconfiguration list)",
		    res.error.len ? res.error.buf : azl_error_message());
	for (size_t i = 0; i < sizeof(channels) / sizeof(channels[0]); i++)
		if (channel_active(c, &channels[i]))
			window_check(&channels[i],
				     rc ? NULL : config_named(azl_json_path(res.json, "value"),
							      channels[i].config),
				     res.date ? res.date : time(NULL), minutes, out);
	azl_arm_result_release(&res);
	strbuf_release(&path);
}

/* ---- target ---- */

static void target_checks(const struct azl_pool *p, const struct azl_migrate_plan *plan,
			  struct azl_finding_list *out)
{
	add(out, AZL_SEVERITY_INFO, "Target", "osSKU %s (%s) is supported on Kubernetes %s",
	    plan->to.os_sku, plan->to.os_name, plan->to.kubernetes_version);
	if (p->gpu)
		add(out, AZL_SEVERITY_WARNING, "GPU",
		    "GPU pool (%s): AKS must offer an Azure Linux GPU image for it; check every new node advertises its GPUs",
		    p->vm_size);
	if (plan->strategy == AZL_MIGRATE_SIDE_BY_SIDE && !strcmp(plan->kind, AZL_MIGRATE_KIND))
		add(out, AZL_SEVERITY_INFO, "Strategy", "%s", plan->why);
}

/* ---- PDBs and workloads ---- */

struct pods_seen {
	struct azl_pod *items;
	size_t nr;
	struct strbuf pinned;        /* pods pinned to the old pool (raw) */
	size_t nr_pinned;
};

struct pod_page {
	struct pods_seen *seen;
	const char *pool;
	const char *os_sku;          /* the old pool's, as its kubernetes.azure.com/os-sku label */
	const struct azl_node_list *nodes;
};

static int on_node(const struct azl_node_list *nodes, const char *node);

/* A label key and value that only the old pool's nodes carry: its name,
 * one of its nodes' hostnames, or its OS SKU (the new pool's differs). */
static int old_only(const struct pod_page *pp, const char *key, const char *value)
{
	if (!strcmp(key, "agentpool") || !strcmp(key, "kubernetes.azure.com/agentpool"))
		return !strcmp(value, pp->pool);
	if (!strcmp(key, "kubernetes.io/hostname"))
		return on_node(pp->nodes, value);
	if (!strcmp(key, "kubernetes.azure.com/os-sku"))
		return !strcmp(value, pp->os_sku);
	return 0;
}

/* A required node-affinity term no node outside the old pool matches: an
 * In expression whose every value only the old pool carries. */
static int term_pinned(const struct pod_page *pp, const cJSON *term)
{
	const cJSON *ex, *v;

	cJSON_ArrayForEach(ex, cJSON_GetObjectItemCaseSensitive(term, "matchExpressions")) {
		const char *key = azl_json_str(ex, "key", "");
		const cJSON *values = cJSON_GetObjectItemCaseSensitive(ex, "values");
		int all = cJSON_GetArraySize(values) > 0;

		if (strcmp(azl_json_str(ex, "operator", ""), "In"))
			continue;
		cJSON_ArrayForEach(v, values)
			all &= cJSON_IsString(v) && old_only(pp, key, v->valuestring);
		if (all)
			return 1;
	}
	return 0;
}

/* A pod only the old pool's nodes can take (issue 19's "pinned"): a node
 * selector on a label only they carry, or required node affinity every
 * term of which (they are ORed) is pinned so. */
static int pinned_to(const struct pod_page *pp, const cJSON *pod)
{
	const cJSON *sel = azl_json_path(pod, "spec.nodeSelector"), *kv, *term;
	const cJSON *terms = azl_json_path(pod, "spec.affinity.nodeAffinity."
					   "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
	int all = cJSON_GetArraySize(terms) > 0;

	cJSON_ArrayForEach(kv, sel)
		if (cJSON_IsString(kv) && old_only(pp, kv->string, kv->valuestring))
			return 1;
	cJSON_ArrayForEach(term, terms)
		all &= term_pinned(pp, term);
	return all;
}

static int on_node(const struct azl_node_list *nodes, const char *node)
{
	for (size_t i = 0; i < nodes->nr; i++)
		if (!strcmp(nodes->items[i].name, node))
			return 1;
	return 0;
}

static int pod_page(cJSON *items, void *ctx)
{
	struct pod_page *pp = ctx;
	const cJSON *it;

	cJSON_ArrayForEach(it, items) {
		struct azl_pod pod;

		if (azl_pod_parse(it, &pod))
			continue;
		if (!on_node(pp->nodes, pod.node) || azl_pod_is_terminal(&pod)) {
			azl_pod_release(&pod);
			continue;
		}
		if (pinned_to(pp, it))
			list_add(&pp->seen->pinned, &pp->seen->nr_pinned, pod.namespace_, pod.name);
		pp->seen->items = xrealloc(pp->seen->items,
					   (pp->seen->nr + 1) * sizeof(*pp->seen->items));
		pp->seen->items[pp->seen->nr++] = pod;
	}
	return 0;
}

static int zero(const struct azl_int_or_percent *v)
{
	return v->set && v->value == 0;
}

static void pdb_checks(const struct azl_pdb_list *pdbs, const struct pods_seen *seen,
		       const struct azl_migrate_plan *plan, struct azl_finding_list *out)
{
	size_t before = out->nr;

	for (size_t i = 0; i < pdbs->nr; i++) {
		const struct azl_pdb *b = &pdbs->items[i];
		size_t covered = 0;

		if (zero(&b->max_unavailable))
			add(out, AZL_SEVERITY_ERROR, "UnsatisfiablePDB",
			    "PDB %s/%s has maxUnavailable 0: AKS refuses the operation (UnsatisfiablePDB); relax it first",
			    b->namespace_, b->name);
		for (size_t k = 0; k < seen->nr; k++)
			covered += azl_pdb_selects(b, &seen->items[k]);
		if (!covered)
			continue;
		if (!zero(&b->max_unavailable) && b->disruptions_allowed <= 0)
			add(out, AZL_SEVERITY_ERROR, "PDBBlocksDrain",
			    "PDB %s/%s allows no disruption now (%ld healthy, %ld desired) and covers %zu pods of pool %s: the drain would stop there; scale the workload up or relax the PDB",
			    b->namespace_, b->name, b->current_healthy, b->desired_healthy, covered,
			    plan->source);
		else if (b->min_available.set && !b->min_available.percent &&
			 b->min_available.value >= b->expected_pods && b->expected_pods > 0)
			add(out, AZL_SEVERITY_ERROR, "PDBMinAvailable",
			    "PDB %s/%s has minAvailable %ld for %ld pods: no pod can ever be evicted",
			    b->namespace_, b->name, b->min_available.value, b->expected_pods);
	}
	for (size_t k = 0; k < seen->nr; k++) {
		size_t n = 0;

		for (size_t i = 0; i < pdbs->nr; i++)
			n += azl_pdb_selects(&pdbs->items[i], &seen->items[k]);
		if (n > 1)
			add(out, AZL_SEVERITY_ERROR, "MultiplePDBs",
			    "pod %s/%s is covered by %zu PDBs: its eviction fails for ever (500); keep one",
			    seen->items[k].namespace_, seen->items[k].name, n);
	}
	if (out->nr == before)
		add(out, AZL_SEVERITY_INFO, "PDBs", "no PodDisruptionBudget blocks the drain");
}

static void workload_checks(const struct pods_seen *seen, const struct azl_migrate_plan *plan,
			    struct azl_finding_list *out)
{
	struct strbuf bare = STRBUF_INIT, empty = STRBUF_INIT, host = STRBUF_INIT, slow = STRBUF_INIT;
	size_t nb = 0, ne = 0, nh = 0, ns = 0;
	long timeout_s = (plan->opts.drain_timeout_min >= 0 ? plan->opts.drain_timeout_min : 30) * 60;

	for (size_t k = 0; k < seen->nr; k++) {
		const struct azl_pod *pod = &seen->items[k];
		const struct azl_owner_ref *c = azl_pod_controller(pod);

		if (azl_pod_is_mirror(pod) || (c && !strcmp(c->kind, "DaemonSet")))
			continue;
		if (!c)
			list_add(&bare, &nb, pod->namespace_, pod->name);
		if (azl_pod_has_volume(pod, AZL_VOLUME_EMPTY_DIR))
			list_add(&empty, &ne, pod->namespace_, pod->name);
		if (azl_pod_has_volume(pod, AZL_VOLUME_HOST_PATH))
			list_add(&host, &nh, pod->namespace_, pod->name);
		if (pod->termination_grace_period_s > timeout_s)
			list_add(&slow, &ns, pod->namespace_, pod->name);
	}
	if (nb)
		add(out, AZL_SEVERITY_WARNING, "UnmanagedPods",
		    "%zu pods no controller recreates are deleted for good: %s", nb, bare.buf);
	if (ne)
		add(out, AZL_SEVERITY_WARNING, "EmptyDirData",
		    "%zu pods lose their emptyDir data: %s", ne, empty.buf);
	if (nh)
		add(out, AZL_SEVERITY_WARNING, "HostPath",
		    "%zu pods mount hostPath volumes, whose files and packages differ on Azure Linux: %s",
		    nh, host.buf);
	if (ns)
		add(out, AZL_SEVERITY_WARNING, "GracePeriod",
		    "%zu pods take longer to stop than the drain timeout (%ld min): %s", ns,
		    timeout_s / 60, slow.buf);
	if (seen->nr_pinned && plan->strategy == AZL_MIGRATE_SIDE_BY_SIDE &&
	    !strcmp(plan->kind, AZL_MIGRATE_KIND))
		add(out, AZL_SEVERITY_ERROR, "PinnedPods",
		    "%zu pods select pool %s (or its nodes) and would stay Pending after it goes: %s",
		    seen->nr_pinned, plan->source, seen->pinned.buf);
	if (!nb && !ne && !nh && !ns)
		add(out, AZL_SEVERITY_INFO, "Workloads", "%zu pods on the pool, every one recreated by its controller",
		    seen->nr);
	strbuf_release(&bare);
	strbuf_release(&empty);
	strbuf_release(&host);
	strbuf_release(&slow);
}

static void release_seen(struct pods_seen *seen)
{
	for (size_t i = 0; i < seen->nr; i++)
		azl_pod_release(&seen->items[i]);
	free(seen->items);
	strbuf_release(&seen->pinned);
}

static void other_nodes(const struct azl_node_list *all, struct azl_finding_list *out)
{
	struct strbuf names = STRBUF_INIT;
	size_t n = 0;

	for (size_t i = 0; i < all->nr; i++)
		if (!*all->items[i].pool)
			list_add(&names, &n, NULL, all->items[i].name);
	if (n)
		add(out, AZL_SEVERITY_WARNING, "UnmanagedNodes",
		    "%zu nodes belong to no agent pool (node auto-provisioning, Karpenter) and are skipped: %s",
		    n, names.buf);
	strbuf_release(&names);
}

static int has_str(const cJSON *arr, const char *const *want)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, arr)
		for (size_t i = 0; want[i]; i++)
			if (cJSON_IsString(it) && !strcmp(it->valuestring, want[i]))
				return 1;
	return 0;
}

/* A rule that sends evictions to the webhook: the core group, CREATE, and
 * a resource pattern that takes in the pods/eviction subresource ("*"
 * alone does not: it means every resource but no subresource). */
static int covers_eviction(const cJSON *rule)
{
	static const char *const groups[] = { "", "*", NULL };
	static const char *const ops[] = { "CREATE", "*", NULL };
	static const char *const res[] = { "pods/eviction", "*/eviction", "pods/*", "*/*", NULL };

	return has_str(cJSON_GetObjectItemCaseSensitive(rule, "apiGroups"), groups) &&
	       has_str(cJSON_GetObjectItemCaseSensitive(rule, "operations"), ops) &&
	       has_str(cJSON_GetObjectItemCaseSensitive(rule, "resources"), res);
}

struct hooks_seen {
	struct strbuf names;
	size_t n;
};

static int webhook_page(cJSON *items, void *ctx)
{
	struct hooks_seen *h = ctx;
	const cJSON *cfg, *hook, *rule;

	cJSON_ArrayForEach(cfg, items) {
		cJSON_ArrayForEach(hook, cJSON_GetObjectItemCaseSensitive(cfg, "webhooks")) {
			int hit = 0;

			cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(hook, "rules"))
				hit |= covers_eviction(rule);
			if (hit)
				list_add(&h->names, &h->n, azl_json_str(cfg, "metadata.name", "?"),
					 azl_json_str(hook, "name", "?"));
		}
	}
	return 0;
}

/* Validating admission webhooks on pods/eviction (migrate-upgrade.md §A):
 * each may refuse the drain's evictions whatever the PDBs allow. */
static void webhook_checks(struct azl_kube *kube, struct azl_finding_list *out)
{
	struct hooks_seen h = { STRBUF_INIT, 0 };

	if (azl_kube_list_pages(kube, "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
				NULL, 0, webhook_page, &h))
		add(out, AZL_SEVERITY_WARNING, "EvictionWebhooks",
		    "admission webhooks could not be listed (%s): check none refuses pods/eviction (kubectl get validatingwebhookconfigurations)",
		    azl_error_message());
	else if (h.n)
		add(out, AZL_SEVERITY_WARNING, "EvictionWebhooks",
		    "%zu admission webhooks see every pods/eviction and may refuse the drain's evictions whatever the PDBs allow: %s",
		    h.n, h.names.buf);
	strbuf_release(&h.names);
}

static int kube_checks(struct azl_kube *kube, const struct azl_migrate_plan *plan,
		       struct azl_finding_list *out)
{
	struct azl_node_list nodes = { 0 }, all = { 0 };
	struct azl_pdb_list pdbs = { 0 };
	struct pods_seen seen = { NULL, 0, STRBUF_INIT, 0 };
	struct pod_page pp = { &seen, plan->source, plan->from.os_sku, &nodes };
	int rc = azl_node_list(kube, NULL, plan->source, &nodes);

	if (!rc && !strcmp(plan->kind, AZL_MIGRATE_KIND))
		rc = azl_kube_list_pages(kube, "/api/v1/pods", NULL, 0, pod_page, &pp);
	if (!rc)
		rc = azl_pdb_list(kube, NULL, &pdbs);
	if (!rc && !azl_node_list_brief(kube, &all))
		other_nodes(&all, out);
	if (!rc && !strcmp(plan->kind, AZL_MIGRATE_KIND)) {
		pdb_checks(&pdbs, &seen, plan, out);
		webhook_checks(kube, out);
		workload_checks(&seen, plan, out);
	}
	release_seen(&seen);
	azl_pdb_list_release(&pdbs);
	azl_node_list_release(&nodes);
	azl_node_list_release(&all);
	return rc;
}

/* ---- capacity ---- */

/* vCPUs of a size from its name: Standard_D4ds_v5 -> 4 (the first number
 * of its series part); 0 when none. */
static long size_vcpus(const char *size)
{
	const char *s = strchr(size, '_');

	s = s ? s + 1 : size;
	while (*s && !isdigit((unsigned char)*s) && *s != '_')
		s++;
	return isdigit((unsigned char)*s) ? strtol(s, NULL, 10) : 0;
}

static long surge_nodes(const char *surge, long count)
{
	long v;

	if (!surge || !*surge)
		surge = "10%";
	v = strtol(surge, NULL, 10);
	if (strchr(surge, '%'))
		v = (v * count + 99) / 100;
	if (v < 1)
		v = 1;
	return v > count && count > 0 ? count : v;
}

/* Nodes the move adds at once: the surge in place, the new pool side by
 * side. */
static long added_nodes(const struct azl_pool *p, const struct azl_migrate_plan *plan)
{
	long count = p->count > 0 ? p->count : 1;

	if (plan->strategy == AZL_MIGRATE_SIDE_BY_SIDE)
		return plan->new_pool.count;
	return surge_nodes(plan->opts.max_surge ? plan->opts.max_surge : p->max_surge, count);
}

long azl_migrate_expected_minutes(const struct azl_migrate_plan *plan, const struct azl_pool *p)
{
	long soak = plan->opts.node_soak_min >= 0 ? plan->opts.node_soak_min
		    : azl_json_int(p->properties, "upgradeSettings.nodeSoakDurationInMinutes", 0);
	long count = p->count > 0 ? p->count : 1;
	long surge = added_nodes(p, plan);

	if (strcmp(plan->kind, AZL_MIGRATE_KIND))
		return AZL_MIGRATE_MINUTES_BATCH;
	if (plan->strategy == AZL_MIGRATE_SIDE_BY_SIDE)
		return AZL_MIGRATE_MINUTES_BATCH + count * (AZL_MIGRATE_MINUTES_DRAIN + soak);
	return ((count + surge - 1) / surge) * (AZL_MIGRATE_MINUTES_BATCH + soak);
}

static void quota_check(const cJSON *usages, const char *name, long need,
			struct azl_finding_list *out, int *checked)
{
	const cJSON *u;

	cJSON_ArrayForEach(u, usages) {
		long cur = azl_json_int(u, "currentValue", 0), limit = azl_json_int(u, "limit", 0);

		if (strcasecmp(azl_json_str(u, "name.value", ""), name))
			continue;
		*checked = 1;
		if (cur + need > limit)
			add(out, AZL_SEVERITY_ERROR, "Quota",
			    "%s: %ld vCPUs more are needed and %ld of %ld are used: ask for more quota (az vm list-usage) or lower --max-surge",
			    azl_json_str(u, "name.localizedValue", name), need, cur, limit);
		else
			add(out, AZL_SEVERITY_INFO, "Quota", "%s: %ld vCPUs needed, %ld of %ld used",
			    azl_json_str(u, "name.localizedValue", name), need, cur, limit);
	}
}

/* The Compute usage name of a size's family as Azure spells most:
 * Standard_D4ds_v5 -> standardDDSv5Family, Standard_NC24ads_A100_v4 ->
 * standardNCADSA100v4Family (migrate-upgrade.md §D2: the Resource SKUs
 * list names it exactly; a size spelt otherwise finds no usage and the
 * item says so). */
static void vm_family(const char *size, struct strbuf *out)
{
	const char *s = strchr(size, '_');
	int digits = 0, seen = 0;

	strbuf_addstr(out, "standard");
	for (s = s ? s + 1 : size; *s && *s != '_'; s++) {
		if (isdigit((unsigned char)*s) && (!seen || digits)) {
			seen = digits = 1;
			continue;
		}
		digits = 0;
		strbuf_addch(out, (char)toupper((unsigned char)*s));
	}
	for (; *s; s++)
		if (*s != '_')
			strbuf_addch(out, *s);
	strbuf_addstr(out, "Family");
}

/* The IPs one new node takes on its node subnet and on its pod subnet
 * (migrate-upgrade.md §D5): Azure CNI without overlay or pod subnet gives
 * every pod a node-subnet IP, 1 + maxPods (30 by default there); kubenet,
 * overlay and pod-subnet clusters take one for the node. A pod subnet
 * reserves a batch of 16 at startup (dynamic), or the node's whole block of
 * 16s for maxPods + 1 (podIPAllocationMode StaticBlock). */
static long node_subnet_ips(const struct azl_cluster *c, const struct azl_pool *p)
{
	long max_pods = azl_json_int(p->properties, "maxPods", 30);

	if (!strcasecmp(c->network_plugin, "azure") && strcasecmp(c->network_plugin_mode, "overlay") &&
	    !*azl_json_str(p->properties, "podSubnetID", ""))
		return azl_num_add(1, max_pods);
	return 1;
}

static long pod_subnet_ips(const struct azl_pool *p)
{
	long max_pods = azl_json_int(p->properties, "maxPods", 110);

	if (!strcasecmp(azl_json_str(p->properties, "podIPAllocationMode", ""), "StaticBlock"))
		return azl_num_mul((azl_num_add(max_pods, 1) + 15) / 16, 16);
	return 16;
}

/* One subnet (its id from the pool's vnetSubnetID or podSubnetID), from
 * the VNet usages (§D4): room for need more IPs. No subnet named (a
 * managed VNet): not checked. */
static void subnet_check(struct azl_arm *arm, const char *sid, const char *what, long nodes,
			 long need, struct azl_finding_list *out)
{
	const char *cut = strstr(sid, "/subnets/");
	struct strbuf path = STRBUF_INIT;
	cJSON *usages = NULL;
	const cJSON *u;
	int found = 0;

	if (!cut)
		return;
	strbuf_add(&path, sid, (size_t)(cut - sid));
	strbuf_addstr(&path, "/usages?api-version=2024-05-01");
	if (azl_arm_list(arm, path.buf, &usages)) {
		add(out, AZL_SEVERITY_WARNING, "SubnetIPs",
		    "the usage of %s %s could not be read (%s): check it has %ld free IPs", what, sid,
		    azl_error_message(), need);
		strbuf_release(&path);
		return;
	}
	cJSON_ArrayForEach(u, usages) {
		long cur = azl_json_int(u, "currentValue", 0), limit = azl_json_int(u, "limit", -1);

		if (strcasecmp(azl_json_str(u, "id", ""), sid) || limit < 0)
			continue;
		found = 1;
		if (cur + need > limit)
			add(out, AZL_SEVERITY_ERROR, "SubnetIPs",
			    "%s %s has %ld of %ld IPs used and the %ld new nodes need %ld more: AKS would fail with SubnetIsFull; free addresses or lower --max-surge",
			    what, cut + 9, cur, limit, nodes, need);
		else
			add(out, AZL_SEVERITY_INFO, "SubnetIPs", "%s %s: %ld IPs needed, %ld of %ld used",
			    what, cut + 9, need, cur, limit);
	}
	if (!found)
		add(out, AZL_SEVERITY_WARNING, "SubnetIPs",
		    "the usages of the VNet do not list %s %s: check it has %ld free IPs", what, sid, need);
	cJSON_Delete(usages);
	strbuf_release(&path);
}

static void subnet_checks(struct azl_arm *arm, const struct azl_cluster *c,
			  const struct azl_pool *p, long nodes, struct azl_finding_list *out)
{
	subnet_check(arm, azl_json_str(p->properties, "vnetSubnetID", ""), "subnet", nodes,
		     azl_num_mul(nodes, node_subnet_ips(c, p)), out);
	subnet_check(arm, azl_json_str(p->properties, "podSubnetID", ""), "pod subnet", nodes,
		     azl_num_mul(nodes, pod_subnet_ips(p)), out);
}

static int is_spot(const struct azl_pool *p)
{
	return !strcasecmp(azl_json_str(p->properties, "scaleSetPriority", ""), "Spot");
}

/* The vCPUs pools[i] need for nodes[i] more nodes each, at once: spot
 * ones (spot != 0) or the others, of family (NULL: any). */
static long vcpus_needed(const struct azl_pool *const *pools, const long *nodes, size_t n,
			 int spot, const char *family)
{
	struct strbuf f = STRBUF_INIT;
	long need = 0;

	for (size_t i = 0; i < n; i++) {
		strbuf_reset(&f);
		vm_family(pools[i]->vm_size, &f);
		if (is_spot(pools[i]) == spot && (!family || !strcmp(f.buf, family)))
			need = azl_num_add(need, azl_num_mul(nodes[i], size_vcpus(pools[i]->vm_size)));
	}
	strbuf_release(&f);
	return need;
}

/* The regional quota (cores, lowPriorityCores for spot) and each family's
 * for the new nodes of every pool at once, from one read of the usages. */
static void quota_checks(struct azl_arm *arm, const struct azl_cluster *c,
			 const struct azl_pool *const *pools, const long *nodes, size_t n,
			 struct azl_finding_list *out)
{
	long need = vcpus_needed(pools, nodes, n, 0, NULL), spot = vcpus_needed(pools, nodes, n, 1, NULL);
	struct strbuf path = STRBUF_INIT, family = STRBUF_INIT;
	cJSON *usages = NULL;
	int checked = 0;

	strbuf_addf(&path, "/subscriptions/%s/providers/Microsoft.Compute/locations/%s/usages?api-version=2024-11-01",
		    c->subscription, c->location);
	if ((!need && !spot) || azl_arm_list(arm, path.buf, &usages)) {
		add(out, AZL_SEVERITY_WARNING, "Quota",
		    "the vCPU quota could not be read (%s): check az vm list-usage --location %s for %ld more %s nodes",
		    need || spot ? azl_error_message() : "unknown VM size", c->location, nodes[0],
		    pools[0]->vm_size);
		strbuf_release(&path);
		return;
	}
	if (need)
		quota_check(usages, "cores", need, out, &checked);
	if (spot)
		quota_check(usages, "lowPriorityCores", spot, out, &checked);
	if (!checked)
		add(out, AZL_SEVERITY_WARNING, "Quota",
		    "no regional vCPU quota in the usages of %s: check it for %ld vCPUs", c->location,
		    azl_num_add(need, spot));
	for (size_t i = 0; i < n; i++) {
		long fneed;
		int seen = 0;

		strbuf_reset(&family);
		vm_family(pools[i]->vm_size, &family);
		/* each family once, at its first pool; spot nodes count against none */
		for (size_t k = 0; k < i && !seen; k++) {
			struct strbuf f = STRBUF_INIT;

			vm_family(pools[k]->vm_size, &f);
			seen = !is_spot(pools[k]) && !strcmp(f.buf, family.buf);
			strbuf_release(&f);
		}
		if (seen || is_spot(pools[i]))
			continue;
		fneed = vcpus_needed(pools, nodes, n, 0, family.buf);
		checked = 0;
		quota_check(usages, family.buf, fneed, out, &checked);
		if (!checked)
			add(out, AZL_SEVERITY_WARNING, "Quota",
			    "no %s quota in the usages of %s: check az vm list-usage --location %s for %ld vCPUs of %s",
			    family.buf, c->location, c->location, fneed, pools[i]->vm_size);
	}
	cJSON_Delete(usages);
	strbuf_release(&path);
	strbuf_release(&family);
}

/* The surge a rolling upgrade of p adds (max_surge NULL: the pool's). */
static long rolling_surge(const struct azl_pool *p, const char *max_surge)
{
	return surge_nodes(max_surge ? max_surge : p->max_surge, p->count > 0 ? p->count : 1);
}

static void capacity_checks(struct azl_arm *arm, const struct azl_cluster *c,
			    const struct azl_pool *p, const struct azl_migrate_plan *plan,
			    struct azl_finding_list *out)
{
	long nodes = plan->new_pool.count;

	if (plan->strategy != AZL_MIGRATE_SIDE_BY_SIDE) {
		azl_preflight_surge_capacity_many(arm, c, &p, 1, plan->opts.max_surge, out);
		return;
	}
	if (nodes > AZL_POOL_MAX_NODES)
		add(out, AZL_SEVERITY_ERROR, "NodeLimit",
		    "pool %s would pass the %d nodes a scale set holds", p->name, AZL_POOL_MAX_NODES);
	subnet_checks(arm, c, p, nodes, out);
	quota_checks(arm, c, &p, &nodes, 1, out);
}

/* ---- shape ---- */

static size_t system_pools(const struct azl_pool_list *pools)
{
	size_t n = 0;

	for (size_t i = 0; i < pools->nr; i++)
		n += !strcasecmp(pools->items[i].mode, "System");
	return n;
}

static void shape_checks(const struct azl_pool *p, const struct azl_pool_list *pools,
			 const struct azl_migrate_plan *plan, struct azl_finding_list *out)
{
	int side = plan->strategy == AZL_MIGRATE_SIDE_BY_SIDE && !strcmp(plan->kind, AZL_MIGRATE_KIND);

	if (p->nr_not_ready)
		add(out, AZL_SEVERITY_WARNING, "NotReadyNodes",
		    "%zu nodes of pool %s are not Ready (%s%s): their pods are not serving anyway%s",
		    p->nr_not_ready, p->name, p->not_ready[0], p->nr_not_ready > 1 ? ", ..." : "",
		    side ? "; the move replaces them" : "");
	if (side && !strcasecmp(p->mode, "System") && strcasecmp(plan->new_pool.mode, "System") &&
	    system_pools(pools) <= 1)
		add(out, AZL_SEVERITY_ERROR, "SystemPool",
		    "pool %s is the last System pool: its replacement must be a System pool", p->name);
	else if (side && !strcasecmp(p->mode, "System"))
		add(out, AZL_SEVERITY_INFO, "SystemPool",
		    "the new pool %s is a System pool: the cluster keeps one throughout",
		    plan->new_pool.name);
	if (side && p->autoscaling)
		add(out, AZL_SEVERITY_WARNING, "Autoscaler",
		    "pool %s autoscales (%ld-%ld): its autoscaler is stopped before the drain so it adds no node",
		    p->name, p->min_count, p->max_count);
}

/* The cluster's node and pool limits at the move's peak: the surge in
 * place, the old pool and the whole new one side by side. */
void azl_migrate_check_cluster_limits(const struct azl_cluster *c, const struct azl_pool_list *pools,
				      const struct azl_migrate_plan *plan, struct azl_finding_list *out)
{
	const struct azl_pool *p = find(pools, plan->source);
	long now = 0, peak, limit = azl_cluster_node_limit(c);
	int side = plan->strategy == AZL_MIGRATE_SIDE_BY_SIDE;

	if (!p)
		return;

	for (size_t i = 0; i < pools->nr; i++)
		now = azl_num_add(now, pools->items[i].count);
	peak = azl_num_add(now, added_nodes(p, plan));
	if (side && (long)pools->nr + 1 > c->max_agent_pools)
		add(out, AZL_SEVERITY_ERROR, "PoolLimit",
		    "cluster %s has %zu node pools and AKS allows %ld: the new pool cannot be created; delete a pool first",
		    c->name, pools->nr, c->max_agent_pools);
	if (peak > limit)
		add(out, AZL_SEVERITY_ERROR, "ClusterNodeLimit",
		    "cluster %s would have %ld nodes during the move (%ld now and %ld new), past AKS's %ld a cluster on the %s tier: %s",
		    c->name, peak, now, peak - now, limit, c->sku_tier,
		    limit < AZL_CLUSTER_MAX_NODES ? "lower --max-surge, scale other pools down, or move the cluster to the Standard tier"
						  : "lower --max-surge or scale other pools down first");
	else if (peak * 10 > limit * 9)
		add(out, AZL_SEVERITY_WARNING, "ClusterNodeLimit",
		    "cluster %s would have %ld nodes during the move, near AKS's %ld a cluster on the %s tier: the autoscaler or another pool's growth may pass it",
		    c->name, peak, limit, c->sku_tier);
	else if (peak > AZL_CLUSTER_MAX_NODES_FREE && now <= AZL_CLUSTER_MAX_NODES_FREE)
		add(out, AZL_SEVERITY_WARNING, "ClusterNodeLimit",
		    "cluster %s would pass %d nodes during the move (%ld): AKS needs the cluster's node limit raised past %d (a support request) unless it was",
		    c->name, AZL_CLUSTER_MAX_NODES_FREE, peak, AZL_CLUSTER_MAX_NODES_FREE);
	else
		add(out, AZL_SEVERITY_INFO, "ClusterNodeLimit",
		    "cluster %s: %ld nodes at most during the move, of AKS's %ld", c->name, peak, limit);
}

int azl_migrate_preflight(struct azl_arm *arm, struct azl_kube *kube,
			  const struct azl_cluster *c, const struct azl_pool_list *pools,
			  struct azl_migrate_plan *plan)
{
	const struct azl_pool *p = find(pools, plan->source);
	struct azl_finding_list *out = &plan->preflight;

	if (!p)
		return azl_error_set(AZL_ENOTFOUND, "no node pool %s in cluster %s", plan->source,
				     c->name);
	state_checks(c, !strcmp(plan->kind, AZL_MIGRATE_KIND) ? p : NULL, out);
	maintenance_checks(arm, c, azl_migrate_expected_minutes(plan, p), out);
	target_checks(p, plan, out);
	if (!kube)
		add(out, AZL_SEVERITY_WARNING, "Kubernetes",
		    "the Kubernetes API could not be read: PDBs and workloads are not checked");
	else if (kube_checks(kube, plan, out))
		add(out, AZL_SEVERITY_WARNING, "Kubernetes",
		    "the Kubernetes API could not be read (%s): PDBs and workloads are not checked",
		    azl_error_message());
	capacity_checks(arm, c, p, plan, out);
	azl_migrate_check_cluster_limits(c, pools, plan, out);
	shape_checks(p, pools, plan, out);
	return 0;
}

void azl_preflight_surge_capacity_many(struct azl_arm *arm, const struct azl_cluster *c,
				       const struct azl_pool *const *pools, size_t n,
				       const char *max_surge, struct azl_finding_list *out)
{
	long *nodes = xcalloc(n ? n : 1, sizeof(*nodes));

	for (size_t i = 0; i < n; i++) {
		nodes[i] = rolling_surge(pools[i], max_surge);
		if ((pools[i]->count > 0 ? pools[i]->count : 1) + nodes[i] > AZL_POOL_MAX_NODES)
			add(out, AZL_SEVERITY_ERROR, "NodeLimit",
			    "pool %s would pass the %d nodes a scale set holds", pools[i]->name,
			    AZL_POOL_MAX_NODES);
		subnet_checks(arm, c, pools[i], nodes[i], out);
	}
	if (n)
		quota_checks(arm, c, pools, nodes, n, out);
	free(nodes);
}

void azl_preflight_surge_capacity(struct azl_arm *arm, const struct azl_cluster *c,
				  const struct azl_pool *p, const char *max_surge,
				  struct azl_finding_list *out)
{
	azl_preflight_surge_capacity_many(arm, c, &p, 1, max_surge, out);
}
