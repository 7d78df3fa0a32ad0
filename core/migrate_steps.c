/* The steps of a migration and of add-pool (migrate.h), run by
 * operation.h. Each one looks before it writes, so that it can run again
 * from its start after a crash. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "drain.h"
#include "json.h"
#include "log.h"
#include "migrate.h"
#include "node.h"
#include "pod.h"
#include "wrapper.h"

#define WAIT_SLICE_MS 2000

/* ---- what the steps share ---- */

static const cJSON *data_of(struct azl_operation *op)
{
	return azl_operation_data(op);
}

static const char *old_pool(struct azl_operation *op)
{
	return azl_journal_target_field(azl_operation_journal(op), "pool");
}

static const char *new_pool(struct azl_operation *op)
{
	const char *np = azl_json_str(data_of(op), "newPool", "");

	/* add-pool's operation targets the pool it adds */
	return *np ? np : old_pool(op);
}

static void pool_path(struct azl_operation *op, const char *pool, struct strbuf *out)
{
	struct azl_journal *j = azl_operation_journal(op);

	azl_arm_cluster_path(out, azl_journal_target_field(j, "subscription"),
			     azl_journal_target_field(j, "resourceGroup"),
			     azl_journal_target_field(j, "name"));
	strbuf_addstr(out, "/agentPools/");
	strbuf_addurlenc(out, pool);
}

static struct azl_arm *arm_of(struct azl_operation *op)
{
	return azl_operation_env(op)->arm;
}

static struct azl_kube *kube_of(struct azl_operation *op)
{
	return azl_operation_env(op)->kube;
}

/* GET of a pool; AZL_ENOTFOUND when it does not exist. */
static int get_pool(struct azl_operation *op, const char *pool, cJSON **out)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	pool_path(op, pool, &path);
	rc = azl_arm_get(arm_of(op), path.buf, out);
	strbuf_release(&path);
	return rc;
}

static const char *prop(const cJSON *ap, const char *name)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(ap, "properties");

	return azl_json_str(props, name, "");
}

/* The error of an ARM write, in words that say what to do. */
static int explain(int rc, const char *pool)
{
	struct azl_drain_failure f;

	if (rc == AZL_EBUSY)
		return azl_error_prefix("pool %s is busy: another operation runs on it or on its cluster; wait for it to end (kubectl azlinux status) and run this again",
					pool);
	if (rc == AZL_ESTALE)
		return azl_error_prefix("pool %s changed since the plan was made: nothing was sent on the stale copy",
					pool);
	if (rc != AZL_ERROR)
		return rc;
	azl_migrate_parse_drain_failure(azl_error_message(), &f);
	if (f.node.len && f.pdb.len)
		azl_error_prefix("AKS could not drain node %s: pod %s is held by PodDisruptionBudget %s. Let it allow a disruption (kubectl get pdb -A; scale the workload up or relax minAvailable/maxUnavailable), remove the quarantine label if AKS set it (kubectl label node %s kubernetes.azure.com/upgrade-status-), then run kubectl azlinux resume",
				 f.node.buf, f.pod.len ? f.pod.buf : "?", f.pdb.buf, f.node.buf);
	else if (f.node.len)
		azl_error_prefix("AKS could not drain node %s%s%s; fix what holds it, then run kubectl azlinux resume",
				 f.node.buf, f.pod.len ? " (pod " : "", f.pod.len ? f.pod.buf : "");
	azl_drain_failure_release(&f);
	return rc;
}

/* An in-place PUT the region refuses (InvalidOSSKU, PropertyChangeNotAllowed:
 * migrate-upgrade.md §B1): the move can still be made side by side. */
static int refused_in_place(int rc, const char *pool, const char *sku)
{
	const char *m = azl_error_message();

	if (rc && (strstr(m, ": InvalidOSSKU:") || strstr(m, ": PropertyChangeNotAllowed:")))
		azl_error_prefix("AKS does not change pool %s to %s in place here; move it side by side instead (kubectl azlinux migrate %s --strategy side-by-side --to %s)",
				 pool, sku, pool, sku);
	return rc;
}

/* The tag a new pool carries with the id of the operation that created it
 * (AKS keeps an agent pool's tags: aks-api.md §2.3): only it proves that a
 * pool of that name is this operation's, to use or to delete. */
#define OWNER_TAG "azlinux-operation"

static int pool_is_ours(struct azl_operation *op, const cJSON *ap)
{
	return !strcmp(azl_json_str(ap, "properties.tags." OWNER_TAG, ""),
		       azl_journal_id(azl_operation_journal(op)));
}

static int not_ours(struct azl_operation *op, const char *pool)
{
	const char *id = azl_journal_id(azl_operation_journal(op));

	if (!strcmp(azl_journal_kind(azl_operation_journal(op)), AZL_ADD_POOL_KIND))
		return azl_error_set(AZL_EINVALID,
				     "pool %s exists and this operation did not create it (someone else did): it is neither used nor deleted; abort (kubectl azlinux abort %s) and add the pool under another name",
				     pool, id);
	return azl_error_set(AZL_EINVALID,
			     "pool %s exists and this operation did not create it (someone else did): it is neither used nor deleted; abort (kubectl azlinux abort %s) and move pool %s under another name (kubectl azlinux migrate %s --new-pool NAME)",
			     pool, id, old_pool(op), old_pool(op));
}

