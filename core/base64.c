#include "base64.h"

#include "error.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Emits the whole bytes held by nsextets sextets (the low bits of acc):
 * 4 sextets give 3 bytes, 3 give 2, 2 give 1. */
static void flush_group(struct strbuf *out, unsigned long acc, int nsextets)
{
	int nbytes = nsextets * 6 / 8;
	unsigned long bits = acc << (6 * (4 - nsextets));
	for (int i = 0; i < nbytes; i++)
		strbuf_addch(out, (int)((bits >> (16 - 8 * i)) & 0xff));
}

int azl_base64_decode(struct strbuf *out, const char *in, size_t len)
{
	size_t start = out->len, i, padding = 0;
	unsigned long acc = 0;
	int n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int v;
		if (is_space(c))
			continue;
		if (c == '=' && (n >= 2 || padding)) {
			padding++;
			continue;
		}
		v = sextet(c);
		if (v < 0 || padding)
			goto bad;
		acc = (acc << 6) | (unsigned long)v;
		if (++n == 4) {
			flush_group(out, acc, 4);
			acc = 0;
			n = 0;
		}
	}
	/* a lone trailing sextet holds fewer than 8 bits: not a valid encoding;
	 * padding, when present, must complete the group exactly */
	if (n == 1 || (padding && (size_t)n + padding != 4))
		goto truncated;
	if (n)
		flush_group(out, acc, n);
	return 0;
bad:
	strbuf_setlen(out, start);
	return azl_error_set(AZL_EINVALID, "invalid base64 data: unexpected character at offset %zu", i);
truncated:
	strbuf_setlen(out, start);
	return azl_error_set(AZL_EINVALID, "invalid base64 data: the input is truncated or wrongly padded");
}

void azl_base64_encode(struct strbuf *out, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	strbuf_grow(out, (len + 2) / 3 * 4);
	for (i = 0; i + 3 <= len; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];
		strbuf_addch(out, alphabet[(v >> 18) & 63]);
		strbuf_addch(out, alphabet[(v >> 12) & 63]);
		strbuf_addch(out, alphabet[(v >> 6) & 63]);
		strbuf_addch(out, alphabet[v & 63]);
	}
	if (i < len) {
		unsigned long v = (unsigned long)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)p[i + 1] << 8;
		strbuf_addch(out, alphabet[(v >> 18) & 63]);
		strbuf_addch(out, alphabet[(v >> 12) & 63]);
		strbuf_addch(out, i + 1 < len ? alphabet[(v >> 6) & 63] : '=');
		strbuf_addch(out, '=');
	}
}
