/* The file token cache (tokens.json) as another process or release may
 * have left it: read an entry, replace it, read it back, remove it. */
#include "fuzz.h"

#include <stdlib.h>

#include "cachedir.h"
#include "tokencache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct azl_token_key key = {
		"AzureCloud", "tenant-a", "client-a", "access_token",
		"https://management.azure.com/.default"
	};
	static struct strbuf path = STRBUF_INIT;
	struct azl_token_entry e = AZL_TOKEN_ENTRY_INIT;
	struct azl_tokencache *c = NULL;
	int removed = 0;
	struct strbuf dir = STRBUF_INIT;

	if (!path.len) {
		fuzz_home();
		if (azl_cachedir_path(&dir) < 0 || azl_cachedir_ensure(dir.buf) < 0)
			abort();
		strbuf_addf(&path, "%s/tokens.json", dir.buf);
		strbuf_release(&dir);
	}
	fuzz_write_file(path.buf, data, size);
	if (azl_tokencache_open(&c, "file", NULL) < 0)
		abort();
	azl_tokencache_get(c, &key, &e);
	strbuf_reset(&e.value);
	strbuf_addstr(&e.value, "fuzz-value");
	e.expires_on = 1900000000;
	azl_tokencache_put(c, &key, &e);
	azl_tokencache_get(c, &key, &e);
	azl_tokencache_remove(c, &key, &removed);
	azl_token_entry_release(&e);
	azl_tokencache_free(c);
	return 0;
}
