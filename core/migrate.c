/* Moving a node pool onto Azure Linux: target, strategy, plan and the
 * steps. See migrate.h; the preflight is in migrate_preflight.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "migrate.h"
#include "node.h"
#include "osinfo.h"
#include "version.h"
#include "wrapper.h"

const char *azl_migrate_strategy_name(enum azl_migrate_strategy s)
{
	switch (s) {
	case AZL_MIGRATE_IN_PLACE:
		return "in-place";
	case AZL_MIGRATE_SIDE_BY_SIDE:
		return "side-by-side";
	default:
		return "none";
	}
}

static const char *const in_place_steps[] = { "update-pool", "verify" };
static const char *const side_by_side_steps[] = {
	"create-pool", "wait-ready", "stop-autoscaler", "cordon", "drain", "delete-pool", "verify"
};
static const char *const add_pool_steps[] = { "create-pool", "wait-ready" };

static void note(struct azl_finding_list *l, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void note(struct azl_finding_list *l, const char *code, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	azl_finding_add(l, AZL_SEVERITY_INFO, code, &sb);
	strbuf_release(&sb);
}

static void side_release(struct azl_migrate_side *s)
{
	free(s->os_sku);
	free(s->os_version);
	free(s->os_name);
	free(s->node_image_version);
	free(s->kubernetes_version);
	memset(s, 0, sizeof(*s));
}

void azl_migrate_plan_release(struct azl_migrate_plan *plan)
{
	free(plan->pool);
	free(plan->source);
	free(plan->mode);
	free(plan->why);
	free(plan->etag);
	side_release(&plan->from);
	side_release(&plan->to);
	azl_plan_spec_release(&plan->new_pool);
	azl_finding_list_release(&plan->notes);
	azl_finding_list_release(&plan->preflight);
	strbuf_release(&plan->commands);
	strbuf_release(&plan->terraform);
	memset(plan, 0, sizeof(*plan));
}

static void plan_init(struct azl_migrate_plan *out, const struct azl_migrate_options *o)
{
	memset(out, 0, sizeof(*out));
	strbuf_init(&out->commands, 0);
	strbuf_init(&out->terraform, 0);
	out->new_pool.min_count = out->new_pool.max_count = -1;
	out->opts = *o;
}

static const struct azl_pool *find_pool(const struct azl_pool_list *pools, const char *name)
{
	for (size_t i = 0; i < pools->nr; i++)
		if (!strcasecmp(pools->items[i].name, name))
			return &pools->items[i];
	return NULL;
}

static void fill_from(const struct azl_pool *p, struct azl_migrate_side *s)
{
	s->os_sku = xstrdup(p->os_sku);
	s->os_version = xstrdup(p->os.version);
	s->os_name = xstrdup(p->os.name);
	s->node_image_version = xstrdup(p->node_image_version);
	s->kubernetes_version = xstrdup(p->kubernetes_version);
}

/* ---- the target ---- */

static int retired_now(const struct azl_pool *p)
{
	return azl_os_retired(&p->os);
}

/* The default: AzureLinux, or AzureLinux3 where AzureLinux still means 2.0. */
static const char *default_target(const struct azl_pool *p)
{
	struct azl_os_info os;

	azl_os_detect(NULL, "AzureLinux", p->kubernetes_version, NULL, NULL, &os);
	return azl_os_retired(&os) ? "AzureLinux3" : "AzureLinux";
}

static int check_target(const struct azl_pool *p, const char *sku, struct azl_os_info *os)
{
	int minor = azl_version_kube_minor(p->kubernetes_version);

	if (strcmp(sku, "AzureLinux") && strcmp(sku, "AzureLinux3"))
		return azl_error_set(AZL_EINVALID,
				     "--to %s: the target is AzureLinux or AzureLinux3", sku);
	azl_os_detect(NULL, sku, p->kubernetes_version, NULL, NULL, os);
	if (azl_os_retired(os))
		return azl_error_set(AZL_EINVALID,
				     "--to %s on Kubernetes %s would land pool %s on Azure Linux 2.0, which is retired: use --to AzureLinux3, or upgrade to Kubernetes 1.%d+ first (kubectl azlinux upgrade)",
				     sku, p->kubernetes_version, p->name, AZL_PLAN_AZL3_DEFAULT_MINOR);
	if (!strcmp(sku, "AzureLinux3") && minor >= 0 &&
	    (minor < AZL_PLAN_AZL3_FIRST_MINOR || minor > AZL_PLAN_AZL3_LAST_MINOR))
		return azl_error_set(AZL_EINVALID,
				     "--to AzureLinux3 needs Kubernetes 1.%d to 1.%d and pool %s runs %s: use --to AzureLinux",
				     AZL_PLAN_AZL3_FIRST_MINOR, AZL_PLAN_AZL3_LAST_MINOR, p->name,
				     p->kubernetes_version);
	return 0;
}