/* Waits one slice (cancellable). */
static int pause_slice(struct azl_operation *op)
{
	return azl_retry_wait(azl_operation_retry(op), WAIT_SLICE_MS);
}

/* ---- update-pool (in place) ---- */

static const char *const read_only[] = {
	"provisioningState", "currentOrchestratorVersion", "nodeImageVersion", "eTag", "status",
	"powerState", "virtualMachineNodesStatus", NULL
};

static void apply_settings(cJSON *props, const cJSON *settings)
{
	cJSON *us = cJSON_GetObjectItemCaseSensitive(props, "upgradeSettings");
	const cJSON *s;

	if (!cJSON_GetArraySize(settings))
		return;
	if (!cJSON_IsObject(us)) {
		cJSON_DeleteItemFromObjectCaseSensitive(props, "upgradeSettings");
		us = cJSON_AddObjectToObject(props, "upgradeSettings");
	}
	cJSON_ArrayForEach(s, settings) {
		cJSON_DeleteItemFromObjectCaseSensitive(us, s->string);
		cJSON_AddItemToObject(us, s->string, cJSON_Duplicate(s, 1));
	}
}

static cJSON *in_place_body(const cJSON *ap, const char *sku, const cJSON *settings)
{
	cJSON *body = cJSON_CreateObject();
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(ap, "properties");
	cJSON *props = src ? cJSON_Duplicate(src, 1) : cJSON_CreateObject();

	for (int i = 0; read_only[i]; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(props, read_only[i]);
	cJSON_DeleteItemFromObjectCaseSensitive(props, "osSKU");
	cJSON_AddStringToObject(props, "osSKU", sku);
	apply_settings(props, settings);
	cJSON_AddItemToObject(body, "properties", props);
	return body;
}

/* The pool's last operation ended Failed or Canceled: AKS reconciles a
 * pool when its spec is PUT again, which is what the step sends. */
static int needs_resend(const cJSON *ap)
{
	const char *ps = prop(ap, "provisioningState");

	return !strcmp(ps, "Failed") || !strcmp(ps, "Canceled");
}

static cJSON *in_place_body(const cJSON *ap, const char *sku, const cJSON *settings);

/* A pool left Failed by this operation's change (a drain AKS gave up on):
 * AKS's documented recovery is to send the change again once the cause is
 * fixed (migrate-upgrade.md §B4), which reconciles it. */
static int reconcile(struct azl_operation *op, const cJSON *ap, const char *path)
{
	const cJSON *d = data_of(op);
	struct azl_arm_request req = { 0 };
	cJSON *body = in_place_body(ap, prop(ap, "osSKU"), cJSON_GetObjectItemCaseSensitive(d, "settings"));
	int rc;

	azl_operation_note(op, "pool %s is Failed: sending the change again to reconcile it", old_pool(op));
	req.method = "PUT";
	req.path = path;
	req.body = body;
	req.if_match = *prop(ap, "eTag") ? prop(ap, "eTag") : NULL;
	rc = azl_operation_lro(op, &req, "agentPools.createOrUpdate", AZL_LRO_FINAL_ASYNC_OPERATION,
			       NULL);
	cJSON_Delete(body);
	return explain(rc, old_pool(op));
}

/* The pool already has the target osSKU: a PUT of this operation got
 * through (its handle may not have reached the journal). */
static int already_changed(struct azl_operation *op, const cJSON *ap, const char *path)
{
	const char *ps = prop(ap, "provisioningState");

	if (!strcmp(ps, "Succeeded"))
		return 0;
	if (needs_resend(ap))
		return reconcile(op, ap, path);
	azl_operation_note(op, "the change was accepted before; following it");
	return explain(azl_operation_follow_resource(op, path, "PUT", "agentPools.createOrUpdate",
						     NULL), old_pool(op));
}

/* The plan was made on the pool as it was (its eTag). Changed since by
 * someone else: refused (AZL_ESTALE, nothing sent), unless this is the
 * step run again after that refusal, which plans itself again from the
 * fresh copy ap: the move holds while the pool still has the osSKU it was
 * planned from, and the plan's eTag becomes ap's. */
static int check_plan(struct azl_operation *op, const cJSON *ap)
{
	cJSON *d = azl_operation_data(op);
	const char *plan_etag = azl_json_str(d, "planETag", ""), *etag = prop(ap, "eTag");
	const char *from = azl_json_str(d, "from.osSku", "");
	const char *id = azl_journal_id(azl_operation_journal(op));

	if (!*plan_etag || !strcmp(etag, plan_etag))
		return 0;
	if (!azl_operation_replanning(op))
		return azl_error_set(AZL_ESTALE,
				     "pool %s changed since the plan was made (eTag %s, now %s): nothing was sent on the stale copy",
				     old_pool(op), plan_etag, etag);
	if (*from && strcmp(prop(ap, "osSKU"), from))
		return azl_error_set(AZL_EINVALID,
				     "pool %s has osSKU %s now, not %s as planned: the move no longer holds; stop it (kubectl azlinux abort %s) and plan it again (kubectl azlinux migrate %s)",
				     old_pool(op), prop(ap, "osSKU"), from, id, old_pool(op));
	azl_operation_note(op, "pool %s changed since the plan (eTag %s, now %s): step update-pool planned again from a fresh read",
			   old_pool(op), plan_etag, etag);
	cJSON_DeleteItemFromObjectCaseSensitive(d, "planETag");
	cJSON_AddStringToObject(d, "planETag", etag);
	return azl_operation_save(op);
}

static int step_update_pool(struct azl_operation *op, void *data)
{
	const cJSON *d = data_of(op);
	const char *sku = azl_json_str(d, "to.osSku", "");
	struct azl_arm_request req = { 0 };
	struct strbuf path = STRBUF_INIT;
	cJSON *ap = NULL, *body;
	int rc;

	(void)data;
	pool_path(op, old_pool(op), &path);
	if (azl_operation_handle(op)) {
		rc = explain(azl_operation_lro(op, NULL, "agentPools.createOrUpdate",
					       AZL_LRO_FINAL_ASYNC_OPERATION, NULL), old_pool(op));
		strbuf_release(&path);
		return rc;
	}
	rc = azl_arm_get(arm_of(op), path.buf, &ap);
	if (!rc && !strcmp(prop(ap, "osSKU"), sku))
		rc = already_changed(op, ap, path.buf);
	else if (!rc && !(rc = check_plan(op, ap))) {
		body = in_place_body(ap, sku, cJSON_GetObjectItemCaseSensitive(d, "settings"));
		req.method = "PUT";
		req.path = path.buf;
		req.body = body;
		req.if_match = prop(ap, "eTag");
		if (!*req.if_match)
			req.if_match = NULL;
		rc = explain(azl_operation_lro(op, &req, "agentPools.createOrUpdate",
					       AZL_LRO_FINAL_ASYNC_OPERATION, NULL), old_pool(op));
		rc = refused_in_place(rc, old_pool(op), sku);
		cJSON_Delete(body);
		/* 412 on a PUT sent again after its answer was lost: the first
		 * one may have landed; a fresh read says whether it did. */
		if (rc == AZL_ESTALE) {
			cJSON_Delete(ap);
			ap = NULL;
			if (!azl_arm_get(arm_of(op), path.buf, &ap) &&
			    !strcmp(prop(ap, "osSKU"), sku))
				rc = already_changed(op, ap, path.buf);
		}
	}
	cJSON_Delete(ap);
	strbuf_release(&path);
	return rc;
}

/* ---- verify ---- */

/* The names of nodes not on version (or not Ready) go to bad. */
static void nodes_off_target(const struct azl_node_list *nodes, const char *version,
			     struct strbuf *bad)
{
	for (size_t i = 0; i < nodes->nr; i++) {
		const struct azl_node *n = &nodes->items[i];

		if (!n->ready || (version && strcmp(n->os_version, version)))
			strbuf_addf(bad, "%s%s (%s%s)", bad->len ? ", " : "", n->name,
				    *n->os_name ? n->os_name : "unknown OS", n->ready ? "" : ", NotReady");
	}
}

/* The nodes in the data, journaled: the report's and the before/after's. */
static int save_nodes(struct azl_operation *op, const struct azl_node_list *nodes)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < nodes->nr; i++)
		cJSON_AddItemToArray(arr, azl_node_report_json(&nodes->items[i]));
	cJSON_DeleteItemFromObjectCaseSensitive(azl_operation_data(op), "nodes");
	cJSON_AddItemToObject(azl_operation_data(op), "nodes", arr);
	return azl_operation_save(op);
}

