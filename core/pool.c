#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "json.h"
#include "log.h"
#include "node.h"
#include "version.h"
#include "wrapper.h"

static void push_str(char ***items, size_t *nr, const char *s)
{
	*items = xrealloc(*items, (*nr + 1) * sizeof(**items));
	(*items)[(*nr)++] = xstrdup(s);
}

static void free_strs(char **items, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(items[i]);
	free(items);
}

/* N-series sizes carry NVIDIA GPUs; NP is the FPGA family. */
static int gpu_size(const char *size)
{
	const char *s = strncasecmp(size, "Standard_", 9) ? size : size + 9;

	return (*s == 'N' || *s == 'n') && strncasecmp(s, "NP", 2);
}

/* The GPU dedicated VHD shows as a "gpu" image SKU
 * (AKSUbuntu-2204gen2gpucontainerd-...), or as the UseGPUDedicatedVHD tag
 * some tooling sets to ask for it. */
static int gpu_dedicated_vhd(const cJSON *props, const char *image)
{
	const char *dash = strchr(image, '-');
	const char *tag = azl_json_member_str(cJSON_GetObjectItemCaseSensitive(props, "tags"),
					      "UseGPUDedicatedVHD", "");
	size_t sku_len = dash ? strcspn(dash + 1, "-") : 0;

	if (!strcasecmp(tag, "true") || azl_json_bool(props, "gpuProfile.useGPUDedicatedVHD", 0))
		return 1;
	for (size_t i = 0; dash && i + 3 <= sku_len; i++)
		if (!strncasecmp(dash + 1 + i, "gpu", 3))
			return 1;
	return 0;
}

static void join_zones(const cJSON *zones, struct strbuf *sb)
{
	const cJSON *z;

	cJSON_ArrayForEach(z, zones) {
		if (!cJSON_IsString(z))
			continue;
		if (sb->len)
			strbuf_addch(sb, ',');
		strbuf_addstr(sb, z->valuestring);
	}
}

int azl_pool_from_json(const cJSON *ap, struct azl_pool *out)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(ap, "properties");
	struct strbuf zones = STRBUF_INIT;
	const char *version;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(props) || !*azl_json_str(ap, "name", ""))
		return azl_error_set(AZL_EINVALID, "agent pool '%s' has no name or properties",
				     azl_json_str(ap, "id", "?"));
	out->name = xstrdup(azl_json_str(ap, "name", ""));
	out->etag = xstrdup(azl_json_str(props, "eTag", ""));
	out->mode = xstrdup(azl_json_str(props, "mode", "User"));
	out->os_type = xstrdup(azl_json_str(props, "osType", "Linux"));
	out->os_sku = xstrdup(azl_json_str(props, "osSKU", ""));
	out->vm_size = xstrdup(azl_json_str(props, "vmSize", ""));
	out->count = azl_json_int(props, "count", 0);
	version = azl_json_str(props, "currentOrchestratorVersion", "");
	out->kubernetes_version = xstrdup(*version ? version : azl_json_str(props, "orchestratorVersion", ""));
	out->node_image_version = xstrdup(azl_json_str(props, "nodeImageVersion", ""));
	out->latest_node_image_version = xstrdup("");
	out->provisioning_state = xstrdup(azl_json_str(props, "provisioningState", ""));
	out->provisioning_error = xstrdup(azl_json_str(props, "status.provisioningError.message", ""));
	out->power_state = xstrdup(azl_json_str(props, "powerState.code", "Running"));
	out->autoscaling = azl_json_bool(props, "enableAutoScaling", 0);
	out->min_count = out->autoscaling ? azl_json_int(props, "minCount", -1) : -1;
	out->max_count = out->autoscaling ? azl_json_int(props, "maxCount", -1) : -1;
	join_zones(cJSON_GetObjectItemCaseSensitive(props, "availabilityZones"), &zones);
	out->zones = strbuf_detach(&zones, NULL);
	out->max_surge = xstrdup(azl_json_str(props, "upgradeSettings.maxSurge", ""));
	out->workload_runtime = xstrdup(azl_json_str(props, "workloadRuntime", ""));
	out->security_type = xstrdup(azl_json_str(props, "securityProfile.securityType", ""));
	out->gpu_dedicated_vhd = gpu_dedicated_vhd(props, out->node_image_version);
	out->gpu = gpu_size(out->vm_size) || out->gpu_dedicated_vhd ||
		   *azl_json_str(props, "gpuInstanceProfile", "") ||
		   cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(props, "gpuProfile"));
	azl_os_detect(out->node_image_version, out->os_sku, out->kubernetes_version, NULL, NULL, &out->os);
	out->properties = cJSON_Duplicate(props, 1);
	return 0;
}