static void target_notes(const struct azl_pool *p, const char *sku, struct azl_migrate_plan *out)
{
	if (strcmp(sku, "AzureLinux3"))
		return;
	if (retired_now(p))
		note(&out->notes, "OtherWay",
		     "the other way out of Azure Linux 2.0: upgrade the cluster and the pool to Kubernetes 1.%d+ with osSKU AzureLinux (kubectl azlinux upgrade %s --kubernetes-version 1.%d)",
		     AZL_PLAN_AZL3_DEFAULT_MINOR, p->name, AZL_PLAN_AZL3_DEFAULT_MINOR);
	note(&out->notes, "AzureLinux3Pin",
	     "osSKU AzureLinux3 is supported up to Kubernetes 1.%d: change it back to AzureLinux before upgrading to 1.%d (kubectl azlinux migrate %s --to AzureLinux)",
	     AZL_PLAN_AZL3_LAST_MINOR, AZL_PLAN_AZL3_LAST_MINOR + 1, p->name);
}

/* ---- strategy ---- */

static int choose_strategy(const struct azl_pool *p, const char *want,
			   struct azl_migrate_plan *out)
{
	struct azl_finding_list blockers = { 0 };
	struct strbuf why = STRBUF_INIT;
	int rc = 0;

	azl_plan_in_place_blockers(p, &blockers);
	for (size_t i = 0; i < blockers.nr; i++)
		strbuf_addf(&why, "%s%s", i ? ", " : "", blockers.items[i].message);
	if (want && strcmp(want, "auto") && strcmp(want, "in-place") && strcmp(want, "side-by-side"))
		rc = azl_error_set(AZL_EINVALID, "--strategy %s: use auto, in-place or side-by-side",
				   want);
	else if (want && !strcmp(want, "in-place") && blockers.nr)
		rc = azl_error_set(AZL_EINVALID,
				   "pool %s cannot change OS in place (%s): AKS would refuse it; use --strategy side-by-side (or auto)",
				   p->name, why.buf);
	else if (azl_plan_item(&blockers, AZL_PLAN_BLOCK_WINDOWS))
		rc = azl_error_set(AZL_EINVALID, "pool %s is a Windows pool: it cannot move to Azure Linux",
				   p->name);
	else if (want && !strcmp(want, "side-by-side")) {
		out->strategy = AZL_MIGRATE_SIDE_BY_SIDE;
		out->why = xstrdup("side by side, as asked (--strategy side-by-side)");
	} else if (blockers.nr) {
		struct strbuf sb = STRBUF_INIT;

		out->strategy = AZL_MIGRATE_SIDE_BY_SIDE;
		strbuf_addf(&sb, "side by side: AKS cannot change the OS of this pool in place (%s)",
			    why.buf);
		out->why = strbuf_detach(&sb, NULL);
	} else {
		out->strategy = AZL_MIGRATE_IN_PLACE;
		out->why = xstrdup(want && !strcmp(want, "in-place")
				   ? "in place, as asked (--strategy in-place)"
				   : "in place: AKS changes the osSKU and reimages the nodes with surge, no new pool needed");
	}
	strbuf_release(&why);
	azl_finding_list_release(&blockers);
	return rc;
}

/* ---- the equivalent commands ---- */

static void az_pool(struct strbuf *sb, const char *verb, const struct azl_cluster *c,
		    const char *pool)
{
	strbuf_addf(sb, "az aks nodepool %s --resource-group %s --cluster-name %s --name %s",
		    verb, c->resource_group, c->name, pool);
}

