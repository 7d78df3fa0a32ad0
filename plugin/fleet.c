#include "fleet.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "error.h"
#include "json.h"
#include "print.h"
#include "progress.h"
#include "wrapper.h"

static void add_context(struct cli_fleet *f, const char *name, size_t len)
{
	f->items = xrealloc(f->items, (f->nr + 1) * sizeof(*f->items));
	azl_inspection_init(&f->items[f->nr++], name, len);
}

static int list_contexts(const struct azl_kubeconfig *kc, const struct cli_cluster_flags *cf,
			 struct cli_fleet *f)
{
	const char *p = cf->contexts;

	f->multi = 1;
	if (cf->all_contexts) {
		int rc = azl_kubeconfig_require_contexts(kc);

		if (rc)
			return rc;
		for (size_t i = 0; i < azl_kubeconfig_context_count(kc); i++) {
			const char *name = azl_kubeconfig_context_name(kc, i);

			add_context(f, name, strlen(name));
		}
		return 0;
	}
	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len)
			add_context(f, p, len);
		p += len + (p[len] == ',');
	}
	if (!f->nr)
		return azl_error_set(AZL_EINVALID, "--contexts needs at least one context name");
	return 0;
}

static int check_flags(const struct cli_global_flags *g, const struct cli_cluster_flags *cf)
{
	int multi = cf->all_contexts || cf->contexts;

	if (cf->all_contexts && cf->contexts)
		return azl_error_set(AZL_EINVALID, "--all-contexts and --contexts cannot be used together");
	if (multi && g->context)
		return azl_error_set(AZL_EINVALID,
				     "--context cannot be used with --all-contexts or --contexts");
	if (multi && cf->name)
		return azl_error_set(AZL_EINVALID,
				     "--name picks one cluster: it cannot be used with --all-contexts or --contexts");
	if (cf->name && !cf->resource_group)
		return azl_error_set(AZL_EINVALID, "--name needs --resource-group");
	return 0;
}

static void warn_mismatches(const struct cli_fleet *f)
{
	for (size_t i = 0; i < f->nr; i++) {
		const struct azl_cluster *c = &f->items[i].cluster;

		if (!f->items[i].rc && !c->serves_context)
			cli_warning("context %s does not talk to cluster %s's API server (%s): "
				    "the nodes shown are the context's", f->items[i].context, c->name,
				    *c->fqdn ? c->fqdn : c->private_fqdn);
	}
}

static void show_progress(size_t done, size_t total, const struct azl_inspection *last,
			  void *data)
{
	if (total > 1)
		cli_progress_update(data, "inspected %zu of %zu contexts (%s%s)", done, total,
				    last->context, last->rc ? ": failed" : "");
}

/* Waits over a second show progress on stderr; shorter ones show none. */
static int inspect_with_progress(struct azl_inspect_options *o, struct cli_fleet *f,
				 const char *context)
{
	struct cli_progress *progress = NULL;
	int rc;

	cli_progress_new_delayed(&progress, stderr, 1000);
	if (f->multi)
		cli_progress_update(progress, "inspecting %zu contexts", f->nr);
	else
		cli_progress_update(progress, "inspecting context %s", context ? context : "");
	o->progress = show_progress;
	o->progress_data = progress;
	rc = azl_inspect_contexts(o, f->items, f->nr);
	cli_progress_clear(progress);
	cli_progress_free(progress);
	return rc;
}

/* 0 when every context was attempted; an error when none could be. */
static int fleet_inspect(const struct cli_global_flags *g, const struct cli_cluster_flags *cf,
			 const char *const *pools, size_t nr_pools, struct cli_fleet *out)
{
	struct azl_kube_overrides ov;
	struct azl_inspect_options o = {
		.overrides = &ov, .subscription = cf->subscription,
		.resource_group = cf->resource_group, .name = cf->name,
		.pools = pools, .nr_pools = nr_pools,
	};
	struct azl_kubeconfig *kc = NULL;
	struct azl_auth *auth = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_flags(g, cf);
	if (!rc)
		rc = cli_global_flags_overrides(g, &ov);
	if (!rc)
		rc = cli_global_flags_arm_timeout(g, &o.arm_timeout_ms);
	if (!rc)
		rc = azl_kubeconfig_load(&kc, g->kubeconfig);
	if (!rc && (cf->all_contexts || cf->contexts))
		rc = list_contexts(kc, cf, out);
	else if (!rc)
		add_context(out, NULL, 0);
	if (!rc)
		rc = cli_auth_open(&auth, &cf->az);
	if (!rc) {
		o.kubeconfig = kc;
		o.auth = auth;
		rc = inspect_with_progress(&o, out, g->context ? g->context :
					   azl_kubeconfig_current_context(kc));
	}
	if (!rc)
		warn_mismatches(out);
	azl_auth_free(auth);
	azl_kubeconfig_free(kc);
	if (rc)
		cli_fleet_release(out);
	return rc;
}

void cli_fleet_release(struct cli_fleet *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nr; i++)
		azl_inspection_release(&f->items[i]);
	free(f->items);
	memset(f, 0, sizeof(*f));
}

