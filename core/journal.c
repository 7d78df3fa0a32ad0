/* strcasestr() */
#define _GNU_SOURCE
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "cachedir.h"
#include "error.h"
#include "json.h"
#include "redact.h"
#include "statefile.h"
#include "wrapper.h"

struct azl_journal {
	cJSON *doc;                  /* the file's content, kept in step with it */
	char *path;
	char *lock_path;             /* the pool's lock (the cluster's for a cluster-wide one) */
	int lock_fd;                 /* -1: a read-only copy */
	int cluster_fd;              /* a pool's operation: the cluster's lock, shared; else -1 */
	int interrupted;             /* read-only copy of an abandoned operation */
};

static const char *const op_states[] = {
	"Planned", "InProgress", "Succeeded", "Failed", "Canceled", "Interrupted"
};
static const char *const step_states[] = { "pending", "running", "done", "failed" };

#define NR(a) (sizeof(a) / sizeof((a)[0]))

const char *azl_op_state_name(enum azl_op_state s)
{
	return (size_t)s < NR(op_states) ? op_states[s] : "Unknown";
}

const char *azl_step_state_name(enum azl_step_state s)
{
	return (size_t)s < NR(step_states) ? step_states[s] : "unknown";
}

static int state_index(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -1;
}

static int terminal(enum azl_op_state s)
{
	return s != AZL_OP_PLANNED && s != AZL_OP_IN_PROGRESS;
}

/* ---- paths and names ---- */

int azl_journal_dir(struct strbuf *out)
{
	int rc = azl_cachedir_state_path(out);

	if (rc)
		return azl_error_prefix("operation journal");
	strbuf_addstr(out, "/operations");
	return 0;
}

/* RFC 3339 UTC, or compact for ids ("20261201T225000Z"). */
static void add_time(struct strbuf *sb, time_t t, int compact)
{
	struct tm tm;
	char buf[32];

	if (compact) {
		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
	} else {
		azl_format_rfc3339(t, buf, sizeof(buf));
	}
	strbuf_addstr(sb, buf);
}

static void set_time(cJSON *obj, const char *key, time_t t)
{
	struct strbuf sb = STRBUF_INIT;

	add_time(&sb, t, 0);
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddStringToObject(obj, key, sb.buf);
	strbuf_release(&sb);
}

static time_t get_time(const cJSON *obj, const char *key)
{
	time_t t = 0;

	if (azl_parse_rfc3339(azl_json_str(obj, key, ""), &t))
		azl_error_clear();
	return t;
}

/* Sortable by time, unique by its random part (and checked on create). */
static void new_id(struct strbuf *id)
{
	unsigned char r[4];
	time_t now = time(NULL);

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		unsigned long x = (unsigned long)getpid() * 2654435761u ^ (unsigned long)clock();

		memcpy(r, &x, sizeof(r));
	}
	add_time(id, now, 1);
	strbuf_addf(id, "-%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
}

/* An id is what new_id makes: nothing that could leave the directory. */
static int valid_id(const char *id)
{
	size_t n = strlen(id);

	if (!n || n > 64)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || *p == '-'))
			return 0;
	return 1;
}

static int op_path(struct strbuf *out, const char *id)
{
	int rc = azl_journal_dir(out);

	if (!rc)
		strbuf_addf(out, "/%s.json", id);
	return rc;
}

/* ARM names are case-insensitive: one lock whatever the spelling. */
static void lower_into(struct strbuf *sb, const char *s)
{
	for (; s && *s; s++)
		strbuf_addch(sb, (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s));
}

static int pool_lock_path(struct strbuf *out, const char *sub, const char *rg,
			  const char *cluster, const char *pool)
{
	struct strbuf key = STRBUF_INIT;
	int rc = azl_journal_dir(out);

	if (rc)
		return rc;
	lower_into(&key, sub);
	strbuf_addch(&key, '/');
	lower_into(&key, rg);
	strbuf_addch(&key, '/');
	lower_into(&key, cluster);
	strbuf_addch(&key, '/');
	lower_into(&key, pool);
	strbuf_addstr(out, "/locks/");
	azl_statefile_hash_name(out, "pool-", key.buf);
	strbuf_addstr(out, ".lock");
	strbuf_release(&key);
	return 0;
}

