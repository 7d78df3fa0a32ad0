/* The option parser: every flag syntax kubectl users type, the errors
 * pflag gives, generated help, and the introspection completion uses. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* The parser lives in the program, not in libazlinux.a: build it in. */
#include "../../plugin/parse-options.c"
#include "../../plugin/common.h"

#include "testutil.h"

struct args {
	struct cli_global_flags g;
	const char *output;
	const char *pool;
	int all;
	int quiet;
	int no_headers;
	int count;
	int secret;
	struct cli_strlist labels;
	const char *cb_seen;
};

static int check_mode(const struct cli_option *opt, const char *arg, void *values)
{
	(void)opt;
	if (strcmp(arg, "fast") && strcmp(arg, "safe"))
		return azl_error_set(AZL_EINVALID, "invalid --mode \"%s\": use fast or safe", arg);
	((struct args *)values)->cb_seen = arg;
	return 0;
}

static const struct cli_option opts[] = {
	OPT_STRING('o', "output", struct args, output, "FORMAT", "Output format.",
		   CLI_COMPLETE_OUTPUT_FORMAT),
	OPT_STRING(0, "pool", struct args, pool, "NAME", "Pool name.", CLI_COMPLETE_POOL),
	OPT_BOOL('A', "all", struct args, all, "All of them."),
	OPT_BOOL('q', "quiet", struct args, quiet, "Say less."),
	OPT_BOOL(0, "no-headers", struct args, no_headers, "No headers."),
	OPT_INT('c', "count", struct args, count, "N", "How many."),
	OPT_HIDDEN_BOOL(0, "secret-flag", struct args, secret, "Not shown."),
	OPT_STRING_LIST('L', "label", struct args, labels, "KEY", "Labels.", CLI_COMPLETE_NONE),
	OPT_CALLBACK(0, "mode", "MODE", "fast or safe.", CLI_COMPLETE_NONE, check_mode),
	CLI_OPT_GLOBAL_FLAGS(struct args, g),
	OPT_END()
};

static const struct cli_command test_cmd = {
	.name = "nodes",
	.summary = "Do a test thing",
	.usage = "nodes [flags]",
	.description = "A long description.",
	.examples = "  # Example one\n  kubectl azlinux nodes\n",
	.options = opts,
};

/* Captures what a call writes to fd 1 and 2. */
struct capture {
	int saved_out, saved_err;
	FILE *out, *err;
	char out_text[8192], err_text[8192];
};

static void capture_start(struct capture *c)
{
	fflush(stdout);
	fflush(stderr);
	c->out = tmpfile();
	c->err = tmpfile();
	c->saved_out = dup(1);
	c->saved_err = dup(2);
	dup2(fileno(c->out), 1);
	dup2(fileno(c->err), 2);
}

static void read_all(FILE *f, char *buf, size_t size)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void capture_end(struct capture *c)
{
	fflush(stdout);
	fflush(stderr);
	dup2(c->saved_out, 1);
	dup2(c->saved_err, 2);
	close(c->saved_out);
	close(c->saved_err);
	read_all(c->out, c->out_text, sizeof(c->out_text));
	read_all(c->err, c->err_text, sizeof(c->err_text));
}

/* Parses a NULL-terminated argument list (argv[0] "nodes" added). */
static int parse(struct args *a, struct capture *c, const char **argv_out, ...)
{
	const char *argv[32];
	va_list ap;
	int argc = 1, n, i;

	argv[0] = "nodes";
	va_start(ap, argv_out);
	while ((argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	memset(a, 0, sizeof(*a));
	capture_start(c);
	n = cli_parse_options(argc, argv, "kubectl azlinux", &test_cmd, a);
	capture_end(c);
	for (i = 0; i < n; i++)
		argv_out[i] = argv[i];
	return n;
}

static void test_long_forms(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "--output=json", "--pool", "np1", NULL), 0);
	assert_string_equal(a.output, "json");
	assert_string_equal(a.pool, "np1");
	assert_string_equal(c.err_text, "");
	/* an "=" value may itself contain "=" and be empty */
	assert_int_equal(parse(&a, &c, rest, "--pool=a=b", "--output=", NULL), 0);
	assert_string_equal(a.pool, "a=b");
	assert_string_equal(a.output, "");
	/* pflag takes the next word as the value even if it looks like a flag */
	assert_int_equal(parse(&a, &c, rest, "--pool", "--all", NULL), 0);
	assert_string_equal(a.pool, "--all");
	assert_int_equal(a.all, 0);
}

