/* Which OS and version a node or pool runs, by the rules of
 * shared/reference/aks-api.md §1.5 and §4: the node image name first, then
 * the OS SKU with the Kubernetes version, cross-checked against osImage and
 * the kernel suffix (.cm2 for Azure Linux 2.0, .azl3 for 3.0). */
#ifndef AZL_OSINFO_H
#define AZL_OSINFO_H

enum azl_os_family {
	AZL_OS_UNKNOWN,
	AZL_OS_AZURE_LINUX,
	AZL_OS_UBUNTU,
	AZL_OS_WINDOWS,
	AZL_OS_OTHER
};

struct azl_os_info {
	enum azl_os_family family;
	char version[16];        /* "3.0", "2.0", "22.04", "2022", "" */
	char name[48];           /* "Azure Linux 3.0", "Ubuntu 22.04", ... */
};

/* Any argument may be NULL or "". kubernetes_version is "1.31.2" or "v1.31.2". */
void azl_os_detect(const char *node_image_version, const char *os_sku,
		   const char *kubernetes_version, const char *os_image,
		   const char *kernel_version, struct azl_os_info *out);

/* 1 for an OS out of support: Azure Linux 2.0, retired on 2025-11-30
 * with its node images removed on 2026-03-31 (aks-api.md §1.6). The one
 * place that says so: findings, plans and the fleet summary ask here. */
int azl_os_retired(const struct azl_os_info *os);

#endif