static int whole_cluster(const char *pool)
{
	return !strcmp(pool, AZL_JOURNAL_CLUSTER);
}

static int cluster_lock_path(struct strbuf *out, const char *sub, const char *rg,
			     const char *cluster)
{
	return pool_lock_path(out, sub, rg, cluster, AZL_JOURNAL_CLUSTER);
}

/* ---- the document ---- */

static const char *str(const cJSON *o, const char *key)
{
	return azl_json_str(o, key, "");
}

static cJSON *steps_of(const struct azl_journal *j)
{
	return cJSON_GetObjectItemCaseSensitive(j->doc, "steps");
}

static cJSON *step_at(const struct azl_journal *j, size_t i)
{
	return cJSON_GetArrayItem(steps_of(j), (int)i);
}

static void set_str(cJSON *obj, const char *key, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddStringToObject(obj, key, value ? value : "");
}

/* Checks what the rest of this file relies on; names the field at fault. */
static int validate(const struct azl_statefile *sf, const cJSON *doc)
{
	static const char *const strings[] = { "id", "kind", "state", "created", "pool",
					       "cluster.subscription", "cluster.resourceGroup",
					       "cluster.name" };
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(doc, "steps"), *s;
	char field[48];
	int i = 0;

	for (size_t k = 0; k < NR(strings); k++)
		if (!cJSON_IsString(azl_json_path(doc, strings[k])))
			return azl_statefile_bad_field(sf, strings[k], "is missing or not a string");
	if (state_index(str(doc, "state"), op_states, NR(op_states)) < 0)
		return azl_statefile_bad_field(sf, "state", "is not one of Planned, InProgress, Succeeded, Failed, Canceled, Interrupted");
	if (!cJSON_IsArray(steps))
		return azl_statefile_bad_field(sf, "steps", "is missing or not an array");
	cJSON_ArrayForEach(s, steps) {
		snprintf(field, sizeof(field), "steps[%d]", i++);
		if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(s, "name")) ||
		    state_index(str(s, "state"), step_states, NR(step_states)) < 0)
			return azl_statefile_bad_field(sf, field, "has no name or no valid state (pending, running, done, failed)");
	}
	return 0;
}

/* Writes j's document, durably, before the caller goes on. */
static int save(struct azl_journal *j)
{
	struct azl_statefile *sf = NULL;
	int rc;

	set_time(j->doc, "updated", time(NULL));
	rc = azl_statefile_open(&sf, j->path, AZL_JOURNAL_VERSION,
				AZL_STATEFILE_WRITE | AZL_STATEFILE_DURABLE);
	if (!rc)
		rc = azl_statefile_save(sf, j->doc);
	azl_statefile_close(sf);
	return rc ? azl_error_prefix("operation journal") : 0;
}

static int read_file(const char *path, cJSON **doc)
{
	struct azl_statefile *sf = NULL;
	int rc = azl_statefile_open(&sf, path, AZL_JOURNAL_VERSION, 0);

	if (!rc)
		rc = azl_statefile_load(sf, doc);
	if (!rc && (rc = validate(sf, *doc))) {
		cJSON_Delete(*doc);
		*doc = NULL;
	}
	azl_statefile_close(sf);
	return rc;
}

static struct azl_journal *journal_new(cJSON *doc, const char *path)
{
	struct azl_journal *j = xcalloc(1, sizeof(*j));

	j->doc = doc;
	j->path = xstrdup(path);
	j->lock_fd = -1;
	j->cluster_fd = -1;
	return j;
}

static void release_locks(struct azl_journal *j)
{
	/* closing drops the flocks */
	if (j->lock_fd >= 0)
		close(j->lock_fd);
	if (j->cluster_fd >= 0)
		close(j->cluster_fd);
	j->lock_fd = j->cluster_fd = -1;
}

void azl_journal_free(struct azl_journal *j)
{
	if (!j)
		return;
	release_locks(j);
	cJSON_Delete(j->doc);
	free(j->path);
	free(j->lock_path);
	free(j);
}

/* ---- the locks ---- */

/* A pool's operation holds its pool's lock and the cluster's shared; a
 * cluster-wide one holds the cluster's alone. So each sees the other. */

