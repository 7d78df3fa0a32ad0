"""A Kubernetes API server for one simulated AKS cluster.

State (nodes, pods, namespaces, workloads, PodDisruptionBudgets) is generated
from the scenario's pools exactly as AKS shapes it (shared/reference/aks-api.md
§4), and served the way kubectl and client-go expect: discovery, paged lists
with label and field selectors, meta.k8s.io Tables, strategic/merge PATCH,
policy/v1 eviction with PDBs, metav1.Status errors, client-certificate and
bearer-token authentication and a small RBAC deny list.

Every request runs under the state's lock and its answer is encoded there,
so tests may change the state (under `state.lock`) while clients read it.
"""

import base64
import copy
import functools
import hashlib
import hmac
import json
import random
import re
import threading
import uuid
from datetime import datetime, timezone
from urllib.parse import urlsplit

from .clock import Clock

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType",
           422: "Invalid", 429: "TooManyRequests", 500: "InternalError",
           503: "ServiceUnavailable", 504: "Timeout"}


def status_body(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "InternalError")
        self.details = details
        self.headers = headers or {}


# (group, version, plural) -> kind, namespaced, short names. Order is discovery order.
RESOURCES = [
    ("", "v1", "namespaces", "Namespace", False, ["ns"]),
    ("", "v1", "nodes", "Node", False, ["no"]),
    ("", "v1", "pods", "Pod", True, ["po"]),
    ("", "v1", "events", "Event", True, ["ev"]),
    ("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"]),
    ("apps", "v1", "deployments", "Deployment", True, ["deploy"]),
    ("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"]),
    ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"]),
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
     False, []),
]
_BY_PLURAL = {r[2]: r for r in RESOURCES}
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_PATCH_TYPES = ("application/strategic-merge-patch+json", "application/merge-patch+json")
_ANONYMOUS_PATHS = ("/version", "/healthz", "/livez", "/readyz")
_POD_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
_FIELDS = {"pods": ("spec.nodeName", "status.phase", "spec.restartPolicy",
                    "spec.schedulerName", "spec.serviceAccountName", "status.podIP"),
           "events": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                      "involvedObject.uid", "involvedObject.apiVersion",
                      "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
                      "reportingComponent", "source", "type"),
           "nodes": ("spec.unschedulable",), "namespaces": ("status.phase",)}


def rfc3339(t):
    return _rfc3339(int(t))


