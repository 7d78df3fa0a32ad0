/* A tiny in-process HTTP/1.1 server on 127.0.0.1 for the Kubernetes
 * client's tests, and a client for it from a real kubeconfig with a bearer
 * token. A handler gets each request of a connection and writes its answer
 * to fd itself (a whole response, a chunked stream, or nothing and a
 * return of 0 to drop the connection). */
#ifndef AZL_KUBESERVER_H
#define AZL_KUBESERVER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "azlinux.h"
#include "kube.h"
#include "kubeconfig.h"
#include "testutil.h"

struct ks_request {
	char method[16];
	char target[1024];
	const char *head;            /* request line and headers */
	const char *body;
};

/* Returns 1 to keep the connection for the next request, 0 to close it. */
typedef int (*ks_handler)(int fd, const struct ks_request *req);

struct ks_conn {
	int fd;
	ks_handler fn;
};

static inline void *ks_serve_conn(void *arg)
{
	struct ks_conn *c = arg;
	struct strbuf req = STRBUF_INIT, head = STRBUF_INIT, body = STRBUF_INIT;
	size_t at, len;

	while (tu_read_request(c->fd, &req, &at, &len)) {
		struct ks_request r;

		memset(&r, 0, sizeof(r));
		sscanf(req.buf, "%15s %1023s", r.method, r.target);
		strbuf_reset(&head);
		strbuf_add(&head, req.buf, at);
		strbuf_reset(&body);
		strbuf_add(&body, req.buf + at, len);
		r.head = head.buf;
		r.body = body.buf;
		if (!c->fn(c->fd, &r))
			break;
	}
	close(c->fd);
	strbuf_release(&req);
	strbuf_release(&head);
	strbuf_release(&body);
	free(c);
	return NULL;
}

struct ks_listener {
	int fd;
	ks_handler fn;
};

static inline void *ks_accept_loop(void *arg)
{
	struct ks_listener *l = arg;

	for (;;) {
		pthread_t t;
		struct ks_conn *c;
		int fd = accept(l->fd, NULL, NULL);

		if (fd < 0)
			return NULL;
		c = malloc(sizeof(*c));
		c->fd = fd;
		c->fn = l->fn;
		if (!pthread_create(&t, NULL, ks_serve_conn, c))
			pthread_detach(t);
	}
}

/* Starts serving with fn; the port, or -1. */
static inline int ks_start(ks_handler fn)
{
	static struct ks_listener l;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	pthread_t t;

	l.fd = socket(AF_INET, SOCK_STREAM, 0);
	l.fn = fn;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l.fd < 0 || bind(l.fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(l.fd, 16) ||
	    getsockname(l.fd, (struct sockaddr *)&sa, &sl))
		return -1;
	azl_global_init();
	if (pthread_create(&t, NULL, ks_accept_loop, &l))
		return -1;
	return ntohs(sa.sin_port);
}

/* A whole JSON answer. */
static inline void ks_reply(int fd, int status, const char *extra_headers, const char *body)
{
	dprintf(fd, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s"
		"Content-Length: %zu\r\n\r\n%s", status, extra_headers ? extra_headers : "",
		strlen(body), body);
}

/* A metav1.Status body; causes is the JSON of details.causes or NULL. */
static inline const char *ks_status(struct strbuf *sb, int code, const char *reason,
				    const char *message, const char *causes)
{
	strbuf_reset(sb);
	strbuf_addf(sb, "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
		    "\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d", message, reason, code);
	if (causes)
		strbuf_addf(sb, ",\"details\":{\"causes\":%s}", causes);
	strbuf_addch(sb, '}');
	return sb->buf;
}

/* Starts a chunked stream and sends one chunk. */
static inline void ks_stream_start(int fd)
{
	dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\n");
}

static inline void ks_chunk(int fd, const char *data)
{
	dprintf(fd, "%zx\r\n%s\r\n", strlen(data), data);
}

static inline void ks_stream_end(int fd)
{
	dprintf(fd, "0\r\n\r\n");
}

struct ks_client {
	char *dir;
	struct azl_kubeconfig *kc;
	struct azl_rest_config *cfg;
	struct azl_kube *kube;
};

static inline void ks_open(struct ks_client *c, int port)
{
	struct azl_kube_overrides ov = { 0 };
	struct strbuf text = STRBUF_INIT;
	char *path;

	c->dir = tu_mkdtemp();
	strbuf_addf(&text, "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
		    "clusters:\n- name: t\n  cluster:\n    server: http://127.0.0.1:%d\n"
		    "users:\n- name: t\n  user:\n    token: tok-123\n"
		    "contexts:\n- name: t\n  context: {cluster: t, user: t}\n", port);
	path = tu_write(c->dir, "config", text.buf, 0600);
	if (azl_kubeconfig_load(&c->kc, path) || azl_kubeconfig_resolve(c->kc, &ov, &c->cfg) ||
	    azl_kube_new(&c->kube, c->cfg))
		abort();
	strbuf_release(&text);
	free(path);
}

static inline void ks_close(struct ks_client *c)
{
	azl_kube_free(c->kube);
	azl_rest_config_free(c->cfg);
	azl_kubeconfig_free(c->kc);
	tu_rmrf(c->dir);
	free(c->dir);
}

#endif
