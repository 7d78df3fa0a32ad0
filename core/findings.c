#include "findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster.h"
#include "plan.h"
#include "pool.h"
#include "wrapper.h"

/* Names of not-Ready nodes quoted in a message. */
#define MAX_NODES_NAMED 3

/* The plan's next step as the message's end: "<lead>: <command>". A move
 * to Azure Linux is `kubectl azlinux migrate`'s (its plan shows the az
 * equivalent), a node image or Kubernetes upgrade `kubectl azlinux
 * upgrade`'s; the rest are az commands. */
static void add_command(struct strbuf *msg, const struct azl_plan *plan,
			const struct azl_cluster *c)
{
	strbuf_addstr(msg, ": ");
	if (plan->kind == AZL_PLAN_OS_SKU_CHANGE)
		strbuf_addf(msg, "kubectl azlinux migrate %s --to %s", plan->pool, plan->target_sku);
	else if (plan->kind == AZL_PLAN_SIDE_BY_SIDE)
		strbuf_addf(msg, "kubectl azlinux migrate %s --to %s --new-pool %s", plan->pool,
			    plan->target_sku, plan->new_pool.name);
	else if (!azl_plan_upgrade_command(plan, msg))
		azl_plan_az_command(plan, c, msg);
}

static int retired(const struct azl_cluster *c, const struct azl_pool *p,
		   const struct azl_plan *plan, struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;

	if (!azl_os_retired(&p->os))
		return 0;
	strbuf_addstr(&msg, "Azure Linux 2.0 is retired: no patches since 2025-11-30 and its node images "
		      "were removed on 2026-03-31, so this pool cannot scale or be repaired; ");
	if (plan->kind == AZL_PLAN_KUBERNETES_UPGRADE)
		strbuf_addf(&msg, "upgrade it to Kubernetes %s, which moves it to Azure Linux 3.0",
			    plan->to_version);
	else
		strbuf_addstr(&msg, "move it to Azure Linux 3.0 in place");
	add_command(&msg, plan, c);
	azl_finding_add(out, AZL_SEVERITY_ERROR, AZL_FINDING_AZURE_LINUX2_RETIRED, &msg);
	return 1;
}

static void azl3_pin(const struct azl_cluster *c, const struct azl_plan *plan,
		     struct azl_finding_list *out)
{
	const struct azl_finding *pin = azl_plan_item(&plan->risks, AZL_PLAN_RISK_AZL3_PIN);
	struct strbuf msg = STRBUF_INIT;

	if (!pin)
		return;
	strbuf_addf(&msg, "%s; switch the pool to the default Azure Linux SKU first", pin->message);
	add_command(&msg, plan, c);
	azl_finding_add(out, pin->severity, AZL_FINDING_AZURE_LINUX3_PIN, &msg);
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
	strbuf_addf(&msg, "; fix the cause, then reconcile the pool: az aks nodepool update --resource-group %s --cluster-name %s --name %s",
		    c->resource_group, c->name, p->name);
	azl_finding_add(out, AZL_SEVERITY_ERROR, AZL_FINDING_PROVISIONING_FAILED, &msg);
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
	azl_finding_add(out, AZL_SEVERITY_WARNING, AZL_FINDING_NODES_NOT_READY, &msg);
}

static void node_image(const struct azl_cluster *c, const struct azl_pool *p,
		       struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;
	struct azl_plan plan;
	int automatic;

	azl_plan_node_image(c, p, &plan);
	if (plan.kind != AZL_PLAN_NODE_IMAGE_UPGRADE) {
		azl_plan_release(&plan);
		return;
	}
	automatic = azl_plan_item(&plan.risks, AZL_PLAN_RISK_AUTOMATIC) != NULL;
	strbuf_addf(&msg, "node image %s is behind the latest, %s; ", p->node_image_version,
		    plan.node_image_version);
	strbuf_addstr(&msg, automatic ? "the NodeImage channel applies it in the next maintenance window, or now"
				      : "upgrade the image");
	add_command(&msg, &plan, c);
	azl_finding_add(out, automatic ? AZL_SEVERITY_INFO : AZL_SEVERITY_WARNING,
			AZL_FINDING_NODE_IMAGE_UPGRADE, &msg);
	azl_plan_release(&plan);
}

