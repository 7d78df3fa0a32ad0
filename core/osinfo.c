#include "osinfo.h"
#include "version.h"
#include "wrapper.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One row of a detection table. version NULL means "read the version from
 * the text after the pattern" (osImage: "Ubuntu 22.04.5 LTS" -> "22.04"). */
struct os_rule {
	const char *pattern;
	enum azl_os_family family;
	const char *product;
	const char *version;
};

#define AZL3 AZL_OS_AZURE_LINUX, "Azure Linux", "3.0"
#define AZL2 AZL_OS_AZURE_LINUX, "Azure Linux", "2.0"
#define UBUNTU(v) AZL_OS_UBUNTU, "Ubuntu", v
#define WINDOWS(v) AZL_OS_WINDOWS, "Windows Server", v
#define ACL AZL_OS_OTHER, "Azure Container Linux", ""

/* Node image names (aks-api.md §4.1): "<OS>-<SKU>-<version>". Matched as
 * prefixes ignoring '-' and case, so the image family spelling
 * "AKSAzureLinuxV3-gen2" matches too. */
static const struct os_rule image_rules[] = {
	{ "AKSAzureLinux-V3", AZL3 },
	{ "AKSAzureLinux-V2", AZL2 },
	{ "AKSCBLMariner-V2", AZL2 },
	{ "AKSUbuntu-1804", UBUNTU("18.04") },
	{ "AKSUbuntu-2004", UBUNTU("20.04") },
	{ "AKSUbuntu-2204", UBUNTU("22.04") },
	{ "AKSUbuntu-2404", UBUNTU("24.04") },
	{ "AKSUbuntu-2604", UBUNTU("26.04") },
	{ "AKSWindows-2019", WINDOWS("2019") },
	{ "AKSWindows-2022", WINDOWS("2022") },
	{ "AKSWindows-2025", WINDOWS("2025") },
	{ "AKSAzureContainerLinux", ACL },
};

/* status.nodeInfo.osImage, the os-release PRETTY_NAME (§4.4). */
static const struct os_rule os_image_rules[] = {
	{ "Microsoft Azure Linux ", AZL_OS_AZURE_LINUX, "Azure Linux", NULL },
	{ "CBL-Mariner/Linux", AZL2 },
	{ "Common Base Linux Mariner", AZL2 },
	{ "Ubuntu ", AZL_OS_UBUNTU, "Ubuntu", NULL },
	{ "Windows Server ", AZL_OS_WINDOWS, "Windows Server", NULL },
	{ "Azure Container Linux", ACL },
};

/* Kernel release suffixes: "6.6.64.2-9.azl3", "5.15.116.1-2.cm2". */
static const struct os_rule kernel_rules[] = {
	{ ".azl3", AZL3 },
	{ ".cm2", AZL2 },
};

/* OS SKU with the Kubernetes minor version (§1.5): a default SKU follows
 * the Kubernetes version, a versioned SKU does not. */
struct sku_rule {
	const char *sku;
	int min_minor, max_minor;
	struct os_rule os;
};

