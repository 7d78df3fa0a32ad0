/* The per-user directories: the cache, $XDG_CACHE_HOME/kubectl-azlinux (or
 * ~/.cache/kubectl-azlinux), shared by the token, cluster and pool caches,
 * and the state, $XDG_STATE_HOME/kubectl-azlinux (or
 * ~/.local/state/kubectl-azlinux), for what must outlive a cache (the
 * operation journal). Their files are statefile.h's.
 *
 * Messages name the path but not the cache: callers add which cache with
 * azl_error_prefix() ("pool cache: cannot create ..."). */
#ifndef AZL_CACHEDIR_H
#define AZL_CACHEDIR_H

#include <stddef.h>
#include <sys/stat.h>

#include "strbuf.h"

/* Appends the directory's path to out (nothing is created). XDG says a
 * relative XDG_CACHE_HOME is invalid and must be ignored. AZL_EINVALID when
 * neither XDG_CACHE_HOME nor HOME is usable. */
int azl_cachedir_path(struct strbuf *out);
/* The same for the state directory ($XDG_STATE_HOME). */
int azl_cachedir_state_path(struct strbuf *out);

/* Creates dir and its missing ancestors ($XDG_CACHE_HOME or ~/.local/state
 * may not exist yet on a fresh account) with mode 0700, then checks that
 * dir itself (not a symlink) is a directory owned by us and private,
 * narrowing a widened mode. */
int azl_cachedir_ensure(const char *dir);

/* Checks that path (stat'ed into st) is ours and has mode want, narrowing a
 * different mode through fd when fd >= 0, else by path. AZL_EFORBIDDEN when
 * it belongs to someone else or cannot be narrowed. */
int azl_cachedir_check_private(const char *path, const struct stat *st,
			       mode_t want, int fd);

#endif
