#include "http.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "azlinux.h"
#include "castore.h"
#include "clientcert.h"
#include "error.h"
#include "log.h"
#include "redact.h"
#include "wrapper.h"

/* Bodies are traced in full at -v=9, cut to this many bytes at -v=8. */
#define TRACE_BODY_LIMIT 1024
/* Requests in flight on one HTTP/2 connection: the concurrent streams most
 * servers (ARM's front door, nginx, Go's net/http) allow; libcurl holds
 * back any beyond what the server's SETTINGS permit. */
#define MAX_STREAMS 100

struct azl_http {
	CURLSH *share;
	CURL *easy;               /* reused for sequential requests */
	CURLM *multi;             /* azl_http_do_many's; kept, as libcurl
				   * caches the parsed CA file in it */
	struct azl_http_options opts;  /* strings point into owned below */
	struct strbuf ca_pem, ca_file, cert, key, tls_server_name, proxy_url,
		user_agent, tls_hint;
	/* the CA bundle (file, hashed directory) a shared store stands for;
	 * both empty when libcurl loads the CA itself */
	struct strbuf store_file, store_dir;
	void *store;              /* its X509_STORE; NULL: libcurl loads them */
	struct azl_client_cert *client_cert;  /* parsed once (OpenSSL backend) */
	unsigned long requests;
	long http_version;        /* CURL_HTTP_VERSION_* of the last answer */
	struct pump *pump;        /* opts.concurrent: drives multi */
};

struct batch;
struct detached;

/* The thread that drives the multi handle of an azl_http used by several
 * threads at once: every caller's transfers run on the same connections,
 * so concurrent callers share one HTTP/2 connection where each would
 * otherwise open (and pay the TLS handshake of) its own. Only this thread
 * touches multi, the share and the easy handles of a batch. */
struct pump {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t finished;  /* a batch is done */
	struct batch *queue, **tail;   /* submitted, not started */
	struct detached *unwaited;     /* started, nobody waits: pump's own */
	int stop;
};

/* One request in flight, on its own easy handle. */
struct xfer {
	CURL *easy;
	struct batch *batch;
	const struct azl_http_request *req;
	struct azl_http_response *resp;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	struct strbuf url;        /* as sent (host rewritten for tls-server-name) */
	struct strbuf origin;     /* "https://host:port" of the real server */
	struct strbuf host;       /* its host name or address, for messages */
	const struct azl_http_stream *stream;  /* or NULL */
	int stream_rc;            /* what stopped the stream, or 0 */
	char errbuf[CURL_ERROR_SIZE];
};

static int has_tls_name(const struct azl_http *http)
{
	return http->opts.tls_server_name && *http->opts.tls_server_name;
}

/* Parsed CA bundles for every connection of the process (castore.h);
 * NULL when libcurl's TLS backend cannot take them. Like libcurl's own
 * global state, it lives from the first azl_global_init() to the last
 * matching azl_global_cleanup(). */
static struct azl_castore *castore;
static unsigned int global_inits;

int azl_global_init(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK)
		return azl_error_set(AZL_ERROR, "cannot initialise libcurl: %s",
				     curl_easy_strerror(rc));
	if (!global_inits++ && azl_castore_usable())
		azl_castore_new(&castore);
	return 0;
}

void azl_global_cleanup(void)
{
	if (global_inits && !--global_inits) {
		azl_castore_free(castore);
		castore = NULL;
	}
	curl_global_cleanup();
}

/* Copies an optional option string into sb; returns the copy or NULL. */
static const char *own(struct strbuf *sb, const char *s, size_t len)
{
	strbuf_init(sb, 0);
	if (!s)
		return NULL;
	strbuf_add(sb, s, len);
	return sb->buf;
}

static const char *own_str(struct strbuf *sb, const char *s)
{
	return own(sb, s, s ? strlen(s) : 0);
}

static const char *nonempty(const struct strbuf *sb)
{
	return sb->len ? sb->buf : NULL;
}

/* The bundle a shared store replaces: the configured CA file, else the
 * defaults libcurl was built with. None for an in-memory CA (a cluster's
 * own, parsed once per client anyway) or without verification. */
static void choose_store(struct azl_http *http)
{
	const struct azl_http_options *o = &http->opts;
	const char *file = NULL, *dir = NULL;

	strbuf_init(&http->store_file, 0);
	strbuf_init(&http->store_dir, 0);
	if (!castore || o->insecure || (o->ca_pem && http->ca_pem.len))
		return;
	if (o->ca_file && *o->ca_file) {
		strbuf_addstr(&http->store_file, o->ca_file);
		return;
	}
#if LIBCURL_VERSION_NUM >= 0x075400 /* CURLINFO_CAINFO, CURLINFO_CAPATH: 7.84 */
	curl_easy_getinfo(http->easy, CURLINFO_CAINFO, &file);
	curl_easy_getinfo(http->easy, CURLINFO_CAPATH, &dir);
#endif
	if (file)
		strbuf_addstr(&http->store_file, file);
	if (dir)
		strbuf_addstr(&http->store_dir, dir);
}

