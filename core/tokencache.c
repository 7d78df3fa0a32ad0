#include "tokencache.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "cachedir.h"
#include "error.h"
#include "json.h"
#include "keyring.h"
#include "log.h"
#include "num.h"
#include "statefile.h"
#include "wrapper.h"

#define ENTRY_VERSION 1

enum backend { BACKEND_NONE, BACKEND_KEYRING, BACKEND_FILE };
static const char *const backend_names[] = { "none", "keyring", "file" };

struct azl_tokencache {
	enum backend backend;
	struct azl_keyring *keyring;
	struct strbuf dir;   /* $XDG_CACHE_HOME/kubectl-azlinux */
	int lock_fd;
};

void azl_token_entry_release(struct azl_token_entry *e)
{
	if (!e)
		return;
	strbuf_release(&e->value);
	e->expires_on = 0;
}

int azl_token_is_fresh(time_t expires_on, time_t now)
{
	return expires_on == 0 || expires_on - now > AZL_TOKEN_REFRESH_MARGIN;
}

/* ---- entry payload: the same JSON in both backends ---- */

static char *payload_encode(const struct azl_token_entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddNumberToObject(o, "version", ENTRY_VERSION);
	cJSON_AddNumberToObject(o, "expires_on", (double)e->expires_on);
	cJSON_AddStringToObject(o, "value", e->value.buf);
	s = azl_json_print(o, 0);
	cJSON_Delete(o);
	return s;
}

/* A payload of another shape or version is somebody else's (or a future
 * release's): ignore it rather than fail. */
static int payload_decode(const cJSON *o, struct azl_token_entry *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(o, "value");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "expires_on");
	long expires_on;

	if (!cJSON_IsNumber(v) || v->valuedouble != ENTRY_VERSION ||
	    !cJSON_IsString(val) || !cJSON_IsNumber(exp) ||
	    azl_num_scan_double(exp->valuedouble, 0, AZL_NUM_MAX_EPOCH, &expires_on) != AZL_NUM_OK) {
		azl_logf(4, "token cache: ignoring an entry of an unknown format");
		return AZL_ENOTFOUND;
	}
	strbuf_reset(&out->value);
	strbuf_addstr(&out->value, val->valuestring);
	out->expires_on = (time_t)expires_on;
	return 0;
}

static int payload_decode_str(const char *s, struct azl_token_entry *out)
{
	cJSON *o = cJSON_Parse(s);
	int rc = payload_decode(o, out);

	cJSON_Delete(o);
	return rc;
}

/* ---- keyring backend ---- */

static void key_attrs(const struct azl_token_key *k, const char *attrs[AZL_KEYRING_NATTRS])
{
	attrs[0] = k->cloud;
	attrs[1] = k->tenant;
	attrs[2] = k->client_id;
	attrs[3] = k->kind;
	attrs[4] = k->scope;
}

static int keyring_get(struct azl_tokencache *c, const struct azl_token_key *k,
		       struct azl_token_entry *out)
{
	const char *attrs[AZL_KEYRING_NATTRS];
	struct strbuf s = STRBUF_INIT;
	int rc;

	key_attrs(k, attrs);
	rc = azl_keyring_lookup(c->keyring, attrs, &s);
	if (rc == 0)
		rc = payload_decode_str(s.buf, out);
	strbuf_release(&s);
	return rc;
}

static int keyring_put(struct azl_tokencache *c, const struct azl_token_key *k,
		       const struct azl_token_entry *e)
{
	const char *attrs[AZL_KEYRING_NATTRS];
	struct strbuf label = STRBUF_INIT;
	char *payload = payload_encode(e);
	int rc;

	key_attrs(k, attrs);
	strbuf_addf(&label, "kubectl-azlinux %s (tenant %s)", k->kind ? k->kind : "",
		    k->tenant && *k->tenant ? k->tenant : "default");
	rc = azl_keyring_store(c->keyring, attrs, label.buf, payload);
	strbuf_release(&label);
	free(payload);
	return rc;
}

static int keyring_remove(struct azl_tokencache *c, const struct azl_token_key *k,
			  int *removed)
{
	const char *attrs[AZL_KEYRING_NATTRS];

	key_attrs(k, attrs);
	return azl_keyring_clear(c->keyring, attrs, removed);
}

/* ---- file backend ---- */