static void settings_flags(const struct azl_migrate_options *o, struct strbuf *sb)
{
	if (o->max_surge)
		strbuf_addf(sb, " --max-surge %s", o->max_surge);
	if (o->drain_timeout_min >= 0)
		strbuf_addf(sb, " --drain-timeout %ld", o->drain_timeout_min);
	if (o->node_soak_min >= 0)
		strbuf_addf(sb, " --node-soak-duration %ld", o->node_soak_min);
}

static void in_place_commands(const struct azl_cluster *c, struct azl_migrate_plan *out)
{
	az_pool(&out->commands, "update", c, out->pool);
	strbuf_addf(&out->commands, " --os-sku %s", out->to.os_sku);
	settings_flags(&out->opts, &out->commands);
	strbuf_addstr(&out->commands, "\n");
	strbuf_addf(&out->commands, "kubectl get nodes -l kubernetes.azure.com/agentpool=%s -o wide\n",
		    out->pool);
	strbuf_addf(&out->terraform,
		    "os_sku = \"%s\" on the node pool %s (azurerm_kubernetes_cluster_node_pool, or default_node_pool), so that IaC does not change it back",
		    out->to.os_sku, out->pool);
}

static void add_commands(const struct azl_cluster *c, const struct azl_migrate_plan *plan,
			 struct strbuf *sb)
{
	const struct azl_pool_spec *s = &plan->new_pool;

	az_pool(sb, "add", c, s->name);
	strbuf_addf(sb, " --os-sku %s --node-vm-size %s --node-count %ld --mode %s", s->os_sku,
		    s->vm_size, s->count, s->mode);
	if (*s->zones)
		strbuf_addf(sb, " --zones %s", s->zones);
	if (*s->workload_runtime)
		strbuf_addf(sb, " --workload-runtime %s", s->workload_runtime);
	strbuf_addstr(sb, "\n");
}

static void side_by_side_commands(const struct azl_cluster *c, struct azl_migrate_plan *out)
{
	add_commands(c, out, &out->commands);
	strbuf_addf(&out->commands,
		    "kubectl cordon -l kubernetes.azure.com/agentpool=%s\n"
		    "kubectl drain -l kubernetes.azure.com/agentpool=%s --ignore-daemonsets --delete-emptydir-data\n",
		    out->pool, out->pool);
	az_pool(&out->commands, "delete", c, out->pool);
	strbuf_addstr(&out->commands, "\n");
	strbuf_addf(&out->terraform,
		    "a node pool %s with os_sku = \"%s\" replaces %s (azurerm_kubernetes_cluster_node_pool); remove %s from the configuration once it is deleted",
		    out->new_pool.name, out->new_pool.os_sku, out->pool, out->pool);
}

/* ---- the plan ---- */

static void set_steps(struct azl_migrate_plan *out, const char *const *steps, size_t n)
{
	out->steps = (const char **)steps;
	out->nr_steps = n;
}

static void fill_to(const struct azl_pool *p, const char *sku, const struct azl_os_info *os,
		    struct azl_migrate_side *s)
{
	s->os_sku = xstrdup(sku);
	s->os_version = xstrdup(os->version);
	s->os_name = xstrdup(os->name);
	s->node_image_version = xstrdup("");
	s->kubernetes_version = xstrdup(p->kubernetes_version);
}

static int valid_pool_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 12 || name[0] < 'a' || name[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return 0;
	return 1;
}

static int new_pool_spec(const struct azl_pool *p, const struct azl_pool_list *pools,
			 const char *name, const char *sku, struct azl_migrate_plan *out)
{
	if (name && !valid_pool_name(name))
		return azl_error_set(AZL_EINVALID,
				     "pool name %s: use 1 to 12 lower-case letters and digits, starting with a letter",
				     name);
	if (name && find_pool(pools, name))
		return azl_error_set(AZL_EINVALID, "pool %s already exists in the cluster: name another",
				     name);
	azl_plan_new_pool(p, &pools->names, name, sku, &out->new_pool);
	return 0;
}

