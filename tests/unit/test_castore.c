/* The shared CA stores: a bundle is read once per (file, directory) and
 * the same store comes back; its certificates are parsed only as chains
 * need them, in either PEM form, with other text skipped; unreadable or
 * empty bundles name the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "castore.h"
#include "error.h"
#include "log.h"
#include "testutil.h"

#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static void test_backend_is_openssl(void **state)
{
	(void)state;
	/* Debian's libcurl4-openssl-dev: the stores are used */
	assert_int_equal(azl_castore_usable(), 1);
}

static void test_same_store_for_same_bundle(void **state)
{
	struct azl_castore *cs;
	void *a = NULL, *b = NULL, *c = NULL;

	(void)state;
	if (access(SYSTEM_BUNDLE, R_OK))
		skip();
	assert_int_equal(azl_castore_new(&cs), 0);
	assert_int_equal(azl_castore_get(cs, SYSTEM_BUNDLE, NULL, &a), 0);
	assert_non_null(a);
	assert_int_equal(azl_castore_get(cs, SYSTEM_BUNDLE, NULL, &b), 0);
	assert_ptr_equal(a, b);
	/* another directory is another store */
	assert_int_equal(azl_castore_get(cs, SYSTEM_BUNDLE, "/etc/ssl/certs", &c), 0);
	assert_non_null(c);
	assert_ptr_not_equal(a, c);
	azl_castore_free(cs);
}

static void test_unreadable_or_empty_bundle_named(void **state)
{
	static const char junk[] = "not a certificate\n";
	struct azl_castore *cs;
	char *dir = tu_mkdtemp();
	char *path = tu_write_bytes(dir, "junk.pem", junk, sizeof(junk) - 1, 0600);
	void *st = (void *)1;

	(void)state;
	assert_int_equal(azl_castore_new(&cs), 0);
	assert_int_equal(azl_castore_get(cs, path, NULL, &st), AZL_EINVALID);
	assert_null(st);
	assert_non_null(strstr(azl_error_message(), path));
	unlink(path);
	assert_int_equal(azl_castore_get(cs, path, NULL, &st), AZL_EINVALID);
	assert_non_null(strstr(azl_error_message(), path));
	assert_non_null(strstr(azl_error_message(), ": cannot read it: No such file or directory"));
	/* a failure is not cached: once the file is fixed, it is used */
	if (!access(SYSTEM_BUNDLE, R_OK)) {
		assert_int_equal(symlink(SYSTEM_BUNDLE, path), 0);
		assert_int_equal(azl_castore_get(cs, path, NULL, &st), 0);
		assert_non_null(st);
		unlink(path);
	}
	azl_castore_free(cs);
	azl_error_clear();
	rmdir(dir);
	free(path);
	free(dir);
}

/* A self-signed CA certificate with a fresh P-256 key. */
static X509 *make_ca(const char *cn)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_get_subject_name(x);

	assert_non_null(key);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	EVP_PKEY_free(key);
	return x;
}

static void append_pem(struct strbuf *sb, X509 *x, int trusted_form)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	assert_true(trusted_form ? PEM_write_bio_X509_AUX(bio, x) : PEM_write_bio_X509(bio, x));
	len = BIO_get_mem_data(bio, &data);
	strbuf_add(sb, data, (size_t)len);
	BIO_free(bio);
}

static int verify(void *store, X509 *x)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_int_equal(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
	ok = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	return ok;
}

static void capture(int level, const char *message, void *data)
{
	struct strbuf *sb = data;

	strbuf_addf(sb, "%d %s\n", level, message);
}

/* A bundle of 40 CAs, text between them, one in the "TRUSTED CERTIFICATE"
 * form: each trusts its own certificate, parsing it alone; a CA outside
 * the bundle is not trusted. */