/* When the one context (not a fleet) failed: prints "error: <why>" and
 * returns the exit status; else 0. */
static int report_single(const struct cli_fleet *f)
{
	if (f->multi || !f->items[0].rc)
		return 0;
	azl_error_set(f->items[0].rc, "%s", f->items[0].error.buf);
	return cli_error_report();
}

int cli_fleet_inspect_or_report(const struct cli_global_flags *g, const struct cli_cluster_flags *cf,
				const char *const *pools, size_t nr_pools, struct cli_fleet *out)
{
	int rc;

	if (fleet_inspect(g, cf, pools, nr_pools, out) < 0)
		return cli_error_report();
	rc = report_single(out);
	if (rc)
		cli_fleet_release(out);
	return rc;
}

size_t cli_fleet_failures(const struct cli_fleet *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->nr; i++)
		n += f->items[i].rc != 0;
	return n;
}

/* ---- the -o json/yaml tree (documented in the README; add keys only) ---- */

static void add_strs(cJSON *obj, const char *key, char *const *items, size_t nr)
{
	cJSON *array = cJSON_AddArrayToObject(obj, key);

	for (size_t i = 0; i < nr; i++)
		cJSON_AddItemToArray(array, cJSON_CreateString(items[i]));
}

static cJSON *cluster_json(const struct azl_cluster *c)
{
	cJSON *o = cJSON_CreateObject();

	azl_json_add_str_or_null(o, "id", c->id);
	azl_json_add_str_or_null(o, "name", c->name);
	azl_json_add_str_or_null(o, "resourceGroup", c->resource_group);
	azl_json_add_str_or_null(o, "subscription", c->subscription);
	azl_json_add_str_or_null(o, "location", c->location);
	azl_json_add_str_or_null(o, "kubernetesVersion", c->kubernetes_version);
	azl_json_add_str_or_null(o, "fqdn", c->fqdn);
	azl_json_add_str_or_null(o, "currentKubernetesVersion", c->current_kubernetes_version);
	azl_json_add_str_or_null(o, "privateFQDN", c->private_fqdn);
	azl_json_add_str_or_null(o, "nodeResourceGroup", c->node_resource_group);
	azl_json_add_str_or_null(o, "provisioningState", c->provisioning_state);
	azl_json_add_str_or_null(o, "powerState", c->power_state);
	azl_json_add_str_or_null(o, "upgradeChannel", c->upgrade_channel);
	azl_json_add_str_or_null(o, "nodeOSUpgradeChannel", c->node_os_upgrade_channel);
	add_strs(o, "kubernetesUpgrades", c->upgrades, c->nr_upgrades);
	return o;
}

static cJSON *findings_json(const struct azl_finding_list *list)
{
	cJSON *array = cJSON_CreateArray();

	for (size_t i = 0; i < list->nr; i++) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "severity", azl_severity_name(list->items[i].severity));
		cJSON_AddStringToObject(f, "code", list->items[i].code);
		cJSON_AddStringToObject(f, "message", list->items[i].message);
		cJSON_AddItemToArray(array, f);
	}
	return array;
}

static cJSON *pool_json(const struct azl_pool *p)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *scale;

	azl_json_add_str_or_null(o, "name", p->name);
	azl_json_add_str_or_null(o, "mode", p->mode);
	azl_json_add_str_or_null(o, "osType", p->os_type);
	azl_json_add_str_or_null(o, "osSku", p->os_sku);
	azl_json_add_str_or_null(o, "osVersion", p->os.version);
	azl_json_add_str_or_null(o, "vmSize", p->vm_size);
	cJSON_AddNumberToObject(o, "count", (double)p->count);
	cJSON_AddNumberToObject(o, "readyNodes", (double)p->ready_nodes);
	azl_json_add_str_or_null(o, "kubernetesVersion", p->kubernetes_version);
	azl_json_add_str_or_null(o, "nodeImageVersion", p->node_image_version);
	azl_json_add_str_or_null(o, "latestNodeImageVersion", p->latest_node_image_version);
	azl_json_add_str_or_null(o, "provisioningState", p->provisioning_state);
	azl_json_add_str_or_null(o, "powerState", p->power_state);
	cJSON_AddBoolToObject(o, "gpu", p->gpu);
	cJSON_AddItemToObject(o, "findings", findings_json(&p->findings));
	azl_json_add_str_or_null(o, "os", p->os.name);
	cJSON_AddNumberToObject(o, "nodes", (double)p->nodes);
	scale = cJSON_AddObjectToObject(o, "autoscaling");
	cJSON_AddBoolToObject(scale, "enabled", p->autoscaling);
	if (p->autoscaling) {
		cJSON_AddNumberToObject(scale, "minCount", (double)p->min_count);
		cJSON_AddNumberToObject(scale, "maxCount", (double)p->max_count);
	}
	azl_json_add_str_or_null(o, "availabilityZones", p->zones);
	azl_json_add_str_or_null(o, "maxSurge", p->max_surge);
	add_strs(o, "kubernetesUpgrades", p->upgrades, p->nr_upgrades);
	return o;
}

