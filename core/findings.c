#include "findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster.h"
#include "pool.h"
#include "wrapper.h"

/* AzureLinux3 is supported up to this minor; 1.37+ needs another SKU
 * (aks-api.md §1.5). */
#define AZL3_PIN_LAST_MINOR 36
/* AzureLinux (the default SKU) runs 3.0 from this minor. */
#define AZL3_DEFAULT_MINOR 32
#define AZL3_FIRST_MINOR 28
/* Names of not-Ready nodes quoted in a message. */
#define MAX_NODES_NAMED 3

const char *azl_severity_name(enum azl_severity s)
{
	switch (s) {
	case AZL_SEVERITY_ERROR: return "error";
	case AZL_SEVERITY_WARNING: return "warning";
	default: return "info";
	}
}

int azl_version_minor(const char *version, int *major, int *minor)
{
	char *end;
	long ma, mi;

	if (!version)
		return -1;
	if (*version == 'v' || *version == 'V')
		version++;
	ma = strtol(version, &end, 10);
	if (end == version || *end != '.')
		return -1;
	version = end + 1;
	mi = strtol(version, &end, 10);
	if (end == version || ma < 0 || mi < 0 || ma > 1000 || mi > 1000)
		return -1;
	*major = (int)ma;
	*minor = (int)mi;
	return 0;
}

int azl_version_compare(const char *a, const char *b)
{
	if (*a == 'v')
		a++;
	if (*b == 'v')
		b++;
	for (;;) {
		char *ea, *eb;
		long na = strtol(a, &ea, 10), nb = strtol(b, &eb, 10);
		int c;

		if (na != nb)
			return na < nb ? -1 : 1;
		if (*ea == '.' && *eb == '.') {
			a = ea + 1;
			b = eb + 1;
			continue;
		}
		/* "1.32" < "1.32.1"; then any suffix, as text */
		if (*ea == '.' || *eb == '.')
			return *ea == '.' ? 1 : -1;
		c = strcmp(ea, eb);
		return c < 0 ? -1 : c > 0;
	}
}

/* The minor version, or -1 when unknown (treated as "does not apply"). */
static int minor_of(const char *version)
{
	int major, minor;

	return azl_version_minor(version, &major, &minor) || major != 1 ? -1 : minor;
}

static void add(struct azl_finding_list *list, enum azl_severity sev, const char *code,
		struct strbuf *msg)
{
	struct azl_finding *items = xrealloc(list->items, (list->nr + 1) * sizeof(*items));

	list->items = items;
	items[list->nr].severity = sev;
	items[list->nr].code = code;
	items[list->nr].message = strbuf_detach(msg, NULL);
	list->nr++;
}

/* "az aks nodepool <verb> --resource-group G --cluster-name C --name P" */
static void az_nodepool(struct strbuf *sb, const char *verb, const struct azl_cluster *c,
			const char *pool)
{
	strbuf_addf(sb, "az aks nodepool %s --resource-group %s --cluster-name %s --name %s",
		    verb, c->resource_group, c->name, pool);
}

static int is_azure_linux(const struct azl_pool *p, const char *version)
{
	return p->os.family == AZL_OS_AZURE_LINUX && !strcmp(p->os.version, version);
}

/* The newest version a pool can move to without passing the control plane:
 * the control plane's own. */
static const char *control_plane_version(const struct azl_cluster *c)
{
	return c->current_kubernetes_version && *c->current_kubernetes_version
		? c->current_kubernetes_version : c->kubernetes_version;
}

