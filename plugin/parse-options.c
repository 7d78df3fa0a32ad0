#include "parse-options.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "error.h"
#include "num.h"
#include "strbuf.h"
#include "wrapper.h"

void cli_strlist_append(struct cli_strlist *list, const char *s)
{
	if (list->nr == list->alloc) {
		size_t alloc = list->alloc ? 2 * list->alloc : 4;
		list->items = xrealloc(list->items, alloc * sizeof(*list->items));
		list->alloc = alloc;
	}
	list->items[list->nr++] = s;
}

void cli_strlist_release(struct cli_strlist *list)
{
	free(list->items);
	list->items = NULL;
	list->nr = list->alloc = 0;
}

int cli_option_takes_value(const struct cli_option *opt)
{
	return opt->type == CLI_OPT_STRING || opt->type == CLI_OPT_INT ||
	       opt->type == CLI_OPT_STRING_LIST || opt->type == CLI_OPT_CALLBACK;
}

const struct cli_option *cli_option_find_long(const struct cli_option *opts,
					      const char *name, size_t len)
{
	for (; opts->type != CLI_OPT_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

const struct cli_option *cli_option_find_short(const struct cli_option *opts, int c)
{
	for (; opts->type != CLI_OPT_END; opts++)
		if (opts->type != CLI_OPT_GROUP && opts->short_name == c)
			return opts;
	return NULL;
}

struct parse_state {
	const char *prog;
	const struct cli_command *cmd;
	void *values;
};

static int usage_error(const struct parse_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(const struct parse_state *st, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT;
	va_list ap;

	strbuf_addstr(&msg, "error: ");
	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	strbuf_addf(&msg, "\nSee '%s %s --help' for usage.\n", st->prog, st->cmd->name);
	fputs(msg.buf, stderr);
	strbuf_release(&msg);
	return CLI_PARSE_ERROR;
}

/* pflag names a flag in messages by the form the user typed. */
static void flag_display(struct strbuf *sb, const struct cli_option *opt, int used_long)
{
	if (used_long || !opt->short_name)
		strbuf_addf(sb, "--%s", opt->long_name);
	else
		strbuf_addf(sb, "-%c", opt->short_name);
}

/* strconv.ParseBool's spellings. */
static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "t", "T", "true", "TRUE", "True" };
	static const char *const no[] = { "0", "f", "F", "false", "FALSE", "False" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcmp(s, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

static int parse_int(const char *s, int *out)
{
	long v;

	if (azl_num_scan(s, INT_MIN, INT_MAX, &v) != AZL_NUM_OK)
		return -1;
	*out = (int)v;
	return 0;
}

static void *slot(const struct parse_state *st, const struct cli_option *opt)
{
	return (char *)st->values + opt->offset;
}

/* Stores arg (NULL: a boolean given without a value). */
static int set_value(const struct parse_state *st, const struct cli_option *opt,
		     const char *arg, int used_long)
{
	struct strbuf name = STRBUF_INIT;
	int rc = 0;

	switch (opt->type) {
	case CLI_OPT_BOOL:
		if (!arg)
			*(int *)slot(st, opt) = 1;
		else if (parse_bool(arg, slot(st, opt)) < 0)
			rc = -1;
		break;
	case CLI_OPT_STRING:
		*(const char **)slot(st, opt) = arg;
		break;
	case CLI_OPT_INT:
		rc = parse_int(arg, slot(st, opt));
		break;
	case CLI_OPT_STRING_LIST:
		cli_strlist_append(slot(st, opt), arg);
		break;
	case CLI_OPT_CALLBACK:
		if (opt->callback(opt, arg, st->values) < 0)
			return usage_error(st, "%s", azl_error_message());
		break;
	default:
		break;
	}
	if (!rc)
		return 0;
	flag_display(&name, opt, used_long);
	rc = usage_error(st, "invalid argument \"%s\" for \"%s\" flag: %s", arg, name.buf,
			 opt->type == CLI_OPT_BOOL ? "expected true or false"
						   : "not an integer");
	strbuf_release(&name);
	return rc;
}

static int show_help(const struct parse_state *st)
{
	cli_usage_with_options(stdout, st->prog, st->cmd);
	return CLI_PARSE_HELP;
}

/* "--name", "--name=value" or "--name value"; returns how many extra
 * argv entries were consumed, or a negative CLI_PARSE_* code. */
static int parse_long(const struct parse_state *st, const char *arg, const char *next)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_option *opt = cli_option_find_long(st->cmd->options, name, len);
	int rc;

	if (!opt && len == 4 && !strncmp(name, "help", 4))
		return show_help(st);
	if (!opt || opt->type == CLI_OPT_GROUP)
		return usage_error(st, "unknown flag: --%.*s", (int)len, name);
	if (!cli_option_takes_value(opt))
		return set_value(st, opt, eq ? eq + 1 : NULL, 1);
	if (eq)
		return set_value(st, opt, eq + 1, 1);
	if (!next)
		return usage_error(st, "flag needs an argument: --%s", opt->long_name);
	rc = set_value(st, opt, next, 1);
	return rc < 0 ? rc : 1;
}

/* "-abc", "-ovalue", "-o=value", "-o value"; as parse_long. */
static int parse_short(const struct parse_state *st, const char *arg, const char *next)
{
	const char *p;

	for (p = arg + 1; *p; p++) {
		const struct cli_option *opt = cli_option_find_short(st->cmd->options, *p);
		int rc;

		if (!opt && *p == 'h')
			return show_help(st);
		if (!opt)
			return usage_error(st, "unknown shorthand flag: '%c' in %s", *p, arg);
		if (!cli_option_takes_value(opt)) {
			if (p[1] == '=')
				return set_value(st, opt, p + 2, 0);
			rc = set_value(st, opt, NULL, 0);
			if (rc < 0)
				return rc;
			continue;
		}
		if (p[1])
			return set_value(st, opt, p[1] == '=' ? p + 2 : p + 1, 0);
		if (!next)
			return usage_error(st, "flag needs an argument: '%c' in %s", *p, arg);
		rc = set_value(st, opt, next, 0);
		return rc < 0 ? rc : 1;
	}
	return 0;
}

int cli_parse_options(int argc, const char **argv, const char *prog,
		      const struct cli_command *cmd, void *values)
{
	struct parse_state st = { prog, cmd, values };
	int i, n = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		int used;

		if (!strcmp(a, "--")) {
			while (++i < argc)
				argv[n++] = argv[i];
			break;
		}
		if (a[0] != '-' || !a[1]) {
			argv[n++] = a;  /* kubectl allows flags after arguments */
			continue;
		}
		used = a[1] == '-' ? parse_long(&st, a, next) : parse_short(&st, a, next);
		if (used < 0)
			return used;
		i += used;
	}
	return n;
}

/* kubectl shows each flag's default after "=": false, '', 0, []. */
static void add_flag_line(struct strbuf *sb, const struct cli_option *opt)
{
	strbuf_addstr(sb, "    ");
	if (opt->short_name)
		strbuf_addf(sb, "-%c, ", opt->short_name);
	strbuf_addf(sb, "--%s=", opt->long_name);
	switch (opt->type) {
	case CLI_OPT_BOOL:
		strbuf_addstr(sb, opt->def ? opt->def : "false");
		break;
	case CLI_OPT_INT:
		strbuf_addstr(sb, opt->def ? opt->def : "0");
		break;
	case CLI_OPT_STRING_LIST:
		strbuf_addstr(sb, "[]");
		break;
	default:
		strbuf_addf(sb, "'%s'", opt->def ? opt->def : "");
		break;
	}
	strbuf_addstr(sb, ":\n");
}

/* Help text wrapped at about 80 columns, each line indented by a tab. */
static void add_wrapped(struct strbuf *sb, const char *text)
{
	const size_t width = 72;

	while (*text) {
		size_t len = strlen(text), cut = len;

		if (len > width) {
			cut = width;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (!cut)
				cut = strcspn(text, " ");
		}
		strbuf_addch(sb, '\t');
		strbuf_add(sb, text, cut);
		strbuf_addch(sb, '\n');
		text += cut;
		while (*text == ' ')
			text++;
	}
}

static void add_options(struct strbuf *sb, const struct cli_option *opts)
{
	int heading = 0;

	for (; opts->type != CLI_OPT_END; opts++) {
		if (opts->type == CLI_OPT_GROUP) {
			strbuf_addf(sb, "%s:\n", opts->help);
			heading = 1;
			continue;
		}
		if (opts->flags & CLI_OPTF_HIDDEN)
			continue;
		if (!heading)
			strbuf_addstr(sb, "Options:\n");
		heading = 1;
		add_flag_line(sb, opts);
		add_wrapped(sb, opts->help);
		strbuf_addch(sb, '\n');
	}
}

void cli_usage_with_options(FILE *out, const char *prog, const struct cli_command *cmd)
{
	struct strbuf sb = STRBUF_INIT;

	if (cmd->description)
		strbuf_addf(&sb, "%s\n\n", cmd->description);
	else
		strbuf_addf(&sb, "%s.\n\n", cmd->summary);
	if (cmd->examples)
		strbuf_addf(&sb, "Examples:\n%s\n", cmd->examples);
	if (cmd->options)
		add_options(&sb, cmd->options);
	strbuf_addf(&sb, "Usage:\n  %s %s\n", prog, cmd->usage);
	fputs(sb.buf, out);
	strbuf_release(&sb);
}