static void test_short_forms(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "-o", "yaml", NULL), 0);
	assert_string_equal(a.output, "yaml");
	assert_int_equal(parse(&a, &c, rest, "-owide", NULL), 0);
	assert_string_equal(a.output, "wide");
	assert_int_equal(parse(&a, &c, rest, "-o=name", NULL), 0);
	assert_string_equal(a.output, "name");
	/* bundled booleans, then one taking the rest of the word */
	assert_int_equal(parse(&a, &c, rest, "-Aq", NULL), 0);
	assert_int_equal(a.all, 1);
	assert_int_equal(a.quiet, 1);
	assert_int_equal(parse(&a, &c, rest, "-qojson", NULL), 0);
	assert_int_equal(a.quiet, 1);
	assert_string_equal(a.output, "json");
	assert_int_equal(parse(&a, &c, rest, "-A=false", NULL), 0);
	assert_int_equal(a.all, 0);
}

static void test_verbosity_forms(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "-v=6", NULL), 0);
	assert_int_equal(a.g.verbosity, 6);
	assert_int_equal(parse(&a, &c, rest, "--v=8", NULL), 0);
	assert_int_equal(a.g.verbosity, 8);
	assert_int_equal(parse(&a, &c, rest, "-v", "9", NULL), 0);
	assert_int_equal(a.g.verbosity, 9);
	assert_int_equal(parse(&a, &c, rest, "-v4", NULL), 0);
	assert_int_equal(a.g.verbosity, 4);
	assert_int_equal(parse(&a, &c, rest, "--v", "x6", NULL), CLI_PARSE_ERROR);
	assert_non_null(strstr(c.err_text, "error: invalid argument \"x6\" for \"--v\" flag"));
	assert_int_equal(parse(&a, &c, rest, "-v=99999999999", NULL), CLI_PARSE_ERROR);
}

static void test_global_flags(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "--kubeconfig", "/k", "--context=ctx", "-n", "ns",
			       "-s", "https://h", "--token", "t0k", "--insecure-skip-tls-verify",
			       "--request-timeout=5s", "--client-key", "k.pem",
			       "--tls-server-name", "sni", "--cluster", "c", "--user", "u", NULL), 0);
	assert_string_equal(a.g.kubeconfig, "/k");
	assert_string_equal(a.g.context, "ctx");
	assert_string_equal(a.g.namespace_, "ns");
	assert_string_equal(a.g.server, "https://h");
	assert_string_equal(a.g.token, "t0k");
	assert_int_equal(a.g.insecure_skip_tls_verify, 1);
	assert_string_equal(a.g.request_timeout, "5s");
	assert_string_equal(a.g.client_key, "k.pem");
	assert_string_equal(a.g.tls_server_name, "sni");
	assert_string_equal(a.g.cluster, "c");
	assert_string_equal(a.g.user, "u");
}

static void test_positionals(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	/* kubectl allows flags after arguments */
	assert_int_equal(parse(&a, &c, rest, "np1", "-A", "np2", "--pool", "x", "-", NULL), 3);
	assert_string_equal(rest[0], "np1");
	assert_string_equal(rest[1], "np2");
	assert_string_equal(rest[2], "-");
	assert_int_equal(a.all, 1);
	assert_int_equal(parse(&a, &c, rest, "-q", "--", "-A", "--pool", NULL), 2);
	assert_string_equal(rest[0], "-A");
	assert_string_equal(rest[1], "--pool");
	assert_int_equal(a.all, 0);
	assert_null(a.pool);
}

static void test_bools_and_lists(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "--no-headers", "--all=true", NULL), 0);
	assert_int_equal(a.no_headers, 1);
	assert_int_equal(a.all, 1);
	assert_int_equal(parse(&a, &c, rest, "--no-headers=false", NULL), 0);
	assert_int_equal(a.no_headers, 0);
	assert_int_equal(parse(&a, &c, rest, "--all=maybe", NULL), CLI_PARSE_ERROR);
	assert_non_null(strstr(c.err_text, "invalid argument \"maybe\" for \"--all\" flag"));
	assert_int_equal(parse(&a, &c, rest, "-L", "a", "--label=b", "-Lc", NULL), 0);
	assert_int_equal(a.labels.nr, 3);
	assert_string_equal(a.labels.items[0], "a");
	assert_string_equal(a.labels.items[1], "b");
	assert_string_equal(a.labels.items[2], "c");
	cli_strlist_release(&a.labels);
	assert_int_equal(parse(&a, &c, rest, "--count", "12", "--secret-flag", NULL), 0);
	assert_int_equal(a.count, 12);
	assert_int_equal(a.secret, 1);
}

static void test_callback(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "--mode", "fast", NULL), 0);
	assert_string_equal(a.cb_seen, "fast");
	assert_int_equal(parse(&a, &c, rest, "--mode=slow", NULL), CLI_PARSE_ERROR);
	assert_string_equal(c.err_text, "error: invalid --mode \"slow\": use fast or safe\n"
			    "See 'kubectl azlinux nodes --help' for usage.\n");
}

