#include "print.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "error.h"
#include "wrapper.h"

/* ---- tables ---------------------------------------------------------- */

struct cli_table {
	const struct cli_column *columns;
	size_t ncols;
	char **cells;          /* nrows * ncols, escaped */
	size_t nrows;
	size_t alloc;          /* rows */
};

int cli_table_new(struct cli_table **out, const struct cli_column *columns)
{
	struct cli_table *t = xcalloc(1, sizeof(*t));

	t->columns = columns;
	while (columns[t->ncols].name)
		t->ncols++;
	*out = t;
	return 0;
}

void cli_table_free(struct cli_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* kubectl's printers escape terminal control: ESC as ^[ and CR as \r, so
 * a hostile label cannot rewrite the screen. */
static char *escape_cell(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	if (!s || !*s)
		s = "<none>";
	for (; *s; s++) {
		if (*s == '\033')
			strbuf_addstr(&sb, "^[");
		else if (*s == '\r')
			strbuf_addstr(&sb, "\\r");
		else
			strbuf_addch(&sb, *s);
	}
	return strbuf_detach(&sb, NULL);
}

void cli_table_add_row(struct cli_table *t, const char *const *cells)
{
	size_t i;

	if (t->nrows == t->alloc) {
		size_t alloc = t->alloc ? 2 * t->alloc : 16;
		t->cells = xrealloc(t->cells, alloc * t->ncols * sizeof(*t->cells));
		t->alloc = alloc;
	}
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = escape_cell(cells[i]);
	t->nrows++;
}

size_t cli_table_rows(const struct cli_table *t)
{
	return t->nrows;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void upper(struct strbuf *sb, const char *s)
{
	for (; *s; s++)
		strbuf_addch(sb, *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s);
}

static void add_row(struct strbuf *sb, const struct cli_table *t, const char *const *row,
		    const size_t *widths, int wide)
{
	size_t i, last = 0;

	for (i = 0; i < t->ncols; i++)
		if (wide || !t->columns[i].wide)
			last = i;
	for (i = 0; i < t->ncols; i++) {
		if (!wide && t->columns[i].wide)
			continue;
		strbuf_addstr(sb, row[i]);
		if (i == last)
			break;
		strbuf_addchars(sb, ' ', widths[i] - text_width(row[i]));
	}
	strbuf_addch(sb, '\n');
}

/* Columns as wide as their widest cell plus kubectl's tabwriter padding
 * (minwidth 6, padding 3). */
static void column_widths(const struct cli_table *t, char **headers, size_t *widths)
{
	size_t i, r;

	for (i = 0; i < t->ncols; i++) {
		widths[i] = headers ? text_width(headers[i]) : 0;
		for (r = 0; r < t->nrows; r++) {
			size_t w = text_width(t->cells[r * t->ncols + i]);

			if (w > widths[i])
				widths[i] = w;
		}
		widths[i] = widths[i] + 3 < 6 ? 6 : widths[i] + 3;
	}
}

void cli_table_print(const struct cli_table *t, FILE *out, int wide, int headers)
{
	struct strbuf sb = STRBUF_INIT;
	char **names = xcalloc(t->ncols + 1, sizeof(*names));
	size_t *widths = xcalloc(t->ncols + 1, sizeof(*widths));
	size_t i, r;

	for (i = 0; i < t->ncols; i++) {
		struct strbuf name = STRBUF_INIT;

		upper(&name, t->columns[i].name);
		names[i] = strbuf_detach(&name, NULL);
	}
	column_widths(t, headers ? names : NULL, widths);
	if (headers)
		add_row(&sb, t, (const char *const *)names, widths, wide);
	for (r = 0; r < t->nrows; r++)
		add_row(&sb, t, (const char *const *)t->cells + r * t->ncols, widths, wide);
	fwrite(sb.buf, 1, sb.len, out);
	strbuf_release(&sb);
	for (i = 0; i < t->ncols; i++)
		free(names[i]);
	free(names);
	free(widths);
}

/* ---- UTF-8 ----------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1fu;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0fu;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* s, or a copy in tmp with each byte that does not start a well-formed
 * sequence replaced by U+FFFD, as Go's encoding/json (so kubectl) decodes
 * a server's strings: libyaml refuses ill-formed UTF-8 and JSON cannot
 * carry it. */
static const char *valid_utf8(const char *s, struct strbuf *tmp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p && (n = utf8_len(p)) > 0)
		p += n;
	if (!*p)
		return s;
	strbuf_reset(tmp);
	strbuf_add(tmp, s, (size_t)((const char *)p - s));
	while (*p) {
		n = utf8_len(p);
		if (n)
			strbuf_add(tmp, p, n);
		else
			strbuf_addstr(tmp, "\xef\xbf\xbd");
		p += n ? n : 1;
	}
	return tmp->buf;
}

/* ---- JSON ------------------------------------------------------------ */

static void add_number(struct strbuf *sb, double d)
{
	/* d - d is NaN for inf and NaN, which JSON cannot carry */
	if (d - d != 0)
		strbuf_addstr(sb, "null");
	else if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
		strbuf_addf(sb, "%lld", (long long)d);
	else
		strbuf_addf(sb, "%.17g", d);
}

/* Escapes like Go's encoding/json, which kubectl uses: HTML-significant
 * characters as \u00XX too. */
static void add_json_string(struct strbuf *sb, const char *text)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *s = valid_utf8(text, &tmp);

	strbuf_addch(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': strbuf_addstr(sb, "\\\""); break;
		case '\\': strbuf_addstr(sb, "\\\\"); break;
		case '\n': strbuf_addstr(sb, "\\n"); break;
		case '\r': strbuf_addstr(sb, "\\r"); break;
		case '\t': strbuf_addstr(sb, "\\t"); break;
		default:
			if (c < 0x20 || c == '<' || c == '>' || c == '&')
				strbuf_addf(sb, "\\u%04x", c);
			else
				strbuf_addch(sb, (char)c);
		}
	}
	strbuf_addch(sb, '"');
	strbuf_release(&tmp);
}

