#include "cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachedir.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "num.h"
#include "statefile.h"
#include "wrapper.h"

#define CACHE_VERSION 1

int azl_cluster_from_json(const cJSON *mc, struct azl_cluster *out)
{
	const char *id = azl_json_str(mc, "id", "");
	struct azl_arm_id parts;
	const char *current;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = azl_arm_id_parse(id, &parts);
	if (rc)
		return azl_error_prefix("managed cluster '%s'", azl_json_str(mc, "name", "?"));
	out->id = xstrdup(id);
	out->name = xstrdup(azl_json_str(mc, "name", parts.name));
	out->resource_group = xstrdup(parts.resource_group);
	out->subscription = xstrdup(parts.subscription);
	azl_arm_id_release(&parts);
	out->location = xstrdup(azl_json_str(mc, "location", ""));
	out->kubernetes_version = xstrdup(azl_json_str(mc, "properties.kubernetesVersion", ""));
	current = azl_json_str(mc, "properties.currentKubernetesVersion", "");
	out->current_kubernetes_version = xstrdup(*current ? current : out->kubernetes_version);
	out->fqdn = xstrdup(azl_json_str(mc, "properties.fqdn", ""));
	out->private_fqdn = xstrdup(azl_json_str(mc, "properties.privateFQDN", ""));
	out->node_resource_group = xstrdup(azl_json_str(mc, "properties.nodeResourceGroup", ""));
	out->provisioning_state = xstrdup(azl_json_str(mc, "properties.provisioningState", ""));
	out->power_state = xstrdup(azl_json_str(mc, "properties.powerState.code", ""));
	out->upgrade_channel = xstrdup(azl_json_str(mc, "properties.autoUpgradeProfile.upgradeChannel", "none"));
	out->node_os_upgrade_channel = xstrdup(azl_json_str(mc, "properties.autoUpgradeProfile.nodeOSUpgradeChannel", ""));
	out->network_plugin = xstrdup(azl_json_str(mc, "properties.networkProfile.networkPlugin", ""));
	out->network_plugin_mode = xstrdup(azl_json_str(mc, "properties.networkProfile.networkPluginMode", ""));
	out->sku_tier = xstrdup(azl_json_str(mc, "sku.tier", "Free"));
	if (azl_num_json_member(cJSON_GetObjectItemCaseSensitive(mc, "properties"), "maxAgentPools", 1,
				100000, AZL_CLUSTER_MAX_POOLS, &out->max_agent_pools))
		out->max_agent_pools = AZL_CLUSTER_MAX_POOLS;  /* a read-only hint, not worth failing on */
	return 0;
}

long azl_cluster_node_limit(const struct azl_cluster *c)
{
	return !strcasecmp(c->sku_tier, "Standard") || !strcasecmp(c->sku_tier, "Premium")
	       ? AZL_CLUSTER_MAX_NODES : AZL_CLUSTER_MAX_NODES_FREE;
}

void azl_cluster_release(struct azl_cluster *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->name);
	free(c->resource_group);
	free(c->subscription);
	free(c->location);
	free(c->kubernetes_version);
	free(c->current_kubernetes_version);
	free(c->fqdn);
	free(c->private_fqdn);
	free(c->node_resource_group);
	free(c->provisioning_state);
	free(c->power_state);
	free(c->upgrade_channel);
	free(c->node_os_upgrade_channel);
	free(c->network_plugin);
	free(c->network_plugin_mode);
	free(c->sku_tier);
	for (size_t i = 0; i < c->nr_upgrades; i++)
		free(c->upgrades[i]);
	free(c->upgrades);
	memset(c, 0, sizeof(*c));
}

/* ---- pure helpers ---- */

