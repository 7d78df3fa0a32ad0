#include "redact.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Names of JSON members and form fields whose values are secrets. */
static const char *const secret_names[] = {
	"access_token", "refresh_token", "id_token", "client_secret",
	"client_assertion", "assertion", "device_code", "token", "password",
	"clientKeyData", "client-key-data",
	/* listClusterUserCredential: base64 kubeconfigs with keys and tokens */
	"kubeconfigs",
};

/* Extra names only secret in forms and query strings: "code" is an
 * authorization code there, but an error code in JSON bodies. "sig" is a
 * SAS signature. */
static const char *const form_only_names[] = { "code", "sig" };

/* Headers whose whole value is a credential. */
static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "x-ms-authorization-auxiliary",
	"x-identity-header", "cookie", "set-cookie",
};

/* Any header name containing one of these is treated as secret too. */
static const char *const secret_header_words[] = {
	"token", "secret", "password", "api-key",
};

static int name_in(const char *const *list, size_t n, const char *name,
		   size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len && !strncasecmp(list[i], name, len))
			return 1;
	return 0;
}

int azl_redact_is_secret_name(const char *name, size_t len)
{
	return name_in(secret_names, ARRAY_SIZE(secret_names), name, len);
}

static int form_secret_name(const char *name, size_t len)
{
	return azl_redact_is_secret_name(name, len) ||
	       name_in(form_only_names, ARRAY_SIZE(form_only_names), name, len);
}

static int contains_word(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word), i;

	for (i = 0; i + wl <= len; i++)
		if (!strncasecmp(s + i, word, wl))
			return 1;
	return 0;
}

static int secret_header(const char *name, size_t len)
{
	size_t i;

	if (name_in(secret_headers, ARRAY_SIZE(secret_headers), name, len))
		return 1;
	for (i = 0; i < ARRAY_SIZE(secret_header_words); i++)
		if (contains_word(name, len, secret_header_words[i]))
			return 1;
	return 0;
}

void azl_redact_header(struct strbuf *out, const char *line)
{
	const char *colon = strchr(line, ':');
	size_t len = strcspn(line, "\r\n");
	const char *value, *space;

	if (!colon || (size_t)(colon - line) > len ||
	    !secret_header(line, (size_t)(colon - line))) {
		strbuf_add(out, line, len);
		return;
	}
	strbuf_add(out, line, (size_t)(colon - line) + 1);
	strbuf_addch(out, ' ');
	value = colon + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	/* keep the scheme ("Bearer", "Basic") of a single credential */
	space = strchr(value, ' ');
	if (!strncasecmp(line, "authorization", 13) ||
	    !strncasecmp(line, "proxy-authorization", 19))
		if (space && space < line + len)
			strbuf_add(out, value, (size_t)(space - value) + 1);
	strbuf_addstr(out, AZL_REDACTED);
}

static int hexval(int c)
{
	if (isdigit(c))
		return c - '0';
	return tolower(c) - 'a' + 10;
}

/* Decodes a percent-encoded form name ("client%5Fsecret") into out, so an
 * encoded name cannot slip past the list. */
static void form_decode(struct strbuf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			strbuf_addch(out, hexval((unsigned char)s[i + 1]) * 16 +
					  hexval((unsigned char)s[i + 2]));
			i += 2;
			continue;
		}
		strbuf_addch(out, s[i] == '+' ? ' ' : s[i]);
	}
}

/* Appends "a=b&c=d" with the values of secret fields redacted. */
static void redact_form(struct strbuf *out, const char *s, size_t len)
{
	struct strbuf name = STRBUF_INIT;
	size_t i = 0;

	while (i < len) {
		const char *field = s + i;
		const char *amp = memchr(field, '&', len - i);
		size_t flen = amp ? (size_t)(amp - field) : len - i;
		const char *eq = memchr(field, '=', flen);

		strbuf_reset(&name);
		form_decode(&name, field, eq ? (size_t)(eq - field) : flen);
		if (eq && form_secret_name(name.buf, name.len)) {
			strbuf_add(out, field, (size_t)(eq - field) + 1);
			strbuf_addstr(out, AZL_REDACTED);
		} else {
			strbuf_add(out, field, flen);
		}
		i += flen;
		if (amp) {
			strbuf_addch(out, '&');
			i++;
		}
	}
	strbuf_release(&name);
}

void azl_redact_url(struct strbuf *out, const char *url)
{
	size_t len = strlen(url);
	const char *q = strchr(url, '?');
	size_t qlen;

	if (!q) {
		strbuf_add(out, url, len);
		return;
	}
	strbuf_add(out, url, (size_t)(q - url) + 1);
	qlen = strcspn(q + 1, "#");
	redact_form(out, q + 1, qlen);
	strbuf_addstr(out, q + 1 + qlen);
}