/* Records pool's nodes in the data; the names of those not on version (or
 * not Ready) go to bad. */
static int record_nodes(struct azl_operation *op, const char *pool, const char *version,
			struct strbuf *bad)
{
	struct azl_node_list nodes = { 0 };
	int rc = azl_node_list(kube_of(op), NULL, pool, &nodes);

	if (!rc) {
		nodes_off_target(&nodes, version, bad);
		rc = save_nodes(op, &nodes);
	}
	azl_node_list_release(&nodes);
	return rc;
}

static int step_verify(struct azl_operation *op, void *data)
{
	const cJSON *d = data_of(op);
	const char *sku = azl_json_str(d, "to.osSku", ""), *version = azl_json_str(d, "to.osVersion", "");
	const char *pool = new_pool(op);
	struct strbuf bad = STRBUF_INIT;
	cJSON *ap = NULL;
	int rc;

	(void)data;
	rc = get_pool(op, pool, &ap);
	if (!rc && strcmp(pool, old_pool(op)) && !pool_is_ours(op, ap))
		rc = not_ours(op, pool);
	else if (!rc && strcmp(prop(ap, "osSKU"), sku))
		rc = azl_error_set(AZL_ERROR, "verify: pool %s has osSKU %s, not %s", pool,
				   prop(ap, "osSKU"), sku);
	else if (!rc && strcmp(prop(ap, "provisioningState"), "Succeeded"))
		rc = azl_error_set(AZL_ERROR, "verify: pool %s is %s, not Succeeded", pool,
				   prop(ap, "provisioningState"));
	if (!rc && kube_of(op))
		rc = record_nodes(op, pool, *version ? version : NULL, &bad);
	if (!rc && bad.len)
		rc = azl_error_set(AZL_ERROR, "verify: nodes of pool %s not Ready on %s %s: %s", pool,
				   sku, version, bad.buf);
	cJSON_Delete(ap);
	strbuf_release(&bad);
	return rc;
}