int azl_cluster_server_host(const char *server, struct strbuf *host)
{
	const char *p = server ? strstr(server, "://") : NULL;
	const char *at;
	size_t len;

	strbuf_reset(host);
	p = p ? p + 3 : server;
	if (!p || !*p)
		return azl_error_set(AZL_EINVALID, "server URL '%s' has no host", server ? server : "");
	len = strcspn(p, "/?#");
	at = memchr(p, '@', len);
	if (at) {
		len -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (*p == '[') {
		const char *close = memchr(p, ']', len);

		if (!close)
			return azl_error_set(AZL_EINVALID, "server URL '%s' has a bad IPv6 host", server);
		strbuf_add(host, p + 1, (size_t)(close - p - 1));
		return 0;
	}
	strbuf_add(host, p, strcspn(p, ":/?#") < len ? strcspn(p, ":/?#") : len);
	if (!host->len)
		return azl_error_set(AZL_EINVALID, "server URL '%s' has no host", server);
	return 0;
}

static size_t len_without_dot(const char *s)
{
	size_t n = strlen(s);

	return n && s[n - 1] == '.' ? n - 1 : n;
}

int azl_cluster_host_matches(const char *host, const char *fqdn)
{
	size_t n;

	if (!host || !fqdn || !*host || !*fqdn)
		return 0;
	n = len_without_dot(host);
	return n == len_without_dot(fqdn) && !strncasecmp(host, fqdn, n);
}

int azl_cluster_json_matches(const cJSON *mc, const char *host)
{
	return azl_cluster_host_matches(host, azl_json_str(mc, "properties.fqdn", "")) ||
	       azl_cluster_host_matches(host, azl_json_str(mc, "properties.privateFQDN", ""));
}

int azl_provider_id_subscription(const char *provider_id, struct strbuf *sub)
{
	static const char prefix[] = "azure:///subscriptions/";
	const char *p;
	size_t len;

	strbuf_reset(sub);
	if (!provider_id || strncasecmp(provider_id, prefix, sizeof(prefix) - 1))
		return azl_error_set(AZL_EINVALID, "providerID '%s' is not an Azure one (azure:///subscriptions/...)",
				     provider_id ? provider_id : "");
	p = provider_id + sizeof(prefix) - 1;
	len = strcspn(p, "/");
	if (!len)
		return azl_error_set(AZL_EINVALID, "providerID '%s' has no subscription", provider_id);
	strbuf_add(sub, p, len);
	return 0;
}

int azl_azure_profile_default(const char *text, size_t len, const char *cloud_name,
			      struct strbuf *sub)
{
	cJSON *root, *subs, *s;
	int rc = AZL_ENOTFOUND;

	strbuf_reset(sub);
	/* az writes it with Python's utf-8-sig codec */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	root = cJSON_ParseWithLength(text, len);
	if (!root)
		return azl_error_set(AZL_EINVALID, "azureProfile.json is not valid JSON");
	subs = cJSON_GetObjectItemCaseSensitive(root, "subscriptions");
	cJSON_ArrayForEach(s, subs) {
		const char *env = azl_json_str(s, "environmentName", "");

		if (!azl_json_bool(s, "isDefault", 0))
			continue;
		if (cloud_name && *env && strcasecmp(env, cloud_name))
			continue;
		if (!*azl_json_str(s, "id", ""))
			continue;
		strbuf_addstr(sub, azl_json_str(s, "id", ""));
		rc = 0;
		break;
	}
	cJSON_Delete(root);
	if (rc)
		return azl_error_set(AZL_ENOTFOUND, "azureProfile.json has no default subscription%s%s",
				     cloud_name ? " for " : "", cloud_name ? cloud_name : "");
	return 0;
}

/* ---- the cache ---- */

/* The cache's own messages, "cluster cache: ...", for cachedir's. */
static int prefixed(int rc)
{
	return rc < 0 ? azl_error_prefix("cluster cache") : rc;
}

int azl_cluster_cache_path(struct strbuf *out)
{
	int rc = prefixed(azl_cachedir_path(out));

	if (!rc)
		strbuf_addstr(out, "/clusters.json");
	return rc;
}

/* Opens and locks the cache; its document is the file's, or empty. */
static int open_cache(int write, struct azl_statefile **sf, cJSON **root)
{
	struct strbuf path = STRBUF_INIT;
	int rc = azl_cluster_cache_path(&path);

	*root = NULL;
	if (!rc)
		rc = prefixed(azl_statefile_open(sf, path.buf, CACHE_VERSION,
						 write ? AZL_STATEFILE_WRITE : 0));
	if (!rc)
		rc = prefixed(azl_statefile_load_array(*sf, "clusters", root));
	strbuf_release(&path);
	return rc;
}

static int entry_index(const cJSON *clusters, const char *server, const char *context)
{
	int i = 0;
	const cJSON *e;

	cJSON_ArrayForEach(e, clusters) {
		if (!strcmp(azl_json_str(e, "server", ""), server) &&
		    !strcmp(azl_json_str(e, "context", ""), context))
			return i;
		i++;
	}
	return -1;
}

int azl_cluster_cache_lookup(const char *server, const char *context, struct strbuf *id)
{
	struct azl_statefile *sf = NULL;
	const cJSON *clusters;
	cJSON *root;
	int i;

	strbuf_reset(id);
	if (open_cache(0, &sf, &root)) {
		azl_statefile_close(sf);
		return AZL_ENOTFOUND;
	}
	azl_statefile_close(sf);
	clusters = cJSON_GetObjectItemCaseSensitive(root, "clusters");
	i = entry_index(clusters, server, context);
	if (i >= 0)
		strbuf_addstr(id, azl_json_str(cJSON_GetArrayItem(clusters, i), "id", ""));
	cJSON_Delete(root);
	return id->len ? 0 : AZL_ENOTFOUND;
}

/* Entries are kept in the order they were last stored; past this many the
 * oldest go, so a long-lived cache of many kubeconfigs stays small. */
#define CACHE_MAX_ENTRIES 256

/* Read-modify-write under the exclusive lock: replaces (id != NULL) or
 * removes the entry. */
static int update_cache(const char *server, const char *context, const char *id)
{
	struct azl_statefile *sf = NULL;
	cJSON *root, *clusters;
	int rc, i;

	rc = open_cache(1, &sf, &root);
	if (rc) {
		azl_statefile_close(sf);
		return rc;
	}
	clusters = cJSON_GetObjectItemCaseSensitive(root, "clusters");
	i = entry_index(clusters, server, context);
	if (i >= 0)
		cJSON_DeleteItemFromArray(clusters, i);
	if (id) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "server", server);
		cJSON_AddStringToObject(e, "context", context);
		cJSON_AddStringToObject(e, "id", id);
		cJSON_AddItemToArray(clusters, e);
		while (cJSON_GetArraySize(clusters) > CACHE_MAX_ENTRIES)
			cJSON_DeleteItemFromArray(clusters, 0);
	}
	rc = (i >= 0 || id) ? prefixed(azl_statefile_save(sf, root)) : 0;
	azl_statefile_close(sf);
	cJSON_Delete(root);
	return rc;
}

