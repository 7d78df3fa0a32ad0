/* Kubernetes Node objects (a Node, or a NodeList's items) into the node
 * model, and the pool cache's view of them. */
#include "fuzz.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "node.h"
#include "poolcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	struct azl_node_list list = { NULL, 0 };
	struct azl_poolcache_list pools = { NULL, 0 };
	const cJSON *it;
	size_t n = 0;

	list.items = calloc(1 + (size_t)cJSON_GetArraySize(items), sizeof(*list.items));
	if (doc && azl_node_from_json(doc, &list.items[n]) == 0)
		n++;
	else
		azl_node_release(&list.items[n]);
	cJSON_ArrayForEach(it, items) {
		if (azl_node_from_json(it, &list.items[n]) == 0)
			n++;
		else
			azl_node_release(&list.items[n]);
	}
	list.nr = n;
	if (azl_poolcache_from_nodes(&list, &pools) == 0)
		azl_poolcache_list_release(&pools);
	azl_node_list_release(&list);
	cJSON_Delete(doc);
	return 0;
}
