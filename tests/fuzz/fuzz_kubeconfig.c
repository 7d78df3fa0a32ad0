/* kubeconfig files (YAML): loading, merging and resolving every context,
 * with the -data fields and referenced files as client-go reads them. */
#include "fuzz.h"

#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct strbuf path = STRBUF_INIT;
	struct azl_kubeconfig *kc = NULL;

	if (!path.len)
		strbuf_addf(&path, "%s/kubeconfig", fuzz_home());
	fuzz_write_file(path.buf, data, size);
	if (azl_kubeconfig_load(&kc, path.buf) == 0 && azl_kubeconfig_require_contexts(kc) == 0) {
		for (size_t i = 0; i < azl_kubeconfig_context_count(kc) && i < 8; i++) {
			struct azl_kube_overrides ov = { 0 };
			struct azl_rest_config *cfg = NULL;
			const char *cluster, *server;

			ov.context = azl_kubeconfig_context_name(kc, i);
			azl_kubeconfig_context_info(kc, ov.context, &cluster, &server);
			if (azl_kubeconfig_resolve(kc, &ov, &cfg) == 0)
				azl_rest_config_free(cfg);
		}
		(void)azl_kubeconfig_current_context(kc);
	}
	azl_kubeconfig_free(kc);
	return 0;
}