int azl_cluster_cache_store(const char *server, const char *context, const char *id)
{
	return update_cache(server, context, id);
}

int azl_cluster_cache_forget(const char *server, const char *context)
{
	return update_cache(server, context, NULL);
}

/* ---- the subscription ---- */

#define NODE_PROBE "/api/v1/nodes?limit=1"

/* The probe failed: its request, the HTTP status and reason when one came,
 * and the server's words (or the transport's), into why. */
static void describe_probe_failure(const char *server, const struct azl_kube_result *res,
				   struct strbuf *why)
{
	size_t len = server ? strlen(server) : 0;

	while (len && server[len - 1] == '/')
		len--;
	strbuf_addf(why, "GET %.*s%s: ", (int)len, server ? server : "", NODE_PROBE);
	if (res->status)
		strbuf_addf(why, "HTTP %ld%s%s: ", res->status, res->reason.len ? " " : "",
			    res->reason.buf);
	strbuf_addstr(why, azl_error_message());
}

/* The first node's providerID says which subscription the VMs live in.
 * AZL_ENOTFOUND when no node has one, AZL_EINVALID when it is not Azure's;
 * when the request failed, its error, described in why. */
static int subscription_from_nodes(struct azl_kube *kube, const char *server,
				   struct strbuf *sub, int *azure_nodes, struct strbuf *why)
{
	struct azl_kube_request req = { .method = "GET", .path = NODE_PROBE };
	struct azl_kube_result res = AZL_KUBE_RESULT_INIT;
	const cJSON *node;
	const char *pid;
	int rc;

