/* The per-user caches as a crash or another release may have left them:
 * the pool-name cache (completion) and the cluster resolution cache
 * (clusters.json), each read, updated and read again. */
#include "fuzz.h"

#include <stdlib.h>

#include "cachedir.h"
#include "cluster.h"
#include "poolcache.h"

static const char server[] = "https://aks-1.hcp.eastus.azmk8s.io:443";

static void pool_cache(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "pool1", "pool2" };
	struct azl_poolcache_list list = { NULL, 0 };
	struct strbuf path = STRBUF_INIT;

	if (azl_poolcache_path(&path, "ctx@https://127.0.0.1:6443") < 0)
		abort();
	fuzz_write_file(path.buf, data, size);
	if (azl_poolcache_read("ctx@https://127.0.0.1:6443", &list) == 0)
		azl_poolcache_list_release(&list);
	azl_poolcache_write("ctx@https://127.0.0.1:6443", names, 2);
	strbuf_release(&path);
}

static void cluster_cache(const uint8_t *data, size_t size)
{
	struct strbuf path = STRBUF_INIT, id = STRBUF_INIT;

	if (azl_cluster_cache_path(&path) < 0)
		abort();
	fuzz_write_file(path.buf, data, size);
	azl_cluster_cache_lookup(server, "ctx", &id);
	azl_cluster_cache_store(server, "ctx", "/subscriptions/s/resourceGroups/g/x");
	azl_cluster_cache_lookup(server, "ctx", &id);
	azl_cluster_cache_forget(server, "other");
	strbuf_release(&path);
	strbuf_release(&id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct strbuf dir = STRBUF_INIT;

	if (!ready) {
		fuzz_home();
		if (azl_cachedir_path(&dir) < 0 || azl_cachedir_ensure(dir.buf) < 0)
			abort();
		strbuf_release(&dir);
		ready = 1;
	}
	pool_cache(data, size);
	cluster_cache(data, size);
	return 0;
}
