"""Capacity that tests can limit: vCPU quota (served by the Compute usages
API) and subnet address space (served by the virtual network usages API),
in the payload shapes of shared/reference/migrate-upgrade.md §D1 and §D4.

`sim.capacity` (a Capacity) is unlimited until a test sets a limit:

    sim.capacity.set_quota("eastus", cores=24)          # Total Regional vCPUs
    sim.capacity.set_quota("eastus", family={"standardDDSv5Family": 16},
                           used={"cores": 4})            # usage outside AKS
    sim.capacity.set_subnet(cluster, limit=10)           # IPs the node subnet holds
    sim.capacity.set_subnet(cluster, limit=64, pod=True) # a pod subnet (podSubnetID)
    sim.capacity.family("Standard_D4ds_v5")              # -> "standardDDSv5Family"

Usage counts every node of every cluster in the subscription and region (its
VM size's vCPUs) plus `used`; a subnet's usage is `used` plus, per node, what
the cluster's network mode takes there (§D5): one IP (kubenet, Azure CNI
Overlay, or a pod subnet's node subnet), 1 + maxPods (Azure CNI without
overlay or pod subnet: Cluster.network_plugin "azure",
network_plugin_mode None), and on a pod subnet 16 (dynamic) or the node's
whole block of 16s (podIPAllocationMode StaticBlock). A write that would pass the quota
gets AKS's QuotaExceeded (arm.py answers 400); a node the roller adds to a
full subnet fails the operation with SubnetIsFull (roller.py).

    GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{l}/usages
    GET /subscriptions/{s}/resourceGroups/{nodeRG}/providers/Microsoft.Network/
        virtualNetworks/aks-vnet-{digits}/usages
"""

import re
import threading

from .scenario import VM_SIZES

DEFAULT_LIMIT = 10000           # vCPUs, when a test set none
REGIONAL = "cores"


class QuotaError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def family(vm_size):
    """The Compute usage name of a VM size's family, as Azure spells most:
    Standard_D4ds_v5 -> standardDDSv5Family, Standard_DS2_v2 -> standardDSv2Family."""
    parts = vm_size.split("_")[1:]
    if not parts:
        return "standard%sFamily" % vm_size
    series = re.sub(r"\d+", "", parts[0], count=1).upper()
    rest = "".join(parts[1:])
    return "standard%s%sFamily" % (series, rest)


def vcpus(vm_size):
    return VM_SIZES.get(vm_size, (4, 16, 0))[0]