static int retired(const struct azl_cluster *c, const struct azl_pool *p,
		   struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;
	const char *cp = control_plane_version(c);

	if (!is_azure_linux(p, "2.0"))
		return 0;
	strbuf_addstr(&msg, "Azure Linux 2.0 is retired: no patches since 2025-11-30 and its node images "
		      "were removed on 2026-03-31, so this pool cannot scale or be repaired; ");
	if (!strcasecmp(p->os_sku, "AzureLinux") && minor_of(cp) >= AZL3_DEFAULT_MINOR) {
		strbuf_addf(&msg, "upgrade it to Kubernetes %s, which moves it to Azure Linux 3.0: ", cp);
		az_nodepool(&msg, "upgrade", c, p->name);
		strbuf_addf(&msg, " --kubernetes-version %s", cp);
	} else {
		strbuf_addstr(&msg, "move it to Azure Linux 3.0 in place: ");
		az_nodepool(&msg, "update", c, p->name);
		strbuf_addstr(&msg, " --os-sku AzureLinux3");
	}
	add(out, AZL_SEVERITY_ERROR, AZL_FINDING_AZURE_LINUX2_RETIRED, &msg);
	return 1;
}

/* The highest 1.37+ version the cluster runs, targets or can upgrade to. */
static int pin_blocks(const struct azl_cluster *c, const char **version, int *now)
{
	*now = 1;
	*version = c->current_kubernetes_version;
	if (minor_of(*version) > AZL3_PIN_LAST_MINOR)
		return 1;
	*version = c->kubernetes_version;
	if (minor_of(*version) > AZL3_PIN_LAST_MINOR)
		return 1;
	*now = 0;
	for (size_t i = c->nr_upgrades; i-- > 0;) {
		*version = c->upgrades[i];
		if (minor_of(*version) > AZL3_PIN_LAST_MINOR)
			return 1;
	}
	return 0;
}

static void azl3_pin(const struct azl_cluster *c, const struct azl_pool *p,
		     struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;
	const char *version;
	int now;

	if (strcasecmp(p->os_sku, "AzureLinux3") || !pin_blocks(c, &version, &now))
		return;
	strbuf_addf(&msg, "osSku AzureLinux3 is supported only up to Kubernetes 1.%d and the cluster %s %s; "
		    "switch the pool to the default Azure Linux SKU first: ",
		    AZL3_PIN_LAST_MINOR, now ? "is on or upgrading to" : "can upgrade to", version);
	az_nodepool(&msg, "update", c, p->name);
	strbuf_addstr(&msg, " --os-sku AzureLinux");
	add(out, now ? AZL_SEVERITY_ERROR : AZL_SEVERITY_WARNING, AZL_FINDING_AZURE_LINUX3_PIN, &msg);
}

static void provisioning_failed(const struct azl_cluster *c, const struct azl_pool *p,
				struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;

	if (strcasecmp(p->provisioning_state, "Failed"))
		return;
	strbuf_addstr(&msg, "the last operation on this pool failed");
	if (*p->provisioning_error)
		strbuf_addf(&msg, " (%s)", p->provisioning_error);
	strbuf_addstr(&msg, "; fix the cause, then reconcile the pool: ");
	az_nodepool(&msg, "update", c, p->name);
	add(out, AZL_SEVERITY_ERROR, AZL_FINDING_PROVISIONING_FAILED, &msg);
}

static void nodes_not_ready(const struct azl_pool *p, struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;
	long missing = 0;

	/* a stopped or scaling pool is expected to differ */
	if (!strcasecmp(p->power_state, "Stopped") || strcasecmp(p->provisioning_state, "Succeeded"))
		return;
	if (p->count > p->nodes)
		missing = p->count - p->nodes;
	if (!p->nr_not_ready && !missing)
		return;
	if (p->nr_not_ready) {
		strbuf_addf(&msg, "%zu of %ld nodes %s not Ready (", p->nr_not_ready, p->nodes,
			    p->nr_not_ready == 1 ? "is" : "are");
		for (size_t i = 0; i < p->nr_not_ready && i < MAX_NODES_NAMED; i++)
			strbuf_addf(&msg, "%s%s", i ? ", " : "", p->not_ready[i]);
		if (p->nr_not_ready > MAX_NODES_NAMED)
			strbuf_addstr(&msg, ", ...");
		strbuf_addstr(&msg, ")");
	}
	if (missing)
		strbuf_addf(&msg, "%s%ld of %ld VMs %s not registered with Kubernetes",
			    p->nr_not_ready ? " and " : "", missing, p->count, missing == 1 ? "is" : "are");
	if (p->nr_not_ready)
		strbuf_addf(&msg, "; see why: kubectl describe node %s", p->not_ready[0]);
	else
		strbuf_addf(&msg, "; see the pool's nodes: kubectl get nodes -l kubernetes.azure.com/agentpool=%s",
			    p->name);
	add(out, AZL_SEVERITY_WARNING, AZL_FINDING_NODES_NOT_READY, &msg);
}