static void test_bundle_parsed_as_chains_need_it(void **state)
{
	enum { N = 40 };
	X509 *cas[N], *stranger = make_ca("stranger");
	struct strbuf bundle = STRBUF_INIT, log = STRBUF_INIT, want = STRBUF_INIT;
	struct azl_castore *cs;
	char *dir = tu_mkdtemp(), *path;
	void *st;

	(void)state;
	for (int i = 0; i < N; i++) {
		char cn[32];

		snprintf(cn, sizeof(cn), "test CA %d", i);
		cas[i] = make_ca(cn);
		strbuf_addf(&bundle, "# %s\n", cn);
		append_pem(&bundle, cas[i], i == 7);
	}
	path = tu_write_bytes(dir, "bundle.pem", bundle.buf, bundle.len, 0600);
	assert_int_equal(azl_castore_new(&cs), 0);
	azl_log_init(9, capture, &log);
	assert_int_equal(azl_castore_get(cs, path, NULL, &st), 0);
	assert_string_equal(log.buf, "");
	assert_int_equal(verify(st, cas[N - 1]), 0);
	strbuf_addf(&want, "7 CA bundle %s: parsed 1 of its %d certificates\n", path, N);
	assert_string_equal(log.buf, want.buf);
	assert_int_equal(verify(st, cas[7]), 0);
	assert_int_equal(verify(st, cas[0]), 0);
	assert_int_equal(verify(st, cas[N - 1]), 0);   /* parsed once */
	assert_non_null(strstr(log.buf, "parsed 3 of its 40 certificates\n"));
	assert_null(strstr(log.buf, "parsed 4 of"));
	assert_int_equal(verify(st, stranger), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	azl_log_init(0, NULL, NULL);
	azl_castore_free(cs);
	for (int i = 0; i < N; i++)
		X509_free(cas[i]);
	X509_free(stranger);
	strbuf_release(&bundle);
	strbuf_release(&log);
	strbuf_release(&want);
	tu_rmrf(dir);
	free(path);
	free(dir);
}

/* A certificate block that does not parse, or does not end, fails the
 * bundle with its line: OpenSSL refuses such a file too. */
static void test_broken_block_named_with_its_line(void **state)
{
	X509 *ca = make_ca("good");
	struct strbuf text = STRBUF_INIT, want = STRBUF_INIT;
	struct azl_castore *cs;
	char *dir = tu_mkdtemp(), *bad, *cut;
	void *st;
	size_t pem_lines = 0;

	(void)state;
	append_pem(&text, ca, 0);
	for (size_t i = 0; i < text.len; i++)
		pem_lines += text.buf[i] == '\n';
	strbuf_addstr(&text, "# next\n-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n"
		      "-----END CERTIFICATE-----\n");
	bad = tu_write_bytes(dir, "bad.pem", text.buf, text.len, 0600);
	strbuf_reset(&text);
	append_pem(&text, ca, 0);
	strbuf_setlen(&text, text.len - 10);
	cut = tu_write_bytes(dir, "cut.pem", text.buf, text.len, 0600);
	assert_int_equal(azl_castore_new(&cs), 0);
	assert_int_equal(azl_castore_get(cs, bad, NULL, &st), AZL_EINVALID);
	/* the good certificate, "# next", then the bad block */
	strbuf_addf(&want, "CA bundle %s: the block at line %zu is not a PEM certificate", bad,
		    pem_lines + 2);
	assert_string_equal(azl_error_message(), want.buf);
	assert_int_equal(azl_castore_get(cs, cut, NULL, &st), AZL_EINVALID);
	strbuf_reset(&want);
	strbuf_addf(&want, "CA bundle %s: the block at line 1 is not a PEM certificate", cut);
	assert_string_equal(azl_error_message(), want.buf);
	azl_castore_free(cs);
	azl_error_clear();
	X509_free(ca);
	strbuf_release(&text);
	strbuf_release(&want);
	tu_rmrf(dir);
	free(bad);
	free(cut);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_is_openssl),
		cmocka_unit_test(test_same_store_for_same_bundle),
		cmocka_unit_test(test_unreadable_or_empty_bundle_named),
		cmocka_unit_test(test_bundle_parsed_as_chains_need_it),
		cmocka_unit_test(test_broken_block_named_with_its_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
