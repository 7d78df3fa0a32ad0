/* Azure clouds: the authority, ARM endpoint and audience, and AKS API-server
 * domain suffixes of each sovereign cloud (shared/reference/credentials.md
 * §4). The table is constant; nothing here reads the environment except
 * azl_cloud_from_env(). */
#ifndef AZL_CLOUD_H
#define AZL_CLOUD_H

#include <stddef.h>

struct azl_cloud {
	const char *name;             /* "AzureCloud", as az's environmentName */
	const char *authority_host;   /* "https://login.microsoftonline.com" */
	const char *arm_endpoint;     /* "https://management.azure.com" */
	const char *arm_scope;        /* "https://management.azure.com/.default" */
	const char *const *aks_fqdn_suffixes; /* NULL-terminated, ".azmk8s.io" */
};

/* The AKS AAD server application: the audience of tokens for AKS API
 * servers, the same in every cloud. */
#define AZL_AKS_SERVER_SCOPE "6dae42f8-4368-4678-94ff-3960e28e3630/.default"

/* Finds AzureCloud, AzureChinaCloud or AzureUSGovernment, case-insensitive.
 * AZL_ENOTFOUND names the known clouds. */
int azl_cloud_lookup(const char *name, const struct azl_cloud **out);

/* The known clouds, for help and completion: i = 0, 1, ... until NULL. */
const struct azl_cloud *azl_cloud_at(size_t i);

/* name if not NULL, else $AZLINUX_CLOUD if set and non-empty, else
 * AzureCloud; the message says where an unknown name came from. */
int azl_cloud_from_env(const char *name, const struct azl_cloud **out);

/* 1 when host ends with one of the cloud's AKS API-server suffixes. */
int azl_cloud_is_aks_host(const struct azl_cloud *cloud, const char *host);

#endif
