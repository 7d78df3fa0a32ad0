/* Printers and progress: kubectl's table layout, JSON and YAML that read
 * back to the same tree, names, ages, colour rules. */
#define _XOPEN_SOURCE 700  /* posix_openpt */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdlib.h>

/* The printers live in the program, not in libazlinux.a: build them in. */
#include "../../plugin/print.c"
#include "../../plugin/progress.c"

#include "testutil.h"

/* Runs fn(f) on a temporary file and returns what it wrote (static). */
static const char *written(void (*fn)(FILE *, void *), void *data)
{
	static char buf[16384];
	FILE *f = tmpfile();
	size_t n;

	fn(f, data);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const struct cli_column cols[] = {
	{ "name", 0 }, { "os", 0 }, { "age", 0 }, { "kernel", 1 }, { NULL, 0 }
};

struct table_job {
	struct cli_table *t;
	int wide, headers;
};

static void print_job(FILE *f, void *data)
{
	struct table_job *j = data;

	cli_table_print(j->t, f, j->wide, j->headers);
}

static struct cli_table *sample_table(void)
{
	struct cli_table *t = NULL;
	const char *r1[] = { "aks-np1-0", "Azure Linux 3.0", "5d", "6.6.1.azl3" };
	const char *r2[] = { "n2", NULL, "", "k" };

	assert_int_equal(cli_table_new(&t, cols), 0);
	cli_table_add_row(t, r1);
	cli_table_add_row(t, r2);
	return t;
}

static void test_table_layout(void **state)
{
	struct table_job j = { sample_table(), 0, 1 };

	(void)state;
	assert_int_equal(cli_table_rows(j.t), 2);
	assert_string_equal(written(print_job, &j),
			    "NAME        OS                AGE\n"
			    "aks-np1-0   Azure Linux 3.0   5d\n"
			    "n2          <none>            <none>\n");
	j.wide = 1;
	assert_string_equal(written(print_job, &j),
			    "NAME        OS                AGE      KERNEL\n"
			    "aks-np1-0   Azure Linux 3.0   5d       6.6.1.azl3\n"
			    "n2          <none>            <none>   k\n");
	j.headers = 0;
	j.wide = 0;
	assert_string_equal(written(print_job, &j),
			    "aks-np1-0   Azure Linux 3.0   5d\n"
			    "n2          <none>            <none>\n");
	cli_table_free(j.t);
}

static void test_table_min_width_and_escapes(void **state)
{
	static const struct cli_column narrow[] = { { "a", 0 }, { "b", 0 }, { NULL, 0 } };
	const char *row[] = { "x\033[2J", "é\rz" };
	const char *row2[] = { "é", "y" };
	struct table_job j = { NULL, 0, 1 };

	(void)state;
	assert_int_equal(cli_table_new(&j.t, narrow), 0);
	cli_table_add_row(j.t, row2);
	/* minwidth 6: "A" still takes six columns; é is one column wide */
	assert_string_equal(written(print_job, &j), "A     B\né     y\n");
	cli_table_add_row(j.t, row);
	assert_string_equal(written(print_job, &j),
			    "A        B\n"
			    "é        y\n"
			    "x^[[2J   é\\rz\n");
	cli_table_free(j.t);
	cli_table_free(NULL);
}

static void json_job(FILE *f, void *data)
{
	cli_print_json(f, data);
}

static void test_json(void **state)
{
	cJSON *root = cJSON_Parse("{\"zeta\":1,\"alpha\":[true,false,null,2.5,-3],"
				  "\"s\":\"a\\\"b\\\\c\\n<&>\\u0001\",\"empty\":{},\"list\":[],"
				  "\"nested\":{\"k\":\"v\"}}");
	const char *out;
	cJSON *back;

	(void)state;
	assert_non_null(root);
	out = written(json_job, root);
	assert_string_equal(out,
			    "{\n"
			    "    \"zeta\": 1,\n"
			    "    \"alpha\": [\n"
			    "        true,\n"
			    "        false,\n"
			    "        null,\n"
			    "        2.5,\n"
			    "        -3\n"
			    "    ],\n"
			    "    \"s\": \"a\\\"b\\\\c\\n\\u003c\\u0026\\u003e\\u0001\",\n"
			    "    \"empty\": {},\n"
			    "    \"list\": [],\n"
			    "    \"nested\": {\n"
			    "        \"k\": \"v\"\n"
			    "    }\n"
			    "}\n");
	back = cJSON_Parse(out);
	assert_non_null(back);
	assert_true(cJSON_Compare(root, back, 1));
	cJSON_Delete(back);
	cJSON_Delete(root);
}

static const char *yaml_of(const char *json)
{
	static char buf[4096];
	struct strbuf sb = STRBUF_INIT;
	cJSON *v = cJSON_Parse(json);

	assert_non_null(v);
	assert_int_equal(cli_yaml_format(&sb, v), 0);
	assert_true(sb.len < sizeof(buf));
	memcpy(buf, sb.buf, sb.len + 1);
	strbuf_release(&sb);
	cJSON_Delete(v);
	return buf;
}

/* Issue 17 defect 1: libyaml refuses ill-formed UTF-8 and the stale event
 * was emitted anyway (a hang, a SEGV or a double free). Each byte that
 * starts no well-formed sequence reads as U+FFFD, as kubectl (Go) has it. */
static void test_yaml_and_json_replace_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\"a\xbd\"",              /* a stray continuation byte */
		"\"\xc0\xaf\"",           /* an overlong '/' */
		"\"\xed\xa0\x80\"",       /* a surrogate */
		"\"\xf4\x90\x80\x80\"",   /* past U+10FFFF */
		"\"\xe2\x82\"",           /* truncated */
	};
	static const char *const want[] = {
		"name: a\xef\xbf\xbd\n",
		"name: \xef\xbf\xbd\xef\xbf\xbd\n",
		"name: \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n",
		"name: \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n",
		"name: \xef\xbf\xbd\xef\xbf\xbd\n",
	};
	struct strbuf json = STRBUF_INIT, sb = STRBUF_INIT;
	cJSON *v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&json);
		strbuf_addf(&json, "{\"name\":%s}", bad[i]);
		assert_string_equal(yaml_of(json.buf), want[i]);
		/* keys too */
		strbuf_reset(&json);
		strbuf_addf(&json, "{%s:1}", bad[i]);
		assert_non_null(strstr(yaml_of(json.buf), "\xef\xbf\xbd: 1\n"));
	}
	assert_string_equal(yaml_of("{\"k\":\"\xc3\xa9\xe2\x82\xac\"}"),
			    "k: \xc3\xa9\xe2\x82\xac\n");
	v = cJSON_Parse("\"x\xbdy\"");
	cli_json_format(&sb, v);
	assert_string_equal(sb.buf, "\"x\xef\xbf\xbdy\"");
	cJSON_Delete(v);
	strbuf_release(&json);
	strbuf_release(&sb);
}