static void test_errors(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "--foo=1", NULL), CLI_PARSE_ERROR);
	assert_string_equal(c.err_text, "error: unknown flag: --foo\n"
			    "See 'kubectl azlinux nodes --help' for usage.\n");
	assert_string_equal(c.out_text, "");
	assert_int_equal(parse(&a, &c, rest, "-Az", NULL), CLI_PARSE_ERROR);
	assert_string_equal(c.err_text, "error: unknown shorthand flag: 'z' in -Az\n"
			    "See 'kubectl azlinux nodes --help' for usage.\n");
	assert_int_equal(parse(&a, &c, rest, "--output", NULL), CLI_PARSE_ERROR);
	assert_string_equal(c.err_text, "error: flag needs an argument: --output\n"
			    "See 'kubectl azlinux nodes --help' for usage.\n");
	assert_int_equal(parse(&a, &c, rest, "-o", NULL), CLI_PARSE_ERROR);
	assert_string_equal(c.err_text, "error: flag needs an argument: 'o' in -o\n"
			    "See 'kubectl azlinux nodes --help' for usage.\n");
	/* a group title is not a flag */
	assert_int_equal(parse(&a, &c, rest, "--Kubernetes flags", NULL), CLI_PARSE_ERROR);
	assert_int_equal(cli_parse_exit_code(CLI_PARSE_ERROR), 1);
	assert_int_equal(cli_parse_exit_code(CLI_PARSE_HELP), 0);
}

static void test_help(void **state)
{
	struct args a;
	struct capture c;
	const char *rest[32];

	(void)state;
	assert_int_equal(parse(&a, &c, rest, "--pool", "x", "--help", NULL), CLI_PARSE_HELP);
	assert_string_equal(c.err_text, "");
	assert_true(!strncmp(c.out_text, "A long description.\n\nExamples:\n"
			     "  # Example one\n  kubectl azlinux nodes\n\nOptions:\n", 80));
	assert_non_null(strstr(c.out_text, "    -o, --output='':\n\tOutput format.\n\n"));
	assert_non_null(strstr(c.out_text, "    -A, --all=false:\n\tAll of them.\n"));
	assert_non_null(strstr(c.out_text, "    -c, --count=0:\n"));
	assert_non_null(strstr(c.out_text, "    -L, --label=[]:\n"));
	assert_non_null(strstr(c.out_text, "\nKubernetes flags:\n    --kubeconfig='':\n"));
	assert_non_null(strstr(c.out_text, "    --request-timeout='0':\n"));
	assert_null(strstr(c.out_text, "secret-flag"));
	assert_non_null(strstr(c.out_text, "\nUsage:\n  kubectl azlinux nodes [flags]\n"));
	/* long help lines are wrapped, each piece indented by a tab */
	assert_non_null(strstr(c.out_text, "\tIf true, the server's certificate will not be "));
	assert_int_equal(parse(&a, &c, rest, "-qh", NULL), CLI_PARSE_HELP);
	assert_non_null(strstr(c.out_text, "Usage:"));
}

static void test_introspection(void **state)
{
	const struct cli_option *o;

	(void)state;
	o = cli_option_find_long(opts, "output", 6);
	assert_non_null(o);
	assert_int_equal(o->short_name, 'o');
	assert_true(cli_option_takes_value(o));
	assert_int_equal(o->complete, CLI_COMPLETE_OUTPUT_FORMAT);
	o = cli_option_find_long(opts, "kubeconfig", 10);
	assert_non_null(o);
	assert_int_equal(o->complete, CLI_COMPLETE_FILE);
	assert_int_equal(cli_option_find_long(opts, "context", 7)->complete, CLI_COMPLETE_CONTEXT);
	assert_int_equal(cli_option_find_long(opts, "pool", 4)->complete, CLI_COMPLETE_POOL);
	o = cli_option_find_short(opts, 'A');
	assert_non_null(o);
	assert_false(cli_option_takes_value(o));
	assert_true(cli_option_find_long(opts, "secret-flag", 11)->flags & CLI_OPTF_HIDDEN);
	assert_null(cli_option_find_long(opts, "outpu", 5));
	assert_null(cli_option_find_short(opts, 'z'));
	assert_true(cli_option_takes_value(cli_option_find_short(opts, 'v')));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_long_forms),
		cmocka_unit_test(test_short_forms),
		cmocka_unit_test(test_verbosity_forms),
		cmocka_unit_test(test_global_flags),
		cmocka_unit_test(test_positionals),
		cmocka_unit_test(test_bools_and_lists),
		cmocka_unit_test(test_callback),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_introspection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