/* ---- create-pool, wait-ready (side by side, add-pool) ---- */

static cJSON *create_body(struct azl_operation *op, long count)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(data_of(op), "newPoolProperties");
	cJSON *body = cJSON_CreateObject(), *p = props ? cJSON_Duplicate(props, 1) : cJSON_CreateObject();

	cJSON *tags;

	if (count > 0) {
		cJSON_DeleteItemFromObjectCaseSensitive(p, "count");
		cJSON_AddNumberToObject(p, "count", (double)count);
	}
	tags = cJSON_GetObjectItemCaseSensitive(p, "tags");
	if (!cJSON_IsObject(tags)) {
		cJSON_DeleteItemFromObjectCaseSensitive(p, "tags");
		tags = cJSON_AddObjectToObject(p, "tags");
	}
	/* the old pool's own tag, if we created it once, is not this one */
	cJSON_DeleteItemFromObjectCaseSensitive(tags, OWNER_TAG);
	cJSON_AddStringToObject(tags, OWNER_TAG, azl_journal_id(azl_operation_journal(op)));
	cJSON_AddItemToObject(body, "properties", p);
	return body;
}

static long wanted_count(struct azl_operation *op)
{
	return azl_json_int(data_of(op), "newPoolProperties.count", 1);
}

/* A create refused with 412 (If-None-Match: *): a pool of that name came
 * into being since the plan. Someone else's is refused for good; gone
 * again (or never seen), the 412 stands as a stale stop that resume plans
 * again. */
static int create_refused(struct azl_operation *op, const char *pool, int rc)
{
	struct strbuf why = STRBUF_INIT;
	cJSON *ap = NULL;
	int got;

	strbuf_addstr(&why, azl_error_message());
	got = get_pool(op, pool, &ap);
	if (!got && !pool_is_ours(op, ap))
		rc = not_ours(op, pool);
	else
		azl_error_set(rc, "%s", why.buf);
	cJSON_Delete(ap);
	strbuf_release(&why);
	return rc;
}

