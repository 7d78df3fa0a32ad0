#include "node.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "json.h"
#include "osinfo.h"
#include "wrapper.h"

#define LABEL_POOL "kubernetes.azure.com/agentpool"
/* A Table row is a fraction of a Node, so two pages hold the 5,000 nodes
 * AKS allows; one page of them would take ~60 MB to parse, two ~40 MB. */
#define BRIEF_PAGE_SIZE 2500

/* The first of two labels that is set, or "". */
static const char *label2(const cJSON *labels, const char *key, const char *fallback)
{
	const char *v = azl_json_member_str(labels, key, NULL);

	if ((!v || !*v) && fallback)
		v = azl_json_member_str(labels, fallback, NULL);
	return v ? v : "";
}

static int condition_true(const cJSON *obj, const char *type)
{
	const cJSON *conds = azl_json_path(obj, "status.conditions");
	const cJSON *c;

	cJSON_ArrayForEach(c, conds)
		if (!strcmp(azl_json_str(c, "type", ""), type))
			return !strcmp(azl_json_str(c, "status", ""), "True");
	return 0;
}

/* creationTimestamp as epoch seconds; 0 when absent or unreadable, which
 * callers show as unknown rather than failing the whole listing. */
static time_t created_at(const cJSON *meta)
{
	const char *ts = azl_json_str(meta, "creationTimestamp", NULL);
	struct azl_error_state saved;
	time_t t = 0;

	if (!ts)
		return 0;
	azl_error_save(&saved);
	if (azl_parse_rfc3339(ts, &t))
		t = 0;
	azl_error_restore(&saved);
	return t;
}

/* What a node reports beyond its metadata: from a Node's spec and status,
 * or from the columns of a Table row. */
struct node_state {
	const char *kubelet_version, *kernel_version, *os_image, *container_runtime;
	const char *provider_id;
	int ready, schedulable;
};

static int node_from(const cJSON *meta, const struct node_state *st, struct azl_node *out)
{
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	const char *name = azl_json_str(meta, "name", NULL);
	struct azl_os_info os;

	memset(out, 0, sizeof(*out));
	if (!name || !*name)
		return azl_error_set(AZL_EINVALID,
				     "the API server returned a Node without metadata.name");
	out->name = xstrdup(name);
	out->pool = xstrdup(label2(labels, LABEL_POOL, "agentpool"));
	out->os_sku = xstrdup(label2(labels, "kubernetes.azure.com/os-sku", NULL));
	out->node_image_version = xstrdup(label2(labels, "kubernetes.azure.com/node-image-version", NULL));
	out->kubelet_version = xstrdup(st->kubelet_version);
	out->kernel_version = xstrdup(st->kernel_version);
	out->os_image = xstrdup(st->os_image);
	out->container_runtime = xstrdup(st->container_runtime);
	out->zone = xstrdup(label2(labels, "topology.kubernetes.io/zone", NULL));
	out->vm_size = xstrdup(label2(labels, "node.kubernetes.io/instance-type",
				  "beta.kubernetes.io/instance-type"));
	out->provider_id = xstrdup(st->provider_id);
	out->ready = st->ready;
	out->schedulable = st->schedulable;
	out->created = created_at(meta);
	/* the effective SKU names the version ("AzureLinux3", never plain
	 * "Ubuntu"), so it beats guessing from the Kubernetes version */
	azl_os_detect(out->node_image_version,
		      label2(labels, "kubernetes.azure.com/os-sku-effective",
			     "kubernetes.azure.com/os-sku"),
		      out->kubelet_version, out->os_image, out->kernel_version, &os);
	out->os_name = xstrdup(os.name);
	out->os_version = xstrdup(os.version);
	return 0;
}

