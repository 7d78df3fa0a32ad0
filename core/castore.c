#include "castore.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/asn1.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "error.h"
#include "log.h"
#include "strbuf.h"
#include "wrapper.h"

struct castore_entry {
	char *file, *dir;
	X509_STORE *store;
};

struct azl_castore {
	pthread_mutex_t lock;
	struct castore_entry *items;
	size_t nr;
	X509_LOOKUP_METHOD *bundle_method;
};

/* A CA bundle file, indexed by the hash of each certificate's subject and
 * parsed only for the issuers a verification asks for. X509_STORE_load_file
 * parses every certificate, and OpenSSL 3.0 takes ~0.23 ms for each (its
 * decoder framework, for the public key): 33 ms for Debian's 144, in every
 * process that talks to ARM, which needs one of them. */
struct bundle_cert {
	unsigned long subject_hash;
	size_t start, len;           /* its DER in bundle.der */
	int aux;                     /* "TRUSTED CERTIFICATE": trust settings follow */
	int parsed;
};

struct bundle {
	pthread_mutex_t lock;
	char *file;
	struct strbuf der;
	struct bundle_cert *certs;
	size_t nr, alloc, parsed;
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
	X509_LOOKUP_meth_free(cs->bundle_method);
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}

static void bundle_free(struct bundle *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->file);
	strbuf_release(&b->der);
	free(b->certs);
	free(b);
}

/* Where the subject Name of a DER certificate starts, and its length
 * (RFC 5280 §4.1: Certificate, tbsCertificate, then [0] version, serial,
 * signature, issuer and validity before it). 0 when der is not one. */
static int subject_of(const unsigned char *der, long len, const unsigned char **subject,
		      long *subject_len)
{
	const unsigned char *p = der, *end = der + len, *field;
	long n;
	int tag, cls;

	for (int i = 0; i < 2; i++)  /* into Certificate, then tbsCertificate */
		if ((ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80) ||
		    tag != V_ASN1_SEQUENCE)
			return 0;
	for (int i = 0; i < 6; i++) {
		field = p;
		if (ASN1_get_object(&p, &n, &tag, &cls, end - p) & 0x80)
			return 0;
		if (i == 0 && cls != V_ASN1_CONTEXT_SPECIFIC)
			i++;         /* no version: this is the serial number */
		if (i == 5) {
			*subject = field;
			*subject_len = (long)(p - field) + n;
			return 1;
		}
		p += n;
	}
	return 0;
}

static int subject_hash(const unsigned char *der, long len, unsigned long *out)
{
	const unsigned char *subject;
	long subject_len;
	X509_NAME *name;
	int ok = 0;

	if (!subject_of(der, len, &subject, &subject_len))
		return 0;
	name = d2i_X509_NAME(NULL, &subject, subject_len);
	if (name)
		*out = X509_NAME_hash_ex(name, NULL, NULL, &ok);
	X509_NAME_free(name);
	return ok;
}

/* 0, or -1 when base64 is no certificate. */
static int bundle_add(struct bundle *b, const char *base64, size_t len, int aux)
{
	size_t start = b->der.len;
	struct bundle_cert c = { 0, start, 0, aux, 0 };

	if (azl_base64_decode(&b->der, base64, len))
		return -1;
	c.len = b->der.len - start;
	if (!subject_hash((const unsigned char *)b->der.buf + start, (long)c.len,
			  &c.subject_hash))
		return -1;
	if (b->nr == b->alloc) {
		b->alloc = b->alloc ? 2 * b->alloc : 64;
		b->certs = xrealloc(b->certs, b->alloc * sizeof(*b->certs));
	}
	b->certs[b->nr++] = c;
	return 0;
}

/* Indexes the PEM certificates of text; anything else in it is skipped,
 * as OpenSSL's PEM reader does (CRLs too: nothing asks for CRL checks).
 * Returns NULL, or where a block that is no certificate begins: OpenSSL
 * refuses such a file too. */
static const char *bundle_index(struct bundle *b, const char *text)
{
	static const struct { const char *begin, *end; int aux; } kinds[] = {
		{ "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", 0 },
		{ "-----BEGIN TRUSTED CERTIFICATE-----", "-----END TRUSTED CERTIFICATE-----", 1 },
	};
	const char *p = text;

	while ((p = strstr(p, "-----BEGIN "))) {
		const char *body, *end = NULL;
		size_t k;

		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (!strncmp(p, kinds[k].begin, strlen(kinds[k].begin)))
				break;
		if (k == sizeof(kinds) / sizeof(kinds[0])) {
			p += 11;
			continue;
		}
		body = p + strlen(kinds[k].begin);
		end = strstr(body, kinds[k].end);
		if (!end || bundle_add(b, body, (size_t)(end - body), kinds[k].aux))
			return p;
		p = end + strlen(kinds[k].end);
	}
	return NULL;
}

static size_t line_of(const char *text, const char *at)
{
	size_t line = 1;

	for (; text < at; text++)
		line += *text == '\n';
	return line;
}

