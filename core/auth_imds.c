/* Managed identity: the App Service / Container Apps endpoint
 * (IDENTITY_ENDPOINT + IDENTITY_HEADER) or the VM's IMDS
 * (credentials.md §1.5, §1.6). IMDS is never reached through a proxy and
 * the first connection attempt is short, so machines without it fail fast. */
#include "auth_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "json.h"
#include "wrapper.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_PATH "/metadata/identity/oauth2/token"
#define MAX_TRIES 3

struct mi_endpoint {
	struct strbuf url;
	struct strbuf header;  /* Metadata or X-IDENTITY-HEADER: secret for the latter */
	const char *base;      /* for messages */
};

static const char *env_first(const char *a, const char *b)
{
	const char *v = getenv(a);

	return v && *v ? v : getenv(b);
}

/* The Azure SDKs' override of the IMDS address (credentials.md §1.5),
 * then ours. */
static const char *imds_base(void)
{
	const char *v = env_first("AZURE_POD_IDENTITY_AUTHORITY_HOST", "AZLINUX_IMDS_ENDPOINT");

	return v && *v ? v : IMDS_DEFAULT;
}

static void add_query(struct strbuf *url, const char *name, const char *value)
{
	if (!value || !*value)
		return;
	strbuf_addf(url, "&%s=", name);
	strbuf_addurlenc(url, value);
}

static void build_endpoint(const struct azl_cred *c, const char *scope,
			   struct mi_endpoint *ep)
{
	struct strbuf resource = STRBUF_INIT;

	azl_scope_resource(&resource, scope);
	if (c->method == AZL_M_APP_SERVICE) {
		ep->base = env_first("IDENTITY_ENDPOINT", "MSI_ENDPOINT");
		strbuf_addf(&ep->url, "%s?api-version=2019-08-01", ep->base);
		strbuf_addf(&ep->header, "X-IDENTITY-HEADER: %s",
			    env_first("IDENTITY_HEADER", "MSI_SECRET"));
	} else {
		ep->base = imds_base();
		strbuf_addf(&ep->url, "%s%s?api-version=2018-02-01", ep->base, IMDS_PATH);
		strbuf_addstr(&ep->header, "Metadata: true");
	}
	add_query(&ep->url, "resource", resource.buf);
	add_query(&ep->url, "client_id", c->mi_client_id);
	add_query(&ep->url, "object_id", c->mi_object_id);
	add_query(&ep->url, c->method == AZL_M_APP_SERVICE ? "mi_res_id" : "msi_res_id",
		  c->mi_resource_id);
	strbuf_release(&resource);
}

static int parse_ok(const struct azl_http_response *resp, const char *base,
		    struct azl_token *tok)
{
	cJSON *body = cJSON_Parse(resp->body.buf);
	const char *at = azl_json_str(body, "access_token", NULL);
	const char *cid = azl_json_str(body, "client_id", NULL);

	if (!at || !*at) {
		cJSON_Delete(body);
		return azl_error_set(AZL_EAUTH,
			"managed identity (%s): the answer has no access_token", base);
	}
	if (azl_token_expiry(body, tok) < 0) {
		cJSON_Delete(body);
		return azl_error_prefix("managed identity (%s)", base);
	}
	strbuf_reset(&tok->access_token);
	strbuf_addstr(&tok->access_token, at);
	free(tok->principal);
	tok->principal = cid ? xstrdup(cid) : NULL;
	cJSON_Delete(body);
	return 0;
}

static int parse_error(const struct azl_http_response *resp, const char *base)
{
	cJSON *body = cJSON_Parse(resp->body.buf);
	struct strbuf desc = STRBUF_INIT;
	const char *d = azl_json_str(body, "error_description",
				     azl_json_str(body, "message", ""));
	int rc;

	strbuf_add(&desc, d, strcspn(d, "\r\n"));
	if (resp->status == 400)
		rc = azl_error_set(AZL_EAUTH,
			"managed identity (%s): %s: %s; no identity is assigned to this machine, or not the one requested (check --client-id, --object-id, --resource-id)",
			base, azl_json_str(body, "error", "bad_request"), desc.buf);
	else if (!*d)
		rc = azl_error_set(resp->status >= 500 ? AZL_ESERVER : AZL_EAUTH,
			"managed identity (%s): HTTP %ld without an error description; is this a managed identity endpoint?",
			base, resp->status);
	else
		rc = azl_error_set(resp->status >= 500 ? AZL_ESERVER : AZL_EAUTH,
			"managed identity (%s): HTTP %ld%s%s: %s", base, resp->status,
			*azl_json_str(body, "error", "") ? " " : "", azl_json_str(body, "error", ""),
			desc.buf);
	strbuf_release(&desc);
	cJSON_Delete(body);
	return rc;
}

static int retryable(long status)
{
	return status == 404 || status == 410 || status == 429 || status >= 500;
}

/* The transport error, reworded: on most machines this is "no managed
 * identity here", not a failure. */
static int unavailable(const struct mi_endpoint *ep)
{
	struct strbuf why = STRBUF_INIT;
	int rc;

	strbuf_addstr(&why, azl_error_message());
	rc = azl_error_set(AZL_EUNAVAILABLE, "no managed identity endpoint answers at %s (%s)",
			   ep->base, why.buf);
	strbuf_release(&why);
	return rc;
}

static int request(struct azl_auth *a, const struct mi_endpoint *ep,
		   struct azl_http_response *resp)
{
	const char *headers[] = { ep->header.buf, NULL };
	struct azl_http_request req = { "GET", ep->url.buf, headers, NULL, 0 };
	struct azl_http_options o = { 0 };
	struct azl_http *http = NULL;
	int rc, tries;

	o.ca_file = azl_auth_ca_file(a);
	o.no_proxy = 1;
	o.connect_timeout_ms = 1000;
	o.timeout_ms = 10000;
	rc = azl_http_new(&http, &o);
	for (tries = 1; rc == 0; tries++) {
		azl_http_response_release(resp);
		rc = azl_http_do(http, &req, resp);
		if (rc < 0 && tries == 1)
			rc = unavailable(ep);
		if (rc < 0 || !retryable(resp->status) || tries == MAX_TRIES)
			break;
		sleep_millisec(1000L << (tries - 1));
	}
	azl_http_free(http);
	return rc;
}

int azl_mi_parse(const struct azl_http_response *resp, const char *base,
		 struct azl_token *tok)
{
	return resp->status == 200 ? parse_ok(resp, base, tok) : parse_error(resp, base);
}

int azl_mi_token(struct azl_auth *a, const struct azl_cred *c,
		 const char *scope, struct azl_token *tok)
{
	struct mi_endpoint ep = { STRBUF_INIT, STRBUF_INIT, NULL };
	struct azl_http_response resp = AZL_HTTP_RESPONSE_INIT;
	int rc;

	build_endpoint(c, scope, &ep);
	rc = request(a, &ep, &resp);
	if (rc == 0)
		rc = azl_mi_parse(&resp, ep.base, tok);
	azl_http_response_release(&resp);
	strbuf_release(&ep.url);
	strbuf_release(&ep.header);
	return rc;
}