/* The cache's own messages, "token cache: ...", for cachedir's. */
static int prefixed(int rc)
{
	return rc < 0 ? azl_error_prefix("token cache") : rc;
}

static int ensure_dir(const struct strbuf *dir)
{
	return prefixed(azl_cachedir_ensure(dir->buf));
}

/* Opens and locks tokens.json (re-checking the directory each time) and
 * loads it; an absent, corrupt or other-format file is empty. */
static int open_file(struct azl_tokencache *c, int write, struct azl_statefile **sf,
		     cJSON **doc)
{
	struct strbuf path = STRBUF_INIT;
	int rc = ensure_dir(&c->dir);

	*sf = NULL;
	*doc = NULL;
	strbuf_addf(&path, "%s/tokens.json", c->dir.buf);
	if (!rc)
		rc = prefixed(azl_statefile_open(sf, path.buf, ENTRY_VERSION,
			write ? AZL_STATEFILE_WRITE | AZL_STATEFILE_DURABLE : 0));
	if (!rc)
		rc = prefixed(azl_statefile_load_array(*sf, "entries", doc));
	strbuf_release(&path);
	if (rc) {
		azl_statefile_close(*sf);
		*sf = NULL;
	}
	return rc;
}

static const char *field(const struct azl_token_key *k, size_t i)
{
	const char *const v[] = { k->cloud, k->tenant, k->client_id, k->kind, k->scope };

	return v[i];
}

/* exact: NULL in the key means "" (put); else NULL matches anything. */
static int entry_matches(const cJSON *ent, const struct azl_token_key *k, int exact)
{
	size_t i;

	for (i = 0; i < AZL_KEYRING_NATTRS; i++) {
		const char *want = field(k, i);
		const cJSON *have = cJSON_GetObjectItemCaseSensitive(
			ent, azl_keyring_attr_names[i]);

		if (!want && !exact)
			continue;
		if (!cJSON_IsString(have) || strcmp(have->valuestring, want ? want : "") != 0)
			return 0;
	}
	return 1;
}

static int file_get(struct azl_tokencache *c, const struct azl_token_key *k,
		    struct azl_token_entry *out)
{
	const cJSON *ent, *found = NULL;
	struct azl_statefile *sf;
	cJSON *doc;
	int rc = open_file(c, 0, &sf, &doc);

	if (rc < 0)
		return rc;
	azl_statefile_close(sf);
	cJSON_ArrayForEach(ent, cJSON_GetObjectItemCaseSensitive(doc, "entries"))
		if (entry_matches(ent, k, 0))
			found = ent;
	rc = found ? payload_decode(cJSON_GetObjectItemCaseSensitive(found, "payload"), out)
		   : AZL_ENOTFOUND;
	cJSON_Delete(doc);
	return rc;
}

/* Drops the entries matching k (exactly, or as a pattern). */
static int drop_matches(cJSON *entries, const struct azl_token_key *k, int exact)
{
	cJSON *ent = entries->child, *next;
	int n = 0;

	for (; ent; ent = next) {
		next = ent->next;
		if (entry_matches(ent, k, exact)) {
			cJSON_Delete(cJSON_DetachItemViaPointer(entries, ent));
			n++;
		}
	}
	return n;
}

static cJSON *entry_new(const struct azl_token_key *k, const struct azl_token_entry *e)
{
	cJSON *ent = cJSON_CreateObject();
	char *payload = payload_encode(e);
	size_t i;

	for (i = 0; i < AZL_KEYRING_NATTRS; i++)
		cJSON_AddStringToObject(ent, azl_keyring_attr_names[i],
					field(k, i) ? field(k, i) : "");
	cJSON_AddItemToObject(ent, "payload", cJSON_Parse(payload));
	free(payload);
	return ent;
}

/* Read-modify-write under an exclusive lock. e NULL: remove matches. */
static int file_update(struct azl_tokencache *c, const struct azl_token_key *k,
		       const struct azl_token_entry *e, int *removed)
{
	struct azl_statefile *sf;
	cJSON *doc, *entries;
	int rc, n;

	rc = open_file(c, 1, &sf, &doc);
	if (rc < 0)
		return rc;
	entries = cJSON_GetObjectItemCaseSensitive(doc, "entries");
	n = drop_matches(entries, k, e != NULL);
	if (e)
		cJSON_AddItemToArray(entries, entry_new(k, e));
	if (removed)
		*removed = n;
	rc = (e || n) ? prefixed(azl_statefile_save(sf, doc)) : 0;
	azl_statefile_close(sf);
	cJSON_Delete(doc);
	return rc;
}