static int plan_side_by_side(const struct azl_cluster *c, const struct azl_pool *p,
			     const struct azl_pool_list *pools, struct azl_migrate_plan *out)
{
	int rc = new_pool_spec(p, pools, out->opts.new_pool, out->to.os_sku, out);

	if (rc)
		return rc;
	set_steps(out, side_by_side_steps, sizeof(side_by_side_steps) / sizeof(*side_by_side_steps));
	side_by_side_commands(c, out);
	if (!strcasecmp(p->mode, "System"))
		note(&out->notes, "SystemPool",
		     "pool %s is a System pool: %s is created as a System pool, Ready before anything moves, so the cluster always has one",
		     p->name, out->new_pool.name);
	return 0;
}

int azl_migrate_plan_make(const struct azl_cluster *c, const struct azl_pool_list *pools,
			  const char *pool, const struct azl_migrate_options *o,
			  struct azl_migrate_plan *out)
{
	const struct azl_pool *p = find_pool(pools, pool);
	struct azl_os_info os;
	const char *sku;
	int rc;

	plan_init(out, o);
	out->kind = AZL_MIGRATE_KIND;
	if (!p)
		return azl_error_set(AZL_ENOTFOUND, "no node pool %s in cluster %s", pool, c->name);
	out->pool = xstrdup(p->name);
	out->source = xstrdup(p->name);
	out->mode = xstrdup(p->mode);
	out->etag = xstrdup(p->etag);
	out->nodes = p->nodes;
	fill_from(p, &out->from);
	sku = o->to ? o->to : default_target(p);
	rc = check_target(p, sku, &os);
	if (!rc)
		rc = choose_strategy(p, o->strategy, out);
	if (rc)
		return rc;
	fill_to(p, sku, &os, &out->to);
	target_notes(p, sku, out);
	if (!strcmp(p->os_sku, sku) && !strcmp(p->os.version, os.version)) {
		out->strategy = AZL_MIGRATE_NOTHING;
		free(out->why);
		out->why = xstrdup("nothing to do: the pool runs the target already");
		return 0;
	}
	if (out->strategy == AZL_MIGRATE_SIDE_BY_SIDE)
		return plan_side_by_side(c, p, pools, out);
	set_steps(out, in_place_steps, sizeof(in_place_steps) / sizeof(*in_place_steps));
	in_place_commands(c, out);
	return 0;
}

int azl_migrate_plan_add_pool(const struct azl_cluster *c, const struct azl_pool_list *pools,
			      const char *name, const char *like, const char *os_sku,
			      const struct azl_migrate_options *o, struct azl_migrate_plan *out)
{
	const struct azl_pool *p = find_pool(pools, like);
	const char *sku;
	struct azl_os_info os;
	int rc;

	plan_init(out, o);
	out->kind = AZL_ADD_POOL_KIND;
	if (!p)
		return azl_error_set(AZL_ENOTFOUND, "no node pool %s in cluster %s", like, c->name);
	out->pool = xstrdup(name ? name : "");
	out->source = xstrdup(p->name);
	out->etag = xstrdup("");
	out->nodes = p->nodes;
	fill_from(p, &out->from);
	sku = os_sku ? os_sku : default_target(p);
	rc = check_target(p, sku, &os);
	if (!rc && !name)
		rc = azl_error_set(AZL_EINVALID, "add-pool needs the new pool's NAME");
	if (!rc)
		rc = new_pool_spec(p, pools, name, sku, out);
	if (rc)
		return rc;
	fill_to(p, sku, &os, &out->to);
	if (o->count >= 0) {
		out->new_pool.count = o->count;
		cJSON_DeleteItemFromObjectCaseSensitive(out->new_pool.properties, "count");
		cJSON_AddNumberToObject(out->new_pool.properties, "count", (double)o->count);
	}
	if (o->mode) {
		free(out->new_pool.mode);
		out->new_pool.mode = xstrdup(o->mode);
		cJSON_DeleteItemFromObjectCaseSensitive(out->new_pool.properties, "mode");
		cJSON_AddStringToObject(out->new_pool.properties, "mode", o->mode);
	}
	out->mode = xstrdup(out->new_pool.mode);
	out->strategy = AZL_MIGRATE_SIDE_BY_SIDE;
	out->why = xstrdup("a new pool like the old one, with the target osSKU");
	set_steps(out, add_pool_steps, sizeof(add_pool_steps) / sizeof(*add_pool_steps));
	add_commands(c, out, &out->commands);
	target_notes(p, sku, out);
	return 0;
}

