"""ARM writes for managed clusters and agent pools, validated as AKS does
(shared/reference/aks-api.md §2.2-2.7, §3; migrate-upgrade.md §B), each
starting an operation on the roller (roller.py).

    PUT    {mc}/agentPools/{name}                       create (201) or update (200)
    POST   {mc}/agentPools/{name}/upgradeNodeImageVersion   202
    DELETE {mc}/agentPools/{name}[?ignore-pod-disruption-budget=true]   202
    PUT    {mc}                                         kubernetesVersion, autoUpgradeProfile
    POST   {mc}/agentPools/{name}/abort, POST {mc}/abort    202
    GET    /subscriptions/{s}/providers/Microsoft.ContainerService/locations/{l}/
           operations/{id}        the status: InProgress (percentComplete), Succeeded,
                                  Failed (error), Canceling, Canceled
           operationresults/{id}  202 while running; then 200 with the resource, or 204

Every write answers with Azure-AsyncOperation (and Location where the spec
has it) and Retry-After (a simulated 30 s, in wall seconds on the clock),
bumps the resource's eTag, honours If-Match (412 PreconditionFailed) and
If-None-Match: * (412 on an existing pool), and gets 409
OperationNotAllowed while an operation runs on that pool (or, for a cluster
write, anywhere in the cluster). Controls for tests, on `sim.arm`:

    sim.arm.put_pool_throttle = {"size": 20, "per_minute": 1}
        # the AKS RP's PUT AgentPool token bucket per pool (§3.2); None: off
    sim.arm.os_sku_refusals["AzureLinux3"] = "InvalidOSSKU"
        # or "PropertyChangeNotAllowed": the region does not offer that move
    armwrite.someone_else_creates(sim.arm, cluster, "workazl", like="work")
        # a pool of that name, not ours, created behind the tool's back

Pools can carry refusal reasons in pool.extra: gpu_dedicated_vhd,
confidential_vm (or a DC/EC..as/ads size), and properties.workloadRuntime
Kata*. Validation runs under the cluster's lock, before anything changes.
"""

import dataclasses
import re

from . import capacity as capmod
from .roller import Operation, surge_count, target_pool
from .scenario import (AZL2_IMAGE, AZL3_IMAGE, MARINER2_IMAGE, UBUNTU2204_IMAGE,
                       UBUNTU2404_IMAGE, WINDOWS2022_IMAGE, Pool)

POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
WINDOWS_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,5}$")
LINUX_SKUS = ("Ubuntu", "AzureLinux", "AzureLinux3", "CBLMariner", "Ubuntu2204", "Ubuntu2404",
              "AzureContainerLinux", "Ubuntu2604")
WINDOWS_SKUS = ("Windows2019", "Windows2022", "Windows2025")
# Where an in-place osSKU change may go (aks-api.md §1.4: Ubuntu, Azure Linux).
MIGRATION_TARGETS = ("Ubuntu", "AzureLinux", "AzureLinux3", "Ubuntu2204", "Ubuntu2404")
AZL3_RANGE = ((1, 28), (1, 36))
PENDING = "https://aka.ms/aks-pending-operation"
RETRY_AFTER_SIM = 30.0

# AgentPool properties the 2026-10-01 spec knows (§2.3); read-only ones apart.
POOL_FIELDS = frozenset("""availabilityZones count creationData currentOrchestratorVersion
enableAutoScaling enableEncryptionAtHost enableFIPS enableNodePublicIP enableUltraSSD
gpuInstanceProfile hostGroupID kubeletConfig kubeletDiskType linuxOSConfig maxCount maxPods
minCount mode nodeImageVersion nodeLabels nodePublicIPPrefixID nodeTaints orchestratorVersion
osDiskSizeGB osDiskType osSKU osType podSubnetID powerState provisioningState
proximityPlacementGroupID scaleDownMode scaleSetEvictionPolicy scaleSetPriority spotMaxPrice
tags type upgradeSettings vmSize vnetSubnetID workloadRuntime eTag securityProfile
networkProfile windowsProfile gpuProfile virtualMachinesProfile virtualMachineNodesStatus
localDNSProfile artifactStreamingProfile podIPAllocationMode status capacityReservationGroupID
messageOfTheDay gatewayProfile nodeInitializationTaints""".split())
POOL_READONLY = ("provisioningState", "currentOrchestratorVersion")
UPGRADE_FIELDS = frozenset(("maxSurge", "maxUnavailable", "drainTimeoutInMinutes",
                            "nodeSoakDurationInMinutes", "undrainableNodeBehavior"))
