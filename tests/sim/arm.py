"""Azure Resource Manager for Microsoft.ContainerService managed clusters and
agent pools, read side (shared/reference/aks-api.md §2, §3.2).

server.Sim loads this module and calls register(sim); the state lives in
`sim.arm` (an Arm), which tests read and change directly:

    sim.arm.cluster_page_size = 2     # managedClusters lists, per page
    sim.arm.pool_page_size = 2        # agentPools lists, per page
    sim.arm.versions = [...]          # Kubernetes versions AKS offers
    sim.arm.latest_images[prefix] = "AKSUbuntu-2204gen2containerd-202608.14.0"
    sim.arm.extra_resource_groups.add(("sub", "rg"))   # empty groups that exist

Payloads come from the scenario objects on every request, so ARM and the
Kubernetes nodes never disagree. Per-object knobs (all optional):

    cluster.extra: in_arm (False: ARM does not know it), private (the
        kubeconfig host is the privateFQDN), current_k8s_version,
        upgrades (control-plane upgrade list), properties (merged in)
    pool.extra: latest_node_image_version, upgrades, properties (merged in,
        e.g. {"workloadRuntime": "KataVmIsolation"} or
        {"status": {"provisioningError": {...}}})

Every response carries x-ms-correlation-request-id, x-ms-request-id and
x-ms-ratelimit-remaining-subscription-reads. Errors are ARM-shaped:
{"error": {"code", "message"}}. Faults (429/5xx, dropped connections,
latency) come from sim.faults, applied by server.py before this runs.
"""

import functools
import hashlib
import threading
import uuid
from urllib.parse import quote

from .server import Response

API_VERSION = "2026-10-01"
PROVIDER = "Microsoft.ContainerService"
MC_TYPE = "Microsoft.ContainerService/ManagedClusters"
AP_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"

# Kubernetes patch versions AKS offers, oldest first.
DEFAULT_VERSIONS = ["1.29.15", "1.30.14", "1.31.9", "1.31.10", "1.32.6", "1.32.7",
                    "1.33.2", "1.33.3", "1.34.1", "1.35.0", "1.36.2", "1.37.1"]

# Minors a new pool may run below the control plane (the docs say three
# since 1.28; the spec says two: the simulator follows the docs).
POOL_SKEW = 3


@functools.lru_cache(maxsize=1024)
def _minor(version):
    parts = version.lstrip("v").split(".")
    return int(parts[0]), int(parts[1])


@functools.lru_cache(maxsize=1024)
def _vkey(version):
    return tuple(int(x) for x in version.lstrip("v").split("."))


def _merge(dst, src):
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _merge(dst[key], value)
        else:
            dst[key] = value
    return dst


def _etag(*parts):
    return hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()[:12]


def arm_error(status, code, message, headers=None):
    return Response(status, {"error": {"code": code, "message": message}}, headers)


