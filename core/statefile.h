/* One primitive for the files kubectl-azlinux keeps between runs: the
 * caches in $XDG_CACHE_HOME/kubectl-azlinux (tokens, clusters, pool names)
 * and the operation journal in $XDG_STATE_HOME/kubectl-azlinux.
 *
 * A state file is a JSON object {"version": N, ...}. It is
 *   - locked with flock(2) on a lock file beside it, "<path>.lock" (the
 *     file itself is replaced by rename, so it cannot carry the lock):
 *     shared to read, exclusive to read-modify-write;
 *   - written to a temporary file beside it (mkostemp, O_CLOEXEC, 0600),
 *     optionally fsync'd, then renamed over it, so a reader sees the old
 *     content or the new, never a torn file;
 *   - private: 0600 in a 0700 directory of ours, not a symlink; a widened
 *     mode is narrowed again.
 * A file that cannot be used is one error line naming the file (and the
 * field) and what to do:
 *   AZL_ENOTFOUND   absent (no message: the caller knows what absent means)
 *   AZL_EINVALID    truncated, corrupt, not an object, "version" missing,
 *                   or of another version (newer: "upgrade kubectl-azlinux")
 *   AZL_EFORBIDDEN  a symlink, not a regular file, someone else's
 *   AZL_ERROR       an I/O error
 * Caches treat AZL_EINVALID as empty (azl_statefile_load_array); the
 * journal reports it. The directories are cachedir.h's. */
#ifndef AZL_STATEFILE_H
#define AZL_STATEFILE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "strbuf.h"

#define AZL_STATEFILE_WRITE   1u  /* exclusive lock; creates the directory */
#define AZL_STATEFILE_NOWAIT  2u  /* AZL_EBUSY instead of waiting for the lock */
#define AZL_STATEFILE_DURABLE 4u  /* fsync the file and the directory on save */

struct azl_statefile;

/* Locks the state file at path (which need not exist), of format version.
 * Without AZL_STATEFILE_WRITE a missing directory is no error: the file is
 * simply absent. */
int azl_statefile_open(struct azl_statefile **out, const char *path, long version,
		       unsigned flags);
/* Unlocks; NULL is fine. */
void azl_statefile_close(struct azl_statefile *sf);
const char *azl_statefile_path(const struct azl_statefile *sf);

/* The file's document, checked to be an object of this version. */
int azl_statefile_load(struct azl_statefile *sf, cJSON **doc);

/* For the caches, {"version": N, "<key>": [...]}: *doc is the file's, or a
 * new empty one when the file is absent or AZL_EINVALID (logged at level 4
 * with the reason). Other errors (an unsafe file) are returned. */
int azl_statefile_load_array(struct azl_statefile *sf, const char *key, cJSON **doc);

/* {"version": N}: a document to fill and save. */
cJSON *azl_statefile_doc(const struct azl_statefile *sf);

/* Replaces the file with doc (whose "version" is set to the file's). Needs
 * AZL_STATEFILE_WRITE. Leaves a file that holds the same bytes alone. */
int azl_statefile_save(struct azl_statefile *sf, cJSON *doc);

/* Removes the file (absent is fine). Needs AZL_STATEFILE_WRITE. */
int azl_statefile_remove(struct azl_statefile *sf);

/* The error for a field of the file's document that is missing or of the
 * wrong type: "<path>: field <field> <problem>; <what to do>". Returns
 * AZL_EINVALID. */
int azl_statefile_bad_field(const struct azl_statefile *sf, const char *field,
			    const char *problem);

/* The lock alone, for a lock that guards something other than one file
 * (token acquisition, a pool's operation): opens path (0600, created, no
 * symlinks) and flocks it, exclusive or shared, waiting unless
 * AZL_STATEFILE_NOWAIT (then AZL_EBUSY, with no message: the caller knows
 * who holds it). *fd is -1 on failure. Unlock by closing fd. */
int azl_statefile_lock(const char *path, int exclusive, unsigned flags, int *fd);

/* Appends prefix and a file name for key: 16 hex digits of its FNV-1a 64
 * hash. Names only need to spread keys; a file that must tell two keys
 * apart repeats its key inside. */
void azl_statefile_hash_name(struct strbuf *out, const char *prefix, const char *key);

/* Replaces path with len bytes atomically (0600 temporary beside it,
 * written in full, fsync'd when durable, renamed over path, then the
 * directory fsync'd when durable). The temporary is removed on failure. A
 * private file of ours that holds the same bytes is left alone. */
int azl_statefile_replace(const char *path, const void *data, size_t len, int durable);

#endif
