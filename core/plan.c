#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster.h"
#include "error.h"
#include "json.h"
#include "osinfo.h"
#include "pool.h"
#include "version.h"
#include "wrapper.h"

/* Pool names are at most 12 lower-case alphanumerics (aks-api.md §1.8). */
#define POOL_NAME_MAX 12

const char *azl_plan_kind_name(enum azl_plan_kind kind)
{
	static const char *const names[] = { "None", "OSSkuChange", "SideBySide",
					     "NodeImageUpgrade", "KubernetesUpgrade" };

	return (size_t)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "Unknown";
}

const char *azl_plan_control_plane_version(const struct azl_cluster *c)
{
	return c->current_kubernetes_version && *c->current_kubernetes_version
		? c->current_kubernetes_version : c->kubernetes_version;
}

static void item(struct azl_finding_list *list, enum azl_severity sev, const char *code,
		 const char *text)
{
	struct strbuf msg = STRBUF_INIT;

	strbuf_addstr(&msg, text);
	azl_finding_add(list, sev, code, &msg);
}

const struct azl_finding *azl_plan_item(const struct azl_finding_list *list, const char *code)
{
	for (size_t i = 0; i < list->nr; i++)
		if (!strcmp(list->items[i].code, code))
			return &list->items[i];
	return NULL;
}

static void plan_init(struct azl_plan *out, const struct azl_pool *p)
{
	memset(out, 0, sizeof(*out));
	out->pool = xstrdup(p->name);
	out->new_pool.min_count = out->new_pool.max_count = -1;
}

static void free_spec(struct azl_pool_spec *s)
{
	free(s->name);
	free(s->mode);
	free(s->os_type);
	free(s->os_sku);
	free(s->vm_size);
	free(s->zones);
	free(s->kubernetes_version);
	free(s->workload_runtime);
	free(s->max_surge);
	cJSON_Delete(s->properties);
}

void azl_plan_release(struct azl_plan *plan)
{
	if (!plan)
		return;
	free(plan->pool);
	free(plan->target_sku);
	free_spec(&plan->new_pool);
	free(plan->node_image_version);
	free(plan->from_version);
	free(plan->to_version);
	for (size_t i = 0; i < plan->nr_path; i++)
		free(plan->path[i].version);
	free(plan->path);
	azl_finding_list_release(&plan->blockers);
	azl_finding_list_release(&plan->risks);
	memset(plan, 0, sizeof(*plan));
	plan->new_pool.min_count = plan->new_pool.max_count = -1;
}

/* ---- what blocks an in-place move ---- */

static int kata(const struct azl_pool *p)
{
	return !strcasecmp(p->workload_runtime, "KataMshvVmIsolation") ||
	       !strcasecmp(p->workload_runtime, "KataVmIsolation");
}

/* Confidential VM sizes: AMD SEV-SNP DCas/DCads/ECas/ECads v5 and v6,
 * Intel TDX DCes/ECes, and the NCC H100 GPUs. */
static int confidential_size(const char *size)
{
	static const char *const suffixes[] = { "as_v5", "ads_v5", "as_v6", "ads_v6", "es_v5",
						"es_v6", "eds_v5", "eds_v6", NULL };
	const char *s = size;

	if (!strncasecmp(s, "Standard_", 9))
		s += 9;
	if (!strncasecmp(s, "NCC", 3))
		return 1;
	if (strncasecmp(s, "DC", 2) && strncasecmp(s, "EC", 2))
		return 0;
	for (int i = 0; suffixes[i]; i++) {
		size_t n = strlen(s), m = strlen(suffixes[i]);

		if (n > m && !strcasecmp(s + n - m, suffixes[i]))
			return 1;
	}
	return 0;
}

static int windows(const struct azl_pool *p)
{
	return !strcasecmp(p->os_type, "Windows") || p->os.family == AZL_OS_WINDOWS;
}