class Capacity:
    """See the module docstring."""

    def __init__(self, sim):
        self.sim = sim
        self._lock = threading.Lock()
        self.quotas = {}            # (subscription lower or None, location lower) -> {name: limit}
        self.used = {}              # same key -> {name: vCPUs used outside the clusters}
        self.families = {}          # VM size -> family name, overriding family()
        self.subnets = {}           # cluster name -> {"limit", "used", "prefix"}
        self.pod_subnets = {}       # the same, for a pod subnet (Azure CNI Pod Subnet)

    # --- test controls ----------------------------------------------------

    def set_quota(self, location, cores=None, family=None, used=None, subscription=None):
        key = (subscription.lower() if subscription else None, location.lower())
        with self._lock:
            limits = self.quotas.setdefault(key, {})
            if cores is not None:
                limits[REGIONAL] = int(cores)
            limits.update({k: int(v) for k, v in (family or {}).items()})
            self.used.setdefault(key, {}).update({k: int(v) for k, v in (used or {}).items()})

    def set_subnet(self, cluster, limit, used=0, prefix="10.224.0.0/16", pod=False):
        with self._lock:
            (self.pod_subnets if pod else self.subnets)[cluster.name] = {
                "limit": int(limit), "used": int(used), "prefix": prefix}

    def family(self, vm_size):
        return self.families.get(vm_size) or family(vm_size)

    # --- usage --------------------------------------------------------------

    def _key(self, subscription, location):
        sub, loc = subscription.lower(), location.lower()
        if (sub, loc) in self.quotas or (sub, loc) in self.used:
            return sub, loc
        return None, loc

    def usage(self, subscription, location):
        """{usage name: (current vCPUs, limit)} for the subscription's region."""
        key = self._key(subscription, location)
        with self._lock:
            limits = dict(self.quotas.get(key, {}))
            used = dict(self.used.get(key, {}))
        current = {REGIONAL: used.get(REGIONAL, 0)}
        for c in self.sim.clusters:
            if c.subscription.lower() != subscription.lower() or \
                    c.location.lower() != location.lower():
                continue
            for node in _nodes(c):
                size = node["metadata"]["labels"].get("node.kubernetes.io/instance-type", "")
                fam = self.family(size)
                current[REGIONAL] += vcpus(size)
                current[fam] = current.get(fam, used.get(fam, 0)) + vcpus(size)
        for name in limits:
            current.setdefault(name, used.get(name, 0))
        return {name: (value, limits.get(name, DEFAULT_LIMIT)) for name, value in current.items()}

    def check_quota(self, cluster, vm_size, nodes):
        """QuotaError when `nodes` more of vm_size would pass a quota."""
        if nodes <= 0:
            return
        need = nodes * vcpus(vm_size)
        usage = self.usage(cluster.subscription, cluster.location)
        cur, limit = usage[REGIONAL]
        if cur + need > limit:
            raise QuotaError("QuotaExceeded", "Operation results in exceeding quota limits of "
                             "Core. Maximum allowed: %d, Current in use: %d, Additional "
                             "requested: %d." % (limit, cur, need))
        fam = self.family(vm_size)
        cur, limit = usage.get(fam, (0, DEFAULT_LIMIT))
        if cur + need > limit:
            raise QuotaError("QuotaExceeded", "Insufficient vcpu quota requested %d, remaining "
                             "%d for family %s for region %s."
                             % (need, max(0, limit - cur), fam, cluster.location))

    def _subnet_of(self, cluster, pod=False):
        with self._lock:
            return dict((self.pod_subnets if pod else self.subnets).get(cluster.name) or {})

    def _subnet_id(self, cluster, name):
        vnet = "aks-vnet-%s" % cluster.vmss_digits("vnet")
        return ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
                "virtualNetworks/%s/subnets/%s"
                % (cluster.subscription, cluster.node_resource_group, vnet, name))

    def node_ips(self, cluster, pool):
        """Node-subnet IPs one node of pool takes (migrate-upgrade.md §D5): Azure
        CNI without overlay or a pod subnet gives each pod one, 1 + maxPods;
        else the node's own."""
        if cluster.network_plugin == "azure" and not cluster.network_plugin_mode and \
                not self._subnet_of(cluster, pod=True):
            return 1 + pool.max_pods
        return 1

    def pod_ips(self, cluster, pool):
        """Pod-subnet IPs one node reserves: a batch of 16 at startup (dynamic
        allocation), or its whole block of 16s (podIPAllocationMode StaticBlock)."""
        if not self._subnet_of(cluster, pod=True):
            return 0
        if pool.extra.get("properties", {}).get("podIPAllocationMode") == "StaticBlock":
            return -(-(pool.max_pods + 1) // 16) * 16
        return 16

    def _used(self, cluster, per_node):
        total, in_pools = 0, 0
        for p in cluster.pools:
            n = len(cluster.k8s.pool_nodes(p.name))
            total += per_node(cluster, p) * n
            in_pools += n
        if per_node == self.node_ips:       # nodes of no pool (Karpenter): their own IP
            total += len(cluster.k8s.nodes()) - in_pools
        return total

    def subnet(self, cluster):
        """The node subnet: (subnet id, address prefix, used, limit) or None
        when unlimited."""
        sn = self._subnet_of(cluster)
        if not sn:
            return None
        return (self._subnet_id(cluster, "aks-subnet"), sn["prefix"],
                sn["used"] + self._used(cluster, self.node_ips), sn["limit"])

    def pod_subnet(self, cluster):
        """The pod subnet (Azure CNI Pod Subnet), the same tuple, or None."""
        sn = self._subnet_of(cluster, pod=True)
        if not sn:
            return None
        return (self._subnet_id(cluster, "aks-pods"), sn["prefix"],
                sn["used"] + self._used(cluster, self.pod_ips), sn["limit"])

    def check_subnet(self, cluster, pool, nodes):
        """Raises the roller's OperationError when the node or pod subnet
        cannot hold `nodes` more of pool."""
        for sn, need in ((self.subnet(cluster), nodes * self.node_ips(cluster, pool)),
                         (self.pod_subnet(cluster), nodes * self.pod_ips(cluster, pool))):
            if sn is None or sn[2] + need <= sn[3]:
                continue
            from .roller import OperationError
            name = sn[0].rsplit("/", 1)[1]
            raise OperationError(
                "SubnetIsFull", "Failed to scale node pool '%s' in Kubernetes service '%s'. "
                "Error: VMSSAgentPoolReconciler retry failed: Code='SubnetIsFull' Message='%s "
                "with address prefix %s doesn't have enough capacity for IP addresses.' "
                "Details=[]" % (pool.name, cluster.name, name, sn[1]))

    # --- payloads -------------------------------------------------------------

    def compute_usages(self, subscription, location):
        names = {REGIONAL: "Total Regional vCPUs"}
        items = []
        for name, (cur, limit) in sorted(self.usage(subscription, location).items(),
                                        key=lambda kv: (kv[0] != REGIONAL, kv[0])):
            local = names.get(name) or "%s vCPUs" % _localized(name)
            items.append({"unit": "Count", "currentValue": cur, "limit": limit,
                          "name": {"value": name, "localizedValue": local}})
        return {"value": items}

    def network_usages(self, cluster):
        return {"value": [{"currentValue": float(sn[2]), "id": sn[0], "limit": float(sn[3]),
                           "name": {"localizedValue": "Subnet size and usage",
                                    "value": "SubnetSpace"}, "unit": "Count"}
                          for sn in (self.subnet(cluster), self.pod_subnet(cluster))
                          if sn is not None]}

    def find_vnet(self, subscription, rg, vnet):
        for c in self.sim.clusters:
            sn = self.subnet(c) or self.pod_subnet(c)
            if sn and c.subscription.lower() == subscription.lower() and \
                    c.node_resource_group.lower() == rg.lower() and \
                    sn[0].split("/virtualNetworks/")[1].split("/")[0].lower() == vnet.lower():
                return c
        return None


def _nodes(cluster):
    """A cluster's nodes under its lock; the caller may hold another
    cluster's, so a lock busy for long is read past instead of waited on."""
    lock = cluster.k8s.lock
    got = lock.acquire(timeout=1)
    try:
        return cluster.k8s.nodes()
    finally:
        if got:
            lock.release()


def _localized(name):
    """standardDDSv5Family -> Standard DDSv5 Family."""
    m = re.match(r"^standard(.*)Family$", name)
    return "Standard %s Family" % m.group(1) if m else name


def register(sim):
    sim.capacity = Capacity(sim)
