/* Pool names per kubeconfig context, cached on disk for shell completion.
 *
 * `pools` writes the names it listed; TAB reads them back without touching
 * the network, so completing a pool name stays fast. When there is no cache
 * entry, azl_poolcache_lookup() falls back to the Kubernetes node labels
 * (never to ARM, which is far too slow for a key press).
 *
 * Files live in $XDG_CACHE_HOME/kubectl-azlinux/ (~/.cache/kubectl-azlinux/
 * when unset), state files of statefile.h (0600 in a 0700 directory,
 * replaced atomically under a lock, so a reader never sees half a list).
 * One file per key, named pools-<FNV-1a 64 of the key, 16 hex digits>,
 * holding
 *
 *     {"version": 2, "key": "<the key>", "pools": ["<name>", ...]}
 *
 * The file repeats its key, so a hash collision reads as "no entry". */
#ifndef AZL_POOLCACHE_H
#define AZL_POOLCACHE_H

#include <stddef.h>

#include "kubeconfig.h"
#include "node.h"
#include "strbuf.h"

struct azl_poolcache_list {
	char **items;            /* sorted, unique */
	size_t nr;
};

/* The key a resolved context is cached under: context name and API server,
 * so two kubeconfigs that reuse a context name do not share an entry. Use
 * this on both sides (writer and reader). */
void azl_poolcache_key(struct strbuf *out, const struct azl_rest_config *cfg);

/* Where the entry for key lives (the file need not exist). */
int azl_poolcache_path(struct strbuf *out, const char *key);

/* Replaces the entry for key with names (any order, duplicates allowed).
 * A name must be non-empty and free of whitespace and control characters. */
int azl_poolcache_write(const char *key, const char *const *names, size_t n);

/* Reads the entry for key. AZL_ENOTFOUND when there is none, or when it is
 * unreadable or of another format: a bad cache is never fatal, only a miss. */
int azl_poolcache_read(const char *key, struct azl_poolcache_list *out);

/* The distinct pool names of a node list, sorted. */
int azl_poolcache_from_nodes(const struct azl_node_list *nodes,
			     struct azl_poolcache_list *out);

/* Pool names for completion: the cache entry for cfg, else the pools named
 * by the cluster's node labels (one Kubernetes list, bounded by
 * cfg->timeout_ms; the caller sets a short one). An exec credential plugin
 * that insists on interactive mode is not run: a key press must not prompt. */
int azl_poolcache_lookup(const struct azl_rest_config *cfg,
			 struct azl_poolcache_list *out);

void azl_poolcache_list_release(struct azl_poolcache_list *list);

#endif