static int journal_lock_path(const struct azl_journal *j, struct strbuf *out)
{
	return pool_lock_path(out, azl_journal_target_field(j, "subscription"),
			      azl_journal_target_field(j, "resourceGroup"),
			      azl_journal_target_field(j, "name"),
			      azl_journal_target_field(j, "pool"));
}

/* The id the lock file names: its last holder (maybe the live one). A
 * cluster's lock held shared names no pool operation. */
static void lock_holder(const char *lock_path, struct strbuf *id)
{
	strbuf_reset(id);
	if (strbuf_read_file(id, lock_path))
		strbuf_reset(id);
	strbuf_trim(id);
	if (!valid_id(id->buf))
		strbuf_reset(id);
}

/* Read from its file: unfinished, and its process holds its lock. */
static int live(const struct azl_journal *j)
{
	enum azl_op_state s = azl_journal_state(j);

	return s == AZL_OP_PLANNED || s == AZL_OP_IN_PROGRESS;
}

static int same_cluster(const struct azl_journal *j, const struct azl_journal_target *t)
{
	return !strcasecmp(azl_journal_target_field(j, "subscription"), t->subscription) &&
	       !strcasecmp(azl_journal_target_field(j, "resourceGroup"), t->resource_group) &&
	       !strcasecmp(azl_journal_target_field(j, "name"), t->cluster);
}

/* A running operation on a pool of t's cluster, or NULL. */
static struct azl_journal *pool_holder(const struct azl_journal_target *t)
{
	struct azl_journal_list list;
	struct azl_journal *found = NULL;

	if (azl_journal_list(&list, NULL))
		azl_error_clear();
	for (size_t i = 0; !found && i < list.nr; i++) {
		struct azl_journal *j = list.items[i];

		if (live(j) && !whole_cluster(azl_journal_target_field(j, "pool")) &&
		    same_cluster(j, t)) {
			found = j;
			list.items[i] = NULL;
		}
	}
	azl_journal_list_release(&list);
	return found;
}

/* The operation that holds lock_path against t, or NULL. */
static struct azl_journal *holder(const char *lock_path, const struct azl_journal_target *t)
{
	struct strbuf id = STRBUF_INIT;
	struct azl_journal *other = NULL;

	lock_holder(lock_path, &id);
	if (id.len && azl_journal_load(&other, id.buf, 0))
		azl_error_clear();
	strbuf_release(&id);
	if (!whole_cluster(t->pool) || (other && live(other)))
		return other;
	/* the cluster's lock held shared: by an operation on one of its pools */
	azl_journal_free(other);
	return pool_holder(t);
}

/* AZL_EBUSY with the line naming other (freed), which holds lock_path. */
static int busy_with(struct azl_journal *other, const char *lock_path,
		     const struct azl_journal_target *t)
{
	struct strbuf what = STRBUF_INIT, since = STRBUF_INIT, doing = STRBUF_INIT;
	const char *pool;
	int rc;

	if (whole_cluster(t->pool))
		strbuf_addf(&what, "cluster %s", t->cluster);
	else
		strbuf_addf(&what, "node pool %s of cluster %s", t->pool, t->cluster);
	if (!other) {
		rc = azl_error_set(AZL_EBUSY,
				   "%s is busy: another kubectl-azlinux process holds %s; wait for it to finish",
				   what.buf, lock_path);
		strbuf_release(&what);
		return rc;
	}
	strbuf_addstr(&doing, azl_journal_kind(other));
	for (size_t i = 0; i < azl_journal_nr_steps(other); i++)
		if (azl_journal_step_state(other, i) == AZL_STEP_RUNNING)
			strbuf_addf(&doing, ", step %zu of %zu: %s", i + 1,
				    azl_journal_nr_steps(other), azl_journal_step_name(other, i));
	pool = azl_journal_target_field(other, "pool");
	strbuf_addstr(&doing, ")");
	if (whole_cluster(pool) && !whole_cluster(t->pool))
		strbuf_addstr(&doing, " on the whole cluster");
	else if (strcasecmp(pool, t->pool))
		strbuf_addf(&doing, " on node pool %s", pool);
	add_time(&since, azl_journal_created(other), 0);
	rc = azl_error_set(AZL_EBUSY,
			   "%s is busy: operation %s (%s has run since %s (pid %ld on %s); wait for it to finish",
			   what.buf, azl_journal_id(other), doing.buf, since.buf,
			   azl_json_int(other->doc, "pid", 0), str(other->doc, "host"));
	azl_journal_free(other);
	strbuf_release(&what);
	strbuf_release(&since);
	strbuf_release(&doing);
	return rc;
}