/* The shared store instead of libcurl's own loading of the same bundle. A
 * bundle that cannot be parsed is left to libcurl, whose error names it. */
static void lookup_store(struct azl_http *http)
{
	const char *file = nonempty(&http->store_file), *dir = nonempty(&http->store_dir);

	if ((!file && !dir) || !azl_castore_get(castore, file, dir, &http->store))
		return;
	http->store = NULL;
	azl_logf(4, "%s", azl_error_message());
	azl_error_clear();
}

/* Parsed here once rather than by libcurl for each connection, which also
 * reports a bad certificate or key before any connection. Only castore's
 * OpenSSL backend takes it; others get the PEM from libcurl. */
static int parse_client_cert(struct azl_http *http)
{
	if (!castore || !http->opts.client_cert_pem || !http->cert.len || !http->key.len)
		return 0;
	return azl_client_cert_new(&http->client_cert, http->cert.buf, http->cert.len,
				   http->key.buf, http->key.len);
}

static int pump_new(struct azl_http *http);
static void pump_free(struct azl_http *http);

/* Over HTTP/1.1 the callers' waves would each open up to their
 * max_parallel connections; together they get this many per host. On the
 * bench fleet with ARM over HTTP/1.1 (32 workers), 16, 32 and 64 took
 * 0.46, 0.38 and 0.40 s, against 0.40 s with a client per worker. */
#define CONCURRENT_HOST_CONNECTIONS 32

static int concurrent_init(struct azl_http *http)
{
	curl_multi_setopt(http->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)CONCURRENT_HOST_CONNECTIONS);
	curl_multi_setopt(http->multi, CURLMOPT_MAXCONNECTS, (long)CONCURRENT_HOST_CONNECTIONS);
	return pump_new(http);
}

