#include "castore.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "wrapper.h"

struct castore_entry {
	char *file, *dir;
	X509_STORE *store;
};

struct azl_castore {
	pthread_mutex_t lock;
	struct castore_entry *items;
	size_t nr;
};

int azl_castore_usable(void)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	return v->ssl_version && !strncmp(v->ssl_version, "OpenSSL/", 8);
}

int azl_castore_new(struct azl_castore **out)
{
	struct azl_castore *cs = xcalloc(1, sizeof(*cs));

	pthread_mutex_init(&cs->lock, NULL);
	*out = cs;
	return 0;
}

void azl_castore_free(struct azl_castore *cs)
{
	if (!cs)
		return;
	for (size_t i = 0; i < cs->nr; i++) {
		free(cs->items[i].file);
		free(cs->items[i].dir);
		X509_STORE_free(cs->items[i].store);
	}
	free(cs->items);
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}

static int same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* As libcurl sets up its own store (lib/vtls/openssl.c): the CA file, the
 * directory for lookups, trusted certificates first, partial chains. */
static int load(const char *file, const char *dir, X509_STORE **out)
{
	X509_STORE *st = X509_STORE_new();

	if (!st)
		return azl_error_set(AZL_ERROR, "cannot create a certificate store (out of memory?)");
	if (file && !X509_STORE_load_file(st, file)) {
		X509_STORE_free(st);
		return azl_error_set(AZL_EINVALID,
				     "CA bundle %s: cannot read a certificate from it", file);
	}
	if (dir && !X509_STORE_load_path(st, dir) && !file) {
		X509_STORE_free(st);
		return azl_error_set(AZL_EINVALID, "CA directory %s cannot be used", dir);
	}
	X509_STORE_set_flags(st, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
	*out = st;
	return 0;
}

static struct castore_entry *find(struct azl_castore *cs, const char *file, const char *dir)
{
	for (size_t i = 0; i < cs->nr; i++)
		if (same(cs->items[i].file, file) && same(cs->items[i].dir, dir))
			return &cs->items[i];
	return NULL;
}

static struct castore_entry *add(struct azl_castore *cs, const char *file, const char *dir,
				 X509_STORE *st)
{
	struct castore_entry *e;

	cs->items = xrealloc(cs->items, (cs->nr + 1) * sizeof(*cs->items));
	e = &cs->items[cs->nr++];
	e->file = file ? xstrdup(file) : NULL;
	e->dir = dir ? xstrdup(dir) : NULL;
	e->store = st;
	return e;
}

int azl_castore_get(struct azl_castore *cs, const char *file, const char *dir, void **store)
{
	struct castore_entry *e;
	X509_STORE *st = NULL;
	int rc = 0;

	*store = NULL;
	pthread_mutex_lock(&cs->lock);
	e = find(cs, file, dir);
	if (!e) {
		rc = load(file, dir, &st);
		if (!rc)
			e = add(cs, file, dir, st);
	}
	if (e)
		*store = e->store;
	pthread_mutex_unlock(&cs->lock);
	return rc;
}

void azl_castore_attach(void *ctx, void *store)
{
	SSL_CTX_set1_cert_store(ctx, store);
}
