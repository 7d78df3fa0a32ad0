"""What the simulator serves: clusters described as node pools.

k8s.py turns pools into nodes and pods; arm.py turns them into ARM resources.
OS facts (osImage, kernel, containerd) follow shared/reference/aks-api.md §4.
"""

import hashlib
from dataclasses import dataclass, field

DEFAULT_K8S = "1.32.6"
AZL3_IMAGE = "AKSAzureLinux-V3gen2-202607.09.0"
AZL2_IMAGE = "AKSAzureLinux-V2gen2-202512.06.0"
MARINER2_IMAGE = "AKSCBLMariner-V2gen2-202512.06.0"
UBUNTU2204_IMAGE = "AKSUbuntu-2204gen2containerd-202607.09.0"
UBUNTU2404_IMAGE = "AKSUbuntu-2404gen2containerd-202607.09.0"
WINDOWS2022_IMAGE = "AKSWindows-2022-containerd-gen2-20348.3932.250709"


@dataclass(frozen=True)
class OSFacts:
    os_image: str           # status.nodeInfo.osImage (os-release PRETTY_NAME)
    kernel: str             # status.nodeInfo.kernelVersion
    runtime: str            # status.nodeInfo.containerRuntimeVersion
    sku_effective: str      # kubernetes.azure.com/os-sku-effective


# Keyed by the prefix of the node image version; first match wins.
_OS_BY_IMAGE = [
    ("AKSAzureLinux-V3", OSFacts("Microsoft Azure Linux 3.0", "6.6.96.1-1.azl3",
                                 "containerd://2.0.0", "AzureLinux3")),
    ("AKSAzureLinux-V2", OSFacts("CBL-Mariner/Linux", "5.15.186.1-1.cm2",
                                 "containerd://1.6.26", "AzureLinux2")),
    ("AKSCBLMariner-V2", OSFacts("CBL-Mariner/Linux", "5.15.186.1-1.cm2",
                                 "containerd://1.6.26", "CBLMariner")),
    ("AKSUbuntu-2404", OSFacts("Ubuntu 24.04.2 LTS", "6.8.0-1031-azure",
                               "containerd://1.7.27-1", "Ubuntu2404")),
    ("AKSUbuntu-2204", OSFacts("Ubuntu 22.04.5 LTS", "5.15.0-1079-azure",
                               "containerd://1.7.27-1", "Ubuntu2204")),
    ("AKSWindows-2022", OSFacts("Windows Server 2022 Datacenter", "10.0.20348.3932",
                                "containerd://1.7.20+azure", "Windows2022")),
]

# vCPU, memory GiB, GPUs; unknown sizes get 4/16/0.
VM_SIZES = {
    "Standard_D2s_v3": (2, 8, 0),
    "Standard_D4s_v3": (4, 16, 0),
    "Standard_D4ds_v5": (4, 16, 0),
    "Standard_D8ds_v5": (8, 32, 0),
    "Standard_D4pds_v5": (4, 16, 0),
    "Standard_DS2_v2": (2, 7, 0),
    "Standard_NC6s_v3": (6, 112, 1),
    "Standard_NC24ads_A100_v4": (24, 220, 1),
}


def os_facts(node_image_version):
    for prefix, facts in _OS_BY_IMAGE:
        if node_image_version.startswith(prefix):
            return facts
    raise ValueError("no OS facts for node image version %r" % node_image_version)


def _digits(*parts):
    """Stable 8-digit VMSS id, as AKS derives one per pool."""
    h = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return "%08d" % (int(h[:12], 16) % 100000000)


@dataclass
class Pool:
    name: str
    mode: str = "User"
    os_type: str = "Linux"
    os_sku: str = "AzureLinux"
    k8s_version: str = DEFAULT_K8S
    node_image_version: str = AZL3_IMAGE
    vm_size: str = "Standard_D4ds_v5"
    count: int = 3
    ready: int = None               # how many nodes are Ready; None = all
    zones: list = field(default_factory=list)
    gpu: bool = False
    unschedulable: int = 0          # the first N nodes are cordoned
    max_surge: str = "10%"
    min_count: int = None
    max_count: int = None
    autoscale: bool = False
    provisioning_state: str = "Succeeded"
    power_state: str = "Running"
    max_pods: int = 110
    os_disk_size_gb: int = 128
    node_labels: dict = field(default_factory=dict)
    node_taints: list = field(default_factory=list)
    age_days: float = 12.0          # how old the nodes are
    extra: dict = field(default_factory=dict)   # anything arm.py wants to keep

    def __post_init__(self):
        if self.ready is None:
            self.ready = self.count

    @property
    def arch(self):
        # Azure's Arm64 sizes carry a 'p' family letter (D4pds_v5, E8ps_v5).
        family = self.vm_size.split("_")[1] if "_" in self.vm_size else ""
        return "arm64" if "p" in family.lower() else "amd64"

    @property
    def os(self):
        return os_facts(self.node_image_version)

    @property
    def vm_shape(self):
        return VM_SIZES.get(self.vm_size, (4, 16, 1 if self.gpu else 0))


