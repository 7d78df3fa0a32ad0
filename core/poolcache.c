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
#include "error.h"
#include "kube.h"
#include "wrapper.h"

#define CACHE_HEADER "# kubectl-azlinux pool names v1"
#define KEY_PREFIX "key "

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

/* FNV-1a: file names only need to spread keys; the file repeats its key. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

int azl_poolcache_path(struct strbuf *out, const char *key)
{
	int rc = cache_dir(out);
	if (rc)
		return rc;
	strbuf_addf(out, "/pools-%016llx", (unsigned long long)fnv1a(key));
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

static int format_entry(struct strbuf *out, const char *key,
			const char *const *names, size_t n)
{
	strbuf_addstr(out, CACHE_HEADER "\n" KEY_PREFIX);
	strbuf_addurlenc(out, key);
	strbuf_addch(out, '\n');
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !valid_name(names[i]))
			return azl_error_set(AZL_EINVALID,
				"pool cache: pool name #%zu is empty or has whitespace or control characters",
				i + 1);
		strbuf_addstr(out, names[i]);
		strbuf_addch(out, '\n');
	}
	return 0;
}

int azl_poolcache_write(const char *key, const char *const *names, size_t n)
{
	struct strbuf path = STRBUF_INIT, dir = STRBUF_INIT, content = STRBUF_INIT;
	int rc;

	rc = format_entry(&content, key, names, n);
	if (!rc)
		rc = cache_dir(&dir);
	if (!rc && azl_cachedir_ensure(dir.buf))
		rc = azl_error_prefix("pool cache");
	if (!rc)
		rc = azl_poolcache_path(&path, key);
	if (!rc && azl_cachedir_replace_file(path.buf, content.buf, content.len))
		rc = azl_error_prefix("pool cache");
	strbuf_release(&path);
	strbuf_release(&dir);
	strbuf_release(&content);
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

static int parse_names(char *line, struct azl_poolcache_list *out)
{
	char **names = NULL;
	size_t n = 0;

	while (line && *line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!valid_name(line))
			break;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(line);
		line = nl ? nl + 1 : NULL;
	}
	if (line && *line) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return AZL_EINVALID;
	}
	set_sorted_unique(out, names, n);
	return 0;
}

/* Splits off the header and key lines; returns the names that follow, or
 * NULL when the file is not an entry for key. */
static char *entry_body(char *text, const char *key)
{
	struct strbuf want = STRBUF_INIT;
	char *body = NULL;

	strbuf_addstr(&want, CACHE_HEADER "\n" KEY_PREFIX);
	strbuf_addurlenc(&want, key);
	strbuf_addch(&want, '\n');
	if (!strncmp(text, want.buf, want.len))
		body = text + want.len;
	strbuf_release(&want);
	return body;
}

int azl_poolcache_read(const char *key, struct azl_poolcache_list *out)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	char *body;
	int rc;

	out->items = NULL;
	out->nr = 0;
	rc = azl_poolcache_path(&path, key);
	if (rc)
		goto out;
	if (strbuf_read_file(&text, path.buf)) {
		rc = azl_error_set(AZL_ENOTFOUND, "pool cache: no entry in %s (run `kubectl azlinux pools` to fill it)",
				   path.buf);
		goto out;
	}
	body = entry_body(text.buf, key);
	if (!body || parse_names(body, out))
		rc = azl_error_set(AZL_ENOTFOUND, "pool cache: %s is not an entry for this context; ignoring it",
				   path.buf);
out:
	strbuf_release(&path);
	strbuf_release(&text);
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