static int busy(const char *lock_path, const struct azl_journal_target *t)
{
	return busy_with(holder(lock_path, t), lock_path, t);
}

/* The operation that held the lock before us, if its file still says it
 * runs, did not finish: say so in its file (we hold its pool's lock). */
static void mark_abandoned(const char *lock_path, const char *mine)
{
	struct strbuf id = STRBUF_INIT, path = STRBUF_INIT;
	struct azl_journal *old;
	cJSON *doc = NULL;

	lock_holder(lock_path, &id);
	if (id.len && strcmp(id.buf, mine) && !op_path(&path, id.buf) &&
	    !read_file(path.buf, &doc) &&
	    !terminal((enum azl_op_state)state_index(str(doc, "state"), op_states, NR(op_states)))) {
		old = journal_new(doc, path.buf);
		doc = NULL;
		set_str(old->doc, "state", azl_op_state_name(AZL_OP_INTERRUPTED));
		if (save(old))
			azl_error_clear();
		azl_journal_free(old);
	}
	azl_error_clear();
	cJSON_Delete(doc);
	strbuf_release(&id);
	strbuf_release(&path);
}

static int lock_or_busy(const char *path, int exclusive, int *fd,
			const struct azl_journal_target *t)
{
	int rc = azl_statefile_lock(path, exclusive, AZL_STATEFILE_NOWAIT, fd);

	if (rc == AZL_EBUSY)
		return busy(path, t);
	return rc ? azl_error_prefix("operation journal") : 0;
}

/* A pool's operation: the cluster's lock, shared (the directory exists). */
static int share_cluster_lock(struct azl_journal *j, const struct azl_journal_target *t)
{
	struct strbuf path = STRBUF_INIT;
	int rc = 0;

	if (!whole_cluster(t->pool)) {
		rc = cluster_lock_path(&path, t->subscription, t->resource_group, t->cluster);
		if (!rc)
			rc = lock_or_busy(path.buf, 0, &j->cluster_fd, t);
	}
	strbuf_release(&path);
	return rc;
}

/* Takes j's locks and writes j's id into its own. */
static int take_lock(struct azl_journal *j, const struct azl_journal_target *t)
{
	struct strbuf path = STRBUF_INIT, dir = STRBUF_INIT;
	const char *id = azl_journal_id(j);
	int rc = journal_lock_path(j, &path);

	if (!rc) {
		strbuf_add(&dir, path.buf, (size_t)(strrchr(path.buf, '/') - path.buf));
		rc = azl_cachedir_ensure(dir.buf);
	}
	if (!rc)
		rc = share_cluster_lock(j, t);
	if (!rc)
		rc = lock_or_busy(path.buf, 1, &j->lock_fd, t);
	if (!rc) {
		mark_abandoned(path.buf, id);
		if (ftruncate(j->lock_fd, 0) || pwrite(j->lock_fd, id, strlen(id), 0) < 0)
			rc = azl_error_set(AZL_ERROR, "operation journal: cannot write %s: %s",
					   path.buf, strerror(errno));
		j->lock_path = strbuf_detach(&path, NULL);
	}
	if (rc)
		release_locks(j);
	strbuf_release(&path);
	strbuf_release(&dir);
	return rc;
}

/* Whether a process holds the lock exclusive now: probed with a shared
 * lock, taken and dropped at once, which the holder's exclusive one
 * refuses. */
static int held_at(const char *lock_path)
{
	int fd = -1, held = 0;

	if (access(lock_path, F_OK) == 0)
		held = azl_statefile_lock(lock_path, 0, AZL_STATEFILE_NOWAIT, &fd) == AZL_EBUSY;
	if (fd >= 0)
		close(fd);
	azl_error_clear();
	return held;
}