@dataclass
class Cluster:
    name: str
    resource_group: str
    subscription: str
    location: str = "eastus"
    k8s_version: str = DEFAULT_K8S
    pools: list = field(default_factory=list)
    tenant: str = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    node_resource_group: str = None
    auto_upgrade_channel: str = "none"
    node_os_upgrade_channel: str = "NodeImage"
    dns_prefix: str = None
    provisioning_state: str = "Succeeded"
    power_state: str = "Running"
    sku_tier: str = "Free"
    # networkProfile: "azure" with mode "overlay" (AKS's default), None for
    # Azure CNI without overlay (pods take subnet IPs), or "kubenet"
    network_plugin: str = "azure"
    network_plugin_mode: str = "overlay"
    # planned maintenance: configuration name -> its properties
    # (arm.MAINTENANCE_NAMES), e.g. {"aksManagedNodeOSUpgradeSchedule":
    # {"maintenanceWindow": {"schedule": {"weekly": ...}, ...}}}
    maintenance: dict = field(default_factory=dict)
    aad: bool = False
    tags: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    # Filled in by the simulator when it starts.
    fqdn: str = None                # "127.0.0.N", the host of server_url
    server_url: str = None
    k8s: object = None              # k8s.K8sState

    def __post_init__(self):
        if self.node_resource_group is None:
            self.node_resource_group = "MC_%s_%s_%s" % (self.resource_group, self.name,
                                                        self.location)
        if self.dns_prefix is None:
            self.dns_prefix = "%s-%s" % (self.name[:10], self.resource_group[:16])

    def pool(self, name):
        for p in self.pools:
            if p.name == name:
                return p
        raise KeyError("cluster %s has no pool %s" % (self.name, name))

    def vmss_digits(self, pool_name):
        return _digits(self.subscription, self.resource_group, self.name, pool_name)

    @property
    def id(self):
        return ("/subscriptions/%s/resourceGroups/%s/providers/"
                "Microsoft.ContainerService/managedClusters/%s"
                % (self.subscription, self.resource_group, self.name))


@dataclass
class Scenario:
    clusters: list = field(default_factory=list)
    name: str = "custom"
    # Simulated seconds per wall second (clock.py): 600 runs a simulated
    # minute in 100 ms. 1 keeps simulated time equal to wall time.
    time_scale: float = 1.0
    # Simulated delays of the Kubernetes side (k8s.DEFAULT_DELAYS), e.g.
    # {"pod_ready": 30, "pod_stop": None}.
    delays: dict = field(default_factory=dict)

    def cluster(self, name):
        for c in self.clusters:
            if c.name == name:
                return c
        raise KeyError("scenario has no cluster %s" % name)


DEMO_SUBSCRIPTION = "3f2a8c1e-5b7d-4e9a-8c21-6d0f4b9e7a15"


def demo_scenario():
    """One cluster with the four kinds of pool the plugin must tell apart."""
    pools = [
        Pool("system", mode="System", os_sku="AzureLinux", node_image_version=AZL3_IMAGE,
             count=3, zones=["1", "2", "3"], max_surge="33%"),
        Pool("ubuntu", os_sku="Ubuntu", node_image_version=UBUNTU2204_IMAGE, count=3,
             ready=2, zones=["1", "2", "3"]),
        Pool("mariner", os_sku="AzureLinux", node_image_version=AZL2_IMAGE,
             k8s_version="1.31.9", count=2, unschedulable=1, age_days=300),
        Pool("gpu", os_sku="AzureLinux", node_image_version=AZL3_IMAGE,
             vm_size="Standard_NC6s_v3", count=1, gpu=True, autoscale=True,
             min_count=1, max_count=3),
    ]
    cluster = Cluster("demo-aks", "demo-rg", DEMO_SUBSCRIPTION, location="eastus",
                      pools=pools)
    return Scenario([cluster], name="demo")


# Pool flavours cycled through by the large and fleet scenarios.
_MIX = [
    dict(os_sku="AzureLinux", node_image_version=AZL3_IMAGE),
    dict(os_sku="Ubuntu", node_image_version=UBUNTU2204_IMAGE),
    dict(os_sku="AzureLinux", node_image_version=AZL2_IMAGE, k8s_version="1.31.9"),
    dict(os_sku="CBLMariner", node_image_version=MARINER2_IMAGE, k8s_version="1.31.9"),
    dict(os_sku="Ubuntu2404", node_image_version=UBUNTU2404_IMAGE),
    dict(os_sku="AzureLinux", node_image_version=AZL3_IMAGE, vm_size="Standard_NC6s_v3",
         gpu=True),
    dict(os_type="Windows", os_sku="Windows2022", node_image_version=WINDOWS2022_IMAGE),
]


def _mixed_pools(n_pools, nodes_per_pool, remainder=0):
    pools = []
    for i in range(n_pools):
        flavour = dict(_MIX[i % len(_MIX)])
        windows = flavour.get("os_type") == "Windows"
        name = ("w%03d" if windows else "np%03d") % i
        count = nodes_per_pool + (1 if i < remainder else 0)
        pools.append(Pool(name, mode="System" if i == 0 else "User", count=count,
                          zones=["1", "2", "3"], **flavour))
    return pools


def large_scenario(pools=100, nodes=5000):
    """One cluster with many pools, for paging and performance."""
    per, rem = divmod(nodes, pools)
    cluster = Cluster("big-aks", "big-rg", DEMO_SUBSCRIPTION, location="westeurope",
                      pools=_mixed_pools(pools, per, rem))
    return Scenario([cluster], name="large")


def fleet_scenario(n_contexts=5, pools_per_cluster=3):
    """Many clusters over two subscriptions, one kubeconfig context each."""
    subs = [DEMO_SUBSCRIPTION, "9b1c7e2d-4a6f-4c3b-8e5d-1f2a3b4c5d6e"]
    locations = ["eastus", "westeurope", "southeastasia"]
    clusters = []
    for i in range(n_contexts):
        clusters.append(Cluster("fleet-%02d" % (i + 1), "fleet-rg-%d" % (i % 3 + 1),
                                subs[i % 2], location=locations[i % 3],
                                pools=_mixed_pools(pools_per_cluster, 2)))
    return Scenario(clusters, name="fleet")


SCENARIOS = {"demo": demo_scenario, "large": large_scenario, "fleet": fleet_scenario}
