/* kubectl azlinux __complete: shell completion, after cobra's protocol.
 *
 *     kubectl-azlinux __complete <words before the cursor...> <partial word>
 *
 * prints one candidate per line, optionally followed by a TAB and a
 * description, and last a line ":<directive>" (cobra's ShellCompDirective
 * bits). The scripts of `completion bash|zsh|fish` call it, and so does
 * kubectl (1.26+) through kubectl_complete-azlinux, which main() routes
 * here with the same arguments.
 *
 * Candidates come from the command table and the option descriptors, never
 * from a list of their own; pool names come from the pool cache or the
 * node labels (core/poolcache), never from ARM. Nothing is printed on
 * stderr: it is the user's terminal while they press TAB. */
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "auth.h"
#include "cloud.h"
#include "common.h"
#include "kubeconfig.h"
#include "node.h"
#include "poolcache.h"
#include "strbuf.h"
#include "upgrade.h"

/* cobra's ShellCompDirective */
enum {
	DIRECTIVE_DEFAULT = 0,       /* the shell may complete file names */
	DIRECTIVE_NO_FILE_COMP = 4
};

/* A TAB must not wait long for a cluster: a cold pool cache falls back to
 * one node list with this deadline. */
#define CLUSTER_TIMEOUT_MS 2000L

/* The flags allowed before the command word, as main.c parses them. */
struct top_args {
	struct cli_global_flags g;
};
static const struct cli_option top_options[] = {
	CLI_OPT_GLOBAL_FLAGS(struct top_args, g),
	OPT_END()
};

/* What the words before the cursor say. */
struct comp_line {
	const struct cli_command *cmd;     /* NULL before the command word */
	const struct cli_option *pending;  /* a flag waiting for its value */
	struct top_args top;               /* the global flags given so far */
	struct cli_strlist args;           /* positional arguments */
	struct cli_strlist used;           /* long names of the flags given */
	int unknown;                       /* an unknown command or flag */
	int dashdash;                      /* "--" seen: only arguments follow */
};

struct comp_out {
	struct strbuf buf;
	const char *prefix;   /* what the user typed of the word */
	int directive;
};

static const struct cli_option *line_options(const struct comp_line *l)
{
	return l->cmd ? l->cmd->options : top_options;
}

/* Keeps the values of global flags (--kubeconfig, --context, ...) whatever
 * command's descriptor matched them, so completion can reach the cluster
 * the finished command would. */
static void record_value(struct comp_line *l, const struct cli_option *opt,
			 const char *value)
{
	const struct cli_option *g;
	char *slot;

	if (!opt->long_name)
		return;
	cli_strlist_append(&l->used, opt->long_name);
	g = cli_option_find_long(top_options, opt->long_name, strlen(opt->long_name));
	if (!g || g->type == CLI_OPT_GROUP)
		return;
	slot = (char *)&l->top + g->offset;
	if (g->type == CLI_OPT_STRING && value)
		*(const char **)(void *)slot = value;
	else if (g->type == CLI_OPT_BOOL)
		*(int *)(void *)slot = !value || strcmp(value, "false");
}

/* A value-taking flag at the end of the line waits for the word being
 * completed. Returns how many following words the flag consumed. */
static int take_value(struct comp_line *l, const struct cli_option *opt,
		      const char *inline_value, const char *next)
{
	if (inline_value) {
		record_value(l, opt, inline_value);
		return 0;
	}
	if (!next) {
		l->pending = opt;
		return 0;
	}
	record_value(l, opt, next);
	return 1;
}

static int scan_long(struct comp_line *l, const char *word, const char *next)
{
	const char *name = word + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct cli_option *opt = cli_option_find_long(line_options(l), name, len);

	if (!opt || opt->type == CLI_OPT_GROUP) {
		l->unknown = !(len == 4 && !strncmp(name, "help", 4));
		return 0;
	}
	if (!cli_option_takes_value(opt)) {
		record_value(l, opt, eq ? eq + 1 : NULL);
		return 0;
	}
	return take_value(l, opt, eq ? eq + 1 : NULL, next);
}