CLUSTER_FIELDS = frozenset("""aadProfile addonProfiles agentPoolProfiles apiServerAccessProfile
autoScalerProfile autoUpgradeProfile azurePortalFQDN currentKubernetesVersion
disableLocalAccounts diskEncryptionSetID dnsPrefix enablePodSecurityPolicy enableRBAC fqdn
fqdnSubdomain httpProxyConfig identityProfile kubernetesVersion linuxProfile maxAgentPools
networkProfile nodeResourceGroup oidcIssuerProfile podIdentityProfile powerState privateFQDN
privateLinkResources provisioningState publicNetworkAccess securityProfile
servicePrincipalProfile storageProfile windowsProfile workloadAutoScalerProfile supportPlan
azureMonitorProfile serviceMeshProfile ingressProfile metricsProfile nodeProvisioningProfile
bootstrapProfile aiToolchainOperatorProfile upgradeSettings resourceUID status
nodeResourceGroupProfile""".split())
UPGRADE_CHANNELS = ("rapid", "stable", "patch", "node-image", "none")
NODE_OS_CHANNELS = ("None", "Unmanaged", "NodeImage", "SecurityPatch")
UPGRADE_DEFAULTS = {"maxSurge": "10%", "maxUnavailable": "0", "drainTimeoutInMinutes": 30,
                    "nodeSoakDurationInMinutes": 0, "undrainableNodeBehavior": "Schedule"}


