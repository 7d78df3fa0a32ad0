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
#ifndef AZL_PARSE_OPTIONS_H
#define AZL_PARSE_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

struct azl_command;

enum azl_opt_type {
	AZL_OPT_END,
	AZL_OPT_GROUP,       /* a heading in --help; help is the title */
	AZL_OPT_BOOL,        /* int: 1 when given */
	AZL_OPT_STRING,      /* const char *, points into argv */
	AZL_OPT_INT,         /* int */
	AZL_OPT_STRING_LIST, /* struct azl_strlist, appended per use */
	AZL_OPT_CALLBACK     /* takes a value, handed to callback */
};

/* What a shell should offer for the option's value (or a positional). */
enum azl_opt_complete {
	AZL_COMPLETE_NONE,
	AZL_COMPLETE_FILE,
	AZL_COMPLETE_OUTPUT_FORMAT,
	AZL_COMPLETE_CONTEXT,
	AZL_COMPLETE_CLUSTER,
	AZL_COMPLETE_USER,
	AZL_COMPLETE_NAMESPACE,
	AZL_COMPLETE_POOL,
	AZL_COMPLETE_CLOUD,
	AZL_COMPLETE_AUTH,
	AZL_COMPLETE_NODE          /* the cluster's node names */
};

enum azl_opt_flags {
	AZL_OPTF_HIDDEN = 1 << 0 /* parsed, but not in --help or completion */
};

struct azl_option;

/* Called with the option's value; values is the command's arguments
 * struct. Returns 0, or a negative AZL_E* code after azl_error_set(). */
typedef int (*azl_opt_callback)(const struct azl_option *opt, const char *arg,
				void *values);

struct azl_option {
	enum azl_opt_type type;
	int short_name;          /* 0: none */
	const char *long_name;   /* NULL: none */
	size_t offset;           /* of the value in the arguments struct */
	const char *argh;        /* value placeholder in --help ("NAME") */
	const char *help;
	int flags;               /* enum azl_opt_flags */
	enum azl_opt_complete complete;
	azl_opt_callback callback;
	const char *def;         /* default shown in --help, or NULL */
};

/* A list of strings borrowed from argv. */
struct azl_strlist {
	const char **items;
	size_t nr;
	size_t alloc;
};
#define AZL_STRLIST_INIT { NULL, 0, 0 }
void azl_strlist_append(struct azl_strlist *list, const char *s);
void azl_strlist_release(struct azl_strlist *list);

/* Checks at compile time that T's member has the C type the option
 * stores, and yields its offset. */
#define AZL_OPT_OFFSET(T, member, ctype) \
	_Generic(((T *)0)->member, ctype: offsetof(T, member))

#define OPT_END() { AZL_OPT_END, 0, NULL, 0, NULL, NULL, 0, AZL_COMPLETE_NONE, NULL, NULL }
#define OPT_GROUP(title) \
	{ AZL_OPT_GROUP, 0, NULL, 0, NULL, (title), 0, AZL_COMPLETE_NONE, NULL, NULL }
#define OPT_BOOL(s, l, T, m, h) \
	{ AZL_OPT_BOOL, (s), (l), AZL_OPT_OFFSET(T, m, int), NULL, (h), 0, \
	  AZL_COMPLETE_NONE, NULL, NULL }
#define OPT_STRING(s, l, T, m, a, h, c) \
	{ AZL_OPT_STRING, (s), (l), AZL_OPT_OFFSET(T, m, const char *), (a), (h), 0, \
	  (c), NULL, NULL }
#define OPT_INT(s, l, T, m, a, h) \
	{ AZL_OPT_INT, (s), (l), AZL_OPT_OFFSET(T, m, int), (a), (h), 0, \
	  AZL_COMPLETE_NONE, NULL, NULL }
#define OPT_STRING_LIST(s, l, T, m, a, h, c) \
	{ AZL_OPT_STRING_LIST, (s), (l), AZL_OPT_OFFSET(T, m, struct azl_strlist), \
	  (a), (h), 0, (c), NULL, NULL }
#define OPT_CALLBACK(s, l, a, h, c, fn) \
	{ AZL_OPT_CALLBACK, (s), (l), 0, (a), (h), 0, (c), (fn), NULL }
/* Variants carrying the rarer fields. */
#define OPT_HIDDEN_BOOL(s, l, T, m, h) \
	{ AZL_OPT_BOOL, (s), (l), AZL_OPT_OFFSET(T, m, int), NULL, (h), \
	  AZL_OPTF_HIDDEN, AZL_COMPLETE_NONE, NULL, NULL }
#define OPT_STRING_DEF(s, l, T, m, a, h, c, d) \
	{ AZL_OPT_STRING, (s), (l), AZL_OPT_OFFSET(T, m, const char *), (a), (h), 0, \
	  (c), NULL, (d) }

/* Does the option consume a value (for completion: "--flag <TAB>")? */
int azl_option_takes_value(const struct azl_option *opt);

/* Finds an option by long name or short letter in a descriptor array
 * (groups and hidden options included); NULL when absent. */
const struct azl_option *azl_option_find_long(const struct azl_option *opts,
					      const char *name, size_t len);
const struct azl_option *azl_option_find_short(const struct azl_option *opts,
					       int c);

#define AZL_PARSE_ERROR (-1)  /* message printed: exit 1 */
#define AZL_PARSE_HELP  (-2)  /* --help printed: exit 0 */

/* Parses argv[1..argc) for cmd (argv[0] is the command's name), storing
 * values into the struct at values. Positional arguments are moved to
 * argv[0..n) and n is returned. On a usage error prints "error: ..." and
 * the help hint to stderr and returns AZL_PARSE_ERROR; on -h/--help
 * prints the command's help to stdout and returns AZL_PARSE_HELP.
 * prog is how the user invoked us ("kubectl azlinux"). */
int azl_parse_options(int argc, const char **argv, const char *prog,
		      const struct azl_command *cmd, void *values);

/* The exit status for a negative azl_parse_options() result. */
static inline int azl_parse_exit_code(int n) { return n == AZL_PARSE_HELP ? 0 : 1; }

/* Writes the command's --help text to out. */
void azl_usage_with_options(FILE *out, const char *prog,
			    const struct azl_command *cmd);

#endif
