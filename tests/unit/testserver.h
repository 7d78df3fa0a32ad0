/* An in-process HTTP/1.1 server for the unit tests, plain or over TLS (a
 * self-signed certificate for 127.0.0.1 made at start, its PEM written to a
 * CA file the client trusts). Each connection has a thread; each request
 * goes to the test's handler, which fills in the answer. Requests are
 * logged (method, target, headers) for assertions.
 *
 * Use: ts_start(&srv, 1, handler, data); ... ts_url(&srv, "/x", &sb);
 * srv.ca_file; ts_stop(&srv). */
#ifndef AZL_TESTSERVER_H
#define AZL_TESTSERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "strbuf.h"
#include "testutil.h"

struct ts_request {
	char method[16];
	char target[2048];
	struct strbuf headers;       /* the raw header block */
	struct strbuf body;
};

struct ts_response {
	int status;
	struct strbuf headers;       /* extra "Name: value\r\n" lines */
	struct strbuf body;
	int drop;                    /* close the connection without answering */
};

typedef void (*ts_handler)(void *data, const struct ts_request *req, struct ts_response *resp);

#define TS_LOG_MAX 256

struct ts_server {
	int fd;
	int port;
	int tls;
	SSL_CTX *ctx;
	char *dir;
	char *ca_file;
	ts_handler handler;
	void *data;
	pthread_t acceptor;
	pthread_mutex_t lock;        /* the log and the handler's calls */
	size_t nr_log;
	struct ts_request log[TS_LOG_MAX];
};

/* The value of header name in req (case-insensitive) into out: 1, or 0. */
static inline int ts_header(const struct ts_request *req, const char *name, struct strbuf *out)
{
	size_t n = strlen(name);

	strbuf_reset(out);
	for (const char *p = req->headers.buf; p && *p; p = strstr(p, "\r\n")) {
		if (p[0] == '\r')
			p += 2;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			strbuf_add(out, v, strcspn(v, "\r"));
			return 1;
		}
	}
	return 0;
}

static inline void ts_make_cert(struct ts_server *s)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	FILE *f;

	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1",
				   -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	if (!X509_sign(x, key, EVP_sha256()))
		abort();
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (SSL_CTX_use_certificate(s->ctx, x) != 1 || SSL_CTX_use_PrivateKey(s->ctx, key) != 1)
		abort();
	s->ca_file = tu_path(s->dir, "ca.pem");
	f = fopen(s->ca_file, "w");
	if (!f || !PEM_write_X509(f, x))
		abort();
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

struct ts_conn {
	struct ts_server *s;
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t have, off;
};

static inline ssize_t ts_read_raw(struct ts_conn *c, char *buf, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, buf, (int)n);
		return r > 0 ? r : -1;
	}
	return read(c->fd, buf, n);
}

static inline int ts_write(struct ts_conn *c, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, buf, (int)n) : write(c->fd, buf, n);

		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One request into req: 1, or 0 at EOF. */
static inline int ts_read_request(struct ts_conn *c, struct strbuf *raw, size_t *at, size_t *len)
{
	char *end, *cl;

	strbuf_reset(raw);
	for (;;) {
		ssize_t n;

		if (raw->len && (end = strstr(raw->buf, "\r\n\r\n")))
			break;
		n = ts_read_raw(c, c->buf, sizeof(c->buf));
		if (n <= 0)
			return 0;
		strbuf_add(raw, c->buf, (size_t)n);
	}
	*at = (size_t)(end - raw->buf) + 4;
	cl = strstr(raw->buf, "\r\nContent-Length:");
	*len = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
	while (raw->len < *at + *len) {
		ssize_t n = ts_read_raw(c, c->buf, sizeof(c->buf));

		if (n <= 0)
			return 0;
		strbuf_add(raw, c->buf, (size_t)n);
	}
	return 1;
}

static inline void ts_answer(struct ts_conn *c, const struct strbuf *raw, size_t at, size_t len,
			     int *drop)
{
	struct ts_server *s = c->s;
	struct ts_request req;
	struct ts_response resp = { 200, STRBUF_INIT, STRBUF_INIT, 0 };
	struct strbuf out = STRBUF_INIT;
	const char *eol = strstr(raw->buf, "\r\n");

	memset(req.method, 0, sizeof(req.method));
	memset(req.target, 0, sizeof(req.target));
	sscanf(raw->buf, "%15s %2047s", req.method, req.target);
	strbuf_init(&req.headers, 0);
	strbuf_init(&req.body, 0);
	strbuf_add(&req.headers, eol + 2, at - (size_t)(eol + 2 - raw->buf));
	strbuf_add(&req.body, raw->buf + at, len);
	pthread_mutex_lock(&s->lock);
	s->handler(s->data, &req, &resp);
	if (s->nr_log < TS_LOG_MAX)
		s->log[s->nr_log++] = req;
	else {
		strbuf_release(&req.headers);
		strbuf_release(&req.body);
	}
	pthread_mutex_unlock(&s->lock);
	*drop = resp.drop;
	if (!resp.drop) {
		strbuf_addf(&out, "HTTP/1.1 %d X\r\n%sContent-Length: %zu\r\n\r\n", resp.status,
			    resp.headers.buf, resp.body.len);
		strbuf_addbuf(&out, &resp.body);
		ts_write(c, out.buf, out.len);
	}
	strbuf_release(&out);
	strbuf_release(&resp.headers);
	strbuf_release(&resp.body);
}