static int lock_held(const struct azl_journal *j)
{
	struct strbuf path = STRBUF_INIT;
	int held = !journal_lock_path(j, &path) && held_at(path.buf);

	strbuf_release(&path);
	return held;
}

int azl_journal_probe(const struct azl_journal_target *t)
{
	struct strbuf path = STRBUF_INIT, cluster = STRBUF_INIT;
	struct azl_journal *other;
	int rc = pool_lock_path(&path, t->subscription, t->resource_group, t->cluster, t->pool);

	if (!rc)
		rc = cluster_lock_path(&cluster, t->subscription, t->resource_group, t->cluster);
	if (!rc && held_at(path.buf))
		rc = busy(path.buf, t);
	else if (!rc && !whole_cluster(t->pool) && held_at(cluster.buf))
		rc = busy(cluster.buf, t);
	/* pools' operations share the cluster's lock, which the probe does not take */
	else if (!rc && whole_cluster(t->pool) && (other = pool_holder(t)))
		rc = busy_with(other, cluster.buf, t);
	strbuf_release(&path);
	strbuf_release(&cluster);
	return rc;
}

/* ---- create, load, list ---- */

static cJSON *new_doc(const char *id, const char *kind, const struct azl_journal_target *t,
		      const char *const *steps, size_t nr_steps)
{
	cJSON *doc = cJSON_CreateObject(), *cluster, *arr;
	char host[256] = "";

	cJSON_AddNumberToObject(doc, "version", AZL_JOURNAL_VERSION);
	cJSON_AddStringToObject(doc, "id", id);
	cJSON_AddStringToObject(doc, "kind", kind);
	cJSON_AddStringToObject(doc, "state", azl_op_state_name(AZL_OP_PLANNED));
	set_time(doc, "created", time(NULL));
	cJSON_AddNumberToObject(doc, "pid", (double)getpid());
	if (gethostname(host, sizeof(host) - 1))
		host[0] = '\0';
	cJSON_AddStringToObject(doc, "host", host);
	cJSON_AddStringToObject(doc, "context", t->context ? t->context : "");
	cluster = cJSON_AddObjectToObject(doc, "cluster");
	cJSON_AddStringToObject(cluster, "subscription", t->subscription);
	cJSON_AddStringToObject(cluster, "resourceGroup", t->resource_group);
	cJSON_AddStringToObject(cluster, "name", t->cluster);
	cJSON_AddStringToObject(doc, "pool", t->pool);
	arr = cJSON_AddArrayToObject(doc, "steps");
	for (size_t i = 0; i < nr_steps; i++) {
		cJSON *s = cJSON_CreateObject();

		cJSON_AddStringToObject(s, "name", steps[i]);
		cJSON_AddStringToObject(s, "state", azl_step_state_name(AZL_STEP_PENDING));
		cJSON_AddItemToArray(arr, s);
	}
	return doc;
}

static int check_target(const char *kind, const struct azl_journal_target *t,
			size_t nr_steps)
{
	if (!kind || !*kind || !t->subscription || !*t->subscription || !t->resource_group ||
	    !*t->resource_group || !t->cluster || !*t->cluster || !t->pool || !*t->pool)
		return azl_error_set(AZL_EINVALID,
				     "operation journal: an operation needs a kind, a subscription, a resource group, a cluster and a pool");
	if (!nr_steps)
		return azl_error_set(AZL_EINVALID, "operation journal: operation %s has no steps", kind);
	return 0;
}

int azl_journal_create(struct azl_journal **out, const char *kind,
		       const struct azl_journal_target *t, const char *const *steps,
		       size_t nr_steps)
{
	struct strbuf id = STRBUF_INIT, path = STRBUF_INIT;
	struct azl_journal *j = NULL;
	int rc = check_target(kind, t, nr_steps);

	*out = NULL;
	/* a taken id (the same second, the same 32 random bits) is drawn again */
	for (int tries = 0; !rc && tries < 8; tries++) {
		strbuf_reset(&id);
		strbuf_reset(&path);
		new_id(&id);
		rc = op_path(&path, id.buf);
		if (!rc && access(path.buf, F_OK))
			break;
		rc = rc ? rc : azl_error_set(AZL_ERROR, "operation journal: no free operation id in %s",
					     path.buf);
	}
	if (!rc) {
		j = journal_new(new_doc(id.buf, kind, t, steps, nr_steps), path.buf);
		rc = take_lock(j, t);
	}
	if (!rc)
		rc = save(j);
	if (rc) {
		azl_journal_free(j);
		j = NULL;
	}
	*out = j;
	strbuf_release(&id);
	strbuf_release(&path);
	return rc;
}

