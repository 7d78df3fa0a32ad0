/* A TLS client certificate and its private key, parsed once for every
 * connection of an http client (http.h) rather than by libcurl for each.
 *
 * OpenSSL 3.0 reads a PEM private key by trying its decoders one after
 * another: 0.5-0.7 ms for a P-256 or an RSA key, the largest part of a
 * kubeconfig context's set-up. The traditional forms kubeconfigs hold (AKS
 * and kubeadm write "RSA PRIVATE KEY", others "EC PRIVATE KEY" or PKCS#8
 * "PRIVATE KEY" of either) are read here by their own parsers, ~0.05 ms;
 * any other form goes through the decoders. Used only with libcurl's OpenSSL
 * backend (castore.h). */
#ifndef AZL_CLIENTCERT_H
#define AZL_CLIENTCERT_H

#include <stddef.h>

struct azl_client_cert;

/* cert_pem is the certificate, then any intermediates for the server;
 * key_pem its private key. AZL_EINVALID says which of the two is not
 * PEM, cannot be parsed, or does not match the other. */
int azl_client_cert_new(struct azl_client_cert **out, const char *cert_pem, size_t cert_len,
			const char *key_pem, size_t key_len);
void azl_client_cert_free(struct azl_client_cert *cc);

/* Gives the SSL_CTX ctx (a CURLOPT_SSL_CTX_FUNCTION's argument) the
 * certificate, its chain and the key. The handshake sends the certificates
 * given and no others, as client-go does: none built from the trusted CAs. */
int azl_client_cert_attach(const struct azl_client_cert *cc, void *ctx);

#endif