static int bundle_read(const char *file, struct bundle **out)
{
	struct strbuf text = STRBUF_INIT;
	struct bundle *b;
	const char *bad;
	int rc = 0;

	*out = NULL;
	if (strbuf_read_file(&text, file) < 0)
		return azl_error_set(AZL_EINVALID, "CA bundle %s: cannot read it: %s", file,
				     strerror(errno));
	b = xcalloc(1, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
	b->file = xstrdup(file);
	strbuf_init(&b->der, text.len);
	bad = bundle_index(b, text.buf);
	if (bad)
		rc = azl_error_set(AZL_EINVALID,
				   "CA bundle %s: the block at line %zu is not a PEM certificate",
				   file, line_of(text.buf, bad));
	else if (!b->nr)
		rc = azl_error_set(AZL_EINVALID, "CA bundle %s: cannot read a certificate from it",
				   file);
	strbuf_release(&text);
	if (rc) {
		bundle_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* Parses the certificates whose subject hashes to hash into the store. */
static void bundle_parse(struct bundle *b, X509_STORE *st, unsigned long hash)
{
	size_t before = b->parsed;

	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->nr; i++) {
		struct bundle_cert *c = &b->certs[i];
		const unsigned char *p = (const unsigned char *)b->der.buf + c->start;
		X509 *x;

		if (c->parsed || c->subject_hash != hash)
			continue;
		c->parsed = 1;
		b->parsed++;
		x = c->aux ? d2i_X509_AUX(NULL, &p, (long)c->len) : d2i_X509(NULL, &p, (long)c->len);
		if (x)
			X509_STORE_add_cert(st, x);
		X509_free(x);
	}
	if (b->parsed != before)
		azl_logf(7, "CA bundle %s: parsed %zu of its %zu certificates", b->file, b->parsed,
			 b->nr);
	pthread_mutex_unlock(&b->lock);
}

/* X509_LOOKUP's get_by_subject: what X509_LOOKUP_hash_dir does for a
 * directory (by_dir.c), for the certificates of one file. ret borrows the
 * store's reference, as by_dir's does; the caller takes its own. */
static int bundle_get_by_subject(X509_LOOKUP *lu, X509_LOOKUP_TYPE type, const X509_NAME *name,
				 X509_OBJECT *ret)
{
	struct bundle *b = X509_LOOKUP_get_method_data(lu);
	X509_STORE *st = X509_LOOKUP_get_store(lu);
	X509_OBJECT *found;
	X509 *x = NULL;
	int ok = 0;
	unsigned long hash = X509_NAME_hash_ex(name, NULL, NULL, &ok);

	if (type != X509_LU_X509 || !ok)
		return 0;
	bundle_parse(b, st, hash);
	if (!X509_STORE_lock(st))
		return 0;
	found = X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(st), X509_LU_X509, name);
	if (found && (x = X509_OBJECT_get0_X509(found)) && X509_OBJECT_set1_X509(ret, x))
		X509_free(x);   /* set1 took a reference the store already holds */
	else
		x = NULL;
	X509_STORE_unlock(st);
	return x != NULL;
}

static void bundle_lookup_free(X509_LOOKUP *lu)
{
	bundle_free(X509_LOOKUP_get_method_data(lu));
}

static X509_LOOKUP_METHOD *bundle_method(struct azl_castore *cs)
{
	if (cs->bundle_method)
		return cs->bundle_method;
	cs->bundle_method = xcheck_alloc(X509_LOOKUP_meth_new("kubectl-azlinux CA bundle"));
	X509_LOOKUP_meth_set_get_by_subject(cs->bundle_method, bundle_get_by_subject);
	X509_LOOKUP_meth_set_free(cs->bundle_method, bundle_lookup_free);
	return cs->bundle_method;
}

static int add_bundle(struct azl_castore *cs, X509_STORE *st, const char *file)
{
	struct bundle *b;
	X509_LOOKUP *lu;
	int rc = bundle_read(file, &b);

	if (rc)
		return rc;
	lu = X509_STORE_add_lookup(st, bundle_method(cs));
	if (!lu) {
		bundle_free(b);
		return azl_error_set(AZL_ERROR, "cannot create a certificate store (out of memory?)");
	}
	X509_LOOKUP_set_method_data(lu, b);
	return 0;
}

static int same(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* As libcurl sets up its own store (lib/vtls/openssl.c): the CA file, the
 * directory for lookups, trusted certificates first, partial chains. The
 * file's certificates are parsed as chains need them (struct bundle). */
static int load(struct azl_castore *cs, const char *file, const char *dir, X509_STORE **out)
{
	X509_STORE *st = X509_STORE_new();
	int rc;

	if (!st)
		return azl_error_set(AZL_ERROR, "cannot create a certificate store (out of memory?)");
	rc = file ? add_bundle(cs, st, file) : 0;
	if (rc) {
		X509_STORE_free(st);
		return rc;
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
		rc = load(cs, file, dir, &st);
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