/* "-abc" bundles booleans; "-ovalue", "-o=value" and "-o value" set one. */
static int scan_short(struct comp_line *l, const char *word, const char *next)
{
	const char *p;

	for (p = word + 1; *p; p++) {
		const struct cli_option *opt = cli_option_find_short(line_options(l), *p);

		if (!opt) {
			l->unknown = *p != 'h';
			return 0;
		}
		if (!cli_option_takes_value(opt)) {
			record_value(l, opt, NULL);
			continue;
		}
		if (p[1])
			return take_value(l, opt, p[1] == '=' ? p + 2 : p + 1, NULL);
		return take_value(l, opt, NULL, next);
	}
	return 0;
}

static void scan_argument(struct comp_line *l, const char *word)
{
	if (l->cmd) {
		cli_strlist_append(&l->args, word);
		return;
	}
	l->cmd = cli_command_lookup(word);
	l->unknown = !l->cmd;
}

static void scan_words(struct comp_line *l, int n, const char **words)
{
	int i;

	for (i = 0; i < n && !l->unknown; i++) {
		const char *w = words[i], *next = i + 1 < n ? words[i + 1] : NULL;

		l->pending = NULL;
		if (l->dashdash || w[0] != '-' || !w[1])
			scan_argument(l, w);
		else if (!strcmp(w, "--"))
			l->dashdash = 1;
		else if (w[1] == '-')
			i += scan_long(l, w, next);
		else
			i += scan_short(l, w, next);
	}
}

/* One line of description: help texts may hold newlines or tabs, which
 * would break the protocol. */
static void add_candidate(struct comp_out *o, const char *name, const char *desc)
{
	if (strncmp(name, o->prefix, strlen(o->prefix)))
		return;
	strbuf_addstr(&o->buf, name);
	if (desc && *desc) {
		strbuf_addch(&o->buf, '\t');
		for (; *desc; desc++)
			strbuf_addch(&o->buf, *desc == '\n' || *desc == '\t' ? ' ' : *desc);
	}
	strbuf_addch(&o->buf, '\n');
}

static void complete_commands(struct comp_out *o)
{
	const struct cli_command *const *cmds;
	size_t i, nr;

	cmds = cli_command_table(&nr);
	for (i = 0; i < nr; i++)
		if (!cmds[i]->hidden)
			add_candidate(o, cmds[i]->name, cmds[i]->summary);
}

static int flag_used(const struct comp_line *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->used.nr; i++)
		if (!strcmp(l->used.items[i], name))
			return 1;
	return 0;
}

/* Like cobra: flags already given are not offered again, unless they may
 * repeat; -h/--help, which the parser handles itself, always are. */
static void complete_flags(const struct comp_line *l, struct comp_out *o)
{
	const struct cli_option *opt;
	struct strbuf name = STRBUF_INIT;

	for (opt = line_options(l); opt->type != CLI_OPT_END; opt++) {
		if (opt->type == CLI_OPT_GROUP || (opt->flags & CLI_OPTF_HIDDEN) ||
		    !opt->long_name)
			continue;
		if (opt->type != CLI_OPT_STRING_LIST && flag_used(l, opt->long_name))
			continue;
		strbuf_reset(&name);
		strbuf_addf(&name, "--%s", opt->long_name);
		add_candidate(o, name.buf, opt->help);
		if (!opt->short_name)
			continue;
		strbuf_reset(&name);
		strbuf_addf(&name, "-%c", opt->short_name);
		add_candidate(o, name.buf, opt->help);
	}
	add_candidate(o, "--help", "Help for this command.");
	add_candidate(o, "-h", "Help for this command.");
	strbuf_release(&name);
}

/* Whether the option's help names word (as -o's "One of: (json, yaml)"):
 * the help is the one place a command says which formats it prints. */
static int help_mentions(const char *help, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = strstr(help, word); p; p = strstr(p + 1, word)) {
		int before = p == help || !(p[-1] >= 'a' && p[-1] <= 'z');
		int after = !(p[n] >= 'a' && p[n] <= 'z');

		if (before && after)
			return 1;
	}
	return 0;
}

/* Only the formats the command's -o help names are offered: commands
 * accept different subsets and the help is where each says which. */