void azl_pool_release(struct azl_pool *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->etag);
	free(p->mode);
	free(p->os_type);
	free(p->os_sku);
	free(p->vm_size);
	free_strs(p->not_ready, p->nr_not_ready);
	free(p->kubernetes_version);
	free(p->node_image_version);
	free(p->latest_node_image_version);
	free(p->provisioning_state);
	free(p->provisioning_error);
	free(p->power_state);
	free(p->zones);
	free(p->max_surge);
	free(p->workload_runtime);
	free(p->security_type);
	free_strs(p->upgrades, p->nr_upgrades);
	cJSON_Delete(p->properties);
	azl_finding_list_release(&p->findings);
	memset(p, 0, sizeof(*p));
}

void azl_pool_list_release(struct azl_pool_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		azl_pool_release(&list->items[i]);
	free(list->items);
	free_strs(list->names.items, list->names.nr);
	memset(list, 0, sizeof(*list));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct azl_pool *)a)->name, ((const struct azl_pool *)b)->name);
}

static int by_version(const void *a, const void *b)
{
	return azl_version_compare(*(char *const *)a, *(char *const *)b);
}

/* The kubernetesVersion of every non-preview entry of a JSON array. */
static void versions_of(const cJSON *array, char ***items, size_t *nr)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, array) {
		const char *v = azl_json_str(e, "kubernetesVersion", "");

		if (*v && !azl_json_bool(e, "isPreview", 0))
			push_str(items, nr, v);
	}
	if (*nr > 1)
		qsort(*items, *nr, sizeof(**items), by_version);
}

