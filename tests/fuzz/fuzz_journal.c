/* The operation journal as a crash, a disk or another release may leave it
 * ($XDG_STATE_HOME/kubectl-azlinux/operations/<id>.json): loaded read-only,
 * every accessor read, and listed with the others. */
#include "fuzz.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "journal.h"

static void mkdirs(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, path);
	for (size_t i = 1; i < sb.len; i++)
		if (sb.buf[i] == '/') {
			sb.buf[i] = '\0';
			mkdir(sb.buf, 0700);
			sb.buf[i] = '/';
		}
	mkdir(sb.buf, 0700);
	strbuf_release(&sb);
}

static void read_all(const struct azl_journal *j)
{
	(void)azl_journal_id(j);
	(void)azl_journal_kind(j);
	(void)azl_journal_path(j);
	(void)azl_journal_context(j);
	(void)azl_journal_target_field(j, "pool");
	(void)azl_journal_target_field(j, "cluster");
	(void)azl_journal_created(j);
	(void)azl_op_state_name(azl_journal_state(j));
	for (size_t i = 0; i < azl_journal_nr_steps(j); i++) {
		(void)azl_journal_step_name(j, i);
		(void)azl_step_state_name(azl_journal_step_state(j, i));
	}
	(void)azl_journal_handle(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct strbuf dir = STRBUF_INIT;
	struct strbuf path = STRBUF_INIT, errors = STRBUF_INIT;
	struct azl_journal_list list = { 0 };
	struct azl_journal *j = NULL;

	if (!dir.len) {
		struct strbuf state = STRBUF_INIT;

		strbuf_addf(&state, "%s/.local/state", fuzz_home());
		setenv("XDG_STATE_HOME", state.buf, 1);
		strbuf_release(&state);
		if (azl_journal_dir(&dir) < 0)
			abort();
		mkdirs(dir.buf);
	}
	strbuf_addf(&path, "%s/20261201T000000Z-0badf00d.json", dir.buf);
	fuzz_write_file(path.buf, data, size);
	if (azl_journal_load(&j, "20261201T000000Z-0badf00d", 0) == 0) {
		read_all(j);
		azl_journal_free(j);
	}
	if (azl_journal_list(&list, &errors) == 0)
		for (size_t i = 0; i < list.nr; i++)
			read_all(list.items[i]);
	azl_journal_list_release(&list);
	strbuf_release(&errors);
	strbuf_release(&path);
	return 0;
}