# Cached: generating a large cluster formats and parses the same instants
# thousands of times.
@functools.lru_cache(maxsize=65536)
def _rfc3339(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=65536)
def parse_time(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def human_duration(seconds):
    """apimachinery's duration.HumanDuration, which kubectl's AGE column uses."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        return "%dm%ds" % (minutes, s % 60) if s % 60 else "%dm" % minutes
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        return "%dh%dm" % (hours, minutes % 60) if minutes % 60 else "%dh" % hours
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        return "%dd%dh" % (hours // 24, hours % 24) if hours % 24 else "%dd" % (hours // 24)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return "%dy%dd" % (hours // 24 // 365, days) if days else "%dy" % (hours // 24 // 365)
    return "%dy" % (hours // 24 // 365)


def base36(n, width=6):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out.rjust(width, "0")


# --- selectors ---------------------------------------------------------------

_SET_RE = re.compile(r"^\s*([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")


def _split_top(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


def parse_label_selector(text):
    """A predicate over a labels dict; ApiError 400 if text is not a selector."""
    reqs = []
    for part in _split_top(text or ""):
        m = _SET_RE.match(part)
        if m:
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            reqs.append((m.group(1), m.group(2), values))
            continue
        m = _EQ_RE.match(part)
        if m:
            reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", {m.group(3)}))
            continue
        m = _EXISTS_RE.match(part)
        if not m:
            raise ApiError(400, "unable to parse requirement: %s" % part.strip())
        reqs.append((m.group(2), "!" if m.group(1) else "exists", None))

    def match(labels):
        for key, op, values in reqs:
            present = key in labels
            if op == "exists" and not present or op == "!" and present:
                return False
            if op in ("=", "in") and labels.get(key) not in values:
                return False
            if op in ("!=", "notin") and present and labels[key] in values:
                return False
        return True
    return match


def _field_value(obj, path):
    cur = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None else str(cur)


def parse_field_selector(text, plural):
    reqs = []
    allowed = ("metadata.name", "metadata.namespace") + _FIELDS.get(plural, ())
    for part in _split_top(text or ""):
        m = re.match(r"^\s*([^!=\s]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise ApiError(400, "invalid selector: '%s'; can't understand '%s'" % (text, part))
        if m.group(1) not in allowed:
            raise ApiError(400, 'field label not supported: %s' % m.group(1))
        reqs.append((m.group(1), m.group(2) == "!=", m.group(3)))
    return lambda obj: all((_field_value(obj, f) == v) != neg for f, neg, v in reqs)


def label_selector_of(selector):
    """A metav1.LabelSelector object as a predicate."""
    text = ",".join("%s=%s" % kv for kv in sorted((selector or {}).get("matchLabels", {}).items()))
    for expr in (selector or {}).get("matchExpressions", []):
        op = {"In": "in", "NotIn": "notin"}.get(expr["operator"])
        if op:
            text += ",%s %s (%s)" % (expr["key"], op, ",".join(expr.get("values", [])))
        else:
            text += ",%s%s" % ("" if expr["operator"] == "Exists" else "!", expr["key"])
    return parse_label_selector(text.strip(","))


def merge_patch(target, patch, strategic):
    """RFC 7386 merge; a strategic patch also drops its $directives."""
    for key, value in patch.items():
        if strategic and key.startswith("$"):
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            if not isinstance(target.get(key), dict):
                target[key] = {}
            merge_patch(target[key], value, strategic)
        else:
            target[key] = copy.deepcopy(value)
    return target


# --- the state ----------------------------------------------------------------

class K8sState:
    """Objects and API of one cluster. Mutate under `lock`."""

    def __init__(self, cluster, now=None, clock=None):
        self.cluster = cluster
        # Simulated time (clock.py): every timestamp and delay of this cluster.
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.tokens = {}            # bearer token -> user name, or (user, [groups])
        self.forbidden = set()      # (user, verb, resource) denied; "*" matches any
        # False: answer as a server that cannot make Tables (an aggregated API
        # server, an old proxy) does - with the plain object or List.
        self.tables = True
        # Opt-in (Sim(cache_lists=True), for the benchmarks): list answers
        # reused while resourceVersion stands still. A real API server serves
        # lists from its watch cache in compiled code; without this, the
        # Python rendering a 2,500-row Table (~170 ms, holding the GIL and
        # so stalling every other request) is what a benchmark measures.
        # Only state changed through this class's methods (which bump
        # resourceVersion) shows up in a cached answer.
        self.cache_lists = False
        self._list_cache = {}
        self.objects = {r[2]: {} for r in RESOURCES}
        self._pool_index = {}       # pool name -> node names, for fast pool lookups
        self.rv = 1000
        self.version = cluster.k8s_version
        self._secret = uuid.uuid4().bytes
        self._rng = random.Random("k8s/" + cluster.name)
        self._now = now or self.clock.now()
        self._building = True
        self._build()
        self._building = False

    # --- generation ----------------------------------------------------

    def _uid(self):
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _suffix(self, n=5):
        return "".join(self._rng.choices(_POD_SUFFIX, k=n))

    def _bump(self, obj):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        return obj

    def _put(self, plural, obj):
        meta = obj["metadata"]
        meta.setdefault("uid", self._uid())
        # Objects generated with the cluster predate it being served.
        meta.setdefault("creationTimestamp",
                        rfc3339(self._now - 86400 if self._building else self.clock.now()))
        self.objects[plural][(meta.get("namespace", ""), meta["name"])] = self._bump(obj)
        if plural == "nodes":
            pool = meta["labels"]["kubernetes.azure.com/agentpool"]
            self._pool_index.setdefault(pool, set()).add(meta["name"])
        return obj

    def _build(self):
        for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
            self.add_namespace(ns, created=self._now - 30 * 86400)
        for pool in self.cluster.pools:
            self.sync_pool(pool)
        self._default_workloads()

    def _default_workloads(self):
        linux = {"kubernetes.io/os": "linux"}
        windows = {"kubernetes.io/os": "windows"}
        for name in ("kube-proxy", "cloud-node-manager", "azure-ip-masq-agent"):
            self.add_daemonset("kube-system", name, node_selector=linux)
        self.add_daemonset("kube-system", "cloud-node-manager-windows", node_selector=windows)
        self.add_daemonset("kube-system", "nvidia-device-plugin-daemonset",
                           node_selector={"kubernetes.azure.com/accelerator": "nvidia"})
        system = {"kubernetes.azure.com/mode": "system"}
        self.add_deployment("kube-system", "coredns", 2, node_selector=system, empty_dir=True)
        self.add_deployment("kube-system", "metrics-server", 2, node_selector=system,
                            empty_dir=True)
        self.add_deployment("kube-system", "konnectivity-agent", 2, node_selector=system)
        users = [n for n in self._linux_nodes() if n["metadata"]["labels"].get(
            "kubernetes.azure.com/mode") == "user" and "kubernetes.azure.com/accelerator"
            not in n["metadata"]["labels"]]
        if users:
            self.add_namespace("shop")
            self.add_deployment("shop", "web", 4, nodes=users)
            self.add_deployment("shop", "api", 2, nodes=users[::-1])
            self.add_pdb("shop", "web", {"app": "web"}, max_unavailable=1)
            self.add_pdb("shop", "api", {"app": "api"}, min_available=1)
        if any(self._match_nodes({"kubernetes.azure.com/accelerator": "nvidia"})):
            self.add_namespace("ml")
            self.add_deployment("ml", "inference", 1, node_selector={
                "kubernetes.azure.com/accelerator": "nvidia"})

    def _linux_nodes(self):
        return [n for _, n in sorted(self.objects["nodes"].items())
                if n["metadata"]["labels"]["kubernetes.io/os"] == "linux"]

    def _match_nodes(self, selector):
        return [n for _, n in sorted(self.objects["nodes"].items())
                if all(n["metadata"]["labels"].get(k) == v for k, v in selector.items())]

    def add_namespace(self, name, created=None):
        if ("", name) in self.objects["namespaces"]:
            return self.objects["namespaces"][("", name)]
        return self._put("namespaces", {
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name},
                         "creationTimestamp": rfc3339(created or self._now - 86400)},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})

    def node_name(self, pool, instance):
        if pool.os_type == "Windows":
            return "aks%s%s" % (pool.name, base36(instance))
        return "aks-%s-%s-vmss%s" % (pool.name, self.cluster.vmss_digits(pool.name),
                                     base36(instance))

    def _node(self, pool, instance, index):
        c = self.cluster
        osf = pool.os
        name = self.node_name(pool, instance)
        vmss = "aks-%s-%s-vmss" % (pool.name, c.vmss_digits(pool.name))
        zone = ("%s-%s" % (c.location, pool.zones[index % len(pool.zones)])
                if pool.zones else "0")
        os_name = "windows" if pool.os_type == "Windows" else "linux"
        cpu, mem_gib, gpus = pool.vm_shape
        labels = {
            "agentpool": pool.name,
            "beta.kubernetes.io/arch": pool.arch,
            "beta.kubernetes.io/instance-type": pool.vm_size,
            "beta.kubernetes.io/os": os_name,
            "failure-domain.beta.kubernetes.io/region": c.location,
            "failure-domain.beta.kubernetes.io/zone": zone,
            "kubernetes.azure.com/agentpool": pool.name,
            "kubernetes.azure.com/cluster": c.node_resource_group,
            "kubernetes.azure.com/kubelet-identity-client-id": str(uuid.UUID(
                hashlib.md5(c.id.encode()).hexdigest())),
            "kubernetes.azure.com/mode": pool.mode.lower(),
            "kubernetes.azure.com/node-image-version": pool.node_image_version,
            "kubernetes.azure.com/nodepool-type": "VirtualMachineScaleSets",
            "kubernetes.azure.com/os-sku": pool.os_sku,
            "kubernetes.azure.com/os-sku-effective": osf.sku_effective,
            "kubernetes.azure.com/os-sku-requested": pool.os_sku,
            "kubernetes.azure.com/role": "agent",
            "kubernetes.azure.com/storageprofile": "managed",
            "kubernetes.azure.com/storagetier": "Premium_LRS",
            "kubernetes.io/arch": pool.arch,
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": os_name,
            "node.kubernetes.io/instance-type": pool.vm_size,
            "storageprofile": "managed",
            "storagetier": "Premium_LRS",
            "topology.disk.csi.azure.com/zone": zone if pool.zones else "",
            "topology.kubernetes.io/region": c.location,
            "topology.kubernetes.io/zone": zone,
        }
        if pool.gpu:
            labels["accelerator"] = "nvidia"
            labels["kubernetes.azure.com/accelerator"] = "nvidia"
        labels.update(pool.node_labels)
        capacity = {"cpu": str(cpu), "memory": "%dKi" % (mem_gib * 1024 * 1024),
                    "pods": str(pool.max_pods), "ephemeral-storage": "129886128Ki",
                    "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
        if gpus:
            capacity["nvidia.com/gpu"] = str(gpus)
        allocatable = dict(capacity, cpu="%dm" % (cpu * 1000 - 180),
                           memory="%dKi" % int(mem_gib * 1024 * 1024 * 0.8))
        created = (self._now - pool.age_days * 86400 + index * 37 if self._building
                   else self.clock.now())
        ready = index < pool.ready
        ip = "10.224.%d.%d" % (hash_octet(pool.name), 4 + index % 250)
        ts = rfc3339(self._now - 60)
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name, "labels": labels,
                "annotations": {
                    "csi.volume.kubernetes.io/nodeid": json.dumps({"disk.csi.azure.com": name}),
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
                "creationTimestamp": rfc3339(created),
            },
            "spec": {
                "providerID": "azure:///subscriptions/%s/resourceGroups/%s/providers/"
                              "Microsoft.Compute/virtualMachineScaleSets/%s/virtualMachines/%d"
                              % (c.subscription, c.node_resource_group.lower(), vmss, instance),
                "podCIDR": "10.244.%d.0/24" % (len(self.objects["nodes"]) % 256),
            },
            "status": {
                "addresses": [{"type": "InternalIP", "address": ip},
                              {"type": "Hostname", "address": name}],
                "capacity": capacity, "allocatable": allocatable,
                "conditions": self._conditions(ready, ts),
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": self._node_info(pool, name),
                "images": [],
            },
        }
        taints = [dict(zip(("key", "value", "effect"), _split_taint(t)))
                  for t in pool.node_taints]
        if index < pool.unschedulable:
            node["spec"]["unschedulable"] = True
            taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                           "timeAdded": ts})
        if not ready:
            taints.append({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule",
                           "timeAdded": ts})
        if taints:
            node["spec"]["taints"] = taints
        return node

    def _node_info(self, pool, name):
        osf = pool.os
        ident = hashlib.sha256(("node/" + name).encode()).hexdigest()
        return {"architecture": pool.arch, "bootID": str(uuid.UUID(ident[:32])),
                "containerRuntimeVersion": osf.runtime, "kernelVersion": osf.kernel,
                "kubeProxyVersion": "", "kubeletVersion": "v" + pool.k8s_version,
                "machineID": ident[32:64], "operatingSystem":
                    "windows" if pool.os_type == "Windows" else "linux",
                "osImage": osf.os_image, "systemUUID": str(uuid.UUID(ident[16:48]))}

    @staticmethod
    def _conditions(ready, ts):
        conds = [dict(type=t, status="False", reason="Kubelet" + r, message=m,
                      lastHeartbeatTime=ts, lastTransitionTime=ts)
                 for t, r, m in (("MemoryPressure", "HasSufficientMemory",
                                  "kubelet has sufficient memory available"),
                                 ("DiskPressure", "HasNoDiskPressure",
                                  "kubelet has no disk pressure"),
                                 ("PIDPressure", "HasSufficientPID",
                                  "kubelet has sufficient PID available"))]
        conds.append(dict(type="Ready", status="True" if ready else "False",
                          reason="KubeletReady" if ready else "KubeletNotReady",
                          message="kubelet is posting ready status" if ready else
                          "container runtime network not ready: NetworkReady=false",
                          lastHeartbeatTime=ts, lastTransitionTime=ts))
        return conds

    def pool_nodes(self, pool_name):
        nodes = self.objects["nodes"]
        return [nodes[("", name)] for name in sorted(self._pool_index.get(pool_name, ()))]

    def sync_pool(self, pool):
        """Make the pool's nodes match `pool`: image and version changes apply
        in place (a reimage), missing nodes are added, surplus ones removed
        with their pods (evicted ones rescheduled). Returns the pool's nodes."""
        with self.lock:
            existing = {n["metadata"]["name"]: n for n in self.pool_nodes(pool.name)}
            wanted = [self.node_name(pool, i) for i in range(pool.count)]
            for name in set(existing) - set(wanted):
                self.remove_node(name)
            for i, name in enumerate(wanted):
                if name in existing:
                    self._reimage(existing[name], pool)
                else:
                    self._put("nodes", self._node(pool, i, i))
                    self._place_daemonsets(name)
            return self.pool_nodes(pool.name)

    def _reimage(self, node, pool):
        labels = node["metadata"]["labels"]
        labels["kubernetes.azure.com/node-image-version"] = pool.node_image_version
        labels["kubernetes.azure.com/os-sku"] = pool.os_sku
        labels["kubernetes.azure.com/os-sku-requested"] = pool.os_sku
        labels["kubernetes.azure.com/os-sku-effective"] = pool.os.sku_effective
        node["status"]["nodeInfo"] = self._node_info(pool, node["metadata"]["name"])
        self._bump(node)

    def remove_pool(self, pool_name):
        with self.lock:
            for node in self.pool_nodes(pool_name):
                self.remove_node(node["metadata"]["name"])

    def remove_node(self, name):
        """Delete a node; its DaemonSet pods go, its other pods are rescheduled."""
        with self.lock:
            node = self.objects["nodes"].pop(("", name), None)
            if node is not None:
                pool = node["metadata"]["labels"]["kubernetes.azure.com/agentpool"]
                self._pool_index.get(pool, set()).discard(name)
            for pod in self.pods(node=name):
                self._delete_pod(pod)

    def node(self, name):
        return self.objects["nodes"].get(("", name))

    def nodes(self):
        return [n for _, n in sorted(self.objects["nodes"].items())]

    def pods(self, node=None, namespace=None):
        return [p for (ns, _), p in sorted(self.objects["pods"].items())
                if (node is None or p["spec"].get("nodeName") == node)
                and (namespace is None or ns == namespace)]

    def set_ready(self, name, ready):
        with self.lock:
            node = self.node(name)
            node["status"]["conditions"] = self._conditions(ready, rfc3339(self.clock.now()))
            self._bump(node)

    def cordon(self, name, flag=True):
        with self.lock:
            node = self.node(name)
            if flag:
                node["spec"]["unschedulable"] = True
            else:
                node["spec"].pop("unschedulable", None)
            self._bump(node)

    # --- workloads -----------------------------------------------------

    def add_daemonset(self, namespace, name, node_selector=None):
        with self.lock:
            self.add_namespace(namespace)
            ds = self._put("daemonsets", {
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": name, "namespace": namespace, "generation": 1,
                             "labels": {"k8s-app": name},
                             "creationTimestamp": rfc3339(self._now - 30 * 86400)},
                "spec": {"selector": {"matchLabels": {"k8s-app": name}},
                         "template": {"spec": {"nodeSelector": node_selector or {}}}},
                "status": {}})
            for node in self.nodes():
                self._place_daemonset(ds, node)
            return ds

    def _place_daemonsets(self, node_name):
        node = self.node(node_name)
        for ds in list(self.objects["daemonsets"].values()):
            self._place_daemonset(ds, node)

    def _place_daemonset(self, ds, node):
        selector = ds["spec"]["template"]["spec"]["nodeSelector"]
        labels = node["metadata"]["labels"]
        if all(labels.get(k) == v for k, v in selector.items()):
            meta = ds["metadata"]
            self._pod(meta["namespace"], "%s-%s" % (meta["name"], self._suffix()),
                      node, {"k8s-app": meta["name"]}, ("apps/v1", "DaemonSet", meta),
                      node_selector=selector)

    def add_deployment(self, namespace, name, replicas, nodes=None, node_selector=None,
                       empty_dir=False, labels=None):
        """A Deployment, its ReplicaSet and `replicas` pods placed round-robin
        on `nodes` (default: the scheduler's choice among matching nodes)."""
        with self.lock:
            self.add_namespace(namespace)
            labels = dict(labels or {"app": name})
            pod_hash = hashlib.sha256((namespace + name).encode()).hexdigest()
            pod_hash = "".join(_POD_SUFFIX[int(c, 16) % len(_POD_SUFFIX)] for c in pod_hash[:10])
            template = {"metadata": {"labels": dict(labels, **{"pod-template-hash": pod_hash})},
                        "spec": {"nodeSelector": dict(node_selector or {}),
                                 "volumes": [{"name": "tmp", "emptyDir": {}}] if empty_dir
                                 else []}}
            dep = self._put("deployments", {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": namespace, "generation": 1,
                             "labels": labels},
                "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                         "template": template},
                "status": {"replicas": replicas, "readyReplicas": replicas}})
            rs = self._put("replicasets", {
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "%s-%s" % (name, pod_hash), "namespace": namespace,
                             "labels": template["metadata"]["labels"],
                             "ownerReferences": [_owner("apps/v1", "Deployment",
                                                        dep["metadata"])]},
                "spec": {"replicas": replicas, "template": template,
                         "selector": {"matchLabels": template["metadata"]["labels"]}},
                "status": {"replicas": replicas}})
            for i in range(replicas):
                node = nodes[i % len(nodes)] if nodes else self._schedule(rs, None)
                self._rs_pod(rs, node)
            return dep

    def _rs_pod(self, rs, node):
        meta = rs["metadata"]
        spec = rs["spec"]["template"]["spec"]
        return self._pod(meta["namespace"], "%s-%s" % (meta["name"], self._suffix()), node,
                         rs["spec"]["template"]["metadata"]["labels"],
                         ("apps/v1", "ReplicaSet", meta),
                         empty_dir=any("emptyDir" in v for v in spec["volumes"]),
                         node_selector=spec["nodeSelector"])

    def add_pod(self, namespace, name, node_name, labels=None, empty_dir=False, owner=None):
        """A pod on a node; owner is (apiVersion, kind, metadata) or None (bare pod)."""
        with self.lock:
            self.add_namespace(namespace)
            return self._pod(namespace, name, self.node(node_name), labels or {"run": name},
                             owner, empty_dir=empty_dir)

    def _pod(self, namespace, name, node, labels, owner, empty_dir=False, node_selector=None):
        volumes = [{"name": "kube-api-access", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]}}]
        if empty_dir:
            volumes.append({"name": "tmp", "emptyDir": {}})
        running = node is not None
        created = self.clock.now()
        if self._building and node:
            created = max(parse_time(node["metadata"]["creationTimestamp"]) + 90,
                          self._now - 30 * 86400)
        container = owner[2]["name"] if owner else name
        meta = {"name": name, "namespace": namespace, "labels": dict(labels),
                "creationTimestamp": rfc3339(created)}
        if owner:
            meta["ownerReferences"] = [_owner(*owner)]
        pod = {
            "apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"containers": [{"name": container, "image": "mcr.microsoft.com/oss/%s:v1"
                                     % container, "resources": {"requests": {"cpu": "10m"}}}],
                     "volumes": volumes, "restartPolicy": "Always",
                     "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler",
                     "serviceAccountName": "default", "nodeSelector": dict(node_selector or {}),
                     "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}]},
            "status": {"phase": "Running" if running else "Pending", "qosClass": "Burstable"},
        }
        if running:
            pod["spec"]["nodeName"] = node["metadata"]["name"]
            host_ip = node["status"]["addresses"][0]["address"]
            ts = rfc3339(created)
            pod["status"].update({
                "hostIP": host_ip, "podIP": "10.244.%d.%d" % (self._rng.randrange(256),
                                                              self._rng.randrange(2, 250)),
                "startTime": ts,
                "conditions": [{"type": t, "status": "True", "lastTransitionTime": ts}
                               for t in ("Initialized", "Ready", "ContainersReady",
                                         "PodScheduled")],
                "containerStatuses": [{"name": container, "ready": True, "restartCount": 0,
                                       "started": True, "image": pod["spec"]["containers"][0]
                                       ["image"], "state": {"running": {"startedAt": ts}},
                                       "containerID": "containerd://%064x"
                                       % self._rng.getrandbits(256)}]})
        else:
            pod["status"]["conditions"] = [{"type": "PodScheduled", "status": "False",
                                            "reason": "Unschedulable"}]
        return self._put("pods", pod)

    def _schedule(self, rs, avoid):
        """The schedulable Ready node matching the pod template with the fewest
        of this ReplicaSet's pods, or None (the pod stays Pending)."""
        spec = rs["spec"]["template"]["spec"]
        selector = dict(spec["nodeSelector"])
        selector.setdefault("kubernetes.io/os", "linux")
        owned = {}
        for pod in self.pods(namespace=rs["metadata"]["namespace"]):
            refs = pod["metadata"].get("ownerReferences", [])
            if refs and refs[0]["uid"] == rs["metadata"]["uid"]:
                owned[pod["spec"].get("nodeName")] = owned.get(pod["spec"].get("nodeName"), 0) + 1
        best = None
        for node in self._match_nodes(selector):
            name = node["metadata"]["name"]
            if name == avoid or node["spec"].get("unschedulable") or not _is_ready(node):
                continue
            if best is None or owned.get(name, 0) < owned.get(best["metadata"]["name"], 0):
                best = node
        return best

    def _delete_pod(self, pod):
        """Remove a pod and replace it as its controller would: a ReplicaSet's
        elsewhere, a DaemonSet's on the same node while that node exists."""
        meta = pod["metadata"]
        self.objects["pods"].pop((meta["namespace"], meta["name"]), None)
        self.rv += 1
        owner = (meta.get("ownerReferences") or [{}])[0]
        plural = {"ReplicaSet": "replicasets", "DaemonSet": "daemonsets"}.get(owner.get("kind"))
        controller = plural and self.objects[plural].get((meta["namespace"], owner["name"]))
        node_name = pod["spec"].get("nodeName")
        if not controller:
            return
        if plural == "replicasets":
            self._rs_pod(controller, self._schedule(controller, node_name))
        elif self.node(node_name) is not None:
            self._place_daemonset(controller, self.node(node_name))

    def add_pdb(self, namespace, name, match_labels, min_available=None, max_unavailable=None):
        """Add or replace a policy/v1 PodDisruptionBudget."""
        with self.lock:
            self.add_namespace(namespace)
            spec = {"selector": {"matchLabels": dict(match_labels)}}
            if min_available is not None:
                spec["minAvailable"] = min_available
            if max_unavailable is not None:
                spec["maxUnavailable"] = max_unavailable
            return self._put("poddisruptionbudgets", {
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                "metadata": {"name": name, "namespace": namespace, "generation": 1},
                "spec": spec})

    def _pdb_status(self, pdb):
        """The controller's view: expected, healthy, desired and allowed."""
        ns = pdb["metadata"]["namespace"]
        match = label_selector_of(pdb["spec"]["selector"])
        pods = [p for p in self.pods(namespace=ns) if match(p["metadata"].get("labels", {}))]
        expected = len(pods)
        healthy = sum(1 for p in pods if _pod_ready(p))
        spec = pdb["spec"]
        if "minAvailable" in spec:
            desired = _scaled(spec["minAvailable"], expected, up=True)
        else:
            desired = expected - _scaled(spec.get("maxUnavailable", 0), expected, up=True)
        return {"observedGeneration": 1, "currentHealthy": healthy,
                "desiredHealthy": max(desired, 0), "expectedPods": expected,
                "disruptionsAllowed": max(healthy - desired, 0)}

    # --- authentication and authorisation --------------------------------

    def forbid(self, user, verb, resource):
        """Deny `verb` on `resource` ("nodes", "pods/eviction") to `user`."""
        with self.lock:
            self.forbidden.add((user, verb, resource))

    def authenticate(self, req):
        """Set req.auth and return (user, groups), or None."""
        if req.bearer is not None:
            entry = self.tokens.get(req.bearer)
            if entry is None:
                req.auth = "token:invalid"
                return None
            user, groups = (entry, []) if isinstance(entry, str) else entry
            req.auth = "token:" + user
            return user, list(groups) + ["system:authenticated"]
        if req.client_cert and req.client_cert.get("CN"):
            req.auth = "cert:" + req.client_cert["CN"]
            return req.client_cert["CN"], req.client_cert["O"] + ["system:authenticated"]
        req.auth = "none"
        return None

    def _authorize(self, user, verb, route):
        resource = route["plural"] + ("/" + route["sub"] if route["sub"] else "")
        for u, v, r in self.forbidden:
            if u in (user, "*") and v in (verb, "*") and r in (resource, "*"):
                break
        else:
            return
        what = route["plural"] + (' "%s"' % route["name"] if route["name"] else "")
        scope = ('in the namespace "%s"' % route["ns"] if route["ns"]
                 else "at the cluster scope")
        raise ApiError(403, '%s is forbidden: User "%s" cannot %s resource "%s" in API group '
                       '"%s" %s' % (what, user, verb, resource, route["group"], scope),
                       details={"name": route["name"] or "", "group": route["group"],
                                "kind": route["plural"]})

    # --- HTTP ------------------------------------------------------------

    def handle(self, req):
        from .server import Response
        with self.lock:
            try:
                status, body, headers = self._handle(req)
            except ApiError as e:
                status, headers = e.code, e.headers
                body = status_body(e.code, e.reason, e.message, e.details)
            data = body.data if isinstance(body, _Encoded) else json.dumps(body).encode()
        headers = dict(headers, **{"Content-Type": "application/json",
                                   "Audit-Id": str(uuid.uuid4()),
                                   "Cache-Control": "no-cache, private",
                                   "X-Kubernetes-Pf-Flowschema-Uid": self._secret.hex()[:8]})
        return Response(status, data, headers)

    def _handle(self, req):
        who = self.authenticate(req)
        if who is None and (req.auth == "token:invalid" or req.path not in _ANONYMOUS_PATHS):
            raise ApiError(401, "Unauthorized")
        if req.path == "/version":
            return 200, self._version(), {}
        if req.path in ("/healthz", "/livez", "/readyz"):
            return 200, "ok", {}
        discovery = self._discovery(req.path)
        if discovery is not None:
            return 200, discovery, {}
        route = self._route(req.path)
        verb = self._verb(req, route)
        self._authorize(who[0], verb, route)
        return getattr(self, "_do_" + verb)(req, route)

    def _version(self):
        major, minor, _ = self.version.split(".")
        return {"major": major, "minor": minor, "gitVersion": "v" + self.version,
                "gitCommit": hashlib.sha1(self.version.encode()).hexdigest(),
                "gitTreeState": "clean", "buildDate": "2026-06-11T09:21:43Z",
                "goVersion": "go1.23.8", "compiler": "gc", "platform": "linux/amd64"}

    def _discovery(self, path):
        groups = {}
        for g, v, plural, kind, namespaced, short in RESOURCES:
            groups.setdefault((g, v), []).append({
                "name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                "kind": kind, "verbs": _VERBS, "shortNames": short,
                **({"categories": ["all"]} if plural in ("pods", "daemonsets", "deployments",
                                                         "replicasets") else {})})
        groups[("", "v1")].append({"name": "pods/eviction", "singularName": "",
                                   "namespaced": True, "group": "policy", "version": "v1",
                                   "kind": "Eviction", "verbs": ["create"]})
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0",
                 "serverAddress": urlsplit(self.cluster.server_url).netloc}]}
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1",
                    "groups": [_group(g, v) for (g, v) in groups if g]}
        m = re.fullmatch(r"/api/(v1)|/apis/([^/]+)/([^/]+)|/apis/([^/]+)", path)
        if not m:
            return None
        if m.group(4):
            if (m.group(4), "v1") not in groups:
                raise ApiError(404, "the server could not find the requested resource")
            return dict(_group(m.group(4), "v1"), kind="APIGroup", apiVersion="v1")
        g, v = ("", "v1") if m.group(1) else (m.group(2), m.group(3))
        if (g, v) not in groups:
            raise ApiError(404, "the server could not find the requested resource")
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": "%s/%s" % (g, v) if g else v, "resources": groups[(g, v)]}

    def _route(self, path):
        m = re.fullmatch(r"/api/v1/(.*)|/apis/([^/]+)/([^/]+)/(.*)", path)
        if not m:
            raise ApiError(404, "the server could not find the requested resource")
        group, version, rest = ("", "v1", m.group(1)) if m.group(1) is not None else m.groups()[1:]
        parts = [p for p in rest.split("/") if p]
        ns = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            ns, parts = parts[1], parts[2:]
        res = _BY_PLURAL.get(parts[0]) if parts else None
        if res is None or (res[0], res[1]) != (group, version) or len(parts) > 3:
            raise ApiError(404, "the server could not find the requested resource")
        if ns is not None and not res[4]:
            raise ApiError(404, "the server could not find the requested resource")
        return {"group": group, "plural": parts[0], "kind": res[3], "namespaced": res[4],
                "ns": ns, "name": parts[1] if len(parts) > 1 else None,
                "sub": parts[2] if len(parts) > 2 else None}

    @staticmethod
    def _verb(req, route):
        if route["sub"] and (route["plural"], route["sub"], req.method) != ("pods", "eviction",
                                                                              "POST"):
            raise ApiError(404, "the server could not find the requested resource")
        if req.method == "GET":
            if route["name"]:
                return "get"
            return "watch" if req.q("watch") in ("1", "true") else "list"
        verb = {"POST": "create", "PATCH": "patch", "DELETE": "delete", "PUT": "update"}.get(
            req.method)
        if verb is None or (verb != "create" and not route["name"]):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource")
        return verb

    def _obj(self, route):
        obj = self.objects[route["plural"]].get((route["ns"] or "", route["name"]))
        if obj is None:
            raise ApiError(404, '%s "%s" not found' % (route["plural"], route["name"]),
                           details={"name": route["name"], "kind": route["plural"]})
        return obj

    def _view(self, plural, obj):
        # PDB status is computed on read, as the disruption controller would keep it.
        if plural == "poddisruptionbudgets":
            return dict(obj, status=self._pdb_status(obj))
        return obj

    def _do_get(self, req, route):
        obj = self._obj(route)
        if self.tables and _wants_table(req):
            return 200, self._table(req, route["plural"], [obj], {}, self.clock.now()), {}
        return 200, self._view(route["plural"], obj), {}

    def _do_watch(self, req, route):
        raise ApiError(405, "the simulator does not support watch")

    def _do_list(self, req, route):
        table = self.tables and _wants_table(req)
        if not self.cache_lists:
            items, meta = self._select(req, route)
            return 200, self._list_body(req, route, items, meta, table, self.clock.now()), {}
        key = (self.rv, req.path, req.raw_query, table, req.headers.get("Accept", ""))
        hit = self._list_cache.get(key)
        if hit is None:
            self._list_cache = {k: v for k, v in self._list_cache.items() if k[0] == self.rv}
            hit = self._list_cache[key] = dict(selected=self._select(req, route), ages=None)
        items, meta = hit["selected"]
        now = self.clock.now()
        # Table cells hold ages: the answer is the same only while they are.
        ages = tuple(_age(o, now) for o in items) if table else ()
        if hit["ages"] != ages:
            body = self._list_body(req, route, items, meta, table, now)
            hit["ages"], hit["data"] = ages, _Encoded(json.dumps(body).encode())
        return 200, hit["data"], {}

    def _select(self, req, route):
        plural = route["plural"]
        labels = parse_label_selector(req.q("labelSelector"))
        fields = parse_field_selector(req.q("fieldSelector"), plural)
        items = [obj for (ns, _), obj in sorted(self.objects[plural].items())
                 if (route["ns"] is None or ns == route["ns"])
                 and labels(obj["metadata"].get("labels", {})) and fields(obj)]
        start = self._decode_continue(req.q("continue"), plural) if req.q("continue") else None
        if start is not None:
            items = [o for o in items if _key(o) > start]
        meta = {"resourceVersion": str(self.rv)}
        limit = int(req.q("limit") or 0)
        if 0 < limit < len(items):
            items, rest = items[:limit], len(items) - limit
            meta["continue"] = self._encode_continue(plural, _key(items[-1]))
            meta["remainingItemCount"] = rest
        return items, meta

    def _list_body(self, req, route, items, meta, table, now):
        plural = route["plural"]
        if table:
            return self._table(req, plural, items, meta, now)
        return {"kind": route["kind"] + "List", "apiVersion": _api_version(route),
                "metadata": meta, "items": [self._view(plural, o) for o in items]}

    def _encode_continue(self, plural, key):
        payload = json.dumps([plural, list(key)]).encode()
        sig = hmac.new(self._secret, payload, "sha256").digest()[:12]
        return base64.urlsafe_b64encode(payload + sig).decode().rstrip("=")

    def _decode_continue(self, token, plural):
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            payload, sig = raw[:-12], raw[-12:]
            ok = hmac.compare_digest(sig, hmac.new(self._secret, payload, "sha256").digest()[:12])
            kind, key = json.loads(payload) if ok else (None, None)
        except ValueError:
            kind, key = None, None
        if kind != plural:
            raise ApiError(410, "The provided continue parameter is too old to display a "
                           "consistent list result. You can start a new list without the "
                           "continue parameter.", reason="Expired")
        return tuple(key)

    def _do_patch(self, req, route):
        obj = self._obj(route)
        if req.content_type not in _PATCH_TYPES:
            raise ApiError(415, "the body of the request was in an unknown format - accepted "
                           "media types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml, "
                           "application/strategic-merge-patch+json")
        try:
            patch = req.json()
        except ValueError as e:
            raise ApiError(400, "error decoding patch: %s" % e)
        if not isinstance(patch, dict):
            raise ApiError(400, "the patch is not a JSON object")
        want_rv = (patch.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != obj["metadata"]["resourceVersion"]:
            raise ApiError(409, 'Operation cannot be fulfilled on %s "%s": the object has been '
                           'modified; please apply your changes to the latest version and try '
                           'again' % (route["plural"], route["name"]))
        new = merge_patch(copy.deepcopy(obj), patch, req.content_type == _PATCH_TYPES[0])
        for key in ("name", "namespace", "uid", "creationTimestamp"):
            if key in obj["metadata"]:
                new["metadata"][key] = obj["metadata"][key]
        new["status"] = obj.get("status")   # status is a subresource
        if _dry_run(req):
            return 200, new, {}
        obj.clear()
        obj.update(new)
        self._bump(obj)
        return 200, obj, {}

    def _do_delete(self, req, route):
        obj = self._obj(route)
        if route["plural"] != "pods":
            raise ApiError(405, "the simulator only deletes pods")
        if not _dry_run(req):
            self._delete_pod(obj)
        return 200, obj, {}

    def _do_update(self, req, route):
        raise ApiError(405, "the simulator does not support PUT; use PATCH")

    def _do_create(self, req, route):
        if route["plural"] == "selfsubjectaccessreviews" and not route["name"]:
            return self._access_review(req)
        if route["sub"] != "eviction":
            raise ApiError(405, "the simulator only creates evictions")
        pod = self._obj(dict(route, sub=None))
        try:
            body = req.json() or {}
        except ValueError:
            raise ApiError(400, "error decoding the eviction")
        if (body.get("metadata") or {}).get("name") != route["name"]:
            raise ApiError(400, "name in URL does not match name in Eviction object",
                           details={"name": route["name"], "group": "policy",
                                    "kind": "Eviction"})
        self._check_pdbs(pod)
        if not _dry_run(req) and not (body.get("deleteOptions") or {}).get("dryRun"):
            self._delete_pod(pod)
        return 201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                     "status": "Success", "code": 201}, {}

    def _access_review(self, req):
        """`kubectl auth can-i`: answered from the same deny list as real requests."""
        try:
            if req.content_type == "application/vnd.kubernetes.protobuf":
                review = {"spec": {"resourceAttributes": _review_from_protobuf(req.body)}}
            else:
                review = req.json() or {}
            attrs = review["spec"]["resourceAttributes"]
        except (ValueError, KeyError, TypeError, IndexError):
            raise ApiError(400, "spec.resourceAttributes is required")
        route = {"group": attrs.get("group", ""), "plural": attrs.get("resource", ""),
                 "sub": attrs.get("subresource") or None, "name": attrs.get("name") or None,
                 "ns": attrs.get("namespace") or None}
        user = self.authenticate(req)[0]
        try:
            self._authorize(user, attrs.get("verb", ""), route)
            status = {"allowed": True, "reason": "simulator: not denied"}
        except ApiError as e:
            status = {"allowed": False, "denied": True, "reason": e.message}
        return 201, dict(review, apiVersion="authorization.k8s.io/v1",
                         kind="SelfSubjectAccessReview", status=status), {}

    def _check_pdbs(self, pod):
        ns = pod["metadata"]["namespace"]
        labels = pod["metadata"].get("labels", {})
        pdbs = [p for (pns, _), p in sorted(self.objects["poddisruptionbudgets"].items())
                if pns == ns and label_selector_of(p["spec"]["selector"])(labels)]
        if len(pdbs) > 1:
            raise ApiError(500, "This pod has more than one PodDisruptionBudget, which the "
                           "eviction subresource does not support.")
        if not pdbs or not _pod_ready(pod):
            return
        st = self._pdb_status(pdbs[0])
        if st["disruptionsAllowed"] > 0:
            return
        raise ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                       details={"causes": [{"reason": "DisruptionBudget", "message":
                                            "The disruption budget %s needs %d healthy pods "
                                            "and has %d currently"
                                            % (pdbs[0]["metadata"]["name"],
                                               st["desiredHealthy"], st["currentHealthy"])}]})

    # --- tables ------------------------------------------------------------

    def _table(self, req, plural, items, meta, now):
        columns, cells = _TABLES.get(plural, _TABLES[None])
        include = req.q("includeObject", "Metadata")
        rows = []
        for obj in items:
            row = {"cells": cells(self, obj, now)}
            if include == "Object":
                row["object"] = obj
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}
            rows.append(row)
        accept = req.headers.get("Accept", "")
        version = "v1" if "v=v1;" in accept + ";" or "v=v1," in accept else "v1beta1"
        return {"kind": "Table", "apiVersion": "meta.k8s.io/" + version, "metadata": meta,
                "columnDefinitions": [dict(name=n, type=t, format=f, description=n, priority=p)
                                      for n, t, f, p in columns],
                "rows": rows}