static inline void *ts_serve(void *arg)
{
	struct ts_conn *c = arg;
	struct strbuf raw = STRBUF_INIT;
	size_t at, len;
	int drop = 0;

	if (c->s->tls) {
		c->ssl = SSL_new(c->s->ctx);
		SSL_set_fd(c->ssl, c->fd);
		if (SSL_accept(c->ssl) != 1)
			drop = 1;
	}
	while (!drop && ts_read_request(c, &raw, &at, &len))
		ts_answer(c, &raw, at, len, &drop);
	if (c->ssl && !drop)
		SSL_shutdown(c->ssl);
	SSL_free(c->ssl);
	close(c->fd);
	strbuf_release(&raw);
	free(c);
	return NULL;
}

static inline void *ts_accept(void *arg)
{
	struct ts_server *s = arg;

	for (;;) {
		pthread_t t;
		int fd = accept(s->fd, NULL, NULL);
		struct ts_conn *c;

		if (fd < 0)
			return NULL;
		c = calloc(1, sizeof(*c));
		c->s = s;
		c->fd = fd;
		if (!pthread_create(&t, NULL, ts_serve, c))
			pthread_detach(t);
	}
}

static inline void ts_start(struct ts_server *s, int tls, ts_handler handler, void *data)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	memset(s, 0, sizeof(*s));
	s->tls = tls;
	s->handler = handler;
	s->data = data;
	s->dir = tu_mkdtemp();
	pthread_mutex_init(&s->lock, NULL);
	if (tls)
		ts_make_cert(s);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(s->fd, 64) ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &sl))
		abort();
	s->port = ntohs(sa.sin_port);
	if (pthread_create(&s->acceptor, NULL, ts_accept, s))
		abort();
}

/* "http(s)://127.0.0.1:PORT" + path */
static inline void ts_url(const struct ts_server *s, const char *path, struct strbuf *sb)
{
	strbuf_addf(sb, "%s://127.0.0.1:%d%s", s->tls ? "https" : "http", s->port, path);
}

/* Forgets the logged requests. */
static inline void ts_clear_log(struct ts_server *s)
{
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nr_log; i++) {
		strbuf_release(&s->log[i].headers);
		strbuf_release(&s->log[i].body);
	}
	s->nr_log = 0;
	pthread_mutex_unlock(&s->lock);
}

/* Stops accepting; connections still open end with their clients. */
static inline void ts_stop(struct ts_server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->acceptor, NULL);
	ts_clear_log(s);
	SSL_CTX_free(s->ctx);
	tu_rmrf(s->dir);
	free(s->dir);
	free(s->ca_file);
}

/* A scripted handler: the first step whose method and target prefix match
 * (and that has times left; -1 is forever) answers; else 404. status 0
 * with drop set closes the connection unanswered. Steps are read under
 * the server's lock; set them between requests. */
struct ts_step {
	const char *method;          /* NULL: any */
	const char *prefix;          /* of the target */
	int status;
	const char *headers;         /* "Name: v\r\n..." or NULL */
	const char *body;            /* or NULL */
	int times;
	int drop;
};

#define TS_MAX_STEPS 32

struct ts_script {
	struct ts_step steps[TS_MAX_STEPS];
	size_t n;
};

static inline void ts_script_add(struct ts_script *sc, struct ts_step step)
{
	if (sc->n == TS_MAX_STEPS)
		abort();
	sc->steps[sc->n++] = step;
}

static inline void ts_script_handler(void *data, const struct ts_request *req,
				     struct ts_response *resp)
{
	struct ts_script *sc = data;

	for (size_t i = 0; i < sc->n; i++) {
		struct ts_step *st = &sc->steps[i];

		if (!st->times || (st->method && strcmp(st->method, req->method)) ||
		    strncmp(req->target, st->prefix, strlen(st->prefix)))
			continue;
		if (st->times > 0)
			st->times--;
		resp->status = st->status;
		resp->drop = st->drop;
		if (st->headers)
			strbuf_addstr(&resp->headers, st->headers);
		if (st->body)
			strbuf_addstr(&resp->body, st->body);
		return;
	}
	resp->status = 404;
	strbuf_addstr(&resp->body, "{\"error\":{\"code\":\"NotFound\",\"message\":\"no step\"}}");
}

/* How many logged requests match method (NULL: any) and prefix. */
static inline size_t ts_count(struct ts_server *s, const char *method, const char *prefix)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nr_log; i++)
		if ((!method || !strcmp(method, s->log[i].method)) &&
		    !strncmp(s->log[i].target, prefix, strlen(prefix)))
			n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

#endif
