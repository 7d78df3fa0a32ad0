/* The printers (plugin/print.c) with whatever the models pass them: any
 * JSON as -o yaml and -o json, and an array of arrays of strings as a
 * table, wide and not, with and without headers. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "print.h"

static const struct cli_column columns[] = {
	{ "name", 0 }, { "status", 0 }, { "version", 1 }, { NULL, 0 }
};

static void table(const cJSON *rows, FILE *null)
{
	struct cli_table *t = NULL;
	const cJSON *row;

	cli_table_new(&t, columns);
	cJSON_ArrayForEach(row, rows) {
		const char *cells[3] = { NULL, NULL, NULL };
		int i = 0;
		const cJSON *c;

		cJSON_ArrayForEach(c, row)
			if (i < 3)
				cells[i++] = cJSON_IsString(c) ? c->valuestring : NULL;
		cli_table_add_row(t, cells);
	}
	cli_table_print(t, null, 0, 1);
	cli_table_print(t, null, 1, 0);
	cli_table_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	struct strbuf sb = STRBUF_INIT;

	if (!null && !(null = fopen("/dev/null", "w")))
		abort();
	if (!doc)
		return 0;
	cli_yaml_format(&sb, doc);
	strbuf_reset(&sb);
	cli_json_format(&sb, doc);
	if (cJSON_IsArray(doc))
		table(doc, null);
	if (cJSON_IsNumber(doc) && doc->valuedouble >= -1e12 && doc->valuedouble <= 1e12)
		cli_format_age(&sb, (time_t)doc->valuedouble, 1700000000);
	strbuf_release(&sb);
	cJSON_Delete(doc);
	return 0;
}