/* ---- the journal's record ---- */

static cJSON *side_json(const struct azl_migrate_side *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "osSku", s->os_sku ? s->os_sku : "");
	cJSON_AddStringToObject(o, "osVersion", s->os_version ? s->os_version : "");
	cJSON_AddStringToObject(o, "osName", s->os_name ? s->os_name : "");
	cJSON_AddStringToObject(o, "nodeImageVersion",
				s->node_image_version ? s->node_image_version : "");
	cJSON_AddStringToObject(o, "kubernetesVersion",
				s->kubernetes_version ? s->kubernetes_version : "");
	return o;
}

static cJSON *settings_json(const struct azl_migrate_options *o)
{
	cJSON *s = cJSON_CreateObject();

	if (o->max_surge)
		cJSON_AddStringToObject(s, "maxSurge", o->max_surge);
	if (o->drain_timeout_min >= 0)
		cJSON_AddNumberToObject(s, "drainTimeoutInMinutes", (double)o->drain_timeout_min);
	if (o->node_soak_min >= 0)
		cJSON_AddNumberToObject(s, "nodeSoakDurationInMinutes", (double)o->node_soak_min);
	return s;
}

cJSON *azl_migrate_plan_data(const struct azl_migrate_plan *plan, const struct azl_cluster *c)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "strategy", azl_migrate_strategy_name(plan->strategy));
	cJSON_AddStringToObject(d, "why", plan->why ? plan->why : "");
	cJSON_AddStringToObject(d, "mode", plan->mode ? plan->mode : "");
	if (plan->new_pool.name) {
		cJSON_AddStringToObject(d, "newPool", plan->new_pool.name);
		cJSON_AddItemToObject(d, "newPoolProperties",
				      cJSON_Duplicate(plan->new_pool.properties, 1));
	} else {
		cJSON_AddNullToObject(d, "newPool");
	}
	cJSON_AddItemToObject(d, "from", side_json(&plan->from));
	cJSON_AddItemToObject(d, "to", side_json(&plan->to));
	cJSON_AddItemToObject(d, "settings", settings_json(&plan->opts));
	cJSON_AddBoolToObject(d, "canary", plan->opts.canary);
	cJSON_AddItemToObject(d, "preflight", azl_preflight_to_json(&plan->preflight));
	cJSON_AddStringToObject(d, "planETag", plan->etag ? plan->etag : "");
	cJSON_AddStringToObject(d, "location", c->location);
	cJSON_AddItemToObject(d, "nodes", cJSON_CreateArray());
	return d;
}

void azl_migrate_node_selector(const char *pool, const cJSON *data, struct strbuf *out)
{
	const char *np = azl_json_str(data, "newPool", "");

	if (*np)
		strbuf_addf(out, "kubernetes.azure.com/agentpool in (%s,%s)", pool, np);
	else
		strbuf_addf(out, "kubernetes.azure.com/agentpool=%s", pool);
}

/* ---- AKS's drain failure ---- */

static void word_after(const char *msg, const char *marker, struct strbuf *out)
{
	const char *p = strstr(msg, marker);
	size_t n;

	if (!p)
		return;
	p += strlen(marker);
	n = strcspn(p, " \t.,;'\"");
	/* a name ends before a trailing period */
	strbuf_add(out, p, n);
}

void azl_migrate_parse_drain_failure(const char *message, struct azl_drain_failure *out)
{
	strbuf_init(&out->node, 0);
	strbuf_init(&out->pod, 0);
	strbuf_init(&out->pdb, 0);
	word_after(message, "Drain node ", &out->node);
	if (!out->node.len)
		word_after(message, "Drain of ", &out->node);
	word_after(message, "failed when evicting pod ", &out->pod);
	word_after(message, "blocked by pdb ", &out->pdb);
}

void azl_drain_failure_release(struct azl_drain_failure *f)
{
	strbuf_release(&f->node);
	strbuf_release(&f->pod);
	strbuf_release(&f->pdb);
}
