#include "keyring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libsecret/secret.h>

#include "error.h"
#include "log.h"
#include "num.h"
#include "wrapper.h"

const char *const azl_keyring_attr_names[AZL_KEYRING_NATTRS] = {
	"cloud", "tenant", "client_id", "kind", "scope"
};

static const SecretSchema schema = {
	"io.github.kubectl_azlinux.Token", SECRET_SCHEMA_NONE,
	{
		{ "cloud", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "tenant", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "client_id", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ "scope", SECRET_SCHEMA_ATTRIBUTE_STRING },
		{ NULL, 0 },
	},
	0, NULL, NULL, NULL, NULL, NULL, NULL, NULL
};

#define DEFAULT_TIMEOUT_MS 5000L

struct azl_keyring {
	long timeout_ms;
};

/* A watchdog thread cancels the call in flight when the deadline passes;
 * g_cancellable_cancel() is thread-safe. */
struct deadline {
	GCancellable *cancel;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	long ms;
};

static void *watchdog(void *arg)
{
	struct deadline *d = arg;
	struct timespec until;
	int rc = 0;

	realtime_after_ms(&until, d->ms);
	pthread_mutex_lock(&d->mu);
	while (!d->done && rc == 0)
		rc = pthread_cond_timedwait(&d->cv, &d->mu, &until);
	if (!d->done)
		g_cancellable_cancel(d->cancel);
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void deadline_start(struct deadline *d, long ms)
{
	memset(d, 0, sizeof(*d));
	d->cancel = g_cancellable_new();
	d->ms = ms;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	if (pthread_create(&d->thread, NULL, watchdog, d))
		abort(); /* like allocation failure: no sensible recovery */
}

static void deadline_stop(struct deadline *d)
{
	pthread_mutex_lock(&d->mu);
	d->done = 1;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	g_object_unref(d->cancel);
}

/* Turns a GError into our error; a cancellation is the deadline. */
static int keyring_fail(const struct deadline *d, GError *err, const char *what)
{
	int rc;

	if (g_cancellable_is_cancelled(d->cancel))
		rc = azl_error_set(AZL_ETIMEOUT,
			"system keyring: %s got no answer within %lds (a hung Secret Service or an unlock prompt); set AZLINUX_TOKEN_CACHE=none or file to avoid it",
			what, (d->ms + 999) / 1000);
	else
		rc = azl_error_set(AZL_EUNAVAILABLE, "system keyring: %s failed: %s",
				   what, err ? err->message : "no reason given");
	if (err)
		g_error_free(err);
	return rc;
}

static long timeout_from_env(void)
{
	long v;

	if (azl_num_scan(getenv("AZLINUX_KEYRING_TIMEOUT"), 1, 3600, &v) != AZL_NUM_OK)
		return DEFAULT_TIMEOUT_MS;
	return v * 1000;
}

/* libsecret's g_critical() paths fail without a GError; an open that
 * only checks the service and collection avoids them, so the probe is
 * separate from the calls. */
static int probe(struct deadline *d)
{
	GError *err = NULL;
	SecretService *svc;
	SecretCollection *col;
	int locked;

	svc = secret_service_get_sync(SECRET_SERVICE_NONE, d->cancel, &err);
	if (!svc)
		return keyring_fail(d, err, "connecting to the Secret Service");
	col = secret_collection_for_alias_sync(svc, SECRET_COLLECTION_DEFAULT,
					       SECRET_COLLECTION_NONE, d->cancel, &err);
	g_object_unref(svc);
	if (!col && err)
		return keyring_fail(d, err, "opening the default collection");
	if (!col)
		return azl_error_set(AZL_EUNAVAILABLE,
			"system keyring: the Secret Service has no default collection (log in to the desktop session or run gnome-keyring-daemon --unlock)");
	locked = secret_collection_get_locked(col);
	g_object_unref(col);
	if (locked)
		return azl_error_set(AZL_EUNAVAILABLE,
			"system keyring: the default collection is locked (unlock it, e.g. with gnome-keyring-daemon --unlock)");
	return 0;
}

int azl_keyring_open(struct azl_keyring **out, long timeout_ms)
{
	struct deadline d;
	int rc;

	*out = NULL;
	if (timeout_ms <= 0)
		timeout_ms = timeout_from_env();
	deadline_start(&d, timeout_ms);
	rc = probe(&d);
	deadline_stop(&d);
	if (rc < 0)
		return rc;
	*out = xcalloc(1, sizeof(**out));
	(*out)->timeout_ms = timeout_ms;
	return 0;
}

void azl_keyring_free(struct azl_keyring *kr)
{
	free(kr);
}

/* NULL values are left out (match anything); store passes blank_null so
 * every item carries every attribute. */
static GHashTable *attr_table(const char *const *attrs, int blank_null)
{
	GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
	size_t i;

	for (i = 0; i < AZL_KEYRING_NATTRS; i++) {
		const char *v = attrs ? attrs[i] : NULL;

		if (!v && blank_null)
			v = "";
		if (v)
			g_hash_table_insert(t, (gpointer)azl_keyring_attr_names[i],
					    (gpointer)v);
	}
	return t;
}

int azl_keyring_store(struct azl_keyring *kr, const char *const *attrs,
		      const char *label, const char *secret)
{
	GHashTable *t = attr_table(attrs, 1);
	GError *err = NULL;
	struct deadline d;
	gboolean ok;
	int rc = 0;

	deadline_start(&d, kr->timeout_ms);
	ok = secret_password_storev_sync(&schema, t, SECRET_COLLECTION_DEFAULT,
					 label, secret, d.cancel, &err);
	if (!ok)
		rc = keyring_fail(&d, err, "storing a token");
	deadline_stop(&d);
	g_hash_table_unref(t);
	return rc;
}

int azl_keyring_lookup(struct azl_keyring *kr, const char *const *attrs,
		       struct strbuf *secret)
{
	GHashTable *t = attr_table(attrs, 0);
	GError *err = NULL;
	struct deadline d;
	gchar *pw;
	int rc = 0;

	strbuf_reset(secret);
	deadline_start(&d, kr->timeout_ms);
	pw = secret_password_lookupv_sync(&schema, t, d.cancel, &err);
	if (!pw && (err || g_cancellable_is_cancelled(d.cancel)))
		rc = keyring_fail(&d, err, "looking up a token");
	else if (!pw)
		rc = AZL_ENOTFOUND;
	deadline_stop(&d);
	g_hash_table_unref(t);
	if (pw) {
		strbuf_addstr(secret, pw);
		secret_password_free(pw);
	}
	return rc;
}

static int count_matches(struct azl_keyring *kr, GHashTable *t, int *count)
{
	GError *err = NULL;
	struct deadline d;
	GList *items;
	int rc = 0;

	deadline_start(&d, kr->timeout_ms);
	items = secret_password_searchv_sync(&schema, t, SECRET_SEARCH_ALL,
					     d.cancel, &err);
	if (!items && (err || g_cancellable_is_cancelled(d.cancel)))
		rc = keyring_fail(&d, err, "searching tokens");
	deadline_stop(&d);
	*count = (int)g_list_length(items);
	g_list_free_full(items, g_object_unref);
	return rc;
}

int azl_keyring_clear(struct azl_keyring *kr, const char *const *attrs,
		      int *removed)
{
	GHashTable *t = attr_table(attrs, 0);
	GError *err = NULL;
	struct deadline d;
	int n = 0, rc;

	rc = count_matches(kr, t, &n);
	if (rc == 0 && n > 0) {
		deadline_start(&d, kr->timeout_ms);
		if (!secret_password_clearv_sync(&schema, t, d.cancel, &err) && err)
			rc = keyring_fail(&d, err, "removing tokens");
		deadline_stop(&d);
	}
	g_hash_table_unref(t);
	if (removed)
		*removed = rc < 0 ? 0 : n;
	azl_logf(4, "keyring: removed %d item(s)", rc < 0 ? 0 : n);
	return rc;
}