class WriteError(Exception):
    """A refused write: HTTP status, ARM code and message."""

    def __init__(self, status, code, message, headers=None, target=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.target = target


def _bad(code, message, target=None):
    return WriteError(400, code, message, target=target)


def _invalid(field):
    return _bad("InvalidParameter", "The value of parameter agentPoolProfile.%s is invalid."
                % field, "agentPoolProfile." + field)


def _minor(version):
    parts = str(version).lstrip("v").split(".")
    return int(parts[0]), int(parts[1])


def _vkey(version):
    return tuple(int(x) for x in str(version).lstrip("v").split("."))


def _change_not_allowed(prop):
    return _bad("PropertyChangeNotAllowed", "Changing property 'agentPoolProfile.%s' is not "
                "allowed." % prop, "agentPoolProfile." + prop)


# --- what a pool's nodes run --------------------------------------------------

def image_family(os_sku, version, os_type="Linux"):
    """The node image AKS gives (osSKU, Kubernetes version), as a default full
    name (aks-api.md §1.5: AzureLinux is 2.0 to 1.31, 3.0 from 1.32; Ubuntu
    is 22.04 to 1.34, 24.04 from 1.35)."""
    minor = _minor(version)
    if os_type == "Windows":
        return WINDOWS2022_IMAGE
    if os_sku == "AzureLinux":
        return AZL3_IMAGE if minor >= (1, 32) else AZL2_IMAGE
    if os_sku == "AzureLinux3":
        return AZL3_IMAGE
    if os_sku == "CBLMariner":
        return MARINER2_IMAGE
    if os_sku == "Ubuntu2404" or (os_sku == "Ubuntu" and minor >= (1, 35)):
        return UBUNTU2404_IMAGE
    return UBUNTU2204_IMAGE


def image_for(arm, os_sku, version, os_type="Linux"):
    """The latest image of that family that ARM offers (sim.arm.latest_images)."""
    default = image_family(os_sku, version, os_type)
    return arm.latest_images.get(default.rsplit("-", 1)[0], default)


def upgrade_settings(pool):
    """The pool's upgradeSettings with AKS's defaults filled in."""
    out = dict(UPGRADE_DEFAULTS)
    out.update(pool.extra.get("upgradeSettings", {}))
    out["maxSurge"] = pool.max_surge
    return out


# --- validation ---------------------------------------------------------------

def _check_fields(props, api_version, known, what):
    # "Starting with API version 2024-01-01 ... Unknown fields in a request
    # will result in the request being rejected" (aks-api.md §2.1)
    if api_version < "2024-01-01":
        return
    for key in props:
        if key not in known:
            raise _bad("InvalidRequestContent", "The request content was invalid and could not "
                       "be deserialized: 'Could not find member '%s' on object of type '%s'. "
                       "Path 'properties.%s'.'." % (key, what, key))


def _check_upgrade_settings(us):
    if not isinstance(us, dict):
        raise _invalid("upgradeSettings")
    for key in us:
        if key not in UPGRADE_FIELDS:
            raise _invalid("upgradeSettings." + key)
    for key in ("maxSurge", "maxUnavailable"):
        if key in us and not re.match(r"^\d+%?$", str(us[key])):
            raise _invalid("upgradeSettings." + key)
    if "drainTimeoutInMinutes" in us and not 1 <= int(us["drainTimeoutInMinutes"]) <= 1440:
        raise _invalid("upgradeSettings.drainTimeoutInMinutes")
    if "nodeSoakDurationInMinutes" in us and not 0 <= int(us["nodeSoakDurationInMinutes"]) <= 30:
        raise _invalid("upgradeSettings.nodeSoakDurationInMinutes")
    if us.get("undrainableNodeBehavior", "Schedule") not in ("Schedule", "Cordon"):
        raise _invalid("upgradeSettings.undrainableNodeBehavior")
    if str(us.get("maxSurge", "1")) in ("0", "0%") and \
            str(us.get("maxUnavailable", "0")) in ("0", "0%"):
        raise _bad("InvalidParameter", "The value of parameter agentPoolProfile.upgradeSettings."
                   "maxSurge is invalid: maxSurge must be greater than 0 when maxUnavailable "
                   "is 0.", "agentPoolProfile.upgradeSettings.maxSurge")


def _check_count(count, mode):
    low = 1 if mode == "System" else 0
    if not isinstance(count, int) or isinstance(count, bool) or not low <= count <= 1000:
        raise _invalid("count")


def _check_azl3(os_sku, version):
    if os_sku == "AzureLinux3" and not AZL3_RANGE[0] <= _minor(version) <= AZL3_RANGE[1]:
        raise _bad("InvalidOSSKU", "OSSKU='AzureLinux3' is invalid, details: AzureLinux3 is "
                   "only supported on Kubernetes versions 1.28 to 1.36; Kubernetes %s is not."
                   % version, "agentPoolProfile.osSKU")


def _check_region_offers(arm, cluster, os_sku):
    code = arm.os_sku_refusals.get(os_sku)
    if code == "InvalidOSSKU":
        raise _bad("InvalidOSSKU", "OSSKU='%s' is invalid, details: %s is not supported in "
                   "region %s" % (os_sku, os_sku, cluster.location), "agentPoolProfile.osSKU")
    if code is not None:
        raise _change_not_allowed("OSSKU")


def resolve_version(arm, text):
    """'1.33' -> the newest 1.33.x ARM offers; a full version as it is."""
    text = str(text)
    if text.count(".") == 1:
        same = [v for v in arm.versions if _minor(v) == _minor(text)]
        if not same:
            raise _bad("VersionNotSupported", "Version %s is not supported in this region. "
                       "Please use [az aks get-versions] command to get the supported version "
                       "list in this region." % text)
        return max(same, key=_vkey)
    return text


def _check_pool_version(arm, cluster, current, target):
    """A pool's orchestratorVersion: not past the control plane, no minor skipped."""
    cp = arm.current_version(cluster)
    if _minor(target) > _minor(cp):
        raise _bad("NodePoolMcVersionIncompatible", "Node pool version %s and control plane "
                   "version %s are incompatible. Minor version of node pool version %d is "
                   "bigger than control plane version %d."
                   % (target, cp, _minor(target)[1], _minor(cp)[1]))
    if current is None:
        if _minor(target)[1] < _minor(cp)[1] - 3 or _minor(target)[0] != _minor(cp)[0]:
            raise _too_old(target, cp)
        return
    if _vkey(target) < _vkey(current) or _minor(target)[1] > _minor(current)[1] + 1:
        ups = [v for v in arm.versions if _vkey(current) < _vkey(v) <= _vkey(cp)
               and _minor(v)[1] <= _minor(current)[1] + 1]
        raise _upgrade_not_allowed(current, target, reversed(ups))


def _upgrade_not_allowed(current, target, upgrades):
    return WriteError(400, "OperationNotAllowed", "Upgrading Kubernetes version %s to %s is not "
                      "allowed. Available upgrades: [%s]. Please see "
                      "https://aka.ms/aks-supported-k8s-ver for version details."
                      % (current, target, " ".join(upgrades)))


def _too_old(version, cp):
    return _bad("NodePoolMcVersionIncompatible", "Node pool version %s and control plane version "
                "%s are incompatible. Minor version of node pool cannot be more than 2 versions "
                "less than control plane's version." % (version, cp))


def _refuses_os_change(pool):
    """Why AKS refuses an in-place osSKU change of this pool (aks-api.md §1.4)."""
    props = pool.extra.get("properties", {})
    size = pool.vm_size.lower()
    return (pool.os_type == "Windows"
            or str(props.get("workloadRuntime", "")).startswith("Kata")
            or pool.extra.get("gpu_dedicated_vhd")
            or pool.extra.get("confidential_vm")
            or re.match(r"^standard_(dc|ec)\d+a?d?s?_v5$", size) and "as" in size)


def check_unsatisfiable_pdbs(cluster):
    """AKS's pre-upgrade check: any PDB with maxUnavailable 0 (migrate-upgrade.md §B1.5)."""
    for (ns, name), pdb in sorted(cluster.k8s.objects["poddisruptionbudgets"].items()):
        if str(pdb["spec"].get("maxUnavailable", "")) in ("0", "0%"):
            raise _bad("UnsatisfiablePDB", "1 error occurred: * PDB %s/%s has maxunavailble == 0 "
                       "can't proceed with put operation" % (ns, name))


def _check_quota(sim, cluster, vm_size, nodes):
    try:
        sim.capacity.check_quota(cluster, vm_size, nodes)
    except capmod.QuotaError as e:
        raise _bad(e.code, e.message)


# --- conditions: ETags, conflicts, throttling ---------------------------------

def check_conditions(req, current_etag, exists):
    match = req.headers.get("If-Match")
    none_match = req.headers.get("If-None-Match")
    if match is not None and none_match is not None:
        raise _bad("BadRequest", "If-Match and If-None-Match cannot both be set.")
    if none_match is not None and none_match.strip() not in ("", "*"):
        raise _bad("BadRequest", "If-None-Match must be empty or '*', not '%s'." % none_match)
    if none_match is not None and none_match.strip() == "*" and exists:
        raise WriteError(412, "PreconditionFailed", "The resource already exists: "
                         "If-None-Match '*' does not allow to overwrite it.")
    if match is None:
        return
    want = match.strip().strip('"')
    if not exists or (want != "*" and want != current_etag):
        raise WriteError(412, "PreconditionFailed", "Operation failed because eTag '%s' of the "
                         "request does not match with the eTag value '%s' of the resource."
                         % (want, current_etag if exists else ""))


def _busy(what, op):
    """AKS's 409 for a write while `op` runs (aks-api.md §3.3)."""
    return WriteError(409, "OperationNotAllowed", "Operation is not allowed: Another %s (%s) is "
                      "in progress, please wait for it to finish before starting a new "
                      "operation. See %s for more details." % (what, op.name, PENDING))


def check_pool_conflict(roller, cluster, pool_name, deleting_ok=False):
    for op in roller.running(cluster):
        if op.pool_name is None:
            raise _busy("operation", op)
        if op.pool_name != pool_name:
            continue
        if op.name == "Deleting":
            if deleting_ok:
                return op
            raise WriteError(409, "OperationNotAllowed", "Unable to perform 'Updating' operation "
                             "on '%s' since deletion was issued on '%s'. The only allowed "
                             "operation is deletion once deletion has started."
                             % (pool_name, pool_name))
        raise _busy("agentpool operation", op)
    return None


def check_cluster_conflict(roller, cluster):
    for op in roller.running(cluster):
        if op.pool_name is None:
            raise _busy("operation", op)
        raise WriteError(409, "OperationNotAllowed", "Managed Cluster operation is not allowed: "
                         "Another operation (%s) is in progress on agent pool (%s), please wait "
                         "for it to finish before starting a new operation. See %s for more "
                         "details." % (op.name, op.pool_name, PENDING))


def take_put_pool_token(arm, cluster, pool_name):
    """The AKS RP's PUT AgentPool bucket (aks-api.md §3.2), when switched on."""
    conf = arm.put_pool_throttle
    if not conf:
        return
    clock = arm.sim.clock
    now = clock.now()
    size, per_min = float(conf.get("size", 20)), float(conf.get("per_minute", 1))
    key = (cluster.id.lower(), pool_name)
    tokens, at = arm.put_pool_buckets.get(key, (size, now))
    tokens = min(size, tokens + (now - at) * per_min / 60.0)
    if tokens < 1:
        wait = (1 - tokens) * 60.0 / per_min
        arm.put_pool_buckets[key] = (tokens, now)
        secs = clock.retry_after(wait)
        raise WriteError(429, "Throttled", "The PutAgentPoolHandler.PUT request limit has been "
                         "exceeded for SubID=%s, please retry again in %d seconds"
                         % (cluster.subscription, secs), {"Retry-After": str(secs)})
    arm.put_pool_buckets[key] = (tokens - 1, now)


# --- the writes -----------------------------------------------------------------

def _body(req):
    try:
        body = req.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("properties", {}), dict):
        raise _bad("InvalidRequestContent", "The request content was invalid and could not be "
                   "deserialized.")
    return body


