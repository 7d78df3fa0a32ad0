/* The option parser (plugin/parse-options.c) with kubectl's global flags
 * and one option of every other kind; argv is the input split at NULs.
 * Its usage errors and --help go to /dev/null while it runs. */
#include "fuzz.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "error.h"

struct fuzz_args {
	const char *output;
	int wide;
	int count;
	struct cli_strlist pools;
	struct cli_global_flags g;
};

static int only_ab(const struct cli_option *opt, const char *arg, void *values)
{
	(void)opt;
	(void)values;
	if (strcmp(arg, "a") && strcmp(arg, "b"))
		return azl_error_set(AZL_EINVALID, "--mode must be a or b, not '%s'", arg);
	return 0;
}

static const struct cli_option options[] = {
	OPT_STRING('o', "output", struct fuzz_args, output, "FORMAT", "Output format.",
		   CLI_COMPLETE_OUTPUT_FORMAT),
	OPT_BOOL('w', "wide", struct fuzz_args, wide, "Wide."),
	OPT_INT('c', "count", struct fuzz_args, count, "N", "A count."),
	OPT_STRING_LIST('p', "pool", struct fuzz_args, pools, "NAME", "Pools.", CLI_COMPLETE_POOL),
	OPT_CALLBACK('m', "mode", "MODE", "a or b.", CLI_COMPLETE_NONE, only_ab),
	CLI_OPT_GLOBAL_FLAGS(struct fuzz_args, g),
	OPT_END()
};

static const struct cli_command command = {
	"fuzz", NULL, "Fuzz the option parser", "fuzz [flags]", NULL, NULL, options,
	CLI_COMPLETE_POOL, 0
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf s = STRBUF_INIT;
	struct fuzz_args args;
	const char **argv = calloc(size + 2, sizeof(*argv));
	int argc = 1, out, err, null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	fuzz_str(&s, data, size);
	argv[0] = "fuzz";
	for (size_t i = 0; i < s.len; i += strlen(s.buf + i) + 1)
		argv[argc++] = s.buf + i;
	memset(&args, 0, sizeof(args));
	fflush(stdout);
	out = dup(1);
	err = dup(2);
	dup2(null, 1);
	dup2(null, 2);
	cli_parse_options(argc, argv, "kubectl azlinux", &command, &args);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	close(null);
	cli_strlist_release(&args.pools);
	free(argv);
	strbuf_release(&s);
	return 0;
}