static void node_image(const struct azl_cluster *c, const struct azl_pool *p,
		       struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;
	int automatic = !strcasecmp(c->node_os_upgrade_channel, "NodeImage");

	if (!*p->latest_node_image_version || !*p->node_image_version ||
	    !strcmp(p->latest_node_image_version, p->node_image_version))
		return;
	strbuf_addf(&msg, "node image %s is behind the latest, %s; ", p->node_image_version,
		    p->latest_node_image_version);
	if (automatic)
		strbuf_addstr(&msg, "the NodeImage channel applies it in the next maintenance window, or now: ");
	else
		strbuf_addstr(&msg, "upgrade the image: ");
	az_nodepool(&msg, "upgrade", c, p->name);
	strbuf_addstr(&msg, " --node-image-only");
	add(out, automatic ? AZL_SEVERITY_INFO : AZL_SEVERITY_WARNING, AZL_FINDING_NODE_IMAGE_UPGRADE, &msg);
}

static void kubernetes_upgrade(const struct azl_cluster *c, const struct azl_pool *p,
			       struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;
	const char *target;
	int behind;

	if (!p->nr_upgrades)
		return;
	target = p->upgrades[p->nr_upgrades - 1];
	behind = azl_version_compare(p->kubernetes_version, control_plane_version(c)) < 0;
	strbuf_addf(&msg, "Kubernetes %s is available (the pool runs %s%s): ", target,
		    p->kubernetes_version, behind ? ", behind the control plane" : "");
	az_nodepool(&msg, "upgrade", c, p->name);
	strbuf_addf(&msg, " --kubernetes-version %s", target);
	add(out, behind ? AZL_SEVERITY_WARNING : AZL_SEVERITY_INFO, AZL_FINDING_KUBERNETES_UPGRADE, &msg);
}

static void add_blocker(struct strbuf *why, int *n, const char *what)
{
	strbuf_addf(why, "%s%s", *n ? ", " : "", what);
	(*n)++;
}

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

int azl_findings_migration_blockers(const struct azl_pool *p, struct strbuf *why)
{
	int n = 0;

	strbuf_reset(why);
	if (!strcasecmp(p->os_type, "Windows") || p->os.family == AZL_OS_WINDOWS)
		add_blocker(why, &n, "Windows pools cannot change OS");
	if (kata(p))
		add_blocker(why, &n, "Kata workload runtime");
	if (!strcasecmp(p->security_type, "ConfidentialVM") || confidential_size(p->vm_size))
		add_blocker(why, &n, "confidential VM");
	if (p->gpu_dedicated_vhd)
		add_blocker(why, &n, "GPU dedicated VHD");
	if (minor_of(p->kubernetes_version) >= 0 && minor_of(p->kubernetes_version) < AZL3_FIRST_MINOR)
		add_blocker(why, &n, "Kubernetes older than 1.28");
	return n;
}

/* In place, a pool below 1.32 must ask for AzureLinux3: the default SKU
 * would land it on the retired 2.0. */
static const char *target_sku(const struct azl_pool *p)
{
	int minor = minor_of(p->kubernetes_version);

	return minor >= 0 && minor < AZL3_DEFAULT_MINOR ? "AzureLinux3" : "AzureLinux";
}