/* tutorial-migrate-azure-linux-aks's limitations. */
void azl_plan_in_place_blockers(const struct azl_pool *p, struct azl_finding_list *out)
{
	int minor = azl_version_kube_minor(p->kubernetes_version);

	if (windows(p))
		item(out, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_WINDOWS, "Windows pools cannot change OS");
	if (kata(p))
		item(out, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_KATA, "Kata workload runtime");
	if (!strcasecmp(p->security_type, "ConfidentialVM") || confidential_size(p->vm_size))
		item(out, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_CONFIDENTIAL, "confidential VM");
	if (p->gpu_dedicated_vhd)
		item(out, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_GPU_VHD, "GPU dedicated VHD");
	if (minor >= 0 && minor < AZL_PLAN_AZL3_FIRST_MINOR)
		item(out, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_OLD_KUBERNETES, "Kubernetes older than 1.28");
}

void azl_plan_blocker_text(const struct azl_plan *plan, struct strbuf *out)
{
	for (size_t i = 0; i < plan->blockers.nr; i++)
		strbuf_addf(out, "%s%s", i ? ", " : "", plan->blockers.items[i].message);
}

/* ---- the new pool of a side-by-side move ---- */

static int name_taken(const struct azl_pool_names *taken, const char *name)
{
	for (size_t i = 0; taken && i < taken->nr; i++)
		if (!strcasecmp(taken->items[i], name))
			return 1;
	return 0;
}

/* <old name, cut to fit>azl, then azl2, azl3...: at most 12 characters and
 * none a sibling has. */
static char *new_pool_name(const char *pool, const struct azl_pool_names *taken)
{
	struct strbuf sb = STRBUF_INIT;

	for (int n = 1; n < 1000; n++) {
		char suffix[8];
		size_t keep = strlen(pool);

		snprintf(suffix, sizeof(suffix), n == 1 ? "azl" : "azl%d", n);
		if (keep > POOL_NAME_MAX - strlen(suffix))
			keep = POOL_NAME_MAX - strlen(suffix);
		strbuf_reset(&sb);
		strbuf_add(&sb, pool, keep);
		strbuf_addstr(&sb, suffix);
		if (!name_taken(taken, sb.buf))
			break;
	}
	return strbuf_detach(&sb, NULL);
}

/* Members of an agent pool's properties that the new pool must not copy:
 * read-only, this pool's own state, or its image (a snapshot or an image
 * version would bring the old OS back). */
static const char *const not_copied[] = {
	"provisioningState", "powerState", "currentOrchestratorVersion", "nodeImageVersion",
	"eTag", "status", "creationData", "upgradeStrategy", "virtualMachineNodesStatus",
	"osSKU", "osType", "count", "enableAutoScaling", "minCount", "maxCount",
	"orchestratorVersion", "workloadRuntime", "mode", NULL
};

