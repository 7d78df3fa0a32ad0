/* mkostemp(): close-on-exec temporary files, without a race against
 * another thread's fork() */
#define _GNU_SOURCE
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachedir.h"
#include "error.h"
#include "json.h"
#include "log.h"
#include "wrapper.h"

struct azl_statefile {
	char *path;
	long version;
	unsigned flags;
	int lock_fd;                /* -1: no directory yet, nothing to lock */
};

void azl_statefile_hash_name(struct strbuf *out, const char *prefix, const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *s = key; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	strbuf_addf(out, "%s%016llx", prefix, (unsigned long long)h);
}

/* ---- the lock ---- */

int azl_statefile_lock(const char *path, int exclusive, unsigned flags, int *fd)
{
	int op = (exclusive ? LOCK_EX : LOCK_SH) | (flags & AZL_STATEFILE_NOWAIT ? LOCK_NB : 0);
	struct stat st;
	int rc;

	*fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (*fd < 0)
		return azl_error_set(errno == ELOOP ? AZL_EFORBIDDEN : AZL_ERROR,
				     "cannot open the lock %s: %s", path, strerror(errno));
	rc = fstat(*fd, &st) < 0 || !S_ISREG(st.st_mode)
		? azl_error_set(AZL_EFORBIDDEN, "the lock %s is not a regular file; remove it", path)
		: azl_cachedir_check_private(path, &st, 0600, *fd);
	while (!rc && flock(*fd, op) < 0) {
		if (errno == EWOULDBLOCK)
			rc = AZL_EBUSY;
		else if (errno != EINTR)
			rc = azl_error_set(AZL_ERROR, "cannot lock %s: %s", path, strerror(errno));
	}
	if (rc) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

/* ---- atomic replacement ---- */

static int write_temp(int fd, const char *tmp, const void *data, size_t len, int durable)
{
	int failed = fchmod(fd, 0600) || write_in_full(fd, data, len) ||
		     (durable && fsync(fd));
	int saved = errno;

	/* close() even after a failed write: the descriptor must not leak. */
	if (close(fd) && !failed) {
		failed = 1;
		saved = errno;
	}
	if (failed)
		return azl_error_set(AZL_ERROR, "cannot write %s: %s", tmp, strerror(saved));
	return 0;
}

/* Whether path is a private file of ours that holds exactly data already.
 * Most runs find what they would write (a fleet remembers every context's
 * pools, rarely changed): reading it is an open and a read, where replacing
 * it is a temporary file, a chmod, a write and a rename, which took 3% of
 * the client's CPU on the bench fleet and rewrites the disk for nothing. */
static int already_holds(const char *path, const void *data, size_t len)
{
	struct strbuf old = STRBUF_INIT;
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int same;

	if (fd < 0)
		return 0;
	same = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == getuid() &&
	       (st.st_mode & 07777) == 0600 && (size_t)st.st_size == len &&
	       !strbuf_read_fd(&old, fd) && old.len == len && !memcmp(old.buf, data, len);
	close(fd);
	strbuf_release(&old);
	return same;
}

/* After a rename, the directory's entry is what must reach the disk. */
static int sync_dir(const char *path)
{
	struct strbuf dir = STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	strbuf_add(&dir, path, slash ? (size_t)(slash - path) : 0);
	if (!dir.len)
		strbuf_addch(&dir, slash ? '/' : '.');
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = azl_error_set(AZL_ERROR, "cannot sync %s: %s", dir.buf, strerror(errno));
	if (fd >= 0)
		close(fd);
	strbuf_release(&dir);
	return rc;
}

int azl_statefile_replace(const char *path, const void *data, size_t len, int durable)
{
	struct strbuf tmp = STRBUF_INIT;
	int fd, rc;

	if (already_holds(path, data, len))
		return 0;
	strbuf_addf(&tmp, "%s.XXXXXX", path);
	fd = mkostemp(tmp.buf, O_CLOEXEC);
	if (fd < 0) {
		rc = azl_error_set(AZL_ERROR, "cannot create %s: %s", tmp.buf, strerror(errno));
		strbuf_release(&tmp);
		return rc;
	}
	rc = write_temp(fd, tmp.buf, data, len, durable);
	if (!rc && rename(tmp.buf, path))
		rc = azl_error_set(AZL_ERROR, "cannot replace %s: %s", path, strerror(errno));
	if (rc)
		unlink(tmp.buf);
	else if (durable)
		rc = sync_dir(path);
	strbuf_release(&tmp);
	return rc;
}

/* ---- the file ---- */

static int parent_dir(const char *path, struct strbuf *dir)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return azl_error_set(AZL_EINVALID, "state file %s: not an absolute path in a directory",
				     path);
	strbuf_add(dir, path, (size_t)(slash - path));
	return 0;
}