	*azure_nodes = 0;
	if (!kube)
		return AZL_ENOTFOUND;
	rc = azl_kube_do(kube, &req, &res);
	if (rc) {
		describe_probe_failure(server, &res, why);
		azl_logf(4, "reading a node's providerID: %s", why->buf);
		azl_kube_result_release(&res);
		return rc;
	}
	node = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(res.body, "items"), 0);
	pid = azl_json_str(node, "spec.providerID", "");
	rc = AZL_ENOTFOUND;
	if (node && *pid) {
		rc = azl_provider_id_subscription(pid, sub);
		*azure_nodes = rc ? -1 : 1;
	}
	azl_kube_result_release(&res);
	return rc;
}

static int subscription_from_profile(const struct azl_cluster_query *q, struct strbuf *sub)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	const char *dir = getenv("AZURE_CONFIG_DIR");
	const char *home = getenv("HOME");
	int rc = AZL_ENOTFOUND;

	if (dir && *dir)
		strbuf_addf(&path, "%s/azureProfile.json", dir);
	else if (home && *home)
		strbuf_addf(&path, "%s/.azure/azureProfile.json", home);
	if (path.len && !strbuf_read_file(&text, path.buf)) {
		rc = azl_azure_profile_default(text.buf, text.len, q->cloud ? q->cloud->name : NULL, sub);
		if (rc)
			azl_logf(4, "%s: %s", path.buf, azl_error_message());
	}
	strbuf_release(&path);
	strbuf_release(&text);
	return rc;
}

int azl_cluster_subscription(const struct azl_cluster_query *q, struct azl_kube *kube,
			     struct strbuf *sub, const char **from, int *azure_nodes)
{
	const char *env = getenv("AZURE_SUBSCRIPTION_ID");
	struct strbuf why = STRBUF_INIT;
	int rc = 0;

	strbuf_reset(sub);
	*azure_nodes = 0;
	*from = NULL;
	if (q->subscription && *q->subscription) {
		strbuf_addstr(sub, q->subscription);
		*from = "--subscription";
	} else if (env && *env) {
		strbuf_addstr(sub, env);
		*from = "AZURE_SUBSCRIPTION_ID";
	} else if (!(rc = subscription_from_nodes(kube, q->server, sub, azure_nodes, &why))) {
		*from = "the nodes' providerID";
	} else if (why.len) {
		/* the API server failed: that is the problem, not the subscription
		 * (a guess from the Azure CLI would only meet it again later) */
		rc = azl_error_set(rc, "context %s: reading a node's providerID for its Azure subscription: %s (check the API server, or pass --subscription)",
				   q->context ? q->context : "", why.buf);
	} else if (!(rc = subscription_from_profile(q, sub))) {
		*from = "the Azure CLI's default subscription";
	} else {
		rc = azl_error_set(AZL_EINVALID,
				   "no Azure subscription for context %s: pass --subscription, set AZURE_SUBSCRIPTION_ID or run 'az account set'",
				   q->context ? q->context : "");
	}
	strbuf_release(&why);
	return rc;
}

/* ---- resolution ---- */

static int get_cluster(struct azl_arm *arm, const char *path, struct azl_cluster *out,
		       cJSON **json_out)
{
	cJSON *mc;
	int rc = azl_arm_get(arm, path, &mc);

	if (rc)
		return rc;
	rc = azl_cluster_from_json(mc, out);
	if (!rc && json_out)
		*json_out = mc;
	else
		cJSON_Delete(mc);
	return rc;
}

/* Whether the cluster --name picked is the one the context talks to: a
 * mismatch is allowed (a proxy in between) but worth a warning. */
static int host_serves(const cJSON *mc, const char *server)
{
	struct strbuf host = STRBUF_INIT;
	int yes = !azl_cluster_server_host(server, &host) && azl_cluster_json_matches(mc, host.buf);

	strbuf_release(&host);
	azl_error_clear();
	return yes;
}