def _lro_headers(arm, cluster, op, location=True):
    base = "%s/subscriptions/%s/providers/Microsoft.ContainerService/locations/%s" % (
        arm.sim.azure_url, cluster.subscription, cluster.location)
    api = arm.api_version_of(op)
    headers = {"Azure-AsyncOperation": "%s/operations/%s?api-version=%s" % (base, op.id, api),
               "Retry-After": str(arm.sim.clock.retry_after(RETRY_AFTER_SIM))}
    if location:
        headers["Location"] = "%s/operationresults/%s?api-version=%s" % (base, op.id, api)
    return headers


def _new_op(arm, req, cluster, pool_name, name, state, result, code):
    op = Operation(arm.sim.roller, cluster, pool_name, name, state, result, code)
    arm.op_api_versions[op.id] = req.q("api-version")
    return op


def bump(target):
    target.extra["writes"] = target.extra.get("writes", 0) + 1


def put_pool(arm, req, cluster, name):
    roller = arm.sim.roller
    pool = next((p for p in cluster.pools if p.name == name), None)
    take_put_pool_token(arm, cluster, name)
    check_conditions(req, arm.pool_etag(cluster, pool) if pool else None, pool is not None)
    check_pool_conflict(roller, cluster, name)
    body = _body(req)
    props = dict(body.get("properties") or {})
    api = req.q("api-version")
    _check_fields(props, api, POOL_FIELDS, "ManagedClusterAgentPoolProfileProperties")
    if "upgradeSettings" in props:
        _check_upgrade_settings(props["upgradeSettings"])
    if "mode" in props and props["mode"] not in ("System", "User", "Gateway"):
        raise _invalid("mode")
    if pool is None:
        return _create_pool(arm, req, cluster, name, props)
    return _update_pool(arm, req, cluster, pool, props, api)