static cJSON *spec_properties(const struct azl_pool *p, const struct azl_pool_spec *s)
{
	cJSON *props = p->properties ? cJSON_Duplicate(p->properties, 1) : cJSON_CreateObject();

	for (int i = 0; not_copied[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(props, not_copied[i]);
	cJSON_AddStringToObject(props, "mode", s->mode);
	cJSON_AddStringToObject(props, "osType", s->os_type);
	cJSON_AddStringToObject(props, "osSKU", s->os_sku);
	cJSON_AddNumberToObject(props, "count", (double)s->count);
	cJSON_AddBoolToObject(props, "enableAutoScaling", s->autoscaling);
	if (s->autoscaling) {
		cJSON_AddNumberToObject(props, "minCount", (double)s->min_count);
		cJSON_AddNumberToObject(props, "maxCount", (double)s->max_count);
	}
	if (*s->kubernetes_version)
		cJSON_AddStringToObject(props, "orchestratorVersion", s->kubernetes_version);
	if (*s->workload_runtime)
		cJSON_AddStringToObject(props, "workloadRuntime", s->workload_runtime);
	return props;
}

static void fill_spec(const struct azl_pool *p, const struct azl_pool_names *taken,
		      struct azl_pool_spec *s)
{
	s->name = new_pool_name(p->name, taken);
	s->mode = xstrdup(p->mode);
	s->os_type = xstrdup("Linux");
	s->os_sku = xstrdup("AzureLinux");
	s->vm_size = xstrdup(p->vm_size);
	s->count = p->count > 0 ? p->count : 1;
	s->autoscaling = p->autoscaling;
	s->min_count = p->min_count;
	s->max_count = p->max_count;
	s->zones = xstrdup(p->zones);
	s->kubernetes_version = xstrdup(p->kubernetes_version);
	/* Azure Linux runs Kata as KataVmIsolation; the default runtime is
	 * left to the default */
	s->workload_runtime = xstrdup(kata(p) ? "KataVmIsolation" :
				      !strcasecmp(p->workload_runtime, "OCIContainer") ? "" :
				      p->workload_runtime);
	s->max_surge = xstrdup(p->max_surge);
	s->properties = spec_properties(p, s);
}

void azl_plan_new_pool(const struct azl_pool *p, const struct azl_pool_names *taken,
		       const char *name, const char *os_sku, struct azl_pool_spec *out)
{
	memset(out, 0, sizeof(*out));
	fill_spec(p, taken, out);
	if (name && *name) {
		free(out->name);
		out->name = xstrdup(name);
	}
	if (os_sku && *os_sku) {
		free(out->os_sku);
		out->os_sku = xstrdup(os_sku);
		cJSON_DeleteItemFromObjectCaseSensitive(out->properties, "osSKU");
		cJSON_AddStringToObject(out->properties, "osSKU", os_sku);
	}
}

void azl_plan_spec_release(struct azl_pool_spec *s)
{
	free_spec(s);
	memset(s, 0, sizeof(*s));
	s->min_count = s->max_count = -1;
}

static void side_by_side_risks(const struct azl_pool *p, struct azl_finding_list *risks)
{
	if (!strcasecmp(p->mode, "System"))
		item(risks, AZL_SEVERITY_WARNING, AZL_PLAN_RISK_SYSTEM_POOL,
		     "a System pool: the new pool is System too, and must be Ready before the old one is drained");
	if (p->autoscaling)
		item(risks, AZL_SEVERITY_WARNING, AZL_PLAN_RISK_AUTOSCALER,
		     "the autoscaler may grow the old pool while it drains: cap its maxCount first");
	if (p->gpu)
		item(risks, AZL_SEVERITY_INFO, AZL_PLAN_RISK_GPU,
		     "GPU pool: check that every new node advertises its GPUs");
}

/* ---- migrate ---- */

static void set_sku_change(struct azl_plan *out, const char *sku)
{
	out->kind = AZL_PLAN_OS_SKU_CHANGE;
	out->target_sku = xstrdup(sku);
}

static void add_step(struct azl_plan *out, int control_plane, const char *version)
{
	out->path = xrealloc(out->path, (out->nr_path + 1) * sizeof(*out->path));
	out->path[out->nr_path].control_plane = control_plane;
	out->path[out->nr_path].version = xstrdup(version);
	out->nr_path++;
}

/* The pool to the control plane's version, which moves an AzureLinux pool
 * from 2.0 to 3.0. */
static void pool_to_control_plane(const struct azl_cluster *c, const struct azl_pool *p,
				  struct azl_plan *out)
{
	const char *cp = azl_plan_control_plane_version(c);

	out->kind = AZL_PLAN_KUBERNETES_UPGRADE;
	out->from_version = xstrdup(p->kubernetes_version);
	out->to_version = xstrdup(cp);
	out->behind_control_plane = azl_version_compare(p->kubernetes_version, cp) < 0;
	add_step(out, 0, cp);
	item(&out->risks, AZL_SEVERITY_INFO, AZL_PLAN_RISK_OS_CHANGES,
	     "the upgrade also moves the nodes from Azure Linux 2.0 to 3.0");
}

static void retired(const struct azl_cluster *c, const struct azl_pool *p, struct azl_plan *out)
{
	int minor = azl_version_kube_minor(p->kubernetes_version);

	if (!strcasecmp(p->os_sku, "AzureLinux") &&
	    azl_version_kube_minor(azl_plan_control_plane_version(c)) >= AZL_PLAN_AZL3_DEFAULT_MINOR) {
		pool_to_control_plane(c, p, out);
		return;
	}
	set_sku_change(out, "AzureLinux3");
	if (minor >= 0 && minor < AZL_PLAN_AZL3_FIRST_MINOR)
		item(&out->blockers, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_OLD_KUBERNETES,
		     "Kubernetes older than 1.28");
}

/* The highest 1.37+ version the cluster runs, targets or can upgrade to;
 * *now when it runs or targets it. */
static int pin_blocks(const struct azl_cluster *c, const char **version, int *now)
{
	*now = 1;
	*version = c->current_kubernetes_version;
	if (azl_version_kube_minor(*version) > AZL_PLAN_AZL3_LAST_MINOR)
		return 1;
	*version = c->kubernetes_version;
	if (azl_version_kube_minor(*version) > AZL_PLAN_AZL3_LAST_MINOR)
		return 1;
	*now = 0;
	for (size_t i = c->nr_upgrades; i-- > 0;) {
		*version = c->upgrades[i];
		if (azl_version_kube_minor(*version) > AZL_PLAN_AZL3_LAST_MINOR)
			return 1;
	}
	return 0;
}

static void azl3_pinned(const struct azl_cluster *c, struct azl_plan *out)
{
	struct strbuf msg = STRBUF_INIT;
	const char *version;
	int now;

	if (!pin_blocks(c, &version, &now))
		return;
	set_sku_change(out, "AzureLinux");
	strbuf_addf(&msg, "osSku AzureLinux3 is supported only up to Kubernetes 1.%d and the cluster %s %s",
		    AZL_PLAN_AZL3_LAST_MINOR, now ? "is on or upgrading to" : "can upgrade to", version);
	azl_finding_add(&out->risks, now ? AZL_SEVERITY_ERROR : AZL_SEVERITY_WARNING,
			AZL_PLAN_RISK_AZL3_PIN, &msg);
}

/* In place, a pool below 1.32 must ask for AzureLinux3: the default SKU
 * would land it on the retired 2.0. */
static const char *ubuntu_target_sku(const struct azl_pool *p)
{
	int minor = azl_version_kube_minor(p->kubernetes_version);

	return minor >= 0 && minor < AZL_PLAN_AZL3_DEFAULT_MINOR ? "AzureLinux3" : "AzureLinux";
}

static void ubuntu(const struct azl_pool *p, const struct azl_pool_names *taken,
		   struct azl_plan *out)
{
	azl_plan_in_place_blockers(p, &out->blockers);
	if (!out->blockers.nr) {
		set_sku_change(out, ubuntu_target_sku(p));
		return;
	}
	out->kind = AZL_PLAN_SIDE_BY_SIDE;
	fill_spec(p, taken, &out->new_pool);
	out->target_sku = xstrdup(out->new_pool.os_sku);
	side_by_side_risks(p, &out->risks);
}

int azl_plan_migrate(const struct azl_cluster *c, const struct azl_pool *p,
		     const struct azl_pool_names *taken, struct azl_plan *out)
{
	plan_init(out, p);
	if (azl_os_retired(&p->os))
		retired(c, p, out);
	else if (!strcasecmp(p->os_sku, "AzureLinux3"))
		azl3_pinned(c, out);
	else if (p->os.family == AZL_OS_UBUNTU)
		ubuntu(p, taken, out);
	else if (windows(p))
		azl_plan_in_place_blockers(p, &out->blockers);
	if (out->kind == AZL_PLAN_OS_SKU_CHANGE && p->gpu)
		item(&out->risks, AZL_SEVERITY_INFO, AZL_PLAN_RISK_GPU,
		     "GPU pool: check that every reimaged node advertises its GPUs");
	return 0;
}

/* ---- node image ---- */

int azl_plan_node_image(const struct azl_cluster *c, const struct azl_pool *p,
			struct azl_plan *out)
{
	plan_init(out, p);
	if (!*p->latest_node_image_version || !*p->node_image_version ||
	    !strcmp(p->latest_node_image_version, p->node_image_version))
		return 0;
	out->kind = AZL_PLAN_NODE_IMAGE_UPGRADE;
	out->node_image_version = xstrdup(p->latest_node_image_version);
	if (!strcasecmp(c->node_os_upgrade_channel, "NodeImage"))
		item(&out->risks, AZL_SEVERITY_INFO, AZL_PLAN_RISK_AUTOMATIC,
		     "the NodeImage channel applies it in the next maintenance window");
	return 0;
}

/* ---- Kubernetes ---- */

/* The newest control-plane upgrade of this minor, or NULL. */
static const char *newest_of_minor(const struct azl_cluster *c, int minor)
{
	const char *best = NULL;

	for (size_t i = 0; i < c->nr_upgrades; i++)
		if (azl_version_kube_minor(c->upgrades[i]) == minor &&
		    (!best || azl_version_compare(c->upgrades[i], best) > 0))
			best = c->upgrades[i];
	return best;
}

static int offered(const struct azl_cluster *c, const char *version)
{
	for (size_t i = 0; i < c->nr_upgrades; i++)
		if (!strcmp(c->upgrades[i], version))
			return 1;
	return 0;
}

/* Control plane first, a minor at a time, up to target. The upgrade
 * profile lists only the next minor's versions: that step takes the newest
 * of them (or target), later ones name the minor ("1.34"), which AKS
 * resolves to its newest patch when the step runs. */
static void control_plane_path(const struct azl_cluster *c, const char *target, int to,
			       struct azl_plan *out)
{
	int next = azl_version_kube_minor(azl_plan_control_plane_version(c)) + 1;
	struct strbuf v = STRBUF_INIT, msg = STRBUF_INIT;
	int patch = strchr(strchr(target, '.') + 1, '.') != NULL;

	if (next <= 0)
		return;
	for (int m = next; m <= to; m++) {
		strbuf_reset(&v);
		if (m == to && (patch || m != next || !newest_of_minor(c, m)))
			strbuf_addstr(&v, target);
		else if (m == next && newest_of_minor(c, m))
			strbuf_addstr(&v, newest_of_minor(c, m));
		else
			strbuf_addf(&v, "1.%d", m);
		if (m == next && (!newest_of_minor(c, m) || (m == to && patch && !offered(c, target)))) {
			strbuf_addf(&msg, "the control plane offers no upgrade to %s; see 'az aks get-upgrades'",
				    v.buf);
			azl_finding_add(&out->blockers, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_NO_VERSION, &msg);
			break;
		}
		add_step(out, 1, v.buf);
	}
	strbuf_release(&v);
	strbuf_release(&msg);
}

int azl_plan_kubernetes(const struct azl_cluster *c, const struct azl_pool *p,
			const char *target, struct azl_plan *out)
{
	const char *cp = azl_plan_control_plane_version(c);
	int major, minor;

	plan_init(out, p);
	if (!target && p->nr_upgrades)
		target = p->upgrades[p->nr_upgrades - 1];
	if (!target)
		return 0;
	if (azl_version_minor(target, &major, &minor))
		return azl_error_set(AZL_EINVALID,
				     "Kubernetes version '%s' is not one (like 1.33 or 1.33.2)", target);
	if (azl_version_compare(target, p->kubernetes_version) <= 0)
		return 0;
	out->kind = AZL_PLAN_KUBERNETES_UPGRADE;
	out->from_version = xstrdup(p->kubernetes_version);
	out->to_version = xstrdup(target);
	out->behind_control_plane = azl_version_compare(p->kubernetes_version, cp) < 0;
	if (azl_version_compare(target, cp) > 0)
		control_plane_path(c, target, minor, out);
	/* the pool follows the control plane to the version it reached */
	if (out->nr_path && !out->blockers.nr) {
		free(out->to_version);
		out->to_version = xstrdup(out->path[out->nr_path - 1].version);
	}
	add_step(out, 0, out->to_version);
	if (!strcasecmp(p->os_sku, "AzureLinux3") && minor > AZL_PLAN_AZL3_LAST_MINOR)
		item(&out->blockers, AZL_SEVERITY_ERROR, AZL_PLAN_BLOCK_AZL3_PIN,
		     "osSku AzureLinux3 is supported only up to Kubernetes 1.36: switch the pool to AzureLinux first");
	if (!strcasecmp(p->os_sku, "AzureLinux") && azl_os_retired(&p->os) &&
	    minor >= AZL_PLAN_AZL3_DEFAULT_MINOR)
		item(&out->risks, AZL_SEVERITY_INFO, AZL_PLAN_RISK_OS_CHANGES,
		     "the upgrade also moves the nodes from Azure Linux 2.0 to 3.0");
	return 0;
}

/* ---- the az command ---- */

/* "az aks nodepool <verb> --resource-group G --cluster-name C --name P" */
static void az_nodepool(struct strbuf *sb, const char *verb, const struct azl_cluster *c,
			const char *pool)
{
	strbuf_addf(sb, "az aks nodepool %s --resource-group %s --cluster-name %s --name %s",
		    verb, c->resource_group, c->name, pool);
}

static void az_add(const struct azl_plan *plan, const struct azl_cluster *c, struct strbuf *out)
{
	const struct azl_pool_spec *s = &plan->new_pool;

	az_nodepool(out, "add", c, s->name);
	strbuf_addf(out, " --os-sku %s --node-vm-size %s --node-count %ld%s", s->os_sku,
		    s->vm_size, s->count, !strcasecmp(s->mode, "System") ? " --mode System" : "");
	if (*s->workload_runtime)
		strbuf_addf(out, " --workload-runtime %s", s->workload_runtime);
}

int azl_plan_upgrade_command(const struct azl_plan *plan, struct strbuf *out)
{
	if (plan->kind == AZL_PLAN_NODE_IMAGE_UPGRADE)
		strbuf_addf(out, "kubectl azlinux upgrade %s --node-image", plan->pool);
	else if (plan->kind == AZL_PLAN_KUBERNETES_UPGRADE)
		strbuf_addf(out, "kubectl azlinux upgrade %s --kubernetes-version %s", plan->pool,
			    plan->to_version);
	else
		return 0;
	return 1;
}

void azl_plan_az_command(const struct azl_plan *plan, const struct azl_cluster *c,
			 struct strbuf *out)
{
	switch (plan->kind) {
	case AZL_PLAN_OS_SKU_CHANGE:
		az_nodepool(out, "update", c, plan->pool);
		strbuf_addf(out, " --os-sku %s", plan->target_sku);
		break;
	case AZL_PLAN_SIDE_BY_SIDE:
		az_add(plan, c, out);
		break;
	case AZL_PLAN_NODE_IMAGE_UPGRADE:
		az_nodepool(out, "upgrade", c, plan->pool);
		strbuf_addstr(out, " --node-image-only");
		break;
	case AZL_PLAN_KUBERNETES_UPGRADE:
		if (plan->nr_path && plan->path[0].control_plane) {
			strbuf_addf(out, "az aks upgrade --resource-group %s --name %s --kubernetes-version %s --control-plane-only",
				    c->resource_group, c->name, plan->path[0].version);
			break;
		}
		az_nodepool(out, "upgrade", c, plan->pool);
		strbuf_addf(out, " --kubernetes-version %s", plan->to_version);
		break;
	default:
		break;
	}
}