class Arm:
    """Test-controllable ARM state; see the module docstring."""

    def __init__(self, sim):
        self.sim = sim
        self.lock = threading.Lock()
        self.cluster_page_size = 100
        self.pool_page_size = 100
        self.versions = list(DEFAULT_VERSIONS)
        self.latest_images = {}         # image prefix (without version) -> latest full name
        self.extra_resource_groups = set()  # (subscription lower, rg lower)
        self.reads_remaining = {}       # subscription -> reads left (the header)

    # --- lookups -------------------------------------------------------

    def clusters(self):
        return [c for c in self.sim.clusters if c.extra.get("in_arm", True)]

    def find_cluster(self, sub, rg, name):
        # Every ARM request looks its cluster up: the name first, which
        # tells most clusters apart, and the query lowered once.
        name, sub, rg = name.lower(), sub.lower(), rg.lower()
        for c in self.clusters():
            if (c.name.lower() == name and c.subscription.lower() == sub
                    and c.resource_group.lower() == rg):
                return c
        return None

    def resource_group_exists(self, sub, rg):
        if (sub.lower(), rg.lower()) in self.extra_resource_groups:
            return True
        return any(c.subscription.lower() == sub.lower()
                   and c.resource_group.lower() == rg.lower() for c in self.clusters())

    # --- versions and images --------------------------------------------

    def current_version(self, cluster):
        return cluster.extra.get("current_k8s_version", cluster.k8s_version)

    def cluster_upgrades(self, cluster):
        if "upgrades" in cluster.extra:
            return list(cluster.extra["upgrades"])
        cur = self.current_version(cluster)
        major, minor = _minor(cur)
        return [v for v in self.versions
                if _vkey(v) > _vkey(cur) and _minor(v)[0] == major and _minor(v)[1] <= minor + 1]

    def pool_upgrades(self, cluster, pool):
        if "upgrades" in pool.extra:
            return list(pool.extra["upgrades"])
        cp = self.current_version(cluster)
        return [v for v in self.versions if _vkey(pool.k8s_version) < _vkey(v) <= _vkey(cp)]

    def available_versions(self, cluster):
        cp = self.current_version(cluster)
        major, minor = _minor(cp)
        return [v for v in self.versions
                if _vkey(v) <= _vkey(cp) and _minor(v)[0] == major
                and _minor(v)[1] >= minor - POOL_SKEW]

    def latest_image(self, pool):
        if "latest_node_image_version" in pool.extra:
            return pool.extra["latest_node_image_version"]
        prefix = pool.node_image_version.rsplit("-", 1)[0]
        return self.latest_images.get(prefix, pool.node_image_version)

    # --- payloads --------------------------------------------------------

    def pool_properties(self, cluster, pool):
        props = {
            "eTag": _etag(cluster.id, pool.name, pool.k8s_version, pool.node_image_version,
                          pool.os_sku, pool.count),
            "count": pool.count,
            "vmSize": pool.vm_size,
            "osDiskSizeGB": pool.os_disk_size_gb,
            "osDiskType": "Managed",
            "kubeletDiskType": "OS",
            "maxPods": pool.max_pods,
            "type": "VirtualMachineScaleSets",
            "enableAutoScaling": bool(pool.autoscale),
            "scaleDownMode": "Delete",
            "provisioningState": pool.provisioning_state,
            "powerState": {"code": pool.power_state},
            "orchestratorVersion": pool.k8s_version,
            "currentOrchestratorVersion": pool.k8s_version,
            "enableNodePublicIP": False,
            "mode": pool.mode,
            "osType": pool.os_type,
            "osSKU": pool.os_sku,
            "nodeImageVersion": pool.node_image_version,
            "upgradeSettings": {"maxSurge": pool.max_surge},
            "enableFIPS": False,
            "enableEncryptionAtHost": False,
            "securityProfile": {"enableVTPM": False, "enableSecureBoot": False},
        }
        if pool.zones:
            props["availabilityZones"] = list(pool.zones)
        if pool.autoscale:
            props["minCount"] = pool.min_count
            props["maxCount"] = pool.max_count
        if pool.node_labels:
            props["nodeLabels"] = dict(pool.node_labels)
        if pool.node_taints:
            props["nodeTaints"] = list(pool.node_taints)
        return _merge(props, pool.extra.get("properties", {}))

    def pool_json(self, cluster, pool):
        return {"id": "%s/agentPools/%s" % (cluster.id, pool.name), "name": pool.name,
                "type": AP_TYPE, "properties": self.pool_properties(cluster, pool)}

    def cluster_json(self, cluster):
        private = bool(cluster.extra.get("private"))
        props = {
            "provisioningState": cluster.provisioning_state,
            "powerState": {"code": cluster.power_state},
            "maxAgentPools": 100,
            "kubernetesVersion": cluster.k8s_version,
            "currentKubernetesVersion": self.current_version(cluster),
            "dnsPrefix": cluster.dns_prefix,
            "nodeResourceGroup": cluster.node_resource_group,
            "enableRBAC": True,
            "supportPlan": "KubernetesOfficial",
            "agentPoolProfiles": [dict(self.pool_properties(cluster, p), name=p.name)
                                  for p in cluster.pools],
            "autoUpgradeProfile": {"upgradeChannel": cluster.auto_upgrade_channel,
                                   "nodeOSUpgradeChannel": cluster.node_os_upgrade_channel},
            "networkProfile": {"networkPlugin": "azure", "networkPluginMode": "overlay",
                               "loadBalancerSku": "standard", "outboundType": "loadBalancer"},
            "apiServerAccessProfile": {"enablePrivateCluster": private},
        }
        public = "%s-%s.hcp.%s.azmk8s.io" % (cluster.dns_prefix.lower(),
                                             _etag(cluster.id)[:8], cluster.location)
        if private:
            # the kubeconfig names the private endpoint, as get-credentials does
            props["fqdn"] = public
            props["privateFQDN"] = cluster.fqdn
        else:
            props["fqdn"] = cluster.fqdn
        props["azurePortalFQDN"] = public.replace(".hcp.", ".portal.hcp.")
        if cluster.aad:
            props["aadProfile"] = {"managed": True, "enableAzureRBAC": True,
                                   "tenantID": cluster.tenant}
        _merge(props, cluster.extra.get("properties", {}))
        return {"id": cluster.id, "name": cluster.name, "type": MC_TYPE,
                "location": cluster.location, "tags": dict(cluster.tags),
                "eTag": _etag(cluster.id, cluster.k8s_version, len(cluster.pools)),
                "sku": {"name": "Base", "tier": cluster.sku_tier},
                "identity": {"type": "SystemAssigned"}, "properties": props}

    def cluster_upgrade_profile(self, cluster):
        def ups(versions):
            return [{"kubernetesVersion": v, "isPreview": False} for v in versions]
        return {
            "id": cluster.id + "/upgradeprofiles/default", "name": "default",
            "type": "Microsoft.ContainerService/managedClusters/upgradeprofiles",
            "properties": {
                "controlPlaneProfile": {"kubernetesVersion": self.current_version(cluster),
                                        "osType": "Linux",
                                        "upgrades": ups(self.cluster_upgrades(cluster))},
                "agentPoolProfiles": [{"kubernetesVersion": p.k8s_version, "name": p.name,
                                       "osType": p.os_type,
                                       "upgrades": ups(self.pool_upgrades(cluster, p))}
                                      for p in cluster.pools]}}

    def pool_upgrade_profile(self, cluster, pool):
        return {
            "id": "%s/agentPools/%s/upgradeProfiles/default" % (cluster.id, pool.name),
            "name": "default",
            "type": "Microsoft.ContainerService/managedClusters/agentPools/upgradeProfiles",
            "properties": {
                "kubernetesVersion": pool.k8s_version, "osType": pool.os_type,
                "upgrades": [{"kubernetesVersion": v, "isPreview": False}
                             for v in self.pool_upgrades(cluster, pool)],
                "latestNodeImageVersion": self.latest_image(pool),
                "recentlyUsedVersions": []}}

    def available_agent_pool_versions(self, cluster):
        cp = self.current_version(cluster)
        return {
            "id": cluster.id + "/availableagentpoolversions",
            "name": "default",
            "type": "Microsoft.ContainerService/managedClusters/availableAgentpoolVersions",
            "properties": {"agentPoolVersions": [
                {"kubernetesVersion": v, "default": v == cp, "isPreview": False}
                for v in self.available_versions(cluster)]}}

    # --- HTTP ------------------------------------------------------------

    def headers(self, sub):
        with self.lock:
            left = self.reads_remaining.get(sub.lower(), 12000) - 1
            self.reads_remaining[sub.lower()] = max(left, 0)
        return {"x-ms-correlation-request-id": str(uuid.uuid4()),
                "x-ms-request-id": str(uuid.uuid4()),
                "x-ms-ratelimit-remaining-subscription-reads": str(max(left, 0)),
                "Cache-Control": "no-cache"}

    def page(self, req, items, page_size):
        """One page of a list, with nextLink when more remain."""
        try:
            start = int(req.q("$skipToken", "0"))
        except ValueError:
            start = 0
        size = max(1, int(page_size))
        body = {"value": items[start:start + size]}
        if start + size < len(items):
            body["nextLink"] = "%s%s?api-version=%s&$skipToken=%d" % (
                self.sim.azure_url, quote(req.path), API_VERSION, start + size)
        return body


