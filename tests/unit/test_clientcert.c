/* Client certificates parsed once: every form of key a kubeconfig may hold
 * gives the same key as OpenSSL's generic reader, intermediates go with
 * the certificate, and a missing, broken or mismatched part is named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clientcert.h"
#include "error.h"
#include "strbuf.h"

enum key_form { TRADITIONAL, PKCS8, WITH_EC_PARAMETERS, ENCRYPTED };

static void bio_to_strbuf(BIO *bio, struct strbuf *out)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	strbuf_add(out, data, (size_t)len);
	BIO_free(bio);
}

static void key_pem(EVP_PKEY *key, enum key_form form, struct strbuf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());

	switch (form) {
	case WITH_EC_PARAMETERS:
		assert_int_equal(PEM_write_bio_Parameters(bio, key), 1);
		/* fall through */
	case TRADITIONAL:
		assert_int_equal(PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0,
								      NULL, NULL), 1);
		break;
	case PKCS8:
		assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
		break;
	case ENCRYPTED:
		assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_128_cbc(), NULL, 0,
							       NULL, "secret"), 1);
		break;
	}
	bio_to_strbuf(bio, out);
}

/* A certificate for key's public half, signed by signer (itself when NULL). */
static X509 *certificate(EVP_PKEY *key, const char *cn, EVP_PKEY *signer, X509 *issuer)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	const EVP_MD *md = EVP_PKEY_is_a(signer ? signer : key, "ED25519") ? NULL : EVP_sha256();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(x, key);
	if (!signer) {
		X509_EXTENSION *ca = X509V3_EXT_conf_nid(NULL, NULL, NID_basic_constraints,
							 "critical,CA:TRUE");

		X509_add_ext(x, ca, -1);
		X509_EXTENSION_free(ca);
	}
	assert_true(X509_sign(x, signer ? signer : key, md) > 0);
	X509_NAME_free(name);
	return x;
}

static void cert_pem(X509 *x, struct strbuf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());

	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	bio_to_strbuf(bio, out);
}

/* The parsed key, through an SSL_CTX as a connection gets it, is the one
 * OpenSSL's generic reader finds in the same PEM. */
static void assert_key_read(EVP_PKEY *key, enum key_form form)
{
	struct strbuf cpem = STRBUF_INIT, kpem = STRBUF_INIT;
	X509 *x = certificate(key, "client", NULL, NULL);
	struct azl_client_cert *cc;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	BIO *bio;
	EVP_PKEY *generic;

	cert_pem(x, &cpem);
	key_pem(key, form, &kpem);
	assert_int_equal(azl_client_cert_new(&cc, cpem.buf, cpem.len, kpem.buf, kpem.len), 0);
	assert_int_equal(azl_client_cert_attach(cc, ctx), 0);
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), x), 0);
	bio = BIO_new_mem_buf(kpem.buf, (int)kpem.len);
	generic = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	assert_non_null(generic);
	assert_int_equal(EVP_PKEY_eq(SSL_CTX_get0_privatekey(ctx), generic), 1);
	EVP_PKEY_free(generic);
	BIO_free(bio);
	azl_client_cert_free(cc);
	SSL_CTX_free(ctx);
	X509_free(x);
	strbuf_release(&cpem);
	strbuf_release(&kpem);
}

static void test_rsa_key_forms(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	(void)state;
	assert_key_read(key, TRADITIONAL);
	assert_key_read(key, PKCS8);
	EVP_PKEY_free(key);
}

static void test_ec_key_forms(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");

	(void)state;
	assert_key_read(key, TRADITIONAL);
	assert_key_read(key, PKCS8);
	assert_key_read(key, WITH_EC_PARAMETERS);
	assert_key_read(p384, PKCS8);
	EVP_PKEY_free(key);
	EVP_PKEY_free(p384);
}

/* not RSA or EC: OpenSSL's decoders read it */
static void test_other_key_types(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	(void)state;
	assert_key_read(key, PKCS8);
	EVP_PKEY_free(key);
}

static void test_intermediates_go_with_the_certificate(void **state)
{
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = certificate(ca_key, "intermediate", NULL, NULL);
	X509 *leaf = certificate(key, "client", ca_key, ca);
	struct strbuf cpem = STRBUF_INIT, kpem = STRBUF_INIT;
	struct azl_client_cert *cc;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	STACK_OF(X509) *chain = NULL;

	(void)state;
	cert_pem(leaf, &cpem);
	cert_pem(ca, &cpem);
	key_pem(key, TRADITIONAL, &kpem);
	assert_int_equal(azl_client_cert_new(&cc, cpem.buf, cpem.len, kpem.buf, kpem.len), 0);
	assert_int_equal(azl_client_cert_attach(cc, ctx), 0);
	assert_int_equal(X509_cmp(SSL_CTX_get0_certificate(ctx), leaf), 0);
	assert_int_equal(SSL_CTX_get0_chain_certs(ctx, &chain), 1);
	assert_int_equal(sk_X509_num(chain), 1);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), ca), 0);
	azl_client_cert_free(cc);
	SSL_CTX_free(ctx);
	X509_free(leaf);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	strbuf_release(&cpem);
	strbuf_release(&kpem);
}

