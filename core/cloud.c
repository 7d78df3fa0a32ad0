#include "cloud.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"

/* Suffixes come from the AKS egress-rules docs (credentials.md §4); a
 * private cluster's FQDN lives under privatelink.<region>.azmk8s.io, which
 * the public suffix covers. */
static const char *const public_suffixes[] = { ".azmk8s.io", NULL };
static const char *const china_suffixes[] = { ".cx.prod.service.azk8s.cn", NULL };
static const char *const usgov_suffixes[] = { ".cx.aks.containerservice.azure.us", NULL };

static const struct azl_cloud clouds[] = {
	{ "AzureCloud", "https://login.microsoftonline.com",
	  "https://management.azure.com",
	  "https://management.azure.com/.default", public_suffixes },
	{ "AzureChinaCloud", "https://login.chinacloudapi.cn",
	  "https://management.chinacloudapi.cn",
	  "https://management.chinacloudapi.cn/.default", china_suffixes },
	{ "AzureUSGovernment", "https://login.microsoftonline.us",
	  "https://management.usgovcloudapi.net",
	  "https://management.usgovcloudapi.net/.default", usgov_suffixes },
};

#define NCLOUDS (sizeof(clouds) / sizeof(clouds[0]))

const struct azl_cloud *azl_cloud_at(size_t i)
{
	return i < NCLOUDS ? &clouds[i] : NULL;
}

int azl_cloud_lookup(const char *name, const struct azl_cloud **out)
{
	size_t i;

	*out = NULL;
	for (i = 0; name && i < NCLOUDS; i++) {
		if (!strcasecmp(name, clouds[i].name)) {
			*out = &clouds[i];
			return 0;
		}
	}
	return azl_error_set(AZL_ENOTFOUND,
		"unknown cloud '%s': use AzureCloud, AzureChinaCloud or AzureUSGovernment",
		name ? name : "");
}

int azl_cloud_from_env(const char *name, const struct azl_cloud **out)
{
	const char *env = getenv("AZLINUX_CLOUD");

	if (name)
		return azl_cloud_lookup(name, out);
	if (!env || !*env)
		return azl_cloud_lookup("AzureCloud", out);
	if (azl_cloud_lookup(env, out) < 0)
		return azl_error_prefix("AZLINUX_CLOUD");
	return 0;
}

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcasecmp(s + n - m, suffix);
}

int azl_cloud_is_aks_host(const struct azl_cloud *cloud, const char *host)
{
	const char *const *s;

	if (!cloud || !host)
		return 0;
	for (s = cloud->aks_fqdn_suffixes; *s; s++)
		if (ends_with_ci(host, *s))
			return 1;
	return 0;
}