int azl_journal_load(struct azl_journal **out, const char *id, int lock)
{
	struct strbuf path = STRBUF_INIT;
	struct azl_journal *j;
	cJSON *doc = NULL;
	int rc;

	*out = NULL;
	if (!id || !valid_id(id))
		return azl_error_set(AZL_EINVALID,
				     "operation id '%s' is not one (like 20261201T225000Z-1a2b3c4d)",
				     id ? id : "");
	rc = op_path(&path, id);
	if (!rc)
		rc = read_file(path.buf, &doc);
	if (rc == AZL_ENOTFOUND)
		azl_error_set(rc, "no operation %s in %s", id, path.buf);
	if (!rc && strcmp(str(doc, "id"), id))
		rc = azl_error_set(AZL_EINVALID,
				   "%s: field id is %s, not the file's name; remove the file or restore it",
				   path.buf, str(doc, "id"));
	if (rc) {
		cJSON_Delete(doc);
		strbuf_release(&path);
		return rc;
	}
	j = journal_new(doc, path.buf);
	strbuf_release(&path);
	if (lock) {
		const struct azl_journal_target t = {
			NULL, azl_journal_target_field(j, "subscription"),
			azl_journal_target_field(j, "resourceGroup"),
			azl_journal_target_field(j, "name"), azl_journal_target_field(j, "pool")
		};

		rc = take_lock(j, &t);
	} else if (!terminal(azl_journal_state(j))) {
		j->interrupted = !lock_held(j);
	}
	if (rc)
		azl_journal_free(j);
	else
		*out = j;
	return rc;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(azl_journal_id(*(struct azl_journal *const *)a),
		      azl_journal_id(*(struct azl_journal *const *)b));
}

/* The id of a directory entry "<id>.json", or 0. */
static int entry_id(const char *name, struct strbuf *id)
{
	size_t n = strlen(name);

	strbuf_reset(id);
	if (n <= 5 || strcmp(name + n - 5, ".json"))
		return 0;
	strbuf_add(id, name, n - 5);
	return valid_id(id->buf);
}

int azl_journal_list(struct azl_journal_list *out, struct strbuf *errors)
{
	struct strbuf dir = STRBUF_INIT, id = STRBUF_INIT;
	const struct dirent *e;
	DIR *d;
	int rc = azl_journal_dir(&dir);

	memset(out, 0, sizeof(*out));
	d = rc ? NULL : opendir(dir.buf);
	if (!rc && !d && errno != ENOENT)
		rc = azl_error_set(AZL_ERROR, "operation journal: cannot read %s: %s", dir.buf,
				   strerror(errno));
	while (d && (e = readdir(d))) {
		struct azl_journal *j;

		if (!entry_id(e->d_name, &id))
			continue;
		if (azl_journal_load(&j, id.buf, 0)) {
			if (errors)
				strbuf_addf(errors, "%s%s", errors->len ? "\n" : "", azl_error_message());
			azl_error_clear();
			continue;
		}
		out->items = xrealloc(out->items, (out->nr + 1) * sizeof(*out->items));
		out->items[out->nr++] = j;
	}
	if (d)
		closedir(d);
	if (out->nr > 1)
		qsort(out->items, out->nr, sizeof(*out->items), by_id);
	strbuf_release(&dir);
	strbuf_release(&id);
	return rc;
}

void azl_journal_list_release(struct azl_journal_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		azl_journal_free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->nr = 0;
}

/* ---- steps ---- */

static int need_lock(const struct azl_journal *j)
{
	if (j->lock_fd >= 0)
		return 0;
	return azl_error_set(AZL_EINVALID,
			     "operation journal: operation %s was loaded read-only; load it with its lock to change it",
			     azl_journal_id(j));
}

static int need_step(const struct azl_journal *j, size_t i)
{
	if (i < azl_journal_nr_steps(j))
		return 0;
	return azl_error_set(AZL_EINVALID, "operation journal: operation %s has no step %zu",
			     azl_journal_id(j), i + 1);
}

