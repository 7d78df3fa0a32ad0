/* CA bundles read once per process and shared by every TLS connection.
 *
 * libcurl parses its CA file for each new connection; it caches the result
 * only per multi handle, and only when no CA directory is set, which
 * Debian's libcurl always sets. With OpenSSL 3.0 a certificate takes about
 * 0.23 ms to parse, so the system bundle (144) costs 33 ms of CPU per
 * connection. An azl_castore holds each bundle's X509_STORE once; a
 * connection's SSL_CTX takes it by reference. Within a bundle file, the
 * certificates are indexed by subject and parsed only when a chain asks for
 * that issuer (an X509_LOOKUP, as OpenSSL's hashed directories work): a
 * connection to ARM needs one of the 144. Used only when libcurl's TLS
 * backend is OpenSSL (azl_castore_usable()). Thread-safe. */
#ifndef AZL_CASTORE_H
#define AZL_CASTORE_H

struct azl_castore;

/* 1 when libcurl's TLS backend is OpenSSL, whose SSL_CTX this can feed. */
int azl_castore_usable(void);

int azl_castore_new(struct azl_castore **out);
void azl_castore_free(struct azl_castore *cs);

/* The X509_STORE (as void *: callers need no OpenSSL headers) trusting the
 * certificates of file and of the hashed directory dir (either may be NULL,
 * not both), both looked up on demand; the file is read on the first call
 * for that pair. The store stays owned by cs. AZL_EINVALID names the file when it
 * cannot be read or holds no certificate. */
int azl_castore_get(struct azl_castore *cs, const char *file, const char *dir, void **store);

/* Hands store to the SSL_CTX ctx (a CURLOPT_SSL_CTX_FUNCTION's argument),
 * replacing the one libcurl made. */
void azl_castore_attach(void *ctx, void *store);

#endif
