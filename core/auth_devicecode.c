/* Device-code sign-in (RFC 8628 as Entra ID implements it; credentials.md
 * §1.3): show the code, then poll the token endpoint at the server's
 * interval until the user finishes, declines or the code expires. */
#include "auth_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "json.h"
#include "num.h"
#include "wrapper.h"

#define DEVICE_CODE_GRANT "urn:ietf:params:oauth:grant-type:device_code"
/* RFC 8628 §3.2's defaults; a longer wait or life than these is no sign-in. */
#define DEFAULT_INTERVAL_S 5L
#define DEFAULT_EXPIRES_S 900L
#define MAX_INTERVAL_S 600L
#define MAX_EXPIRES_S 86400L

void azl_device_code_release(struct azl_device_code *dc)
{
	free(dc->device_code);
	dc->device_code = NULL;
	strbuf_release(&dc->message);
}

int azl_devicecode_parse(const struct azl_http_response *resp, struct azl_device_code *dc)
{
	struct strbuf code = STRBUF_INIT;
	cJSON *body;
	const char *dcode, *msg;
	long expires_in = DEFAULT_EXPIRES_S;
	int rc;

	if (resp->status != 200) {
		rc = azl_entra_error(resp, "device code sign-in", &code);
		strbuf_release(&code);
		return rc;
	}
	body = cJSON_Parse(resp->body.buf);
	dcode = azl_json_str(body, "device_code", NULL);
	msg = azl_json_str(body, "message", NULL);
	rc = azl_num_json_member(body, "interval", 0, MAX_INTERVAL_S, DEFAULT_INTERVAL_S,
				 &dc->interval);
	if (rc == 0)
		rc = azl_num_json_member(body, "expires_in", 0, MAX_EXPIRES_S, DEFAULT_EXPIRES_S,
					 &expires_in);
	if (rc < 0)
		azl_error_prefix("device code sign-in: Entra ID's answer");
	else if (!dcode)
		rc = azl_error_set(AZL_EAUTH,
			"device code sign-in: Entra ID's answer has no device_code; check AZURE_AUTHORITY_HOST");
	if (rc == 0) {
		free(dc->device_code);
		dc->device_code = xstrdup(dcode);
		dc->deadline = (time_t)azl_num_add((long)time(NULL), expires_in);
		strbuf_reset(&dc->message);
		if (msg)
			strbuf_addstr(&dc->message, msg);
		else
			strbuf_addf(&dc->message,
				"To sign in, use a web browser to open the page %s and enter the code %s to authenticate.",
				azl_json_str(body, "verification_uri", "(no URL given)"),
				azl_json_str(body, "user_code", "(no code given)"));
	}
	cJSON_Delete(body);
	return rc;
}

static int start(struct azl_auth *a, const struct azl_cred *c, const char *scope,
		 struct azl_device_code *dc)
{
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf form = STRBUF_INIT, sc = STRBUF_INIT;
	int rc;

	azl_entra_user_scope(&sc, scope);
	azl_form_add(&form, "client_id", c->client_id);
	azl_form_add(&form, "scope", sc.buf);
	rc = azl_entra_post(a, c->tenant, "devicecode", &form, &resp);
	if (rc == 0)
		rc = azl_devicecode_parse(&resp, dc);
	if (rc == 0)
		azl_auth_notify(a, AZL_AUTH_EVENT_DEVICE_CODE, "%s", dc->message.buf);
	azl_http_response_release(&resp);
	strbuf_release(&form);
	strbuf_release(&sc);
	return rc;
}

/* One poll: 0 with the token, 1 to poll again, or an error. */
static int poll_once(struct azl_auth *a, const struct azl_cred *c,
		     struct azl_device_code *dc, struct azl_token *tok)
{
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	struct strbuf form = STRBUF_INIT;
	int rc;

	azl_form_add(&form, "grant_type", DEVICE_CODE_GRANT);
	azl_form_add(&form, "client_id", c->client_id);
	azl_form_add(&form, "device_code", dc->device_code);
	strbuf_reset(&tok->error);
	rc = azl_entra_post(a, c->tenant, "token", &form, &resp);
	if (rc == 0)
		rc = azl_entra_parse_token(&resp, "device code sign-in", tok);
	if (rc < 0 && !strcmp(tok->error.buf, "authorization_pending"))
		rc = 1;
	if (rc < 0 && !strcmp(tok->error.buf, "slow_down")) {
		/* RFC 8628 §3.5: for this and all later polls */
		dc->interval = dc->interval + 5 > MAX_INTERVAL_S ? MAX_INTERVAL_S : dc->interval + 5;
		rc = 1;
	}
	if (rc == 1)
		azl_error_clear();
	azl_http_response_release(&resp);
	strbuf_release(&form);
	return rc;
}

int azl_devicecode_login(struct azl_auth *a, const struct azl_cred *c,
			 const char *scope, struct azl_token *tok)
{
	struct azl_device_code dc = AZL_DEVICE_CODE_INIT;
	int rc;

	rc = start(a, c, scope, &dc);
	while (rc == 0) {
		/* A server asking for less than a second would have us spin. */
		sleep_millisec((dc.interval < 1 ? 1 : dc.interval) * 1000L);
		if (time(NULL) > dc.deadline) {
			rc = azl_error_set(AZL_ETIMEOUT,
				"device code sign-in: the code expired before the sign-in finished; run 'kubectl azlinux login' again and enter the code sooner");
			break;
		}
		rc = poll_once(a, c, &dc, tok);
		if (rc == 1) {
			azl_auth_notify(a, AZL_AUTH_EVENT_PROGRESS, "waiting for the sign-in to finish");
			rc = 0;
			continue;
		}
		break;
	}
	azl_device_code_release(&dc);
	return rc;
}