static void add_indent(struct strbuf *sb, int depth)
{
	strbuf_addchars(sb, ' ', 4 * (size_t)depth);
}

static void add_json_collection(struct strbuf *sb, const cJSON *v, int depth);

static void add_json(struct strbuf *sb, const cJSON *v, int depth)
{

	if (!v || cJSON_IsNull(v) || cJSON_IsInvalid(v)) {
		strbuf_addstr(sb, "null");
	} else if (cJSON_IsBool(v)) {
		strbuf_addstr(sb, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		add_number(sb, v->valuedouble);
	} else if (cJSON_IsString(v)) {
		add_json_string(sb, v->valuestring);
	} else if (cJSON_IsRaw(v)) {
		strbuf_addstr(sb, v->valuestring);
	} else {
		add_json_collection(sb, v, depth);
	}
}

static void add_json_collection(struct strbuf *sb, const cJSON *v, int depth)
{
	const cJSON *child;
	int object = cJSON_IsObject(v);

	if (!v->child) {
		strbuf_addstr(sb, object ? "{}" : "[]");
		return;
	}
	strbuf_addstr(sb, object ? "{\n" : "[\n");
	for (child = v->child; child; child = child->next) {
		add_indent(sb, depth + 1);
		if (object) {
			add_json_string(sb, child->string);
			strbuf_addstr(sb, ": ");
		}
		add_json(sb, child, depth + 1);
		strbuf_addstr(sb, child->next ? ",\n" : "\n");
	}
	add_indent(sb, depth);
	strbuf_addch(sb, object ? '}' : ']');
}

void cli_json_format(struct strbuf *sb, const cJSON *value)
{
	add_json(sb, value, 0);
}

void cli_print_json(FILE *out, const cJSON *value)
{
	struct strbuf sb = STRBUF_INIT;

	cli_json_format(&sb, value);
	strbuf_addch(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, out);
	strbuf_release(&sb);
}

/* ---- YAML ------------------------------------------------------------ */

/* YAML 1.1 numbers: 0b1, 0x1F, 0o17, 017, 1_000, 3.0, .5, 1e3, 1:20. */
static int looks_numeric(const char *s)
{
	const char *p = s + (*s == '+' || *s == '-');
	size_t whole, frac = 0;

	if (p[0] == '0' && p[1] && strchr("box", p[1]) && p[2])
		return !p[2 + strspn(p + 2, "0123456789abcdefABCDEF_")];
	whole = strspn(p, "0123456789_:");
	if (whole && !strchr("0123456789", *p))
		return 0;
	p += whole;
	if (*p == '.') {
		frac = strspn(p + 1, "0123456789_");
		p += 1 + frac;
	}
	if (!whole && !frac)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '+' || p[1] == '-');
		if (!strchr("0123456789", *p) || !*p)
			return 0;
		p += strspn(p, "0123456789");
	}
	return !*p;
}

