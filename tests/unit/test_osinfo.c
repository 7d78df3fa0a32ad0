/* OS detection from real-world AKS strings: every rule, the precedence
 * between sources, and what stays unknown. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "osinfo.h"

struct os_case {
	const char *image, *sku, *kube, *os_image, *kernel;
	enum azl_os_family family;
	const char *version, *name;
};

static const struct os_case cases[] = {
	/* node image names (aks-api.md §4.1) */
	{ "AKSAzureLinux-V3gen2-202602.13.5", NULL, NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ "AKSAzureLinux-V3gen2fips-202505.27.0", "", "", "", "",
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ "AKSAzureLinux-V3-202505.27.0", NULL, NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ "AKSAzureLinux-V2gen2-202502.26.0", NULL, NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ "AKSAzureLinux-V2katagen2-202505.27.0", NULL, NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ "AKSCBLMariner-V2gen2-202308.01.0", NULL, NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ "AKSCBLMarinerV2-gen2", NULL, NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ "AKSAzureLinuxV3-gen2", NULL, NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ "AKSUbuntu-2204gen2containerd-202405.27.0", NULL, NULL, NULL, NULL,
	  AZL_OS_UBUNTU, "22.04", "Ubuntu 22.04" },
	{ "AKSUbuntu-2204gen2containerd-202410.27.0-2024.12.01", NULL, NULL, NULL, NULL,
	  AZL_OS_UBUNTU, "22.04", "Ubuntu 22.04" },
	{ "AKSUbuntu-2404gen2containerd-202505.27.0", NULL, NULL, NULL, NULL,
	  AZL_OS_UBUNTU, "24.04", "Ubuntu 24.04" },
	{ "AKSUbuntu-1804gen2containerd-202209.13.0", NULL, NULL, NULL, NULL,
	  AZL_OS_UBUNTU, "18.04", "Ubuntu 18.04" },
	{ "AKSWindows-2022-containerd-gen2-20348.3692.250518", NULL, NULL, NULL, NULL,
	  AZL_OS_WINDOWS, "2022", "Windows Server 2022" },
	{ "AKSWindows-2019-containerd-17763.7314.250518", NULL, NULL, NULL, NULL,
	  AZL_OS_WINDOWS, "2019", "Windows Server 2019" },
	{ "AKSAzureContainerLinux-202606.01.0", NULL, NULL, NULL, NULL,
	  AZL_OS_OTHER, "", "Azure Container Linux" },

	/* osImage, the os-release PRETTY_NAME (§4.4) */
	{ NULL, NULL, NULL, "Microsoft Azure Linux 3.0", NULL,
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ NULL, NULL, NULL, "CBL-Mariner/Linux", NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ NULL, NULL, NULL, "Ubuntu 22.04.5 LTS", NULL,
	  AZL_OS_UBUNTU, "22.04", "Ubuntu 22.04" },
	{ NULL, NULL, NULL, "Ubuntu 24.04.4 LTS", NULL,
	  AZL_OS_UBUNTU, "24.04", "Ubuntu 24.04" },
	{ NULL, NULL, NULL, "Windows Server 2022 Datacenter", NULL,
	  AZL_OS_WINDOWS, "2022", "Windows Server 2022" },

	/* kernel release suffix */
	{ NULL, NULL, NULL, NULL, "6.6.64.2-9.azl3",
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ NULL, NULL, NULL, NULL, "5.15.116.1-2.cm2",
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },

	/* OS SKU with the Kubernetes version (§1.5) */
	{ NULL, "AzureLinux", "1.31.2", NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ NULL, "AzureLinux", "v1.32.0", NULL, NULL,
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ NULL, "AzureLinux", "1.27.9", NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ NULL, "AzureLinux3", "1.28.5", NULL, NULL,
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ NULL, "AzureLinux2", "1.32.0", NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ NULL, "CBLMariner", "1.30.1", NULL, NULL,
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ NULL, "Ubuntu", "1.25.0", NULL, NULL,
	  AZL_OS_UBUNTU, "22.04", "Ubuntu 22.04" },
	{ NULL, "Ubuntu", "v1.34.3", NULL, NULL,
	  AZL_OS_UBUNTU, "22.04", "Ubuntu 22.04" },
	{ NULL, "Ubuntu", "1.35.0", NULL, NULL,
	  AZL_OS_UBUNTU, "24.04", "Ubuntu 24.04" },
	{ NULL, "Ubuntu2204", "1.35.0", NULL, NULL,
	  AZL_OS_UBUNTU, "22.04", "Ubuntu 22.04" },
	{ NULL, "Ubuntu2404", "1.32.0", NULL, NULL,
	  AZL_OS_UBUNTU, "24.04", "Ubuntu 24.04" },
	{ NULL, "Windows2022", "1.30.0", NULL, NULL,
	  AZL_OS_WINDOWS, "2022", "Windows Server 2022" },
	{ NULL, "Windows2019", NULL, NULL, NULL,
	  AZL_OS_WINDOWS, "2019", "Windows Server 2019" },
	{ NULL, "Windows2025", "1.33.1", NULL, NULL,
	  AZL_OS_WINDOWS, "2025", "Windows Server 2025" },
	/* a default SKU without a Kubernetes version names only the family */
	{ NULL, "AzureLinux", NULL, NULL, NULL,
	  AZL_OS_AZURE_LINUX, "", "Azure Linux" },
	{ NULL, "Ubuntu", "latest", NULL, NULL,
	  AZL_OS_UBUNTU, "", "Ubuntu" },

	/* precedence: image, then osImage, then kernel, then SKU */
	{ "AKSAzureLinux-V3gen2-202602.13.5", "Ubuntu", "1.30.0",
	  "CBL-Mariner/Linux", "5.15.116.1-2.cm2",
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ NULL, "AzureLinux", "1.30.0", "Microsoft Azure Linux 3.0",
	  "5.15.116.1-2.cm2", AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },
	{ NULL, "AzureLinux", "1.33.0", NULL, "5.15.116.1-2.cm2",
	  AZL_OS_AZURE_LINUX, "2.0", "Azure Linux 2.0" },
	{ "SomeCustomImage-1.0", "AzureLinux", "1.33.0", "Fedora Linux 40", NULL,
	  AZL_OS_AZURE_LINUX, "3.0", "Azure Linux 3.0" },

	/* unknowns */
	{ NULL, NULL, NULL, NULL, NULL, AZL_OS_UNKNOWN, "", "Unknown" },
	{ "", "", "", "", "", AZL_OS_UNKNOWN, "", "Unknown" },
	{ "AKSFlatcar-gen2-202601.01.0", "Flatcar", "1.33.0",
	  "Flatcar Container Linux by Kinvolk 4081.2.0", "6.6.60-flatcar",
	  AZL_OS_UNKNOWN, "", "Unknown" },
	{ NULL, NULL, NULL, "Ubuntu", NULL, AZL_OS_UNKNOWN, "", "Unknown" },
	{ NULL, NULL, NULL, NULL, "6.6.64.2-9.azl30", AZL_OS_UNKNOWN, "", "Unknown" },
};

static void test_table(void **state)
{
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct os_case *c = &cases[i];
		struct azl_os_info info;

		memset(&info, 0x5a, sizeof(info));
		azl_os_detect(c->image, c->sku, c->kube, c->os_image, c->kernel, &info);
		print_message("case %zu: %s\n", i, info.name);
		assert_int_equal(info.family, c->family);
		assert_string_equal(info.version, c->version);
		assert_string_equal(info.name, c->name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