/* Locks path's lock file; a reader without the directory locks nothing. */
static int lock_beside(struct azl_statefile *sf)
{
	struct strbuf dir = STRBUF_INIT, lock = STRBUF_INIT;
	int write = !!(sf->flags & AZL_STATEFILE_WRITE);
	int rc = parent_dir(sf->path, &dir);

	if (!rc && write)
		rc = azl_cachedir_ensure(dir.buf);
	strbuf_addf(&lock, "%s.lock", sf->path);
	if (!rc && (write || !access(dir.buf, F_OK)))
		rc = azl_statefile_lock(lock.buf, write, sf->flags, &sf->lock_fd);
	strbuf_release(&dir);
	strbuf_release(&lock);
	return rc;
}

int azl_statefile_open(struct azl_statefile **out, const char *path, long version,
		       unsigned flags)
{
	struct azl_statefile *sf = xcalloc(1, sizeof(*sf));
	int rc;

	sf->path = xstrdup(path);
	sf->version = version;
	sf->flags = flags;
	sf->lock_fd = -1;
	rc = lock_beside(sf);
	if (rc) {
		azl_statefile_close(sf);
		sf = NULL;
	}
	*out = sf;
	return rc;
}

void azl_statefile_close(struct azl_statefile *sf)
{
	if (!sf)
		return;
	if (sf->lock_fd >= 0)
		close(sf->lock_fd); /* closing releases the flock */
	free(sf->path);
	free(sf);
}

const char *azl_statefile_path(const struct azl_statefile *sf)
{
	return sf->path;
}

int azl_statefile_bad_field(const struct azl_statefile *sf, const char *field,
			    const char *problem)
{
	return azl_error_set(AZL_EINVALID, "%s: field %s %s; remove the file or restore it",
			     sf->path, field, problem);
}

/* Opens the file for reading: regular, ours, 0600 (narrowed), no symlink. */
static int open_private(const struct azl_statefile *sf, int *fd_out)
{
	struct stat st;
	int fd = open(sf->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	*fd_out = -1;
	if (fd < 0 && errno == ENOENT)
		return AZL_ENOTFOUND;
	if (fd < 0)
		return azl_error_set(errno == ELOOP ? AZL_EFORBIDDEN : AZL_ERROR,
				     "cannot open %s: %s%s", sf->path, strerror(errno),
				     errno == ELOOP ? " (a symlink); remove it"
						    : "; check its owner and mode, or remove it");
	rc = fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
		? azl_error_set(AZL_EFORBIDDEN, "%s is not a regular file; remove it", sf->path)
		: azl_cachedir_check_private(sf->path, &st, 0600, fd);
	if (rc)
		close(fd);
	else
		*fd_out = fd;
	return rc;
}

static int check_version(const struct azl_statefile *sf, const cJSON *doc)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "version");

	if (!cJSON_IsNumber(v))
		return azl_statefile_bad_field(sf, "version", "is missing or not a number");
	if (v->valuedouble > (double)sf->version)
		return azl_error_set(AZL_EINVALID,
				     "%s: field version is %g, written by a newer kubectl-azlinux (this one reads %ld); upgrade kubectl-azlinux",
				     sf->path, v->valuedouble, sf->version);
	if (v->valuedouble != (double)sf->version)
		return azl_error_set(AZL_EINVALID,
				     "%s: field version is %g, an older format than this kubectl-azlinux reads (%ld); remove the file",
				     sf->path, v->valuedouble, sf->version);
	return 0;
}

