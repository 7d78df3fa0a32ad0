"""Azure Resource Manager for Microsoft.ContainerService managed clusters and
agent pools (shared/reference/aks-api.md §2, §3): reads here, writes and
their operations in armwrite.py, the nodes they move in roller.py, quota and
subnet usages in capacity.py.

server.Sim loads this module and calls register(sim); the state lives in
`sim.arm` (an Arm), which tests read and change directly:

    sim.arm.cluster_page_size = 2     # managedClusters lists, per page
    sim.arm.pool_page_size = 2        # agentPools lists, per page
    sim.arm.versions = [...]          # Kubernetes versions AKS offers
    sim.arm.latest_images[prefix] = "AKSUbuntu-2204gen2containerd-202608.14.0"
    sim.arm.extra_resource_groups.add(("sub", "rg"))   # empty groups that exist

Payloads come from the scenario objects on every request, so ARM and the
Kubernetes nodes never disagree. Per-object knobs (all optional):

    cluster.maintenance: {"aksManagedNodeOSUpgradeSchedule": {"maintenanceWindow":
        {...}}}: the maintenanceConfigurations served (names MAINTENANCE_NAMES)
    every answer's Date header is sim.clock's time, as ARM's is its own
    cluster.extra: in_arm (False: ARM does not know it), private (the
        kubeconfig host is the privateFQDN), current_k8s_version,
        upgrades (control-plane upgrade list), properties (merged in)
    pool.extra: latest_node_image_version, upgrades, properties (merged in,
        e.g. {"workloadRuntime": "KataVmIsolation"} or
        {"status": {"provisioningError": {...}}}), upgradeSettings (beyond
        maxSurge, e.g. {"drainTimeoutInMinutes": 5}); the write side keeps
        writes (the eTag's counter) and pending (what a running PUT asked)
    write side (armwrite.py): sim.arm.put_pool_throttle, sim.arm.os_sku_refusals

api-version 2026-10-01 (the reference's) and 2022-11-01 (what Debian's
python3-azure SDK speaks) are accepted. Every request that names a cluster
runs under that cluster's lock (cluster.k8s.lock), which the roller and the
Kubernetes API hold too.

Every response carries x-ms-correlation-request-id, x-ms-request-id and
x-ms-ratelimit-remaining-subscription-reads (-writes, -deletes for those). Errors are ARM-shaped:
{"error": {"code", "message"}}. Faults (429/5xx, dropped connections,
latency) come from sim.faults, applied by server.py before this runs.
"""

import functools
import hashlib
from email.utils import formatdate
import threading
import uuid
from urllib.parse import quote

from . import armwrite
from . import capacity as capmod
from .roller import Roller
from .server import Response

