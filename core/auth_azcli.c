/* The Azure CLI as a credential: `az account get-access-token`, run
 * without a shell and with a deadline (credentials.md §2.3). Its tokens are
 * not cached here, so a later `az logout` takes effect at once. */
#define _XOPEN_SOURCE 700 /* strptime */
#include "auth_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "json.h"
#include "num.h"
#include "proc.h"

#define AZ_TIMEOUT_MS 30000L

/* $AZLINUX_AZ_TIMEOUT seconds, for slow machines (and tests). */
static long az_timeout_ms(void)
{
	const char *s = getenv("AZLINUX_AZ_TIMEOUT");
	long v;

	return azl_num_scan(s, 1, 3600, &v) == AZL_NUM_OK ? v * 1000 : AZ_TIMEOUT_MS;
}

/* The resource goes on az's argv: keep it to the characters of a URL or
 * app id, as azidentity does. */
static int resource_for(const char *scope, struct strbuf *out)
{
	azl_scope_resource(out, scope);
	if (!out->len || strspn(out->buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				"0123456789._/:-") != out->len)
		return azl_error_set(AZL_EINVALID, "azure-cli: scope '%s' has unexpected characters",
				     scope);
	return 0;
}

/* The last non-empty line of az's stderr, which carries its ERROR line;
 * dropped if it could hold a token. */
static void last_line(const struct strbuf *err, struct strbuf *out)
{
	struct strbuf copy = STRBUF_INIT;
	char *nl;

	strbuf_addbuf(&copy, err);
	strbuf_trim(&copy);
	nl = strrchr(copy.buf, '\n');
	strbuf_addstr(out, nl ? nl + 1 : copy.buf);
	if (strstr(out->buf, "accessToken"))
		strbuf_reset(out);
	strbuf_release(&copy);
}

static int az_failed(const struct strbuf *err, int status)
{
	struct strbuf line = STRBUF_INIT;
	int rc;

	if (strstr(err->buf, "az login") || strstr(err->buf, "az account set"))
		rc = azl_error_set(AZL_EUNAVAILABLE,
			"the Azure CLI is not signed in: run 'az login'");
	else {
		last_line(err, &line);
		rc = azl_error_set(AZL_EAUTH,
			"'az account get-access-token' failed (exit %d): %s", status,
			line.len ? line.buf : "no message");
	}
	strbuf_release(&line);
	return rc;
}

/* Older CLIs only print expiresOn, a local time (credentials.md §2.3). */
static time_t local_expiry(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!s || !strptime(s, "%Y-%m-%d %H:%M:%S", &tm))
		return 0;
	tm.tm_isdst = -1;
	return mktime(&tm);
}

int azl_azcli_parse(const struct strbuf *out, struct azl_token *tok)
{
	cJSON *body = cJSON_Parse(out->buf);
	const char *at = azl_json_str(body, "accessToken", NULL);
	long exp_on = 0;

	if (!at || !*at) {
		cJSON_Delete(body);
		return azl_error_set(AZL_EAUTH,
			"'az account get-access-token' printed no accessToken; update the Azure CLI");
	}
	if (azl_num_json_member(body, "expires_on", 0, AZL_NUM_MAX_EPOCH, 0, &exp_on) < 0) {
		cJSON_Delete(body);
		return azl_error_prefix("'az account get-access-token'");
	}
	strbuf_reset(&tok->access_token);
	strbuf_addstr(&tok->access_token, at);
	tok->expires_on = exp_on > 0 ? (time_t)exp_on
		: local_expiry(azl_json_str(body, "expiresOn", NULL));
	cJSON_Delete(body);
	if (!tok->expires_on)
		return azl_error_set(AZL_EAUTH,
			"'az account get-access-token' printed neither expires_on nor a readable expiresOn");
	return 0;
}

int azl_azcli_token(struct azl_auth *a, const struct azl_cred *c,
		    const char *scope, struct azl_token *tok)
{
	static const char *const env[] = { "AZURE_CORE_NO_COLOR=true", NULL };
	const char *argv[] = { "az", "account", "get-access-token", "--resource", NULL,
			       "-o", "json", NULL, NULL, NULL };
	struct azl_proc_options po = { argv, env, 0, 0, az_timeout_ms() };
	struct strbuf res = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	int rc, status = 0;

	(void)a;
	rc = resource_for(scope, &res);
	argv[4] = res.buf;
	if (c->tenant && *c->tenant) {
		argv[7] = "--tenant";
		argv[8] = c->tenant;
	}
	if (rc == 0)
		rc = azl_proc_run(&po, &out, &err, &status);
	if (rc == AZL_ENOTFOUND)
		rc = azl_error_set(AZL_EUNAVAILABLE, "the Azure CLI (az) is not on PATH");
	else if (rc == AZL_ETIMEOUT)
		rc = azl_error_set(AZL_ETIMEOUT,
			"'az account get-access-token' did not finish within %lds (AZLINUX_AZ_TIMEOUT)",
			po.timeout_ms / 1000);
	else if (rc == 0 && status != 0)
		rc = az_failed(&err, status);
	else if (rc == 0)
		rc = azl_azcli_parse(&out, tok);
	strbuf_release(&res);
	strbuf_release(&out);
	strbuf_release(&err);
	return rc;
}