def _create_pool(arm, req, cluster, name, props):
    os_type = props.get("osType", "Linux")
    if os_type not in ("Linux", "Windows"):
        raise _invalid("osType")
    if not (WINDOWS_POOL_NAME if os_type == "Windows" else POOL_NAME).match(name):
        raise _bad("InvalidParameter", "The value of parameter agentPoolProfile.name is invalid. "
                   "Please see https://aka.ms/aks-naming-rules for more details.",
                   "agentPoolProfile.name")
    mode = props.get("mode", "User")
    if mode == "System" and os_type != "Linux":
        raise _bad("InvalidParameter", "The value of parameter agentPoolProfile.mode is invalid: "
                   "a System pool must have osType Linux.", "agentPoolProfile.mode")
    os_sku = props.get("osSKU") or ("Ubuntu" if os_type == "Linux" else "Windows2022")
    if os_sku not in (LINUX_SKUS if os_type == "Linux" else WINDOWS_SKUS):
        raise _invalid("osSKU")
    version = resolve_version(arm, props.get("orchestratorVersion") or
                              arm.current_version(cluster))
    _check_pool_version(arm, cluster, None, version)
    _check_azl3(os_sku, version)
    _check_region_offers(arm, cluster, os_sku)
    count = props.get("count", 1)
    _check_count(count, mode)
    vm_size = props.get("vmSize", "Standard_D4ds_v5")
    _check_quota(arm.sim, cluster, vm_size, count)
    us = dict(props.get("upgradeSettings") or {})
    pool = Pool(name, mode=mode, os_type=os_type, os_sku=os_sku, k8s_version=version,
                node_image_version=image_for(arm, os_sku, version, os_type), vm_size=vm_size,
                count=count, ready=0, zones=list(props.get("availabilityZones") or []),
                max_surge=str(us.pop("maxSurge", "10%")), max_pods=props.get("maxPods", 110),
                node_labels=dict(props.get("nodeLabels") or {}),
                node_taints=list(props.get("nodeTaints") or []),
                autoscale=bool(props.get("enableAutoScaling")), min_count=props.get("minCount"),
                max_count=props.get("maxCount"), provisioning_state="Creating", age_days=0)
    pool.extra["upgradeSettings"] = us
    pool.extra["writes"] = 1
    _set_tags(pool, props)
    cluster.pools.append(pool)
    op = _new_op(arm, req, cluster, name, "Creating", "Creating", "pool",
                 "ReconcileVMSSAgentPoolFailed")
    arm.sim.roller.start(op, _create_steps(arm.sim.roller, op, pool))
    return 201, arm.pool_json(cluster, pool), _lro_headers(arm, cluster, op, location=False)


def _set_tags(pool, props):
    """properties.tags (a map of strings, persisted on the VMSS: aks-api.md
    §2.3): kept as sent; a PUT without them leaves them, as nodeLabels."""
    if "tags" not in props:
        return
    tags = props["tags"] or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise _invalid("tags")
    pool.extra["tags"] = dict(tags)