/* ---- the public face ---- */

static int parse_mode(const char *mode, enum backend *out)
{
	const char *src = "--token-cache";
	size_t i;

	if (!mode) {
		mode = getenv("AZLINUX_TOKEN_CACHE");
		src = "AZLINUX_TOKEN_CACHE";
	}
	if (!mode || !*mode)
		mode = "keyring";
	for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
		if (!strcmp(mode, backend_names[i])) {
			*out = (enum backend)i;
			return 0;
		}
	}
	return azl_error_set(AZL_EINVALID,
		"%s: unknown token cache '%s': use keyring, file or none", src, mode);
}

static int backend_init(struct azl_tokencache *c)
{
	if (c->backend == BACKEND_KEYRING)
		return azl_keyring_open(&c->keyring, 0);
	if (c->backend == BACKEND_FILE)
		return ensure_dir(&c->dir);
	return 0;
}

int azl_tokencache_open(struct azl_tokencache **out, const char *mode,
			struct strbuf *warning)
{
	struct azl_tokencache *c;
	enum backend b = BACKEND_NONE;
	int rc;

	*out = NULL;
	if (warning)
		strbuf_reset(warning);
	rc = parse_mode(mode, &b);
	if (rc < 0)
		return rc;
	c = xcalloc(1, sizeof(*c));
	c->backend = b;
	c->lock_fd = -1;
	strbuf_init(&c->dir, 0);
	/* The keyring needs the directory only for its lock: best effort. */
	if (b != BACKEND_NONE && azl_cachedir_path(&c->dir) < 0 && b == BACKEND_FILE)
		rc = prefixed(AZL_ERROR);
	else
		azl_error_clear();
	if (rc == 0)
		rc = backend_init(c);
	if (rc < 0) {
		if (warning)
			strbuf_addf(warning, "%s; continuing without a persistent token cache",
				    azl_error_message());
		azl_error_clear();
		c->backend = BACKEND_NONE;
	}
	*out = c;
	return 0;
}

void azl_tokencache_free(struct azl_tokencache *c)
{
	if (!c)
		return;
	azl_tokencache_unlock(c);
	azl_keyring_free(c->keyring);
	strbuf_release(&c->dir);
	free(c);
}

const char *azl_tokencache_backend(const struct azl_tokencache *c)
{
	return backend_names[c->backend];
}

int azl_tokencache_get(struct azl_tokencache *c, const struct azl_token_key *key,
		       struct azl_token_entry *out)
{
	if (c->backend == BACKEND_KEYRING)
		return keyring_get(c, key, out);
	if (c->backend == BACKEND_FILE)
		return file_get(c, key, out);
	return AZL_ENOTFOUND;
}

int azl_tokencache_put(struct azl_tokencache *c, const struct azl_token_key *key,
		       const struct azl_token_entry *e)
{
	if (c->backend == BACKEND_KEYRING)
		return keyring_put(c, key, e);
	if (c->backend == BACKEND_FILE)
		return file_update(c, key, e, NULL);
	return 0;
}

int azl_tokencache_remove(struct azl_tokencache *c,
			  const struct azl_token_key *match, int *removed)
{
	if (removed)
		*removed = 0;
	if (c->backend == BACKEND_KEYRING)
		return keyring_remove(c, match, removed);
	if (c->backend == BACKEND_FILE)
		return file_update(c, match, NULL, removed);
	return 0;
}

int azl_tokencache_lock(struct azl_tokencache *c)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (c->backend == BACKEND_NONE || c->lock_fd >= 0)
		return 0;
	if (!c->dir.len)
		return azl_error_set(AZL_EINVALID,
			"token cache: no directory for the lock (set XDG_CACHE_HOME or HOME)");
	rc = ensure_dir(&c->dir);
	strbuf_addf(&path, "%s/lock", c->dir.buf);
	if (!rc)
		rc = prefixed(azl_statefile_lock(path.buf, 1, 0, &c->lock_fd));
	strbuf_release(&path);
	return rc;
}

void azl_tokencache_unlock(struct azl_tokencache *c)
{
	if (!c || c->lock_fd < 0)
		return;
	close(c->lock_fd); /* closing releases the flock */
	c->lock_fd = -1;
}