int azl_http_new(struct azl_http **out, const struct azl_http_options *opts)
{
	struct azl_http *http = xcalloc(1, sizeof(*http));
	struct azl_http_options *o;
	int rc;

	*out = NULL;
	o = &http->opts;
	*o = *opts;
	o->ca_pem = own(&http->ca_pem, opts->ca_pem, opts->ca_pem_len);
	o->ca_file = own_str(&http->ca_file, opts->ca_file);
	o->client_cert_pem = own(&http->cert, opts->client_cert_pem,
				 opts->client_cert_pem_len);
	o->client_key_pem = own(&http->key, opts->client_key_pem,
				opts->client_key_pem_len);
	o->tls_server_name = own_str(&http->tls_server_name, opts->tls_server_name);
	o->proxy_url = own_str(&http->proxy_url, opts->proxy_url);
	o->user_agent = own_str(&http->user_agent, opts->user_agent);
	o->tls_hint = own_str(&http->tls_hint, opts->tls_hint);

	http->share = curl_share_init();
	http->easy = curl_easy_init();
	http->multi = curl_multi_init();
	if (!http->share || !http->easy || !http->multi) {
		azl_http_free(http);
		return azl_error_set(AZL_ERROR, "cannot create a libcurl handle (out of memory?)");
	}
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	curl_multi_setopt(http->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	choose_store(http);
	lookup_store(http);
	rc = parse_client_cert(http);
	if (!rc && o->concurrent)
		rc = concurrent_init(http);
	if (rc) {
		azl_http_free(http);
		return rc;
	}
	*out = http;
	return 0;
}

void azl_http_free(struct azl_http *http)
{
	if (!http)
		return;
	pump_free(http);
	/* easy handles go first: they hold connections of the share */
	curl_easy_cleanup(http->easy);
	curl_multi_cleanup(http->multi);
	curl_share_cleanup(http->share);
	strbuf_release(&http->ca_pem);
	strbuf_release(&http->ca_file);
	strbuf_release(&http->cert);
	azl_secret_wipe(&http->key);
	azl_client_cert_free(http->client_cert);
	strbuf_release(&http->tls_server_name);
	strbuf_release(&http->proxy_url);
	strbuf_release(&http->user_agent);
	strbuf_release(&http->tls_hint);
	strbuf_release(&http->store_file);
	strbuf_release(&http->store_dir);
	free(http);
}

unsigned long azl_http_request_count(const struct azl_http *http)
{
	return http ? http->requests : 0;
}

static void xfer_init(struct xfer *x, CURL *easy)
{
	memset(x, 0, sizeof(*x));
	x->easy = easy;
	strbuf_init(&x->url, 0);
	strbuf_init(&x->origin, 0);
	strbuf_init(&x->host, 0);
}

static void xfer_clear(struct xfer *x)
{
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	x->headers = x->connect_to = NULL;
	strbuf_reset(&x->url);
	strbuf_reset(&x->origin);
	strbuf_reset(&x->host);
	x->errbuf[0] = '\0';
}

static void xfer_release(struct xfer *x)
{
	xfer_clear(x);
	strbuf_release(&x->url);
	strbuf_release(&x->origin);
	strbuf_release(&x->host);
}

/* Appends a URL part, or returns 0 when the URL has none. */
static int add_part(CURLU *u, CURLUPart part, struct strbuf *out)
{
	char *s = NULL;

	if (curl_url_get(u, part, &s, 0) != CURLUE_OK)
		return 0;
	strbuf_addstr(out, s);
	curl_free(s);
	return 1;
}

/* "scheme://host[:port]" without user info, path or query, so messages
 * can name a server without leaking credentials. */
static void url_origin(CURLU *u, struct strbuf *out)
{
	size_t before_port;

	add_part(u, CURLUPART_SCHEME, out);
	strbuf_addstr(out, "://");
	add_part(u, CURLUPART_HOST, out);
	before_port = out->len;
	strbuf_addch(out, ':');
	if (!add_part(u, CURLUPART_PORT, out))
		strbuf_setlen(out, before_port);
}

/* The authority part of an origin ("https://h:1" -> "h:1"). */
static const char *origin_host(const struct xfer *x)
{
	const char *p = strstr(x->origin.buf, "://");

	return p ? p + 3 : x->origin.buf;
}

/* tls-server-name: libcurl takes the SNI and verification name from the
 * URL, so the URL names tls_server_name and CONNECT_TO sends the
 * connection to the real host. The Host header keeps the real authority,
 * as client-go sends it. */
static int route_by_tls_name(struct azl_http *http, struct xfer *x, CURLU *u)
{
	struct strbuf port = STRBUF_INIT, entry = STRBUF_INIT;
	char *s = NULL;
	int rc = 0;

	if (curl_url_get(u, CURLUPART_PORT, &s, CURLU_DEFAULT_PORT) == CURLUE_OK)
		strbuf_addstr(&port, s);
	curl_free(s);
	strbuf_addf(&entry, "Host: %s", origin_host(x));
	x->headers = curl_slist_append(x->headers, entry.buf);
	strbuf_reset(&entry);
	strbuf_addf(&entry, "%s:%s:%s:%s", http->opts.tls_server_name, port.buf,
		    x->host.buf, port.buf);
	x->connect_to = curl_slist_append(x->connect_to, entry.buf);
	if (curl_url_set(u, CURLUPART_HOST, http->opts.tls_server_name, 0) != CURLUE_OK)
		rc = azl_error_set(AZL_EINVALID,
				   "tls-server-name \"%s\" is not a valid host name; fix tls-server-name in your kubeconfig",
				   http->opts.tls_server_name);
	strbuf_release(&port);
	strbuf_release(&entry);
	return rc;
}

static int prepare_url(struct azl_http *http, struct xfer *x)
{
	CURLU *u = curl_url();
	int rc = 0;

	if (!u)
		abort();
	if (curl_url_set(u, CURLUPART_URL, x->req->url, 0) != CURLUE_OK) {
		struct strbuf shown = STRBUF_INIT;
		azl_redact_url(&shown, x->req->url);
		rc = azl_error_set(AZL_EINVALID, "invalid URL \"%s\"", shown.buf);
		strbuf_release(&shown);
		goto out;
	}
	url_origin(u, &x->origin);
	add_part(u, CURLUPART_HOST, &x->host);
	if (has_tls_name(http)) {
		rc = route_by_tls_name(http, x, u);
		if (rc)
			goto out;
		add_part(u, CURLUPART_URL, &x->url);
	} else {
		strbuf_addstr(&x->url, x->req->url);
	}
out:
	curl_url_cleanup(u);
	return rc;
}

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
	struct xfer *x = userdata;
	long status = 0;

	if (x->stream) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status <= 299) {
			x->stream_rc = x->stream->on_data(data, size * n, x->stream->ctx);
			/* a short count makes libcurl end the transfer */
			return x->stream_rc ? 0 : size * n;
		}
	}
	strbuf_add(&x->resp->body, data, size * n);
	return size * n;
}

/* libcurl calls this about once a second even while no data moves. */
static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = userdata;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (!x->stream_rc)
		x->stream_rc = x->stream->should_stop(x->stream->ctx);
	return x->stream_rc != 0;
}

