/* The Kubernetes client against scripted answers (fuzz.h's HTTP double):
 * a GET, the paged node list and the node Table (azl_node_list_brief),
 * with metav1.Status errors, 401 handling and Retry-After; and the write
 * path's reads and answers: a node's pods (core/pod), a namespace's PDBs
 * (core/pdb), an eviction's outcome (core/eviction) and the discovery of
 * the eviction subresource. */
#include "fuzz.h"

#include <stdlib.h>

#include "eviction.h"
#include "kube.h"
#include "kubeconfig.h"
#include "node.h"
#include "pdb.h"
#include "pod.h"
#include "retry.h"

static const char kubeconfig[] =
	"apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	"clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n"
	"    insecure-skip-tls-verify: true\n"
	"users:\n- name: u\n  user:\n    token: fuzz-token\n"
	"contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n";

static struct azl_rest_config *config(void)
{
	static struct azl_rest_config *cfg;
	struct azl_kubeconfig *kc = NULL;
	struct azl_kube_overrides ov = { 0 };
	struct strbuf path = STRBUF_INIT;

	if (cfg)
		return cfg;
	strbuf_addf(&path, "%s/kube-target-config", fuzz_home());
	fuzz_write_file(path.buf, (const uint8_t *)kubeconfig, sizeof(kubeconfig) - 1);
	if (azl_kubeconfig_load(&kc, path.buf) < 0 || azl_kubeconfig_resolve(kc, &ov, &cfg) < 0)
		abort();
	azl_kubeconfig_free(kc);
	strbuf_release(&path);
	return cfg;
}

static int look_at_pod(const struct azl_pod *pod, void *ctx)
{
	(void)ctx;
	(void)azl_pod_controller(pod);
	(void)azl_pod_is_mirror(pod);
	(void)azl_pod_is_terminal(pod);
	(void)azl_pod_has_volume(pod, AZL_VOLUME_EMPTY_DIR);
	(void)azl_pod_label(pod, "app");
	return 0;
}

/* What drain and migrate read and get back, on the rest of the script. */
static void write_path(struct azl_kube *kube)
{
	struct azl_eviction_options eo = AZL_EVICTION_OPTIONS_INIT;
	struct azl_eviction_result er = AZL_EVICTION_RESULT_INIT;
	struct azl_pdb_list pdbs = { 0 };
	struct strbuf gv = STRBUF_INIT;

	azl_pod_list_on_node(kube, "n1", NULL, 2, look_at_pod, NULL);
	if (azl_pdb_list(kube, "ns", &pdbs) == 0)
		azl_pdb_list_release(&pdbs);
	azl_eviction_discover(kube, &gv);
	eo.group_version = gv.len ? gv.buf : "policy/v1";
	azl_eviction_create(kube, "ns", "p1", &eo, &er);
	(void)azl_eviction_outcome_name(er.outcome);
	azl_eviction_result_release(&er);
	strbuf_release(&gv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct azl_kube *kube = NULL;
	struct azl_node_list list = { NULL, 0 };
	cJSON *obj = NULL;

	static struct azl_retry *retry;

	if (!retry) {
		/* as fuzz_arm_new's: two tries, a 3 ms budget, so that the
		 * requests past the script (transport errors) do not back off */
		struct azl_retry_options ro = { .max_attempts = 2, .budget_ms = 3 };

		if (azl_retry_new(&retry, &ro) < 0)
			abort();
	}
	if (azl_kube_new(&kube, config()) < 0)
		abort();
	azl_kube_set_retry(kube, retry);
	fuzz_http_script(data, size);
	if (azl_kube_get(kube, "/api/v1/nodes/n1", &obj) == 0)
		cJSON_Delete(obj);
	if (azl_node_list(kube, "a=b", "pool1", &list) == 0)
		azl_node_list_release(&list);
	if (azl_node_list_brief(kube, &list) == 0)
		azl_node_list_release(&list);
	write_path(kube);
	azl_kube_free(kube);
	return 0;
}