static void complete_output(const struct cli_option *opt, struct comp_out *o)
{
	enum cli_output format;
	const char *name;
	size_t i;

	for (i = 0; (name = cli_output_name(i, &format)); i++)
		if (help_mentions(opt->help, name))
			add_candidate(o, name, NULL);
}

static void complete_cloud(struct comp_out *o)
{
	const struct azl_cloud *cloud;
	size_t i;

	for (i = 0; (cloud = azl_cloud_at(i)); i++)
		add_candidate(o, cloud->name, cloud->arm_endpoint);
}

/* Only the sources the option's help names are offered. */
static void complete_auth(const struct cli_option *opt, struct comp_out *o)
{
	const char *name;
	size_t i;

	for (i = 0; (name = azl_auth_source_name(i)); i++)
		if (!opt || help_mentions(opt->help, name))
			add_candidate(o, name, NULL);
}

static void complete_node_os_channel(struct comp_out *o)
{
	const char *name;

	for (size_t i = 0; (name = azl_upgrade_node_os_channel_name(i)); i++)
		add_candidate(o, name, NULL);
}

/* The shell does not expand "~/" in a word it has not run yet. */
static void expand_home(struct strbuf *out, const char *path)
{
	const char *home = getenv("HOME");

	if (!strncmp(path, "~/", 2) && home) {
		strbuf_addstr(out, home);
		path++;
	}
	strbuf_addstr(out, path);
}

static int load_kubeconfig(const struct comp_line *l, struct azl_kubeconfig **kc)
{
	struct strbuf path = STRBUF_INIT;
	int rc;

	if (!l->top.g.kubeconfig)
		return azl_kubeconfig_load(kc, NULL);
	expand_home(&path, l->top.g.kubeconfig);
	rc = azl_kubeconfig_load(kc, path.buf);
	strbuf_release(&path);
	return rc;
}

/* Whether name is one of the comma-separated items in list[0..len). */
static int in_list(const char *list, size_t len, const char *name)
{
	size_t n = strlen(name), i = 0;

	while (i < len) {
		size_t item = strcspn(list + i, ",");

		if (item == n && !strncmp(list + i, name, n))
			return 1;
		i += item + 1;
	}
	return 0;
}

/* "--contexts a,b,<TAB>" takes a list: complete its last item, keeping
 * the ones before (shells replace the whole word) and not repeating them. */
static void complete_contexts(const struct azl_kubeconfig *kc, struct comp_out *o)
{
	const char *comma = strrchr(o->prefix, ',');
	size_t head = comma ? (size_t)(comma - o->prefix) + 1 : 0;
	size_t i, nr = azl_kubeconfig_context_count(kc);
	struct strbuf name = STRBUF_INIT;

	for (i = 0; i < nr; i++) {
		const char *ctx = azl_kubeconfig_context_name(kc, i);

		if (head && in_list(o->prefix, head - 1, ctx))
			continue;
		strbuf_reset(&name);
		strbuf_add(&name, o->prefix, head);
		strbuf_addstr(&name, ctx);
		add_candidate(o, name.buf, NULL);
	}
	strbuf_release(&name);
}

/* Whether name is already a candidate: contexts often share a user. */
static int offered(const struct comp_out *o, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = o->buf.buf; *p; p += strcspn(p, "\n") + 1)
		if (!strncmp(p, name, n) && (p[n] == '\n' || p[n] == '\t'))
			return 1;
	return 0;
}

/* kubeconfig.h lists contexts only; the clusters and users worth offering
 * are the ones the contexts use. */
static void complete_context_refs(const struct azl_kubeconfig *kc,
				  enum cli_opt_complete what, struct comp_out *o)
{
	size_t i;

	for (i = 0; i < azl_kubeconfig_context_count(kc); i++) {
		struct azl_kube_overrides ov = { 0 };
		struct azl_rest_config *cfg;
		const char *name;

		ov.context = azl_kubeconfig_context_name(kc, i);
		if (azl_kubeconfig_resolve(kc, &ov, &cfg))
			continue;
		name = what == CLI_COMPLETE_CLUSTER ? cfg->cluster_name : cfg->user_name;
		if (name && !offered(o, name))
			add_candidate(o, name, NULL);
		azl_rest_config_free(cfg);
	}
}