static int accept_any(int preverified, X509_STORE_CTX *ctx)
{
	(void)preverified;
	(void)ctx;
	return 1;
}

/* Runs a TLS handshake in memory between the two; 1 when it completed. */
static int handshake(SSL *client, SSL *server)
{
	BIO *c, *s;
	int c_done = 0, s_done = 0;

	BIO_new_bio_pair(&c, 0, &s, 0);
	SSL_set_bio(client, c, c);
	SSL_set_bio(server, s, s);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	for (int i = 0; i < 100 && !(c_done && s_done); i++) {
		c_done = c_done || SSL_do_handshake(client) == 1;
		s_done = s_done || SSL_do_handshake(server) == 1;
	}
	return c_done && s_done;
}

/* The server gets the client certificate alone, though the client trusts
 * the CA that issued it and OpenSSL would send that CA along. */
static void test_only_the_certificate_is_sent(void **state)
{
	EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *ca = certificate(ca_key, "cluster CA", NULL, NULL);
	X509 *server_cert = certificate(ca_key, "apiserver", ca_key, ca);
	X509 *leaf = certificate(key, "client", ca_key, ca);
	struct strbuf cpem = STRBUF_INIT, kpem = STRBUF_INIT;
	struct azl_client_cert *cc;
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method()), *sctx = SSL_CTX_new(TLS_server_method());
	SSL *client, *server;

	(void)state;
	cert_pem(leaf, &cpem);
	key_pem(key, TRADITIONAL, &kpem);
	assert_int_equal(azl_client_cert_new(&cc, cpem.buf, cpem.len, kpem.buf, kpem.len), 0);
	X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), ca);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	assert_int_equal(azl_client_cert_attach(cc, cctx), 0);
	SSL_CTX_use_certificate(sctx, server_cert);
	SSL_CTX_use_PrivateKey(sctx, ca_key);
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	client = SSL_new(cctx);
	server = SSL_new(sctx);
	assert_int_equal(handshake(client, server), 1);
	assert_int_equal(X509_cmp(SSL_get0_peer_certificate(server), leaf), 0);
	/* on a server, the peer's chain leaves out its certificate */
	assert_int_equal(sk_X509_num(SSL_get_peer_cert_chain(server)), 0);
	SSL_free(client);
	SSL_free(server);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	azl_client_cert_free(cc);
	X509_free(leaf);
	X509_free(server_cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	strbuf_release(&cpem);
	strbuf_release(&kpem);
}

static void assert_fails(const struct strbuf *cpem, const struct strbuf *kpem, const char *want)
{
	struct azl_client_cert *cc = (void *)1;

	assert_int_equal(azl_client_cert_new(&cc, cpem->buf, cpem->len, kpem->buf, kpem->len),
			 AZL_EINVALID);
	assert_null(cc);
	assert_string_equal(azl_error_message(), want);
	azl_error_clear();
}

static void test_bad_parts_are_named(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = certificate(key, "client", NULL, NULL);
	struct strbuf cpem = STRBUF_INIT, kpem = STRBUF_INIT, bad = STRBUF_INIT;

	(void)state;
	cert_pem(x, &cpem);
	key_pem(other, TRADITIONAL, &kpem);
	assert_fails(&cpem, &kpem, "client key does not match the client certificate");

	strbuf_reset(&kpem);
	key_pem(key, ENCRYPTED, &kpem);
	assert_fails(&cpem, &kpem, "client key: it is encrypted; decrypt it (openssl pkey -in KEY -out KEY.plain) and use that");

	strbuf_addstr(&bad, "not PEM at all\n");
	assert_fails(&bad, &kpem, "client certificate: no PEM certificate found");
	assert_fails(&cpem, &bad, "client key: no PEM private key found");

	/* a block whose base64 is cut short */
	strbuf_reset(&bad);
	strbuf_addstr(&bad, "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----\n");
	assert_fails(&cpem, &bad, "client key: it cannot be parsed (unsupported)");
	strbuf_reset(&bad);
	strbuf_addbuf(&bad, &cpem);
	strbuf_addstr(&bad, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	assert_fails(&bad, &kpem, "client certificate: a certificate in it cannot be parsed (ASN1 lib)");

	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	strbuf_release(&cpem);
	strbuf_release(&kpem);
	strbuf_release(&bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_key_forms),
		cmocka_unit_test(test_ec_key_forms),
		cmocka_unit_test(test_other_key_types),
		cmocka_unit_test(test_intermediates_go_with_the_certificate),
		cmocka_unit_test(test_only_the_certificate_is_sent),
		cmocka_unit_test(test_bad_parts_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
