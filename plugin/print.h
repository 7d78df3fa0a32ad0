/* Printers, after kubectl's: tables with upper-case headers, JSON with a
 * 4-space indent, YAML through libyaml's emitter, and "kind/name". They
 * know nothing of Kubernetes: they print cJSON trees and rows of strings. */
#ifndef AZL_PRINT_H
#define AZL_PRINT_H

#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "strbuf.h"

struct azl_column {
	const char *name;   /* upper-cased when printed */
	int wide;           /* only with -o wide */
};

struct azl_table;

/* columns ends with { NULL, 0 }; it is borrowed and must outlive t. */
int azl_table_new(struct azl_table **out, const struct azl_column *columns);
void azl_table_free(struct azl_table *t);

/* Appends a row: one cell per column (wide ones included), in order.
 * NULL or "" cells print as "<none>"; ESC and CR are escaped. */
void azl_table_add_row(struct azl_table *t, const char *const *cells);
size_t azl_table_rows(const struct azl_table *t);

/* Columns padded to the widest cell plus 3 spaces, no trailing spaces. */
void azl_table_print(const struct azl_table *t, FILE *out, int wide, int headers);

/* Appends JSON with a 4-space indent and keys in insertion order. */
void azl_json_format(struct strbuf *sb, const cJSON *value);
/* Prints azl_json_format() and a newline. */
void azl_print_json(FILE *out, const cJSON *value);

/* Appends a block-style YAML document ("key: value", strings quoted when
 * they would read back as another type). Returns 0 or AZL_ERROR. */
int azl_yaml_format(struct strbuf *sb, const cJSON *value);
int azl_print_yaml(FILE *out, const cJSON *value);

/* "node/<name>\n" */
void azl_print_name(FILE *out, const char *kind, const char *name);

/* one when n is 1, else many: "1 pool", "2 pools", "0 pools". */
const char *azl_plural(size_t n, const char *one, const char *many);

/* kubectl's HumanDuration of now - then ("45s", "5m10s", "3h", "2d5h",
 * "10d", "2y"); "<unknown>" when then is 0. */
void azl_format_age(struct strbuf *sb, time_t then, time_t now);

/* Colour is used only on a terminal with NO_COLOR unset and TERM != dumb. */
int azl_color_enabled(FILE *f);

enum azl_color {
	AZL_COLOR_RED,
	AZL_COLOR_GREEN,
	AZL_COLOR_YELLOW,
	AZL_COLOR_BOLD
};
/* Appends s, wrapped in the colour's escape codes when enabled. */
void azl_color_add(struct strbuf *sb, int enabled, enum azl_color c, const char *s);

#endif