static int by_name(struct azl_arm *arm, struct azl_kube *kube,
		   const struct azl_cluster_query *q, struct azl_cluster *out)
{
	struct strbuf sub = STRBUF_INIT, path = STRBUF_INIT;
	cJSON *mc = NULL;
	const char *from;
	int azure_nodes, rc;

	if (!q->resource_group || !*q->resource_group)
		return azl_error_set(AZL_EINVALID, "--name needs --resource-group");
	rc = azl_cluster_subscription(q, kube, &sub, &from, &azure_nodes);
	if (!rc) {
		azl_arm_cluster_path(&path, sub.buf, q->resource_group, q->name);
		rc = get_cluster(arm, path.buf, out, &mc);
		if (!rc)
			out->serves_context = host_serves(mc, q->server);
		if (rc == AZL_ENOTFOUND)
			azl_error_set(rc, "no AKS cluster %s in resource group %s of subscription %s (from %s): check --name, --resource-group and --subscription",
				      q->name, q->resource_group, sub.buf, from);
	}
	cJSON_Delete(mc);
	strbuf_release(&sub);
	strbuf_release(&path);
	return rc;
}

/* A cached answer is only good for the question asked: --subscription or
 * --resource-group may point elsewhere. */
static int cache_fits(const struct azl_cluster_query *q, const char *id)
{
	struct azl_arm_id parts;
	int fits;

	if (azl_arm_id_parse(id, &parts))
		return 0;
	fits = (!q->subscription || !*q->subscription ||
		!strcasecmp(q->subscription, parts.subscription)) &&
	       (!q->resource_group || !*q->resource_group ||
		!strcasecmp(q->resource_group, parts.resource_group));
	azl_arm_id_release(&parts);
	return fits;
}

int azl_cluster_cached_id(const struct azl_cluster_query *q, struct strbuf *id)
{
	strbuf_reset(id);
	if ((q->name && *q->name) || q->no_cache ||
	    azl_cluster_cache_lookup(q->server, q->context, id) || !cache_fits(q, id->buf)) {
		azl_error_clear();
		strbuf_reset(id);
		return 0;
	}
	return 1;
}

/* The cluster a cached id names, as its GET found it: does it still serve
 * the context's host? */
static int still_serves(const struct azl_cluster_query *q, const struct azl_arm_result *res,
			struct azl_cluster *out)
{
	struct strbuf host = STRBUF_INIT;
	int rc = res->code ? azl_error_set(res->code, "%s", res->error.buf)
			   : azl_cluster_server_host(q->server, &host);

	if (!rc)
		rc = azl_cluster_from_json(res->json, out);
	if (!rc && !azl_cluster_json_matches(res->json, host.buf)) {
		azl_cluster_release(out);
		rc = AZL_ENOTFOUND;
	}
	strbuf_release(&host);
	return rc;
}

int azl_cluster_confirm(const struct azl_cluster_query *q, const char *id,
			const struct azl_arm_result *res, struct azl_cluster *out, int *stale)
{
	int rc = still_serves(q, res, out);

	*stale = rc == AZL_ENOTFOUND || rc == AZL_EINVALID;
	if (*stale) {
		azl_logf(4, "cached cluster %s for context %s is gone or moved; searching again",
			 id, q->context);
		azl_error_clear();
		azl_cluster_cache_forget(q->server, q->context);
		return 0;
	}
	if (!rc) {
		out->serves_context = 1;
		azl_logf(4, "context %s: cluster %s (cached)", q->context, out->id);
	}
	return rc;
}

/* Out filled and *hit set when the cached cluster still serves the
 * context's host; *hit 0 when there is no usable entry (absent, deleted,
 * moved). */
static int from_cache(struct azl_arm *arm, const struct azl_cluster_query *q,
		      struct azl_cluster *out, int *hit)
{
	struct strbuf id = STRBUF_INIT;
	struct azl_arm_result res = AZL_ARM_RESULT_INIT;
	int stale = 1, rc = 0;

	if (azl_cluster_cached_id(q, &id)) {
		res.code = azl_arm_get(arm, id.buf, &res.json);
		if (res.code)
			strbuf_addstr(&res.error, azl_error_message());
		rc = azl_cluster_confirm(q, id.buf, &res, out, &stale);
	}
	*hit = !rc && !stale;
	azl_arm_result_release(&res);
	strbuf_release(&id);
	return rc;
}