/* Step i, to change: j holds its lock and has that step. */
static int writable_step(struct azl_journal *j, size_t i, cJSON **s)
{
	int rc = need_lock(j);

	if (!rc)
		rc = need_step(j, i);
	*s = rc ? NULL : step_at(j, i);
	return rc;
}

int azl_journal_step_begin(struct azl_journal *j, size_t i)
{
	cJSON *s;
	int rc = writable_step(j, i, &s);

	if (rc)
		return rc;
	set_str(s, "state", azl_step_state_name(AZL_STEP_RUNNING));
	set_time(s, "started", time(NULL));
	cJSON_DeleteItemFromObjectCaseSensitive(s, "ended");
	cJSON_DeleteItemFromObjectCaseSensitive(s, "error");
	set_str(j->doc, "state", azl_op_state_name(AZL_OP_IN_PROGRESS));
	return save(j);
}

int azl_journal_step_end(struct azl_journal *j, size_t i, int rc_step, const char *error)
{
	cJSON *s;
	int rc = writable_step(j, i, &s);

	if (rc)
		return rc;
	set_str(s, "state", azl_step_state_name(rc_step ? AZL_STEP_FAILED : AZL_STEP_DONE));
	set_time(s, "ended", time(NULL));
	cJSON_DeleteItemFromObjectCaseSensitive(s, "operation");
	if (rc_step && error && *error)
		set_str(s, "error", error);
	return save(j);
}

static cJSON *running_step(const struct azl_journal *j)
{
	cJSON *s;

	cJSON_ArrayForEach(s, steps_of(j))
		if (!strcmp(str(s, "state"), azl_step_state_name(AZL_STEP_RUNNING)))
			return s;
	return NULL;
}

/* A bearer token, a JWT, or a URL whose secret parameters redaction would
 * change. */
static int secret_value(const char *v)
{
	struct strbuf r = STRBUF_INIT;
	int secret = !strncasecmp(v, "Bearer ", 7) ||
		     (!strncmp(v, "eyJ", 3) && strchr(v, '.') && strchr(strchr(v, '.') + 1, '.'));

	if (!secret && strstr(v, "://")) {
		azl_redact_url(&r, v);
		secret = strcmp(r.buf, v) != 0;
	}
	strbuf_release(&r);
	return secret;
}

/* A member name a secret would go by, in any case or style (accessToken,
 * client_secret, Authorization): stricter than the traces' redaction,
 * since nothing here needs such a member at all. */
static int secret_name(const char *name)
{
	static const char *const words[] = { "token", "secret", "password", "assertion",
					     "authorization", "cookie", "credential" };

	if (azl_redact_is_secret_name(name, strlen(name)))
		return 1;
	for (size_t i = 0; i < NR(words); i++)
		if (strcasestr(name, words[i]))
			return 1;
	return 0;
}

/* The first member (at any depth) that holds or names a secret. */
static const char *find_secret(const cJSON *v)
{
	const cJSON *c;

	if (v->string && secret_name(v->string))
		return v->string;
	if (cJSON_IsString(v) && secret_value(v->valuestring))
		return v->string ? v->string : "(a value)";
	cJSON_ArrayForEach(c, v) {
		const char *found = find_secret(c);

		if (found)
			return found;
	}
	return NULL;
}

static int set_handle_on(struct azl_journal *j, cJSON *s, const cJSON *handle)
{
	const char *secret;
	int rc = need_lock(j);

	if (rc)
		return rc;
	if (!s || strcmp(str(s, "state"), azl_step_state_name(AZL_STEP_RUNNING)))
		return azl_error_set(AZL_EINVALID,
				     "operation journal: operation %s has no such running step to hold an operation handle",
				     azl_journal_id(j));
	secret = handle ? find_secret(handle) : NULL;
	if (secret)
		return azl_error_set(AZL_EINVALID,
				     "operation journal: the handle of step %s holds a secret (%s); it is not written",
				     str(s, "name"), secret);
	cJSON_DeleteItemFromObjectCaseSensitive(s, "operation");
	if (handle)
		cJSON_AddItemToObject(s, "operation", cJSON_Duplicate(handle, 1));
	return save(j);
}

