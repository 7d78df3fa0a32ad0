#include "common.h"

#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "print.h"
#include "strbuf.h"

void cli_log_to_stderr(int level, const char *message, void *data)
{
	struct strbuf line = STRBUF_INIT;
	struct timeval tv;
	struct tm tm;

	(void)level;
	(void)data;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	/* klog's header: Lmmdd hh:mm:ss.uuuuuu threadid file] */
	strbuf_addf(&line, "I%02d%02d %02d:%02d:%02d.%06ld %7ld azlinux] %s\n",
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (long)tv.tv_usec, (long)getpid(), message);
	/* One write per line, so concurrent workers never interleave. */
	fwrite(line.buf, 1, line.len, stderr);
	strbuf_release(&line);
}

int cli_cmd_parse(int argc, const char **argv, const struct cli_cmd_ctx *ctx,
		  void *values, const struct cli_global_flags *g)
{
	int n = cli_parse_options(argc, argv, ctx->prog, ctx->cmd, values);

	if (n >= 0 && g && g->verbosity > 0)
		azl_log_init(g->verbosity, cli_log_to_stderr, NULL);
	return n;
}

/* --request-timeout in ms: 0 when absent or 0 (none). */
static int request_timeout(const struct cli_global_flags *g, long *ms)
{
	*ms = 0;
	if (!g->request_timeout)
		return 0;
	*ms = azl_parse_duration_ms(g->request_timeout);
	if (*ms >= 0)
		return 0;
	*ms = 0;
	return azl_error_set(AZL_EINVALID,
			     "invalid --request-timeout \"%s\": use a number with a unit "
			     "(e.g. 30s, 2m, 1h) or 0 for none", g->request_timeout);
}

int cli_global_flags_overrides(const struct cli_global_flags *g,
			       struct azl_kube_overrides *ov)
{
	*ov = (struct azl_kube_overrides){ 0 };
	ov->context = g->context;
	ov->cluster = g->cluster;
	ov->user = g->user;
	ov->namespace_ = g->namespace_;
	ov->server = g->server;
	ov->token = g->token;
	ov->certificate_authority = g->certificate_authority;
	ov->client_certificate = g->client_certificate;
	ov->client_key = g->client_key;
	ov->tls_server_name = g->tls_server_name;
	ov->insecure_skip_tls_verify = g->insecure_skip_tls_verify;
	/* client-go gives an exec plugin the terminal only when stdin is one */
	ov->stdin_is_terminal = isatty(STDIN_FILENO);
	return request_timeout(g, &ov->request_timeout_ms);
}

int cli_global_flags_arm_timeout(const struct cli_global_flags *g, long *timeout_ms)
{
	int rc = request_timeout(g, timeout_ms);

	/* kubectl's 0 is "no timeout"; ARM's is its default */
	if (!rc && g->request_timeout && !*timeout_ms)
		*timeout_ms = -1;
	return rc;
}

int cli_kube_session_open(struct cli_kube_session *s, const struct cli_global_flags *g)
{
	struct azl_kube_overrides ov;
	int rc;

	*s = (struct cli_kube_session)CLI_KUBE_SESSION_INIT;
	rc = cli_global_flags_overrides(g, &ov);
	if (!rc)
		rc = azl_kubeconfig_load(&s->kubeconfig, g->kubeconfig);
	if (!rc)
		rc = azl_kubeconfig_resolve(s->kubeconfig, &ov, &s->config);
	if (!rc)
		rc = azl_kube_new(&s->kube, s->config);
	if (rc)
		cli_kube_session_release(s);
	return rc;
}

void cli_kube_session_release(struct cli_kube_session *s)
{
	azl_kube_free(s->kube);
	azl_rest_config_free(s->config);
	azl_kubeconfig_free(s->kubeconfig);
	*s = (struct cli_kube_session)CLI_KUBE_SESSION_INIT;
}

static const struct {
	const char *name;
	enum cli_output format;
} output_formats[] = {
	/* alphabetical, as kubectl lists them in its error */
	{ "json", CLI_OUTPUT_JSON },
	{ "name", CLI_OUTPUT_NAME },
	{ "wide", CLI_OUTPUT_WIDE },
	{ "yaml", CLI_OUTPUT_YAML },
};

const char *cli_output_name(size_t i, enum cli_output *format)
{
	if (i >= sizeof(output_formats) / sizeof(output_formats[0]))
		return NULL;
	*format = output_formats[i].format;
	return output_formats[i].name;
}

int cli_output_parse(const char *value, unsigned allowed, enum cli_output *out)
{
	struct strbuf names = STRBUF_INIT;
	size_t i;

	if ((!value || !*value) && (allowed & CLI_OUTPUT_TABLE)) {
		*out = CLI_OUTPUT_TABLE;
		return 0;
	}
	for (i = 0; value && i < sizeof(output_formats) / sizeof(output_formats[0]); i++) {
		if ((allowed & output_formats[i].format) && !strcmp(value, output_formats[i].name)) {
			*out = output_formats[i].format;
			return 0;
		}
	}
	for (i = 0; i < sizeof(output_formats) / sizeof(output_formats[0]); i++) {
		if (!(allowed & output_formats[i].format))
			continue;
		if (names.len)
			strbuf_addch(&names, ',');
		strbuf_addstr(&names, output_formats[i].name);
	}
	azl_error_set(AZL_EINVALID, "unable to match a printer suitable for the output "
		      "format \"%s\", allowed formats are: %s", value ? value : "", names.buf);
	strbuf_release(&names);
	return AZL_EINVALID;
}

int cli_print_tree(const cJSON *tree, enum cli_output format)
{
	if (format != CLI_OUTPUT_YAML) {
		cli_print_json(stdout, tree);
		return 0;
	}
	return cli_print_yaml(stdout, tree) < 0 ? cli_error_report() : 0;
}

int cli_error_report(void)
{
	const char *msg = azl_error_message();

	fprintf(stderr, "error: %s\n", *msg ? msg : "unknown error");
	return 1;
}

int cli_error_usage(const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "error: %s\n", msg.buf);
	strbuf_release(&msg);
	return 1;
}

void cli_warning(const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	cli_color_add(&line, cli_color_enabled(stderr), CLI_COLOR_YELLOW, "Warning:");
	strbuf_addch(&line, ' ');
	va_start(ap, fmt);
	strbuf_vaddf(&line, fmt, ap);
	va_end(ap);
	strbuf_addch(&line, '\n');
	fwrite(line.buf, 1, line.len, stderr);
	strbuf_release(&line);
}
