#include "poolcache.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachedir.h"
#include "json.h"
#include "statefile.h"
#include "error.h"
#include "kube.h"
#include "wrapper.h"

/* 1 was a text format of its own; it reads as a miss. */
#define CACHE_VERSION 2

void azl_poolcache_key(struct strbuf *out, const struct azl_rest_config *cfg)
{
	strbuf_addstr(out, cfg->context_name ? cfg->context_name : "");
	strbuf_addch(out, '\n');
	strbuf_addstr(out, cfg->server ? cfg->server : "");
}

static int cache_dir(struct strbuf *out)
{
	return azl_cachedir_path(out) ? azl_error_prefix("pool cache") : 0;
}

int azl_poolcache_path(struct strbuf *out, const char *key)
{
	int rc = cache_dir(out);
	if (rc)
		return rc;
	azl_statefile_hash_name(out, "/pools-", key);
	return 0;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

static int check_names(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!names[i] || !valid_name(names[i]))
			return azl_error_set(AZL_EINVALID,
				"pool cache: pool name #%zu is empty or has whitespace or control characters",
				i + 1);
	return 0;
}

int azl_poolcache_write(const char *key, const char *const *names, size_t n)
{
	struct strbuf path = STRBUF_INIT;
	struct azl_statefile *sf = NULL;
	cJSON *doc = NULL;
	int rc = check_names(names, n);

	if (!rc)
		rc = azl_poolcache_path(&path, key);
	if (!rc && azl_statefile_open(&sf, path.buf, CACHE_VERSION, AZL_STATEFILE_WRITE))
		rc = azl_error_prefix("pool cache");
	if (!rc) {
		doc = azl_statefile_doc(sf);
		cJSON_AddStringToObject(doc, "key", key);
		cJSON_AddItemToObject(doc, "pools", cJSON_CreateStringArray(names, (int)n));
		if (azl_statefile_save(sf, doc))
			rc = azl_error_prefix("pool cache");
	}
	cJSON_Delete(doc);
	azl_statefile_close(sf);
	strbuf_release(&path);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Takes ownership of names[0..n): sorts them and drops duplicates. */
static void set_sorted_unique(struct azl_poolcache_list *out, char **names, size_t n)
{
	size_t kept = 0;

	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (kept && !strcmp(names[kept - 1], names[i])) {
			free(names[i]);
			continue;
		}
		names[kept++] = names[i];
	}
	out->items = names;
	out->nr = kept;
}

/* The names of an entry, all valid, else AZL_EINVALID. */
static int parse_names(const cJSON *pools, struct azl_poolcache_list *out)
{
	char **names = xcalloc((size_t)cJSON_GetArraySize(pools) + 1, sizeof(*names));
	const cJSON *p;
	size_t n = 0;

	cJSON_ArrayForEach(p, pools) {
		if (!cJSON_IsString(p) || !valid_name(p->valuestring)) {
			for (size_t i = 0; i < n; i++)
				free(names[i]);
			free(names);
			return AZL_EINVALID;
		}
		names[n++] = xstrdup(p->valuestring);
	}
	set_sorted_unique(out, names, n);
	return 0;
}

/* The entry's names: AZL_ENOTFOUND when the file is absent, unreadable, of
 * another format, or the entry of another key (a hash collision). */
static int read_entry(const char *path, const char *key, struct azl_poolcache_list *out)
{
	struct azl_statefile *sf = NULL;
	cJSON *doc = NULL;
	int rc = azl_statefile_open(&sf, path, CACHE_VERSION, 0);

	if (!rc)
		rc = azl_statefile_load_array(sf, "pools", &doc);
	if (!rc && (strcmp(azl_json_str(doc, "key", ""), key) ||
		    parse_names(cJSON_GetObjectItemCaseSensitive(doc, "pools"), out)))
		rc = AZL_EINVALID;
	cJSON_Delete(doc);
	azl_statefile_close(sf);
	return rc;
}

int azl_poolcache_read(const char *key, struct azl_poolcache_list *out)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	out->items = NULL;
	out->nr = 0;
	rc = azl_poolcache_path(&path, key);
	if (!rc && access(path.buf, F_OK))
		rc = azl_error_set(AZL_ENOTFOUND, "pool cache: no entry in %s (run `kubectl azlinux pools` to fill it)",
				   path.buf);
	else if (!rc && read_entry(path.buf, key, out))
		rc = azl_error_set(AZL_ENOTFOUND, "pool cache: %s is not an entry for this context; ignoring it",
				   path.buf);
	strbuf_release(&path);
	return rc;
}

int azl_poolcache_from_nodes(const struct azl_node_list *nodes,
			     struct azl_poolcache_list *out)
{
	char **names = NULL;
	size_t n = 0;

	for (size_t i = 0; i < nodes->nr; i++) {
		const char *pool = nodes->items[i].pool;
		if (!pool || !valid_name(pool))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(pool);
	}
	set_sorted_unique(out, names, n);
	return 0;
}

static int pools_from_cluster(const struct azl_rest_config *cfg,
			      struct azl_poolcache_list *out)
{
	struct azl_node_list nodes = { NULL, 0 };
	struct azl_kube *kube = NULL;
	int rc;

	if (cfg->exec && cfg->exec->interactive == AZL_EXEC_INTERACTIVE_ALWAYS)
		return azl_error_set(AZL_EUNAVAILABLE,
			"pool names: the credential plugin of user %s is interactive; run `kubectl azlinux pools` to fill the cache",
			cfg->user_name ? cfg->user_name : "");
	rc = azl_kube_new(&kube, cfg);
	if (!rc)
		rc = azl_node_list(kube, NULL, NULL, &nodes);
	if (!rc)
		rc = azl_poolcache_from_nodes(&nodes, out);
	azl_node_list_release(&nodes);
	azl_kube_free(kube);
	return rc;
}

int azl_poolcache_lookup(const struct azl_rest_config *cfg,
			 struct azl_poolcache_list *out)
{
	struct strbuf key = STRBUF_INIT;
	int rc;

	azl_poolcache_key(&key, cfg);
	rc = azl_poolcache_read(key.buf, out);
	strbuf_release(&key);
	if (rc == AZL_ENOTFOUND)
		rc = pools_from_cluster(cfg, out);
	return rc;
}

void azl_poolcache_list_release(struct azl_poolcache_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->nr = 0;
}