static void kubernetes_upgrade(const struct azl_cluster *c, const struct azl_pool *p,
			       struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;
	struct azl_plan plan;

	if (azl_plan_kubernetes(c, p, NULL, &plan) || plan.kind != AZL_PLAN_KUBERNETES_UPGRADE) {
		azl_plan_release(&plan);
		return;
	}
	strbuf_addf(&msg, "Kubernetes %s is available (the pool runs %s%s)", plan.to_version,
		    p->kubernetes_version, plan.behind_control_plane ? ", behind the control plane" : "");
	add_command(&msg, &plan, c);
	azl_finding_add(out, plan.behind_control_plane ? AZL_SEVERITY_WARNING : AZL_SEVERITY_INFO,
			AZL_FINDING_KUBERNETES_UPGRADE, &msg);
	azl_plan_release(&plan);
}

int azl_findings_migration_blockers(const struct azl_pool *pool, struct strbuf *why)
{
	struct azl_finding_list blockers = { NULL, 0 };
	struct azl_plan plan = { .blockers = { NULL, 0 } };
	int n;

	strbuf_reset(why);
	azl_plan_in_place_blockers(pool, &blockers);
	plan.blockers = blockers;
	azl_plan_blocker_text(&plan, why);
	n = (int)blockers.nr;
	azl_finding_list_release(&blockers);
	return n;
}

static void ubuntu(const struct azl_cluster *c, const struct azl_pool *p,
		   const struct azl_plan *plan, struct azl_finding_list *out)
{
	struct strbuf msg = STRBUF_INIT;

	if (p->os.family != AZL_OS_UBUNTU)
		return;
	if (plan->kind == AZL_PLAN_OS_SKU_CHANGE) {
		strbuf_addf(&msg, "%s can move to Azure Linux 3.0 in place (nodes are reimaged with surge, "
			    "honouring PodDisruptionBudgets)", p->os.name);
	} else {
		strbuf_addf(&msg, "%s cannot move to Azure Linux in place (", p->os.name);
		azl_plan_blocker_text(plan, &msg);
		strbuf_addstr(&msg, "); add an Azure Linux pool beside it, then drain and delete this one");
	}
	add_command(&msg, plan, c);
	azl_finding_add(out, AZL_SEVERITY_INFO, AZL_FINDING_UBUNTU_CAN_MIGRATE, &msg);
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
	azl_finding_add(out, AZL_SEVERITY_INFO, AZL_FINDING_GPU_POOL, &msg);
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

void azl_findings_evaluate_among(const struct azl_cluster *cluster, const struct azl_pool *pool,
				 const struct azl_pool_names *taken, struct azl_finding_list *out)
{
	size_t first = out->nr;
	struct azl_finding_list mine;
	struct azl_plan move;

	azl_plan_migrate(cluster, pool, taken, &move);
	/* the retirement fix is the upgrade; saying so twice is noise */
	if (!retired(cluster, pool, &move, out)) {
		node_image(cluster, pool, out);
		kubernetes_upgrade(cluster, pool, out);
	}
	azl3_pin(cluster, &move, out);
	provisioning_failed(cluster, pool, out);
	nodes_not_ready(pool, out);
	ubuntu(cluster, pool, &move, out);
	gpu(pool, out);
	azl_plan_release(&move);
	if (out->nr == first)
		return;
	mine.items = out->items + first;
	mine.nr = out->nr - first;
	sort_findings(&mine);
}

void azl_findings_evaluate(const struct azl_cluster *cluster, const struct azl_pool *pool,
			   struct azl_finding_list *out)
{
	azl_findings_evaluate_among(cluster, pool, NULL, out);
}

void azl_findings_evaluate_pools(const struct azl_cluster *cluster, struct azl_pool_list *pools)
{
	for (size_t i = 0; i < pools->nr; i++)
		azl_findings_evaluate_among(cluster, &pools->items[i], &pools->names,
					    &pools->items[i].findings);
}

int azl_findings_worst(const struct azl_finding_list *list)
{
	int worst = -1;

	for (size_t i = 0; i < list->nr; i++)
		if ((int)list->items[i].severity > worst)
			worst = (int)list->items[i].severity;
	return worst;
}