/* Out filled and *found set when a cluster serves host; ARM errors. */
static int search(struct azl_arm *arm, const struct azl_cluster_query *q, const char *sub,
		  const char *host, struct azl_cluster *out, int *found)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *items = NULL, *mc;
	int rc;

	strbuf_addstr(&path, "/subscriptions/");
	strbuf_addurlenc(&path, sub);
	if (q->resource_group && *q->resource_group) {
		strbuf_addstr(&path, "/resourceGroups/");
		strbuf_addurlenc(&path, q->resource_group);
	}
	strbuf_addstr(&path, "/providers/Microsoft.ContainerService/managedClusters");
	rc = azl_arm_list(arm, path.buf, &items);
	strbuf_release(&path);
	if (rc)
		return rc;
	*found = 0;                     /* no match, unlike an ARM 404 */
	cJSON_ArrayForEach(mc, items) {
		if (!azl_cluster_json_matches(mc, host))
			continue;
		rc = azl_cluster_from_json(mc, out);
		*found = !rc;
		break;
	}
	cJSON_Delete(items);
	return rc;
}

static int not_found(const struct azl_cluster_query *q, const char *host, const char *sub,
		     const char *from)
{
	if (q->resource_group && *q->resource_group)
		return azl_error_set(AZL_ENOTFOUND,
				     "no AKS cluster with API server %s in resource group %s of subscription %s (from %s): pass --subscription or --resource-group/--name",
				     host, q->resource_group, sub, from);
	return azl_error_set(AZL_ENOTFOUND,
			     "no AKS cluster with API server %s in subscription %s (from %s): pass --subscription or --resource-group/--name",
			     host, sub, from);
}

static int not_aks(const struct azl_cluster_query *q)
{
	return azl_error_set(AZL_ENOTFOUND, "context %s does not point at an AKS cluster (server %s)",
			     q->context, q->server);
}

/* A context is not AKS when its host has no AKS suffix and its nodes say
 * they are not Azure VMs. An unknown answer is not proof either way (a
 * private cluster behind a proxy has neither), so the search decides. */
static int nodes_are_azure(struct azl_kube *kube, int known)
{
	struct strbuf sub = STRBUF_INIT, why = STRBUF_INIT;
	int azure_nodes = known;

	if (!azure_nodes)
		subscription_from_nodes(kube, NULL, &sub, &azure_nodes, &why);
	strbuf_release(&sub);
	strbuf_release(&why);
	azl_error_clear();
	return azure_nodes;
}

static int by_search(struct azl_arm *arm, struct azl_kube *kube,
		     const struct azl_cluster_query *q, const char *host, struct azl_cluster *out)
{
	struct strbuf sub = STRBUF_INIT;
	const char *from;
	int azure_nodes, aks_host, found = 0, rc;

	aks_host = q->cloud && azl_cloud_is_aks_host(q->cloud, host);
	rc = azl_cluster_subscription(q, kube, &sub, &from, &azure_nodes);
	if (!aks_host && azure_nodes < 0)
		rc = not_aks(q);
	if (rc)
		goto out;
	azl_logf(4, "context %s: searching subscription %s (from %s) for API server %s",
		 q->context, sub.buf, from, host);
	rc = search(arm, q, sub.buf, host, out, &found);
	if (!rc && found)
		out->serves_context = 1;
	if (!rc && !found)
		rc = !aks_host && nodes_are_azure(kube, azure_nodes) < 0
			? not_aks(q) : not_found(q, host, sub.buf, from);
	if (!rc && !q->no_cache && azl_cluster_cache_store(q->server, q->context, out->id))
		azl_logf(2, "%s", azl_error_message());
out:
	strbuf_release(&sub);
	return rc;
}

int azl_cluster_resolve(struct azl_arm *arm, struct azl_kube *kube,
			const struct azl_cluster_query *q, struct azl_cluster *out)
{
	struct strbuf host = STRBUF_INIT;
	int hit, rc;

	memset(out, 0, sizeof(*out));
	if (q->name && *q->name)
		return by_name(arm, kube, q, out);
	rc = from_cache(arm, q, out, &hit);
	if (rc || hit)
		return rc;
	rc = azl_cluster_server_host(q->server, &host);
	if (!rc)
		rc = by_search(arm, kube, q, host.buf, out);
	strbuf_release(&host);
	return rc;
}