/* Index just past the string starting at s[i] == '"' (len if unterminated). */
static size_t skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

static size_t skip_blank(const char *s, size_t len, size_t i)
{
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	return i;
}

/* Index just past the JSON value at s[i]: a string, a balanced object or
 * array, or a scalar. A truncated value runs to the end. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	int depth = 0;

	if (i < len && s[i] == '"')
		return skip_string(s, len, i);
	for (; i < len; i++) {
		if (s[i] == '"')
			i = skip_string(s, len, i) - 1;
		else if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth <= 0)
			return depth < 0 ? i : i + 1;
		else if (!depth && (s[i] == ',' || isspace((unsigned char)s[i])))
			return i;
	}
	return len;
}

/* Decodes the text between a JSON string's quotes, including \uXXXX
 * escapes of single bytes, so "access\u005ftoken" is recognised too.
 * Other \u escapes are kept as written: they never spell a secret name. */
static void json_decode(struct strbuf *out, const char *s, size_t len)
{
	static const char from[] = "nrtbf", to[] = "\n\r\t\b\f";
	size_t i;

	for (i = 0; i < len; i++) {
		const char *e;

		if (s[i] != '\\' || i + 1 >= len) {
			strbuf_addch(out, s[i]);
			continue;
		}
		i++;
		if (s[i] == 'u' && i + 4 < len && !strncmp(s + i + 1, "00", 2) &&
		    isxdigit((unsigned char)s[i + 3]) &&
		    isxdigit((unsigned char)s[i + 4])) {
			strbuf_addch(out, hexval((unsigned char)s[i + 3]) * 16 +
					  hexval((unsigned char)s[i + 4]));
			i += 4;
		} else if (s[i] == 'u') {
			strbuf_add(out, s + i - 1, 2);
		} else {
			e = strchr(from, s[i]);
			strbuf_addch(out, e && *e ? to[e - from] : s[i]);
		}
	}
}

static void json_escape(struct strbuf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			strbuf_addch(out, '\\');
		if (c < 0x20)
			strbuf_addf(out, "\\u%04x", c);
		else
			strbuf_addch(out, c);
	}
}

/* A string value may itself hold a form or a JSON document (an echoed
 * request, an embedded ExecCredential): redact inside it too. The string
 * is re-encoded only when something was redacted. */
static void redact_string_value(struct strbuf *out, const char *s, size_t len)
{
	struct strbuf inner = STRBUF_INIT, redacted = STRBUF_INIT;
	int closed = len >= 2 && s[len - 1] == '"';

	json_decode(&inner, s + 1, len - 1 - (size_t)closed);
	azl_redact_body(&redacted, inner.buf, inner.len);
	if (redacted.len == inner.len && !memcmp(redacted.buf, inner.buf, inner.len)) {
		strbuf_add(out, s, len);
	} else {
		strbuf_addch(out, '"');
		json_escape(out, redacted.buf, redacted.len);
		if (closed)
			strbuf_addch(out, '"');
	}
	strbuf_release(&inner);
	strbuf_release(&redacted);
}

/* Scans tokens rather than parsing, so formatting is kept and truncated or
 * malformed JSON is still redacted. */
static void redact_json(struct strbuf *out, const char *s, size_t len)
{
	struct strbuf name = STRBUF_INIT;
	size_t i = 0;

	while (i < len) {
		size_t end, colon, value;

		if (s[i] != '"') {
			strbuf_addch(out, s[i++]);
			continue;
		}
		end = skip_string(s, len, i);
		colon = skip_blank(s, len, end);
		strbuf_reset(&name);
		if (end - i >= 2)
			json_decode(&name, s + i + 1, end - i - 2);
		if (colon >= len || s[colon] != ':') {
			redact_string_value(out, s + i, end - i);
			i = end;
			continue;
		}
		if (!azl_redact_is_secret_name(name.buf, name.len)) {
			strbuf_add(out, s + i, end - i);
			i = end;
			continue;
		}
		value = skip_blank(s, len, colon + 1);
		strbuf_add(out, s + i, value - i);
		strbuf_addstr(out, "\"" AZL_REDACTED "\"");
		i = skip_value(s, len, value);
	}
	strbuf_release(&name);
}

void azl_redact_body(struct strbuf *out, const char *body, size_t len)
{
	size_t first = skip_blank(body, len, 0);

	if (first < len && (body[first] == '{' || body[first] == '['))
		redact_json(out, body, len);
	else
		redact_form(out, body, len);
}

void azl_secret_wipe(struct strbuf *sb)
{
	/* explicit_bzero: a plain memset before free may be optimised away */
	if (sb->alloc)
		explicit_bzero(sb->buf, sb->alloc);
	strbuf_release(sb);
}