static int already_given(const struct comp_line *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->args.nr; i++)
		if (!strcmp(l->args.items[i], name))
			return 1;
	return 0;
}

/* The context the finished command would use, with requests bounded by
 * the completion's short timeout (a shell waits on it). */
static int resolve_context(const struct comp_line *l, const struct azl_kubeconfig *kc,
			   struct azl_rest_config **cfg)
{
	struct azl_kube_overrides ov;

	if (cli_global_flags_overrides(&l->top.g, &ov))
		return -1;
	if (!ov.request_timeout_ms || ov.request_timeout_ms > CLUSTER_TIMEOUT_MS)
		ov.request_timeout_ms = CLUSTER_TIMEOUT_MS;
	return azl_kubeconfig_resolve(kc, &ov, cfg);
}

/* Pool names for the context the finished command would use; arguments
 * already on the line are not offered twice. */
static void complete_pools(const struct comp_line *l, const struct azl_kubeconfig *kc,
			   int positional, struct comp_out *o)
{
	struct azl_poolcache_list pools = { NULL, 0 };
	struct azl_rest_config *cfg = NULL;
	size_t i;

	if (resolve_context(l, kc, &cfg))
		return;
	if (!azl_poolcache_lookup(cfg, &pools))
		for (i = 0; i < pools.nr; i++)
			if (!positional || !already_given(l, pools.items[i]))
				add_candidate(o, pools.items[i], NULL);
	azl_poolcache_list_release(&pools);
	azl_rest_config_free(cfg);
}

/* Node names from the cluster itself (one list of the Node table, within
 * the completion's short timeout); nodes already on the line are left out. */
static void complete_nodes(const struct comp_line *l, const struct azl_kubeconfig *kc,
			   struct comp_out *o)
{
	struct azl_node_list nodes = { NULL, 0 };
	struct azl_rest_config *cfg = NULL;
	struct azl_kube *kube = NULL;
	size_t i;

	if (resolve_context(l, kc, &cfg))
		return;
	if (!azl_kube_new(&kube, cfg) && !azl_node_list_brief(kube, &nodes))
		for (i = 0; i < nodes.nr; i++)
			if (!already_given(l, nodes.items[i].name))
				add_candidate(o, nodes.items[i].name, NULL);
	azl_node_list_release(&nodes);
	azl_kube_free(kube);
	azl_rest_config_free(cfg);
}

static void complete_from_kubeconfig(const struct comp_line *l, enum cli_opt_complete what,
				     int positional, struct comp_out *o)
{
	struct azl_kubeconfig *kc = NULL;

	if (load_kubeconfig(l, &kc))
		return;
	if (what == CLI_COMPLETE_CONTEXT)
		complete_contexts(kc, o);
	else if (what == CLI_COMPLETE_POOL)
		complete_pools(l, kc, positional, o);
	else if (what == CLI_COMPLETE_NODE)
		complete_nodes(l, kc, o);
	else
		complete_context_refs(kc, what, o);
	azl_kubeconfig_free(kc);
}

static void complete_value(const struct comp_line *l, const struct cli_option *opt,
			   enum cli_opt_complete what, int positional, struct comp_out *o)
{
	switch (what) {
	case CLI_COMPLETE_FILE:
		o->directive = DIRECTIVE_DEFAULT;
		break;
	case CLI_COMPLETE_OUTPUT_FORMAT:
		if (opt)
			complete_output(opt, o);
		break;
	case CLI_COMPLETE_CLOUD:
		complete_cloud(o);
		break;
	case CLI_COMPLETE_AUTH:
		complete_auth(opt, o);
		break;
	case CLI_COMPLETE_NODE_OS_CHANNEL:
		complete_node_os_channel(o);
		break;
	case CLI_COMPLETE_CONTEXT:
	case CLI_COMPLETE_CLUSTER:
	case CLI_COMPLETE_USER:
	case CLI_COMPLETE_POOL:
	case CLI_COMPLETE_NODE:
		complete_from_kubeconfig(l, what, positional, o);
		break;
	case CLI_COMPLETE_NAMESPACE:  /* a cluster round trip for little gain */
	case CLI_COMPLETE_NONE:
	default:
		break;
	}
}

