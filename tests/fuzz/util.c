/* Helpers shared by the fuzz targets (fuzz.h), and the HTTP double. */
#define _GNU_SOURCE  /* memmem */
#include "fuzz.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arm.h"
#include "error.h"
#include "http.h"
#include "kube.h"
#include "kubeconfig.h"
#include "wrapper.h"

void fuzz_str(struct strbuf *sb, const uint8_t *data, size_t size)
{
	strbuf_reset(sb);
	strbuf_add(sb, data, size);
}

const char *fuzz_home(void)
{
	static char dir[] = "/tmp/azl-fuzz-XXXXXX";
	static int made;
	struct strbuf sb = STRBUF_INIT;

	if (made)
		return dir;
	if (!mkdtemp(dir))
		abort();
	made = 1;
	setenv("HOME", dir, 1);
	strbuf_addf(&sb, "%s/.cache", dir);
	setenv("XDG_CACHE_HOME", sb.buf, 1);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "%s/.config", dir);
	setenv("XDG_CONFIG_HOME", sb.buf, 1);
	strbuf_release(&sb);
	unsetenv("KUBECONFIG");
	unsetenv("AZURE_CONFIG_DIR");
	return dir;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write_in_full(fd, data, size) < 0)
		abort();
	close(fd);
}

int fuzz_response(struct azl_http_response *resp, const uint8_t *data, size_t size,
		  const long *statuses, size_t n)
{
	if (!size)
		return -1;
	resp->status = statuses[data[0] % n];
	fuzz_str(&resp->body, data + 1, size - 1);
	return 0;
}

static int arm_token(void *data, int force, struct strbuf *out)
{
	(void)data;
	(void)force;
	strbuf_reset(out);
	strbuf_addstr(out, "fuzz-token");
	return 0;
}

void fuzz_arm_new(struct azl_arm **out)
{
	struct azl_arm_options o = { 0 };

	o.token = arm_token;
	o.endpoint = "https://management.azure.com/";
	o.max_retries = 2;
	o.retry_base_ms = 1;
	o.retry_budget_ms = 3;
	if (azl_arm_new(out, &o) < 0)
		abort();
}

static const char kubeconfig[] =
	"apiVersion: v1\nkind: Config\ncurrent-context: c\n"
	"clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n"
	"    insecure-skip-tls-verify: true\n"
	"users:\n- name: u\n  user:\n    token: fuzz-token\n"
	"contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n";

void fuzz_kube_new(struct azl_kube **out)
{
	static struct azl_rest_config *cfg;
	struct azl_kubeconfig *kc = NULL;
	struct azl_kube_overrides ov = { 0 };
	struct strbuf path = STRBUF_INIT;

	if (!cfg) {
		strbuf_addf(&path, "%s/kube-target-config", fuzz_home());
		fuzz_write_file(path.buf, (const uint8_t *)kubeconfig, sizeof(kubeconfig) - 1);
		if (azl_kubeconfig_load(&kc, path.buf) < 0 || azl_kubeconfig_resolve(kc, &ov, &cfg) < 0)
			abort();
		azl_kubeconfig_free(kc);
		strbuf_release(&path);
	}
	if (azl_kube_new(out, cfg) < 0)
		abort();
}

/* ---- the HTTP double ---- */

struct azl_http {
	int unused;
};

static struct {
	const char *p, *end;
	size_t requests;
} script;

void fuzz_http_script(const uint8_t *data, size_t size)
{
	script.p = (const char *)data;
	script.end = script.p + size;
	script.requests = 0;
}

size_t fuzz_http_requests(void)
{
	return script.requests;
}

/* The next part of the script, or 0 when it is used up. */
static int next_part(const char **start, size_t *len)
{
	const char *sep;

	if (!script.p)
		return 0;
	*start = script.p;
	sep = memmem(script.p, (size_t)(script.end - script.p), "\n%%\n", 4);
	if (sep) {
		*len = (size_t)(sep - script.p);
		script.p = sep + 4;
	} else {
		*len = (size_t)(script.end - script.p);
		script.p = NULL;
	}
	return 1;
}