static void test_yaml(void **state)
{
	(void)state;
	assert_string_equal(yaml_of("{\"items\":[{\"name\":\"n1\",\"osVersion\":\"3.0\","
				    "\"ready\":true,\"zone\":null,\"n\":3,\"s\":\"true\","
				    "\"empty\":\"\",\"date\":\"2026-11-27T20:00:00Z\","
				    "\"image\":\"AKSUbuntu-2204gen2containerd-202405.27.0\","
				    "\"y\":\"y\",\"num\":\"0x1F\",\"words\":\"Ubuntu 22.04.5 LTS\"}],"
				    "\"none\":[],\"obj\":{}}"),
			    "items:\n"
			    "- name: n1\n"
			    "  osVersion: \"3.0\"\n"
			    "  ready: true\n"
			    "  zone: null\n"
			    "  \"n\": 3\n"  /* YAML 1.1 reads a bare n as false */
			    "  s: \"true\"\n"
			    "  empty: \"\"\n"
			    "  date: \"2026-11-27T20:00:00Z\"\n"
			    "  image: AKSUbuntu-2204gen2containerd-202405.27.0\n"
			    "  \"y\": \"y\"\n"
			    "  num: \"0x1F\"\n"
			    "  words: Ubuntu 22.04.5 LTS\n"
			    "none: []\n"
			    "obj: {}\n");
	/* characters YAML reserves still come out quoted by the emitter */
	assert_string_equal(yaml_of("{\"a\":\"- x\",\"b\":\"k: v\",\"c\":\"#x\"}"),
			    "a: '- x'\nb: 'k: v'\nc: '#x'\n");
	assert_string_equal(yaml_of("[\"1.31.2\",\"v1.31\",\"1_000\",\".5\",\"1e3\","
				    "\"1:20\",\"0b101\",\"-2\",\"1e\",\"e3\",\"5.\",\"_\"]"),
			    "- 1.31.2\n- v1.31\n- \"1_000\"\n- \".5\"\n- \"1e3\"\n- \"1:20\"\n"
			    "- \"0b101\"\n- \"-2\"\n- 1e\n- e3\n- \"5.\"\n- _\n");
	/* whatever the style, multi-line text reads back intact */
	assert_non_null(strstr(yaml_of("{\"m\":\"line1\\nline2\"}"), "line2"));
}

struct name_job {
	const char *kind, *name;
};

static void name_job(FILE *f, void *data)
{
	struct name_job *j = data;

	cli_print_name(f, j->kind, j->name);
}

static void test_name(void **state)
{
	struct name_job j = { "node", "aks-np1-0" };

	(void)state;
	assert_string_equal(written(name_job, &j), "node/aks-np1-0\n");
}