int azl_node_from_json(const cJSON *obj, struct azl_node *out)
{
	struct node_state st = {
		azl_json_str(obj, "status.nodeInfo.kubeletVersion", ""),
		azl_json_str(obj, "status.nodeInfo.kernelVersion", ""),
		azl_json_str(obj, "status.nodeInfo.osImage", ""),
		azl_json_str(obj, "status.nodeInfo.containerRuntimeVersion", ""),
		azl_json_str(obj, "spec.providerID", ""),
		condition_true(obj, "Ready"),
		!azl_json_bool(obj, "spec.unschedulable", 0),
	};

	return node_from(cJSON_GetObjectItemCaseSensitive(obj, "metadata"), &st, out);
}

void azl_node_release(struct azl_node *node)
{
	if (!node)
		return;
	free(node->name);
	free(node->pool);
	free(node->os_sku);
	free(node->os_name);
	free(node->os_version);
	free(node->node_image_version);
	free(node->kubelet_version);
	free(node->kernel_version);
	free(node->os_image);
	free(node->container_runtime);
	free(node->zone);
	free(node->vm_size);
	free(node->provider_id);
	memset(node, 0, sizeof(*node));
}

/* A pool name goes into a label selector: keep it from adding terms. */
static int check_pool_name(const char *pool)
{
	const char *p;

	for (p = pool; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return azl_error_set(AZL_EINVALID,
					     "invalid node pool name \"%s\": AKS pool names have only letters and digits",
					     pool);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct azl_node *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Adds a page of Node objects to the list (ctx) as they arrive. */
static int add_page(cJSON *items, void *ctx)
{
	struct azl_node_list *out = ctx;
	size_t n = (size_t)cJSON_GetArraySize(items);
	const cJSON *item;
	int rc;

	out->items = xrealloc(out->items, (out->nr + n + 1) * sizeof(*out->items));
	cJSON_ArrayForEach(item, items) {
		rc = azl_node_from_json(item, &out->items[out->nr]);
		if (rc)
			return rc;
		out->nr++;
	}
	return 0;
}

int azl_node_list(struct azl_kube *kube, const char *label_selector,
		  const char *pool, struct azl_node_list *out)
{
	struct strbuf sel = STRBUF_INIT, query = STRBUF_INIT;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (pool && *pool)
		rc = check_pool_name(pool);
	if (rc)
		return rc;
	if (label_selector && *label_selector)
		strbuf_addstr(&sel, label_selector);
	if (pool && *pool)
		strbuf_addf(&sel, "%s" LABEL_POOL "=%s", sel.len ? "," : "", pool);
	if (sel.len) {
		strbuf_addstr(&query, "labelSelector=");
		strbuf_addurlenc(&query, sel.buf);
	}
	rc = azl_kube_list_pages(kube, "/api/v1/nodes", query.len ? query.buf : NULL, 0,
				 add_page, out);
	if (!rc && out->nr > 1)
		qsort(out->items, out->nr, sizeof(*out->items), by_name);
	if (rc)
		azl_node_list_release(out);
	strbuf_release(&sel);
	strbuf_release(&query);
	return rc;
}

int azl_node_list_from_json(const cJSON *objects, const char *pool, struct azl_node_list *out)
{
	const cJSON *item;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->items = xcalloc((size_t)cJSON_GetArraySize(objects) + 1, sizeof(*out->items));
	cJSON_ArrayForEach(item, objects) {
		struct azl_node *n = &out->items[out->nr];

		if ((rc = azl_node_from_json(item, n)))
			break;
		if (pool && *pool && strcmp(n->pool, pool))
			azl_node_release(n);
		else
			out->nr++;
	}
	if (!rc && out->nr > 1)
		qsort(out->items, out->nr, sizeof(*out->items), by_name);
	if (rc)
		azl_node_list_release(out);
	return rc;
}

/* The Node table's columns (kubernetes pkg/printers/internalversion) that
 * hold what a Node object's status would give. */
enum { COL_STATUS, COL_VERSION, COL_OS_IMAGE, COL_KERNEL, COL_RUNTIME, NR_COLS };
static const char *const column_names[NR_COLS] = {
	"Status", "Version", "OS-Image", "Kernel-Version", "Container-Runtime"
};

static int find_columns(const cJSON *table, int *cols)
{
	const cJSON *def;
	int i = 0;

	for (int k = 0; k < NR_COLS; k++)
		cols[k] = -1;
	cJSON_ArrayForEach(def, cJSON_GetObjectItemCaseSensitive(table, "columnDefinitions")) {
		for (int k = 0; k < NR_COLS; k++)
			if (!strcasecmp(azl_json_str(def, "name", ""), column_names[k]))
				cols[k] = i;
		i++;
	}
	for (int k = 0; k < NR_COLS; k++)
		if (cols[k] < 0)
			return azl_error_set(AZL_EINVALID,
					     "the API server's Node table has no %s column (not a Kubernetes node table?); check the kubeconfig's server",
					     column_names[k]);
	return 0;
}

/* A printed cell; the printer shows "<unknown>" for an empty value. */
static const char *cell(const cJSON *cells, int col)
{
	const cJSON *c = cJSON_GetArrayItem(cells, col);

	if (!cJSON_IsString(c) || !strcmp(c->valuestring, "<unknown>"))
		return "";
	return c->valuestring;
}

/* The Status column is "Ready", "NotReady" or "Unknown", then
 * ",SchedulingDisabled" for a cordoned node. */
static int row_to_node(const cJSON *row, const int *cols, struct azl_node *out)
{
	const cJSON *cells = cJSON_GetObjectItemCaseSensitive(row, "cells");
	const char *status = cell(cells, cols[COL_STATUS]);
	struct node_state st = {
		cell(cells, cols[COL_VERSION]), cell(cells, cols[COL_KERNEL]),
		cell(cells, cols[COL_OS_IMAGE]), cell(cells, cols[COL_RUNTIME]), "",
		!strncmp(status, "Ready", 5) && (!status[5] || status[5] == ','),
		!strstr(status, "SchedulingDisabled"),
	};

	return node_from(azl_json_path(row, "object.metadata"), &st, out);
}

/* Adds a Table page's rows, or a plain List's items from a server that
 * answered without a Table. */
static int add_table_page(cJSON *page, void *ctx)
{
	struct azl_node_list *out = ctx;
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(page, "rows");
	const cJSON *row;
	int cols[NR_COLS];
	int rc;

	if (strcmp(azl_json_str(page, "kind", ""), "Table"))
		return add_page(cJSON_GetObjectItemCaseSensitive(page, "items"), ctx);
	rc = find_columns(page, cols);
	if (rc)
		return rc;
	out->items = xrealloc(out->items,
			      (out->nr + (size_t)cJSON_GetArraySize(rows) + 1) * sizeof(*out->items));
	cJSON_ArrayForEach(row, rows) {
		rc = row_to_node(row, cols, &out->items[out->nr]);
		if (rc)
			return rc;
		out->nr++;
	}
	return 0;
}

int azl_node_list_brief(struct azl_kube *kube, struct azl_node_list *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = azl_kube_list_table_pages(kube, "/api/v1/nodes", NULL, BRIEF_PAGE_SIZE,
				       add_table_page, out);
	if (!rc && out->nr > 1)
		qsort(out->items, out->nr, sizeof(*out->items), by_name);
	if (rc)
		azl_node_list_release(out);
	return rc;
}

void azl_node_list_release(struct azl_node_list *list)
{
	size_t i;

	if (!list)
		return;
	for (i = 0; i < list->nr; i++)
		azl_node_release(&list->items[i]);
	free(list->items);
	list->items = NULL;
	list->nr = 0;
}

cJSON *azl_node_report_json(const struct azl_node *n)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", n->name);
	cJSON_AddStringToObject(o, "pool", n->pool);
	cJSON_AddStringToObject(o, "os", n->os_name);
	cJSON_AddStringToObject(o, "osVersion", n->os_version);
	cJSON_AddStringToObject(o, "nodeImageVersion", n->node_image_version);
	cJSON_AddStringToObject(o, "kubeletVersion", n->kubelet_version);
	cJSON_AddBoolToObject(o, "ready", n->ready);
	return o;
}