class _Encoded:
    """A body already serialised to JSON."""

    def __init__(self, data):
        self.data = data


def _protobuf_fields(data):
    """(field number, bytes) of a protobuf message's length-delimited fields."""
    out, i = [], 0
    while i < len(data):
        key, i = _varint(data, i)
        if key & 7 == 0:
            _, i = _varint(data, i)
        elif key & 7 == 2:
            size, i = _varint(data, i)
            out.append((key >> 3, data[i:i + size]))
            i += size
        else:
            raise ValueError("unexpected protobuf wire type %d" % (key & 7))
    return out


def _varint(data, i):
    shift = value = 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def _review_from_protobuf(body):
    """resourceAttributes of a protobuf SelfSubjectAccessReview (kubectl auth can-i
    sends protobuf): envelope "k8s\\0" + runtime.Unknown{2: raw}, raw{2: spec},
    spec{1: resourceAttributes{1 ns, 2 verb, 3 group, 4 version, 5 resource,
    6 subresource, 7 name}}."""
    if not body.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf envelope")
    raw = dict(_protobuf_fields(body[4:]))[2]
    spec = dict(_protobuf_fields(raw))[2]
    attrs = dict(_protobuf_fields(spec))[1]
    names = {1: "namespace", 2: "verb", 3: "group", 4: "version", 5: "resource",
             6: "subresource", 7: "name"}
    return {names[n]: v.decode() for n, v in _protobuf_fields(attrs) if n in names}


