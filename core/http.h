/* HTTP over libcurl, shared by the Kubernetes and ARM clients.
 *
 * The program must call azl_global_init() (azlinux.h) once before the
 * first azl_http_new(), while it is still single-threaded.
 *
 * One azl_http owns a connection cache, so a command's requests reuse
 * connections. TLS is always verified unless insecure is set explicitly;
 * TLS 1.2 is the minimum. PEM material is passed to libcurl as in-memory
 * blobs; keys are never written to disk. Traces at -v=6..9 redact
 * Authorization headers and token-bearing bodies. */
#ifndef AZL_HTTP_H
#define AZL_HTTP_H

#include <stddef.h>

#include "strbuf.h"

/* An azl_http is used by one thread at a time, unless it is made with
 * concurrent set; azl_http_do_many() is the way to run requests
 * concurrently. */
struct azl_http;

struct azl_http_options {
	const char *ca_pem;          /* in-memory CA bundle, or NULL */
	size_t ca_pem_len;
	const char *ca_file;         /* CA bundle file (e.g. SSL_CERT_FILE) */
	const char *client_cert_pem; /* with client_key_pem, or NULL */
	size_t client_cert_pem_len;
	const char *client_key_pem;
	size_t client_key_pem_len;
	const char *tls_server_name; /* SNI and verification name override */
	int insecure;                /* skip verification: kubeconfig only */
	const char *proxy_url;       /* NULL: environment (http(s)_proxy) */
	int no_proxy;                /* never use a proxy (IMDS) */
	long timeout_ms;             /* whole-request deadline; 0 none */
	long connect_timeout_ms;     /* 0: libcurl default */
	const char *user_agent;
	/* Added by the http module: */
	int disable_compression;     /* no Accept-Encoding negotiation */
	const char *tls_hint;        /* appended to TLS verification errors,
				      * e.g. "check certificate-authority in
				      * your kubeconfig"; NULL: none */
	/* Several threads may call azl_http_do() and azl_http_do_many() at
	 * once: a thread of the client's own runs every caller's requests
	 * over the same connections (one HTTP/2 connection for all). */
	int concurrent;
};

struct azl_http_request {
	const char *method;          /* "GET", "POST", "PATCH", ... */
	const char *url;
	const char *const *headers;  /* NULL-terminated "Name: value" */
	const char *body;            /* may be NULL */
	size_t body_len;
};

struct azl_http_response {
	long status;                 /* 0 when no response arrived */
	struct strbuf headers;       /* raw header block of the last response */
	struct strbuf body;
};
#define AZL_HTTP_RESPONSE_INIT { 0, STRBUF_INIT, STRBUF_INIT }

int azl_http_new(struct azl_http **out, const struct azl_http_options *opts);
void azl_http_free(struct azl_http *http);

/* Performs one request. A transport failure returns AZL_ENETWORK or
 * AZL_ETIMEOUT with a message naming the URL's host; any HTTP status
 * (including 4xx/5xx) returns 0 with resp->status set. */
int azl_http_do(struct azl_http *http, const struct azl_http_request *req,
		struct azl_http_response *resp);

/* Performs n independent requests concurrently (at most max_parallel at a
 * time, or up to 100 when the server last answered over HTTP/2, which
 * multiplexes them on one connection) over the shared connection cache.
 * results[i] is the return value azl_http_do() would have given for
 * reqs[i]; unless errors is NULL, errors[i] (initialised strbufs) receives
 * the one-line message of a failed reqs[i] or is left empty. The error
 * message left behind is that of the last request to fail. Returns 0. */
int azl_http_do_many(struct azl_http *http, const struct azl_http_request *reqs,
		     struct azl_http_response *resps, int *results,
		     struct strbuf *errors, size_t n, int max_parallel);

/* A response read as it arrives (a Kubernetes watch). on_data gets the
 * body of a 2xx answer in pieces as they come (any other answer is
 * collected in resp->body as usual); should_stop, unless NULL, is polled
 * at least once a second, also while nothing arrives. A non-zero return
 * from either (having set the error) ends the transfer and is what
 * azl_http_do_stream() returns. */
struct azl_http_stream {
	int (*on_data)(const char *data, size_t len, void *ctx);
	int (*should_stop)(void *ctx);
	void *ctx;
};

/* As azl_http_do(), streaming the body through s. A client made with
 * concurrent cannot stream (AZL_EINVALID). */
int azl_http_do_stream(struct azl_http *http, const struct azl_http_request *req,
		       struct azl_http_response *resp, const struct azl_http_stream *s);

/* Starts a HEAD request to url in the background and returns: the TLS
 * handshake with its server overlaps with what the caller does meanwhile
 * (such as fetching the token the server wants), and the first requests
 * find the connection open and known to speak HTTP/2. The answer is
 * dropped; a request still unanswered when http is freed is abandoned.
 * Only a concurrent client has a background: for another, this does
 * nothing. */
void azl_http_preconnect(struct azl_http *http, const char *url);

/* Copies the value of the named header (case-insensitive) into out;
 * returns 1 when found, 0 otherwise. */
int azl_http_response_header(const struct azl_http_response *resp,
			     const char *name, struct strbuf *out);
void azl_http_response_release(struct azl_http_response *resp);

/* Request counters, for -v output and benchmarks. Counts every request
 * sent, whatever its outcome; a concurrent client's, once no call is in
 * flight. */
unsigned long azl_http_request_count(const struct azl_http *http);

#endif