def someone_else_creates(arm, cluster, name, like, tags=None):
    """Someone else (the portal, another tool) creates pool `name` with the
    spec of pool `like`, under the cluster's lock as a PUT would: a real
    pool, Creating then Succeeded with its nodes, that no request of ours
    made; for tests of a name taken between a plan and its write."""
    src = next(p for p in cluster.pools if p.name == like)
    with cluster.k8s.lock:
        pool = dataclasses.replace(
            src, name=name, ready=0, unschedulable=0, provisioning_state="Creating",
            age_days=0, zones=list(src.zones), node_labels=dict(src.node_labels),
            node_taints=list(src.node_taints),
            extra={"upgradeSettings": dict(src.extra.get("upgradeSettings", {})), "writes": 1,
                   "tags": dict(tags if tags is not None else {"owner": "someone-else"})})
        cluster.pools.append(pool)
        op = Operation(arm.sim.roller, cluster, name, "Creating", "Creating", "pool",
                       "ReconcileVMSSAgentPoolFailed")
        arm.sim.roller.start(op, _create_steps(arm.sim.roller, op, pool))
    return pool


def _create_steps(roller, op, pool):
    yield from roller.add_nodes(op, pool, pool.count)
    pool.ready = pool.count


def _update_pool(arm, req, cluster, pool, props, api):
    for field, current in (("vmSize", pool.vm_size), ("osType", pool.os_type),
                           ("maxPods", pool.max_pods)):
        if field in props and props[field] != current:
            raise _change_not_allowed({"vmSize": "VMSize"}.get(field, field))
    for field in POOL_READONLY:
        if field in props and props[field] != arm.pool_properties(cluster, pool).get(field):
            raise _bad("InvalidParameter", "The value of parameter agentPoolProfile.%s is "
                       "invalid: the property is read-only." % field, "agentPoolProfile." + field)
    if api >= "2026-04-01" and props.get("nodeImageVersion") not in (
            None, "latest", pool.node_image_version):
        raise _bad("InvalidParameter", "NodeImageVersion '%s' is not accepted. NodeImageVersion "
                   "can only be current version '%s' or 'latest'"
                   % (props["nodeImageVersion"], pool.node_image_version))
    mode = props.get("mode", pool.mode)
    if mode == "System" and pool.os_type != "Linux":
        raise _bad("InvalidParameter", "The value of parameter agentPoolProfile.mode is invalid: "
                   "a System pool must have osType Linux.", "agentPoolProfile.mode")
    os_sku = props.get("osSKU") or pool.os_sku
    if os_sku != pool.os_sku:
        if _refuses_os_change(pool) or os_sku not in MIGRATION_TARGETS:
            raise _change_not_allowed("OSSKU")
        _check_region_offers(arm, cluster, os_sku)
    version = resolve_version(arm, props.get("orchestratorVersion") or pool.k8s_version)
    if version != pool.k8s_version:
        _check_pool_version(arm, cluster, pool.k8s_version, version)
    _check_azl3(os_sku, version)
    count = props.get("count", pool.count)
    _check_count(count, mode)
    us = dict(pool.extra.get("upgradeSettings", {}))
    us.update(props.get("upgradeSettings") or {})
    surge = str(us.pop("maxSurge", pool.max_surge))
    rolls = os_sku != pool.os_sku or version != pool.k8s_version
    settings = dict(UPGRADE_DEFAULTS, **us, maxSurge=surge)
    if rolls:
        check_unsatisfiable_pdbs(cluster)
        _check_quota(arm.sim, cluster, pool.vm_size, surge_count(surge, pool.count))
    _check_quota(arm.sim, cluster, pool.vm_size, count - pool.count)
    # accepted: the settings apply now, the nodes change as the operation runs
    pool.extra["upgradeSettings"] = us
    pool.max_surge = surge
    pool.mode = mode
    for field, attr in (("nodeLabels", "node_labels"), ("nodeTaints", "node_taints")):
        if field in props:
            setattr(pool, attr, props[field] or type(getattr(pool, attr))())
    _set_tags(pool, props)
    if "enableAutoScaling" in props:
        pool.autoscale = bool(props["enableAutoScaling"])
        pool.min_count, pool.max_count = props.get("minCount"), props.get("maxCount")
    bump(pool)
    image = image_for(arm, os_sku, version, pool.os_type)
    target = target_pool(pool, os_sku=os_sku, k8s_version=version, node_image_version=image)
    state = "Upgrading" if rolls else "Scaling" if count != pool.count else "Updating"
    op = _new_op(arm, req, cluster, pool.name, state, state, "pool", "UpgradeFailed")
    pool.extra["pending"] = {"orchestratorVersion": version, "osSKU": os_sku}
    pool.provisioning_state = "Updating"
    answer = arm.pool_json(cluster, pool)
    pool.provisioning_state = state
    arm.sim.roller.start(op, _update_steps(arm.sim.roller, op, pool, target, settings, rolls,
                                           count))
    return 200, answer, _lro_headers(arm, cluster, op, location=False)