def _group(g, v):
    gv = {"groupVersion": "%s/%s" % (g, v), "version": v}
    return {"name": g, "versions": [gv], "preferredVersion": gv}


def _api_version(route):
    return "%s/v1" % route["group"] if route["group"] else "v1"


def _owner(api_version, kind, meta):
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def _key(obj):
    return (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def _dry_run(req):
    return "All" in req.query.get("dryRun", [])


def _wants_table(req):
    return "as=Table" in req.headers.get("Accept", "")


def _is_ready(node):
    return any(c["type"] == "Ready" and c["status"] == "True"
               for c in node["status"].get("conditions", []))


def _pod_ready(pod):
    return pod["status"].get("phase") == "Running" and any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def _scaled(value, total, up):
    if isinstance(value, str) and value.endswith("%"):
        n = int(value[:-1]) * total
        return -(-n // 100) if up else n // 100
    return int(value)


def _split_taint(text):
    key_value, _, effect = text.partition(":")
    key, _, value = key_value.partition("=")
    return key, value, effect


def hash_octet(text):
    return int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) % 250


def _age(obj, now):
    return human_duration(now - parse_time(obj["metadata"]["creationTimestamp"]))


def _node_cells(state, node, now):
    ready = "Unknown"
    for cond in node["status"].get("conditions", []):
        if cond["type"] == "Ready":
            ready = "Ready" if cond["status"] == "True" else "NotReady"
    if node["spec"].get("unschedulable"):
        ready += ",SchedulingDisabled"
    labels = node["metadata"].get("labels", {})
    roles = sorted({k.split("/", 1)[1] for k in labels
                    if k.startswith("node-role.kubernetes.io/") and k.split("/", 1)[1]}
                   | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set()))
    info = node["status"]["nodeInfo"]
    addrs = {a["type"]: a["address"] for a in node["status"].get("addresses", [])}
    return [node["metadata"]["name"], ready, ",".join(roles) or "<none>", _age(node, now),
            info["kubeletVersion"], addrs.get("InternalIP", "<none>"),
            addrs.get("ExternalIP", "<none>"), info["osImage"], info["kernelVersion"],
            info["containerRuntimeVersion"]]