static int step_create_pool(struct azl_operation *op, void *data)
{
	const char *np = new_pool(op);
	struct azl_arm_request req = { 0 };
	struct strbuf path = STRBUF_INIT;
	cJSON *ap = NULL, *body;
	int rc;

	(void)data;
	pool_path(op, np, &path);
	if (azl_operation_handle(op)) {
		rc = azl_operation_lro(op, NULL, "agentPools.createOrUpdate",
				       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
		strbuf_release(&path);
		return explain(rc, np);
	}
	rc = azl_arm_get(arm_of(op), path.buf, &ap);
	if (!rc && !pool_is_ours(op, ap)) {
		rc = not_ours(op, np);
	} else if (!rc && !needs_resend(ap)) {
		/* created by this operation before a crash: not created twice */
		rc = already_changed(op, ap, path.buf);
	} else if (!rc || rc == AZL_ENOTFOUND) {
		/* new (If-None-Match: *), or ours whose creation Failed or was
		 * Canceled: its spec PUT again on its eTag, which AKS reconciles */
		body = create_body(op, azl_json_bool(data_of(op), "canary", 0) ? 1 : 0);
		req.method = "PUT";
		req.path = path.buf;
		req.body = body;
		if (rc)
			req.if_none_match = "*";
		else if (*prop(ap, "eTag"))
			req.if_match = prop(ap, "eTag");
		rc = azl_operation_lro(op, &req, "agentPools.createOrUpdate",
				       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
		if (rc == AZL_ESTALE && req.if_none_match)
			rc = create_refused(op, np, rc);
		rc = explain(rc, np);
		cJSON_Delete(body);
	}
	cJSON_Delete(ap);
	strbuf_release(&path);
	return rc;
}

/* Every node of pool Ready and on the target, want of them. */
static int nodes_ready(const struct azl_node_list *nodes, const char *version, long want)
{
	struct strbuf bad = STRBUF_INIT;
	int ready;

	nodes_off_target(nodes, version, &bad);
	ready = !bad.len && (long)nodes->nr >= want;
	strbuf_release(&bad);
	return ready;
}

/* On the node watch (operation.h), which wakes it at each change of the
 * pool's nodes and costs no request. */
static int wait_nodes_on(struct azl_operation *op, const char *pool, long want,
			 const char *version)
{
	struct azl_operation_cursor c = { 0 };
	struct azl_node_list nodes = { 0 };
	int rc;

	if (!kube_of(op))
		return 0;
	while (!(rc = azl_operation_nodes(op, pool, &c, &nodes)) && !nodes_ready(&nodes, version, want))
		azl_node_list_release(&nodes);
	if (!rc)
		rc = save_nodes(op, &nodes);
	azl_node_list_release(&nodes);
	return rc == AZL_ETIMEOUT
	       ? azl_error_set(rc, "pool %s: its nodes did not all become Ready in time", pool) : rc;
}

static int wait_nodes(struct azl_operation *op, const char *pool, long want)
{
	return wait_nodes_on(op, pool, want, azl_json_str(data_of(op), "to.osVersion", NULL));
}

/* With --canary the pool was created with one node: verified, it grows. */
static int grow(struct azl_operation *op, const char *np, long want)
{
	struct azl_arm_request req = { 0 };
	struct strbuf path = STRBUF_INIT;
	cJSON *ap = NULL, *body = NULL;
	int rc;

	pool_path(op, np, &path);
	if (azl_operation_handle(op))
		rc = azl_operation_lro(op, NULL, "agentPools.createOrUpdate",
				       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
	else if (!(rc = azl_arm_get(arm_of(op), path.buf, &ap)) &&
		 azl_json_int(ap, "properties.count", 0) < want) {
		azl_operation_note(op, "canary node of %s Ready on the target: adding the rest", np);
		body = in_place_body(ap, azl_json_str(data_of(op), "to.osSku", ""), NULL);
		cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(body, "properties"), "count");
		cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(body, "properties"), "count",
					(double)want);
		req.method = "PUT";
		req.path = path.buf;
		req.body = body;
		req.if_match = *prop(ap, "eTag") ? prop(ap, "eTag") : NULL;
		rc = azl_operation_lro(op, &req, "agentPools.createOrUpdate",
				       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
	}
	cJSON_Delete(ap);
	cJSON_Delete(body);
	strbuf_release(&path);
	return explain(rc, np);
}

static int step_wait_ready(struct azl_operation *op, void *data)
{
	const char *np = new_pool(op);
	long want = wanted_count(op);
	int canary = azl_json_bool(data_of(op), "canary", 0);
	int rc;

	(void)data;
	rc = wait_nodes(op, np, canary ? 1 : want);
	if (!rc && canary && want > 1) {
		rc = grow(op, np, want);
		if (!rc)
			rc = wait_nodes(op, np, want);
	}
	return rc;
}

/* ---- stop-autoscaler, cordon ---- */

/* The autoscaler settings want (enableAutoScaling, and minCount and
 * maxCount when it is on) PUT on the fresh copy ap of the pool at path,
 * on its eTag. */
static int put_autoscaler(struct azl_operation *op, const cJSON *ap, const char *path,
			  const cJSON *want)
{
	static const char *const fields[] = { "enableAutoScaling", "minCount", "maxCount" };
	struct azl_arm_request req = { 0 };
	cJSON *body = in_place_body(ap, prop(ap, "osSKU"), NULL), *props, *v;
	int rc;

	props = cJSON_GetObjectItemCaseSensitive(body, "properties");
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(props, fields[i]);
		v = cJSON_GetObjectItemCaseSensitive(want, fields[i]);
		if (v)
			cJSON_AddItemToObject(props, fields[i], cJSON_Duplicate(v, 1));
	}
	req.method = "PUT";
	req.path = path;
	req.body = body;
	req.if_match = *prop(ap, "eTag") ? prop(ap, "eTag") : NULL;
	rc = azl_operation_lro(op, &req, "agentPools.createOrUpdate",
			       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
	cJSON_Delete(body);
	return rc;
}

/* The old pool's autoscaler as it was, journaled before it is stopped, for
 * the rollback to start it again; kept when the step runs again. */
#define SAVED_AUTOSCALER "autoscaler"

static int save_autoscaler(struct azl_operation *op, const cJSON *ap)
{
	cJSON *d = azl_operation_data(op), *saved;

	if (cJSON_GetObjectItemCaseSensitive(d, SAVED_AUTOSCALER))
		return 0;
	saved = cJSON_AddObjectToObject(d, SAVED_AUTOSCALER);
	cJSON_AddBoolToObject(saved, "enableAutoScaling", 1);
	cJSON_AddNumberToObject(saved, "minCount", (double)azl_json_int(ap, "properties.minCount", 0));
	cJSON_AddNumberToObject(saved, "maxCount", (double)azl_json_int(ap, "properties.maxCount", 0));
	return azl_operation_save(op);
}

static int step_stop_autoscaler(struct azl_operation *op, void *data)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *ap = NULL, *off = cJSON_CreateObject();
	int rc;

	(void)data;
	cJSON_AddBoolToObject(off, "enableAutoScaling", 0);
	pool_path(op, old_pool(op), &path);
	if (azl_operation_handle(op))
		rc = azl_operation_lro(op, NULL, "agentPools.createOrUpdate",
				       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
	else if (!(rc = azl_arm_get(arm_of(op), path.buf, &ap)) &&
		 azl_json_bool(ap, "properties.enableAutoScaling", 0) &&
		 !(rc = save_autoscaler(op, ap)))
		rc = put_autoscaler(op, ap, path.buf, off);
	cJSON_Delete(ap);
	cJSON_Delete(off);
	strbuf_release(&path);
	return explain(rc, old_pool(op));
}

static int set_unschedulable(struct azl_operation *op, const char *node, int on)
{
	struct strbuf path = STRBUF_INIT;
	cJSON *out = NULL;
	int rc;

	strbuf_addstr(&path, "/api/v1/nodes/");
	strbuf_addurlenc(&path, node);
	rc = azl_kube_patch(kube_of(op), path.buf, AZL_PATCH_STRATEGIC,
			    on ? "{\"spec\":{\"unschedulable\":true}}"
			       : "{\"spec\":{\"unschedulable\":null}}", &out);
	cJSON_Delete(out);
	strbuf_release(&path);
	return rc == AZL_ENOTFOUND ? 0 : rc;
}

static int cordon_all(struct azl_operation *op, const char *pool, int on)
{
	struct azl_node_list nodes = { 0 };
	int rc;

	if (!kube_of(op))
		return azl_error_set(AZL_EINVALID, "cordoning pool %s needs the Kubernetes API", pool);
	rc = azl_node_list(kube_of(op), NULL, pool, &nodes);
	for (size_t i = 0; !rc && i < nodes.nr; i++)
		if (nodes.items[i].schedulable == on)
			rc = set_unschedulable(op, nodes.items[i].name, on);
	azl_node_list_release(&nodes);
	return rc;
}

static int step_cordon(struct azl_operation *op, void *data)
{
	(void)data;
	return cordon_all(op, old_pool(op), 1);
}

/* ---- drain ---- */

/* The drain engine's news as the operation's notes. */
static void on_drain(const struct azl_drain_event *ev, void *ctx)
{
	struct azl_operation *op = ctx;

	switch (ev->type) {
	case AZL_DRAIN_EV_EVICTING:
		azl_operation_note(op, "evicting pod %s/%s from %s", ev->pod->namespace_,
				   ev->pod->name, ev->node->name);
		break;
	case AZL_DRAIN_EV_RETRY:
		azl_operation_note(op, "pod %s/%s not evicted yet: %s", ev->pod->namespace_,
				   ev->pod->name, ev->message ? ev->message : "");
		break;
	case AZL_DRAIN_EV_WAITING:
		if (ev->pdb)
			azl_operation_note(op, "%zu pods left, waiting on PodDisruptionBudget %s",
					   ev->pods_left, ev->pdb);
		break;
	default:
		break;
	}
}

/* One old node through the drain engine (issue 16's): kubectl drain
 * --ignore-daemonsets --delete-emptydir-data semantics, PDBs honoured. */
static int drain_node(struct azl_operation *op, const char *node, long timeout_ms)
{
	struct azl_drain_options o = AZL_DRAIN_OPTIONS_INIT;
	struct azl_drain_plan *plan = NULL;
	struct azl_drain *d = NULL;
	struct strbuf err = STRBUF_INIT;
	const char *names[1] = { node };
	int rc;

	o.ignore_daemonsets = 1;
	o.delete_emptydir_data = 1;
	o.timeout_ms = timeout_ms;
	o.cancel = azl_operation_env(op)->cancel;
	o.on_event = on_drain;
	o.ctx = op;
	azl_operation_note(op, "draining %s", node);
	rc = azl_drain_new(&d, kube_of(op), &o);
	if (!rc)
		rc = azl_drain_plan(d, names, 1, &plan);
	if (!rc)
		rc = azl_drain_run(d, plan);
	if (rc == AZL_ERROR && plan && plan->nr_nodes) {
		azl_drain_node_errors(&plan->nodes[0], &err);
		rc = azl_error_set(AZL_ERROR,
				   "draining node %s: %s; fix what holds it (kubectl get pdb -A), then run kubectl azlinux resume",
				   node, err.len ? err.buf : plan->nodes[0].error.buf);
	}
	strbuf_release(&err);
	azl_drain_plan_free(plan);
	azl_drain_free(d);
	return rc;
}

/* Every pod of the cluster that a controller owns is Ready (the moved
 * workloads came back) and none is Pending, but those in skip ("\nns/name\n"
 * each: unready before the node's drain, which no wait would change);
 * each unready one is added to unready when it is not NULL. */
static int workloads_ready(struct azl_operation *op, int *ready, struct strbuf *waiting,
			   const struct strbuf *skip, struct strbuf *unready)
{
	cJSON *pods = NULL, *it;
	struct strbuf key = STRBUF_INIT;
	int rc = azl_kube_list(kube_of(op), "/api/v1/pods", NULL, 0, &pods);

	*ready = 1;
	cJSON_ArrayForEach(it, pods) {
		struct azl_pod pod;

		if (azl_pod_parse(it, &pod))
			continue;
		strbuf_reset(&key);
		strbuf_addf(&key, "\n%s/%s\n", pod.namespace_, pod.name);
		if (!azl_pod_is_terminal(&pod) && !azl_pod_is_mirror(&pod) && !pod.ready &&
		    !pod.deletion_timestamp && azl_pod_controller(&pod) &&
		    !(skip && skip->len && strstr(skip->buf, key.buf))) {
			*ready = 0;
			strbuf_reset(waiting);
			strbuf_addf(waiting, "%s/%s", pod.namespace_, pod.name);
			if (unready)
				strbuf_addstr(unready, key.buf);
		}
		azl_pod_release(&pod);
	}
	strbuf_release(&key);
	cJSON_Delete(pods);
	return rc;
}

static int wait_workloads(struct azl_operation *op, const struct strbuf *skip)
{
	struct strbuf waiting = STRBUF_INIT;
	int ready = 0, rc;

	while (!(rc = workloads_ready(op, &ready, &waiting, skip, NULL)) && !ready)
		if ((rc = pause_slice(op)))
			break;
	strbuf_release(&waiting);
	return rc;
}

/* Every node of pool drained in turn, the next only once what moved is
 * serving again. */
static int drain_pool(struct azl_operation *op, const char *pool)
{
	struct azl_node_list nodes = { 0 };
	struct strbuf before = STRBUF_INIT, waiting = STRBUF_INIT;
	long timeout = azl_json_int(data_of(op), "settings.drainTimeoutInMinutes", 30);
	int rc;

	if (!kube_of(op))
		return azl_error_set(AZL_EINVALID, "draining pool %s needs the Kubernetes API", pool);
	rc = azl_node_list(kube_of(op), NULL, pool, &nodes);
	for (size_t i = 0; !rc && i < nodes.nr; i++) {
		int ready;

		strbuf_reset(&before);
		rc = workloads_ready(op, &ready, &waiting, NULL, &before);
		if (!rc)
			rc = drain_node(op, nodes.items[i].name, timeout * 60000);
		if (!rc)
			rc = wait_workloads(op, &before);
	}
	strbuf_release(&before);
	strbuf_release(&waiting);
	azl_node_list_release(&nodes);
	return rc;
}

static int step_drain(struct azl_operation *op, void *data)
{
	(void)data;
	return drain_pool(op, old_pool(op));
}

/* ---- delete-pool ---- */

static int replacement_ready(struct azl_operation *op)
{
	return azl_operation_step_state(op, "create-pool") == AZL_STEP_DONE &&
	       azl_operation_step_state(op, "wait-ready") == AZL_STEP_DONE &&
	       azl_operation_step_state(op, "drain") == AZL_STEP_DONE;
}

static int delete_pool(struct azl_operation *op, const char *pool)
{
	struct azl_arm_request req = { 0 };
	struct strbuf path = STRBUF_INIT;
	cJSON *ap = NULL;
	int rc;

	pool_path(op, pool, &path);
	if (azl_operation_handle(op))
		rc = azl_operation_lro(op, NULL, "agentPools.delete", AZL_LRO_FINAL_LOCATION, NULL);
	else if ((rc = azl_arm_get(arm_of(op), path.buf, &ap)) == AZL_ENOTFOUND)
		rc = 0;         /* deleted already */
	else if (!rc && !strcmp(prop(ap, "provisioningState"), "Deleting"))
		/* sent before a crash, its handle lost: followed, not sent again */
		rc = azl_operation_follow_resource(op, path.buf, "DELETE", "agentPools.delete", NULL);
	else if (!rc) {
		req.method = "DELETE";
		req.path = path.buf;
		rc = azl_operation_lro(op, &req, "agentPools.delete", AZL_LRO_FINAL_LOCATION, NULL);
	}
	cJSON_Delete(ap);
	strbuf_release(&path);
	return explain(rc, pool);
}

static int step_delete_pool(struct azl_operation *op, void *data)
{
	(void)data;
	if (!replacement_ready(op))
		return azl_error_set(AZL_EINVALID,
				     "pool %s is not deleted: the journal does not show its replacement Ready and the drain finished",
				     old_pool(op));
	return delete_pool(op, old_pool(op));
}

/* ---- abort's rollback ---- */

/* The drain of the old pool began, so workloads run on the new one: they
 * go back the way they came (the old pool uncordoned and Ready, the new
 * one cordoned and drained through the same engine and PDBs) before the
 * new pool is deleted, which then has nothing left to evict. */
static int move_back(struct azl_operation *op, const char *np)
{
	int rc;

	azl_operation_note(op, "the drain of %s began: moving its workloads back from %s",
			   old_pool(op), np);
	rc = wait_nodes_on(op, old_pool(op), 1, NULL);
	if (!rc)
		rc = cordon_all(op, np, 1);
	if (!rc)
		rc = drain_pool(op, np);
	if (rc)
		return azl_error_prefix("rolling back: %s is kept", np);
	return 0;
}

/* stop-autoscaler ran: the old pool's autoscaler starts again as it was
 * journaled, on a fresh copy; its ARM operation is the rollback's own. */
static int restore_autoscaler(struct azl_operation *op)
{
	const cJSON *saved = cJSON_GetObjectItemCaseSensitive(data_of(op), SAVED_AUTOSCALER);
	struct strbuf path = STRBUF_INIT;
	cJSON *ap = NULL;
	int rc;

	if (!saved || azl_operation_step_state(op, "stop-autoscaler") == AZL_STEP_PENDING)
		return 0;
	azl_operation_rollback_part(op, "restore-autoscaler");
	pool_path(op, old_pool(op), &path);
	if (azl_operation_handle(op))
		rc = azl_operation_lro(op, NULL, "agentPools.createOrUpdate",
				       AZL_LRO_FINAL_ASYNC_OPERATION, NULL);
	else if (!(rc = azl_arm_get(arm_of(op), path.buf, &ap)) &&
		 !azl_json_bool(ap, "properties.enableAutoScaling", 0)) {
		azl_operation_note(op, "starting the autoscaler of %s again (min %ld, max %ld)",
				   old_pool(op), azl_json_int(saved, "minCount", 0),
				   azl_json_int(saved, "maxCount", 0));
		rc = put_autoscaler(op, ap, path.buf, saved);
	}
	cJSON_Delete(ap);
	strbuf_release(&path);
	rc = explain(rc, old_pool(op));
	return rc ? azl_error_prefix("rolling back the autoscaler of %s", old_pool(op)) : 0;
}

/* The new pool deleted, unless a pool of its name is someone else's. */
static int delete_own_pool(struct azl_operation *op, const char *pool)
{
	cJSON *ap = NULL;
	int rc;

	azl_operation_rollback_part(op, "delete-pool");
	if (azl_operation_handle(op))
		return delete_pool(op, pool);
	rc = get_pool(op, pool, &ap);
	if (!rc && !pool_is_ours(op, ap)) {
		azl_operation_note(op, "pool %s was not created by this operation (someone else did): it is left as it is",
				   pool);
		cJSON_Delete(ap);
		return 0;
	}
	cJSON_Delete(ap);
	if (rc == AZL_ENOTFOUND)
		return 0;
	if (rc)
		return explain(rc, pool);
	azl_operation_note(op, "deleting the new pool %s", pool);
	return delete_pool(op, pool);
}

static int rollback(struct azl_operation *op, void *data)
{
	const char *np = azl_json_str(data_of(op), "newPool", "");
	int rc = 0;

	(void)data;
	if (!*np || azl_operation_step_state(op, "delete-pool") != AZL_STEP_PENDING)
		return 0;
	if (kube_of(op) && azl_operation_step_state(op, "cordon") != AZL_STEP_PENDING) {
		rc = cordon_all(op, old_pool(op), 0);
		if (rc)
			return rc;
		azl_operation_note(op, "uncordoned the nodes of %s", old_pool(op));
	}
	rc = restore_autoscaler(op);
	if (rc)
		return rc;
	if (azl_operation_step_state(op, "drain") != AZL_STEP_PENDING)
		rc = kube_of(op) ? move_back(op, np)
			: azl_error_set(AZL_EINVALID, "the drain of %s began: moving its workloads back from %s needs the Kubernetes API; %s is kept",
					old_pool(op), np, np);
	if (rc)
		return rc;
	return delete_own_pool(op, np);
}

static const struct azl_operation_step migrate_steps[] = {
	{ "update-pool", step_update_pool },
	{ "create-pool", step_create_pool },
	{ "wait-ready", step_wait_ready },
	{ "stop-autoscaler", step_stop_autoscaler },
	{ "cordon", step_cordon },
	{ "drain", step_drain },
	{ "delete-pool", step_delete_pool },
	{ "verify", step_verify },
};

const struct azl_operation_kind azl_migrate_kind = {
	AZL_MIGRATE_KIND, migrate_steps, sizeof(migrate_steps) / sizeof(*migrate_steps), rollback, NULL
};

static int add_pool_rollback(struct azl_operation *op, void *data)
{
	(void)data;
	return delete_own_pool(op, new_pool(op));
}

const struct azl_operation_kind azl_add_pool_kind = {
	AZL_ADD_POOL_KIND, migrate_steps, sizeof(migrate_steps) / sizeof(*migrate_steps),
	add_pool_rollback, NULL
};
