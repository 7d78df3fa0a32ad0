/* One option parser for every command (after git's parse-options.h), with
 * the flag syntax kubectl users expect from pflag.
 *
 * Descriptor arrays are static and const: each option names its value by
 * offset into the command's own arguments struct, so the same array serves
 * parsing, --help and shell completion (which reads it without running the
 * command). Build arrays with the OPT_* macros; end them with OPT_END().
 *
 * Accepted syntax: --opt=v, --opt v, -o v, -ov, -o=v (so -v=6 and --v=6
 * both work), bundled short booleans (-ab), --bool=true|false, "--" ends
 * the options, and options may follow positional arguments. */
#ifndef CLI_PARSE_OPTIONS_H
#define CLI_PARSE_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

struct cli_command;

enum cli_opt_type {
	CLI_OPT_END,
	CLI_OPT_GROUP,       /* a heading in --help; help is the title */
	CLI_OPT_BOOL,        /* int: 1 when given */
	CLI_OPT_STRING,      /* const char *, points into argv */
	CLI_OPT_INT,         /* int */
	CLI_OPT_STRING_LIST, /* struct cli_strlist, appended per use */
	CLI_OPT_CALLBACK     /* takes a value, handed to callback */
};

/* What a shell should offer for the option's value (or a positional). */
enum cli_opt_complete {
	CLI_COMPLETE_NONE,
	CLI_COMPLETE_FILE,
	CLI_COMPLETE_OUTPUT_FORMAT,
	CLI_COMPLETE_CONTEXT,
	CLI_COMPLETE_CLUSTER,
	CLI_COMPLETE_USER,
	CLI_COMPLETE_NAMESPACE,
	CLI_COMPLETE_POOL,
	CLI_COMPLETE_CLOUD,
	CLI_COMPLETE_AUTH,
	CLI_COMPLETE_NODE,         /* the cluster's node names */
	CLI_COMPLETE_NODE_OS_CHANNEL
};

enum cli_opt_flags {
	CLI_OPTF_HIDDEN = 1 << 0 /* parsed, but not in --help or completion */
};

struct cli_option;

/* Called with the option's value; values is the command's arguments
 * struct. Returns 0, or a negative AZL_E* code after azl_error_set(). */
typedef int (*cli_opt_callback)(const struct cli_option *opt, const char *arg,
				void *values);

struct cli_option {
	enum cli_opt_type type;
	int short_name;          /* 0: none */
	const char *long_name;   /* NULL: none */
	size_t offset;           /* of the value in the arguments struct */
	const char *argh;        /* value placeholder in --help ("NAME") */
	const char *help;
	int flags;               /* enum cli_opt_flags */
	enum cli_opt_complete complete;
	cli_opt_callback callback;
	const char *def;         /* default shown in --help, or NULL */
};

/* A list of strings borrowed from argv. */
struct cli_strlist {
	const char **items;
	size_t nr;
	size_t alloc;
};
#define CLI_STRLIST_INIT { NULL, 0, 0 }
void cli_strlist_append(struct cli_strlist *list, const char *s);
void cli_strlist_release(struct cli_strlist *list);

/* Checks at compile time that T's member has the C type the option
 * stores, and yields its offset. */
#define CLI_OPT_OFFSET(T, member, ctype) \
	_Generic(((T *)0)->member, ctype: offsetof(T, member))

#define OPT_END() { CLI_OPT_END, 0, NULL, 0, NULL, NULL, 0, CLI_COMPLETE_NONE, NULL, NULL }
#define OPT_GROUP(title) \
	{ CLI_OPT_GROUP, 0, NULL, 0, NULL, (title), 0, CLI_COMPLETE_NONE, NULL, NULL }
#define OPT_BOOL(s, l, T, m, h) \
	{ CLI_OPT_BOOL, (s), (l), CLI_OPT_OFFSET(T, m, int), NULL, (h), 0, \
	  CLI_COMPLETE_NONE, NULL, NULL }
#define OPT_STRING(s, l, T, m, a, h, c) \
	{ CLI_OPT_STRING, (s), (l), CLI_OPT_OFFSET(T, m, const char *), (a), (h), 0, \
	  (c), NULL, NULL }
#define OPT_INT(s, l, T, m, a, h) \
	{ CLI_OPT_INT, (s), (l), CLI_OPT_OFFSET(T, m, int), (a), (h), 0, \
	  CLI_COMPLETE_NONE, NULL, NULL }
#define OPT_STRING_LIST(s, l, T, m, a, h, c) \
	{ CLI_OPT_STRING_LIST, (s), (l), CLI_OPT_OFFSET(T, m, struct cli_strlist), \
	  (a), (h), 0, (c), NULL, NULL }
#define OPT_CALLBACK(s, l, a, h, c, fn) \
	{ CLI_OPT_CALLBACK, (s), (l), 0, (a), (h), 0, (c), (fn), NULL }
/* Variants carrying the rarer fields. */
#define OPT_HIDDEN_BOOL(s, l, T, m, h) \
	{ CLI_OPT_BOOL, (s), (l), CLI_OPT_OFFSET(T, m, int), NULL, (h), \
	  CLI_OPTF_HIDDEN, CLI_COMPLETE_NONE, NULL, NULL }
#define OPT_STRING_DEF(s, l, T, m, a, h, c, d) \
	{ CLI_OPT_STRING, (s), (l), CLI_OPT_OFFSET(T, m, const char *), (a), (h), 0, \
	  (c), NULL, (d) }

/* Does the option consume a value (for completion: "--flag <TAB>")? */
int cli_option_takes_value(const struct cli_option *opt);

/* Finds an option by long name or short letter in a descriptor array
 * (groups and hidden options included); NULL when absent. */
const struct cli_option *cli_option_find_long(const struct cli_option *opts,
					      const char *name, size_t len);
const struct cli_option *cli_option_find_short(const struct cli_option *opts,
					       int c);

#define CLI_PARSE_ERROR (-1)  /* message printed: exit 1 */
#define CLI_PARSE_HELP  (-2)  /* --help printed: exit 0 */

/* Parses argv[1..argc) for cmd (argv[0] is the command's name), storing
 * values into the struct at values. Positional arguments are moved to
 * argv[0..n) and n is returned. On a usage error prints "error: ..." and
 * the help hint to stderr and returns CLI_PARSE_ERROR; on -h/--help
 * prints the command's help to stdout and returns CLI_PARSE_HELP.
 * prog is how the user invoked us ("kubectl azlinux"). */
int cli_parse_options(int argc, const char **argv, const char *prog,
		      const struct cli_command *cmd, void *values);

/* The exit status for a negative cli_parse_options() result. */
static inline int cli_parse_exit_code(int n) { return n == CLI_PARSE_HELP ? 0 : 1; }

/* Writes the command's --help text to out. */
void cli_usage_with_options(FILE *out, const char *prog,
			    const struct cli_command *cmd);

#endif