def _pod_cells(state, pod, now):
    statuses = pod["status"].get("containerStatuses", [])
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(s.get("restartCount", 0) for s in statuses)
    return [pod["metadata"]["name"], "%d/%d" % (ready, len(pod["spec"]["containers"])),
            pod["status"].get("phase", "Unknown"), str(restarts), _age(pod, now),
            pod["status"].get("podIP", "<none>"), pod["spec"].get("nodeName", "<none>"),
            "<none>", "<none>"]


def _ns_cells(state, ns, now):
    return [ns["metadata"]["name"], ns["status"]["phase"], _age(ns, now)]


def _pdb_cells(state, pdb, now):
    spec = pdb["spec"]
    return [pdb["metadata"]["name"], str(spec.get("minAvailable", "N/A")),
            str(spec.get("maxUnavailable", "N/A")),
            state._pdb_status(pdb)["disruptionsAllowed"], _age(pdb, now)]


def _generic_cells(state, obj, now):
    return [obj["metadata"]["name"], obj["metadata"]["creationTimestamp"]]


_TABLES = {
    "nodes": ([("Name", "string", "name", 0), ("Status", "string", "", 0),
               ("Roles", "string", "", 0), ("Age", "string", "", 0),
               ("Version", "string", "", 0), ("Internal-IP", "string", "", 1),
               ("External-IP", "string", "", 1), ("OS-Image", "string", "", 1),
               ("Kernel-Version", "string", "", 1), ("Container-Runtime", "string", "", 1)],
              _node_cells),
    "pods": ([("Name", "string", "name", 0), ("Ready", "string", "", 0),
              ("Status", "string", "", 0), ("Restarts", "string", "", 0),
              ("Age", "string", "", 0), ("IP", "string", "", 1), ("Node", "string", "", 1),
              ("Nominated Node", "string", "", 1), ("Readiness Gates", "string", "", 1)],
             _pod_cells),
    "namespaces": ([("Name", "string", "name", 0), ("Status", "string", "", 0),
                    ("Age", "string", "", 0)], _ns_cells),
    "poddisruptionbudgets": ([("Name", "string", "name", 0),
                              ("Min Available", "string", "", 0),
                              ("Max Unavailable", "string", "", 0),
                              ("Allowed Disruptions", "integer", "", 0),
                              ("Age", "string", "", 0)], _pdb_cells),
    None: ([("Name", "string", "name", 0), ("Created At", "date", "", 0)], _generic_cells),
}