/* Keeps only the last response's headers: a status line starts afresh
 * (after 100 Continue, a proxy's CONNECT reply, ...). */
static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * n;

	if (len >= 5 && !memcmp(data, "HTTP/", 5))
		strbuf_reset(&x->resp->headers);
	strbuf_add(&x->resp->headers, data, len);
	return len;
}

static void set_blob(CURL *e, CURLoption opt, const char *data, size_t len)
{
	struct curl_blob blob = { (void *)(uintptr_t)data, len, CURL_BLOB_COPY };

	curl_easy_setopt(e, opt, &blob);
}

/* libcurl has made the connection's SSL_CTX: it trusts the shared store
 * and presents the client certificate. */
static CURLcode prepare_ssl_ctx(CURL *e, void *ssl_ctx, void *data)
{
	const struct azl_http *http = data;

	(void)e;
	if (http->store)
		azl_castore_attach(ssl_ctx, http->store);
	if (http->client_cert && azl_client_cert_attach(http->client_cert, ssl_ctx))
		return CURLE_SSL_CERTPROBLEM;
	return CURLE_OK;
}

static void set_tls(const struct azl_http *http, CURL *e)
{
	const struct azl_http_options *o = &http->opts;

	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (o->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	/* an explicit CA replaces the system store, as in client-go */
	if (o->ca_pem && http->ca_pem.len) {
		set_blob(e, CURLOPT_CAINFO_BLOB, http->ca_pem.buf, http->ca_pem.len);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	} else if (http->store) {
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	} else if (http->store_file.len || http->store_dir.len) {
		curl_easy_setopt(e, CURLOPT_CAINFO, nonempty(&http->store_file));
		curl_easy_setopt(e, CURLOPT_CAPATH, nonempty(&http->store_dir));
	} else if (o->ca_file && *o->ca_file) {
		curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (http->client_cert) {
		/* prepare_ssl_ctx gives it to the connection */
	} else if (o->client_cert_pem && http->cert.len && http->key.len) {
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
		set_blob(e, CURLOPT_SSLCERT_BLOB, http->cert.buf, http->cert.len);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
		set_blob(e, CURLOPT_SSLKEY_BLOB, http->key.buf, http->key.len);
	}
	if (http->store || http->client_cert) {
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, prepare_ssl_ctx);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, (void *)http);
	}
}

