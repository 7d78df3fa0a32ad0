/* What `pools` and `check` share: the cluster flags, inspecting one
 * context or a fleet of them (--all-contexts, --contexts a,b) in parallel,
 * the documented -o json/yaml tree, and the fleet summary line.
 *
 * The inspection itself is core's (inspect.h); this is the front end's
 * part: which contexts the flags name, and how the outcome is printed. */
#ifndef CLI_PLUGIN_FLEET_H
#define CLI_PLUGIN_FLEET_H

#include <cjson/cJSON.h>

#include "auth-flags.h"
#include "cluster.h"
#include "inspect.h"
#include "common.h"
#include "pool.h"
#include "strbuf.h"

/* Which cluster(s), and as whom to ask Azure. */
struct cli_cluster_flags {
	struct cli_azure_flags az;
	const char *subscription;
	const char *resource_group;
	const char *name;
	int all_contexts;
	const char *contexts;        /* "a,b" */
};

/* Which AKS cluster: the flags every command that finds one shares (T's
 * member m has subscription, resource_group and name). */
#define CLI_OPT_AKS_CLUSTER_FLAGS(T, m) \
	OPT_GROUP("AKS cluster flags"), \
	OPT_STRING(0, "subscription", T, m.subscription, "ID", \
		   "Azure subscription to search for the cluster (default: AZURE_SUBSCRIPTION_ID, " \
		   "the nodes' providerID, then the Azure CLI's default).", CLI_COMPLETE_NONE), \
	OPT_STRING('g', "resource-group", T, m.resource_group, "NAME", \
		   "Resource group of the AKS cluster (narrows the search; needed with --name).", \
		   CLI_COMPLETE_NONE), \
	OPT_STRING(0, "name", T, m.name, "NAME", \
		   "Name of the AKS cluster, instead of finding it from the context's API server.", \
		   CLI_COMPLETE_NONE)

#define CLI_OPT_CLUSTER_FLAGS(T, m) \
	CLI_OPT_AKS_CLUSTER_FLAGS(T, m), \
	OPT_BOOL('A', "all-contexts", T, m.all_contexts, \
		 "Inspect every context of the kubeconfig, in parallel."), \
	OPT_STRING(0, "contexts", T, m.contexts, "A,B", \
		   "Inspect these kubeconfig contexts (comma-separated), in parallel.", \
		   CLI_COMPLETE_CONTEXT), \
	CLI_OPT_AZURE_FLAGS(T, m.az)

struct cli_fleet {
	struct azl_inspection *items; /* in kubeconfig (or --contexts) order */
	size_t nr;
	int multi;                   /* --all-contexts or --contexts */
};

/* Inspects the context(s) the flags name, loading only the pools named
 * (all when nr_pools is 0), as every fleet command starts. Returns 0 with
 * *out filled when every context was attempted (each one's failure is in
 * items[i].rc). Otherwise prints "error: <why>" and returns the exit
 * status, with nothing left to release: when nothing could be attempted
 * (bad flags, no kubeconfig, no credential), or when the one context (not
 * a fleet) failed. */
int cli_fleet_inspect_or_report(const struct cli_global_flags *g, const struct cli_cluster_flags *cf,
				const char *const *pools, size_t nr_pools, struct cli_fleet *out);
void cli_fleet_release(struct cli_fleet *fleet);

/* Number of contexts that failed. */
size_t cli_fleet_failures(const struct cli_fleet *fleet);

/* The -o json/yaml tree: {"cluster":{...},"pools":[...]} for one context,
 * {"contexts":[{"context","cluster","pools"} | {"context","error"}],
 * "summary":{...}} for a fleet. */
cJSON *cli_fleet_tree(const struct cli_fleet *fleet);
/* Prints the tree as JSON or YAML; returns the exit code (0 or 1). */
int cli_fleet_print_tree(const struct cli_fleet *fleet, enum cli_output format);

/* "12 clusters, 41 pools: 3 on Azure Linux 2.0 (retired), 9 on Ubuntu,
 * 29 on Azure Linux 3.0" (+ Windows/other when present, + failures). */
void cli_fleet_summary(const struct cli_fleet *fleet, struct strbuf *sb);

/* "Cluster aks1 (resource group rg1, eastus): Kubernetes 1.32.6,
 * auto-upgrade none, node OS upgrade NodeImage" */
void cli_cluster_line(const struct azl_cluster *c, struct strbuf *sb);

/* The pool's finding codes, comma-separated, most severe first. */
void cli_pool_finding_codes(const struct azl_pool *p, struct strbuf *sb);

#endif