int azl_journal_set_handle(struct azl_journal *j, const cJSON *handle)
{
	return set_handle_on(j, running_step(j), handle);
}

int azl_journal_set_step_handle(struct azl_journal *j, size_t i, const cJSON *handle)
{
	return set_handle_on(j, step_at(j, i), handle);
}

const cJSON *azl_journal_step_handle(const struct azl_journal *j, size_t i)
{
	const cJSON *s = step_at(j, i);

	if (!s || strcmp(str(s, "state"), azl_step_state_name(AZL_STEP_RUNNING)))
		return NULL;
	return cJSON_GetObjectItemCaseSensitive(s, "operation");
}

int azl_journal_set_data(struct azl_journal *j, const cJSON *data)
{
	const char *secret;
	int rc = need_lock(j);

	if (rc)
		return rc;
	secret = data ? find_secret(data) : NULL;
	if (secret)
		return azl_error_set(AZL_EINVALID,
				     "operation journal: the data of operation %s holds a secret (%s); it is not written",
				     azl_journal_id(j), secret);
	cJSON_DeleteItemFromObjectCaseSensitive(j->doc, "data");
	if (data)
		cJSON_AddItemToObject(j->doc, "data", cJSON_Duplicate(data, 1));
	return save(j);
}

const cJSON *azl_journal_data(const struct azl_journal *j)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(j->doc, "data");

	return cJSON_IsObject(d) ? d : NULL;
}

const cJSON *azl_journal_handle(const struct azl_journal *j)
{
	const cJSON *s = running_step(j);

	return s ? cJSON_GetObjectItemCaseSensitive(s, "operation") : NULL;
}

int azl_journal_finish(struct azl_journal *j, enum azl_op_state state)
{
	int rc = need_lock(j);

	if (!rc && state != AZL_OP_SUCCEEDED && state != AZL_OP_FAILED && state != AZL_OP_CANCELED)
		rc = azl_error_set(AZL_EINVALID,
				   "operation journal: an operation ends Succeeded, Failed or Canceled, not %s",
				   azl_op_state_name(state));
	if (rc)
		return rc;
	set_str(j->doc, "state", azl_op_state_name(state));
	rc = save(j);
	release_locks(j);
	return rc;
}

/* ---- accessors ---- */

const char *azl_journal_id(const struct azl_journal *j)
{
	return str(j->doc, "id");
}

const char *azl_journal_kind(const struct azl_journal *j)
{
	return str(j->doc, "kind");
}

const char *azl_journal_path(const struct azl_journal *j)
{
	return j->path;
}

enum azl_op_state azl_journal_state(const struct azl_journal *j)
{
	int s = state_index(str(j->doc, "state"), op_states, NR(op_states));

	if (j->interrupted)
		return AZL_OP_INTERRUPTED;
	return s < 0 ? AZL_OP_INTERRUPTED : (enum azl_op_state)s;
}

const char *azl_journal_context(const struct azl_journal *j)
{
	return str(j->doc, "context");
}

const char *azl_journal_target_field(const struct azl_journal *j, const char *field)
{
	if (!strcmp(field, "pool"))
		return str(j->doc, "pool");
	return str(cJSON_GetObjectItemCaseSensitive(j->doc, "cluster"), field);
}

time_t azl_journal_created(const struct azl_journal *j)
{
	return get_time(j->doc, "created");
}

size_t azl_journal_nr_steps(const struct azl_journal *j)
{
	return (size_t)cJSON_GetArraySize(steps_of(j));
}

const char *azl_journal_step_name(const struct azl_journal *j, size_t i)
{
	return str(step_at(j, i), "name");
}

enum azl_step_state azl_journal_step_state(const struct azl_journal *j, size_t i)
{
	int s = state_index(str(step_at(j, i), "state"), step_states, NR(step_states));

	return s < 0 ? AZL_STEP_PENDING : (enum azl_step_state)s;
}

time_t azl_journal_step_started(const struct azl_journal *j, size_t i)
{
	return get_time(step_at(j, i), "started");
}

time_t azl_journal_step_ended(const struct azl_journal *j, size_t i)
{
	return get_time(step_at(j, i), "ended");
}