static void set_method(CURL *e, const struct azl_http_request *req)
{
	const char *m = req->method ? req->method : "GET";

	if (!strcmp(m, "GET") && !req->body) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (!strcmp(m, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
		return;
	}
	if (req->body || !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->body_len : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	}
	if (strcmp(m, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
}

/* libcurl's own sockets are not close-on-exec: a credential plugin or the
 * Azure CLI that another thread starts meanwhile would inherit this
 * process's connections and hold them open. Go's, hence kubectl's, are
 * close-on-exec. */
static curl_socket_t open_socket(void *data, curlsocktype purpose, struct curl_sockaddr *addr)
{
	curl_socket_t fd;

	(void)data;
	(void)purpose;
#ifdef SOCK_CLOEXEC
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
#else
	fd = socket(addr->family, addr->socktype, addr->protocol);
	if (fd != CURL_SOCKET_BAD)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
	return fd;
}

static void set_transport(const struct azl_http *http, CURL *e)
{
	const struct azl_http_options *o = &http->opts;

	curl_easy_setopt(e, CURLOPT_SHARE, http->share);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (o->timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	if (o->connect_timeout_ms > 0)
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	if (o->no_proxy)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	else if (o->proxy_url && *o->proxy_url)
		curl_easy_setopt(e, CURLOPT_PROXY, o->proxy_url);
	if (o->user_agent)
		curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent);
	if (!o->disable_compression)
		curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* HTTP/2 where TLS negotiates it (ARM, Entra ID and API servers do),
	 * so concurrent requests share one connection; libcurl's default
	 * since 7.62, explicit for older ones */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
}

static void trace_body(const char *label, const char *body, size_t len)
{
	struct strbuf shown = STRBUF_INIT;
	size_t total;

	if (!len || !azl_log_enabled(8))
		return;
	azl_redact_body(&shown, body, len);
	total = shown.len;
	if (!azl_log_enabled(9) && total > TRACE_BODY_LIMIT) {
		strbuf_setlen(&shown, TRACE_BODY_LIMIT);
		strbuf_addf(&shown, " [truncated %zu chars]", total - TRACE_BODY_LIMIT);
	}
	azl_logf(8, "%s: %s", label, shown.buf);
	strbuf_release(&shown);
}

static void trace_request(const struct azl_http *http, const struct xfer *x)
{
	const char *const *h;
	struct strbuf line = STRBUF_INIT;

	if (!azl_log_enabled(7))
		return;
	azl_logf(7, "Request Headers:");
	for (h = x->req->headers; h && *h; h++) {
		strbuf_reset(&line);
		azl_redact_header(&line, *h);
		azl_logf(7, "    %s", line.buf);
	}
	if (http->opts.user_agent)
		azl_logf(7, "    User-Agent: %s", http->opts.user_agent);
	strbuf_release(&line);
	if (x->req->body)
		trace_body("Request Body", x->req->body, x->req->body_len);
}

/* Resets the response and configures x->easy for x->req. */
static int xfer_setup(struct azl_http *http, struct xfer *x,
		      const struct azl_http_request *req,
		      struct azl_http_response *resp)
{
	const char *const *h;
	CURL *e = x->easy;
	int rc;

	xfer_clear(x);
	x->req = req;
	x->resp = resp;
	resp->status = 0;
	strbuf_reset(&resp->headers);
	strbuf_reset(&resp->body);
	rc = prepare_url(http, x);
	if (rc)
		return rc;
	for (h = req->headers; h && *h; h++)
		x->headers = curl_slist_append(x->headers, *h);
	/* no 100-continue round trip for small JSON bodies */
	x->headers = curl_slist_append(x->headers, "Expect:");

	curl_easy_reset(e);
	set_transport(http, e);
	set_tls(http, e);
	set_method(e, req);
	curl_easy_setopt(e, CURLOPT_URL, x->url.buf);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, x->connect_to);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	trace_request(http, x);
	return 0;
}

static int tls_error(const struct azl_http *http, const struct xfer *x,
		     const char *what, const char *detail, const char *hint)
{
	const char *name = has_tls_name(http) ? http->opts.tls_server_name : x->host.buf;

	return azl_error_set(AZL_ENETWORK, "%s %s failed: %s%s%s", what, name,
			     detail, hint && *hint ? "; " : "", hint ? hint : "");
}

/* A certificate for another name is not cured by another CA. */
static int verify_error(const struct azl_http *http, const struct xfer *x,
			const char *detail)
{
	const char *hint = http->opts.tls_hint;

	if (strstr(detail, "host name") || strstr(detail, "subject name"))
		hint = has_tls_name(http) ? "check tls-server-name in your kubeconfig" : NULL;
	return tls_error(http, x, "TLS verification of", detail, hint);
}

/* One line naming the server and what libcurl reported. */
static int transport_error(const struct azl_http *http, const struct xfer *x,
			   CURLcode cc)
{
	const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
	const char *origin = x->origin.buf;
	long os_errno = 0;

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
		return azl_error_set(AZL_ENETWORK, "cannot connect to %s: %s", origin,
				     os_errno ? strerror((int)os_errno) : detail);
	case CURLE_COULDNT_RESOLVE_HOST:
		return azl_error_set(AZL_ENETWORK, "cannot connect to %s: unknown host (%s)",
				     origin, detail);
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_PROXY:
		return azl_error_set(AZL_ENETWORK, "cannot connect to %s through the proxy: %s",
				     origin, detail);
	case CURLE_OPERATION_TIMEDOUT:
		return azl_error_set(AZL_ETIMEOUT, "request to %s timed out: %s", origin, detail);
	case CURLE_PEER_FAILED_VERIFICATION:
		return verify_error(http, x, detail);
	case CURLE_SSL_CACERT_BADFILE:
		return tls_error(http, x, "loading the CA certificates for", detail,
				 http->opts.tls_hint);
	case CURLE_SSL_CERTPROBLEM:
		return tls_error(http, x, "using the client certificate with", detail,
				 "check the client certificate and key");
	case CURLE_SSL_CONNECT_ERROR:
		return tls_error(http, x, "TLS handshake with", detail, NULL);
	default:
		return azl_error_set(AZL_ENETWORK, "request to %s failed: %s", origin, detail);
	}
}

static const char *status_text(long status)
{
	static const struct { long code; const char *text; } texts[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 301, "Moved Permanently" }, { 302, "Found" },
		{ 304, "Not Modified" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 409, "Conflict" }, { 410, "Gone" }, { 412, "Precondition Failed" },
		{ 415, "Unsupported Media Type" }, { 422, "Unprocessable Entity" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].code == status)
			return texts[i].text;
	return "";
}

/* The start of the line after p's, or its terminating NUL. */
static const char *next_line(const char *p)
{
	p += strcspn(p, "\n");
	return *p ? p + 1 : p;
}