/* "--flag=partial": complete the value after "=" (the scripts put the
 * "--flag=" back in front, as cobra's do). */
static void complete_flag_value(struct comp_line *l, const char *word, struct comp_out *o)
{
	const char *eq = strchr(word, '=');
	const struct cli_option *opt;

	if (word[1] == '-')
		opt = cli_option_find_long(line_options(l), word + 2, (size_t)(eq - word - 2));
	else
		opt = eq == word + 2 ? cli_option_find_short(line_options(l), word[1]) : NULL;
	o->prefix = eq + 1;
	if (opt && cli_option_takes_value(opt))
		complete_value(l, opt, opt->complete, 0, o);
}

/* The literal words of the usage line, as cobra's ValidArgs: in
 * "completion bash|zsh|fish" argument 1 is bash, zsh or fish; in "auth
 * status [-o ...]" it is status. Placeholders (NAME), options ([...], -x)
 * end the literal part. */
static void complete_usage_word(const struct cli_command *cmd, size_t index,
				struct comp_out *o)
{
	const char *p = cmd->usage + strcspn(cmd->usage, " ");
	struct strbuf word = STRBUF_INIT;

	for (;;) {
		size_t len;

		p += strspn(p, " ");
		len = strcspn(p, " |");
		if (!len || !(*p >= 'a' && *p <= 'z'))
			break;
		strbuf_reset(&word);
		strbuf_add(&word, p, len);
		if (!index)
			add_candidate(o, word.buf, NULL);
		p += len;
		if (*p == '|')
			p++;
		else if (index-- == 0)
			break;
	}
	strbuf_release(&word);
}

static void complete_argument(const struct comp_line *l, struct comp_out *o)
{
	if (!l->cmd || (l->cmd == &cli_cmd_help && !l->args.nr)) {
		complete_commands(o);
		return;
	}
	if (l->cmd->args_complete == CLI_COMPLETE_NONE) {
		complete_usage_word(l->cmd, l->args.nr, o);
		return;
	}
	complete_value(l, NULL, l->cmd->args_complete, 1, o);
}

static void complete_word(struct comp_line *l, const char *word, struct comp_out *o)
{
	o->prefix = word;
	if (l->unknown)
		return;
	if (l->pending)
		complete_value(l, l->pending, l->pending->complete, 0, o);
	else if (word[0] == '-' && !l->dashdash && strchr(word, '='))
		complete_flag_value(l, word, o);
	else if (word[0] == '-' && !l->dashdash)
		complete_flags(l, o);
	else
		complete_argument(l, o);
}

static int run_complete(int argc, const char **argv, const struct cli_cmd_ctx *ctx)
{
	struct comp_line line = { 0 };
	struct comp_out out = { STRBUF_INIT, "", DIRECTIVE_NO_FILE_COMP };
	const char *word = argc > 1 ? argv[argc - 1] : "";

	(void)ctx;
	/* argv[0] is "__complete"; the last word is the one being completed */
	scan_words(&line, argc > 2 ? argc - 2 : 0, argv + 1);
	complete_word(&line, word, &out);
	strbuf_addf(&out.buf, ":%d\n", out.directive);
	fwrite(out.buf.buf, 1, out.buf.len, stdout);
	strbuf_release(&out.buf);
	cli_strlist_release(&line.args);
	cli_strlist_release(&line.used);
	return 0;
}

static const struct cli_option complete_options[] = {
	OPT_END()
};

const struct cli_command cli_cmd_complete = {
	.name = "__complete",
	.run = run_complete,
	.summary = "Answer a shell completion request (cobra's protocol)",
	.usage = "__complete [WORD...] PARTIAL",
	.description = "Print the completions of PARTIAL after WORDs, one per line with an optional\n"
		       "TAB and description, then \":<directive>\". Used by the completion scripts and\n"
		       "by kubectl through kubectl_complete-azlinux.",
	.examples = NULL,
	.options = complete_options,
	.args_complete = CLI_COMPLETE_NONE,
	.hidden = 1,
};