/* Plain scalars YAML 1.1 would read as something other than a string. */
static int looks_typed(const char *s)
{
	static const char *const words[] = {
		"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
		"true", "True", "TRUE", "false", "False", "FALSE",
		"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
		".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN",
	};
	size_t i;

	if (!*s)
		return 1;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(s, words[i]))
			return 1;
	/* timestamps: 2026-11-27, 2026-11-27T20:00:00Z */
	if (strlen(s) >= 10 && strspn(s, "0123456789") == 4 && s[4] == '-' && s[7] == '-')
		return 1;
	return looks_numeric(s);
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(e, ev))
		return azl_error_set(AZL_ERROR, "cannot write YAML: %s",
				     e->problem ? e->problem : "emitter error");
	return 0;
}

/* An event that libyaml could not make (it then leaves ev as it was,
 * never to be emitted). */
static int made(int ok)
{
	return ok ? 0 : azl_error_set(AZL_ERROR, "cannot write YAML: out of memory");
}

static int emit_scalar(yaml_emitter_t *e, const char *raw, yaml_scalar_style_t style)
{
	struct strbuf tmp = STRBUF_INIT;
	const char *text = valid_utf8(raw, &tmp);
	yaml_event_t ev;
	size_t len = strlen(text);
	int rc;

	if (len > INT_MAX)
		rc = azl_error_set(AZL_EINVALID, "cannot write YAML: a value of %zu bytes", len);
	else
		rc = made(yaml_scalar_event_initialize(&ev, NULL, NULL,
						       (yaml_char_t *)(uintptr_t)text,
						       (int)len, 1, 1, style));
	if (!rc)
		rc = emit(e, &ev);
	strbuf_release(&tmp);
	return rc;
}

static int emit_value(yaml_emitter_t *e, const cJSON *v);

static int emit_children(yaml_emitter_t *e, const cJSON *v, int object)
{
	const cJSON *child;
	int rc = 0;

	for (child = v->child; child && !rc; child = child->next) {
		if (object)
			rc = emit_scalar(e, child->string, looks_typed(child->string)
					 ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
		if (!rc)
			rc = emit_value(e, child);
	}
	return rc;
}

static int emit_collection(yaml_emitter_t *e, const cJSON *v)
{
	yaml_event_t ev;
	int object = cJSON_IsObject(v), rc;

	if (object)
		rc = made(yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
							      YAML_BLOCK_MAPPING_STYLE));
	else
		rc = made(yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							       YAML_BLOCK_SEQUENCE_STYLE));
	if (!rc)
		rc = emit(e, &ev);
	if (!rc)
		rc = emit_children(e, v, object);
	if (rc)
		return rc;
	rc = made(object ? yaml_mapping_end_event_initialize(&ev)
		  : yaml_sequence_end_event_initialize(&ev));
	return rc ? rc : emit(e, &ev);
}