static void trace_response(const struct xfer *x, int rc)
{
	struct strbuf url = STRBUF_INIT, line = STRBUF_INIT;
	curl_off_t us = 0;
	const char *p;

	if (!azl_log_enabled(6))
		return;
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &us);
	azl_redact_url(&url, x->req->url);
	if (rc)
		azl_logf(6, "%s %s failed in %ld ms: %s", x->req->method, url.buf,
			 (long)(us / 1000), azl_error_message());
	else
		azl_logf(6, "%s %s %ld %s in %ld ms", x->req->method, url.buf,
			 x->resp->status, status_text(x->resp->status), (long)(us / 1000));
	strbuf_release(&url);
	if (!azl_log_enabled(8))
		return;
	azl_logf(8, "Response Headers:");
	for (p = x->resp->headers.buf; *p; p = next_line(p)) {
		if (!strncmp(p, "HTTP/", 5) || *p == '\r' || *p == '\n')
			continue;
		strbuf_reset(&line);
		azl_redact_header(&line, p);
		azl_logf(8, "    %s", line.buf);
	}
	strbuf_release(&line);
	trace_body("Response Body", x->resp->body.buf, x->resp->body.len);
}

/* Collects the outcome of a finished transfer. */
static int xfer_finish(struct azl_http *http, struct xfer *x, CURLcode cc)
{
	int rc = 0;

	http->requests++;
	if (cc != CURLE_OK) {
		rc = transport_error(http, x, cc);
	} else {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp->status);
		curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &http->http_version);
	}
	trace_response(x, rc);
	return rc;
}

/* The state of one azl_http_do_many() call. */
struct batch {
	struct azl_http *http;
	const struct azl_http_request *reqs;
	struct azl_http_response *resps;
	int *results;
	struct strbuf *errors;     /* or NULL */
	size_t n, next;
	size_t last_failed;        /* n while none has */
	int max_parallel;
	struct xfer *xs;
	size_t slots, busy;        /* xs[], and those with a transfer */
	int done;                  /* under the pump's lock when pumped */
	struct batch *queued;      /* the pump's queue */
	struct detached *owner;    /* a batch nobody waits for, or NULL */
};

/* A request nobody waits for (azl_http_preconnect()): the pump starts it,
 * drops its answer and frees it, or abandons it when it stops. */
struct detached {
	struct batch batch;
	struct azl_http_request req;
	struct azl_http_response resp;
	int result;
	char *url;
	struct detached *next;     /* the pump's unwaited list */
};

static void record(struct batch *b, size_t i, int rc)
{
	b->results[i] = rc;
	if (rc)
		b->last_failed = i;
	if (!b->errors)
		return;
	strbuf_reset(&b->errors[i]);
	if (rc)
		strbuf_addstr(&b->errors[i], azl_error_message());
}

/* Starts the next request that can start on slot x; a request that
 * cannot (bad URL) is finished on the spot. Returns 0 when none is left. */
static int start_next(struct batch *b, struct xfer *x)
{
	while (b->next < b->n) {
		size_t i = b->next++;

		int rc = xfer_setup(b->http, x, &b->reqs[i], &b->resps[i]);

		record(b, i, rc);
		if (rc)
			continue;
		/* wait for a connection that can multiplex instead of opening more */
		curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT, 1L);
		curl_multi_add_handle(b->http->multi, x->easy);
		return 1;
	}
	return 0;
}

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->slots; i++) {
		curl_easy_cleanup(b->xs[i].easy);
		xfer_release(&b->xs[i]);
	}
	free(b->xs);
	b->xs = NULL;
}

static void detached_free(struct detached *d)
{
	azl_http_response_release(&d->resp);
	free(d->url);
	free(d);
}

/* Takes d off the pump's unwaited list, abandoning its transfer. */
static void detached_end(struct pump *p, struct detached *d)
{
	struct detached **link = &p->unwaited;

	while (*link && *link != d)
		link = &(*link)->next;
	if (*link)
		*link = d->next;
	for (size_t i = 0; i < d->batch.slots; i++)
		curl_multi_remove_handle(d->batch.http->multi, d->batch.xs[i].easy);
	batch_release(&d->batch);
	detached_free(d);
}

/* Releases a batch whose transfers are all over and tells its caller. */
static void batch_end(struct batch *b)
{
	struct pump *p = b->http->pump;

	if (b->owner) {
		detached_end(p, b->owner);
		return;
	}
	batch_release(b);
	if (!p) {
		b->done = 1;
		return;
	}
	pthread_mutex_lock(&p->lock);
	b->done = 1;
	pthread_cond_broadcast(&p->finished);
	pthread_mutex_unlock(&p->lock);
}