static void add_inspection(cJSON *o, const struct azl_inspection *ins)
{
	cJSON *pools;

	cJSON_AddItemToObject(o, "cluster", cluster_json(&ins->cluster));
	pools = cJSON_AddArrayToObject(o, "pools");
	for (size_t i = 0; i < ins->pools.nr; i++)
		cJSON_AddItemToArray(pools, pool_json(&ins->pools.items[i]));
}

struct tally {
	size_t clusters, pools, azl2, ubuntu, azl3, windows, other, failed;
};

static int seen_before(const struct cli_fleet *f, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (!f->items[k].rc && !strcasecmp(f->items[k].cluster.id, f->items[i].cluster.id))
			return 1;
	return 0;
}

/* Two contexts for one cluster (user and admin) count it once. */
static void count(const struct cli_fleet *f, struct tally *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < f->nr; i++) {
		const struct azl_inspection *ins = &f->items[i];

		if (ins->rc) {
			t->failed++;
			continue;
		}
		if (seen_before(f, i))
			continue;
		t->clusters++;
		for (size_t k = 0; k < ins->pools.nr; k++) {
			const struct azl_os_info *os = &ins->pools.items[k].os;

			t->pools++;
			if (azl_os_retired(os))
				t->azl2++;
			else if (os->family == AZL_OS_AZURE_LINUX && !strcmp(os->version, "3.0"))
				t->azl3++;
			else if (os->family == AZL_OS_UBUNTU)
				t->ubuntu++;
			else if (os->family == AZL_OS_WINDOWS)
				t->windows++;
			else
				t->other++;
		}
	}
}

static cJSON *summary_json(const struct cli_fleet *f)
{
	cJSON *o = cJSON_CreateObject();
	struct tally t;

	count(f, &t);
	cJSON_AddNumberToObject(o, "contexts", (double)f->nr);
	cJSON_AddNumberToObject(o, "failedContexts", (double)t.failed);
	cJSON_AddNumberToObject(o, "clusters", (double)t.clusters);
	cJSON_AddNumberToObject(o, "pools", (double)t.pools);
	cJSON_AddNumberToObject(o, "azureLinux2", (double)t.azl2);
	cJSON_AddNumberToObject(o, "ubuntu", (double)t.ubuntu);
	cJSON_AddNumberToObject(o, "azureLinux3", (double)t.azl3);
	cJSON_AddNumberToObject(o, "windows", (double)t.windows);
	cJSON_AddNumberToObject(o, "other", (double)t.other);
	return o;
}

cJSON *cli_fleet_tree(const struct cli_fleet *f)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *contexts;

	if (!f->multi) {
		add_inspection(root, &f->items[0]);
		return root;
	}
	contexts = cJSON_AddArrayToObject(root, "contexts");
	for (size_t i = 0; i < f->nr; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "context", f->items[i].context ? f->items[i].context : "");
		if (f->items[i].rc)
			cJSON_AddStringToObject(o, "error", f->items[i].error.buf);
		else
			add_inspection(o, &f->items[i]);
		cJSON_AddItemToArray(contexts, o);
	}
	cJSON_AddItemToObject(root, "summary", summary_json(f));
	return root;
}

int cli_fleet_print_tree(const struct cli_fleet *f, enum cli_output format)
{
	cJSON *root = cli_fleet_tree(f);
	int rc = cli_print_tree(root, format);

	cJSON_Delete(root);
	return rc;
}

void cli_fleet_summary(const struct cli_fleet *f, struct strbuf *sb)
{
	struct tally t;

	count(f, &t);
	strbuf_addf(sb, "%zu %s, %zu %s: %zu on Azure Linux 2.0 (retired), %zu on Ubuntu, "
		    "%zu on Azure Linux 3.0", t.clusters, cli_plural(t.clusters, "cluster", "clusters"),
		    t.pools, cli_plural(t.pools, "pool", "pools"), t.azl2, t.ubuntu, t.azl3);
	if (t.windows)
		strbuf_addf(sb, ", %zu on Windows", t.windows);
	if (t.other)
		strbuf_addf(sb, ", %zu other", t.other);
	if (t.failed)
		strbuf_addf(sb, "; %zu %s failed", t.failed, cli_plural(t.failed, "context", "contexts"));
}

void cli_cluster_line(const struct azl_cluster *c, struct strbuf *sb)
{
	strbuf_addf(sb, "Cluster %s (resource group %s, %s): Kubernetes %s", c->name,
		    c->resource_group, c->location, c->current_kubernetes_version);
	if (strcmp(c->kubernetes_version, c->current_kubernetes_version))
		strbuf_addf(sb, " (upgrading to %s)", c->kubernetes_version);
	strbuf_addf(sb, ", auto-upgrade %s, node OS upgrade %s", c->upgrade_channel,
		    *c->node_os_upgrade_channel ? c->node_os_upgrade_channel : "unknown");
}

void cli_pool_finding_codes(const struct azl_pool *p, struct strbuf *sb)
{
	for (size_t i = 0; i < p->findings.nr; i++) {
		if (i)
			strbuf_addch(sb, ',');
		strbuf_addstr(sb, p->findings.items[i].code);
	}
}