static int emit_value(yaml_emitter_t *e, const cJSON *v)
{
	struct strbuf num = STRBUF_INIT;
	int rc;

	if (!v || cJSON_IsNull(v))
		return emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
	if (cJSON_IsBool(v))
		return emit_scalar(e, cJSON_IsTrue(v) ? "true" : "false", YAML_PLAIN_SCALAR_STYLE);
	if (cJSON_IsString(v))
		return emit_scalar(e, v->valuestring, looks_typed(v->valuestring)
				   ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return emit_collection(e, v);
	add_number(&num, v->valuedouble);
	rc = emit_scalar(e, num.buf, YAML_PLAIN_SCALAR_STYLE);
	strbuf_release(&num);
	return rc;
}

static int write_to_strbuf(void *data, unsigned char *buffer, size_t size)
{
	strbuf_add(data, buffer, size);
	return 1;
}

static int emit_document(yaml_emitter_t *e, const cJSON *value)
{
	yaml_event_t ev;
	int rc;

	rc = made(yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
	if (!rc)
		rc = emit(e, &ev);
	if (!rc)
		rc = made(yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
	if (!rc)
		rc = emit(e, &ev);
	if (!rc)
		rc = emit_value(e, value);
	if (!rc)
		rc = made(yaml_document_end_event_initialize(&ev, 1));
	if (!rc)
		rc = emit(e, &ev);
	if (!rc)
		rc = made(yaml_stream_end_event_initialize(&ev));
	if (!rc)
		rc = emit(e, &ev);
	return rc;
}

int cli_yaml_format(struct strbuf *sb, const cJSON *value)
{
	yaml_emitter_t e;
	int rc;

	if (!yaml_emitter_initialize(&e))
		return azl_error_set(AZL_ERROR, "cannot start the YAML emitter: out of memory");
	yaml_emitter_set_output(&e, write_to_strbuf, sb);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_indent(&e, 2);
	yaml_emitter_set_width(&e, -1);  /* never fold long values */
	rc = emit_document(&e, value);
	yaml_emitter_delete(&e);
	return rc;
}

int cli_print_yaml(FILE *out, const cJSON *value)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = cli_yaml_format(&sb, value);

	if (!rc)
		fwrite(sb.buf, 1, sb.len, out);
	strbuf_release(&sb);
	return rc;
}

/* ---- names, ages, colour ---------------------------------------------- */

void cli_print_name(FILE *out, const char *kind, const char *name)
{
	fprintf(out, "%s/%s\n", kind, name);
}

const char *cli_plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* Mirrors k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
static void human_duration(struct strbuf *sb, long long secs)
{
	long long mins = secs / 60, hours = secs / 3600, days = hours / 24;

	if (secs < -1)
		strbuf_addstr(sb, "<invalid>");
	else if (secs < 0)
		strbuf_addstr(sb, "0s");
	else if (secs < 120)
		strbuf_addf(sb, "%llds", secs);
	else if (mins < 10)
		secs % 60 ? strbuf_addf(sb, "%lldm%llds", mins, secs % 60)
			  : strbuf_addf(sb, "%lldm", mins);
	else if (mins < 180)
		strbuf_addf(sb, "%lldm", mins);
	else if (hours < 8)
		mins % 60 ? strbuf_addf(sb, "%lldh%lldm", hours, mins % 60)
			  : strbuf_addf(sb, "%lldh", hours);
	else if (hours < 48)
		strbuf_addf(sb, "%lldh", hours);
	else if (hours < 24 * 8)
		hours % 24 ? strbuf_addf(sb, "%lldd%lldh", days, hours % 24)
			   : strbuf_addf(sb, "%lldd", days);
	else if (hours < 24 * 365 * 2)
		strbuf_addf(sb, "%lldd", days);
	else if (hours < 24 * 365 * 8)
		days % 365 ? strbuf_addf(sb, "%lldy%lldd", days / 365, days % 365)
			   : strbuf_addf(sb, "%lldy", days / 365);
	else
		strbuf_addf(sb, "%lldy", days / 365);
}

void cli_format_age(struct strbuf *sb, time_t then, time_t now)
{
	if (!then)
		strbuf_addstr(sb, "<unknown>");
	else
		human_duration(sb, (long long)(now - then));
}

int cli_color_enabled(FILE *f)
{
	const char *term = getenv("TERM");

	return isatty(fileno(f)) && !getenv("NO_COLOR") && !(term && !strcmp(term, "dumb"));
}

void cli_color_add(struct strbuf *sb, int enabled, enum cli_color c, const char *s)
{
	static const char *const codes[] = {
		[CLI_COLOR_RED] = "\033[31m",
		[CLI_COLOR_GREEN] = "\033[32m",
		[CLI_COLOR_YELLOW] = "\033[33m",
		[CLI_COLOR_BOLD] = "\033[1m",
	};

	if (!enabled) {
		strbuf_addstr(sb, s);
		return;
	}
	strbuf_addstr(sb, codes[c]);
	strbuf_addstr(sb, s);
	strbuf_addstr(sb, "\033[0m");
}