static void batch_start(struct batch *b)
{
	struct azl_http *http = b->http;
	size_t slots = b->max_parallel > 0 ? (size_t)b->max_parallel : 1, keep = slots;

	/* max_parallel bounds connections; over HTTP/2 the requests are
	 * streams of one connection (PIPEWAIT), so all can go at once */
	if (http->http_version >= CURL_HTTP_VERSION_2_0 && slots < MAX_STREAMS)
		slots = MAX_STREAMS;
	if (slots > b->n)
		slots = b->n;
	/* the shared cache keeps what a wave opened: libcurl's default (4 per
	 * handle in the multi) let a single GET close all but 4 of them */
	if (!http->pump)
		curl_multi_setopt(http->multi, CURLMOPT_MAXCONNECTS,
				  (long)(slots > keep ? slots : keep));
	b->slots = slots;
	b->xs = xcalloc(slots, sizeof(*b->xs));
	for (size_t i = 0; i < slots; i++) {
		xfer_init(&b->xs[i], curl_easy_init());
		if (!b->xs[i].easy)
			abort();
		b->xs[i].batch = b;
		b->busy += (size_t)start_next(b, &b->xs[i]);
	}
	if (!b->busy)
		batch_end(b);
}

/* Finishes every completed transfer and reuses its slot for the next
 * request of its batch; ends the batches that have none left. */
static void reap(struct azl_http *http)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(http->multi, &left))) {
		struct xfer *x;
		struct batch *b;
		char *priv = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)(void *)priv;
		b = x->batch;
		curl_multi_remove_handle(http->multi, x->easy);
		record(b, (size_t)(x->req - b->reqs), xfer_finish(http, x, msg->data.result));
		if (!start_next(b, x) && !--b->busy)
			batch_end(b);
	}
}

static void drive(struct azl_http *http)
{
	int running;

	curl_multi_perform(http->multi, &running);
	reap(http);
}

/* Takes the submitted batches: NULL-terminated through ->queued. */
static struct batch *pump_take(struct pump *p)
{
	struct batch *b;

	pthread_mutex_lock(&p->lock);
	b = p->queue;
	p->queue = NULL;
	p->tail = &p->queue;
	pthread_mutex_unlock(&p->lock);
	return b;
}

static int pump_stopping(struct pump *p)
{
	int stop;

	pthread_mutex_lock(&p->lock);
	stop = p->stop;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

static void pump_start(struct pump *p, struct batch *b)
{
	if (b->owner) {
		b->owner->next = p->unwaited;
		p->unwaited = b->owner;
	}
	batch_start(b);
}

/* Batches left when the pump stops are unwaited ones: the others' callers
 * have all had their answers (pump_free()). */
static void pump_abandon(struct pump *p)
{
	struct batch *b = pump_take(p), *next;

	for (; b; b = next) {
		next = b->queued;
		if (b->owner)
			detached_free(b->owner);
	}
	while (p->unwaited)
		detached_end(p, p->unwaited);
}

static void *pump_main(void *arg)
{
	struct azl_http *http = arg;

	while (!pump_stopping(http->pump)) {
		struct batch *b = pump_take(http->pump), *next;

		for (; b; b = next) {
			next = b->queued;
			pump_start(http->pump, b);
		}
		drive(http);
		/* curl_multi_wakeup() ends the wait when work is submitted */
		curl_multi_poll(http->multi, NULL, 0, 1000, NULL);
	}
	pump_abandon(http->pump);
	return NULL;
}

static int pump_new(struct azl_http *http)
{
	struct pump *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->finished, NULL);
	p->tail = &p->queue;
	http->pump = p;
	if (!pthread_create(&p->thread, NULL, pump_main, http))
		return 0;
	http->pump = NULL;
	pthread_cond_destroy(&p->finished);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return azl_error_set(AZL_ERROR, "cannot start the HTTP thread (out of resources?)");
}

/* Called once no batch is in flight: every caller has had its answers. */
static void pump_free(struct azl_http *http)
{
	struct pump *p = http->pump;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_mutex_unlock(&p->lock);
	curl_multi_wakeup(http->multi);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->finished);
	pthread_mutex_destroy(&p->lock);
	free(p);
	http->pump = NULL;
}

static void pump_submit(struct pump *p, CURLM *multi, struct batch *b)
{
	pthread_mutex_lock(&p->lock);
	*p->tail = b;
	p->tail = &b->queued;
	pthread_mutex_unlock(&p->lock);
	curl_multi_wakeup(multi);
}