static int answer(const struct azl_http_request *req, struct azl_http_response *resp)
{
	const char *part, *body, *eol;
	size_t len;
	long status = 0;

	strbuf_reset(&resp->headers);
	strbuf_reset(&resp->body);
	resp->status = 0;
	script.requests++;
	if (!next_part(&part, &len) || (len == 6 && !memcmp(part, "NETERR", 6)))
		return azl_error_set(AZL_ENETWORK, "fuzz: no answer to %s %s", req->method, req->url);
	body = part;
	if (len > 5 && !memcmp(part, "HTTP ", 5)) {
		const char *end = part + len, *p = part + 5;
		const char *sep = memmem(part, len, "\n\n", 2);
		const char *hend = sep ? sep : end;

		while (p < end && *p >= '0' && *p <= '9' && status < 1000)
			status = status * 10 + (*p++ - '0');
		strbuf_addf(&resp->headers, "HTTP/1.1 %ld Fuzz\r\n", status);
		eol = memchr(part, '\n', (size_t)(hend - part));
		for (p = eol ? eol + 1 : hend; p < hend; p = eol + 1) {
			eol = memchr(p, '\n', (size_t)(hend - p));
			if (!eol)
				eol = hend;
			strbuf_add(&resp->headers, p, (size_t)(eol - p));
			strbuf_addstr(&resp->headers, "\r\n");
		}
		strbuf_addstr(&resp->headers, "\r\n");
		body = sep ? sep + 2 : end;
	} else {
		status = 200;
		strbuf_addstr(&resp->headers, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n");
	}
	resp->status = status;
	strbuf_add(&resp->body, body, (size_t)(part + len - body));
	return 0;
}

int __wrap_azl_http_new(struct azl_http **out, const struct azl_http_options *opts);
void __wrap_azl_http_free(struct azl_http *http);
int __wrap_azl_http_do(struct azl_http *http, const struct azl_http_request *req,
		       struct azl_http_response *resp);
int __wrap_azl_http_do_many(struct azl_http *http, const struct azl_http_request *reqs,
			    struct azl_http_response *resps, int *results,
			    struct strbuf *errors, size_t n, int max_parallel);
int __wrap_azl_http_do_stream(struct azl_http *http, const struct azl_http_request *req,
			      struct azl_http_response *resp, const struct azl_http_stream *s);
void __wrap_azl_http_preconnect(struct azl_http *http, const char *url);
unsigned long __wrap_azl_http_request_count(const struct azl_http *http);

int __wrap_azl_http_new(struct azl_http **out, const struct azl_http_options *opts)
{
	(void)opts;
	*out = xcalloc(1, sizeof(**out));
	return 0;
}

void __wrap_azl_http_free(struct azl_http *http)
{
	free(http);
}

int __wrap_azl_http_do(struct azl_http *http, const struct azl_http_request *req,
		       struct azl_http_response *resp)
{
	(void)http;
	return answer(req, resp);
}

int __wrap_azl_http_do_many(struct azl_http *http, const struct azl_http_request *reqs,
			    struct azl_http_response *resps, int *results,
			    struct strbuf *errors, size_t n, int max_parallel)
{
	(void)http;
	(void)max_parallel;
	for (size_t i = 0; i < n; i++) {
		results[i] = answer(&reqs[i], &resps[i]);
		if (errors) {
			strbuf_reset(&errors[i]);
			if (results[i] < 0)
				strbuf_addstr(&errors[i], azl_error_message());
		}
	}
	return 0;
}

/* A watch's stream: the scripted part's body handed to on_data in two
 * pieces (so that a line may be split across them), then the end. */
int __wrap_azl_http_do_stream(struct azl_http *http, const struct azl_http_request *req,
			      struct azl_http_response *resp, const struct azl_http_stream *s)
{
	int rc = __wrap_azl_http_do(http, req, resp);
	size_t half;

	if (rc || resp->status < 200 || resp->status > 299)
		return rc;
	if (s->should_stop && (rc = s->should_stop(s->ctx)))
		return rc;
	half = resp->body.len / 2;
	if (half)
		rc = s->on_data(resp->body.buf, half, s->ctx);
	if (!rc && resp->body.len > half)
		rc = s->on_data(resp->body.buf + half, resp->body.len - half, s->ctx);
	strbuf_reset(&resp->body);
	return rc;
}

void __wrap_azl_http_preconnect(struct azl_http *http, const char *url)
{
	(void)http;
	(void)url;
}

unsigned long __wrap_azl_http_request_count(const struct azl_http *http)
{
	(void)http;
	return (unsigned long)script.requests;
}

/* kube.c honours a Retry-After of up to 10 s with sleep(): the double's
 * answers come at once, so the wait is skipped. */
unsigned int __wrap_sleep(unsigned int seconds);

unsigned int __wrap_sleep(unsigned int seconds)
{
	(void)seconds;
	return 0;
}
