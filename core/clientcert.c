/* d2i_RSAPrivateKey and d2i_ECPrivateKey are deprecated in OpenSSL 3.0 in
 * favour of the decoders this module exists to avoid (clientcert.h). */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "clientcert.h"

#include <limits.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "error.h"
#include "wrapper.h"

struct azl_client_cert {
	X509 *leaf;
	STACK_OF(X509) *chain;       /* intermediates after the leaf */
	EVP_PKEY *key;
};

/* What OpenSSL said last, without the error queue's codes and file names. */
static const char *openssl_reason(void)
{
	const char *reason = ERR_reason_error_string(ERR_peek_last_error());

	return reason ? reason : "unknown error";
}

/* The end of the input leaves "no start line" in the error queue: that is
 * the only failure that just means there is nothing more to read. */
static int reached_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* OpenSSL's default would prompt on the terminal for an encrypted key. */
static int no_password(char *buf, int size, int rwflag, void *data)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)data;
	return -1;
}

static BIO *pem_bio(const char *pem, size_t len)
{
	return len > INT_MAX ? NULL : BIO_new_mem_buf(pem, (int)len);
}

static int read_certs(struct azl_client_cert *cc, const char *pem, size_t len)
{
	BIO *bio = pem_bio(pem, len);
	X509 *x;
	int rc = 0;

	ERR_clear_error();
	while (bio && (x = PEM_read_bio_X509(bio, NULL, no_password, NULL))) {
		if (!cc->leaf)
			cc->leaf = x;
		else if (!sk_X509_push(cc->chain, x))
			X509_free(x);
	}
	if (!cc->leaf && (!bio || reached_end()))
		rc = azl_error_set(AZL_EINVALID, "client certificate: no PEM certificate found");
	else if (!reached_end())
		rc = azl_error_set(AZL_EINVALID, "client certificate: a certificate in it cannot be parsed (%s)",
				   openssl_reason());
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

static EVP_PKEY *rsa_key(const unsigned char *der, long len)
{
	const unsigned char *p = der;
	RSA *rsa = d2i_RSAPrivateKey(NULL, &p, len);
	EVP_PKEY *pkey = rsa ? EVP_PKEY_new() : NULL;

	if (pkey && EVP_PKEY_assign_RSA(pkey, rsa))
		return pkey;
	EVP_PKEY_free(pkey);
	RSA_free(rsa);
	return NULL;
}

/* alg: PKCS#8's algorithm, whose parameters name the curve that the inner
 * key may leave out; NULL for the traditional form, which names it. */
static EVP_PKEY *ec_key(const unsigned char *der, long len, const X509_ALGOR *alg)
{
	const unsigned char *p = der;
	EC_KEY *ec = NULL;
	EVP_PKEY *pkey;

	if (alg) {
		int ptype;
		const void *curve;

		X509_ALGOR_get0(NULL, &ptype, &curve, alg);
		if (ptype != V_ASN1_OBJECT)
			return NULL;
		ec = EC_KEY_new_by_curve_name(OBJ_obj2nid(curve));
		if (!ec)
			return NULL;
	}
	if (!d2i_ECPrivateKey(&ec, &p, len)) {
		EC_KEY_free(ec);
		return NULL;
	}
	pkey = EVP_PKEY_new();
	if (pkey && EVP_PKEY_assign_EC_KEY(pkey, ec))
		return pkey;
	EVP_PKEY_free(pkey);
	EC_KEY_free(ec);
	return NULL;
}

static EVP_PKEY *pkcs8_key(const unsigned char *der, long len)
{
	const unsigned char *p = der, *inner;
	PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len);
	const ASN1_OBJECT *type;
	const X509_ALGOR *alg;
	int inner_len, nid;
	EVP_PKEY *pkey = NULL;

	if (p8 && PKCS8_pkey_get0(&type, &inner, &inner_len, &alg, p8)) {
		nid = OBJ_obj2nid(type);
		if (nid == NID_rsaEncryption)
			pkey = rsa_key(inner, inner_len);
		else if (nid == NID_X9_62_id_ecPublicKey)
			pkey = ec_key(inner, inner_len, alg);
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	return pkey;
}

enum key_block { KEY_NONE, KEY_PLAIN, KEY_ENCRYPTED };

/* RSA and EC keys, traditional or PKCS#8 and not encrypted, by their own
 * parsers; NULL for anything else, left to the decoders. *block tells what
 * the first PEM block is. */
static EVP_PKEY *key_by_type(const char *pem, size_t len, enum key_block *block)
{
	BIO *bio = pem_bio(pem, len);
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	long der_len = 0;
	EVP_PKEY *pkey = NULL;

	/* openssl ecparam -genkey writes the curve's parameters first */
	while (bio && PEM_read_bio(bio, &name, &header, &der, &der_len) &&
	       !strcmp(name, PEM_STRING_ECPARAMETERS)) {
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		name = header = NULL;
		der = NULL;
	}
	*block = !name ? (reached_end() ? KEY_NONE : KEY_PLAIN) :
		 !strcmp(name, PEM_STRING_PKCS8) || strstr(header, "ENCRYPTED") ? KEY_ENCRYPTED :
		 KEY_PLAIN;
	if (name && header && !*header) {
		if (!strcmp(name, PEM_STRING_RSA))
			pkey = rsa_key(der, der_len);
		else if (!strcmp(name, PEM_STRING_ECPRIVATEKEY))
			pkey = ec_key(der, der_len, NULL);
		else if (!strcmp(name, PEM_STRING_PKCS8INF))
			pkey = pkcs8_key(der, der_len);
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
	BIO_free(bio);
	ERR_clear_error();
	return pkey;
}

static int read_key(struct azl_client_cert *cc, const char *pem, size_t len)
{
	BIO *bio;
	enum key_block block;

	cc->key = key_by_type(pem, len, &block);
	if (cc->key)
		return 0;
	if (block == KEY_NONE)
		return azl_error_set(AZL_EINVALID, "client key: no PEM private key found");
	/* as in client-go, which has no way to ask for a passphrase */
	if (block == KEY_ENCRYPTED)
		return azl_error_set(AZL_EINVALID,
				     "client key: it is encrypted; decrypt it (openssl pkey -in KEY -out KEY.plain) and use that");
	bio = pem_bio(pem, len);
	cc->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
	BIO_free(bio);
	if (!cc->key)
		return azl_error_set(AZL_EINVALID, "client key: it cannot be parsed (%s)",
				     openssl_reason());
	return 0;
}

int azl_client_cert_new(struct azl_client_cert **out, const char *cert_pem, size_t cert_len,
			const char *key_pem, size_t key_len)
{
	struct azl_client_cert *cc = xcalloc(1, sizeof(*cc));
	int rc;

	*out = NULL;
	cc->chain = sk_X509_new_null();
	if (!cc->chain) {
		free(cc);
		return azl_error_set(AZL_ERROR, "out of memory");
	}
	rc = read_certs(cc, cert_pem, cert_len);
	if (!rc)
		rc = read_key(cc, key_pem, key_len);
	if (!rc && X509_check_private_key(cc->leaf, cc->key) != 1)
		rc = azl_error_set(AZL_EINVALID, "client key does not match the client certificate");
	ERR_clear_error();
	if (rc) {
		azl_client_cert_free(cc);
		return rc;
	}
	*out = cc;
	return 0;
}

void azl_client_cert_free(struct azl_client_cert *cc)
{
	if (!cc)
		return;
	X509_free(cc->leaf);
	sk_X509_pop_free(cc->chain, X509_free);
	EVP_PKEY_free(cc->key);
	free(cc);
}

int azl_client_cert_attach(const struct azl_client_cert *cc, void *ctx)
{
	SSL_CTX *ssl = ctx;
	int ok = SSL_CTX_use_certificate(ssl, cc->leaf) == 1 &&
		 SSL_CTX_use_PrivateKey(ssl, cc->key) == 1;

	/* The certificates given, no more, as client-go sends them. OpenSSL
	 * would otherwise add the chain it builds from the trusted CAs: with
	 * AKS's, the cluster CA itself, for the server to parse in vain. */
	SSL_CTX_set_mode(ssl, SSL_MODE_NO_AUTO_CHAIN);

	for (int i = 0; ok && i < sk_X509_num(cc->chain); i++)
		ok = SSL_CTX_add1_chain_cert(ssl, sk_X509_value(cc->chain, i)) == 1;
	if (!ok) {
		azl_error_set(AZL_ERROR, "cannot use the client certificate: %s", openssl_reason());
		ERR_clear_error();
		return AZL_ERROR;
	}
	return 0;
}