#define ANY_MINOR -1, 9999  /* versioned SKUs need no Kubernetes version */
static const struct sku_rule sku_rules[] = {
	{ "AzureLinux", 0, 31, { NULL, AZL2 } },
	{ "AzureLinux", 32, 9999, { NULL, AZL3 } },
	{ "AzureLinux3", ANY_MINOR, { NULL, AZL3 } },
	/* kubernetes.azure.com/os-sku-effective spells the version out */
	{ "AzureLinux2", ANY_MINOR, { NULL, AZL2 } },
	{ "CBLMariner", ANY_MINOR, { NULL, AZL2 } },
	{ "Mariner", ANY_MINOR, { NULL, AZL2 } },
	{ "Ubuntu", 0, 24, { NULL, UBUNTU("18.04") } },
	{ "Ubuntu", 25, 34, { NULL, UBUNTU("22.04") } },
	{ "Ubuntu", 35, 9999, { NULL, UBUNTU("24.04") } },
	{ "Ubuntu2204", ANY_MINOR, { NULL, UBUNTU("22.04") } },
	{ "Ubuntu2404", ANY_MINOR, { NULL, UBUNTU("24.04") } },
	{ "Ubuntu2604", ANY_MINOR, { NULL, UBUNTU("26.04") } },
	{ "Windows2019", ANY_MINOR, { NULL, WINDOWS("2019") } },
	{ "Windows2022", ANY_MINOR, { NULL, WINDOWS("2022") } },
	{ "Windows2025", ANY_MINOR, { NULL, WINDOWS("2025") } },
	{ "AzureContainerLinux", ANY_MINOR, { NULL, ACL } },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void set_result(struct azl_os_info *out, enum azl_os_family family,
		       const char *product, const char *version)
{
	out->family = family;
	snprintf(out->version, sizeof(out->version), "%s", version);
	snprintf(out->name, sizeof(out->name), "%s%s%s", product,
		 *version ? " " : "", version);
}

/* Prefix match that skips '-' on both sides and ignores case. */
static int image_prefix(const char *image, const char *pattern)
{
	for (;;) {
		while (*image == '-')
			image++;
		while (*pattern == '-')
			pattern++;
		if (!*pattern)
			return 1;
		if (tolower((unsigned char)*image) != tolower((unsigned char)*pattern))
			return 0;
		image++;
		pattern++;
	}
}

static int from_image(const char *image, struct azl_os_info *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(image_rules); i++) {
		const struct os_rule *r = &image_rules[i];
		if (image_prefix(image, r->pattern)) {
			set_result(out, r->family, r->product, r->version);
			return 1;
		}
	}
	return 0;
}

/* Copies up to two dot-separated numbers ("22.04.5" -> "22.04"). */
static int read_version(const char *s, char *buf, size_t size)
{
	size_t n = 0;
	int dots = 0;

	for (; isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1])); s++) {
		if (*s == '.' && ++dots > 1)
			break;
		if (n + 1 >= size)
			return 0;
		buf[n++] = *s;
	}
	buf[n] = '\0';
	return n > 0;
}

static int from_os_image(const char *os_image, struct azl_os_info *out)
{
	char version[16];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(os_image_rules); i++) {
		const struct os_rule *r = &os_image_rules[i];
		size_t len = strlen(r->pattern);

		if (strncasecmp(os_image, r->pattern, len))
			continue;
		if (r->version) {
			set_result(out, r->family, r->product, r->version);
			return 1;
		}
		if (read_version(os_image + len, version, sizeof(version))) {
			set_result(out, r->family, r->product, version);
			return 1;
		}
	}
	return 0;
}

/* The suffix must end the release or be followed by a non-alphanumeric
 * ("...azl3" but not "...azl30"). */
static int from_kernel(const char *kernel, struct azl_os_info *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kernel_rules); i++) {
		const struct os_rule *r = &kernel_rules[i];
		const char *hit = strstr(kernel, r->pattern);

		if (hit && !isalnum((unsigned char)hit[strlen(r->pattern)])) {
			set_result(out, r->family, r->product, r->version);
			return 1;
		}
	}
	return 0;
}

/* Without a usable Kubernetes version a default SKU still names the
 * family, just not the version. */
static int from_sku(const char *sku, const char *kube_version,
		    struct azl_os_info *out)
{
	int minor = azl_version_kube_minor(kube_version);
	const struct sku_rule *family_only = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sku_rules); i++) {
		const struct sku_rule *r = &sku_rules[i];

		if (strcasecmp(sku, r->sku))
			continue;
		if (minor >= r->min_minor && minor <= r->max_minor) {
			set_result(out, r->os.family, r->os.product, r->os.version);
			return 1;
		}
		if (!family_only)
			family_only = r;
	}
	if (!family_only)
		return 0;
	set_result(out, family_only->os.family, family_only->os.product, "");
	return 1;
}

void azl_os_detect(const char *node_image_version, const char *os_sku,
		   const char *kubernetes_version, const char *os_image,
		   const char *kernel_version, struct azl_os_info *out)
{
	if (!str_empty(node_image_version) && from_image(node_image_version, out))
		return;
	if (!str_empty(os_image) && from_os_image(os_image, out))
		return;
	if (!str_empty(kernel_version) && from_kernel(kernel_version, out))
		return;
	if (!str_empty(os_sku) && from_sku(os_sku, kubernetes_version, out))
		return;
	set_result(out, AZL_OS_UNKNOWN, "Unknown", "");
}

int azl_os_retired(const struct azl_os_info *os)
{
	return os->family == AZL_OS_AZURE_LINUX && !strcmp(os->version, "2.0");
}