static int parse(const struct azl_statefile *sf, const struct strbuf *text, cJSON **doc)
{
	const char *end = NULL;

	*doc = cJSON_ParseWithLengthOpts(text->buf, text->len, &end, 0);
	if (!*doc)
		return azl_error_set(AZL_EINVALID,
				     "%s is truncated or corrupt (not JSON at byte %zu of %zu); remove the file or restore it",
				     sf->path, end && end >= text->buf ? (size_t)(end - text->buf) : 0,
				     text->len);
	if (!cJSON_IsObject(*doc)) {
		cJSON_Delete(*doc);
		*doc = NULL;
		return azl_error_set(AZL_EINVALID,
				     "%s is not a JSON object; remove the file or restore it", sf->path);
	}
	return 0;
}

int azl_statefile_load(struct azl_statefile *sf, cJSON **doc)
{
	struct strbuf text = STRBUF_INIT;
	int fd, rc;

	*doc = NULL;
	rc = open_private(sf, &fd);
	if (rc)
		return rc;
	if (strbuf_read_fd(&text, fd))
		rc = azl_error_set(AZL_ERROR, "cannot read %s: %s", sf->path, strerror(errno));
	close(fd);
	if (!rc)
		rc = parse(sf, &text, doc);
	if (!rc)
		rc = check_version(sf, *doc);
	if (rc) {
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	strbuf_release(&text);
	return rc;
}

cJSON *azl_statefile_doc(const struct azl_statefile *sf)
{
	cJSON *doc = cJSON_CreateObject();

	cJSON_AddNumberToObject(doc, "version", (double)sf->version);
	return doc;
}

int azl_statefile_load_array(struct azl_statefile *sf, const char *key, cJSON **doc)
{
	int rc = azl_statefile_load(sf, doc);

	if (!rc && !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*doc, key)))
		rc = azl_statefile_bad_field(sf, key, "is missing or not an array");
	if (rc == AZL_EINVALID)
		azl_logf(4, "ignoring %s", azl_error_message());
	if (rc == AZL_EINVALID || rc == AZL_ENOTFOUND) {
		azl_error_clear();
		cJSON_Delete(*doc);
		*doc = azl_statefile_doc(sf);
		cJSON_AddArrayToObject(*doc, key);
		rc = 0;
	}
	return rc;
}

static int need_write(const struct azl_statefile *sf)
{
	if (sf->flags & AZL_STATEFILE_WRITE)
		return 0;
	return azl_error_set(AZL_EINVALID, "%s was opened for reading, not writing", sf->path);
}

int azl_statefile_save(struct azl_statefile *sf, cJSON *doc)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "version");
	char *text;
	int rc = need_write(sf);

	if (rc)
		return rc;
	if (cJSON_IsNumber(v))
		cJSON_SetNumberValue(v, (double)sf->version);
	else
		cJSON_AddNumberToObject(doc, "version", (double)sf->version);
	text = azl_json_print(doc, 1);
	rc = azl_statefile_replace(sf->path, text, strlen(text),
				   !!(sf->flags & AZL_STATEFILE_DURABLE));
	free(text);
	return rc;
}

int azl_statefile_remove(struct azl_statefile *sf)
{
	int rc = need_write(sf);

	if (!rc && unlink(sf->path) < 0 && errno != ENOENT)
		rc = azl_error_set(AZL_ERROR, "cannot remove %s: %s", sf->path, strerror(errno));
	return rc;
}
