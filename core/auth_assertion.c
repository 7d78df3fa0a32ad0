/* A client assertion signed with the application's certificate: an RS256
 * JWT whose header names the certificate by its SHA-1 and SHA-256
 * thumbprints (credentials.md §1.2). The private key stays in memory and
 * is wiped after use. */
#include "auth_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "base64.h"
#include "error.h"
#include "json.h"

/* Assertions live ten minutes, as MSAL's do. */
#define ASSERTION_LIFETIME 600

static void b64url(struct strbuf *out, const void *data, size_t len)
{
	struct strbuf std = STRBUF_INIT;
	size_t i;

	azl_base64_encode(&std, data, len);
	for (i = 0; i < std.len && std.buf[i] != '='; i++)
		strbuf_addch(out, std.buf[i] == '+' ? '-' : std.buf[i] == '/' ? '_' : std.buf[i]);
	strbuf_release(&std);
}

static void b64url_json(struct strbuf *out, cJSON *o)
{
	char *s = azl_json_print(o, 0);

	b64url(out, s, strlen(s));
	free(s);
	cJSON_Delete(o);
}

static void thumbprint(cJSON *hdr, const char *name, X509 *cert, const EVP_MD *md)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	struct strbuf s = STRBUF_INIT;

	X509_digest(cert, md, digest, &n);
	b64url(&s, digest, n);
	cJSON_AddStringToObject(hdr, name, s.buf);
	strbuf_release(&s);
}

static void signing_input(struct strbuf *out, X509 *cert, const char *client_id,
			  const char *audience)
{
	cJSON *hdr = cJSON_CreateObject(), *claims = cJSON_CreateObject();
	unsigned char rnd[16];
	struct strbuf jti = STRBUF_INIT;
	time_t now = time(NULL);
	size_t i;

	cJSON_AddStringToObject(hdr, "alg", "RS256");
	cJSON_AddStringToObject(hdr, "typ", "JWT");
	thumbprint(hdr, "x5t", cert, EVP_sha1());
	thumbprint(hdr, "x5t#S256", cert, EVP_sha256());
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		abort();
	for (i = 0; i < sizeof(rnd); i++)
		strbuf_addf(&jti, "%02x", rnd[i]);
	cJSON_AddStringToObject(claims, "aud", audience);
	cJSON_AddStringToObject(claims, "iss", client_id);
	cJSON_AddStringToObject(claims, "sub", client_id);
	cJSON_AddStringToObject(claims, "jti", jti.buf);
	cJSON_AddNumberToObject(claims, "nbf", (double)now);
	cJSON_AddNumberToObject(claims, "iat", (double)now);
	cJSON_AddNumberToObject(claims, "exp", (double)(now + ASSERTION_LIFETIME));
	b64url_json(out, hdr);
	strbuf_addch(out, '.');
	b64url_json(out, claims);
	strbuf_release(&jti);
}

static int sign(EVP_PKEY *key, struct strbuf *jwt)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t n = 0;
	int ok;

	ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)jwt->buf, jwt->len) == 1 &&
	     (sig = OPENSSL_malloc(n)) != NULL &&
	     EVP_DigestSign(ctx, sig, &n, (const unsigned char *)jwt->buf, jwt->len) == 1;
	if (ok) {
		strbuf_addch(jwt, '.');
		b64url(jwt, sig, n);
	}
	OPENSSL_free(sig);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int load_pem(const char *path, const struct strbuf *pem, X509 **cert,
		    EVP_PKEY **key)
{
	const char *pass = getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD");
	BIO *b1 = BIO_new_mem_buf(pem->buf, (int)pem->len);
	BIO *b2 = BIO_new_mem_buf(pem->buf, (int)pem->len);

	*cert = b1 ? PEM_read_bio_X509(b1, NULL, NULL, NULL) : NULL;
	*key = b2 ? PEM_read_bio_PrivateKey(b2, NULL, NULL, (void *)(pass ? pass : "")) : NULL;
	BIO_free(b1);
	BIO_free(b2);
	if (*cert && *key && EVP_PKEY_base_id(*key) == EVP_PKEY_RSA)
		return 0;
	return azl_error_set(AZL_EINVALID,
		"client certificate %s (AZURE_CLIENT_CERTIFICATE_PATH): %s",
		path, !*cert ? "no PEM certificate found (PKCS#12 is not supported: convert it with openssl pkcs12 -nodes)"
		: !*key ? "no readable PEM private key (wrong AZURE_CLIENT_CERTIFICATE_PASSWORD?)"
		: "the key is not RSA; Entra ID assertions need RS256");
}

int azl_assertion_from_certificate(const char *path, const char *client_id,
				   const char *audience, struct strbuf *out)
{
	struct strbuf pem = STRBUF_INIT;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	int rc;

	strbuf_reset(out);
	if (strbuf_read_file(&pem, path) < 0)
		return azl_error_set(AZL_EINVALID,
			"cannot read client certificate %s (AZURE_CLIENT_CERTIFICATE_PATH): %s",
			path, strerror(errno));
	rc = load_pem(path, &pem, &cert, &key);
	OPENSSL_cleanse(pem.buf, pem.len);
	strbuf_release(&pem);
	if (rc == 0) {
		signing_input(out, cert, client_id, audience);
		if (sign(key, out) < 0)
			rc = azl_error_set(AZL_ERROR,
				"client certificate %s: signing the assertion failed", path);
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