static int wanted(const char *name, const char *const *names, size_t nr_names)
{
	if (!nr_names)
		return 1;
	for (size_t i = 0; i < nr_names; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

static int check_names(const struct azl_cluster *c, const struct azl_pool_list *list,
		       const char *const *names, size_t nr_names)
{
	for (size_t i = 0; i < nr_names; i++) {
		struct azl_pool key = { .name = (char *)names[i] };

		if (!list->nr || !bsearch(&key, list->items, list->nr, sizeof(key), by_name))
			return azl_error_set(AZL_ENOTFOUND,
					     "node pool %s not found in cluster %s (resource group %s): see the pools with 'kubectl azlinux pools'",
					     names[i], c->name, c->resource_group);
	}
	return 0;
}

/* The control plane's upgrades, from the cluster's upgrade profile. */
static int cluster_profile(struct azl_cluster *c, const struct azl_arm_result *res)
{
	if (res->code)
		return azl_error_set(res->code, "%s", res->error.buf);
	versions_of(azl_json_path(res->json, "properties.controlPlaneProfile.upgrades"),
		    &c->upgrades, &c->nr_upgrades);
	return 0;
}

/* What goes along with the pool list's first page, which none of it needs:
 * the cluster's upgrade profile and, when its id came from the resolution
 * cache, the cluster itself, which confirms it. */
enum { ALONG_UPGRADES, ALONG_CLUSTER, NR_ALONG };

/* Lists the pools of cluster id. confirm is the query whose cached id it
 * is (NULL: c is already resolved); *stale is set when that id was stale
 * (then nothing else is read). */
static int fetch_pools(struct azl_arm *arm, const char *id, const struct azl_cluster_query *confirm,
		       struct azl_cluster *c, cJSON **items, int *stale)
{
	struct strbuf path = STRBUF_INIT, along[NR_ALONG];
	struct azl_arm_result res[NR_ALONG];
	const char *ptrs[NR_ALONG];
	int rc;

	for (size_t i = 0; i < NR_ALONG; i++) {
		strbuf_init(&along[i], 0);
		res[i] = (struct azl_arm_result)AZL_ARM_RESULT_INIT;
	}
	strbuf_addf(&path, "%s/agentPools", id);
	strbuf_addf(&along[ALONG_UPGRADES], "%s/upgradeProfiles/default", id);
	strbuf_addstr(&along[ALONG_CLUSTER], id);
	for (size_t i = 0; i < NR_ALONG; i++)
		ptrs[i] = along[i].buf;
	rc = azl_arm_list_along(arm, path.buf, items, ptrs, confirm ? NR_ALONG : ALONG_CLUSTER, res);
	/* the cluster's own answer first: a pool list of a deleted cluster 404s
	 * too; none (no token: nothing went out) confirms nothing */
	if (confirm && (res[ALONG_CLUSTER].code || res[ALONG_CLUSTER].json)) {
		int crc = azl_cluster_confirm(confirm, id, &res[ALONG_CLUSTER], c, stale);

		rc = crc ? crc : *stale ? 0 : rc;
	}
	if (!rc && !*stale)
		rc = cluster_profile(c, &res[ALONG_UPGRADES]);
	for (size_t i = 0; i < NR_ALONG; i++) {
		strbuf_release(&along[i]);
		azl_arm_result_release(&res[i]);
	}
	strbuf_release(&path);
	return rc;
}

static int list_pools(struct azl_arm *arm, const char *id, const struct azl_cluster_query *confirm,
		      struct azl_cluster *c, const char *const *names, size_t nr_names,
		      struct azl_pool_list *out, int *stale)
{
	cJSON *items = NULL, *ap;
	int rc = fetch_pools(arm, id, confirm, c, &items, stale);

	if (rc || *stale) {
		cJSON_Delete(items);
		return rc;
	}
	out->items = xcalloc((size_t)cJSON_GetArraySize(items) + 1, sizeof(*out->items));
	cJSON_ArrayForEach(ap, items) {
		if (*azl_json_str(ap, "name", ""))
			push_str(&out->names.items, &out->names.nr, azl_json_str(ap, "name", ""));
		if (!wanted(azl_json_str(ap, "name", ""), names, nr_names))
			continue;
		rc = azl_pool_from_json(ap, &out->items[out->nr]);
		if (rc)
			break;
		out->nr++;
	}
	cJSON_Delete(items);
	if (rc)
		return rc;
	qsort(out->items, out->nr, sizeof(*out->items), by_name);
	return check_names(c, out, names, nr_names);
}

static void apply_profiles(struct azl_pool_list *list, const struct azl_arm_result *res)
{
	for (size_t i = 0; i < list->nr; i++) {
		struct azl_pool *p = &list->items[i];

		free(p->latest_node_image_version);
		p->latest_node_image_version =
			xstrdup(azl_json_str(res[i].json, "properties.latestNodeImageVersion", ""));
		versions_of(azl_json_path(res[i].json, "properties.upgrades"), &p->upgrades,
			    &p->nr_upgrades);
	}
}

/* Every pool's upgrade profile at once: they do not depend on each other,
 * and AKS's 100 pools at most fit in one wave of HTTP/2 streams. */
static int load_profiles(struct azl_arm *arm, const struct azl_cluster *c,
			 struct azl_pool_list *list)
{
	size_t n = list->nr;
	struct strbuf *paths = xcalloc(n, sizeof(*paths));
	const char **ptrs = xcalloc(n, sizeof(*ptrs));
	struct azl_arm_result *res = xcalloc(n, sizeof(*res));
	int rc;

	for (size_t i = 0; i < n; i++) {
		strbuf_init(&paths[i], 0);
		strbuf_addf(&paths[i], "%s/agentPools/%s/upgradeProfiles/default", c->id,
			    list->items[i].name);
		ptrs[i] = paths[i].buf;
	}
	rc = azl_arm_get_many(arm, ptrs, n, res);
	for (size_t i = 0; !rc && i < n; i++)
		if (res[i].code)
			rc = azl_error_set(res[i].code, "%s", res[i].error.buf);
	if (!rc)
		apply_profiles(list, res);
	for (size_t i = 0; i < n; i++) {
		strbuf_release(&paths[i]);
		azl_arm_result_release(&res[i]);
	}
	free(paths);
	free(ptrs);
	free(res);
	return rc;
}

struct node_job {
	struct azl_kube *kube;
	struct azl_node_list nodes;
	int rc;
	struct strbuf error;         /* errors are per thread: carry it home */
	int started, threaded;
	pthread_t thread;
};

static void *list_nodes(void *arg)
{
	struct node_job *job = arg;

	job->rc = azl_node_list_brief(job->kube, &job->nodes);
	if (job->rc)
		strbuf_addstr(&job->error, azl_error_message());
	/* the message is thread-local: free it before the thread ends */
	azl_error_clear();
	return NULL;
}

/* Lists the nodes on another thread (here, when none can be started),
 * once: they are the same whichever way the cluster is found. */
static void nodes_start(struct node_job *job)
{
	if (!job->kube || job->started)
		return;
	job->started = 1;
	job->threaded = !pthread_create(&job->thread, NULL, list_nodes, job);
	if (!job->threaded)
		list_nodes(job);
}

static void nodes_join(struct node_job *job)
{
	if (job->threaded)
		pthread_join(job->thread, NULL);
	job->threaded = 0;
}

/* Counts each pool's nodes and refines its OS with what a node reports. */
static void merge_nodes(struct azl_pool_list *list, const struct azl_node_list *nodes)
{
	for (size_t i = 0; i < list->nr; i++) {
		struct azl_pool *p = &list->items[i];
		const struct azl_node *first = NULL;

		for (size_t k = 0; k < nodes->nr; k++) {
			const struct azl_node *n = &nodes->items[k];

			if (!n->pool || strcmp(n->pool, p->name))
				continue;
			if (!first)
				first = n;
			p->nodes++;
			if (n->ready)
				p->ready_nodes++;
			else
				push_str(&p->not_ready, &p->nr_not_ready, n->name);
		}
		if (first)
			azl_os_detect(p->node_image_version, p->os_sku, p->kubernetes_version,
				      first->os_image, first->kernel_version, &p->os);
	}
}

/* ARM's part: two waves when the cluster's id is cached (the pool list with
 * the cluster and its profiles, then every pool's profile), three after a
 * search. *stale is set when the cached id was stale. */
static int load_arm(struct azl_arm *arm, const char *id, const struct azl_cluster_query *confirm,
		    struct azl_cluster *c, const char *const *names, size_t nr_names,
		    struct azl_pool_list *out, int *stale)
{
	int rc = list_pools(arm, id, confirm, c, names, nr_names, out, stale);

	return rc || *stale ? rc : load_profiles(arm, c, out);
}

/* Nothing waits for the nodes: with a cached id they are listed from the
 * start, beside ARM. A search may need a node's providerID first, and so
 * may the search that follows a stale id. */
static int resolve_and_load(struct azl_arm *arm, struct node_job *job,
			    const struct azl_cluster_query *q, const char *const *names,
			    size_t nr_names, struct azl_cluster *cluster, struct azl_pool_list *out)
{
	struct strbuf id = STRBUF_INIT;
	int stale = 1, rc = 0;

	if (azl_cluster_cached_id(q, &id)) {
		stale = 0;
		nodes_start(job);
		rc = load_arm(arm, id.buf, q, cluster, names, nr_names, out, &stale);
	}
	strbuf_release(&id);
	if (rc || !stale)
		return rc;
	nodes_join(job);
	azl_cluster_release(cluster);
	rc = azl_cluster_resolve(arm, job->kube, q, cluster);
	if (rc)
		return rc;
	nodes_start(job);
	stale = 0;
	return load_arm(arm, cluster->id, NULL, cluster, names, nr_names, out, &stale);
}

/* The nodes joined, their error taken, merged into the pools. */
static int finish(struct node_job *job, int rc, struct azl_pool_list *out)
{
	nodes_join(job);
	if (!rc && job->rc)
		rc = azl_error_set(job->rc, "%s", job->error.buf);
	if (!rc)
		merge_nodes(out, &job->nodes);
	azl_node_list_release(&job->nodes);
	strbuf_release(&job->error);
	if (rc)
		azl_pool_list_release(out);
	return rc;
}

int azl_pool_inspect(struct azl_arm *arm, struct azl_kube *kube,
		     const struct azl_cluster_query *q, const char *const *names,
		     size_t nr_names, struct azl_cluster *cluster, struct azl_pool_list *out)
{
	struct node_job job = { .kube = kube, .error = STRBUF_INIT };

	memset(out, 0, sizeof(*out));
	memset(cluster, 0, sizeof(*cluster));
	return finish(&job, resolve_and_load(arm, &job, q, names, nr_names, cluster, out), out);
}

int azl_pool_load(struct azl_arm *arm, struct azl_kube *kube, struct azl_cluster *cluster,
		  const char *const *names, size_t nr_names, struct azl_pool_list *out)
{
	struct node_job job = { .kube = kube, .error = STRBUF_INIT };

	memset(out, 0, sizeof(*out));
	int stale = 0;

	nodes_start(&job);
	return finish(&job, load_arm(arm, cluster->id, NULL, cluster, names, nr_names, out, &stale),
		      out);
}