def _settle(pool, target):
    pool.os_sku = target.os_sku
    pool.k8s_version = target.k8s_version
    pool.node_image_version = target.node_image_version
    pool.extra.pop("pending", None)
    bump(pool)


def _update_steps(roller, op, pool, target, settings, rolls, count):
    if rolls:
        yield from roller.roll(op, pool, target, settings)
    _settle(pool, target)
    # to the count from the nodes there are, as AKS reconciles the scale
    # set: a PUT of a pool whose creation failed half way adds the rest (a
    # roll's own surge nodes, e.g. a quarantined node's, are not counted)
    have = pool.count if rolls else len(op.cluster.k8s.pool_nodes(pool.name))
    if count > have:
        yield from roller.add_nodes(op, target, count - have)
    elif count < have:
        names = [n["metadata"]["name"] for n in pool_nodes_by_instance(op.cluster, pool)]
        yield from roller.remove_nodes(op, names[count:], settings)
    if not rolls and count == have:
        yield roller.timings["update"]
    pool.count = pool.ready = count


def pool_nodes_by_instance(cluster, pool):
    def instance(node):
        return int(node["spec"]["providerID"].rsplit("/", 1)[1])
    return sorted(cluster.k8s.pool_nodes(pool.name), key=instance)


def upgrade_node_image(arm, req, cluster, pool):
    check_pool_conflict(arm.sim.roller, cluster, pool.name)
    check_unsatisfiable_pdbs(cluster)
    _check_quota(arm.sim, cluster, pool.vm_size, surge_count(pool.max_surge, pool.count))
    bump(pool)
    image = arm.latest_image(pool)
    target = target_pool(pool, node_image_version=image)
    op = _new_op(arm, req, cluster, pool.name, "UpgradingNodeImageVersion",
                 "UpgradingNodeImageVersion", "pool", "UpgradeFailed")
    pool.provisioning_state = "UpgradingNodeImageVersion"
    arm.sim.roller.start(op, _node_image_steps(arm.sim.roller, op, pool, target))
    return 202, arm.pool_json(cluster, pool), _lro_headers(arm, cluster, op)


def _node_image_steps(roller, op, pool, target):
    if target.node_image_version != pool.node_image_version:
        yield from roller.roll(op, pool, target, upgrade_settings(pool))
    else:
        yield roller.timings["update"]
    _settle(pool, target)


def delete_pool(arm, req, cluster, pool):
    check_conditions(req, arm.pool_etag(cluster, pool), True)
    running = check_pool_conflict(arm.sim.roller, cluster, pool.name, deleting_ok=True)
    if running is not None:
        return 202, None, _lro_headers(arm, cluster, running)
    others = [p for p in cluster.pools if p is not pool]
    if not others:
        raise _bad("OperationNotAllowed", "There has to be at least one agent pool.")
    if pool.mode == "System" and not any(p.mode == "System" for p in others):
        raise _bad("MustDefineAtLeastOneSystemPool", "Must define at least one system pool.")
    ignore = req.q("ignore-pod-disruption-budget", "false").lower() == "true"
    bump(pool)
    op = _new_op(arm, req, cluster, pool.name, "Deleting", "Deleting", None, "PodDrainFailure")
    pool.provisioning_state = "Deleting"
    arm.sim.roller.start(op, _delete_steps(arm.sim.roller, op, pool, ignore))
    return 202, None, _lro_headers(arm, cluster, op)


def _delete_steps(roller, op, pool, ignore):
    names = [n["metadata"]["name"] for n in op.cluster.k8s.pool_nodes(pool.name)]
    yield from roller.remove_nodes(op, names, upgrade_settings(pool), ignore_pdb=ignore,
                                   deleting=True)
    op.cluster.pools.remove(pool)
    op.provisioning_state = None        # nothing left to show it