/* Pool names are at most 12 lower-case alphanumerics. */
static void side_by_side_name(struct strbuf *sb, const char *pool)
{
	size_t keep = strlen(pool);

	if (keep > 9)
		keep = 9;
	strbuf_add(sb, pool, keep);
	strbuf_addstr(sb, "azl");
}

static void ubuntu(const struct azl_cluster *c, const struct azl_pool *p,
		   struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT, why = STRBUF_INIT, name = STRBUF_INIT;

	if (p->os.family != AZL_OS_UBUNTU)
		return;
	if (!azl_findings_migration_blockers(p, &why)) {
		strbuf_addf(&msg, "%s can move to Azure Linux 3.0 in place (nodes are reimaged with surge, "
			    "honouring PodDisruptionBudgets): ", p->os.name);
		az_nodepool(&msg, "update", c, p->name);
		strbuf_addf(&msg, " --os-sku %s", target_sku(p));
	} else {
		side_by_side_name(&name, p->name);
		strbuf_addf(&msg, "%s cannot move to Azure Linux in place (%s); add an Azure Linux pool "
			    "beside it, then drain and delete this one: ", p->os.name, why.buf);
		az_nodepool(&msg, "add", c, name.buf);
		strbuf_addf(&msg, " --os-sku AzureLinux --node-vm-size %s --node-count %ld%s%s",
			    p->vm_size, p->count > 0 ? p->count : 1,
			    !strcasecmp(p->mode, "System") ? " --mode System" : "",
			    kata(p) ? " --workload-runtime KataVmIsolation" : "");
	}
	add(out, AZL_SEVERITY_INFO, AZL_FINDING_UBUNTU_CAN_MIGRATE, &msg);
	strbuf_release(&why);
	strbuf_release(&name);
}

static void gpu(const struct azl_pool *p, struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;

	if (!p->gpu)
		return;
	strbuf_addf(&msg, "GPU pool (%s): after any OS change or upgrade, check that every node "
		    "advertises its GPUs: kubectl get nodes -l kubernetes.azure.com/agentpool=%s "
		    "-o custom-columns=NAME:.metadata.name,GPU:.status.allocatable.nvidia\\.com/gpu",
		    p->vm_size, p->name);
	add(out, AZL_SEVERITY_INFO, AZL_FINDING_GPU_POOL, &msg);
}

static int by_severity(const void *a, const void *b)
{
	const struct azl_finding *fa = a, *fb = b;

	return (int)fb->severity - (int)fa->severity;
}

/* A stable sort: qsort is not, and the order within a severity is the
 * order of the checks. */
static void sort_findings(struct azl_finding_list *list)
{
	for (size_t i = 1; i < list->nr; i++) {
		struct azl_finding f = list->items[i];
		size_t j = i;

		for (; j > 0 && by_severity(&list->items[j - 1], &f) > 0; j--)
			list->items[j] = list->items[j - 1];
		list->items[j] = f;
	}
}

void azl_findings_evaluate(const struct azl_cluster *cluster, const struct azl_pool *pool,
			   struct azl_finding_list *out)
{
	size_t first = out->nr;
	struct azl_finding_list mine;

	/* the retirement fix is the upgrade; saying so twice is noise */
	if (!retired(cluster, pool, out)) {
		node_image(cluster, pool, out);
		kubernetes_upgrade(cluster, pool, out);
	}
	azl3_pin(cluster, pool, out);
	provisioning_failed(cluster, pool, out);
	nodes_not_ready(pool, out);
	ubuntu(cluster, pool, out);
	gpu(pool, out);
	if (out->nr == first)
		return;
	mine.items = out->items + first;
	mine.nr = out->nr - first;
	sort_findings(&mine);
}

void azl_finding_list_release(struct azl_finding_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		free(list->items[i].message);
	free(list->items);
	list->items = NULL;
	list->nr = 0;
}

int azl_findings_worst(const struct azl_finding_list *list)
{
	int worst = -1;

	for (size_t i = 0; i < list->nr; i++)
		if ((int)list->items[i].severity > worst)
			worst = (int)list->items[i].severity;
	return worst;
}
