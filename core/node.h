/* The node model: what an AKS node says about its pool, OS and state,
 * read from a Kubernetes Node object. */
#ifndef AZL_NODE_H
#define AZL_NODE_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "kube.h"

struct azl_node {
	char *name;
	char *pool;              /* kubernetes.azure.com/agentpool, else agentpool */
	char *os_sku;            /* kubernetes.azure.com/os-sku ("" if absent) */
	char *os_name;           /* display: "Azure Linux 3.0", "Ubuntu 22.04" */
	char *os_version;        /* "3.0", "2.0", "22.04", "2022", "" unknown */
	char *node_image_version;
	char *kubelet_version;
	char *kernel_version;
	char *os_image;
	char *container_runtime;
	char *zone;
	char *vm_size;
	char *provider_id;
	int ready;
	int schedulable;
	time_t created;          /* 0 unknown */
};

struct azl_node_list {
	struct azl_node *items;
	size_t nr;
};

int azl_node_from_json(const cJSON *obj, struct azl_node *out);
void azl_node_release(struct azl_node *node);

/* Lists nodes, optionally filtered by a label selector and/or a pool name
 * (both applied server-side), sorted by name. */
int azl_node_list(struct azl_kube *kube, const char *label_selector,
		  const char *pool, struct azl_node_list *out);
void azl_node_list_release(struct azl_node_list *list);
/* The nodes of pool (NULL or "": all) among Node objects (an array, or an
 * object of them), sorted by name: what a watch has seen, as a list. */
int azl_node_list_from_json(const cJSON *objects, const char *pool, struct azl_node_list *out);

/* Every node, sorted by name, from the server's Node table (two round
 * trips for 5,000 nodes): name, labels, readiness, schedulability, kubelet,
 * kernel, OS image and runtime, creation time; provider_id is left "". A
 * server that cannot make Tables is listed plainly. */
int azl_node_list_brief(struct azl_kube *kube, struct azl_node_list *out);

/* The node as an operation's report lists it (migrate, upgrade):
 * {"name","pool","os","osVersion","nodeImageVersion","kubeletVersion",
 * "ready"}; caller owns. */
cJSON *azl_node_report_json(const struct azl_node *n);

#endif
