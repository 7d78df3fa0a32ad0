/* Printers, after kubectl's: tables with upper-case headers, JSON with a
 * 4-space indent, YAML through libyaml's emitter, and "kind/name". They
 * know nothing of Kubernetes: they print cJSON trees and rows of strings. */
#ifndef CLI_PRINT_H
#define CLI_PRINT_H

#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "strbuf.h"

struct cli_column {
	const char *name;   /* upper-cased when printed */
	int wide;           /* only with -o wide */
};

struct cli_table;

/* columns ends with { NULL, 0 }; it is borrowed and must outlive t. */
int cli_table_new(struct cli_table **out, const struct cli_column *columns);
void cli_table_free(struct cli_table *t);

/* Appends a row: one cell per column (wide ones included), in order.
 * NULL or "" cells print as "<none>"; ESC and CR are escaped. */
void cli_table_add_row(struct cli_table *t, const char *const *cells);
size_t cli_table_rows(const struct cli_table *t);

/* Columns padded to the widest cell plus 3 spaces, no trailing spaces. */
void cli_table_print(const struct cli_table *t, FILE *out, int wide, int headers);

/* Appends JSON with a 4-space indent and keys in insertion order. */
void cli_json_format(struct strbuf *sb, const cJSON *value);
/* Prints cli_json_format() and a newline. */
void cli_print_json(FILE *out, const cJSON *value);

/* Appends a block-style YAML document ("key: value", strings quoted when
 * they would read back as another type). Returns 0 or AZL_ERROR. */
int cli_yaml_format(struct strbuf *sb, const cJSON *value);
int cli_print_yaml(FILE *out, const cJSON *value);

/* "node/<name>\n" */
void cli_print_name(FILE *out, const char *kind, const char *name);

/* one when n is 1, else many: "1 pool", "2 pools", "0 pools". */
const char *cli_plural(size_t n, const char *one, const char *many);

/* kubectl's HumanDuration of now - then ("45s", "5m10s", "3h", "2d5h",
 * "10d", "2y"); "<unknown>" when then is 0. */
void cli_format_age(struct strbuf *sb, time_t then, time_t now);

/* Colour is used only on a terminal with NO_COLOR unset and TERM != dumb. */
int cli_color_enabled(FILE *f);

enum cli_color {
	CLI_COLOR_RED,
	CLI_COLOR_GREEN,
	CLI_COLOR_YELLOW,
	CLI_COLOR_BOLD
};
/* Appends s, wrapped in the colour's escape codes when enabled. */
void cli_color_add(struct strbuf *sb, int enabled, enum cli_color c, const char *s);

#endif
