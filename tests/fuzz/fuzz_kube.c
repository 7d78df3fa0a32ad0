/* The Kubernetes client against scripted answers (fuzz.h's HTTP double):
 * a GET, the paged node list and the node Table (azl_node_list_brief),
 * with metav1.Status errors, 401 handling and Retry-After. */
#include "fuzz.h"

#include "kube.h"
#include "node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azl_kube *kube = NULL;
	struct azl_node_list list = { NULL, 0 };
	cJSON *obj = NULL;

	fuzz_kube_new(&kube);
	fuzz_http_script(data, size);
	if (azl_kube_get(kube, "/api/v1/nodes/n1", &obj) == 0)
		cJSON_Delete(obj);
	if (azl_node_list(kube, "a=b", "pool1", &list) == 0)
		azl_node_list_release(&list);
	if (azl_node_list_brief(kube, &list) == 0)
		azl_node_list_release(&list);
	azl_kube_free(kube);
	return 0;
}