API_VERSION = "2026-10-01"
# Also accepted: the newest Debian's python3-azure (azure-mgmt-containerservice
# 21.1.0) speaks, so its pollers can drive the simulator.
SDK_API_VERSION = "2022-11-01"
API_VERSIONS = (API_VERSION, SDK_API_VERSION)
PROVIDER = "Microsoft.ContainerService"
MC_TYPE = "Microsoft.ContainerService/ManagedClusters"
AP_TYPE = "Microsoft.ContainerService/managedClusters/agentPools"
MC_TYPE_MAINTENANCE = "Microsoft.ContainerService/managedClusters/maintenanceConfigurations"
# The only names AKS takes: its own weekly releases ('default', timeInWeek or
# maintenanceWindow), the cluster auto-upgrade channel's and the node OS
# upgrade channel's windows (maintenanceWindow).
MAINTENANCE_NAMES = ("default", "aksManagedAutoUpgradeSchedule",
                     "aksManagedNodeOSUpgradeSchedule")

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
    # Writes count into the tag only once there are any, so a scenario's
    # tags stay what they were before the simulator wrote.
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
        self.reads_remaining = {}       # (subscription, "reads"|"writes"|"deletes") -> left
        self.put_pool_throttle = None   # {"size": 20, "per_minute": 1}: armwrite.py
        self.put_pool_buckets = {}
        self.os_sku_refusals = {}       # osSKU -> "InvalidOSSKU" | "PropertyChangeNotAllowed"
        self.op_api_versions = {}       # operation id -> api-version of its request

    def api_version_of(self, op):
        return self.op_api_versions.get(op.id, API_VERSION)

    def pool_etag(self, cluster, pool):
        return self.pool_properties(cluster, pool)["eTag"]

    def cluster_etag(self, cluster):
        return self.cluster_json(cluster)["eTag"]

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
        writes = (pool.extra["writes"],) if pool.extra.get("writes") else ()
        pending = pool.extra.get("pending", {})
        props = {
            "eTag": _etag(cluster.id, pool.name, pool.k8s_version, pool.node_image_version,
                          pool.os_sku, pool.count, *writes),
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
            "orchestratorVersion": pending.get("orchestratorVersion", pool.k8s_version),
            "currentOrchestratorVersion": pool.k8s_version,
            "enableNodePublicIP": False,
            "mode": pool.mode,
            "osType": pool.os_type,
            "osSKU": pending.get("osSKU", pool.os_sku),
            "nodeImageVersion": pool.node_image_version,
            "upgradeSettings": dict(pool.extra.get("upgradeSettings", {}),
                                    maxSurge=pool.max_surge),
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
        if pool.extra.get("tags"):
            props["tags"] = dict(pool.extra["tags"])
        subnet = self.sim.capacity.subnet(cluster)
        if subnet is not None:
            props["vnetSubnetID"] = subnet[0]
        subnet = self.sim.capacity.pod_subnet(cluster)
        if subnet is not None:
            props["podSubnetID"] = subnet[0]
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
            "networkProfile": dict({"networkPlugin": cluster.network_plugin,
                                    "loadBalancerSku": "standard",
                                    "outboundType": "loadBalancer"},
                                   **({"networkPluginMode": cluster.network_plugin_mode}
                                      if cluster.network_plugin_mode else {})),
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
                "eTag": _etag(cluster.id, cluster.k8s_version, len(cluster.pools),
                              *((cluster.extra["writes"],) if cluster.extra.get("writes")
                                else ())),
                "sku": {"name": "Base", "tier": cluster.sku_tier},
                "identity": {"type": "SystemAssigned"}, "properties": props}

    def maintenance_configurations(self, cluster):
        """The cluster's planned maintenance (Cluster.maintenance: name ->
        properties), in AKS's order of names."""
        return [self._maintenance_json(cluster, name) for name in MAINTENANCE_NAMES
                if name in cluster.maintenance]

    def maintenance_configuration(self, cluster, name):
        for known in cluster.maintenance:
            if known.lower() == name.lower():
                return self._maintenance_json(cluster, known)
        return arm_error(404, "NotFound", "Maintenance configuration '%s' not found in managed "
                         "cluster '%s'." % (name, cluster.name))

    def _maintenance_json(self, cluster, name):
        return {"id": "%s/maintenanceConfigurations/%s" % (cluster.id, name), "name": name,
                "type": MC_TYPE_MAINTENANCE, "properties": dict(cluster.maintenance[name])}

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

    def headers(self, sub, method="GET"):
        # The hourly limits of aks-api.md §3.2: 12000 reads, 1200 writes, 15000 deletes.
        kind, limit = {"GET": ("reads", 12000), "DELETE": ("deletes", 15000)}.get(
            method, ("writes", 1200))
        with self.lock:
            left = self.reads_remaining.get((sub.lower(), kind), limit) - 1
            self.reads_remaining[(sub.lower(), kind)] = max(left, 0)
        # ARM's Date is its clock: the simulated one, which tests pause and step.
        return {"Date": formatdate(self.sim.clock.now(), usegmt=True),
                "x-ms-correlation-request-id": str(uuid.uuid4()),
                "x-ms-request-id": str(uuid.uuid4()),
                "x-ms-ratelimit-remaining-subscription-" + kind: str(max(left, 0)),
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


def _check_api_version(req, any_version=False):
    version = req.q("api-version")
    if version is None:
        return arm_error(400, "MissingApiVersionParameter",
                         "The api-version query parameter (?api-version=) is required for all "
                         "requests.")
    if version not in API_VERSIONS and not any_version:
        return arm_error(400, "InvalidApiVersionParameter",
                         "The api-version '%s' is invalid. The supported versions are '%s'."
                         % (version, ",".join(API_VERSIONS)))
    return None


def _not_found(arm, sub, rg, name):
    if not arm.resource_group_exists(sub, rg):
        return arm_error(404, "ResourceGroupNotFound", "Resource group '%s' could not be found."
                         % rg)
    return arm_error(404, "ResourceNotFound",
                     "The Resource '%s/managedClusters/%s' under resource group '%s' was not "
                     "found. For more details please go to "
                     "https://aka.ms/ARMResourceNotFoundFix" % (PROVIDER, name, rg))


def _find_pool(cluster, name):
    return next((p for p in cluster.pools if p.name.lower() == name.lower()), None)


def _no_pool(cluster, name):
    return arm_error(404, "NotFound", "Could not find agent pool '%s' in managed cluster '%s'."
                     % (name, cluster.name))


def _cluster_routes(arm, req, cluster, rest):
    low = [s.lower() for s in rest]
    if not low:
        return arm.cluster_json(cluster)
    if low == ["upgradeprofiles", "default"]:
        return arm.cluster_upgrade_profile(cluster)
    if low == ["availableagentpoolversions"]:
        return arm.available_agent_pool_versions(cluster)
    if low == ["maintenanceconfigurations"]:
        return arm.page(req, arm.maintenance_configurations(cluster), arm.pool_page_size)
    if len(low) == 2 and low[0] == "maintenanceconfigurations":
        return arm.maintenance_configuration(cluster, rest[1])
    if low == ["agentpools"]:
        return arm.page(req, [arm.pool_json(cluster, p) for p in cluster.pools],
                        arm.pool_page_size)
    if len(low) in (2, 4) and low[0] == "agentpools":
        pool = _find_pool(cluster, rest[1])
        if pool is None:
            return _no_pool(cluster, rest[1])
        if len(low) == 2:
            return arm.pool_json(cluster, pool)
        if low[2:] == ["upgradeprofiles", "default"]:
            return arm.pool_upgrade_profile(cluster, pool)
    return None


def _write_routes(arm, req, cluster, rest):
    """(status, body, headers) of a write, or None when it is not one of ours."""
    low = [s.lower() for s in rest]
    method = req.method
    if not low and method == "PUT":
        return armwrite.put_cluster(arm, req, cluster)
    if low == ["abort"] and method == "POST":
        return armwrite.abort(arm, req, cluster)
    if len(low) < 2 or low[0] != "agentpools":
        return None
    if len(low) == 2 and method == "PUT":
        return armwrite.put_pool(arm, req, cluster, rest[1])
    pool = _find_pool(cluster, rest[1])
    if len(low) == 2 and method == "DELETE":
        if pool is None:
            return 204, None, {}        # ARM: deleting what is not there succeeds
        return armwrite.delete_pool(arm, req, cluster, pool)
    if len(low) == 3 and method == "POST" and low[2] in ("upgradenodeimageversion", "abort"):
        if pool is None:
            resp = _no_pool(cluster, rest[1])
            return resp.status, resp.body, {}
        if low[2] == "abort":
            return armwrite.abort(arm, req, cluster, pool)
        return armwrite.upgrade_node_image(arm, req, cluster, pool)
    return None


def _operation_route(arm, req, sub, path):
    """GET .../locations/{l}/operations|operationresults/{id}: the status resources."""
    seg = [s for s in path.split("/") if s]
    low = [s.lower() for s in seg]
    if len(seg) != 8 or low[0] != "subscriptions" or low[2:4] != ["providers",
                                                                  PROVIDER.lower()] \
            or low[4] != "locations" or low[6] not in ("operations", "operationresults"):
        return None
    op = arm.sim.roller.operations.get(seg[7])
    if op is None or op.cluster.subscription.lower() != sub.lower():
        return arm_error(404, "NotFound", "Operation '%s' was not found." % seg[7])
    with op.cluster.k8s.lock:
        if low[6] == "operations":
            return Response(200, op.status_body())
        if not op.done:
            return Response(202, None, {
                "Location": "%s%s?%s" % (arm.sim.azure_url, path, req.raw_query),
                "Retry-After": str(arm.sim.clock.retry_after(armwrite.RETRY_AFTER_SIM))})
        if op.status != "Succeeded":
            return Response(200 if op.status == "Canceled" else 400, {"error": op.error})
        if op.result == "pool":
            pool = _find_pool(op.cluster, op.pool_name)
            if pool is not None:
                return Response(200, arm.pool_json(op.cluster, pool))
        if op.result == "cluster":
            return Response(200, arm.cluster_json(op.cluster))
        return Response(204)


def _usage_route(sim, path):
    """Compute and virtual network usages (capacity.py), or None."""
    seg = [s for s in path.split("/") if s]
    low = [s.lower() for s in seg]
    if len(seg) == 7 and low[0] == "subscriptions" and low[2:4] == [
            "providers", "microsoft.compute"] and low[4] == "locations" and low[6] == "usages":
        return Response(200, sim.capacity.compute_usages(seg[1], seg[5]))
    if len(seg) == 9 and low[0] == "subscriptions" and low[2] == "resourcegroups" and \
            low[4:7] == ["providers", "microsoft.network", "virtualnetworks"] and \
            low[8] == "usages":
        cluster = sim.capacity.find_vnet(seg[1], seg[3], seg[7])
        if cluster is None:
            return arm_error(404, "ResourceNotFound", "The Resource 'Microsoft.Network/"
                             "virtualNetworks/%s' under resource group '%s' was not found."
                             % (seg[7], seg[3]))
        with cluster.k8s.lock:
            return Response(200, sim.capacity.network_usages(cluster))
    return None


def _other_route(sim, req):
    """Operation status and usages: GET routes outside managedClusters."""
    if req.method != "GET" or not req.path.lower().startswith("/subscriptions/"):
        return None
    sub = req.path.split("/")[2]
    if "/providers/microsoft.containerservice/locations/" not in req.path.lower() and \
            "/usages" not in req.path.lower():
        return None
    refused = _authorize(sim, req) or _check_api_version(req, any_version=True)
    if refused is not None:
        return refused
    resp = _operation_route(sim.arm, req, sub, req.path) or _usage_route(sim, req.path)
    if resp is not None:
        resp.headers.update(sim.arm.headers(sub))
    return resp


def handle(sim, req):
    route = _route(req.path)
    if route is None:
        return _other_route(sim, req)
    if req.method not in ("GET", "PUT", "POST", "DELETE"):
        return None
    arm = sim.arm
    sub, rg, name, rest = route
    refused = _authorize(sim, req) or _check_api_version(req)
    headers = arm.headers(sub, req.method)
    if refused is not None:
        refused.headers.update(headers)
        return refused
    if name is None:
        if req.method != "GET":
            return None
        if rg is not None and not arm.resource_group_exists(sub, rg):
            return arm_error(404, "ResourceGroupNotFound",
                             "Resource group '%s' could not be found." % rg, headers)
        items = []
        for c in arm.clusters():
            if c.subscription.lower() == sub.lower() and (
                    rg is None or c.resource_group.lower() == rg.lower()):
                with c.k8s.lock:
                    items.append(arm.cluster_json(c))
        return Response(200, arm.page(req, items, arm.cluster_page_size), headers)
    cluster = arm.find_cluster(sub, rg, name)
    if cluster is None:
        resp = _not_found(arm, sub, rg, name)
        resp.headers.update(headers)
        return resp
    with cluster.k8s.lock:
        if req.method == "GET":
            body = _cluster_routes(arm, req, cluster, rest)
        else:
            try:
                written = _write_routes(arm, req, cluster, rest)
            except armwrite.WriteError as e:
                err = {"code": e.code, "message": e.message}
                if e.target:
                    err["target"] = e.target
                return Response(e.status, {"error": err}, dict(headers, **e.headers))
            if written is None:
                return None
            status, body, extra = written
            return Response(status, body, dict(headers, **extra))
    if body is None:
        return None                     # another module's route, or server.py's 404
    if isinstance(body, Response):
        body.headers.update(headers)
        return body
    return Response(200, body, headers)


def register(sim):
    sim.arm = Arm(sim)
    sim.roller = Roller(sim)
    capmod.register(sim)
    sim.register_azure_handler(handle)