static void test_age(void **state)
{
	static const struct {
		long long secs;
		const char *text;
	} cases[] = {
		{ -5, "<invalid>" }, { -1, "0s" }, { 0, "0s" }, { 45, "45s" }, { 119, "119s" },
		{ 120, "2m" }, { 130, "2m10s" }, { 599, "9m59s" }, { 600, "10m" },
		{ 179 * 60, "179m" }, { 3 * 3600, "3h" }, { 3 * 3600 + 60, "3h1m" },
		{ 8 * 3600, "8h" }, { 47 * 3600 + 59, "47h" }, { 48 * 3600, "2d" },
		{ 53 * 3600, "2d5h" }, { 8 * 86400, "8d" }, { 10 * 86400 + 7200, "10d" },
		{ 729LL * 86400, "729d" }, { 730LL * 86400, "2y" }, { 731LL * 86400, "2y1d" },
		{ 8LL * 365 * 86400, "8y" }, { 9LL * 365 * 86400 + 86400, "9y" },
	};
	size_t i;
	time_t now = 2000000000;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb = STRBUF_INIT;

		cli_format_age(&sb, now - (time_t)cases[i].secs, now);
		assert_string_equal(sb.buf, cases[i].text);
		strbuf_release(&sb);
	}
	{
		struct strbuf sb = STRBUF_INIT;

		cli_format_age(&sb, 0, now);
		assert_string_equal(sb.buf, "<unknown>");
		strbuf_release(&sb);
	}
}

/* A pseudo-terminal, so colour and live progress can be seen enabled. */
static FILE *open_pty(int *master)
{
	int fd;
	char *name;

	*master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(*master >= 0);
	assert_int_equal(grantpt(*master), 0);
	assert_int_equal(unlockpt(*master), 0);
	name = ptsname(*master);
	assert_non_null(name);
	fd = open(name, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	return fdopen(fd, "w");
}

static void test_color_rules(void **state)
{
	int master;
	FILE *tty = open_pty(&master), *file = tmpfile();
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	unsetenv("NO_COLOR");
	setenv("TERM", "xterm", 1);
	assert_true(cli_color_enabled(tty));
	assert_false(cli_color_enabled(file));
	setenv("TERM", "dumb", 1);
	assert_false(cli_color_enabled(tty));
	setenv("TERM", "xterm", 1);
	setenv("NO_COLOR", "1", 1);
	assert_false(cli_color_enabled(tty));
	unsetenv("NO_COLOR");
	cli_color_add(&sb, 1, CLI_COLOR_YELLOW, "Warning:");
	assert_string_equal(sb.buf, "\033[33mWarning:\033[0m");
	strbuf_reset(&sb);
	cli_color_add(&sb, 0, CLI_COLOR_RED, "plain");
	assert_string_equal(sb.buf, "plain");
	strbuf_release(&sb);
	fclose(tty);
	fclose(file);
	close(master);
}

static void test_progress_plain(void **state)
{
	struct cli_progress *p;
	FILE *f = tmpfile();
	char buf[1024];
	size_t n;
	regex_t re;

	(void)state;
	assert_int_equal(cli_progress_new(&p, f), 0);  /* a file: plain lines */
	cli_progress_update(p, "pool %s: %d/%d", "np1", 1, 3);
	cli_progress_update(p, "pool %s: %d/%d", "np1", 1, 3);  /* repeat: not shown */
	cli_progress_update(p, "pool %s: %d/%d", "np1", 2, 3);
	cli_progress_done(p, "pool np1: done");
	cli_progress_free(p);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z pool np1: 1/3\n"
				 "[0-9T:Z-]{20} pool np1: 2/3\n"
				 "[0-9T:Z-]{20} pool np1: done\n$", REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, buf, 0, NULL, 0), 0);
	regfree(&re);
	cli_progress_free(NULL);
}

/* A wait that ends before the delay shows nothing, not even its end. */
static void test_progress_delayed_short_wait_is_silent(void **state)
{
	struct cli_progress *p;
	FILE *f = tmpfile();

	(void)state;
	assert_int_equal(cli_progress_new_delayed(&p, f, 60000), 0);
	cli_progress_update(p, "inspecting %d contexts", 3);
	cli_progress_done(p, "inspected 3 contexts");
	cli_progress_clear(p);
	cli_progress_free(p);
	assert_int_equal(ftell(f), 0);
	fclose(f);
}

/* What the terminal got, up to and including its first "\r\n": a pty
 * hands over each write on its own, so one read() may see only the first. */
static void read_line_from_pty(int master, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	while (len + 1 < size && !strstr(buf, "\r\n")) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		n = read(master, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
	}
}

static void test_progress_live(void **state)
{
	struct cli_progress *p;
	int master;
	FILE *tty = open_pty(&master);
	char buf[1024];

	(void)state;
	setenv("TERM", "xterm", 1);
	assert_int_equal(cli_progress_new(&p, tty), 0);
	cli_progress_update(p, "waiting %d", 1);
	cli_progress_done(p, "ready");
	cli_progress_free(p);
	fflush(tty);
	read_line_from_pty(master, buf, sizeof(buf));
	/* the pty turns \n into \r\n */
	assert_string_equal(buf, "\r\033[Kwaiting 1\r\033[Kready\r\n");
	fclose(tty);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_layout),
		cmocka_unit_test(test_table_min_width_and_escapes),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_yaml),
		cmocka_unit_test(test_yaml_and_json_replace_invalid_utf8),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_color_rules),
		cmocka_unit_test(test_progress_plain),
		cmocka_unit_test(test_progress_live),
		cmocka_unit_test(test_progress_delayed_short_wait_is_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