def _route(path):
    """(subscription, resource group or None, cluster or None, rest) for a
    Microsoft.ContainerService path, else None. Keywords are
    case-insensitive, as in ARM."""
    seg = [s for s in path.split("/") if s]
    low = [s.lower() for s in seg]
    if len(seg) < 5 or low[0] != "subscriptions":
        return None
    sub, rest = seg[1], seg[2:]
    rg = None
    if low[2] == "resourcegroups":
        if len(seg) < 7:
            return None
        rg, rest = seg[3], seg[4:]
    lrest = [s.lower() for s in rest]
    if lrest[:3] != ["providers", PROVIDER.lower(), "managedclusters"]:
        return None
    rest = rest[3:]
    if rest and rg is None:
        return None
    return sub, rg, (rest[0] if rest else None), rest[1:]


def _authorize(sim, req):
    if not req.bearer:
        return arm_error(401, "AuthenticationFailed",
                         "Authentication failed. The 'Authorization' header is missing.")
    info = sim.check_azure_token(req)
    if info is None:
        return arm_error(401, "InvalidAuthenticationToken",
                         "The access token is invalid or expired.",
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    if not info["audience"].rstrip("/").lower().startswith("https://management."):
        return arm_error(401, "InvalidAuthenticationTokenAudience",
                         "The access token has been obtained for wrong audience or resource "
                         "'%s'. It should exactly match with one of the allowed audiences "
                         "'https://management.core.windows.net/','https://management.azure.com/'."
                         % info["audience"])
    return None


def _check_api_version(req):
    version = req.q("api-version")
    if version is None:
        return arm_error(400, "MissingApiVersionParameter",
                         "The api-version query parameter (?api-version=) is required for all "
                         "requests.")
    if version != API_VERSION:
        return arm_error(400, "InvalidApiVersionParameter",
                         "The api-version '%s' is invalid. The supported versions are '%s'."
                         % (version, API_VERSION))
    return None


def _not_found(arm, sub, rg, name):
    if not arm.resource_group_exists(sub, rg):
        return arm_error(404, "ResourceGroupNotFound", "Resource group '%s' could not be found."
                         % rg)
    return arm_error(404, "ResourceNotFound",
                     "The Resource '%s/managedClusters/%s' under resource group '%s' was not "
                     "found. For more details please go to "
                     "https://aka.ms/ARMResourceNotFoundFix" % (PROVIDER, name, rg))


def _cluster_routes(arm, req, cluster, rest):
    low = [s.lower() for s in rest]
    if not low:
        return arm.cluster_json(cluster)
    if low == ["upgradeprofiles", "default"]:
        return arm.cluster_upgrade_profile(cluster)
    if low == ["availableagentpoolversions"]:
        return arm.available_agent_pool_versions(cluster)
    if low == ["agentpools"]:
        return arm.page(req, [arm.pool_json(cluster, p) for p in cluster.pools],
                        arm.pool_page_size)
    if len(low) in (2, 4) and low[0] == "agentpools":
        pool = next((p for p in cluster.pools if p.name.lower() == low[1]), None)
        if pool is None:
            return arm_error(404, "NotFound",
                             "Could not find agent pool '%s' in managed cluster '%s'."
                             % (rest[1], cluster.name))
        if len(low) == 2:
            return arm.pool_json(cluster, pool)
        if low[2:] == ["upgradeprofiles", "default"]:
            return arm.pool_upgrade_profile(cluster, pool)
    return None


def handle(sim, req):
    route = _route(req.path)
    if route is None or req.method != "GET":
        return None
    arm = sim.arm
    sub, rg, name, rest = route
    refused = _authorize(sim, req) or _check_api_version(req)
    headers = arm.headers(sub)
    if refused is not None:
        refused.headers.update(headers)
        return refused
    if name is None:
        if rg is not None and not arm.resource_group_exists(sub, rg):
            return arm_error(404, "ResourceGroupNotFound",
                             "Resource group '%s' could not be found." % rg, headers)
        items = [arm.cluster_json(c) for c in arm.clusters()
                 if c.subscription.lower() == sub.lower()
                 and (rg is None or c.resource_group.lower() == rg.lower())]
        return Response(200, arm.page(req, items, arm.cluster_page_size), headers)
    cluster = arm.find_cluster(sub, rg, name)
    if cluster is None:
        resp = _not_found(arm, sub, rg, name)
        resp.headers.update(headers)
        return resp
    body = _cluster_routes(arm, req, cluster, rest)
    if body is None:
        return None                     # another module's route, or server.py's 404
    if isinstance(body, Response):
        body.headers.update(headers)
        return body
    return Response(200, body, headers)


def register(sim):
    sim.arm = Arm(sim)
    sim.register_azure_handler(handle)