/* Hands b to the pump and waits until all its transfers are over. */
static void pump_run(struct pump *p, CURLM *multi, struct batch *b)
{
	pump_submit(p, multi, b);
	pthread_mutex_lock(&p->lock);
	while (!b->done)
		pthread_cond_wait(&p->finished, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

/* The pump's thread set the messages of failed requests: the caller's
 * thread gets the last one, as it would have without the pump. */
static void pumped_run(struct batch *b)
{
	struct strbuf *own = NULL;

	if (!b->errors) {
		own = xcalloc(b->n, sizeof(*own));
		for (size_t i = 0; i < b->n; i++)
			strbuf_init(&own[i], 0);
		b->errors = own;
	}
	pump_run(b->http->pump, b->http->multi, b);
	if (b->last_failed < b->n)
		azl_error_set(b->results[b->last_failed], "%s", b->errors[b->last_failed].buf);
	if (!own)
		return;
	for (size_t i = 0; i < b->n; i++)
		strbuf_release(&own[i]);
	free(own);
	b->errors = NULL;
}

int azl_http_do_many(struct azl_http *http, const struct azl_http_request *reqs,
		     struct azl_http_response *resps, int *results,
		     struct strbuf *errors, size_t n, int max_parallel)
{
	struct batch b = { .http = http, .reqs = reqs, .resps = resps, .results = results,
			   .errors = errors, .n = n, .last_failed = n,
			   .max_parallel = max_parallel };

	if (!n)
		return 0;
	if (http->pump) {
		pumped_run(&b);
		return 0;
	}
	batch_start(&b);
	while (!b.done) {
		drive(http);
		if (!b.done)
			curl_multi_poll(http->multi, NULL, 0, 1000, NULL);
	}
	return 0;
}

void azl_http_preconnect(struct azl_http *http, const char *url)
{
	struct detached *d;

	if (!http->pump)
		return;
	d = xcalloc(1, sizeof(*d));
	d->url = xstrdup(url);
	d->req.method = "HEAD";
	d->req.url = d->url;
	strbuf_init(&d->resp.headers, 0);
	strbuf_init(&d->resp.body, 0);
	d->batch = (struct batch){ .http = http, .reqs = &d->req, .resps = &d->resp,
				   .results = &d->result, .n = 1, .last_failed = 1,
				   .max_parallel = 1, .owner = d };
	pump_submit(http->pump, http->multi, &d->batch);
}

int azl_http_do(struct azl_http *http, const struct azl_http_request *req,
		struct azl_http_response *resp)
{
	struct xfer x;
	int rc;

	if (http->pump) {
		azl_http_do_many(http, req, resp, &rc, NULL, 1, 1);
		return rc;
	}
	xfer_init(&x, http->easy);
	rc = xfer_setup(http, &x, req, resp);
	if (!rc)
		rc = xfer_finish(http, &x, curl_easy_perform(x.easy));
	xfer_release(&x);
	return rc;
}

int azl_http_do_stream(struct azl_http *http, const struct azl_http_request *req,
		       struct azl_http_response *resp, const struct azl_http_stream *s)
{
	struct xfer x;
	CURLcode cc;
	int rc;

	if (http->pump)
		return azl_error_set(AZL_EINVALID, "%s %s: a concurrent HTTP client cannot stream",
				     req->method, req->url);
	xfer_init(&x, http->easy);
	rc = xfer_setup(http, &x, req, resp);
	if (rc)
		goto out;
	x.stream = s;
	if (s->should_stop) {
		curl_easy_setopt(x.easy, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(x.easy, CURLOPT_XFERINFODATA, &x);
		curl_easy_setopt(x.easy, CURLOPT_NOPROGRESS, 0L);
	}
	cc = curl_easy_perform(x.easy);
	if (x.stream_rc) {
		/* the caller's own stop, not a transport failure */
		http->requests++;
		curl_easy_getinfo(x.easy, CURLINFO_RESPONSE_CODE, &resp->status);
		trace_response(&x, 0);
		rc = x.stream_rc;
	} else {
		rc = xfer_finish(http, &x, cc);
	}
out:
	xfer_release(&x);
	return rc;
}

int azl_http_response_header(const struct azl_http_response *resp,
			     const char *name, struct strbuf *out)
{
	size_t nlen = strlen(name);
	const char *p;

	for (p = resp->headers.buf; *p; p = next_line(p)) {
		const char *v, *end;

		if (strncasecmp(p, name, nlen) || p[nlen] != ':')
			continue;
		v = p + nlen + 1;
		end = v + strcspn(v, "\r\n");
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		strbuf_reset(out);
		strbuf_add(out, v, (size_t)(end - v));
		return 1;
	}
	return 0;
}

void azl_http_response_release(struct azl_http_response *resp)
{
	if (!resp)
		return;
	strbuf_release(&resp->headers);
	strbuf_release(&resp->body);
	resp->status = 0;
}
