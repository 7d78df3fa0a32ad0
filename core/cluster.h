/* Which AKS cluster a kubeconfig context talks to
 * (shared/reference/aks-api.md §4.3, §5; credentials.md §2.4).
 *
 * The kubeconfig server's host is matched, case-insensitively, against the
 * fqdn and privateFQDN of the managed clusters in a subscription. The
 * subscription comes from --subscription, else AZURE_SUBSCRIPTION_ID, else
 * the nodes' spec.providerID, else the Azure CLI's default subscription
 * (azureProfile.json). --resource-group narrows the search; with --name it
 * replaces it. The answer is cached per (server, context) in
 * $XDG_CACHE_HOME/kubectl-azlinux/clusters.json and checked again with a
 * GET each time: a cluster that is gone (404) or no longer serves that host
 * is searched for afresh. */
#ifndef AZL_CLUSTER_H
#define AZL_CLUSTER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "arm.h"
#include "cloud.h"
#include "kube.h"
#include "strbuf.h"

/* AKS's limits (aks docs quotas-skus-regions.md, operator-best-practices-
 * run-at-scale.md): 100 pools and 5,000 nodes a cluster, 1,000 nodes a pool;
 * past 1,000 nodes a cluster must be on the Standard (or Premium) tier. */
#define AZL_CLUSTER_MAX_POOLS 100
#define AZL_CLUSTER_MAX_NODES 5000
#define AZL_CLUSTER_MAX_NODES_FREE 1000
#define AZL_POOL_MAX_NODES 1000

/* A managed cluster, as ARM describes it. Strings are "" when absent. */
struct azl_cluster {
	char *id;
	char *name;
	char *resource_group;
	char *subscription;
	char *location;
	char *kubernetes_version;         /* properties.kubernetesVersion: the target */
	char *current_kubernetes_version; /* what runs; kubernetesVersion if absent */
	char *fqdn;
	char *private_fqdn;
	char *node_resource_group;
	char *provisioning_state;
	char *power_state;                /* properties.powerState.code */
	char *upgrade_channel;            /* autoUpgradeProfile.upgradeChannel, "none" if absent */
	char *node_os_upgrade_channel;    /* autoUpgradeProfile.nodeOSUpgradeChannel */
	char *network_plugin;             /* networkProfile.networkPlugin: azure, kubenet, none */
	char *network_plugin_mode;        /* networkProfile.networkPluginMode: overlay or "" */
	char *sku_tier;                   /* sku.tier: Free, Standard, Premium; "Free" if absent */
	long max_agent_pools;             /* properties.maxAgentPools; AZL_CLUSTER_MAX_POOLS if absent */
	char **upgrades;                  /* control-plane upgrades, set by azl_pool_inspect() */
	size_t nr_upgrades;
	int serves_context;               /* 1 when fqdn/privateFQDN is the context's
					   * host; 0 only when --name picked another */
};

int azl_cluster_from_json(const cJSON *mc, struct azl_cluster *out);
/* The most nodes AKS lets c have: AZL_CLUSTER_MAX_NODES on the Standard
 * or Premium tier, AZL_CLUSTER_MAX_NODES_FREE on Free. */
long azl_cluster_node_limit(const struct azl_cluster *c);
void azl_cluster_release(struct azl_cluster *c);

struct azl_cluster_query {
	const char *server;          /* the context's server URL */
	const char *context;         /* the context's name, for messages and the cache */
	const char *subscription;    /* --subscription, or NULL */
	const char *resource_group;  /* --resource-group, or NULL */
	const char *name;            /* --name, or NULL (needs resource_group) */
	const struct azl_cloud *cloud; /* AKS host suffixes; NULL: no suffix check */
	int no_cache;                /* neither read nor write the cache */
};

/* Finds the cluster behind q->server. kube (may be NULL) is used only to
 * read a node's providerID when no subscription was given. Errors:
 * AZL_ENOTFOUND "context X does not point at an AKS cluster (server Y)" or
 * "no AKS cluster with API server Y in subscription S: ..."; ARM errors as
 * they come. */
int azl_cluster_resolve(struct azl_arm *arm, struct azl_kube *kube,
			const struct azl_cluster_query *q, struct azl_cluster *out);

/* Resolution in two steps, for a caller that can send the check of a
 * cached answer along with its own first requests instead of before them.
 * azl_cluster_cached_id(): 1 and *id set when the cache has an entry that
 * fits q (never with q->name or q->no_cache), 0 when not; no request.
 * azl_cluster_confirm(): given the GET of that id (res), 0 and out filled
 * when the cluster still serves q->server; 0 and *stale set when it is gone
 * or moved (the entry is forgotten: azl_cluster_resolve() searches afresh);
 * other ARM errors as they come. */
int azl_cluster_cached_id(const struct azl_cluster_query *q, struct strbuf *id);
int azl_cluster_confirm(const struct azl_cluster_query *q, const char *id,
			const struct azl_arm_result *res, struct azl_cluster *out, int *stale);

/* The subscription to search when none was resolved from the cache: from
 * q->subscription, AZURE_SUBSCRIPTION_ID, a node's providerID, or
 * azureProfile.json. *from names the source ("--subscription", ...).
 * *azure_nodes is set to 1 when the nodes have Azure providerIDs, -1 when
 * they have others, 0 when unknown. */
int azl_cluster_subscription(const struct azl_cluster_query *q, struct azl_kube *kube,
			     struct strbuf *sub, const char **from, int *azure_nodes);

/* Pure helpers, exposed for tests. */

/* The host of a server URL ("https://Host:443/x" -> "Host", "[::1]" -> "::1"). */
int azl_cluster_server_host(const char *server, struct strbuf *host);
/* 1 when host equals fqdn, ignoring case and a trailing dot. */
int azl_cluster_host_matches(const char *host, const char *fqdn);
/* 1 when host is the managed cluster's fqdn or privateFQDN. */
int azl_cluster_json_matches(const cJSON *mc, const char *host);
/* The subscription of an "azure:///subscriptions/S/..." providerID:
 * 0 and sub set; AZL_EINVALID when it is not an Azure providerID. */
int azl_provider_id_subscription(const char *provider_id, struct strbuf *sub);
/* The default subscription of an azureProfile.json text (which starts with
 * a UTF-8 byte-order mark): the isDefault entry of cloud_name (NULL: any).
 * AZL_ENOTFOUND when there is none, AZL_EINVALID when it is not JSON. */
int azl_azure_profile_default(const char *text, size_t len, const char *cloud_name,
			      struct strbuf *sub);

/* The cache: $XDG_CACHE_HOME/kubectl-azlinux/clusters.json. */
int azl_cluster_cache_path(struct strbuf *out);
/* AZL_ENOTFOUND when there is no (readable) entry. */
int azl_cluster_cache_lookup(const char *server, const char *context, struct strbuf *id);
int azl_cluster_cache_store(const char *server, const char *context, const char *id);
int azl_cluster_cache_forget(const char *server, const char *context);

#endif