def put_cluster(arm, req, cluster):
    roller = arm.sim.roller
    check_conditions(req, arm.cluster_etag(cluster), True)
    check_cluster_conflict(roller, cluster)
    body = _body(req)
    props = dict(body.get("properties") or {})
    api = req.q("api-version")
    _check_fields(props, api, CLUSTER_FIELDS, "ManagedClusterProperties")
    cp = arm.current_version(cluster)
    version = resolve_version(arm, props.get("kubernetesVersion") or cluster.k8s_version)
    if version != cp:
        if _vkey(version) < _vkey(cp) or _minor(version)[1] > _minor(cp)[1] + 1:
            raise _upgrade_not_allowed(cp, version, reversed(arm.cluster_upgrades(cluster)))
    aup = props.get("autoUpgradeProfile") or {}
    if aup.get("upgradeChannel", "none") not in UPGRADE_CHANNELS:
        raise _bad("InvalidParameter", "The value of parameter autoUpgradeProfile.upgradeChannel "
                   "is invalid.", "autoUpgradeProfile.upgradeChannel")
    if aup.get("nodeOSUpgradeChannel", "NodeImage") not in NODE_OS_CHANNELS:
        raise _bad("InvalidParameter", "The value of parameter autoUpgradeProfile."
                   "nodeOSUpgradeChannel is invalid.", "autoUpgradeProfile.nodeOSUpgradeChannel")
    upgrades = _pool_upgrades(arm, cluster, props, api, version)
    if version != cp or upgrades:
        check_unsatisfiable_pdbs(cluster)
    for pool, _ in upgrades:
        _check_quota(arm.sim, cluster, pool.vm_size, surge_count(pool.max_surge, pool.count))
    if "upgradeChannel" in aup:
        cluster.auto_upgrade_channel = aup["upgradeChannel"]
    if "nodeOSUpgradeChannel" in aup:
        cluster.node_os_upgrade_channel = aup["nodeOSUpgradeChannel"]
    bump(cluster)
    for pool in cluster.pools:          # a cluster write moves every pool's eTag
        bump(pool)
    state = "Upgrading" if version != cp or upgrades else "Updating"
    cluster.k8s_version = version
    if version != cp:
        cluster.extra["current_k8s_version"] = cp
    op = _new_op(arm, req, cluster, None, state, state, "cluster", "UpgradeFailed")
    cluster.provisioning_state = "Updating"
    answer = arm.cluster_json(cluster)
    cluster.provisioning_state = state
    roller.start(op, _cluster_steps(roller, op, version if version != cp else None, upgrades))
    return 200, answer, _lro_headers(arm, cluster, op, location=False)


def _pool_upgrades(arm, cluster, props, api, version):
    """[(pool, target version)] for agentPoolProfiles whose orchestratorVersion moves."""
    out = []
    profiles = props.get("agentPoolProfiles") or []
    cp_minor = _minor(version)
    for prof in profiles:
        pool = next((p for p in cluster.pools if p.name == prof.get("name")), None)
        if pool is None:
            raise _bad("BadRequest", "A new agent pool was introduced. Adding agent pools to an "
                       "existing cluster is not allowed through managed cluster operations. For "
                       "agent pool specific change, please use per agent pool operations: "
                       "https://aka.ms/agent-pool-rest-api")
        _check_fields({k: v for k, v in prof.items() if k != "name"}, api, POOL_FIELDS,
                      "ManagedClusterAgentPoolProfile")
        target = resolve_version(arm, prof.get("orchestratorVersion") or pool.k8s_version)
        if target == pool.k8s_version:
            continue
        if _minor(target) > cp_minor or _vkey(target) < _vkey(pool.k8s_version) or \
                _minor(target)[1] > _minor(pool.k8s_version)[1] + 1:
            raise _upgrade_not_allowed(pool.k8s_version, target, [version])
        _check_azl3(pool.os_sku, target)
        out.append((pool, target))
    moved = {pool.name: target for pool, target in out}
    for pool in cluster.pools:
        after = moved.get(pool.name, pool.k8s_version)
        if _minor(after)[1] < cp_minor[1] - 3:
            raise _too_old(after, version)
    return out


def _cluster_steps(roller, op, version, upgrades):
    if version is not None:
        yield from roller.control_plane(op, version)
        op.percent = 20.0
    if not upgrades and version is None:
        yield roller.timings["update"]
    arm = roller.sim.arm
    for i, (pool, target_version) in enumerate(upgrades):
        image = image_for(arm, pool.os_sku, target_version, pool.os_type)
        target = target_pool(pool, k8s_version=target_version, node_image_version=image)
        pool.provisioning_state = "Upgrading"
        op.pools.append(pool)
        pool.extra["pending"] = {"orchestratorVersion": target_version}
        yield from roller.roll(op, pool, target, upgrade_settings(pool))
        _settle(pool, target)
        pool.provisioning_state = "Succeeded"
        op.percent = 20.0 + 80.0 * (i + 1) / len(upgrades)


def abort(arm, req, cluster, pool=None):
    roller = arm.sim.roller
    ops = roller.running(cluster, pool.name if pool else None)
    if not ops:
        raise WriteError(409, "OperationNotAllowed", "Operation is not allowed: there is no "
                         "operation in progress on %s '%s' to abort."
                         % ("agent pool" if pool else "managed cluster",
                            pool.name if pool else cluster.name))
    ab = _new_op(arm, req, cluster, pool.name if pool else None, "Aborting", None, None,
                 "InternalOperationError")
    ab.abort_of = ops[0]
    ab.steps = iter(())
    roller.operations[ab.id] = ab
    roller.cancel(cluster, ops)
    return 202, None, _lro_headers(arm, cluster, ab)
