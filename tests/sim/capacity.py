"""Capacity that tests can limit: vCPU quota (served by the Compute usages
API) and subnet address space (served by the virtual network usages API),
in the payload shapes of shared/reference/migrate-upgrade.md §D1 and §D4.

`sim.capacity` (a Capacity) is unlimited until a test sets a limit:

    sim.capacity.set_quota("eastus", cores=24)          # Total Regional vCPUs
    sim.capacity.set_quota("eastus", family={"standardDDSv5Family": 16},
                           used={"cores": 4})            # usage outside AKS
    sim.capacity.set_subnet(cluster, limit=10)           # node IPs the subnet holds
    sim.capacity.family("Standard_D4ds_v5")              # -> "standardDDSv5Family"

Usage counts every node of every cluster in the subscription and region (its
VM size's vCPUs) plus `used`; a subnet's usage is one IP per node of its
cluster (Azure CNI Overlay) plus `used`. A write that would pass the quota
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

    # --- test controls ----------------------------------------------------

    def set_quota(self, location, cores=None, family=None, used=None, subscription=None):
        key = (subscription.lower() if subscription else None, location.lower())
        with self._lock:
            limits = self.quotas.setdefault(key, {})
            if cores is not None:
                limits[REGIONAL] = int(cores)
            limits.update({k: int(v) for k, v in (family or {}).items()})
            self.used.setdefault(key, {}).update({k: int(v) for k, v in (used or {}).items()})

    def set_subnet(self, cluster, limit, used=0, prefix="10.224.0.0/16"):
        with self._lock:
            self.subnets[cluster.name] = {"limit": int(limit), "used": int(used),
                                          "prefix": prefix}

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
            for node in c.k8s.nodes():
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

    def subnet(self, cluster):
        """(subnet id, address prefix, used, limit) or None when unlimited."""
        with self._lock:
            sn = dict(self.subnets.get(cluster.name) or {})
        if not sn:
            return None
        vnet = "aks-vnet-%s" % cluster.vmss_digits("vnet")
        sid = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/"
               "virtualNetworks/%s/subnets/aks-subnet"
               % (cluster.subscription, cluster.node_resource_group, vnet))
        return sid, sn["prefix"], sn["used"] + len(cluster.k8s.nodes()), sn["limit"]

    def check_subnet(self, cluster, pool, nodes):
        """Raises the roller's OperationError when the subnet cannot hold `nodes` more."""
        sn = self.subnet(cluster)
        if sn is None or sn[2] + nodes <= sn[3]:
            return
        from .roller import OperationError
        raise OperationError(
            "SubnetIsFull", "Failed to scale node pool '%s' in Kubernetes service '%s'. Error: "
            "VMSSAgentPoolReconciler retry failed: Code='SubnetIsFull' Message='aks-subnet with "
            "address prefix %s doesn't have enough capacity for IP addresses.' Details=[]"
            % (pool.name, cluster.name, sn[1]))

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
        sn = self.subnet(cluster)
        if sn is None:
            return {"value": []}
        return {"value": [{"currentValue": float(sn[2]), "id": sn[0], "limit": float(sn[3]),
                           "name": {"localizedValue": "Subnet size and usage",
                                    "value": "SubnetSpace"}, "unit": "Count"}]}

    def find_vnet(self, subscription, rg, vnet):
        for c in self.sim.clusters:
            sn = self.subnet(c)
            if sn and c.subscription.lower() == subscription.lower() and \
                    c.node_resource_group.lower() == rg.lower() and \
                    sn[0].split("/virtualNetworks/")[1].split("/")[0].lower() == vnet.lower():
                return c
        return None


def _localized(name):
    """standardDDSv5Family -> Standard DDSv5 Family."""
    m = re.match(r"^standard(.*)Family$", name)
    return "Standard %s Family" % m.group(1) if m else name


def register(sim):
    sim.capacity = Capacity(sim)
